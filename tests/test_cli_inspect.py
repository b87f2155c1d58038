"""``edgeq inspect``: text report, --json, and one-line errors for bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from edgeq.cli import cli

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "tflite"


def run(*args: str):
    return CliRunner().invoke(cli, ["inspect", *args])


def test_text_report():
    result = run(str(FIXTURES / "conv_int8.tflite"))
    assert result.exit_code == 0, result.output
    for needle in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "SOFTMAX", "MAX_POOL_2D"):
        assert needle in result.stdout
    assert "total MACs     73,328" in result.stdout
    assert "parameters" in result.stdout and "activations" in result.stdout
    assert result.stderr == ""


def test_json_output_is_one_object():
    result = run(str(FIXTURES / "two_input_int8.tflite"), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    for key in (
        "ops", "total_macs", "parameter_bytes", "activation_bytes", "float_ops", "inputs", "outputs",
    ):  # fmt: skip
        assert key in data
    assert data["total_macs"] == 320
    assert [t["shape"] for t in data["inputs"]] == [[1, 8], [1, 8]]
    assert data["outputs"][0]["dtype"] == "int8"
    assert data["float_ops"] == []


def test_json_flags_float_ops():
    data = json.loads(run("--json", str(FIXTURES / "conv_float.tflite")).stdout)
    assert data["float_ops"] == [0, 1, 2, 3, 4, 5]


def _bad_files(tmp_path: Path) -> dict[str, Path]:
    text = tmp_path / "notes.tflite"
    text.write_text("hello\nworld\n")
    empty = tmp_path / "empty.tflite"
    empty.write_bytes(b"")
    truncated = tmp_path / "truncated.tflite"
    truncated.write_bytes((FIXTURES / "conv_int8.tflite").read_bytes()[:1000])
    return {
        "text": text,
        "empty": empty,
        "truncated": truncated,
        "missing": tmp_path / "missing.tflite",
        "directory": tmp_path,
    }


@pytest.mark.parametrize("kind", ["text", "empty", "truncated", "missing", "directory"])
@pytest.mark.parametrize("as_json", [False, True])
def test_bad_files_give_one_line_error(tmp_path, kind, as_json):
    path = _bad_files(tmp_path)[kind]
    result = run(str(path), *(["--json"] if as_json else []))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1
    assert str(path) in result.stderr
    assert result.stdout == ""


def test_help_mentions_macs():
    result = run("--help")
    assert result.exit_code == 0
    assert "MACs" in result.stdout
