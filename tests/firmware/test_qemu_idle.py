"""An idle firmware sleeps until the UART's receive interrupt; boards without one poll.

QEMU emulates a busy-polling firmware at full speed (most of a host core for
as long as the board waits for the host); a firmware that sleeps in WFI with
no timer running leaves QEMU's CPU thread asleep until a byte arrives. These
tests read the host CPU time of the QEMU process from /proc while the board
waits, then check that the protocol still answers.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import pytest

from edgeq.boards import load_board
from edgeq.firmware.banner import read_reply
from tests.firmware.conftest import CONV, QEMU_BOARDS, needs
from tests.firmware.test_qemu import TIMEOUT, booted

pytest.importorskip("serial", reason="pyserial is not installed")

IDLE_SECONDS = 1.5
MAX_IDLE_CPU = 0.20  # fraction of one host core; a polling firmware keeps QEMU far above it


@pytest.fixture(autouse=True, scope="module")
def _qemu():
    needs("qemu-system-arm", "qemu-system-arm")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle_cpu(pid: int, seconds: float = IDLE_SECONDS) -> float:
    """The fraction of one core process ``pid`` used over ``seconds`` of wall time."""
    before, start = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(pid) - before) / (time.monotonic() - start)


@pytest.mark.parametrize("board", QEMU_BOARDS)
def test_idle_firmware_lets_qemu_sleep(firmware, board):
    elf = firmware(CONV, board).elf
    header = (elf.parent / "edgeq_board.h").read_text()
    assert "#define EDGEQ_UART_RX_IRQ" in header
    with booted(elf, board) as (emu, dut, _banner):
        used = idle_cpu(emu.proc.pid)
        assert used < MAX_IDLE_CPU, f"idle QEMU used {used:.0%} of a core"
        # a byte wakes it: every command still answers, and time runs again after the wait
        assert dut.command("name") == ["m-name-dut-[edgeq-engine]", "m-ready"]
        first = int(dut.command("timestamp")[0].removeprefix("m-lap-us-"))
        time.sleep(0.3)
        second = int(dut.command("timestamp")[0].removeprefix("m-lap-us-"))
        assert 0 < first < second < first + 10_000  # SysTick is paused while asleep: waits do not count


def test_board_without_rx_interrupt_polls(tmp_path):
    """A board file without a known receive interrupt gets a polling firmware that works the same."""
    needs("arm-none-eabi-gcc", "gcc-arm-none-eabi libnewlib-arm-none-eabi")
    from edgeq.codegen import generate
    from edgeq.firmware.build import build_firmware

    emulated = load_board("qemu-mps2-an386")
    real = dataclasses.replace(emulated, id="cmsdk-board", kind="mcu", qemu=None, flasher="openocd")
    generate(CONV, "engine", tmp_path / "engine", name="net")
    elf = build_firmware(tmp_path / "engine", real, tmp_path / "fw").elf
    header = (tmp_path / "fw" / "edgeq_board.h").read_text()
    assert "EDGEQ_UART_RX_IRQ" in header and "#define EDGEQ_UART_RX_IRQ" not in header
    with booted(elf, emulated.id) as (_emu, dut, banner):  # the same memory map and UART as the an386
        assert banner[-2:] == ["m-init-done", "m-ready"]
        dut.port.write(b"name%")
        assert read_reply(dut.port, TIMEOUT) == ["m-name-dut-[edgeq-engine]", "m-ready"]
