"""generate --format engine --board: the same flash and RAM totals as edgeq build, or says what it leaves out."""

from __future__ import annotations

import pytest
import yaml

from edgeq.boards import BOARDS_DIR
from edgeq.codegen import generate
from edgeq.errors import UsageError
from edgeq.firmware.build import FirmwareFitError, build_firmware
from edgeq.model import read_model
from tests.conftest import run_cli
from tests.firmware.conftest import CONV, needs
from tests.firmware.test_cortexm_build import VWW, _fake_board

STACK = 8192


def test_the_check_counts_what_build_links(engine, tmp_path):
    """A 64 KiB-RAM board takes VWW's 55,552 B arena but not the firmware around it: generate refuses, like build."""
    needs("arm-none-eabi-gcc", "gcc-arm-none-eabi libnewlib-arm-none-eabi")
    board = _fake_board(tmp_path, "qemu-mps2-an386", "tiny-ram", data_size=65536)
    with pytest.raises(FirmwareFitError) as built:
        build_firmware(engine(VWW), board, tmp_path / "fw")
    firmware = built.value.result
    out = tmp_path / "vww"
    args = ("generate", str(VWW), "--format", "engine", "-o", str(out), "--name", "net", "--board", str(board))
    result = run_cli(*args)
    assert result.exit_code == 2 and not out.exists()
    error = result.stderr.strip()
    assert len(error.splitlines()) == 1 and error.startswith("error: the engine does not fit tiny-ram as firmware")
    assert f"RAM {firmware.ram_bytes:,} B needed (arena 55,552 + stack 8,192 + input buffer 27,648" in error
    assert "exceeds the 65,536 B of tiny-ram" in error and "more RAM" in error and "--force" in error
    forced = run_cli(*args, "--force", "--json")
    assert forced.exit_code == 0 and (out / "edgeq-engine.json").is_file() and "warning:" in forced.stderr
    report = forced.json()
    check = report["board_check"]
    assert check["covers"] == "firmware" and check["not_counted"] is None
    assert (check["ram_bytes"], check["flash_bytes"]) == (firmware.ram_bytes, firmware.flash_bytes)
    assert (check["ram_limit"], check["flash_limit"]) == (65536, firmware.flash_limit)
    assert report["fit_problems"] == check["problems"] and len(check["problems"]) == 1
    assert report["arena_bytes"] == 55552 and report["flash_bytes"] < firmware.flash_bytes  # the engine alone


def test_a_board_that_fits_reports_the_firmware_totals(tmp_path):
    needs("arm-none-eabi-gcc", "gcc-arm-none-eabi libnewlib-arm-none-eabi")
    report = generate(CONV, "engine", tmp_path / "e", name="net", board="qemu-mps3-an547")
    built = build_firmware(tmp_path / "e", "qemu-mps3-an547", tmp_path / "fw")
    check = report.board_check
    assert report.fit_problems == () and check["problems"] == ()
    assert (check["ram_bytes"], check["flash_bytes"]) == (built.ram_bytes, built.flash_bytes)
    assert check["flash_limit"] == 524288 and built.ram_bytes > report.arena_bytes + STACK
    text = run_cli(
        "generate",
        str(CONV),
        "--format",
        "engine",
        "-o",
        str(tmp_path / "t"),
        "--name",
        "net",
        "--board",
        "qemu-mps3-an547",
    )
    assert (
        f"qemu-mps3-an547 (firmware): flash {built.flash_bytes:,} / 524,288 B, RAM {built.ram_bytes:,}" in text.stdout
    )


def test_without_the_compiler_the_estimate_says_so(tmp_path, monkeypatch):
    board = _fake_board(tmp_path, "qemu-mps2-an386", "tiny-ram", data_size=65536)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    graph = read_model(VWW)
    ram = 55552 + STACK + sum(t.nbytes for t in graph.input_tensors) + sum(t.nbytes for t in graph.output_tensors)
    with pytest.raises(UsageError) as err:
        generate(VWW, "engine", tmp_path / "e", board=str(board))
    message = str(err.value)
    assert message.startswith("the engine does not fit tiny-ram as firmware (estimated: arm-none-eabi-gcc not found)")
    assert f"RAM {ram:,} B needed" in message and "not counted: kernel, startup and protocol code" in message
    report = generate(VWW, "engine", tmp_path / "e", board=str(board), force=True)
    assert report.board_check["covers"] == "firmware estimate" and report.board_check["ram_bytes"] == ram


def test_boards_without_edgeq_firmware_check_the_engine_alone(tmp_path):
    """edgeq build makes no firmware for an STM32 board (no memory map, no CMSDK UART): the SDK's firmware is unknown."""
    data = yaml.safe_load((BOARDS_DIR / "nucleo-l4r5zi.yaml").read_text())
    data.update(id="small-stm32", ram_bytes=40000)
    board = tmp_path / "small-stm32.yaml"
    board.write_text(yaml.safe_dump(data))
    with pytest.raises(UsageError) as err:
        generate(VWW, "engine", tmp_path / "e", board=str(board))
    message = str(err.value)
    assert message.startswith("the engine does not fit small-stm32 (the engine alone: edgeq build makes no firmware")
    assert "RAM 55,552 B needed (the arena) exceeds the 40,000 B of small-stm32 by 15,552 B" in message
    assert "not counted: the firmware's stack, the protocol's input and output buffers (27,650 B)" in message
    report = generate(CONV, "engine", tmp_path / "c", board="nucleo-l4r5zi")
    assert report.board_check["covers"] == "engine" and report.board_check["ram_bytes"] == report.arena_bytes
