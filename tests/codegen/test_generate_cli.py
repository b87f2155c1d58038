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


def _small_board(tmp_path, flash: int, ram: int):
    """A copy of the NUCLEO-L4R5ZI entry with less memory."""
    import yaml

    from edgeq.boards import BOARDS_DIR

    data = yaml.safe_load((BOARDS_DIR / "nucleo-l4r5zi.yaml").read_text())
    data.update(id="tiny-board", flash_bytes=flash, ram_bytes=ram)
    path = tmp_path / "tiny-board.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_model_too_big_for_the_board(cli, tmp_path):
    board = _small_board(tmp_path, flash=40_000, ram=20_000)
    out = tmp_path / "out"
    result = cli("generate", str(KWS), "--format", "tflm", "-o", str(out), "--board", str(board))
    assert result.exit_code == 2, result.stderr
    error = next(ln for ln in result.stderr.splitlines() if ln.startswith("error:"))
    assert "does not fit tiny-board" in error and "51,984" in error and "40,000" in error and "--force" in error
    assert not out.exists()
    forced = cli("generate", str(KWS), "--format", "tflm", "-o", str(out), "--board", str(board), "--force", "--json")
    assert forced.exit_code == 0, forced.stderr
    assert len(forced.json()["fit_problems"]) == 2  # flash and RAM
    assert (out / "int8_ops.h").exists()


def test_fits_a_real_board(cli, tmp_path):
    result = cli(
        "generate", str(KWS), "--format", "carray", "-o", str(tmp_path / "o"), "--board", "nucleo-l4r5zi", "--json"
    )
    assert result.exit_code == 0, result.stderr
    report = result.json()
    assert report["board"] == "nucleo-l4r5zi" and report["fit_problems"] == [] and report["arena_bytes"] > 0


def test_unknown_board(cli, tmp_path):
    result = cli("generate", str(KWS), "--format", "carray", "-o", str(tmp_path / "o"), "--board", "nope")
    assert result.exit_code == 2 and "unknown board 'nope'" in result.stderr
    assert not (tmp_path / "o").exists()


ALL_TFLITE = sorted((FIXTURES / "tflite").glob("*.tflite")) + sorted((FIXTURES / "zoo").glob("*/*.tflite"))


@pytest.mark.parametrize("model", ALL_TFLITE, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_inspect_and_carray_on_every_fixture_and_zoo_model(cli, tmp_path, model):
    info = cli("inspect", str(model), "--json")
    assert info.exit_code == 0, info.stderr
    assert info.json()["size_bytes"] == model.stat().st_size
    result = cli("generate", str(model), "--format", "carray", "-o", str(tmp_path), "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["flash_bytes"] == model.stat().st_size


def test_engine_json_report(cli, tmp_path):
    import shutil as _shutil

    result = cli("generate", str(KWS), "--format", "engine", "-o", str(tmp_path / "e"), "--name", "kws", "--json")
    assert result.exit_code == 0, result.stderr
    report = result.json()
    assert report["arena_bytes"] >= report["arena_lower_bound_bytes"] > 0
    assert {"kws.h", "kws.c", "edgeq_kernels.h", "edgeq_conv.c"} <= set(report["files"])
    if _shutil.which("arm-none-eabi-gcc"):
        assert "cortex-m4" in report["flash_how"]
        assert report["flash_bytes"] > 24_000  # weights (24,380 B of constants) plus code
    header = (tmp_path / "e" / "kws.h").read_text()
    assert f"#define KWS_ARENA_BYTES {report['arena_bytes']}u" in header


def test_engine_text_report(cli, tmp_path):
    result = cli("generate", str(KWS), "--format", "engine", "-o", str(tmp_path / "e"), "--name", "kws")
    assert result.exit_code == 0, result.stderr
    assert "tensor arena" in result.stdout and "lower bound" in result.stdout and "flash" in result.stdout
