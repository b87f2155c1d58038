"""edgeq skeleton --kind px4: a PX4 module around a compiled engine, checked as far as a machine without PX4 reaches.

PX4's tree cannot be installed here, so:
- the portable half (engine + edgeq_px4_infer.c) compiles warning-free with arm-none-eabi-gcc for the
  Cortex-M7 with PX4's warning flags, and runs on QEMU's Cortex-M7 board (mps2-an500): for float
  samples (in range, out of range, ties, NaN and infinities) the quantized input matches a float32
  re-computation, the int8 outputs are byte-identical to tflite-micro's for that input, and the
  dequantized values and top-1 follow from them bit for bit;
- the PX4 half (edgeq_module.cpp) is compiled with -fsyntax-only against tests/firmware/px4_api/, declaration-only
  headers with the signatures of the PX4 API it uses, and topic/parameter headers generated here from the
  skeleton's .msg files and module.yaml. That checks syntax and the use of those signatures, not PX4.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from edgeq.boards import load_board
from edgeq.errors import UsageError
from edgeq.firmware.manifest import read_manifest
from edgeq.firmware.skeleton_px4 import C_FLAGS
from edgeq.firmware.skeletons import ALL_KINDS, KINDS, Skeleton, write_skeleton
from edgeq.outputs import OutputError
from tests.conftest import FIXTURES
from tests.firmware.conftest import CONV, KWS, needs

HERE = Path(__file__).resolve().parent
PX4_API = HERE / "px4_api"
BOARD = "qemu-mps2-an500"  # QEMU's Cortex-M7
TIMEOUT = 30.0
# PX4's compile options (cmake/px4_add_common_flags.cmake) for C on NuttX, the module's own after them.
PX4_WARNINGS = (
    *("-Wall", "-Wextra", "-Werror", "-Warray-bounds", "-Wcast-align", "-Wdisabled-optimization"),
    *("-Wdouble-promotion", "-Wfatal-errors", "-Wfloat-equal", "-Wformat-security", "-Winit-self", "-Wlogical-op"),
    *("-Wpointer-arith", "-Wshadow", "-Wuninitialized", "-Wunknown-pragmas", "-Wunused-variable"),
    *("-Wno-missing-field-initializers", "-Wno-unused-parameter", "-Wformat=1", "-Wunused-but-set-variable"),
)
PX4_C = (
    *("-std=gnu11", "-funsafe-math-optimizations", "-fno-strict-aliasing", "-fno-math-errno", "-fno-common"),
    *("-Wbad-function-cast", "-Wnested-externs", "-Wstrict-prototypes", "-Wframe-larger-than=2048"),
    *PX4_WARNINGS,
    *C_FLAGS,
)
PX4_CXX = ("-std=gnu++14", "-fno-exceptions", "-fno-rtti", "-fno-threadsafe-statics", "-Wreorder", *PX4_WARNINGS)
M7 = ("-mcpu=cortex-m7", "-mthumb", "-mfpu=fpv5-d16", "-mfloat-abi=hard")  # Pixhawk 6-class (STM32H7)
FLOAT_IO = FIXTURES / "ops" / "float_io_conv.tflite"  # float32 input and output, [1, 6, 6, 4]: no classifier
TWO_INPUTS = FIXTURES / "tflite" / "two_input_int8.tflite"
AUTOENCODER = FIXTURES / "zoo" / "ad_autoencoder" / "int8.tflite"
MSG_TYPES = {"uint64": "uint64_t", "uint32": "uint32_t", "int32": "int32_t", "uint8": "uint8_t", "float32": "float"}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path


def _run(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=cwd)


def _ok(args: list[str], cwd: Path | None = None) -> str:
    out = _run(args, cwd)
    assert out.returncode == 0, f"{' '.join(args)}\n{out.stdout}{out.stderr}"
    return out.stdout


@pytest.fixture(scope="module")
def px4(engine, tmp_path_factory) -> Skeleton:
    """The PX4 skeleton of the KWS zoo model's engine (named net): module edgeq_net."""
    return write_skeleton(engine(KWS), "px4", tmp_path_factory.mktemp("px4") / "edgeq_px4")


