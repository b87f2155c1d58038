"""Models written by older converters: per-tensor weights that carry a stale ``quantized_dimension``.

Old converters stored per-tensor conv, depthwise and fully-connected weights
with ``quantized_dimension`` pointing at an axis other than the output channel
(one scale, so the field meant nothing). TFLM decides per-channel vs
per-tensor from the number of scales and runs them; the engine must do the
same and give identical bytes.
"""

from __future__ import annotations

import numpy as np
import pytest

from edgeq.batch_run import run
from edgeq.model import read_model
from tests.conftest import FIXTURES, repack

pytest.importorskip("tflite_micro", reason="tflite-micro is the reference for the engine")

OPS = FIXTURES / "ops"
# model -> the stale quantized_dimension written into its single-scale weights
CASES = {
    "conv_k3_s1_same_per_tensor": 3,
    "conv_k3_s2_valid_per_tensor_relu": 1,
    "dw_k3_m1_s1_same_per_tensor": 0,
    "fc_b1_per_tensor": 1,
    "fc_b3_per_tensor_relu": 1,
}


def _stale(data: bytes, dimension: int) -> bytes:
    """``data`` with every single-scale int8 constant's quantized_dimension set to ``dimension``."""

    def edit(model) -> None:
        for tensor in model.subgraphs[0].tensors:
            q = tensor.quantization
            if q is None or q.scale is None or len(q.scale) != 1 or model.buffers[tensor.buffer].data is None:
                continue
            if len(tensor.shape) > dimension:
                q.quantizedDimension = dimension

    return repack(data, edit)


def _weights_dimension(data: bytes) -> set[int]:
    graph = read_model(data)
    return {
        t.quantization.quantized_dimension
        for t in graph.tensors
        if t.is_constant and t.dtype == "int8" and t.quantization is not None
    }


@pytest.mark.parametrize("name", sorted(CASES))
def test_stale_quantized_dimension_runs_like_tflm(name, tmp_path):
    model = tmp_path / f"{name}_legacy.tflite"
    model.write_bytes(_stale((OPS / f"{name}.tflite").read_bytes(), CASES[name]))
    assert CASES[name] in _weights_dimension(model.read_bytes()), "the edit did not reach the weights"
    graph = read_model(model.read_bytes())
    full = tuple(graph.input_tensors[0].shape)
    shape = full[1:] if full[0] == 1 else full
    x = np.random.default_rng(7).integers(-128, 128, (100, *shape), dtype=np.int8)
    x[0], x[1] = -128, 127  # saturating inputs
    engine = run(model, "host-c", [x]).outputs
    reference = run(model, "host-tflm", [x]).outputs
    assert len(engine) == len(reference)
    for got, want in zip(engine, reference):
        assert got.dtype == want.dtype and got.shape == want.shape
        assert got.tobytes() == want.tobytes(), f"{name}: {np.count_nonzero(got != want)} values differ from TFLM"
