"""Unwritable output locations and bad option values are refused at once: one line, exit 2, nothing written."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from edgeq.outputs import OutputError, check_output

FIXTURES = Path(__file__).parent / "fixtures"
CONV = str(FIXTURES / "tflite" / "conv_int8.tflite")
KERAS = str(FIXTURES / "models" / "tiny_cnn.keras")


@pytest.fixture
def read_only(tmp_path):
    """A read-only tmpfs mount (needs root, as CI runs); skipped where mounting is not allowed."""
    folder = tmp_path / "ro"
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a read-only tmpfs here: {done.stderr.decode().strip()}")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


@pytest.fixture
def a_file(tmp_path):
    path = tmp_path / "plain.txt"
    path.write_text("not a folder")
    return path


def _one_line(result, *words):
    assert result.exit_code == 2, result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert all(w in lines[0] for w in words), lines[0]
    assert "Traceback" not in result.stderr


def test_convert_into_a_read_only_folder_fails_before_loading_the_model(cli, read_only, tmp_path):
    x = tmp_path / "x.npy"
    np.save(x, np.zeros((4, 12, 12, 3), np.float32))
    result = cli("convert", KERAS, "-d", str(x), "-o", str(read_only / "m.tflite"))
    _one_line(result, str(read_only), "read-only")


def test_convert_through_a_parent_that_is_a_file(cli, a_file, tmp_path):
    result = cli("convert", KERAS, "-d", "missing.npy", "-o", str(a_file / "sub" / "m.tflite"))
    _one_line(result, f"{a_file} is a file")
    assert a_file.read_text() == "not a folder"


def test_convert_under_proc(cli):
    _one_line(cli("convert", KERAS, "-d", "missing.npy", "-o", "/proc/m.tflite"), "/proc")


def test_generate_run_and_profile_report_on_a_read_only_mount(cli, read_only, tmp_path):
    x = tmp_path / "x.npy"
    np.save(x, np.zeros((2, 8, 8, 1), np.int8))
    for args in (
        ["generate", CONV, "--format", "carray", "-o", str(read_only / "out")],
        ["run", CONV, "--target", "host", "--input", str(x), "-o", str(read_only / "y.npy")],
        ["profile", CONV, "--runs", "2", "--report", str(read_only / "r.html")],
    ):
        _one_line(cli(*args), "read-only")
    assert list(read_only.iterdir()) == []


def test_an_output_folder_that_is_a_file(cli, a_file):
    _one_line(cli("generate", CONV, "--format", "carray", "-o", str(a_file)), "is a file")


def test_the_check_creates_nothing(tmp_path):
    target = tmp_path / "a" / "b" / "m.tflite"
    assert check_output(target) == target
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(OutputError, match="is a folder"):
        check_output(tmp_path)


def test_a_write_that_fails_late_is_one_line(read_only):
    from edgeq.outputs import atomic_write

    with pytest.raises(OutputError, match=r"^writing .*y\.npy failed: .* read-only file system$"):
        atomic_write(read_only / "y.npy", b"data")


@pytest.mark.parametrize(
    "args, words",
    [
        (["--deadline-ms", "nan"], ["--deadline-ms", "not a finite number"]),
        (["--deadline-ms", "-5"], ["--deadline-ms", "must be above 0"]),
        (["--deadline-ms", "inf"], ["--deadline-ms", "not a finite number"]),
        (["--threads", "0"], ["--threads", "must be at least 1"]),
        (["--runs", "0"], ["--runs", "must be at least 1"]),
        (["--warmup", "-1"], ["--warmup", "must be at least 0"]),
        (["--runs", "ten"], ["--runs", "not an integer"]),
    ],
)
def test_profile_numbers_are_checked_when_parsed(cli, args, words):
    _one_line(cli("profile", CONV, *args), *words)


@pytest.mark.parametrize(
    "args, words",
    [
        (["--samples", "-3"], ["--samples", "at least 1"]),
        (["--check-samples", "-1"], ["--check-samples", "at least 0"]),
        (["--scale", "nan"], ["--scale", "finite"]),
        (["--accuracy-budget", "-1"], ["--accuracy-budget", "at least 0"]),
    ],
)
def test_convert_numbers_are_checked_when_parsed(cli, tmp_path, args, words):
    _one_line(cli("convert", KERAS, "-d", "missing.npy", "-o", str(tmp_path / "m.tflite"), *args), *words)
    assert list(tmp_path.iterdir()) == []


def test_click_usage_errors_are_one_line(cli):
    _one_line(cli("profile", CONV, "--no-such-option"), "--no-such-option", "edgeq profile --help")
    _one_line(cli("run", CONV), "Missing option", "edgeq run --help")
