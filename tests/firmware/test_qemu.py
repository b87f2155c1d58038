"""Firmware under QEMU: the DUT protocol over -serial pty, outputs byte-identical to tflite-micro, icount timing."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edgeq.boards import load_board
from edgeq.errors import DependencyError, DeviceError, UnsupportedError, UsageError
from edgeq.firmware.banner import banner_complete, read_reply, wait_for_banner
from edgeq.firmware.qemu import Emulator, port_link, qemu_command
from tests.conftest import FIXTURES
from tests.firmware.conftest import CONV, KWS, QEMU_BOARDS, model_inputs, needs, tflm_output_bytes

serial = pytest.importorskip("serial", reason="pyserial is not installed")
pytest.importorskip("tflite_micro")

MODELS = [
    CONV,
    FIXTURES / "tflite" / "two_input_int8.tflite",  # two inputs, concatenated in the db buffer
    FIXTURES / "ops" / "float_io_conv.tflite",  # float32 input and output
    FIXTURES / "ops" / "softmax_2d.tflite",
    KWS,
]
TIMEOUT = 20.0


@pytest.fixture(autouse=True, scope="module")
def _qemu():
    needs("qemu-system-arm", "qemu-system-arm")


class Session:
    """The serial end of a running emulator."""

    def __init__(self, port: str):
        self.port = serial.Serial(port, 115200, timeout=1)

    def command(self, cmd: str) -> list[str]:
        self.port.write(f"{cmd}%".encode("ascii"))
        return read_reply(self.port, TIMEOUT)

    def load(self, data: bytes) -> None:
        assert self.command(f"db load {len(data)}") == [f"m-[Expecting {len(data)} bytes]", "m-ready"]
        for start in range(0, len(data), 31):
            reply = self.command("db " + data[start : start + 31].hex())
            assert reply == (["m-load-done"] if start + 31 >= len(data) else []) + ["m-ready"], reply

    def infer(self, n: int, warmup: int = 0) -> tuple[int, list[str]]:
        """(T1 - T0 in us, reply lines)."""
        lines = self.command(f"infer {n} {warmup}")
        laps = [int(line.removeprefix("m-lap-us-")) for line in lines if line.startswith("m-lap-us-")]
        assert len(laps) == 2 and lines[-3] == "m-infer-done", lines
        return laps[1] - laps[0], lines

    def raw(self) -> bytes:
        lines = self.command("raw")
        assert lines[-1] == "m-ready" and all(line.startswith("m-raw-[") for line in lines[:-1]), lines
        assert all(len(line) <= len("m-raw-[]") + 64 for line in lines)
        return bytes.fromhex("".join(line[len("m-raw-[") : -1] for line in lines[:-1]))


@contextlib.contextmanager
def booted(elf: Path, board: str) -> Iterator[tuple[Emulator, Session, list[str]]]:
    """A started emulator, its serial end opened before the CPU runs, and the boot banner."""
    with Emulator(elf, board, paused=True) as emu:
        session = Session(emu.port)
        try:
            emu.resume()
            yield emu, session, wait_for_banner(session.port, TIMEOUT)
        finally:
            session.port.close()


@pytest.fixture(scope="session")
def expected(firmware):
    """expected(model) -> (inputs, TFLM's raw output bytes), computed once per model."""
    cache: dict[Path, tuple[list, bytes]] = {}

    def _expected(model: Path) -> tuple[list, bytes]:
        if model not in cache:
            inputs = model_inputs(model)
            cache[model] = (inputs, tflm_output_bytes(model, inputs))
        return cache[model]

    return _expected


@pytest.mark.parametrize("board", QEMU_BOARDS)
@pytest.mark.parametrize("model", MODELS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_outputs_match_tflite_micro(firmware, expected, board, model):
    inputs, reference = expected(model)
    with booted(firmware(model, board).elf, board) as (emu, dut, banner):
        assert banner[0] == "m-timestamp-mode-performance" and banner[-2:] == ["m-init-done", "m-ready"]
        assert dut.command("name") == ["m-name-dut-[edgeq-engine]", "m-ready"]
        assert dut.command("profile") == ["m-profile-[edgeq-0.1.0]", "m-model-[net]", "m-ready"]
        assert dut.command("raw") == ["e-[No results: run infer first]", "m-ready"]
        data = b"".join(x.tobytes() for x in inputs)
        assert dut.command(f"db load {len(data) + 1}")[0].startswith("e-[Byte count")
        dut.load(data[:-1])
        assert dut.command("infer 1 0") == ["e-[Model rejected the input]", "m-ready"]
        dut.load(data)
        _, lines = dut.infer(1)
        assert lines[-2].startswith("m-results-[")
        assert dut.raw() == reference
        dut.infer(2, 3)  # warm-up and repeated runs see the same input: the firmware copies it in each time
        assert dut.raw() == reference
    assert not emu.running


@pytest.mark.parametrize("board", QEMU_BOARDS)
def test_icount_timing_is_deterministic(firmware, board):
    with booted(firmware(CONV, board).elf, board) as (_, dut, _banner):
        dut.load(b"".join(x.tobytes() for x in model_inputs(CONV)))
        once = [dut.infer(1)[0] for _ in range(3)]
        four, _ = dut.infer(4)
    assert once == [once[0]] * 3 and once[0] > 100
    assert 4 * once[0] - 4 <= four <= 4 * once[0] + 4  # each m-lap-us is floored: +-1 us per lap


def test_timestamps_count_instructions(firmware):
    """-icount shift=0: 1 ns of virtual time per instruction, so a lap in us is 1000 instructions."""
    board = "qemu-mps2-an386"
    with booted(firmware(CONV, board).elf, board) as (_, dut, banner):
        t0 = int(dut.command("timestamp")[0].removeprefix("m-lap-us-"))
        t1 = int(dut.command("timestamp")[0].removeprefix("m-lap-us-"))
    assert int(banner[1].removeprefix("m-lap-us-")) == 0 and 0 < t0 <= t1


def test_emulator_is_gone_after_an_exception(firmware):
    board = "qemu-mps2-an386"
    with pytest.raises(RuntimeError, match="boom"), Emulator(firmware(CONV, board).elf, board) as emu:
        pid = emu.proc.pid
        assert emu.running and Path(emu.port).exists()
        raise RuntimeError("boom")
    assert emu.proc.returncode is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    emu.stop()  # stopping twice is fine


def test_missing_qemu_names_the_package(firmware, monkeypatch, tmp_path):
    elf = firmware(CONV, "qemu-mps2-an386").elf
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(DependencyError, match="apt-get install qemu-system-arm"), Emulator(elf, "qemu-mps2-an386"):
        pass


def test_qemu_exiting_early_is_one_line(firmware, tmp_path):
    board = load_board("qemu-mps2-an386")
    bad = dataclasses.replace(board, qemu=dataclasses.replace(board.qemu, cpu="cortex-m99"))
    with pytest.raises(DeviceError) as err, Emulator(firmware(CONV, board.id).elf, bad):
        pass
    message = str(err.value)
    assert message == "qemu-system-arm exited with code 1: qemu-system-arm: unable to find CPU model 'cortex-m99'"
    with pytest.raises(UsageError, match="does not exist"), Emulator(tmp_path / "none.elf", board):
        pass
    emu = Emulator(firmware(CONV, board.id).elf, board)
    with emu, pytest.raises(UsageError, match="started already"):
        emu.start()
    assert not emu.running


def test_qemu_command_lines():
    cmd = qemu_command(load_board("qemu-mps3-an547"), "fw.elf")
    assert cmd[:6] == ["qemu-system-arm", "-M", "mps3-an547", "-cpu", "cortex-m55", "-icount"]
    assert cmd[6] == "shift=0,sleep=off" and cmd[-2:] == ["-kernel", "fw.elf"]
    assert cmd[cmd.index("-serial") : cmd.index("-serial") + 2] == ["-serial", "pty"] and "-S" not in cmd
    assert "-S" in qemu_command(load_board("qemu-mps2-an386"), "fw.elf", paused=True)
    with pytest.raises(UnsupportedError, match="not emulated"):
        qemu_command(load_board("nucleo-l4r5zi"), "fw.elf")


def test_port_link(tmp_path):
    link = tmp_path / "tty"
    with port_link("/dev/null", link):
        assert link.is_symlink() and os.readlink(link) == "/dev/null"
    assert not link.exists()
    link.write_text("")
    with pytest.raises(UsageError, match="not a symlink"), port_link("/dev/null", link):
        pass


class FakePort:
    def __init__(self, data: bytes, chunk: int = 5):
        self.data, self.chunk = data, chunk

    def read_until(self, expected: bytes = b"\n", size: int | None = None) -> bytes:
        """Like pyserial with a timeout: at most ``chunk`` bytes per call, stopping after ``expected``."""
        part = self.data[: self.chunk]
        end = part.find(expected)
        part = part[: end + len(expected)] if end >= 0 else part
        self.data = self.data[len(part) :]
        return part


def test_banner_helper():
    banner = b"m-timestamp-mode-performance\r\nm-lap-us-0\r\nm-init-done\r\nm-ready\r\nm-name-dut-[x]\r\n"
    port = FakePort(banner)
    assert wait_for_banner(port) == ["m-timestamp-mode-performance", "m-lap-us-0", "m-init-done", "m-ready"]
    assert port.data == b"m-name-dut-[x]\r\n"  # nothing past the banner is consumed
    assert banner_complete(["m-timestamp-mode-energy", "m-init-done", "m-ready"])
    assert not banner_complete(["m-name-dut-[x]", "m-ready"])
    assert not banner_complete(["m-init-done", "m-timestamp-mode-energy", "m-ready"])
    with pytest.raises(DeviceError, match="expected the boot banner"):
        wait_for_banner(FakePort(b"m-name-dut-[x]\r\nm-ready\r\n"))
    with pytest.raises(DeviceError, match=r"no m-ready from the board within 0.2 s \(got: m-init-done\)"):
        wait_for_banner(FakePort(b"m-init-done\r\nm-rea"), timeout=0.2)


def test_flash_runs_an_emulated_board_until_ctrl_c(engine, tmp_path):
    """edgeq flash on a QEMU board: builds if needed, prints the pty, serves it, and stops QEMU on SIGINT."""
    needs("arm-none-eabi-gcc", "gcc-arm-none-eabi libnewlib-arm-none-eabi")
    folder = tmp_path / "engine"
    shutil.copytree(engine(CONV), folder)
    link = tmp_path / "tty"
    cmd = [sys.executable, "-m", "edgeq", "flash", str(folder), "--board", "qemu-mps2-an386", "--port", str(link)]
    log = tmp_path / "stderr.txt"
    with log.open("w") as stderr:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr, text=True)
    qemu: list[int] = []
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 120)  # builds first: the engine has no image yet
        line = proc.stdout.readline() if ready else ""
        assert f"UART on {link}" in line, line + log.read_text()
        qemu = _qemu_pids(proc.pid)
        assert qemu
        with serial.Serial(str(link), 115200, timeout=1) as port:
            port.write(b"name%")
            reply = read_reply(port, TIMEOUT)
            # QEMU drops UART output while nobody has the pty open, so all, part or none of the boot banner may
            # come first: skip replies until the answer to name%, asking again (a command written while
            # the firmware was still starting can be lost)
            for _ in range(2):
                if reply and reply[0].startswith("m-name-dut-"):
                    break
                port.write(b"name%")
                reply = read_reply(port, TIMEOUT)
            assert reply == ["m-name-dut-[edgeq-engine]", "m-ready"]
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        assert proc.wait(TIMEOUT) == 0
        assert (folder / "firmware" / "qemu-mps2-an386" / "net.elf").is_file() and not link.exists()
        assert not [pid for pid in qemu if _alive(pid)]
    finally:
        for pid in [proc.pid, *qemu]:  # whatever a failed test left running
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        proc.wait(TIMEOUT)


