"""edgeq convert --weights int4 on the zoo's DS-CNN keyword-spotting model (conv, depthwise, dense).

The oracle for the int4 packing: the same model with every int4 weight tensor unpacked here (two
values a byte, the first in the low nibble, sign-extended) and stored as int8, rewritten through
LiteRT's flatbuffer object API, must compute exactly the same outputs.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import generated_schema, repack

pytestmark = pytest.mark.slow
pytest.importorskip("ai_edge_quantizer")

ZOO = Path(__file__).parent / "fixtures" / "zoo" / "kws_dscnn"
INT4_OPS = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"}


def unpack_int4(packed: bytes, count: int) -> np.ndarray:
    """TFLite's INT4 layout: two values a byte, the first in the low nibble, each a signed 4-bit number."""
    raw = np.frombuffer(packed, np.uint8)
    nibbles = np.empty(raw.size * 2, np.int16)
    nibbles[0::2], nibbles[1::2] = raw & 0x0F, raw >> 4
    return np.where(nibbles > 7, nibbles - 16, nibbles).astype(np.int8)[:count]


def int4_as_int8(data: bytes) -> tuple[bytes, int]:
    """The model with its int4 tensors stored as int8 (same values and scales), and how many there were."""
    fbs = generated_schema()
    done = []

    def edit(model):
        for tensor in model.subgraphs[0].tensors:
            if tensor.type != fbs.TensorType.INT4:
                continue
            buffer = model.buffers[tensor.buffer]
            packed = bytes(np.asarray(buffer.data, np.uint8)) if buffer.data is not None else b""
            if not packed:  # stored past the flatbuffer (large models): read it from there
                packed, buffer.offset, buffer.size = data[buffer.offset : buffer.offset + buffer.size], 0, 0
            values = unpack_int4(packed, int(np.prod(tensor.shape)))
            buffer.data = values.view(np.uint8)
            tensor.type = fbs.TensorType.INT8
            done.append(tensor)

    return repack(data, edit), len(done)


