"""edgeq skeleton: Arduino, ESP-IDF and Zephyr projects around a compiled engine, checked with the host compiler.

The SDKs' toolchains are not installable in CI, so each skeleton is checked as
far as the host compiler reaches:
- its files are there, and its glue is the one ``edgeq build`` firmware uses;
- every C/C++ source but the SDK's board layer compiles with ``-Wall -Wextra -Werror``
  (the sketch as C++11), and the board layers parse against stubs of the SDK calls they make;
- the portable sources, the skeleton's own entry point and a stdin/stdout board layer
  (skeleton_host.c) serve the protocol on a pty, and DutClient gets tflite-micro's bytes back.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tty
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from edgeq.boards import load_board
from edgeq.errors import UsageError
from edgeq.firmware.project import write_project
from edgeq.firmware.skeletons import KINDS, Skeleton, write_skeleton
from tests.firmware.conftest import CONV, model_inputs, tflm_output_bytes

HERE = Path(__file__).resolve().parent
STUBS = HERE / "sdk_stubs"
C_FLAGS = ("-std=c99", "-Wall", "-Wextra", "-Werror")
CXX_FLAGS = ("-std=c++11", "-Wall", "-Wextra", "-Werror")
TIMEOUT = 20.0
# The stub header each board layer is checked against, and the SDK headers it includes (made empty files).
SDK_STUBS = {
    "arduino": ("arduino.h", ("Arduino.h",)),
    "esp-idf": ("esp_idf.h", ("driver/gpio.h", "driver/uart.h", "esp_err.h", "esp_timer.h", "freertos/FreeRTOS.h")),
    "zephyr": (
        "zephyr.h",
        ("zephyr/device.h", "zephyr/devicetree.h", "zephyr/drivers/gpio.h", "zephyr/drivers/uart.h", "zephyr/kernel.h"),
    ),
}
# Build variants of each board layer: its options off and on.
SDK_VARIANTS = {
    "arduino": ((), ("-DEDGEQ_TIMESTAMP_PIN=2", "-DEDGEQ_BAUD=9600")),
    "esp-idf": ((), ("-DEDGEQ_TIMESTAMP_GPIO=4", "-DEDGEQ_UART=UART_NUM_1", "-DEDGEQ_BAUD=9600")),
    "zephyr": (("-DEDGEQ_STUB_NODE_EXISTS=0",), ("-DCONFIG_TIMER_HAS_64BIT_CYCLE_COUNTER", "-DEDGEQ_BAUD=9600")),
}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed; the skeleton tests compile with the host compiler")
    return path


def _run(args: list[str]) -> str:
    out = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, f"{' '.join(args)}\n{out.stdout}{out.stderr}"
    return out.stdout + out.stderr


@pytest.fixture(scope="module")
def skeletons(engine, tmp_path_factory) -> dict[str, Skeleton]:
    """One skeleton of each kind for the conv fixture's engine (named net)."""
    root = tmp_path_factory.mktemp("skeletons")
    return {kind: write_skeleton(engine(CONV), kind, root / f"net_{kind.replace('-', '_')}") for kind in KINDS}


@pytest.fixture(scope="module")
def objects(skeletons, tmp_path_factory):
    """objects(kind) -> the object files of every source but the board layer, compiled once per kind."""
    gcc, gxx = _tool("gcc"), _tool("g++")
    built: dict[str, list[Path]] = {}

    def _objects(kind: str) -> list[Path]:
        if kind not in built:
            sk = skeletons[kind]
            out = tmp_path_factory.mktemp(f"obj_{kind}")
            sources = [p for p in sorted(sk.folder.rglob("*")) if p.suffix in (".c", ".cpp", ".ino")]
            sources = [p for p in sources if p != sk.folder / sk.platform]

            def compile_one(src: Path) -> Path:
                obj = out / f"{src.name}.o"
                cxx = src.suffix != ".c"
                flags = [*CXX_FLAGS, "-x", "c++"] if cxx else list(C_FLAGS)
                _run([gxx if cxx else gcc, *flags, "-O1", f"-I{sk.folder / sk.src}", "-c", str(src), "-o", str(obj)])
                return obj

            with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
                built[kind] = list(pool.map(compile_one, sources))
        return built[kind]

    return _objects