def test_px4_skeleton_files(px4):
    module = px4.folder / "src/modules/edgeq_net"
    written = {str(p.relative_to(px4.folder)) for p in px4.folder.rglob("*") if p.is_file()}
    assert written == set(px4.files)
    assert (px4.kind, px4.src, px4.platform) == ("px4", "src/modules/edgeq_net", f"{px4.src}/edgeq_module.cpp")
    assert px4.sources[-2:] == ("edgeq_px4_infer.c", "edgeq_module.cpp")
    for name in ("CMakeLists.txt", "Kconfig", "module.yaml", "edgeq_px4_infer.h", "edgeq_module.hpp", "net.h"):
        assert (module / name).is_file(), name
    cmake = (module / "CMakeLists.txt").read_text()
    assert "px4_add_module(" in cmake and "MAIN edgeq_net" in cmake and "MODULE_CONFIG\n\t\tmodule.yaml" in cmake
    assert "-DEDGEQ_PX4_MAIN=edgeq_net_main" in cmake and all(f"\t\t{s}\n" in cmake for s in px4.sources)
    assert "-fno-unsafe-math-optimizations;-ffp-contract=off" in cmake
    assert "menuconfig MODULES_EDGEQ_NET" in (module / "Kconfig").read_text()
    params = yaml.safe_load((module / "module.yaml").read_text())
    assert params["module_name"] == "edgeq_net"
    eq_en = params["parameters"][0]["definitions"]["EQ_EN"]
    assert (eq_en["type"], eq_en["default"]) == ("boolean", 1)
    assert "modules/edgeq_net" in (px4.folder / "src/CMakeLists.txt").read_text()
    assert "EdgeqInput.msg" in (px4.folder / "msg/CMakeLists.txt").read_text()
    assert _msg_fields(px4.folder / "msg/EdgeqInput.msg") == [("uint64_t", "timestamp", None), ("float", "values", 490)]
    assert _msg_fields(px4.folder / "msg/EdgeqOutput.msg") == [
        ("uint64_t", "timestamp", None),
        ("uint64_t", "timestamp_sample", None),
        ("float", "values", 12),
        ("int32_t", "top1", None),
        ("uint32_t", "inference_us", None),
    ]
    assert "#define EDGEQ_PX4_CLASSIFIER 1" in (module / "edgeq_px4_infer.h").read_text()
    readme = (px4.folder / "README.md").read_text()
    assert "make px4_fmu-v6x_default EXTERNAL_MODULES_LOCATION=" in readme
    assert "not built or run inside PX4" in readme and "not PX4 itself" in readme and "QEMU" in readme
    assert not [p for p in px4.folder.parent.iterdir() if p.name.startswith(".")]  # no staging leftovers


def test_px4_is_not_a_protocol_kind():
    """KINDS are the skeletons that serve the MLPerf Tiny protocol; px4 is written by the same function."""
    assert "px4" not in KINDS and (*KINDS, "px4") == ALL_KINDS


@pytest.mark.parametrize("model", [FLOAT_IO, AUTOENCODER], ids=["float-io", "autoencoder"])
def test_non_classifier_has_no_top1(engine, model, tmp_path):
    sk = write_skeleton(engine(model), "px4", tmp_path / "px4")
    header = (sk.folder / sk.src / "edgeq_px4_infer.h").read_text()
    assert "#define EDGEQ_PX4_CLASSIFIER 0" in header
    assert "-1: the model is no classifier" in (sk.folder / "msg/EdgeqOutput.msg").read_text()


def test_inputs_and_outputs_are_concatenated(engine, tmp_path):
    sk = write_skeleton(engine(TWO_INPUTS), "px4", tmp_path / "px4")
    source = (sk.folder / sk.src / "edgeq_px4_infer.c").read_text()
    assert "load_input0(input + 0);" in source and "load_input1(input + 8);" in source
    assert "#define EDGEQ_PX4_INPUT_VALUES 16u" in (sk.folder / sk.src / "edgeq_px4_infer.h").read_text()
    assert ("float", "values", 16) in _msg_fields(sk.folder / "msg/EdgeqInput.msg")


# --- the portable half, on the flight controller's core -------------------------------------------------------


@pytest.mark.parametrize(
    "model", [KWS, CONV, FLOAT_IO, TWO_INPUTS, AUTOENCODER], ids=["kws", "conv", "float-io", "two-inputs", "ad"]
)
def test_portable_c_compiles_with_px4_flags_for_m7(engine, model, tmp_path):
    gcc = _tool("arm-none-eabi-gcc")
    sk = write_skeleton(engine(model), "px4", tmp_path / "px4")
    src = sk.folder / sk.src
    for name in sk.sources[:-1]:
        _ok([gcc, *M7, "-Os", *PX4_C, "-c", str(src / name), "-o", str(tmp_path / f"{name}.o")])


