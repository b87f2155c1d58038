"""edgeq run: targets, input handling, errors."""

from __future__ import annotations

import numpy as np
import pytest

from edgeq.model import read_model
from tests.conftest import FIXTURES

KWS = FIXTURES / "zoo" / "kws_dscnn" / "int8.tflite"


@pytest.fixture
def kws_inputs(tmp_path):
    x = np.random.default_rng(3).integers(-128, 128, (6, 49, 10, 1)).astype(np.int8)
    np.save(tmp_path / "in.npy", x)
    return tmp_path / "in.npy", x


@pytest.mark.parametrize("target", ["host", "host-tflm", "host-c"])
def test_targets_write_raw_outputs(cli, tmp_path, kws_inputs, target):
    path, _ = kws_inputs
    out = tmp_path / f"{target}.npy"
    result = cli("run", str(KWS), "--target", target, "--input", str(path), "-o", str(out), "--json")
    assert result.exit_code == 0, result.stderr
    y = np.load(out)
    assert y.shape == (6, 12) and y.dtype == np.int8
    assert result.json()["samples"] == 6


def test_engine_equals_tflm(cli, tmp_path, kws_inputs):
    path, _ = kws_inputs
    for target in ("host-c", "host-tflm"):
        assert (
            cli(
                "run", str(KWS), "--target", target, "--input", str(path), "-o", str(tmp_path / f"{target}.npy")
            ).exit_code
            == 0
        )
    assert np.array_equal(np.load(tmp_path / "host-c.npy"), np.load(tmp_path / "host-tflm.npy"))


def test_float_inputs_are_quantized(cli, tmp_path, kws_inputs):
    path, x = kws_inputs
    q = read_model(KWS).input_tensors[0].quantization
    real = (x.astype(np.float32) - q.zero_point[0]) * q.scale[0]
    np.save(tmp_path / "real.npy", real)
    for name, source in (("a", path), ("b", tmp_path / "real.npy")):
        assert (
            cli(
                "run", str(KWS), "--target", "host-c", "--input", str(source), "-o", str(tmp_path / f"{name}.npy")
            ).exit_code
            == 0
        )
    assert np.array_equal(np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (np.zeros((2, 49, 10), np.int8), "expects (N, 49, 10, 1), got (2, 49, 10)"),
        (np.zeros((2, 49, 10, 1), np.int32), "is int8, got int32 data"),
        (np.full((2, 49, 10, 1), np.nan, np.float32), "sample 0 of the input contains NaN"),
    ],
)
def test_bad_inputs(cli, tmp_path, data, message):
    np.save(tmp_path / "in.npy", data)
    out = tmp_path / "out.npy"
    result = cli("run", str(KWS), "--target", "host", "--input", str(tmp_path / "in.npy"), "-o", str(out))
    assert result.exit_code == 1 and message in result.stderr
    assert not out.exists()


def test_missing_input_file(cli, tmp_path):
    result = cli(
        "run", str(KWS), "--target", "host", "--input", str(tmp_path / "no.npy"), "-o", str(tmp_path / "o.npy")
    )
    assert result.exit_code == 1 and "no such file" in result.stderr


def test_unknown_target_lists_the_known_ones(cli, tmp_path, kws_inputs):
    path, _ = kws_inputs
    result = cli("run", str(KWS), "--target", "qemu-m99", "--input", str(path), "-o", str(tmp_path / "o.npy"))
    assert result.exit_code == 2
    assert "unknown target 'qemu-m99'" in result.stderr and "qemu-m4" in result.stderr and "ssh://" in result.stderr
    assert not (tmp_path / "o.npy").exists()


def test_serial_target_without_a_port_says_how_to_give_one(cli, tmp_path, kws_inputs, monkeypatch):
    monkeypatch.delenv("EDGEQ_SERIAL_PORT", raising=False)
    path, _ = kws_inputs
    result = cli("run", str(KWS), "--target", "serial", "--input", str(path), "-o", str(tmp_path / "o.npy"))
    assert result.exit_code != 0 and "EDGEQ_SERIAL_PORT" in result.stderr and "\n" not in result.stderr.strip()


@pytest.mark.parametrize("target", ["host", "host-c", "host-tflm", "qemu-m4"])
@pytest.mark.parametrize("suffix", [".npy", ".npz"])
def test_zero_samples_is_one_error_before_any_target_starts(cli, tmp_path, target, suffix):
    empty = np.zeros((0, 49, 10, 1), np.int8)
    path = tmp_path / f"zero{suffix}"
    np.save(path, empty) if suffix == ".npy" else np.savez(path, x=empty)
    out = tmp_path / "o.npy"
    result = cli("run", str(KWS), "--target", target, "--input", str(path), "-o", str(out))
    assert result.exit_code == 1, result.stderr
    assert result.stderr.strip() == f"error: {path} holds no samples (shape (0, 49, 10, 1)); give at least one sample"
    assert not out.exists()


def test_zero_samples_through_the_python_api():
    from edgeq.batch_run import run
    from edgeq.errors import DatasetError

    with pytest.raises(DatasetError, match=r"the input holds no samples \(shape \(0, 49, 10, 1\)\)"):
        run(KWS, "host-c", [np.zeros((0, 49, 10, 1), np.int8)])


def test_text_file_named_npy_is_not_called_pickled(cli, tmp_path):
    (tmp_path / "in.npy").write_text("0 1 2 3\n")
    result = cli(
        "run", str(KWS), "--target", "host", "--input", str(tmp_path / "in.npy"), "-o", str(tmp_path / "o.npy")
    )
    assert result.exit_code == 1
    assert "in.npy is not an .npy file (numpy.save format" in result.stderr and "pickle" not in result.stderr


def test_bin_options_need_an_mlperf_folder(cli, tmp_path, kws_inputs):
    path, _ = kws_inputs
    args = ("--bin-dtype", "int8", "--bin-scale", "0.5", "--bin-zero-point", "0")
    result = cli("run", str(KWS), "--target", "host", "--input", str(path), "-o", str(tmp_path / "o.npy"), *args)
    assert result.exit_code == 2 and "is not one" in result.stderr and "MLPerf Tiny dataset folder" in result.stderr
