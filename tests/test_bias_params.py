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


def _data_offsets(model: bytes) -> list[int]:
    """Where each non-empty inline buffer's data starts in ``model``."""
    from ai_edge_litert import schema_py_generated as fbs

    root = fbs.Model.GetRootAsModel(model, 0)
    starts = []
    for i in range(root.BuffersLength()):
        buffer = root.Buffers(i)
        if buffer.DataLength():
            starts.append(buffer._tab.Vector(buffer._tab.Offset(4)))
    return starts


def test_data_stays_16_byte_aligned():
    compact, _ = drop_bias_quantization(KWS_INT8.read_bytes())
    starts = _data_offsets(compact)
    assert starts and all(start % 16 == 0 for start in starts)


def _with_data_outside(model: bytes) -> bytes:
    """``model`` with every buffer's data after the flatbuffer (offset/size), as large models are written."""
    tail = bytearray()
    places: list[tuple[int, int]] = []

    def move_out(base):
        def edit(unpacked):
            tail.clear()
            places.clear()
            for buffer in unpacked.buffers:
                if buffer.data is not None and len(buffer.data):
                    tail.extend(b"\0" * (-len(tail) % 16))
                    data = bytes(np.asarray(buffer.data, dtype=np.uint8))
                    buffer.offset, buffer.size, buffer.data = base + len(tail), len(data), None
                    tail.extend(data)

        return edit

    probe = repack(model, move_out(1 << 40))  # every offset field present: the same layout as the real one
    start = len(probe) + (-len(probe) % 16)
    head = repack(model, move_out(start))
    assert len(head) == len(probe)
    return head + b"\0" * (start - len(head)) + bytes(tail)


def test_data_stored_after_the_flatbuffer_is_kept(tmp_path):
    """Large models keep buffer data after the flatbuffer: it comes back inline, with the same outputs."""
    outside = _with_data_outside(DS_CNN_INT4.read_bytes())
    assert not _data_offsets(outside)
    compact, changed = drop_bias_quantization(outside)
    assert changed > 0 and _data_offsets(compact)
    inputs = _inputs(outside)
    expected = run(DS_CNN_INT4, "host", inputs, xnnpack=False).outputs
    for name, data in (("outside", outside), ("compact", compact)):
        path = tmp_path / f"{name}.tflite"
        path.write_bytes(data)
        got = run(path, "host", inputs, xnnpack=False).outputs
        assert all(np.array_equal(a, b) for a, b in zip(expected, got)), name
