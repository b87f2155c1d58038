"""edgeq generate on the command line: --json report, text output, bad input."""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURES

KWS = FIXTURES / "zoo" / "kws_dscnn" / "int8.tflite"


def _file(path, data: bytes):
    path.write_bytes(data)
    return path


def test_json_report(cli, tmp_path):
    result = cli("generate", str(KWS), "--format", "tflm", "-o", str(tmp_path / "kws"), "--name", "kws", "--json")
    assert result.exit_code == 0, result.stderr
    report = result.json()
    assert report["flash_bytes"] == KWS.stat().st_size
    assert report["arena_bytes"] > report["arena_measured_bytes"] > 0
    assert "kws_ops.h" in report["files"] and report["ops"][0] == "CONV_2D"
    assert "AddConv2D" in report["resolver_methods"]


def test_text_output(cli, tmp_path):
    result = cli("generate", str(KWS), "--format", "carray", "-o", str(tmp_path / "c"), "--lang", "cpp")
    assert result.exit_code == 0, result.stderr
    assert "model array 51,984 bytes" in result.stdout and "int8_model_data.cc" in result.stdout


@pytest.mark.parametrize(
    ("setup", "args", "message", "code"),
    [
        (lambda p: p / "missing.tflite", [], "no such file", 1),
        (lambda p: _file(p / "x.tflite", b""), [], "is empty", 1),
        (
            lambda p: (p / "x.tflite").write_bytes(b"hello world, not a model") and p / "x.tflite",
            [],
            "not a TFLite model",
            1,
        ),
        (lambda p: KWS, ["--name", "***"], "no letters or digits", 2),
        (lambda p: KWS, ["--section", "bad section"], "not a linker section name", 2),
    ],
)
def test_bad_input(cli, tmp_path, setup, args, message, code):
    model = setup(tmp_path)
    out = tmp_path / "out"
    result = cli("generate", str(model), "--format", "carray", "-o", str(out), *args)
    assert result.exit_code == code, result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and message in lines[0]
    assert not out.exists()


def test_output_path_is_a_file(cli, tmp_path):
    (tmp_path / "out").write_text("x")
    result = cli("generate", str(KWS), "--format", "carray", "-o", str(tmp_path / "out"))
    assert result.exit_code == 2 and "is a file" in result.stderr