def _write_samples(folder: Path, samples: np.ndarray, engine_name: str) -> None:
    """px4_samples.h: the float samples as exact C99 hex literals, and the engine's one input and output."""

    def literal(v: np.float32) -> str:
        if np.isnan(v):
            return '__builtin_nanf("")'
        if np.isinf(v):
            return "-__builtin_inff()" if v < 0 else "__builtin_inff()"
        return f"{float(v).hex()}f"

    rows = ",\n".join("    {" + ", ".join(literal(v) for v in row) + "}" for row in samples)
    macro = engine_name.upper()
    (folder / "px4_samples.h").write_text(
        f'#include "{engine_name}.h"\n'
        f"#define PX4_SAMPLES {len(samples)}u\n"
        f"#define PX4_ENGINE_INPUT {engine_name}_input(0)\n#define PX4_ENGINE_INPUT_BYTES {macro}_INPUT0_BYTES\n"
        f"#define PX4_ENGINE_OUTPUT {engine_name}_output(0)\n#define PX4_ENGINE_OUTPUT_BYTES {macro}_OUTPUT0_BYTES\n"
        f"static const float px4_samples[][EDGEQ_PX4_INPUT_VALUES] = {{\n{rows}\n}};\n"
    )


def _build_m7_firmware(engine_dir: Path, sk: Skeleton, samples: np.ndarray, out: Path) -> Path:
    """The skeleton's portable C (with PX4's flags) + the Cortex-M board layer + px4_qemu_main.c, for QEMU's M7."""
    from edgeq.firmware.project import write_project

    gcc = _tool("arm-none-eabi-gcc")
    project = write_project(engine_dir, load_board(BOARD), out / "board")
    _write_samples(out, samples, sk.engine.name)
    src = sk.folder / sk.src
    cpu = [f for f in project.cflags if f.startswith("-m")]
    jobs = [([*cpu, "-O2", *PX4_C, "-c", str(src / name)], name) for name in sk.sources[:-1]]
    board_flags = [*project.cflags, f"-I{project.folder}", f"-I{src}", f"-I{out}"]
    board_sources = [project.folder / n for n in ("edgeq_startup.c", "edgeq_cmsdk_uart.c", "edgeq_platform_cortexm.c")]
    jobs += [([*board_flags, "-c", str(path)], path.name) for path in (*board_sources, HERE / "px4_qemu_main.c")]
    objects = []
    for flags, name in jobs:
        obj = out / f"{name}.o"
        _ok([gcc, *flags, "-o", str(obj)], cwd=project.folder)
        objects.append(str(obj))
    elf = out / "px4_test.elf"
    _ok([gcc, *project.cflags, *project.ldflags, "-o", str(elf), *objects], cwd=project.folder)
    return elf


def _samples(engine_dir: Path, rng: np.random.Generator) -> np.ndarray:
    """Float samples for the engine's one input: on the grid, jittered, out of range, halfway, NaN and infinities."""
    t = read_manifest(engine_dir).inputs[0]
    scale, zp = np.float32(t.scale), int(t.zero_point)
    grid = (rng.integers(-128, 128, t.elements) - zp).astype(np.float32) * scale
    jitter = grid + rng.uniform(-0.5, 0.5, t.elements).astype(np.float32) * scale
    wide = rng.uniform(-400, 400, t.elements).astype(np.float32) * scale  # well past both ends
    halves = (rng.integers(-140, 140, t.elements) + np.float32(0.5)).astype(np.float32) * scale
    odd = jitter.copy()
    odd[:8] = [np.nan, np.inf, -np.inf, 3e38, -3e38, 1e-40, -0.0, np.nan]
    return np.stack([grid, jitter, wide, halves, odd]).astype(np.float32)