@pytest.fixture(scope="module")
def expected() -> tuple[bytes, bytes]:
    """(the seeded input bytes, tflite-micro's output bytes for them)."""
    pytest.importorskip("tflite_micro")
    inputs = model_inputs(CONV)
    return b"".join(x.tobytes() for x in inputs), tflm_output_bytes(CONV, inputs)


@pytest.mark.parametrize("kind", KINDS)
def test_skeleton_files(skeletons, kind):
    sk = skeletons[kind]
    written = {str(p.relative_to(sk.folder)) for p in sk.folder.rglob("*") if p.is_file()}
    assert written == set(sk.files)
    assert {f"{sk.src}/{name}" for name in sk.sources} <= written
    assert {sk.entry, sk.platform, "README.md", f"{sk.src}/net.h", f"{sk.src}/edgeq_engine_glue.h"} <= written
    extra = {
        "arduino": {"net_arduino.ino"},
        "esp-idf": {"CMakeLists.txt", "main/CMakeLists.txt", "sdkconfig.defaults", f"{sk.src}/idf_component.yml"},
        "zephyr": {"CMakeLists.txt", "prj.conf"},
    }[kind]
    assert extra <= written
    assert not [p for p in sk.folder.parent.iterdir() if p.name.startswith(".")]  # no staging leftovers
    readme = (sk.folder / "README.md").read_text()
    assert "not installable in edgeq's CI" in readme and "host compiler" in readme
    assert {"arduino": "arduino-cli compile", "esp-idf": "idf.py", "zephyr": "west build"}[kind] in readme


def test_build_files_list_every_source(skeletons):
    idf = skeletons["esp-idf"]
    component = (idf.folder / idf.src / "CMakeLists.txt").read_text()
    assert all(f'"{name}"' in component for name in idf.sources)
    assert "edgeq_net" in (idf.folder / "main/CMakeLists.txt").read_text()
    zephyr = skeletons["zephyr"]
    cmake = (zephyr.folder / "CMakeLists.txt").read_text()
    assert all(f"src/{name}" in cmake for name in zephyr.sources) and "src/main.c" in cmake


def test_glue_is_shared_with_edgeq_build(skeletons, engine, tmp_path):
    """One glue for every firmware: the skeletons' and the Cortex-M project's are the same bytes."""
    glues = {(sk.folder / sk.src / "edgeq_engine_glue.c").read_bytes() for sk in skeletons.values()}
    project = write_project(engine(CONV), load_board("qemu-mps2-an386"), tmp_path / "cortexm")
    assert glues == {(project.folder / "edgeq_engine_glue.c").read_bytes()}
    assert "edgeq_engine_serve(0)" in (project.folder / "main.c").read_text()


@pytest.mark.parametrize("kind", KINDS)
def test_portable_sources_compile_warning_free(objects, kind):
    assert len(objects(kind)) >= 11  # engine (8), protocol, glue, entry point


@pytest.mark.parametrize("kind", KINDS)
def test_board_layer_parses_against_sdk_stubs(skeletons, kind, tmp_path):
    sk = skeletons[kind]
    stub, headers = SDK_STUBS[kind]
    for header in headers:
        (tmp_path / header).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / header).write_text("/* empty: the declarations come from the forced stub */\n")
    cxx = sk.platform.endswith(".cpp")
    compiler = [_tool("g++"), *CXX_FLAGS] if cxx else [_tool("gcc"), *C_FLAGS]
    for variant in SDK_VARIANTS[kind]:
        include = ["-include", str(STUBS / stub), f"-I{tmp_path}", f"-I{sk.folder / sk.src}"]
        _run([*compiler, *variant, *include, "-fsyntax-only", str(sk.folder / sk.platform)])


