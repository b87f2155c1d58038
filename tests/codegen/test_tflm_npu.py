"""--format tflm --npu: TFLM projects for models compiled by Vela, their checks, and the CPU part of a mixed model.

Real Vela compiles the fixture (tests/fixtures/npu_mixed, made by scripts/make_npu_mixed_fixture.py)
once per session; the generated platform file is compiled with arm-none-eabi-gcc against a
declaration-only header of Arm's core-driver API (tests/codegen/ethosu_api), and the CPU part runs
in edgeq's engine (host-c) and in TFLM (host-tflm). Nothing runs on an NPU.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from edgeq.batch_run import run
from edgeq.boards import load_board
from edgeq.codegen.npu_split import compiled_for, cpu_part, offline_plan_bytes, stream_accelerator
from edgeq.codegen.tflm import generate_npu_project, tflm_methods
from edgeq.errors import UsageError
from edgeq.model import read_model
from tests.conftest import FIXTURES

pytest.importorskip("ethosu.vela")

MIXED = FIXTURES / "npu_mixed" / "conv_gather_int8.tflite"
API = Path(__file__).parent / "ethosu_api"
ROOT = Path(__file__).parents[2]
GATHERED = [0, 2, 3, 5, 6, 7]  # scripts/make_npu_mixed_fixture.py CHANNELS
BOARDS = {"corstone-300": "ethos-u55-128", "alif-ensemble-e7": "ethos-u55-256", "himax-we2": "ethos-u55-64"}
BOARDS["corstone-310"] = "ethos-u55-128"
BOARDS["imx93"] = "ethos-u65-256"


@pytest.fixture(scope="session")
def compiled(tmp_path_factory) -> dict[str, Path]:
    """The mixed fixture compiled by Vela for each accelerator the tests use: accelerator -> .tflite."""
    from edgeq.npu import compile_model

    root = tmp_path_factory.mktemp("vela")
    out = {}
    for accelerator in sorted(set(BOARDS.values())):
        path = root / f"mixed_{accelerator}.tflite"
        path.write_bytes(compile_model(MIXED.read_bytes(), accelerator).compiled)
        out[accelerator] = path
    return out


@pytest.fixture(scope="session")
def projects(compiled, tmp_path_factory) -> dict[str | None, tuple]:
    """One project per board (and one without --board): board -> (report, folder)."""
    root = tmp_path_factory.mktemp("npu_projects")
    out: dict[str | None, tuple] = {}
    for board, accelerator in [*BOARDS.items(), (None, "ethos-u55-128")]:
        folder = root / (board or "no_board")
        report = generate_npu_project(compiled[accelerator], folder, accelerator, name="net", board=board)
        out[board] = (report, folder)
    return out


# --- the compiled model ------------------------------------------------------------------------------------------


def test_the_accelerator_is_read_from_the_command_streams(compiled):
    for accelerator, path in compiled.items():
        assert compiled_for(read_model(path.read_bytes())) == accelerator
    assert stream_accelerator(b"COP1" + bytes(12)) is None
    assert compiled_for(read_model(MIXED.read_bytes())) is None  # no ethos-u op: nothing to read


def test_vela_keeps_gather_on_the_cpu(compiled):
    ops = [op.name for op in read_model(compiled["ethos-u55-128"].read_bytes()).operators]
    assert ops == ["ethos-u", "GATHER", "ethos-u"]


# --- the project ------------------------------------------------------------------------------------------------


def test_resolver_has_the_ethos_u_op_and_exactly_the_cpu_ops(projects):
    report, folder = projects["corstone-300"]
    ops_h = (folder / "net_ops.h").read_text()
    assert re.findall(r"resolver\.(\w+)\(\)", ops_h) == ["AddEthosU", "AddGather"]
    assert "#define NET_OP_COUNT 2" in ops_h
    assert report.resolver_methods == ("AddEthosU", "AddGather")
    assert (report.npu_ops, report.cpu_ops) == (2, ("GATHER",))


@pytest.mark.parametrize("board", sorted(BOARDS))
def test_platform_file_has_the_board_figures(projects, board):
    report, folder = projects[board]
    npu = load_board(board).npu
    text = (folder / "edgeq_npu_platform.c").read_text()
    assert f"#define EDGEQ_NPU_BASE_ADDRESS 0x{npu.base_address:08X}u" in text
    if npu.irq is None:
        assert "EDGEQ_NPU_IRQ" in report.placeholders and '#error "edgeq: define EDGEQ_NPU_IRQ,' in text
    else:
        assert f"#define EDGEQ_NPU_IRQ {npu.irq}u" in text
    if npu.irq_vector:
        assert f"#define EDGEQ_NPU_IRQ_VECTOR {npu.irq_vector}" in text
    assert f"`edgeq boards show {board}`" in text
    readme = (folder / "README.md").read_text()
    assert f"`0x{npu.base_address:08x}`" in readme and npu.accelerator in readme


def test_board_figures_for_corstone_300(projects):
    """The values themselves, as Arm's ml-embedded-evaluation-kit and TF-M's Corstone-300 startup give them."""
    report, folder = projects["corstone-300"]
    text = (folder / "edgeq_npu_platform.c").read_text()
    assert "EDGEQ_NPU_BASE_ADDRESS 0x58102000u" in text and "EDGEQ_NPU_IRQ 56u" in text
    assert "#define EDGEQ_NPU_DCACHE 1" in text  # Cortex-M55 has a data cache
    assert "ETHOS_U55_Handler" in text and report.placeholders == ()
    assert "ISRAM (SSE-300 internal SRAM)" in (folder / "edgeq_npu_platform.h").read_text()


def test_main_starts_the_npu_and_places_the_arena(projects):
    _, folder = projects["corstone-300"]
    main = (folder / "main.cc").read_text()
    assert '#include "edgeq_npu_platform.h"' in main and "edgeq_npu_init() != 0" in main
    assert main.index("edgeq_npu_init()") < main.index("AllocateTensors")
    assert "tensor_arena[NET_ARENA_BYTES] EDGEQ_NPU_ARENA_ATTRIBUTE;" in main
    assert "aligned(32)" in (folder / "edgeq_npu_platform.h").read_text()
    assert "__attribute__((aligned(16)))" in (folder / "net_model_data.cc").read_text()
    assert ".rodata.edgeq_npu_model" in (folder / "net_model_data.cc").read_text()


def test_readme_says_what_to_build_with(projects):
    _, folder = projects["corstone-300"]
    readme = (folder / "README.md").read_text()
    for needed in ("CO_PROCESSOR=ethos_u", "ethos-u-core-driver", "CMSIS", "ETHOSU_TARGET_NPU_CONFIG=ethos-u55-128"):
        assert needed in readme
    assert "must be Vela's output for the same accelerator configuration" in readme
    assert "Nothing here ran on an Ethos-U" in readme
    assert "`edgeq_npu_platform.c`" in readme and "`net_ops.h`" in readme


def test_without_a_board_each_missing_figure_is_an_error(projects):
    report, folder = projects[None]
    assert report.placeholders == (
        "EDGEQ_NPU_BASE_ADDRESS",
        "EDGEQ_NPU_IRQ",
        "EDGEQ_NPU_IRQ_VECTOR",
        "EDGEQ_NPU_DCACHE",
    )
    text = (folder / "edgeq_npu_platform.c").read_text()
    assert "TODO" not in text and text.count('#error "') == 4


def test_arena_holds_vela_plan_and_tflm_structures(projects, compiled):
    report, folder = projects["corstone-300"]
    plan = offline_plan_bytes(compiled["ethos-u55-128"].read_bytes())
    graph = read_model(compiled["ethos-u55-128"].read_bytes())
    scratch = graph.tensors[graph.operators[0].inputs[2]].nbytes  # Vela's scratch tensor
    assert plan == scratch == report.arena.planned_bytes
    assert report.arena.arena_bytes % 32 == 0 and report.arena.arena_bytes > plan + report.arena.tflm_bytes
    assert f"#define NET_ARENA_BYTES {report.arena.arena_bytes}u" in (folder / "net_arena.h").read_text()


# --- compiling the platform file -----------------------------------------------------------------------------------

needs_arm_gcc = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed")


def _compile(folder: Path, arch: str, *defines: str) -> subprocess.CompletedProcess:
    cmd = ["arm-none-eabi-gcc", f"-march={arch}", "-mthumb", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"]
    cmd += ["-O2", *defines, f"-I{API}", f"-I{folder}", "-c", str(folder / "edgeq_npu_platform.c")]
    return subprocess.run([*cmd, "-o", str(folder / "platform.o")], capture_output=True, text=True)


@needs_arm_gcc
@pytest.mark.parametrize("api", [1, 2])
@pytest.mark.parametrize("board", sorted(BOARDS))
def test_platform_file_compiles_for_the_board(projects, board, api):
    report, folder = projects[board]
    arch = load_board(board).cpu.arch
    if board == "imx93":  # the Cortex-M33 side (the board file's cpu is the Linux cores)
        arch = "armv8-m.main"
    # what the board file leaves out, given as a user would: the handler installed by the application
    # (as Himax's SDK does at run time), an IRQ number, a core without data cache
    given = {"EDGEQ_NPU_IRQ_VECTOR": "-DEDGEQ_NPU_IRQ_FROM_APP", "EDGEQ_NPU_IRQ": "-DEDGEQ_NPU_IRQ=1"}
    given["EDGEQ_NPU_DCACHE"] = "-DEDGEQ_NPU_DCACHE=0"
    extra = [given[name] for name in report.placeholders]
    assert _compile(folder, arch).returncode != 0 or not extra  # each placeholder stops the build
    done = _compile(folder, arch, f"-DEDGEQ_ETHOSU_CACHE_API={api}", *extra)
    assert done.returncode == 0, done.stderr
    symbols = subprocess.run(["arm-none-eabi-nm", str(folder / "platform.o")], capture_output=True, text=True).stdout
    assert " T edgeq_npu_init" in symbols and " U ethosu_init" in symbols and " U ethosu_irq_handler" in symbols
    has_cache = "EDGEQ_NPU_DCACHE" not in report.placeholders
    assert (" T ethosu_flush_dcache" in symbols) == has_cache
    assert (" T ethosu_invalidate_dcache" in symbols) == has_cache


@needs_arm_gcc
def test_without_a_board_the_build_stops_until_each_figure_is_given(projects):
    _, folder = projects[None]
    done = _compile(folder, "armv8.1-m.main")
    for name in ("EDGEQ_NPU_BASE_ADDRESS", "EDGEQ_NPU_IRQ,", "EDGEQ_NPU_IRQ_VECTOR", "EDGEQ_NPU_DCACHE"):
        assert f'#error "edgeq: define {name}' in done.stderr
    given = ["-DEDGEQ_NPU_BASE_ADDRESS=0x48102000u", "-DEDGEQ_NPU_IRQ=56u", "-DEDGEQ_NPU_IRQ_VECTOR=Irq56"]
    assert _compile(folder, "armv8.1-m.main", *given, "-DEDGEQ_NPU_DCACHE=1").returncode == 0


@needs_arm_gcc
def test_a_misspelt_driver_call_fails_against_the_api_header(projects, tmp_path):
    """The declaration-only header catches what the real driver header would."""
    _, folder = projects["corstone-300"]
    for good, bad in (("ethosu_irq_handler(&", "ethosu_irq_handle(&"), ("EDGEQ_NPU_PRIVILEGED) != 0", ") != 0")):
        copy = tmp_path / good[:10]
        shutil.copytree(folder, copy)
        text = (copy / "edgeq_npu_platform.c").read_text()
        (copy / "edgeq_npu_platform.c").write_text(text.replace(good, bad, 1))
        assert _compile(copy, "armv8.1-m.main").returncode != 0


@pytest.mark.skipif(shutil.which("g++") is None, reason="g++ not installed")
def test_main_and_ops_compile_against_the_tflm_api(projects, tmp_path):
    """main.cc (with the NPU start-up and the arena's section) and NAME_ops.h (AddEthosU) use TFLM's API as declared."""
    from edgeq.codegen.tflm_ops import CUSTOM_METHODS, RESOLVER_METHODS

    api = tmp_path / "api"
    shutil.copytree(Path(__file__).parent / "tflm_api", api)
    methods = sorted(set(RESOLVER_METHODS.values()) | set(CUSTOM_METHODS.values()))
    (api / "tensorflow/lite/micro/resolver_methods.inc").write_text("".join(f"EDGEQ_TEST_ADD({m})\n" for m in methods))
    _, folder = projects["corstone-300"]
    cmd = ["g++", "-std=c++11", "-Wall", "-Wextra", "-Werror", "-fsyntax-only", f"-I{api}", f"-I{folder}"]
    done = subprocess.run([*cmd, str(folder / "main.cc")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(shutil.which("clang-format") is None, reason="clang-format not installed")
def test_generated_c_is_clang_formatted(projects):
    for board in ("corstone-300", None):
        _, folder = projects[board]
        files = [
            str(folder / "edgeq_npu_platform.c"),
            str(folder / "edgeq_npu_platform.h"),
            str(API / "ethosu_driver.h"),
        ]
        style = f"--style=file:{ROOT / '.clang-format'}"
        done = subprocess.run(["clang-format", style, "--dry-run", "-Werror", *files], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


# --- checks before writing ---------------------------------------------------------------------------------------


def _error(cli, *args: str) -> str:
    result = cli("generate", *args)
    assert result.exit_code == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr
    return lines[0]


def test_checks_before_writing(cli, compiled, tmp_path):
    out = tmp_path / "out"
    model = str(compiled["ethos-u55-128"])
    line = _error(cli, str(MIXED), "--format", "tflm", "--npu", "ethos-u55-128", "-o", str(out))
    assert "has no ethos-u op; compile it first: edgeq compile" in line and "--npu ethos-u55-128" in line
    line = _error(cli, model, "--format", "tflm", "--npu", "ethos-u55-256", "-o", str(out))
    assert "compiled by Vela for ethos-u55-128, not ethos-u55-256" in line
    line = _error(cli, model, "--format", "engine", "--npu", "ethos-u55-128", "-o", str(out))
    assert "use it with --format tflm" in line
    line = _error(cli, model, "--format", "tflm", "--npu", "ethos-u55-128", "--board", "himax-we2", "-o", str(out))
    assert "board himax-we2 has an ethos-u55-64, not --npu ethos-u55-128" in line
    line = _error(cli, model, "--format", "tflm", "--npu", "ethos-u55-128", "--board", "nucleo-l4r5zi", "-o", str(out))
    assert "board nucleo-l4r5zi has no NPU" in line
    line = _error(cli, model, "--format", "tflm", "--npu", "ethos-u99-1", "-o", str(out))
    assert "is not an Ethos-U configuration" in line
    line = _error(cli, model, "--format", "tflm", "-o", str(out))
    assert "compiled by Vela for an Ethos-U NPU; generate it with --npu ethos-u55-128" in line
    assert not out.exists()


def test_cli_writes_the_project_and_its_json(cli, compiled, tmp_path):
    model = str(compiled["ethos-u55-128"])
    result = cli("generate", model, "--format", "tflm", "--npu", "ethos-u55-128", "--board", "corstone-300",
                 "-o", str(tmp_path / "p"), "--name", "net", "--json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["accelerator"] == "ethos-u55-128" and data["board"] == "corstone-300"
    assert data["resolver_methods"] == ["AddEthosU", "AddGather"] and data["placeholders"] == []
    assert (tmp_path / "p" / "edgeq_npu_platform.c").is_file()
    text = cli("generate", model, "--format", "tflm", "--npu", "ethos-u55-128", "-o", str(tmp_path / "q"))
    assert (
        "on the CPU: GATHER" in text.stdout and "stops at #error until defined: EDGEQ_NPU_BASE_ADDRESS" in text.stdout
    )


def test_plain_tflm_refuses_a_vela_model(compiled):
    with pytest.raises(UsageError, match="generate it with --npu ethos-u55-128"):
        tflm_methods(read_model(compiled["ethos-u55-128"].read_bytes(), name="m.tflite"))


# --- the CPU part ------------------------------------------------------------------------------------------------


def test_cpu_part_is_the_gather_between_the_two_npu_parts(compiled):
    part = cpu_part(compiled["ethos-u55-128"].read_bytes())
    graph = read_model(part.model)
    assert part.ops == ("GATHER",) and [op.name for op in graph.operators] == ["GATHER"]
    vela = read_model(compiled["ethos-u55-128"].read_bytes())
    first, second = vela.operators[0], vela.operators[2]
    assert part.inputs == (vela.tensors[first.outputs[0]].name,)  # what the first ethos-u op produces
    assert part.outputs[0] in {vela.tensors[t].name for t in second.inputs}  # what the second one reads
    assert graph.metadata_names == ()  # Vela's offline plan named the old tensor indices
    assert [t.shape for t in graph.input_tensors] == [(1, 8, 8, 8)]


def test_cpu_part_runs_bit_exact_in_the_engine_and_in_tflm(compiled, tmp_path):
    pytest.importorskip("tflite_micro")
    path = tmp_path / "cpu_part.tflite"
    path.write_bytes(cpu_part(compiled["ethos-u55-128"].read_bytes()).model)
    inputs = [np.random.default_rng(3).integers(-128, 128, (6, 8, 8, 8), dtype=np.int8)]
    engine = run(path, "host-c", inputs).outputs[0]
    tflm = run(path, "host-tflm", inputs).outputs[0]
    assert engine.dtype == tflm.dtype == np.int8
    assert np.array_equal(engine, tflm)
    assert np.array_equal(engine, inputs[0][..., GATHERED])  # GATHER of the chosen channels, nothing else


def test_cpu_part_refuses_models_without_one(tmp_path):
    from edgeq.npu import compile_model

    with pytest.raises(UsageError, match="has no ethos-u op; compile it first"):
        cpu_part(MIXED.read_bytes())
    all_npu = compile_model((FIXTURES / "tflite" / "conv_int8.tflite").read_bytes(), "ethos-u55-128").compiled
    with pytest.raises(UsageError, match="placed every op on the NPU"):
        cpu_part(all_npu)
