"""The edgeq command line: help, --json, and the bad-input matrix (message, exit code, no output left)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from .conftest import MODELS


@pytest.mark.parametrize("command", ["convert", "inspect", "evaluate", "demo"])
def test_help_on_every_command(cli, command):
    result = cli(command, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.stdout and "--json" in result.stdout


def test_python_dash_m_and_version():
    out = subprocess.run([sys.executable, "-m", "edgeq", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip().startswith("edgeq, version")


@pytest.mark.slow
def test_convert_json_is_one_object_on_stdout(cli, tmp_path, tiny_data):
    out = tmp_path / "m.tflite"
    result = cli(
        "convert", str(MODELS / "tiny_cnn.keras"), "-d", str(tiny_data), "-o", str(out), "--json", "--samples", "40"
    )
    assert result.exit_code == 0, result.stderr
    report = result.json()  # stdout parses as exactly one JSON object
    assert report["output_bytes"] == out.stat().st_size
    assert report["samples_used"] == 40 and report["float_ops"] == []
    assert "calibration data: 40 samples" in result.stderr


@pytest.mark.slow
def test_convert_text_report(cli, tmp_path, tiny_data):
    result = cli("convert", str(MODELS / "tiny_cnn.keras"), "-d", str(tiny_data), "-o", str(tmp_path / "m.tflite"))
    assert result.exit_code == 0, result.stderr
    assert "int8 model" in result.stdout and "CONV_2D" in result.stdout and "ratio" in result.stdout


def _nan_data(tmp_path):
    x = np.random.default_rng(0).random((20, 12, 12, 3), dtype=np.float32)
    x[5, 0, 0, 0] = np.nan
    np.save(tmp_path / "nan.npy", x)
    return tmp_path / "nan.npy"


def _bad_shape_data(tmp_path):
    np.save(tmp_path / "shape.npy", np.zeros((20, 12, 12), np.float32))
    return tmp_path / "shape.npy"


def _corrupt_h5(tmp_path):
    (tmp_path / "broken.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 64)
    return tmp_path / "broken.h5"


def _tflite_as_model(tmp_path):
    (tmp_path / "m.tflite").write_bytes(b"\0" * 16)
    return tmp_path / "m.tflite"


def _empty_dir(tmp_path):
    (tmp_path / "emptydir").mkdir()
    return tmp_path / "emptydir"


GOOD_MODEL = str(MODELS / "tiny_cnn.keras")
BAD_CONVERT = [
    # (id, model, data, extra args, expected message fragment, exit code)
    ("missing-model", lambda p: p / "nope.keras", "good", [], "no such file or folder", 1),
    ("corrupt-h5", _corrupt_h5, "good", [], "cannot load", 1),
    ("tflite-as-model", _tflite_as_model, "good", [], "already a .tflite model", 1),
    ("folder-without-savedmodel", _empty_dir, "good", [], "without saved_model.pb", 1),
    (
        "unknown-extension",
        lambda p: (p / "m.onnx").write_bytes(b"x") and p / "m.onnx",
        "good",
        [],
        "unknown model format",
        1,
    ),
    ("missing-data", None, lambda p: p / "none.npy", [], "no such file or folder", 1),
    ("nan-data", None, _nan_data, [], "sample 5 of input img contains NaN", 1),
    ("wrong-shape", None, _bad_shape_data, [], "expects samples of shape (N, 12, 12, 3), got (20, 12, 12)", 1),
    ("no-data-int8", None, "none", [], "pass representative data with -d DATA", 1),
    (
        "io-for-mode",
        None,
        "good",
        ["--mode", "dynamic", "--io", "int8"],
        "--io int8 is not available with --mode dynamic",
        2,
    ),
    ("zero-samples", None, "good", ["--samples", "0"], "'--samples': 0 must be at least 1", 2),
]


@pytest.mark.parametrize("case", BAD_CONVERT, ids=[c[0] for c in BAD_CONVERT])
def test_convert_bad_input_matrix(cli, tmp_path, tiny_data, case):
    _, model, data, extra, message, code = case
    model_arg = GOOD_MODEL if model is None else str(model(tmp_path))
    args = ["convert", model_arg, "-o", str(tmp_path / "out" / "m.tflite"), *extra]
    if data == "good":
        args += ["-d", str(tiny_data)]
    elif callable(data):
        args += ["-d", str(data(tmp_path))]
    result = cli(*args)
    assert result.exit_code == code, result.stderr
    error_lines = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert len(error_lines) == 1 and message in error_lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_convert_bad_mode_is_a_usage_error(cli, tmp_path):
    result = cli("convert", GOOD_MODEL, "-o", str(tmp_path / "m.tflite"), "--mode", "int4")
    assert result.exit_code == 2 and "'int4' is not one of" in result.stderr


def test_output_is_a_folder(cli, tmp_path, tiny_data):
    (tmp_path / "dir.tflite").mkdir()
    result = cli(
        "convert", GOOD_MODEL, "-d", str(tiny_data), "-o", str(tmp_path / "dir.tflite"), "--check-samples", "0"
    )
    assert result.exit_code == 2 and "is a folder" in result.stderr


def test_real_process_exit_code_and_single_line(tmp_path):
    """The installed entry point: a user error is one line on stderr and a non-zero exit."""
    out = subprocess.run(
        [sys.executable, "-m", "edgeq", "inspect", str(tmp_path / "missing.tflite")], capture_output=True, text=True
    )
    assert out.returncode == 1
    assert out.stderr.startswith("error:") and out.stderr.count("\n") == 1 and out.stdout == ""


@pytest.mark.slow
def test_evaluate_cli_json(cli, tmp_path, rng):
    from edgeq.convert import convert

    data = tmp_path / "test.npz"
    np.savez(data, x=rng.random((30, 12, 12, 3), dtype=np.float32), y=rng.integers(0, 4, 30))
    cand = tmp_path / "m.tflite"
    convert(MODELS / "tiny_cnn.keras", str(data), cand, samples=30, check_samples=0)
    result = cli("evaluate", str(MODELS / "tiny_cnn.keras"), str(cand), "-d", str(data), "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["samples"] == 30 and report["labelled"] is True
    assert 0.0 <= report["candidate_accuracy"] <= 1.0
    assert report["accuracy_drop_points"] == pytest.approx(
        100 * (report["reference_accuracy"] - report["candidate_accuracy"])
    )


def test_inspect_and_evaluate_of_tflite_never_import_tensorflow(tmp_path):
    """A device that only inspects and runs models installs edgeq without TensorFlow."""
    model = MODELS.parent / "tflite" / "conv_int8.tflite"
    np.save(tmp_path / "x.npy", np.zeros((2, 16, 16, 3), np.float32))
    code = (
        "import sys\n"
        "from edgeq.cli import main\n"
        f"assert main(['inspect', {str(model)!r}, '--json']) == 0\n"
        f"assert main(['evaluate', {str(model)!r}, {str(model)!r}, '-d', {str(tmp_path / 'x.npy')!r}]) == 0\n"
        "assert 'tensorflow' not in sys.modules, 'tensorflow was imported'\n"
        "assert 'keras' not in sys.modules, 'keras was imported'\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
