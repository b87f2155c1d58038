"""A model's inputs and outputs: one description, and the byte layout every runner shares.

Layout rule (the compiled engine, the serial protocol, the firmware and every
target use it): one sample of the inputs is every input's bytes concatenated in
graph order; outputs likewise. Arrays carry a leading sample axis and each
sample has the tensor's shape without a leading batch-1 dimension
(:func:`sample_shape`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edgeq.errors import DatasetError, DeviceError, UnsupportedError
from edgeq.model.graph import FLOAT_DTYPES, NUMPY_DTYPES, Graph, Tensor


def sample_shape(shape: Sequence[int]) -> tuple[int, ...]:
    """The shape of one sample: ``shape`` without a leading batch-1 dimension."""
    return tuple(shape[1:]) if len(shape) and shape[0] == 1 else tuple(shape)


@dataclass(frozen=True)
class ModelIO:
    """One model input or output.

    Attributes:
        position: Its place among the model's inputs (or outputs), from 0.
        index: The tensor's index in the graph (LiteRT's interpreter uses the same index).
        name: The tensor's name.
        shape: The tensor's static shape, batch dimension included.
        dtype: edgeq dtype name, e.g. ``"int8"``.
        scale: The (per-tensor) scale, or None when not quantized (a float tensor, no scale or a zero scale).
        zero_point: The zero point, or None when not quantized.
        nbytes: Bytes of one sample.
        offset: Byte offset of this tensor in one sample of all inputs (or outputs) concatenated.
    """

    position: int
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    scale: float | None
    zero_point: int | None
    nbytes: int
    offset: int

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """The shape of one sample (:func:`sample_shape`)."""
        return sample_shape(self.shape)

    @property
    def elements(self) -> int:
        """Number of values in one sample."""
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def quantized(self) -> bool:
        """True for an integer tensor with a scale."""
        return self.scale is not None

    @property
    def numpy_dtype(self) -> np.dtype:
        """The numpy dtype; UnsupportedError for a dtype numpy cannot hold (e.g. int4, string)."""
        found = NUMPY_DTYPES.get(self.dtype)
        if found is None:
            raise UnsupportedError(f"tensor {self.name!r} has dtype {self.dtype}, which edgeq cannot exchange")
        return np.dtype(found)

    def quantize(self, values: np.ndarray) -> np.ndarray:
        """Real values -> this tensor's dtype: round half away from zero, add zero point, clamp."""
        if self.scale is None:
            return np.asarray(values, self.numpy_dtype)
        scaled = np.asarray(values, np.float64) / self.scale
        q = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5) + (self.zero_point or 0)
        limits = np.iinfo(self.numpy_dtype)
        return np.clip(q, limits.min, limits.max).astype(self.numpy_dtype)

    def dequantize(self, values: np.ndarray) -> np.ndarray:
        """This tensor's values -> float32 real values (a float tensor passes through)."""
        if self.scale is None:
            return np.asarray(values, np.float32)
        return ((values.astype(np.float32) - (self.zero_point or 0)) * self.scale).astype(np.float32)


def io_of(tensors: Sequence[Tensor]) -> tuple[ModelIO, ...]:
    """The descriptions of ``tensors`` (a graph's inputs or outputs, in order) with their byte offsets."""
    out, offset = [], 0
    for position, t in enumerate(tensors):
        q = t.quantization
        quantized = q is not None and len(q.scale) > 0 and q.scale[0] != 0.0 and t.dtype not in FLOAT_DTYPES
        scale = float(q.scale[0]) if quantized and q is not None else None
        zero = (int(q.zero_point[0]) if q.zero_point else 0) if quantized and q is not None else None
        out.append(ModelIO(position, t.index, t.name, tuple(t.shape), t.dtype, scale, zero, t.nbytes, offset))
        offset += t.nbytes
    return tuple(out)


def model_inputs(graph: Graph) -> tuple[ModelIO, ...]:
    """The graph's inputs, in order."""
    return io_of(graph.input_tensors)


def model_outputs(graph: Graph) -> tuple[ModelIO, ...]:
    """The graph's outputs, in order."""
    return io_of(graph.output_tensors)


def pack_samples(specs: Sequence[ModelIO], arrays: Sequence[np.ndarray]) -> list[bytes]:
    """One byte string per sample: every array's sample ``n`` in order (the layout rule above).

    Raises:
        DatasetError: The arrays do not match ``specs`` in count, dtype or sample shape.
    """
    if len(arrays) != len(specs):
        raise DatasetError(f"the model has {len(specs)} inputs, got {len(arrays)} arrays")
    for spec, array in zip(specs, arrays):
        want = (spec.numpy_dtype, spec.sample_shape)
        if (array.dtype, tuple(array.shape[1:])) != want:
            raise DatasetError(
                f"input {spec.name} expects (N, {', '.join(map(str, want[1]))}) {spec.dtype}, "
                f"got {array.shape} {array.dtype}"
            )
    count = len(arrays[0]) if len(arrays) else 0
    if any(len(a) != count for a in arrays):
        raise DatasetError(f"the input arrays have different sample counts: {[len(a) for a in arrays]}")
    return [b"".join(np.ascontiguousarray(a[n]).tobytes() for a in arrays) for n in range(count)]


def split_sample(data: bytes, specs: Sequence[ModelIO]) -> list[np.ndarray]:
    """Cut one sample's bytes into one read-only array per tensor (sample shape, tensor dtype); no length check."""
    return [np.frombuffer(data[s.offset : s.offset + s.nbytes], s.numpy_dtype).reshape(s.sample_shape) for s in specs]


def split_samples(data: bytes, specs: Sequence[ModelIO], count: int, what: str = "the runner") -> list[np.ndarray]:
    """``count`` samples' bytes as one (count, ...) array per tensor.

    Raises:
        DeviceError: ``data`` is not ``count`` samples long (naming ``what`` wrote it).
    """
    per_sample = sum(s.nbytes for s in specs)
    if len(data) != per_sample * count:
        raise DeviceError(f"{what} wrote {len(data)} bytes, expected {per_sample * count}")
    samples = [split_sample(data[n * per_sample : (n + 1) * per_sample], specs) for n in range(count)]
    return [np.stack([s[k] for s in samples]) for k in range(len(specs))]


__all__ = [
    "ModelIO",
    "io_of",
    "model_inputs",
    "model_outputs",
    "pack_samples",
    "sample_shape",
    "split_sample",
    "split_samples",
]
