"""``edgeq edgetpu-check``: text report, --json, exit codes, one-line errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from edgeq.cli.edgetpu_check import command
from tests.edgetpu.models import CONV_FLOAT, CONV_INT8, replace_opcode


def run(*args: str):
    return CliRunner().invoke(command, list(args))


def test_text_report_fully_mapped():
    result = run(str(CONV_INT8))
    assert result.exit_code == 0, result.output
    assert "Number of operations that will run on Edge TPU: 6" in result.stdout
    assert "Number of operations that will run on CPU: 0" in result.stdout
    assert result.stderr == ""


def test_report_exits_0_even_when_nothing_maps():
    result = run(str(CONV_FLOAT))
    assert result.exit_code == 0
    assert "Number of operations that will run on CPU: 6" in result.stdout
    assert "Operation is working on an unsupported data type" in result.stdout


def test_json(write):
    path = write(replace_opcode(CONV_INT8.read_bytes(), "MAX_POOL_2D", "HARD_SWISH"))
    result = run(path, "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert (data["edgetpu_ops"], data["cpu_ops"], data["model"]) == (2, 4, path)
    assert [row["status"] for row in data["operators"]][-1] == "More than one subgraph is not supported"


@pytest.mark.parametrize("content", [b"", b"not a model at all", None])
def test_bad_file_is_one_line_error(write, tmp_path, content):
    path = str(tmp_path / "missing.tflite") if content is None else write(content, "bad.tflite")
    result = run(path)
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")


def test_truncated_file_is_one_line_error(write):
    result = run(write(CONV_INT8.read_bytes()[:900], "truncated.tflite"))
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_through_the_edgeq_group(monkeypatch, cli, write):
    """As ``edgeq edgetpu-check`` once registered in edgeq.cli.COMMANDS: exit 0 for a report, 1 for a bad file."""
    from edgeq.cli import COMMANDS

    monkeypatch.setitem(COMMANDS, "edgetpu-check", "edgetpu_check")
    ok = cli("edgetpu-check", str(CONV_FLOAT), "--json")
    assert ok.exit_code == 0 and ok.json()["cpu_ops"] == 6
    bad = cli("edgetpu-check", write(b"garbage!", "bad.tflite"))
    assert bad.exit_code == 1
    assert bad.stderr.startswith("error: ") and len(bad.stderr.strip().splitlines()) == 1
