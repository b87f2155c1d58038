"""Model tensors <-> the bytes and floats a DUT exchanges (pure functions).

Layout convention (as the host-c target): one sample's input is all model
inputs' bytes concatenated in graph order; outputs likewise. Arrays have the
tensor's shape without a leading batch-1 dimension.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgeq.errors import DatasetError, DeviceError, UnsupportedError
from edgeq.model import Tensor
from edgeq.model.graph import FLOAT_DTYPES, NUMPY_DTYPES

# m-results floats have 3 decimals (error <= 0.0005): requantizing them is exact only above this scale.
RESULTS_EXACT_SCALE = 0.002


def sample_shape(tensor: Tensor) -> tuple[int, ...]:
    """The tensor's shape without a leading batch-1 dimension."""
    return tuple(tensor.shape[1:]) if tensor.shape and tensor.shape[0] == 1 else tuple(tensor.shape)


def _numpy_dtype(tensor: Tensor) -> np.dtype:
    dtype = NUMPY_DTYPES.get(tensor.dtype)
    if dtype is None:
        raise UnsupportedError(
            f"tensor {tensor.name!r} has dtype {tensor.dtype}, which the serial target cannot decode"
        )
    return np.dtype(dtype)


def sample_bytes(tensors: Sequence[Tensor], inputs: Sequence[np.ndarray]) -> list[bytes]:
    """One byte string per sample: every input's sample ``n`` in graph order.

    Raises:
        DatasetError: The arrays do not match the model's inputs in count, dtype or sample shape.
    """
    if len(inputs) != len(tensors):
        raise DatasetError(f"the model has {len(tensors)} inputs, got {len(inputs)} arrays")
    for tensor, array in zip(tensors, inputs):
        want = (_numpy_dtype(tensor), sample_shape(tensor))
        if (array.dtype, tuple(array.shape[1:])) != want:
            raise DatasetError(
                f"input {tensor.name} expects (N, {', '.join(map(str, want[1]))}) {tensor.dtype}, "
                f"got {array.shape} {array.dtype}"
            )
    count = len(inputs[0]) if inputs else 0
    if any(len(a) != count for a in inputs):
        raise DatasetError(f"the input arrays have different sample counts: {[len(a) for a in inputs]}")
    return [b"".join(np.ascontiguousarray(a[n]).tobytes() for a in inputs) for n in range(count)]


def split_raw(raw: bytes, tensors: Sequence[Tensor]) -> list[np.ndarray]:
    """One sample's output arrays from the raw bytes of all outputs concatenated.

    Raises:
        DeviceError: The byte count is not the model's output size.
    """
    expected = sum(t.nbytes for t in tensors)
    if len(raw) != expected:
        raise DeviceError(
            f"the board sent {len(raw)} output bytes but the model's outputs take {expected}; "
            "flash the firmware built for this model"
        )
    return split_bytes(raw, tensors)


def split_bytes(data: bytes, tensors: Sequence[Tensor]) -> list[np.ndarray]:
    """Cut ``data`` into one read-only array per tensor (sample shape, tensor dtype); no length check."""
    arrays, pos = [], 0
    for tensor in tensors:
        arrays.append(
            np.frombuffer(data[pos : pos + tensor.nbytes], _numpy_dtype(tensor)).reshape(sample_shape(tensor))
        )
        pos += tensor.nbytes
    return arrays


def results_to_outputs(values: Sequence[float], tensors: Sequence[Tensor]) -> list[np.ndarray]:
    """One sample's output arrays rebuilt from the DUT's dequantized m-results floats.

    Integer outputs are quantized back with their scale and zero point; the result is
    exact only when every scale exceeds RESULTS_EXACT_SCALE (see :func:`inexact_outputs`).

    Raises:
        DeviceError: The number of values is not the model's output element count.
    """
    total = sum(t.size for t in tensors)
    if len(values) != total:
        raise DeviceError(
            f"the board reported {len(values)} result values but the model has {total} output values, so "
            "m-results cannot rebuild the outputs (an anomaly firmware reports only the MSE; at most 64 values "
            "are printed); use a firmware with the raw% command"
        )
    flat, arrays, pos = np.asarray(values, np.float64), [], 0
    for tensor in tensors:
        part = flat[pos : pos + tensor.size]
        arrays.append(_requantize(part, tensor).reshape(sample_shape(tensor)))
        pos += tensor.size
    return arrays


def _requantize(values: np.ndarray, tensor: Tensor) -> np.ndarray:
    dtype = _numpy_dtype(tensor)
    if tensor.dtype in FLOAT_DTYPES:
        return values.astype(dtype)
    q = tensor.quantization
    if q is not None and q.scale:
        if q.per_channel:
            raise UnsupportedError(f"output {tensor.name!r} is quantized per channel; use a firmware with raw%")
        values = values / q.scale[0] + (q.zero_point[0] if q.zero_point else 0)
    info = np.iinfo(dtype)
    return np.clip(np.round(values), info.min, info.max).astype(dtype)


def inexact_outputs(tensors: Sequence[Tensor]) -> list[str]:
    """Outputs that 3-decimal m-results cannot reproduce exactly: float outputs and scales <= 0.002."""
    names = []
    for tensor in tensors:
        q = tensor.quantization
        if tensor.dtype in FLOAT_DTYPES:
            names.append(f"{tensor.name} ({tensor.dtype})")
        elif q is not None and q.scale and min(q.scale) <= RESULTS_EXACT_SCALE:
            names.append(f"{tensor.name} (scale {min(q.scale):.3g})")
    return names
