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


def _defines(header: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r"#define (NET_ARENA_\w+) (\d+)u", header)}


@pytest.mark.parametrize("model", TFLITE, ids=_id)
def test_arena_constants_are_proven_by_tflm(generated, model):
    """The host constant runs the host interpreter, whose measurement is the minimum; the target one is smaller."""
    report, _ = generated[model]
    header = (Path(report.out_dir) / "net_arena.h").read_text()
    found = _defines(header)
    target, host, measured = (
        found["NET_ARENA_TARGET_BYTES"],
        found["NET_ARENA_HOST_BYTES"],
        found["NET_ARENA_MEASURED_BYTES"],
    )
    assert target == report.arena_bytes and target % 16 == 0 and host % 16 == 0
    assert report.arena_measured_bytes < report.arena_bytes
    assert found["NET_ARENA_REFERENCE_NEED_BYTES"] < measured  # 32-bit pointers: less than the host
    assert runs_with(model, host) and runs_with(model, measured)
    assert not runs_with(model, measured - 16)  # the host measurement is the minimum
    assert found["NET_ARENA_CMSIS_NN_NEED_BYTES"] >= found["NET_ARENA_REFERENCE_NEED_BYTES"]
    assert report.arena_measured_bytes == found["NET_ARENA_CMSIS_NN_NEED_BYTES"]
    assert "tflite-micro interpreter" in header and "CMSIS-NN" in header


def _chosen_arena(compiler: list[str], out: Path, tmp_path: Path) -> int:
    """NET_ARENA_BYTES as ``compiler`` sees it: a static assertion per candidate, one compiles."""
    found = _defines((out / "net_arena.h").read_text())
    for name in ("NET_ARENA_TARGET_BYTES", "NET_ARENA_HOST_BYTES"):
        probe = tmp_path / "probe.c"
        probe.write_text(f'#include "net_arena.h"\n_Static_assert(NET_ARENA_BYTES == {name}, "");\n')
        done = subprocess.run([*compiler, "-std=c11", f"-I{out}", "-fsyntax-only", str(probe)], capture_output=True)
        if done.returncode == 0:
            return found[name]
    raise AssertionError("NET_ARENA_BYTES is neither constant")


def test_header_picks_the_constant_by_pointer_width(generated, tmp_path):
    """A 64-bit host compiler gets the host constant, a 32-bit Cortex-M compiler the target one."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    report, _ = generated[FIXTURES / "zoo" / "kws_dscnn" / "int8.tflite"]
    out = Path(report.out_dir)
    found = _defines((out / "net_arena.h").read_text())
    assert _chosen_arena(["gcc"], out, tmp_path) == found["NET_ARENA_HOST_BYTES"]
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc is not installed")
    assert _chosen_arena(["arm-none-eabi-gcc", "-mcpu=cortex-m4"], out, tmp_path) == report.arena_bytes


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
