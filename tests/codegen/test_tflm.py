"""--format tflm: the op resolver, the arena proven with the real tflite-micro interpreter, the sources."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from edgeq.codegen import generate
from edgeq.codegen.arena import runs_with
from edgeq.codegen.tflm_ops import resolver_methods
from edgeq.errors import UnsupportedError
from edgeq.model import read_model
from tests.conftest import FIXTURES, repack

pytest.importorskip("tflite_micro")

TFLITE = sorted((FIXTURES / "tflite").glob("*.tflite")) + sorted((FIXTURES / "zoo").glob("*/int8.tflite"))


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Every fixture and zoo model generated once as a TFLM folder."""
    root = tmp_path_factory.mktemp("tflm")
    return {model: (generate(model, "tflm", root / _id(model).replace("/", "_"), name="net"), root) for model in TFLITE}


@pytest.mark.parametrize("model", TFLITE, ids=_id)
def test_arena_constant_is_proven_by_tflm(generated, model):
    """TFLM allocates and invokes with exactly the arena written, and fails with 10 % less."""
    report, _ = generated[model]
    header = (Path(report.out_dir) / "net_arena.h").read_text()
    arena = int(re.search(r"#define NET_ARENA_BYTES (\d+)u", header).group(1))
    assert arena == report.arena_bytes and arena % 16 == 0
    assert runs_with(model, arena)
    assert not runs_with(model, int(arena * 0.9))
    assert not runs_with(model, report.arena_measured_bytes - 16)  # the measurement is the minimum
    assert "tflite-micro interpreter" in header


@pytest.mark.parametrize("model", TFLITE, ids=_id)
def test_resolver_has_exactly_the_models_ops(generated, model):
    report, _ = generated[model]
    ops_h = (Path(report.out_dir) / "net_ops.h").read_text()
    graph = read_model(model)
    expected = resolver_methods((op.builtin, op.custom_code) for op in graph.operators)
    called = re.findall(r"resolver\.(Add\w+)\(\)", ops_h)
    assert called == expected and len(set(called)) == len(called)
    assert f"#define NET_OP_COUNT {len(expected)}" in ops_h
    assert "tflite::MicroMutableOpResolver<NET_OP_COUNT>" in ops_h


def test_folder_contents_and_readme(generated):
    report, _ = generated[FIXTURES / "zoo" / "kws_dscnn" / "int8.tflite"]
    out = Path(report.out_dir)
    assert set(report.files) == {
        "README.md",
        "main.cc",
        "platform.cc",
        "edgeq_dut.c",
        "edgeq_dut.h",
        "edgeq_platform.h",
        "net_arena.h",
        "net_model_data.h",
        "net_model_data.cc",
        "net_ops.h",
    }
    assert all((out / f).is_file() for f in report.files)
    readme = (out / "README.md").read_text()
    assert f"{report.arena_bytes:,} bytes" in readme and f"{report.flash_bytes:,} bytes" in readme
    for platform in ("Arduino", "ESP-IDF", "Zephyr", "Makefile"):
        assert platform in readme
    main = (out / "main.cc").read_text()
    assert "net_op_resolver()" in main and "NET_ARENA_BYTES" in main and "edgeq_dut_init" in main
    assert "#define NET_RESULTS_ARE_MSE 0" in main


def test_autoencoder_reports_mse(generated):
    report, _ = generated[FIXTURES / "zoo" / "ad_autoencoder" / "int8.tflite"]
    assert "#define NET_RESULTS_ARE_MSE 1" in (Path(report.out_dir) / "main.cc").read_text()


def test_platform_layer_compiles_on_the_host(generated, tmp_path):
    gxx = shutil.which("g++")
    if gxx is None:
        pytest.skip("g++ is not installed")
    report, _ = generated[FIXTURES / "tflite" / "conv_int8.tflite"]
    out = Path(report.out_dir)
    for source, compiler, std in ((out / "platform.cc", gxx, "-std=c++11"), (out / "edgeq_dut.c", "gcc", "-std=c99")):
        subprocess.run(
            [
                compiler,
                std,
                "-Wall",
                "-Wextra",
                "-Werror",
                "-c",
                "-o",
                str(tmp_path / (source.name + ".o")),
                str(source),
            ],
            check=True,
            capture_output=True,
            text=True,
        )


def test_op_missing_from_tflm_is_an_error_and_writes_nothing(tmp_path):
    source = FIXTURES / "tflite" / "conv_int8.tflite"

    def unsupported(model):
        model.operatorCodes[0].builtinCode = 52  # BIDIRECTIONAL_SEQUENCE_LSTM
        model.operatorCodes[0].deprecatedBuiltinCode = 52

    bad = tmp_path / "bad.tflite"
    bad.write_bytes(repack(source.read_bytes(), unsupported))
    with pytest.raises(UnsupportedError, match="BIDIRECTIONAL_SEQUENCE_LSTM"):
        generate(bad, "tflm", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_main_and_ops_compile_against_the_tflm_api(generated, tmp_path):
    """main.cc and NAME_ops.h use TFLM's API as declared (member, method and type names)."""
    from edgeq.codegen.tflm_ops import CUSTOM_METHODS, RESOLVER_METHODS

    gxx = shutil.which("g++")
    if gxx is None:
        pytest.skip("g++ is not installed")
    api = tmp_path / "api"
    shutil.copytree(Path(__file__).parent / "tflm_api", api)
    methods = sorted(set(RESOLVER_METHODS.values()) | set(CUSTOM_METHODS.values()))
    (api / "tensorflow/lite/micro/resolver_methods.inc").write_text("".join(f"EDGEQ_TEST_ADD({m})\n" for m in methods))
    for model in (FIXTURES / "zoo" / "kws_dscnn" / "int8.tflite", FIXTURES / "zoo" / "ad_autoencoder" / "int8.tflite"):
        out = Path(generated[model][0].out_dir)
        done = subprocess.run(
            [
                gxx,
                "-std=c++11",
                "-Wall",
                "-Wextra",
                "-Werror",
                "-fsyntax-only",
                f"-I{api}",
                f"-I{out}",
                str(out / "main.cc"),
            ],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
