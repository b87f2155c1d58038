"""The emulated firmware against a misbehaving host over a real pty: it keeps answering, edgeq says what failed.

Garbage, an over-long command, an oversized ``db load``, odd hex, ``infer 0``,
and a host that disconnects mid-inference; then a client whose board goes
silent gets a timeout naming the last command, never a hang.
"""

from __future__ import annotations

import shutil
import time

import numpy as np
import pytest

from edgeq.errors import DeviceError
from tests.conftest import FIXTURES

for tool in ("qemu-system-arm", "arm-none-eabi-gcc"):
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (scripts/run setup installs it)", allow_module_level=True)

serial = pytest.importorskip("serial")
MODEL = FIXTURES / "tflite" / "conv_int8.tflite"  # 768 input bytes


@pytest.fixture(scope="module")
def board():
    """The conv model's firmware running on the emulated Cortex-M4; yields its pty."""
    from edgeq.firmware.qemu import Emulator
    from edgeq.targets.qemu import make_target

    target = make_target("qemu-m4")
    build = target.firmware(MODEL.read_bytes())
    with Emulator(build.elf, target.board) as emu:
        yield emu


def _client(emu, timeout: float = 10.0):
    from edgeq.serialdut.client import DutClient

    dut = DutClient.open(emu.port, timeout=timeout, per_inference_s=5.0)
    dut.wait_ready()
    return dut


def _drain(port) -> None:
    """Read until the board has been quiet for a moment (a boot banner may still be queued)."""
    while port.read(4096):
        pass


def _raw_exchange(port, data: bytes, until: bytes = b"m-ready\r\n", limit: float = 10.0) -> bytes:
    port.write(data)
    got, deadline = b"", time.monotonic() + limit
    while until not in got and time.monotonic() < deadline:
        got += port.read(4096)
    return got


def test_garbage_and_overlong_commands_get_errors_and_the_board_keeps_answering(board):
    with serial.Serial(board.port, 115200, timeout=0.3) as port:
        _drain(port)
        rng = np.random.default_rng(3)
        noise = bytes(rng.integers(0, 256, 300, dtype=np.uint8)).replace(b"%", b"")
        reply = _raw_exchange(port, noise + b"%")
        assert b"e-[" in reply and reply.endswith(b"m-ready\r\n")
        reply = _raw_exchange(port, b"x" * 200 + b"%")
        assert b"e-[" in reply
        assert b"m-name-dut-[" in _raw_exchange(port, b"name%")


def test_refusals_are_reported_by_edgeq_and_leave_the_board_usable(board):
    from edgeq.serialdut.link import DeviceRefusedError

    with _client(board) as dut:
        with pytest.raises(DeviceRefusedError) as refused:
            dut.command("db load 999999")
        assert "db load 999999" in str(refused.value) and "\n" not in str(refused.value)
        with pytest.raises(DeviceRefusedError, match="must be >0"):
            dut.command("infer 0 0")
        dut.command("db load 2")
        with pytest.raises(DeviceRefusedError):
            dut.command("db 123")  # odd number of hex digits
        with pytest.raises(DeviceRefusedError, match="Unknown command"):
            dut.command("selfdestruct")
        data = bytes(range(256)) * 3
        dut.load_input(data)  # a full, valid input still loads and runs afterwards
        assert len(dut.infer(1, 0).results) == 10


def test_disconnect_mid_inference_then_reconnect(board):
    with _client(board) as dut:
        dut.load_input(bytes(768))
        dut.link.send("infer 200 0")  # about 0.1 s of emulated work per inference; leave without reading
    time.sleep(0.2)
    with _client(board, timeout=60.0) as dut:  # wait_ready discards the old reply, then name% answers
        assert dut.name()
        assert len(dut.infer(1, 0).results) == 10


def test_a_board_that_stops_answering_times_out_naming_the_last_command(board):
    with _client(board) as dut:
        dut.load_input(bytes(768))
        dut.per_inference_s = 0.0
        dut.link.timeout = 0.5
        started = time.monotonic()
        with pytest.raises(DeviceError, match=r"stopped answering after `infer 100000 0%`") as silent:
            dut.infer(100000, 0)
        assert time.monotonic() - started < 5 and board.port in str(silent.value)


def test_emulator_is_stopped_after_the_module(board):
    assert board.running