def _alive(pid: int) -> bool:
    """``pid`` exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _qemu_pids(parent: int) -> list[int]:
    """Pids of qemu-system-arm processes started by ``parent`` (its own session, so not in its group)."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if "(qemu-system-arm)" in stat and int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                    found.append(int(entry.name))
        if found:
            return found
        time.sleep(0.05)
    return []


def test_real_board_flashers(firmware, tmp_path, monkeypatch):
    """The flasher a board names runs on the built image (converted to .bin when it needs one)."""
    from edgeq.firmware.flash import FLASHERS, flash, flash_command, flasher_for

    needs("arm-none-eabi-objcopy", "binutils-arm-none-eabi")
    image_dir = tmp_path / "image"
    image_dir.mkdir()
    (image_dir / "fw.elf").write_bytes(firmware(CONV, "qemu-mps2-an386").elf.read_bytes())
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "args.txt"
    fake = bin_dir / "bossac"
    fake.write_text(f'#!/bin/sh\necho "$PWD $@" > {log}\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    board = load_board("nano33-ble-sense")  # bossac takes a .bin
    cmd = flash(board, image_dir, port="/dev/ttyACM7")
    assert cmd[1:] == ["--port=/dev/ttyACM7", "-e", "-w", "-v", "-R", str(image_dir / "fw.bin")]
    assert log.read_text().split() == [str(image_dir), *cmd[1:]]
    assert (image_dir / "fw.bin").stat().st_size > 10_000
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(DependencyError, match="openocd is not installed .* apt-get install openocd"):
        flash(load_board("nucleo-l4r5zi"), image_dir)
    with pytest.raises(UsageError, match="no firmware image"):
        flash(board, tmp_path / "bin")
    with pytest.raises(UsageError, match="emulated"):
        flasher_for(load_board("qemu-mps2-an386"))
    esptool = flash_command(FLASHERS["esptool"], "esptool", Path("fw.bin"), "/dev/ttyUSB0")
    assert esptool == ["esptool", "--port", "/dev/ttyUSB0", "write_flash", "0x0", "fw.bin"]
    assert flash_command(FLASHERS["pyocd"], "pyocd", Path("fw.elf")) == ["pyocd", "flash", "fw.elf"]


def test_mlperf_ad01_quantizes_float_input(engine, tmp_path):
    """edgeq build --mlperf ad01: the runner's 2560 float32 bytes run like their int8 quantization (TFLM's bytes)."""
    import numpy as np

    from edgeq.firmware.build import build_firmware
    from edgeq.firmware.manifest import read_manifest
    from tests.firmware.test_mlperf_input import AD, quantize_like_reference

    needs("arm-none-eabi-gcc", "gcc-arm-none-eabi libnewlib-arm-none-eabi")
    board = "qemu-mps2-an386"
    folder = engine(AD)
    (tensor,) = read_manifest(folder).inputs
    values = np.random.default_rng(3).uniform(-80.0, 10.0, 640).astype(np.float32)
    quantized = quantize_like_reference(values, tensor.scale, tensor.zero_point)
    reference = tflm_output_bytes(AD, [quantized.reshape(1, 640)])
    elf = build_firmware(folder, board, tmp_path / "fw", mlperf="ad01").elf
    with booted(elf, board) as (_, dut, _banner):
        assert dut.command("profile") == ["m-profile-[edgeq-0.1.0]", "m-model-[ad01]", "m-ready"]
        dut.load(values.astype("<f4").tobytes())
        _, lines = dut.infer(1)
        assert lines[-2].startswith("m-results-[") and lines[-2].count(",") == 0  # one value: the MSE
        assert dut.raw() == reference


def test_mlperf_image_benchmark_takes_pixel_bytes(engine, tmp_path):
    """edgeq build --mlperf ic01|vww01: the runner's pixel bytes p run like TFLM on the int8 input p - 128."""
    import numpy as np

    from edgeq.firmware.build import build_firmware
    from tests.firmware.test_mlperf_input import IC, pixels

    needs("arm-none-eabi-gcc", "gcc-arm-none-eabi libnewlib-arm-none-eabi")
    board = "qemu-mps2-an386"
    sample = pixels(32 * 32 * 3, seed=9)
    reference = tflm_output_bytes(IC, [(sample.astype(np.int16) - 128).astype(np.int8).reshape(1, 32, 32, 3)])
    elf = build_firmware(engine(IC), board, tmp_path / "fw", mlperf="vww01").elf
    with booted(elf, board) as (_, dut, _banner):
        assert dut.command("profile") == ["m-profile-[edgeq-0.1.0]", "m-model-[vww01]", "m-ready"]
        dut.load(sample.tobytes())
        dut.infer(1)
        assert dut.raw() == reference
