"""The C the engine generator writes reads like hand-written C: clang-format (the repository's .clang-format)
changes nothing, no line is longer than 120 characters, and every static name starts with the engine's name."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from edgeq.codegen.context import model_context
from edgeq.codegen.engine.build import build_engine
from edgeq.model import read_model

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
# conv / depthwise / FC / pool / softmax (kws), CONV_2D+ADD in place (resnet), CONCATENATION blocks,
# float I/O edges, two inputs, and a long engine name
MODELS = {
    "kws_dscnn": (FIXTURES / "zoo" / "kws_dscnn" / "int8.tflite", "net"),
    "ic_resnet8": (FIXTURES / "zoo" / "ic_resnet8" / "int8.tflite", "net"),
    "concat_conv_skip": (FIXTURES / "ops" / "concat_conv_skip.tflite", "net"),
    "float_io_softmax": (FIXTURES / "ops" / "float_io_softmax.tflite", "net"),
    "two_input_int8": (FIXTURES / "tflite" / "two_input_int8.tflite", "keyword_spotting_model_for_the_nucleo_board"),
}
LIMIT = 120


def _engine_sources(key: str) -> dict[str, str]:
    model, name = MODELS[key]
    graph = read_model(model.read_bytes())
    ctx = model_context(graph, model, name)
    files = build_engine(graph, ctx).files
    return {f: files[f] for f in (f"{ctx.ident}.c", f"{ctx.ident}.h")}  # type: ignore[misc]


@pytest.fixture(scope="module")
def clang_format() -> str:
    exe = shutil.which("clang-format")
    if exe is None:
        pytest.skip("clang-format is not installed (apt-get install clang-format; in scripts/apt-packages.txt)")
    return exe


@pytest.mark.parametrize("key", sorted(MODELS))
def test_generated_engine_is_clang_formatted(key, clang_format, tmp_path):
    shutil.copy(ROOT / ".clang-format", tmp_path / ".clang-format")
    for name, text in _engine_sources(key).items():
        path = tmp_path / name
        path.write_text(text)
        formatted = subprocess.run(
            [clang_format, "--style=file", str(path)], capture_output=True, text=True, check=True, timeout=60
        ).stdout
        if formatted != text:
            diff = [f"{a!r} -> {b!r}" for a, b in zip(text.splitlines(), formatted.splitlines()) if a != b][:5]
            pytest.fail(f"clang-format changes the generated {name} of {key}: {diff}")


@pytest.mark.parametrize("key", sorted(MODELS))
def test_generated_lines_fit_120_columns(key):
    for name, text in _engine_sources(key).items():
        long = [(n, len(line)) for n, line in enumerate(text.splitlines(), 1) if len(line) > LIMIT]
        assert long == [], f"{name} of {key}: lines over {LIMIT} characters (line, length): {long[:5]}"


def test_statics_are_named_after_the_engine():
    """Constants, parameters and tensor pointers say whose and what they are: net_op0_params, net_t12_..."""
    text = _engine_sources("kws_dscnn")["net.c"]
    statics = re.findall(r"^static (?:const )?\w+ \*?(?:const )?(\w+)", text, re.M)
    assert statics and all(name.startswith("net_") for name in statics), statics
    assert "static const eq_conv_params net_op0_params = {\n    .in_h = 49,\n" in text
    assert re.search(r"^static int8_t \*const net_t\d+\w* = \(int8_t \*\)\(net_arena \+ \d+\);$", text, re.M)
    assert "net_arena +" not in text.split("int net_invoke(void)")[1].split("void *net_input")[0]
