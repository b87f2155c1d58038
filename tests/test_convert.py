"""End-to-end conversion of the checked-in fixture models with the real TFLite converter."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgeq.convert import ConvertOptions, convert
from edgeq.errors import ConversionError, ModelLoadError, UsageError
from edgeq.litert import Runner
from edgeq.model import read_model

from .conftest import MODELS

pytestmark = pytest.mark.slow


def _dtypes(path):
    graph = read_model(path)
    return {t.dtype for t in graph.tensors}


def test_int8_is_fully_integer_and_reported(tmp_path, tiny_data):
    out = tmp_path / "tiny_int8.tflite"
    report = convert(MODELS / "tiny_cnn.keras", tiny_data, out, samples=50, seed=3)
    assert _dtypes(out) <= {"int8", "int32"}
    assert report.float_ops == ()
    assert report.samples_used == 50 and report.samples_available == 60
    assert report.inputs[0].dtype == "int8" and report.inputs[0].scale > 0
    assert report.output_bytes == out.stat().st_size
    assert report.float_tflite_bytes and report.size_ratio == pytest.approx(
        report.output_bytes / report.float_tflite_bytes
    )
    assert set(report.ops_by_type) >= {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "SOFTMAX"}
    # 60 samples, 50 drawn for calibration: the check runs on the other 10
    assert report.fidelity["samples"] == 10 and report.fidelity["held_out"] is True
    assert report.fidelity["snr_db"] > 20
    on_disk = json.loads(out.with_suffix(".json").read_text())
    assert on_disk["output_bytes"] == report.output_bytes and on_disk["mode"] == "int8"


def test_same_seed_gives_identical_bytes(tmp_path, tiny_data):
    a, b = tmp_path / "a.tflite", tmp_path / "b.tflite"
    convert(MODELS / "tiny_cnn.keras", tiny_data, a, samples=20, seed=1, check_samples=0)
    convert(MODELS / "tiny_cnn.keras", tiny_data, b, samples=20, seed=1, check_samples=0)
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize(("io", "dtype"), [("uint8", "uint8"), ("float32", "float32")])
def test_io_types(tmp_path, tiny_data, io, dtype):
    out = tmp_path / "m.tflite"
    convert(MODELS / "tiny_cnn.keras", tiny_data, out, io=io, samples=20, check_samples=4)
    graph = read_model(out)
    assert graph.input_tensors[0].dtype == dtype and graph.output_tensors[0].dtype == dtype
    if io == "float32":
        ops = [op.builtin for op in graph.operators]
        assert ops[0] == "QUANTIZE" and ops[-1] == "DEQUANTIZE"


def test_int16x8_has_int16_activations(tmp_path, tiny_data):
    out = tmp_path / "m.tflite"
    report = convert(MODELS / "tiny_cnn.keras", tiny_data, out, mode="int16x8", samples=20)
    graph = read_model(out)
    conv = next(op for op in graph.operators if op.builtin == "CONV_2D")
    assert graph.tensors[conv.outputs[0]].dtype == "int16"
    assert graph.tensors[conv.inputs[1]].dtype == "int8"
    assert report.io == "int16" and report.float_ops == ()


def test_dynamic_needs_no_data_and_keeps_float_activations(tmp_path):
    import keras

    # The converter quantizes only weights of at least 1024 elements in this mode.
    inp = keras.Input((64,), name="x")
    model = keras.Model(inp, keras.layers.Dense(32, name="big")(inp))
    out = tmp_path / "m.tflite"
    report = convert(model, None, out, mode="dynamic")
    graph = read_model(out)
    assert graph.input_tensors[0].dtype == "float32"
    assert any(t.dtype == "int8" and t.is_constant for t in graph.tensors)
    assert report.samples_used is None and report.float_tflite_bytes


def test_float16_weights(tmp_path):
    out = tmp_path / "m.tflite"
    convert(MODELS / "tiny_cnn.keras", None, out, mode="float16")
    assert "float16" in {t.dtype for t in read_model(out).tensors if t.is_constant}


def test_int8_without_data_is_an_error(tmp_path):
    with pytest.raises(ConversionError, match="pass representative data with -d DATA"):
        convert(MODELS / "tiny_cnn.keras", None, tmp_path / "m.tflite")
    assert not list(tmp_path.iterdir())


def test_io_not_available_for_mode():
    with pytest.raises(UsageError, match="--io int8 is not available with --mode dynamic"):
        ConvertOptions(mode="dynamic", io="int8")


def test_legacy_h5_loads_through_tf_keras(tmp_path, rng):
    import keras

    with pytest.raises(Exception):  # noqa: B017 - Keras 3 rejects the Keras 2 DepthwiseConv2D config
        keras.models.load_model(MODELS / "legacy_dw.h5", compile=False)
    data = tmp_path / "x.npy"
    np.save(data, rng.random((20, 10, 10, 2), dtype=np.float32))
    report = convert(MODELS / "legacy_dw.h5", data, tmp_path / "m.tflite")
    assert report.model_kind == "h5"
    assert _dtypes(tmp_path / "m.tflite") <= {"int8", "int32"}


def test_tf1_saved_model(tmp_path, rng):
    data = tmp_path / "x.npy"
    np.save(data, rng.normal(size=(20, 16)).astype(np.float32))
    report = convert(MODELS / "savedmodel_tf1", data, tmp_path / "m.tflite")
    assert report.model_kind == "savedmodel"
    assert report.inputs[0].shape == (1, 16)
    assert _dtypes(tmp_path / "m.tflite") <= {"int8", "int32"}


def test_two_inputs_from_npz_by_name(tmp_path, rng):
    data = tmp_path / "x.npz"
    np.savez(data, meta=rng.random((30, 4)), image=rng.random((30, 8, 8, 1)))
    out = tmp_path / "m.tflite"
    report = convert(MODELS / "two_input.keras", data, out, samples=30)
    names = sorted(t.name for t in report.inputs)
    assert len(names) == 2 and any("image" in n for n in names) and any("meta" in n for n in names)
    # The quantized model follows the float one on the calibration data.
    assert report.fidelity["snr_db"] > 20


def test_float_op_fails_with_list_and_leaves_no_file(tmp_path, rng):
    data = tmp_path / "x.npy"
    np.save(data, rng.normal(size=(20, 6)).astype(np.float32))
    out = tmp_path / "out" / "m.tflite"
    with pytest.raises(
        ConversionError, match=r"1 op\(s\) stayed float in --mode int8: #\d+ COS;.*--allow-float-fallback"
    ):
        convert(MODELS / "savedmodel_cos", data, out)
    assert not out.exists() and not out.with_suffix(".json").exists()
    report = convert(MODELS / "savedmodel_cos", data, out, allow_float_fallback=True)
    assert [f.op for f in report.float_ops] == ["COS"]
    assert json.loads(out.with_suffix(".json").read_text())["float_ops"][0]["op"] == "COS"


def test_keras_object_and_layer_mapping(tmp_path, rng):
    import keras

    inp = keras.Input((6,), name="x")
    hidden = keras.layers.Dense(6, name="proj")(inp)
    wave = keras.layers.Lambda(lambda t: keras.ops.cos(t), name="wave")(hidden)
    model = keras.Model(inp, keras.layers.Dense(2, name="out")(wave))
    report = convert(
        model, rng.normal(size=(20, 6)).astype(np.float32), tmp_path / "m.tflite", allow_float_fallback=True
    )
    assert [(f.op, f.layer) for f in report.float_ops] == [("COS", "wave")]


def test_runs_in_litert_close_to_float(tmp_path, tiny_data):
    out = tmp_path / "m.tflite"
    convert(MODELS / "tiny_cnn.keras", tiny_data, out, samples=60)
    runner = Runner(out)
    x = np.load(tiny_data)[:1]
    y = runner.run_float([x])[0]
    assert y.shape == (1, 4) and abs(float(y.sum()) - 1.0) < 0.05  # softmax survives quantization


def test_check_runs_on_held_out_samples_named_in_the_report(tmp_path, rng, cli):
    data = tmp_path / "x.npy"
    np.save(data, rng.random((40, 12, 12, 3), dtype=np.float32))
    out = tmp_path / "m.tflite"
    result = cli("convert", str(MODELS / "tiny_cnn.keras"), "-d", str(data), "-o", str(out), "--samples", "25")
    assert result.exit_code == 0, result.stderr
    fidelity = json.loads(out.with_suffix(".json").read_text())["fidelity"]
    assert fidelity["held_out"] is True and fidelity["samples"] == 15
    report = json.loads(out.with_suffix(".json").read_text())
    assert not set(fidelity["sample_indices"]) & set(_calibration_indices(data, 25))
    assert "vs float on 15 held-out samples (not used for calibration)" in result.stdout
    assert report["notes"] == []


def _calibration_indices(data, samples):
    from edgeq.data import load_dataset
    from edgeq.qtypes import DataSpec

    return load_dataset(data, [DataSpec("x", (None, 12, 12, 3))], samples=samples).indices


def test_check_on_calibration_samples_is_a_warning(tmp_path, tiny_data, cli):
    out = tmp_path / "m.tflite"
    result = cli("convert", str(MODELS / "tiny_cnn.keras"), "-d", str(tiny_data), "-o", str(out), "--samples", "60")
    assert result.exit_code == 0, result.stderr
    assert "warning: the float-vs-quantized check runs on calibration samples" in result.stderr
    assert "vs float on 32 calibration samples (no held-out data)" in result.stdout
    report = json.loads(out.with_suffix(".json").read_text())
    assert report["fidelity"]["held_out"] is False and report["fidelity"]["sample_indices"] == list(range(32))
    assert any("calibration samples" in note for note in report["notes"])


def test_text_file_named_keras_is_not_a_keras_file(tmp_path, tiny_data):
    model = tmp_path / "model.keras"
    model.write_text("not a model\n")
    with pytest.raises(ModelLoadError, match=r"model\.keras is not a Keras file: a \.keras file is a zip archive"):
        convert(model, tiny_data, tmp_path / "m.tflite")
    h5 = tmp_path / "model.h5"
    h5.write_bytes((MODELS / "tiny_cnn.keras").read_bytes())
    with pytest.raises(ModelLoadError, match=r"model\.h5 is not an HDF5 Keras file.*rename it to \.keras"):
        convert(h5, tiny_data, tmp_path / "m.tflite")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("missing.npy", "missing.npy: no such file or folder"),
        ("text.npy", "text.npy is not an .npy file (numpy.save format"),
        ("text.npz", "text.npz is not an .npz file (numpy.savez format"),
    ],
)
def test_bad_data_is_reported_before_the_model_loads(tmp_path, cli, data, message):
    (tmp_path / "text.npy").write_text("1 2 3\n")
    (tmp_path / "text.npz").write_text("1 2 3\n")
    out = tmp_path / "m.tflite"
    result = cli("convert", str(MODELS / "tiny_cnn.keras"), "-d", str(tmp_path / data), "-o", str(out))
    assert result.exit_code == 1 and message in result.stderr
    assert "loaded" not in result.stderr  # the model was never loaded
    assert not out.exists()


@pytest.mark.parametrize("batch", [None, 1], ids=["any-batch", "batch-1"])
def test_lstm_without_unroll_fails_with_the_fix(tmp_path, rng, batch):
    """Refused before calibration: with batch 1 TensorFlow's quantizer used to crash the process (SIGSEGV)."""
    import keras

    inp = keras.Input((6, 3), name="seq", batch_size=batch)
    seq = keras.layers.Bidirectional(keras.layers.GRU(4, return_sequences=True))(inp)
    out = keras.layers.Dense(2)(keras.layers.LSTM(4, name="steps")(seq))
    data = rng.normal(size=(8, 6, 3)).astype(np.float32)
    with pytest.raises(ConversionError, match=r"steps \(LSTM\), .*GRU.* keeps its loop .*unroll=True.*tf-keras"):
        convert(keras.Model(inp, out), data, tmp_path / "m.tflite", check_samples=0)
    assert not (tmp_path / "m.tflite").exists()
