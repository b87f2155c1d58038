"""edgeq qat: QAT fine-tuning of the checked-in tiny models, int8 conversion, report, errors."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest

from edgeq.errors import DatasetError, ModelLoadError, UsageError

from ..conftest import MODELS

pytestmark = pytest.mark.slow
# find_spec, not importorskip: importing tfmot at collection would set TF_USE_LEGACY_KERAS=1 for every later test
if importlib.util.find_spec("tensorflow_model_optimization") is None:
    pytest.skip("tensorflow-model-optimization is not installed", allow_module_level=True)


@pytest.fixture(autouse=True)
def _qat_command(monkeypatch):
    """Make `edgeq qat` reachable until edgeq/cli/__init__.py lists it."""
    from edgeq.cli import COMMANDS

    monkeypatch.setitem(COMMANDS, "qat", "qat")


def labelled(path, n, seed, shapes):
    """An .npz of random inputs (one array per name in ``shapes``) and labels 0..2."""
    rng = np.random.default_rng(seed)
    arrays = {name: rng.random((n, *shape), dtype=np.float32) for name, shape in shapes.items()}
    np.savez(path, y=rng.integers(0, 3, n), **arrays)
    return path


@pytest.fixture(scope="module")
def tiny_sets(tmp_path_factory):
    folder = tmp_path_factory.mktemp("qat-data")
    train = labelled(folder / "train.npz", 48, 1, {"x": (12, 12, 3)})
    return train, labelled(folder / "eval.npz", 24, 2, {"x": (12, 12, 3)})


@pytest.fixture(scope="module")
def qat_run(tiny_sets, tmp_path_factory):
    """One `edgeq qat --json` run on tiny_cnn, shared by the checks below."""
    from edgeq.cli import COMMANDS

    from ..conftest import run_cli

    registered = "qat" in COMMANDS
    COMMANDS["qat"] = "qat"
    train, evaluation = tiny_sets
    out = tmp_path_factory.mktemp("qat-out") / "tiny_qat.tflite"
    args = ["qat", str(MODELS / "tiny_cnn.keras"), "-d", str(train), "--epochs", "1", "-o", str(out)]
    try:
        result = run_cli(*args, "--eval-data", str(evaluation), "--batch-size", "16", "--samples", "20", "--json")
    finally:
        if not registered:
            del COMMANDS["qat"]
    return result, out


def test_qat_writes_a_fully_int8_model_that_litert_runs(qat_run):
    from edgeq.litert import Runner
    from edgeq.model import read_model

    result, out = qat_run
    assert result.exit_code == 0, result.stderr
    graph = read_model(out)
    assert {t.dtype for t in graph.tensors} <= {"int8", "int32"}
    assert "QUANTIZE" not in {op.builtin for op in graph.operators}
    runner = Runner(out)
    scores = runner.run_float([np.full((1, 12, 12, 3), 0.5, np.float32)])[0]
    assert scores.shape == (1, 4) and abs(float(scores.sum()) - 1.0) < 0.05


def test_qat_report_on_stdout_and_beside_the_model(qat_run):
    result, out = qat_run
    printed = result.json()
    on_disk = json.loads(out.with_suffix(".json").read_text())
    assert printed == on_disk
    assert on_disk["output"] == str(out) and on_disk["output_bytes"] == out.stat().st_size
    qat = on_disk["qat"]
    assert qat["train"]["epochs"] == 1 and qat["train"]["samples"] == 48 and len(qat["train"]["history"]) == 1
    accuracy = qat["accuracy"]
    assert accuracy["samples"] == 24
    for key in ("float", "ptq_int8", "qat_int8"):
        assert 0.0 <= accuracy[key] <= 1.0
    assert on_disk["float_tflite_bytes"] > 0 and on_disk["float_ops"] == []
    assert "QAT epoch 1/1" in result.stderr


def test_two_input_model_without_eval_data(tmp_path):
    from edgeq.quant.qat import qat
    from edgeq.quant.training import TrainOptions

    train = labelled(tmp_path / "train.npz", 32, 3, {"image": (8, 8, 1), "meta": (4,)})
    out = tmp_path / "two.tflite"
    report = qat(MODELS / "two_input.keras", train, out, options=TrainOptions(epochs=1, batch_size=16), samples=16)
    assert report.accuracy is None and report.to_dict()["qat"]["accuracy"] is None
    assert len(report.conversion.inputs) == 2 and {t.dtype for t in report.conversion.inputs} == {"int8"}
    assert out.exists() and out.with_suffix(".json").exists()


def test_keras3_model_is_rebuilt_in_tf_keras_with_the_same_outputs():
    import keras

    from edgeq.quant.tfkeras import to_tf_keras

    original = keras.models.load_model(MODELS / "tiny_cnn.keras", compile=False)
    rebuilt = to_tf_keras(original)
    assert type(rebuilt).__module__.startswith("tf_keras")
    x = np.random.default_rng(0).random((3, 12, 12, 3), dtype=np.float32)
    np.testing.assert_allclose(rebuilt(x).numpy(), original(x).numpy(), rtol=1e-5, atol=1e-6)
    assert [layer.name for layer in rebuilt.layers] == [layer.name for layer in original.layers]


def test_keras3_only_layer_is_named():
    import keras

    from edgeq.quant.tfkeras import to_tf_keras

    inputs = keras.Input((8,))
    hidden = keras.layers.RMSNormalization(name="rms")(keras.layers.Dense(8)(inputs))
    model = keras.Model(inputs, keras.layers.Dense(3)(hidden))
    with pytest.raises(ModelLoadError, match=r"layer 'rms' \(RMSNormalization\) has no tf-keras equivalent"):
        to_tf_keras(model)


@pytest.mark.parametrize(
    ("extra", "code", "message"),
    [
        (["--epochs", "0"], 2, "'--epochs': 0 must be at least 1"),
        (["--lr", "5"], 2, "--lr 5.0 must be a number in (0, 1)"),
        (["--batch-size", "0"], 2, "'--batch-size': 0 must be at least 1"),
    ],
)
def test_bad_options_give_one_line(cli, tiny_sets, tmp_path, extra, code, message):
    train, _ = tiny_sets
    result = cli("qat", str(MODELS / "tiny_cnn.keras"), "-d", str(train), "-o", str(tmp_path / "m.tflite"), *extra)
    assert result.exit_code == code
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert not (tmp_path / "m.tflite").exists()


def test_unlabelled_training_data_is_refused(cli, tmp_path):
    data = tmp_path / "calib.npy"
    np.save(data, np.zeros((8, 12, 12, 3), np.float32))
    result = cli("qat", str(MODELS / "tiny_cnn.keras"), "-d", str(data), "-o", str(tmp_path / "m.tflite"))
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr
    assert "training data must be labelled: an .npz with x and y arrays" in result.stderr


def test_library_errors():
    from edgeq.quant.tfkeras import to_tf_keras
    from edgeq.quant.training import TrainOptions

    with pytest.raises(UsageError):
        TrainOptions(epochs=0)
    with pytest.raises(ModelLoadError, match="SavedModel folder"):
        to_tf_keras(MODELS / "savedmodel_cos")


def test_labels_out_of_range(tmp_path):
    from edgeq.quant.tfkeras import to_tf_keras
    from edgeq.quant.training import TrainOptions, training_data

    path = tmp_path / "bad.npz"
    np.savez(path, x=np.zeros((4, 12, 12, 3), np.float32), y=np.array([0, 1, 2, 9]))
    with pytest.raises(DatasetError, match="label 9 is out of range for a model with 4 outputs"):
        training_data(path, to_tf_keras(MODELS / "tiny_cnn.keras"), TrainOptions())


def test_missing_tfmot_names_the_pip_package(tmp_path):
    code = (
        "import sys; sys.modules['tensorflow_model_optimization'] = None\n"
        "from edgeq.cli import COMMANDS, main\n"
        "COMMANDS['qat'] = 'qat'\n"
        f"sys.exit(main(['qat', {str(MODELS / 'tiny_cnn.keras')!r}, '-d', 'x.npz', '-o', 'm.tflite']))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "pip install tensorflow-model-optimization" in lines[0]
    assert "Traceback" not in done.stderr
