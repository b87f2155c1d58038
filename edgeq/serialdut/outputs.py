"""Model tensors <-> the bytes and floats a DUT exchanges (pure functions).

The byte layout (one sample's input is all model inputs' bytes concatenated in
graph order; outputs likewise; arrays have the tensor's shape without a leading
batch-1 dimension) is :mod:`edgeq.model.io`'s, shared with every target; this
module adds the serial target's checks and its m-results floats.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgeq.errors import DatasetError, DeviceError, UnsupportedError
from edgeq.model import Tensor
from edgeq.model import io as model_io
from edgeq.model.graph import FLOAT_DTYPES, NUMPY_DTYPES
from edgeq.model.io import ModelIO, pack_samples, split_sample

# m-results floats have 3 decimals (error <= 0.0005): requantizing them is exact only above this scale.
RESULTS_EXACT_SCALE = 0.002


def sample_shape(tensor: Tensor) -> tuple[int, ...]:
    """The tensor's shape without a leading batch-1 dimension (:func:`edgeq.model.io.sample_shape`)."""
    return model_io.sample_shape(tensor.shape)


def exchanged(tensors: Sequence[Tensor]) -> tuple[ModelIO, ...]:
    """The descriptions of ``tensors`` (a graph's inputs or outputs, in order).

    Raises:
        UnsupportedError: A tensor's dtype has no numpy equivalent, so its bytes cannot be decoded.
    """
    for tensor in tensors:
        if tensor.dtype not in NUMPY_DTYPES:
            raise UnsupportedError(
                f"tensor {tensor.name!r} has dtype {tensor.dtype}, which the serial target cannot decode"
            )
    return model_io.io_of(tensors)


def sample_bytes(tensors: Sequence[Tensor], inputs: Sequence[np.ndarray]) -> list[bytes]:
    """One byte string per sample: every input's sample ``n`` in graph order.

    Raises:
        DatasetError: The arrays do not match the model's inputs in count, dtype or sample shape.
    """
    if len(inputs) != len(tensors):
        raise DatasetError(f"the model has {len(tensors)} inputs, got {len(inputs)} arrays")
    return pack_samples(exchanged(tensors), inputs)


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
    return split_sample(raw, exchanged(tensors))


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
    for tensor, spec in zip(tensors, exchanged(tensors)):
        part = flat[pos : pos + tensor.size]
        arrays.append(_requantize(part, tensor, spec).reshape(spec.sample_shape))
        pos += tensor.size
    return arrays


def _requantize(values: np.ndarray, tensor: Tensor, spec: ModelIO) -> np.ndarray:
    """Printed real values back to the output's integers (round half to even: they sit near integers)."""
    dtype = spec.numpy_dtype
    if tensor.dtype in FLOAT_DTYPES:
        return values.astype(dtype)
    if tensor.quantization is not None and tensor.quantization.per_channel:
        raise UnsupportedError(f"output {tensor.name!r} is quantized per channel; use a firmware with raw%")
    if spec.quantized:
        values = values / spec.scale + (spec.zero_point or 0)
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