def _quantize(values: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """edgeq_px4_infer.c's quantization in numpy float32: v / scale rounded half away from zero, NaN -> 0, clamped."""
    with np.errstate(over="ignore"):  # 3e38 / scale overflows to inf, as in C
        x = values.astype(np.float32) / np.float32(scale)
    x = np.where(np.isnan(x), np.float32(0), np.clip(x, np.float32(-1048576), np.float32(1048576)))
    q = np.trunc(x).astype(np.int64)
    frac = x - q.astype(np.float32)
    q = q + (frac >= 0.5) - (frac <= -0.5)
    return np.clip(q + zero_point, -128, 127).astype(np.int8)


def _run_on_qemu(elf: Path, samples: int) -> list[dict[str, bytes]]:
    """Boot the firmware on QEMU's M7 with its UART opened first, read its report, stop this QEMU."""
    serial = pytest.importorskip("serial")
    from edgeq.firmware.qemu import Emulator

    lines: list[str] = []
    with Emulator(elf, BOARD, paused=True) as emu:
        port = serial.Serial(emu.port, 115200, timeout=1)
        try:
            emu.resume()
            deadline = time.monotonic() + TIMEOUT
            while "px4-end" not in lines and time.monotonic() < deadline:
                line = port.readline().decode("ascii", "replace").strip()
                if line:
                    lines.append(line)
        finally:
            port.close()
    assert not emu.running  # the with block stopped the QEMU it started
    assert lines[0] == "px4-begin" and lines[-1] == "px4-end", lines[-3:]
    fields = [line.split(" ", 1) for line in lines[1:-1]]
    assert all(len(f) == 2 and re.fullmatch(r"[0-9a-f]*", f[1]) for f in fields), lines
    per_sample = [dict((k, bytes.fromhex(v)) for k, v in fields[i : i + 6]) for i in range(0, 6 * samples, 6)]
    per_sample.append({fields[-1][0]: bytes.fromhex(fields[-1][1])})
    return per_sample


def test_portable_function_on_qemu_m7_matches_tflite_micro(px4, engine, rng, tmp_path):
    """edgeq_px4_infer() on QEMU's Cortex-M7: int8 outputs identical to tflite-micro's for the same quantized input."""
    needs("qemu-system-arm", "qemu-system-arm")
    pytest.importorskip("tflite_micro")
    from edgeq.targets import get_target

    engine_dir = engine(KWS)
    samples = _samples(engine_dir, rng)
    report = _run_on_qemu(_build_m7_firmware(engine_dir, px4, samples, tmp_path), len(samples))
    assert report[-1] == {"short": np.int32(-1).tobytes()}  # one value too few: EDGEQ_PX4_BAD_LENGTH
    manifest = read_manifest(engine_dir)
    t_in, t_out = manifest.inputs[0], manifest.outputs[0]
    quantized = [_quantize(s, t_in.scale, t_in.zero_point) for s in samples]
    tflm = get_target("host-tflm")
    for got, q in zip(report, quantized, strict=False):
        assert got["q"] == q.tobytes()
        assert got["status"] == np.int32(0).tobytes()
        [reference] = tflm.run(KWS.read_bytes(), [q.reshape(1, *t_in.shape)])
        assert got["raw"] == np.ascontiguousarray(reference[0]).tobytes()
        raw = np.frombuffer(got["raw"], np.int8)
        dequantized = (raw.astype(np.int32) - t_out.zero_point).astype(np.float32) * np.float32(t_out.scale)
        assert got["deq"] == dequantized.astype("<f4").tobytes()
        assert got["top1"] == np.int32(np.argmax(dequantized)).tobytes()
    assert {-128, 127} <= set(quantized[2].tolist())  # the wide sample reached both clamps


# --- the PX4 half, syntax-checked against declaration-only headers ---------------------------------------------


def _msg_fields(path: Path) -> list[tuple[str, str, int | None]]:
    """(C type, name, array length or None) of each field of a .msg file; constants and comments skipped."""
    fields = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        match = re.fullmatch(r"(\w+)(?:\[(\d+)\])?\s+(\w+)", line)
        if match:
            fields.append((MSG_TYPES[match[1]], match[3], int(match[2]) if match[2] else None))
    return fields


def _generated_headers(sk: Skeleton, out: Path) -> Path:
    """uORB topic headers from the skeleton's .msg files and px4_parameters.hpp from its module.yaml, in ``out``."""
    topics = out / "uORB" / "topics"
    topics.mkdir(parents=True)
    for msg in sorted((sk.folder / "msg").glob("*.msg")):
        topic = re.sub(r"(?<!^)(?=[A-Z])", "_", msg.stem).lower()
        members = "".join(f"    {t} {n}{f'[{k}]' if k else ''};\n" for t, n, k in _msg_fields(msg))
        (topics / f"{topic}.h").write_text(
            f"#pragma once\n#include <stdint.h>\n#include <uORB/uORB.h>\n"
            f"struct {topic}_s {{\n{members}}};\nORB_DECLARE({topic});\n"
        )
    params = yaml.safe_load((sk.folder / sk.src / "module.yaml").read_text())
    definitions = {name: d for group in params["parameters"] for name, d in group["definitions"].items()}
    kinds = {"boolean": "int32", "int32": "int32", "float": "float32"}
    kind_list = ", ".join(f"param_kind::{kinds[d['type']]}" for d in definitions.values())
    (out / "px4_parameters.hpp").write_text(
        "#pragma once\n#include <stdint.h>\nnamespace px4 {\n"
        f"enum class params : uint16_t {{ {', '.join(definitions)} }};\n"
        "enum class param_kind { int32, float32 };\n"
        f"static constexpr param_kind parameter_kinds[] = {{ {kind_list} }};\n"
        "constexpr param_kind parameter_type(params p) { return parameter_kinds[static_cast<int>(p)]; }\n}\n"
    )
    return out


def _syntax_check(compiler: str, sk: Skeleton, generated: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    defines = ['-DMODULE_NAME="edgeq_net"', "-DEDGEQ_PX4_MAIN=edgeq_net_main", *extra]
    includes = ["-include", str(PX4_API / "visibility.h"), f"-I{PX4_API}", f"-I{generated}", f"-I{sk.folder / sk.src}"]
    return _run([compiler, *PX4_CXX, *defines, *includes, "-fsyntax-only", str(sk.folder / sk.platform)])


@pytest.mark.parametrize("api", ["ModuleBase<T>", "Descriptor"])
@pytest.mark.parametrize("compiler", ["g++", "arm-none-eabi-g++"])
def test_px4_layer_parses_against_px4_api_declarations(px4, api, compiler, tmp_path):
    extra = ["-DEDGEQ_PX4_MODULE_DESCRIPTOR"] if api == "Descriptor" else []
    if compiler.startswith("arm"):
        extra += list(M7)
    out = _syntax_check(_tool(compiler), px4, _generated_headers(px4, tmp_path), *extra)
    assert out.returncode == 0, out.stderr


def test_px4_layer_check_catches_a_message_of_the_wrong_size(px4, tmp_path):
    """The module's static_assert ties the messages to the engine: an edited .msg does not compile."""
    generated = _generated_headers(px4, tmp_path)
    header = generated / "uORB/topics/edgeq_input.h"
    header.write_text(header.read_text().replace("values[490]", "values[489]"))
    out = _syntax_check(_tool("g++"), px4, generated)
    assert out.returncode != 0 and "EdgeqInput.msg values[] does not match" in out.stderr


# --- errors and the summary ---------------------------------------------------------------------------------------


def test_px4_errors_are_one_line(engine, tmp_path):
    with pytest.raises(UsageError, match=r"not an engine folder.*edgeq generate MODEL --format engine -o DIR"):
        write_skeleton(tmp_path, "px4", tmp_path / "out")
    with pytest.raises(UsageError, match=r"engine folder itself"):
        write_skeleton(engine(KWS), "px4", engine(KWS))
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OutputError, match=r"writing .* failed") as err:
        write_skeleton(engine(KWS), "px4", blocker / "px4")
    assert "\n" not in str(err.value)
    assert not (tmp_path / "out").exists()


def test_px4_summary(px4):
    from edgeq.cli.views.firmware import render_skeleton

    text = render_skeleton(px4)
    assert text.splitlines()[0].endswith(f"PX4 module for the net engine ({len(px4.files)} files)")
    assert "make px4_fmu-v6x_default EXTERNAL_MODULES_LOCATION=" in text and "edgeq_net start" in text
    assert px4.to_dict()["build"] == px4.build_command


def test_px4_cli(engine, tmp_path):
    from click.testing import CliRunner

    from edgeq.cli.skeleton import command

    kind = next(p for p in command.params if p.name == "kind")
    if "px4" not in kind.type.choices:  # type: ignore[attr-defined]
        pytest.skip("edgeq/cli/skeleton.py does not offer --kind px4 (it lists the protocol KINDS)")
    runner = CliRunner()
    result = runner.invoke(command, [str(engine(KWS)), "--kind", "px4", "-o", str(tmp_path / "px4")])
    assert result.exit_code == 0, result.output
    assert "PX4 module for the net engine" in result.output
    result = runner.invoke(command, [str(tmp_path), "--kind", "px4", "-o", str(tmp_path / "x")])
    assert result.exit_code == 2 and result.output.count("\n") == 1
