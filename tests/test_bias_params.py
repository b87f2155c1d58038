"""Biases without their own quantization parameters compute the same outputs everywhere (edgeq.convert.bias_params)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgeq.batch_run import run
from edgeq.convert.bias_params import drop_bias_quantization
from edgeq.model import read_model
from tests.conftest import repack

ROOT = Path(__file__).resolve().parents[1]
KWS_INT8 = ROOT / "tests/fixtures/zoo/kws_dscnn/int8.tflite"
DS_CNN_INT4 = ROOT / "tests/fixtures/int4/ds_cnn.tflite"


def _inputs(model: bytes, n: int = 3) -> list[np.ndarray]:
    graph = read_model(model)
    rng = np.random.default_rng(7)
    return [rng.integers(-128, 128, (n, *graph.tensors[i].shape[1:])).astype(np.int8) for i in graph.inputs]


def _biases_with_parameters(model: bytes) -> int:
    graph = read_model(model)
    count = 0
    for op in graph.operators:
        if (
            op.builtin in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")
            and len(op.inputs) > 2
            and op.inputs[2] >= 0
        ):
            bias = graph.tensors[op.inputs[2]]
            count += bias.quantization is not None and len(bias.quantization.scale) > 0
    return count


@pytest.mark.parametrize(
    ("path", "targets"),
    [(KWS_INT8, ("host-builtin", "host-tflm", "host-c")), (DS_CNN_INT4, ("host", "host-builtin", "host-c"))],
    ids=["kws-int8", "ds_cnn-int4"],
)
def test_outputs_unchanged_and_file_smaller(tmp_path, path, targets):
    original = path.read_bytes()
    compact, changed = drop_bias_quantization(original)
    assert changed == _biases_with_parameters(original) > 0  # every bias of these models is derivable
    assert _biases_with_parameters(compact) == 0
    assert len(compact) < len(original) - changed * 8  # at least the int64 zero point of each channel goes
    small = tmp_path / "compact.tflite"
    small.write_bytes(compact)
    inputs = _inputs(original)
    for target in targets:
        # LiteRT's built-in kernels; XNNPACK does not take an int8 conv whose bias lacks parameters and
        # LiteRT runs it with the built-in kernels instead, which round differently from XNNPACK's.
        name, options = ("host", {"xnnpack": False}) if target == "host-builtin" else (target, {})
        expected = run(path, name, inputs, **options).outputs
        got = run(small, name, inputs, **options).outputs
        assert all(np.array_equal(a, b) for a, b in zip(expected, got)), target


def test_biases_whose_parameters_differ_from_the_spec_are_kept():
    original = DS_CNN_INT4.read_bytes()

    def skew_first_bias(model):
        subgraph = model.subgraphs[0]
        for op in subgraph.operators:
            if len(op.inputs) > 2 and op.inputs[2] >= 0:
                quant = subgraph.tensors[op.inputs[2]].quantization
                quant.scale = [float(s) * 1.01 for s in quant.scale]
                return

    skewed = repack(original, skew_first_bias)
    _, changed = drop_bias_quantization(skewed)
    assert changed == _biases_with_parameters(original) - 1


def test_a_model_without_qualifying_biases_comes_back_as_it_was():
    model, _ = drop_bias_quantization(DS_CNN_INT4.read_bytes())
    again, changed = drop_bias_quantization(model)
    assert changed == 0 and again is model