@pytest.fixture(scope="session")
def int4_run(tmp_path_factory):
    """One --weights int4 conversion of the DS-CNN (CLI, --json), on seeded data in its input range."""
    from tests.conftest import run_cli

    root = tmp_path_factory.mktemp("int4")
    np.save(root / "calib.npy", np.random.default_rng(7).uniform(-30, 30, (80, 49, 10, 1)).astype(np.float32))
    out = root / "kws_int4.tflite"
    args = ("convert", str(ZOO / "model.keras"), "-d", str(root / "calib.npy"), "-o", str(out))
    result = run_cli(*args, "--weights", "int4", "--samples", "60", "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout), out.read_bytes(), root


def test_int4_weights_on_exactly_the_conv_dw_fc_weights(int4_run):
    from edgeq.model import read_model

    report, data, _ = int4_run
    graph = read_model(data)
    weighted = [op for op in graph.operators if op.builtin in INT4_OPS]
    assert {op.builtin for op in weighted} == INT4_OPS
    assert all(graph.tensors[op.inputs[1]].dtype == "int4" for op in weighted)
    int4 = [t for t in graph.tensors if t.dtype == "int4"]
    assert len(int4) == len(weighted) == 10
    for tensor in int4:  # per output channel: one scale per channel, zero points 0 (symmetric)
        assert len(tensor.quantization.scale) == tensor.shape[tensor.quantization.quantized_dimension] > 1
        assert not any(tensor.quantization.zero_point)
    assert report["weights"]["int4_layers"] == 10 and report["float_ops"] == []
    assert report["weights"]["quantizer"].startswith("AI Edge Quantizer")
    layers = {row["layer"] for row in report["weights"]["layers"]}
    assert {"conv2d_5", "depthwise_conv2d_4", "dense_1"} <= layers


def test_int4_model_is_integer_only(int4_run):
    from edgeq.model import read_model

    _, data, _ = int4_run
    graph = read_model(data)
    assert {op.builtin for op in graph.operators}.isdisjoint({"SHAPE", "STRIDED_SLICE", "PACK", "DEQUANTIZE"})
    for op in graph.operators:
        for index in [*op.inputs, *op.outputs]:
            tensor = graph.tensors[index] if index >= 0 else None
            assert tensor is None or tensor.dtype in ("int8", "int4", "int32"), (op.builtin, tensor.name)


def test_int4_outputs_equal_the_same_weights_stored_as_int8(int4_run):
    from edgeq.litert import Runner

    _, data, _ = int4_run
    as_int8, count = int4_as_int8(data)
    assert count == 10
    samples = np.random.default_rng(3).integers(-128, 128, (12, 1, 49, 10, 1)).astype(np.int8)
    # XNNPACK rounds int8 convolutions its own way; TFLite's built-in kernels compute both the same.
    int4_runner, int8_runner = Runner(data, xnnpack=False), Runner(as_int8, xnnpack=False)
    outputs = [(int4_runner.run([x])[0], int8_runner.run([x])[0]) for x in samples]
    assert all(np.array_equal(a, b) for a, b in outputs)
    assert len({a.tobytes() for a, _ in outputs}) > 1  # the samples do reach the output


def test_int4_model_is_smaller_than_int8_and_reports_its_fidelity(int4_run):
    report, data, _ = int4_run
    int8_size = (ZOO / "int8.tflite").stat().st_size
    assert len(data) == report["output_bytes"] < 0.85 * int8_size
    sizes = report["weights"]["weight_bytes"]
    assert sizes["chosen"] * 2 >= sizes["int8"] > sizes["chosen"]
    fidelity = report["fidelity"]
    assert fidelity["held_out"] and fidelity["samples"] == 20
    assert 0.0 <= fidelity["top1_agreement"] <= 1.0 and fidelity["snr_db"] > 0


def test_int4_text_report_names_the_quantizer_and_layers(int4_run, cli):
    _, _, root = int4_run
    out = root / "text.tflite"
    args = ("convert", str(ZOO / "model.keras"), "-d", str(root / "calib.npy"), "-o", str(out))
    result = cli(*args, "--weights", "int4", "--samples", "20", "--check-samples", "0")
    assert result.exit_code == 0, result.stderr
    assert "int8 model with int4 weights" in result.stdout
    assert "int4 on 10 of 10 conv/depthwise/dense layers" in result.stdout and "AI Edge Quantizer" in result.stdout
    assert "int4 DEPTHWISE_CONV_2D depthwise_conv2d_4" in result.stdout
    assert json.loads(out.with_suffix(".json").read_text())["weights"]["int4_layers"] == 10


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--weights", "int3"), "'int3' is not one of"),
        (("--weights", "int4", "--mode", "int16x8"), "--weights int4 needs --mode int8"),
        (("--weights", "int4", "--io", "float32"), "--weights int4 makes int8 inputs and outputs"),
        (("--weights", "int4", "--calibration", "mse"), "drop --calibration mse"),
        (("--weights", "int4", "--accuracy-budget", "1"), "--accuracy-budget needs -d DATA"),
        (("--weights", "int4", "--cluster", "16"), "--cluster does not combine with --weights int4"),
    ],
)
def test_int4_usage_errors(cli, tmp_path, extra, message):
    np.save(tmp_path / "calib.npy", np.zeros((4, 49, 10, 1), np.float32))
    out = tmp_path / "out" / "m.tflite"
    out.parent.mkdir()
    result = cli("convert", str(ZOO / "model.keras"), "-d", str(tmp_path / "calib.npy"), "-o", str(out), *extra)
    assert result.exit_code == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], result.stderr
    assert "Traceback" not in result.stderr and not any(out.parent.iterdir())


def test_a_savedmodel_with_a_dynamic_batch_fails_naming_its_float_ops(cli, tmp_path):
    """Keras' Flatten of a dynamic batch leaves a float SHAPE op: refused like float ops in int8, nothing written."""
    keras = pytest.importorskip("keras")
    inputs = keras.Input((6, 6, 2), name="img")
    conv = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
    keras.Model(inputs, keras.layers.Dense(3)(keras.layers.Flatten()(conv))).export(str(tmp_path / "sm"), verbose=False)
    np.save(tmp_path / "calib.npy", np.random.default_rng(0).random((20, 6, 6, 2), dtype=np.float32))
    out = tmp_path / "out" / "m.tflite"
    out.parent.mkdir()
    result = cli(
        "convert", str(tmp_path / "sm"), "-d", str(tmp_path / "calib.npy"), "-o", str(out), "--weights", "int4"
    )
    assert result.exit_code == 1, result.stderr
    assert "stayed float with --weights int4: #" in result.stderr and "SHAPE" in result.stderr
    assert "batch-1 input" in result.stderr and not any(out.parent.iterdir())
