"""An emulated firmware that faults, hangs or locks up is reported as such, with the board and its last UART lines."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest

from edgeq.errors import DeviceError
from edgeq.firmware.build import build_firmware
from edgeq.model import read_model
from edgeq.serialdut.outputs import sample_shape
from edgeq.targets import get_target
from tests.firmware.conftest import CONV, needs

BOARD = "qemu-mps2-an386"
WHERE = f"the emulated firmware on {BOARD} (qemu-m4)"
BAD_READ = "if (*(volatile const unsigned *)0xF0000000u == 0x12345678u) { return 1; }"  # unmapped: a BusFault
SPIN = "for (volatile int spin = 1; spin;) { }"
BAD_STACK = '__asm volatile("mov sp, %0\\n\\tpush {r0}" : : "r"(0xF0000000u) : "memory");'  # faults while stacking


@pytest.fixture(autouse=True)
def _tools(monkeypatch):
    needs("arm-none-eabi-gcc", "gcc-arm-none-eabi libnewlib-arm-none-eabi")
    needs("qemu-system-arm", "qemu-system-arm")
    pytest.importorskip("serial")
    monkeypatch.setattr("edgeq.targets.qemu.COMMAND_S", 2.0)  # a hung firmware fails within seconds
    monkeypatch.setattr("edgeq.targets.qemu.PER_INFERENCE_S", 0.0)


def _broken_target(engine, tmp_path, code: str):
    """The qemu-m4 target serving the conv engine with ``code`` run first in each inference."""
    folder = tmp_path / "engine"
    shutil.copytree(engine(CONV), folder)
    source = folder / "net.c"
    text = source.read_text()
    assert text.count("int net_invoke(void) {") == 1
    source.write_text(text.replace("int net_invoke(void) {", "int net_invoke(void) {\n    " + code))
    built = build_firmware(folder, BOARD)
    target = get_target("qemu-m4")
    target.firmware = lambda model: built
    return target, built.elf


def _sample() -> list[np.ndarray]:
    return [np.zeros((1, *sample_shape(t)), np.int8) for t in read_model(CONV).input_tensors]


def test_a_fault_is_a_crash_with_the_fault_line(engine, tmp_path):
    target, elf = _broken_target(engine, tmp_path, BAD_READ)
    with pytest.raises(DeviceError) as err:
        target.run(CONV.read_bytes(), _sample())
    message = str(err.value)
    assert message.startswith(f"{WHERE} crashed during `infer 1 0%`: fault: HardFault pc=0x"), message
    assert "last UART lines: " in message and message.count("m-infer-start-1") == 1 and "\n" not in message
    assert "stopped answering" not in message and "/dev/pts" not in message
    pc = re.search(rf"arm-none-eabi-addr2line -f -e {re.escape(str(elf))} (0x[0-9a-f]{{8}})$", message)
    assert pc, message
    where = subprocess.run(["arm-none-eabi-addr2line", "-f", "-e", str(elf), pc[1]], capture_output=True, text=True)
    assert where.stdout.splitlines()[0] == "net_invoke"  # the pc is the bad read's
    with pytest.raises(DeviceError, match=rf"^{re.escape(WHERE)} crashed during `infer 1 0%`: fault: HardFault"):
        target.profile(CONV.read_bytes(), _sample(), runs=1, warmup=0)


def test_a_firmware_that_never_answers_has_hung(engine, tmp_path):
    target, _ = _broken_target(engine, tmp_path, SPIN)
    with pytest.raises(DeviceError) as err:
        target.run(CONV.read_bytes(), _sample())
    message = str(err.value)
    assert message.startswith(f"{WHERE} hung during `infer 1 0%`: no reply within 2 s and no fault report; "), message
    assert "last UART lines: " in message and message.endswith(
        "m-infer-start-1; run the model on host-c to check the engine"
    )


def test_a_locked_up_cpu_ends_qemu_and_is_a_crash(engine, tmp_path):
    """A fault while the core stacks a fault locks it up; QEMU then aborts."""
    target, _ = _broken_target(engine, tmp_path, BAD_STACK)
    with pytest.raises(DeviceError) as err:
        target.run(CONV.read_bytes(), _sample())
    message = str(err.value)
    assert message.startswith(f"{WHERE} crashed during `infer 1 0%`: qemu-system-arm was killed by SIGABRT"), message
    assert "CPU locks up" in message and "last UART lines: " in message and "m-infer-start-1" in message
