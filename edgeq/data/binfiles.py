"""Raw ``.bin`` input files: the one rule for what their bytes mean.

A ``.bin`` file holds one sample: every model input's tensor, in input order,
without a header. ``edgeq convert`` (calibration data) and ``edgeq run``
(MLPerf Tiny dataset folders) both read them with :func:`decode_bin`, which
decides by the file's size against the inputs' element count E and dtypes:

1. ``E`` bytes (one per element) and a :class:`BinFormat` given
   (``--bin-dtype int8|uint8 --bin-scale S --bin-zero-point Z``): quantized
   values of that dtype, read as real values ``(q - Z) * S`` (float32). An
   integer model input then quantizes them with its own scale and zero point.
2. The inputs' own size (E times the input dtype's itemsize): values of the
   input's own dtype, as they are. For an int8 or uint8 input that is the
   model's own quantized input (MLPerf Tiny's KWS files: int8 features written
   for the reference model's input quantization); for a float32 input, float32
   little-endian real values. MLPerf Tiny's IC and VWW files hold uint8 pixels
   0..255 instead, not int8 values: read them with ``--bin-dtype uint8
   --bin-scale 0.00392157 --bin-zero-point 0``.
3. ``4 E`` bytes for an integer input: float32 little-endian real values,
   quantized with the input's scale and zero point when run.
4. Anything else is an error naming the sizes accepted. In particular E bytes
   for a float input without a BinFormat: those are quantized values (int8
   features for KWS, uint8 pixels for IC and VWW), and their meaning depends
   on a scale and zero point only the user knows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edgeq.errors import DatasetError, UsageError
from edgeq.model.graph import NUMPY_DTYPES

BIN_DTYPES = ("int8", "uint8")
FIX = "--bin-dtype int8|uint8 --bin-scale S --bin-zero-point Z"


@dataclass(frozen=True)
class BinFormat:
    """The quantization of one-byte-per-element .bin files: real = (q - zero_point) * scale."""

    dtype: str
    scale: float
    zero_point: int

    def __post_init__(self) -> None:
        if self.dtype not in BIN_DTYPES:
            raise UsageError(f"--bin-dtype {self.dtype} is not one of {', '.join(BIN_DTYPES)}")
        if not (math.isfinite(self.scale) and self.scale > 0):
            raise UsageError(f"--bin-scale {self.scale} must be a positive number")
        info = np.iinfo(self.dtype)
        if not info.min <= self.zero_point <= info.max:
            raise UsageError(f"--bin-zero-point {self.zero_point} is outside {self.dtype} ({info.min}..{info.max})")

    def describe(self) -> str:
        return f"{self.dtype}, scale {self.scale:.6g}, zero point {self.zero_point}"

    def dequantize(self, raw: bytes) -> np.ndarray:
        q = np.frombuffer(raw, self.dtype).astype(np.float32)
        return (q - np.float32(self.zero_point)) * np.float32(self.scale)


def bin_format(dtype: str | None, scale: float | None, zero_point: int | None) -> BinFormat | None:
    """The BinFormat of the three ``--bin-*`` options: all or none of them."""
    given = [v is not None for v in (dtype, scale, zero_point)]
    if not any(given):
        return None
    if not all(given):
        raise UsageError(f"one-byte .bin files are read with all three options: {FIX}")
    return BinFormat(str(dtype), float(scale), int(zero_point))  # type: ignore[arg-type]


@dataclass(frozen=True)
class BinInput:
    """Name, sample shape (no batch axis) and dtype name of one model input."""

    name: str
    shape: tuple[int, ...]
    dtype: str

    @property
    def count(self) -> int:
        return math.prod(self.shape)

    @property
    def itemsize(self) -> int:
        return np.dtype(NUMPY_DTYPES.get(self.dtype, self.dtype)).itemsize

    def describe(self) -> str:
        return f"{self.name} ({', '.join(map(str, self.shape))}) {self.dtype}"


def decode_bin(
    raw: bytes, inputs: Sequence[BinInput], what: str, fmt: BinFormat | None = None, hint: str = ""
) -> list[np.ndarray]:
    """One array per input (sample shape) from the bytes of one .bin file; see the module rule.

    Returns float32 arrays (real values) or arrays of the input's own dtype.

    Raises:
        DatasetError: the size fits none of the rules; the message names the accepted sizes.
    """
    elements = sum(i.count for i in inputs)
    own = sum(i.count * i.itemsize for i in inputs)
    if fmt is not None and len(raw) == elements:
        return _split(fmt.dequantize(raw), inputs)
    if len(raw) == own:
        return [_own(raw, inputs, k) for k in range(len(inputs))]
    if len(raw) == 4 * elements:
        return _split(np.frombuffer(raw, "<f4"), inputs)
    raise DatasetError(_size_message(len(raw), inputs, what, fmt, hint))


def _own(raw: bytes, inputs: Sequence[BinInput], k: int) -> np.ndarray:
    start = sum(i.count * i.itemsize for i in inputs[:k])
    spec = inputs[k]
    dtype = np.dtype(NUMPY_DTYPES.get(spec.dtype, spec.dtype))
    return np.frombuffer(raw, dtype, spec.count, start).reshape(spec.shape)


def _split(values: np.ndarray, inputs: Sequence[BinInput]) -> list[np.ndarray]:
    ends = np.cumsum([i.count for i in inputs])[:-1]
    return [part.reshape(i.shape) for part, i in zip(np.split(values, ends), inputs)]


def _size_message(size: int, inputs: Sequence[BinInput], what: str, fmt: BinFormat | None, hint: str) -> str:
    elements = sum(i.count for i in inputs)
    own = sum(i.count * i.itemsize for i in inputs)
    described = ", ".join(i.describe() for i in inputs)
    floats = all(i.dtype.startswith("float") for i in inputs)
    if size == elements and fmt is None and floats:
        return (
            f"{what} has {size} bytes, one per element of input {described}: quantized values, whose real "
            f"values depend on a scale and zero point; give them with {FIX} (the input of the int8 model "
            "the files were made for: edgeq inspect REF.tflite), or write float32 files"
        )
    own_kinds = "+".join(sorted({i.dtype for i in inputs}))
    sizes = [f"{own} ({own_kinds})"] + ([] if own == 4 * elements else [f"{4 * elements} (float32)"])
    if fmt is not None and elements not in (own, 4 * elements):
        sizes.append(f"{elements} ({fmt.dtype}, --bin-dtype)")
    return f"{what} has {size} bytes but the model's inputs take {' or '.join(sizes)}: {described}{hint}"
