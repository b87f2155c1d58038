"""Read and rewrite the min/max ranges a calibrated TFLite flatbuffer records.

The TFLite calibrator writes each activation tensor's observed range into its
``QuantizationParameters.min`` / ``max`` vectors (one float each) of a float
model; the quantizer then derives scales and zero points from them. Rewriting
those floats in place, at the byte offsets edgeq's bounds-checked flatbuffer
reader finds, changes nothing else in the file: same size, same layout.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from edgeq.errors import ConversionError
from edgeq.model.flatbuf import FlatBuffer, Table
from edgeq.model.schema import ModelSlot, QuantizationSlot, SubGraphSlot, TensorSlot

NAME = "<calibrated model>"


@dataclass(frozen=True)
class RecordedRange:
    """One tensor of the first subgraph with a recorded per-tensor range.

    Attributes:
        index: tensor index in the subgraph (as the interpreter numbers it).
        name: tensor name.
        min, max: the range the calibrator recorded.
        min_pos, max_pos: byte offsets of those two float32 values in the flatbuffer.
    """

    index: int
    name: str
    min: float
    max: float
    min_pos: int
    max_pos: int


def recorded_ranges(model: bytes) -> tuple[RecordedRange, ...]:
    """Every tensor of subgraph 0 with a one-element min and max (constants have none)."""
    fb = FlatBuffer(model, NAME)
    subgraphs = fb.root().tables(ModelSlot.SUBGRAPHS)
    if not subgraphs:
        fb.fail("no subgraph")
    found = []
    for index, tensor in enumerate(subgraphs[0].tables(SubGraphSlot.TENSORS)):
        quant = tensor.table(TensorSlot.QUANTIZATION)
        lo, hi = (_one_float(fb, quant, QuantizationSlot.MIN), _one_float(fb, quant, QuantizationSlot.MAX))
        if lo is not None and hi is not None:
            name = tensor.string(TensorSlot.NAME) or f"tensor {index}"
            found.append(RecordedRange(index, name, lo[1], hi[1], lo[0], hi[0]))
    positions = [r.min_pos for r in found] + [r.max_pos for r in found]
    if len(set(positions)) != len(positions):
        raise ConversionError(
            "the calibrated model shares range storage between tensors, which edgeq cannot rewrite; "
            "use --calibration minmax"
        )
    return tuple(found)


def _one_float(fb: FlatBuffer, quant: Table | None, slot: int) -> tuple[int, float] | None:
    """``(byte offset, value)`` of a one-element float vector field, else None."""
    pos = quant.target(slot) if quant is not None else None
    if pos is None:
        return None
    start, count = fb.vector_at(pos, 4)
    return (start, fb.read("f", start)) if count == 1 else None


def rewrite_ranges(model: bytes, recorded: tuple[RecordedRange, ...], ranges: dict[int, tuple[float, float]]) -> bytes:
    """A copy of ``model`` with the recorded range of each tensor index in ``ranges`` replaced.

    Args:
        model: the calibrated flatbuffer ``recorded`` was read from.
        recorded: its :func:`recorded_ranges`.
        ranges: tensor index -> new ``(min, max)``; other tensors keep theirs.
    """
    out = bytearray(model)
    for r in recorded:
        if r.index in ranges:
            lo, hi = ranges[r.index]
            struct.pack_into("<f", out, r.min_pos, lo)
            struct.pack_into("<f", out, r.max_pos, hi)
    return bytes(out)