@pytest.fixture(scope="module")
def host_exe(skeletons, objects, tmp_path_factory):
    """host_exe(kind) -> the skeleton's portable objects and entry point linked with skeleton_host.c."""
    made: dict[str, Path] = {}

    def _exe(kind: str) -> Path:
        if kind not in made:
            out = tmp_path_factory.mktemp(f"exe_{kind}")
            sk = skeletons[kind]
            host = [*C_FLAGS, f"-I{sk.folder / sk.src}", *(["-DEDGEQ_HOST_APP_MAIN"] if kind == "esp-idf" else [])]
            _run([_tool("gcc"), *host, "-O1", "-c", str(HERE / "skeleton_host.c"), "-o", str(out / "host.o")])
            extra = [out / "host.o"]
            if kind == "arduino":
                shim = out / "shim.o"
                _run([_tool("g++"), *CXX_FLAGS, "-c", str(HERE / "skeleton_host_arduino.cpp"), "-o", str(shim)])
                extra.append(shim)
            linker = _tool("g++") if kind == "arduino" else _tool("gcc")
            made[kind] = out / "dut"
            _run([linker, *map(str, objects(kind) + extra), "-lm", "-o", str(made[kind])])
        return made[kind]

    return _exe


@contextlib.contextmanager
def serving(exe: Path) -> Iterator:
    """The firmware on the master side of a pty; yields a DutClient on the serial side."""
    pytest.importorskip("serial")
    from edgeq.serialdut.client import DutClient

    master, slave = os.openpty()
    tty.setraw(slave)
    client = DutClient.open(os.ttyname(slave), timeout=TIMEOUT)  # opened before the firmware boots
    os.close(slave)
    proc = subprocess.Popen([str(exe)], stdin=master, stdout=master, stderr=subprocess.PIPE)
    os.close(master)
    try:
        yield client
        client.close()  # end of input: the firmware returns from its loop and exits 0
        _, err = proc.communicate(timeout=TIMEOUT)
        assert proc.returncode == 0 and not err, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=TIMEOUT)


@pytest.mark.parametrize("kind", KINDS)
def test_skeleton_serves_the_engine(host_exe, expected, kind):
    data, reference = expected
    with serving(host_exe(kind)) as dut:
        dut.wait_ready()
        assert dut.name() == "edgeq-engine"
        profile = dut.profile()
        assert (profile.firmware, profile.model_id) == ("edgeq-0.1.0", "net")
        dut.load_input(data)
        result = dut.infer(1, 0)
        assert dut.raw() == reference
        dequantized = 0.00390625 * (np.frombuffer(reference, np.int8).astype(np.float64) + 128)
        np.testing.assert_allclose(result.results, dequantized, atol=0.0005)
        dut.infer(2, 1)  # the loaded input is copied in on every invoke: the same bytes again
        assert dut.raw() == reference


def test_errors_name_the_fix(engine, tmp_path):
    with pytest.raises(UsageError, match=r"edgeq generate MODEL --format engine -o DIR"):
        write_skeleton(tmp_path, "zephyr", tmp_path / "out")
    tflm = tmp_path / "tflm"
    tflm.mkdir()
    for name in ("main.cc", "platform.cc"):
        (tflm / name).write_text("")
    with pytest.raises(UsageError, match=r"TFLM project.*--format engine"):
        write_skeleton(tflm, "arduino", tmp_path / "sketch")
    with pytest.raises(UsageError, match=r"valid sketch name"):
        write_skeleton(engine(CONV), "arduino", tmp_path / "my sketch")
    with pytest.raises(UsageError, match=r"engine folder itself"):
        write_skeleton(engine(CONV), "zephyr", engine(CONV))
    with pytest.raises(UsageError, match=r"arduino, esp-idf, zephyr"):
        write_skeleton(engine(CONV), "mbed", tmp_path / "mbed")
    assert not (tmp_path / "out").exists() and not (tmp_path / "sketch").exists()


def test_cli(engine, tmp_path):
    from click.testing import CliRunner

    from edgeq.cli.skeleton import command

    runner = CliRunner()
    out = tmp_path / "net_zephyr"
    result = runner.invoke(command, [str(engine(CONV)), "--kind", "zephyr", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Zephyr application for the net engine" in result.output and "west build" in result.output
    result = runner.invoke(command, [str(engine(CONV)), "--kind", "esp-idf", "-o", str(tmp_path / "idf"), "--json"])
    assert result.exit_code == 0, result.output
    assert '"entry": "main/main.c"' in result.output and (tmp_path / "idf" / "main" / "main.c").is_file()
    result = runner.invoke(command, [str(tmp_path), "--kind", "arduino", "-o", str(tmp_path / "sk")])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "edgeq generate MODEL --format engine -o DIR" in result.output
