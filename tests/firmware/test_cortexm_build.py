"""edgeq build: engine folder -> Cortex-M firmware project -> ELF, with flash/RAM checked against the board."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from edgeq.boards import BOARDS_DIR, load_board
from edgeq.errors import DependencyError, EdgeqError, UnsupportedError, UsageError
from edgeq.firmware.build import build_firmware, current_image
from edgeq.firmware.manifest import MANIFEST, read_manifest
from tests.conftest import FIXTURES, run_cli
from tests.firmware.conftest import CONV, QEMU_BOARDS, needs

VWW = FIXTURES / "zoo" / "vww_mobilenet" / "int8.tflite"


def _fake_board(tmp_path: Path, base: str, board_id: str, **changes) -> Path:
    """A copy of board ``base`` with some fields (and its memory map regions by role) changed, as a file."""
    data = yaml.safe_load((BOARDS_DIR / f"{base}.yaml").read_text())
    data["id"] = board_id
    for region in data["memory_map"]:
        size = changes.get(f"{region['role']}_size")
        if size is not None:
            region["size"] = size
            data["flash_bytes" if region["role"] == "code" else "ram_bytes"] = size
    path = tmp_path / f"{board_id}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("board", QEMU_BOARDS)
def test_builds_for_each_qemu_board(firmware, board):
    result = firmware(CONV, board)
    info = load_board(board)
    assert result.elf.is_file() and result.elf.name == "net.elf"
    assert result.text > 10_000 and result.bss > 8192  # code + weights; stack + arena
    assert result.flash_bytes == result.text + result.data and result.ram_bytes == result.data + result.bss
    assert (result.flash_limit, result.ram_limit) == (info.flash_bytes, info.ram_bytes)
    assert result.fits and result.rodata_region is None
    assert result.to_dict()["fits"] is True and result.to_dict()["elf"] == str(result.elf)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.text = 0  # type: ignore[misc]
    folder = result.elf.parent
    assert {"main.c", "linker.ld", "edgeq_board.h", "Makefile", "edgeq_dut.c", "engine"} <= {
        p.name for p in folder.iterdir()
    }
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no staging leftovers


def test_linker_script_and_board_header_follow_the_board(firmware):
    an386 = firmware(CONV, "qemu-mps2-an386").elf.parent
    an547 = firmware(CONV, "qemu-mps3-an547").elf.parent
    ld = (an547 / "linker.ld").read_text()
    assert "CODE (rx) : ORIGIN = 0x00000000, LENGTH = 524288" in ld
    assert "DATA (rwx) : ORIGIN = 0x21000000, LENGTH = 4194304" in ld
    assert "RODATA" not in ld
    header = (an547 / "edgeq_board.h").read_text()
    assert "#define EDGEQ_UART_BASE 0x49303000u" in header and "#define EDGEQ_SYSTICK_CLOCK_HZ 32000000u" in header
    assert "#define EDGEQ_UART_CLOCK_HZ 25000000u" in header  # the APB clock, not the 32 MHz CPU clock
    header = (an386 / "edgeq_board.h").read_text()
    assert "#define EDGEQ_UART_BASE 0x40004000u" in header and "#define EDGEQ_SYSTICK_CLOCK_HZ 25000000u" in header
    assert "DATA (rwx) : ORIGIN = 0x20000000, LENGTH = 4194304" in (an386 / "linker.ld").read_text()


def test_vector_table_at_the_code_base(firmware):
    needs("arm-none-eabi-nm", "binutils-arm-none-eabi")
    result = firmware(CONV, "qemu-mps3-an547")
    out = subprocess.run(["arm-none-eabi-nm", str(result.elf)], capture_output=True, text=True, check=True).stdout
    symbols = {line.split()[-1]: int(line.split()[0], 16) for line in out.splitlines() if len(line.split()) == 3}
    assert symbols["edgeq_vectors"] == 0
    assert symbols["__edgeq_stack_top"] == 0x21000000 + 8192  # the stack sits at the bottom of the data region


def test_makefile_builds_the_same_image(firmware, tmp_path):
    needs("make", "make")
    result = firmware(CONV, "qemu-mps2-an500")
    folder = tmp_path / "project"
    shutil.copytree(result.elf.parent, folder, ignore=shutil.ignore_patterns("build", "*.elf"))
    done = subprocess.run(["make", "-s"], cwd=folder, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    sizes = done.stdout.strip().splitlines()[-1].split()
    assert [int(v) for v in sizes[:3]] == [result.text, result.data, result.bss]
    assert "-mcpu=cortex-m7" in (folder / "Makefile").read_text()
    assert "mps2-an500" in (folder / "Makefile").read_text()


def test_manifest_describes_the_engine(engine):
    manifest = read_manifest(engine(FIXTURES / "tflite" / "two_input_int8.tflite"))
    assert manifest.name == "net" and manifest.macro == "NET"
    assert [t.shape for t in manifest.inputs] == [(1, 8), (1, 8)]
    assert [t.offset for t in manifest.inputs] == [0, 8] and manifest.input_bytes == 16
    assert manifest.outputs[0].dtype == "int8" and manifest.outputs[0].scale > 0
    assert "net.c" in manifest.sources and all(s.endswith(".c") for s in manifest.sources)


def test_does_not_fit_names_the_numbers(engine, tmp_path):
    needs("arm-none-eabi-gcc", "gcc-arm-none-eabi libnewlib-arm-none-eabi")
    board = _fake_board(tmp_path, "qemu-mps2-an386", "tiny-ram", data_size=65536)
    out = tmp_path / "fw"
    with pytest.raises(UsageError) as err:
        build_firmware(engine(VWW), board, out)
    message = str(err.value)
    assert "does not fit tiny-ram" in message and "RAM" in message and "65,536 B" in message
    assert re.search(r"RAM [\d,]+ B needed \(data [\d,]+ \+ bss [\d,]+", message) and "\n" not in message
    assert "use a board with more RAM" in message
    assert not out.exists()  # a failed build removes the folders it created
    result = run_cli("build", str(engine(VWW)), "--board", str(board), "-o", str(out))
    assert result.exit_code == 2 and "does not fit tiny-ram" in result.stderr


def test_read_only_data_moves_to_sram_when_itcm_is_full(engine, tmp_path):
    """an547 boots from a 512 KB ITCM; read-only data that does not fit goes to the 2 MB SRAM at 0x01000000."""
    needs("arm-none-eabi-gcc", "gcc-arm-none-eabi libnewlib-arm-none-eabi")
    board = _fake_board(tmp_path, "qemu-mps3-an547", "small-itcm", code_size=24576)  # the code fits, not its data
    result = build_firmware(engine(CONV), board, tmp_path / "fw")
    assert result.fits and result.rodata_region == "SRAM"
    assert result.flash_limit == 24576 + 2 * 1024 * 1024
    assert "RODATA (r) : ORIGIN = 0x01000000, LENGTH = 2097152" in (tmp_path / "fw" / "linker.ld").read_text()
    tiny = _fake_board(tmp_path, "qemu-mps2-an386", "tiny-code", code_size=4096)  # no spare region on mps2
    with pytest.raises(UsageError, match=r"flash [\d,]+ B needed .* exceeds the 4,096 B of the code region"):
        build_firmware(engine(CONV), tiny, tmp_path / "fw2")


def test_a_failed_build_keeps_the_previous_image(engine, tmp_path):
    needs("arm-none-eabi-gcc", "gcc-arm-none-eabi libnewlib-arm-none-eabi")
    folder = tmp_path / "engine"
    shutil.copytree(engine(CONV), folder)
    good = build_firmware(folder, "qemu-mps2-an386")
    assert good.elf == folder / "firmware" / "qemu-mps2-an386" / "net.elf"
    assert current_image(folder, load_board("qemu-mps2-an386")) == good.elf
    before = good.elf.read_bytes()
    with (folder / "net.c").open("a") as f:
        f.write("\nint broken(void) { return undeclared_name; }\n")
    with pytest.raises(EdgeqError) as err:
        build_firmware(folder, "qemu-mps2-an386")
    message = str(err.value)
    assert message.startswith("compiling engine/net.c for qemu-mps2-an386 failed: ") and "\n" not in message
    assert "undeclared_name" in message and "error" in message
    assert good.elf.read_bytes() == before
    assert current_image(folder, load_board("qemu-mps2-an386")) is None  # the engine changed since


def test_missing_compiler_names_the_packages(engine, monkeypatch, tmp_path):
    folder = engine(CONV)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(DependencyError, match="apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi"):
        build_firmware(folder, "qemu-mps2-an386", tmp_path / "fw")


def test_folders_that_are_no_engine(tmp_path, engine):
    tflm = tmp_path / "tflm"
    tflm.mkdir()
    for name in ("main.cc", "platform.cc", "README.md"):
        (tflm / name).write_text("")
    with pytest.raises(UsageError, match="is a TFLM project: build it with its own toolchain"):
        read_manifest(tflm)
    with pytest.raises(UsageError, match=f"has no {MANIFEST}: generate it with edgeq generate"):
        read_manifest(tmp_path)
    (tmp_path / MANIFEST).write_text('{"format": "other"}')
    with pytest.raises(UsageError, match="not a valid engine manifest"):
        read_manifest(tmp_path)
    result = run_cli("build", str(tflm), "--board", "qemu-mps2-an386")
    assert result.exit_code == 2 and "TFLM project" in result.stderr
    with pytest.raises(UnsupportedError, match="nucleo-l4r5zi has none"):
        build_firmware(engine(CONV), "nucleo-l4r5zi", tmp_path / "fw")


def test_cli_build_text_and_json(engine, tmp_path):
    needs("arm-none-eabi-gcc", "gcc-arm-none-eabi libnewlib-arm-none-eabi")
    folder = engine(CONV)
    result = run_cli("build", str(folder), "--board", "qemu-mps2-an386", "-o", str(tmp_path / "a"))
    assert result.exit_code == 0, result.stderr
    assert re.search(r"flash [\d,]+ / 4,194,304 B \(\d+\.\d %\)", result.stdout)
    assert re.search(r"text [\d,]+ B, data [\d,]+ B, bss [\d,]+ B", result.stdout)
    result = run_cli("build", str(folder), "--board", "qemu-mps3-an547", "-o", str(tmp_path / "b"), "--json")
    data = result.json()
    assert data["fits"] and data["flash_limit"] == 524288 and data["flash_bytes"] == data["text"] + data["data"]
    assert os.path.isfile(data["elf"])


def test_cli_build_mlperf_model_id(engine, tmp_path):
    """Without --mlperf a name the MLPerf Tiny runner does not know is one warning line; --mlperf ID reports ID."""
    needs("arm-none-eabi-gcc", "gcc-arm-none-eabi libnewlib-arm-none-eabi")
    folder = engine(CONV)
    result = run_cli("build", str(folder), "--board", "qemu-mps2-an386", "-o", str(tmp_path / "a"))
    assert result.exit_code == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "'net'" in warnings[0] and "--mlperf" in warnings[0]
    result = run_cli("build", str(folder), "--board", "qemu-mps2-an386", "-o", str(tmp_path / "b"), "--mlperf", "kws01")
    assert result.exit_code == 0 and "warning" not in result.stderr, result.stderr
    assert '"kws01", INPUT_BYTES' in (tmp_path / "b" / "edgeq_engine_glue.c").read_text()
    result = run_cli("build", str(folder), "--board", "qemu-mps2-an386", "--mlperf", "xx01")
    assert result.exit_code == 2 and "kws01" in result.stderr
