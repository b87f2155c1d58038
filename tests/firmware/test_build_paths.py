"""edgeq build and flash from any folder: relative DIR, `.` and relative -o; failed builds leave no folder; --json."""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from edgeq.cli import main
from tests.firmware.conftest import CONV, needs
from tests.firmware.test_cortexm_build import VWW, _fake_board

BOARD = "qemu-mps2-an386"
TIMEOUT = 120.0


@pytest.fixture(autouse=True)
def _gcc():
    needs("arm-none-eabi-gcc", "gcc-arm-none-eabi libnewlib-arm-none-eabi")


@pytest.fixture
def workdir(engine, tmp_path, monkeypatch):
    """tmp_path as the current folder, holding the conv engine as eng/."""
    shutil.copytree(engine(CONV), tmp_path / "eng")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _edgeq(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main(list(args))
    except SystemExit as exc:  # a command's own error exit
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("cwd", "args", "elf"),
    [
        (".", ["eng"], "eng/firmware/qemu-mps2-an386/net.elf"),
        ("eng", ["."], "eng/firmware/qemu-mps2-an386/net.elf"),
        (".", ["eng", "-o", "fw"], "fw/net.elf"),
        ("eng", [".", "-o", "../out/fw"], "out/fw/net.elf"),
    ],
    ids=["dir", "dot", "out", "dot-out-up"],
)
def test_build_from_relative_paths(workdir, capsys, monkeypatch, cwd, args, elf):
    monkeypatch.chdir(workdir / cwd)
    code, out, err = _edgeq(capsys, "build", *args, "--board", BOARD)
    assert code == 0, err
    assert (workdir / elf).is_file()
    assert out.startswith(f"{workdir / elf}: firmware for {BOARD}")


def test_failed_builds_leave_no_folder(workdir, capsys):
    tiny = _fake_board(workdir, BOARD, "tiny-ram", data_size=12288)
    code, _, err = _edgeq(capsys, "build", "eng", "--board", str(tiny.name))
    assert code == 2 and "does not fit tiny-ram" in err and len(err.strip().splitlines()) == 1
    assert not (workdir / "eng" / "firmware").exists()
    code, _, err = _edgeq(capsys, "build", "eng", "--board", str(tiny.name), "-o", "new/deep/fw")
    assert code == 2 and not (workdir / "new").exists()
    with (workdir / "eng" / "net.c").open("a") as f:
        f.write("\nint broken(void) { return undeclared_name; }\n")
    code, _, err = _edgeq(capsys, "build", "eng", "--board", BOARD)
    assert code == 1 and err.startswith("error: compiling engine/net.c for qemu-mps2-an386 failed")
    assert not (workdir / "eng" / "firmware").exists()


def test_build_json_when_the_image_does_not_fit(engine, tmp_path, capsys):
    board = _fake_board(tmp_path, BOARD, "tiny-ram", data_size=65536)
    code, out, err = _edgeq(
        capsys, "build", str(engine(VWW)), "--board", str(board), "-o", str(tmp_path / "fw"), "--json"
    )
    assert code == 2
    report = json.loads(out)  # exactly one JSON object on stdout
    assert report["fits"] is False and report["elf"] is None
    assert report["ram_limit"] == 65536 and report["ram_bytes"] == report["data"] + report["bss"] > 65536
    assert report["flash_limit"] == 4194304 and report["flash_bytes"] == report["text"] + report["data"]
    assert err.strip() == f"error: {report['error']}" and len(err.strip().splitlines()) == 1
    assert report["error"].startswith("firmware net does not fit tiny-ram: RAM ")
    assert f"RAM {report['ram_bytes']:,} B needed" in report["error"] and "65,536 B" in report["error"]
    assert report["problems"] and report["problems"][0] in report["error"]
    assert not (tmp_path / "fw").exists()


@pytest.mark.parametrize(("cwd", "target"), [(".", "eng"), ("eng", ".")], ids=["dir", "dot"])
def test_flash_an_emulated_board_from_relative_paths(workdir, cwd, target):
    """edgeq flash builds the engine and starts QEMU from a relative folder, and stops on Ctrl-C."""
    needs("qemu-system-arm", "qemu-system-arm")
    serial = pytest.importorskip("serial")
    from edgeq.firmware.banner import read_reply

    cmd = [sys.executable, "-m", "edgeq", "flash", target, "--board", BOARD, "--port", "tty"]
    proc = subprocess.Popen(cmd, cwd=workdir / cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], TIMEOUT)  # builds first
        line = proc.stdout.readline() if ready else ""
        if "UART on tty" not in line:
            proc.kill()
            pytest.fail(f"edgeq flash did not start: {line}{proc.communicate(timeout=TIMEOUT)[1]}")
        with serial.Serial(str(workdir / cwd / "tty"), 115200, timeout=1) as port:
            port.write(b"name%")
            reply = read_reply(port, 20.0)
            if not reply[0].startswith("m-name-dut-"):  # what was left of the boot banner came first
                reply = read_reply(port, 20.0)
            assert reply == ["m-name-dut-[edgeq-engine]", "m-ready"]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(TIMEOUT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(TIMEOUT)
    assert (workdir / "eng" / "firmware" / BOARD / "net.elf").is_file()


def test_flash_a_real_board_from_a_relative_folder(firmware, tmp_path, monkeypatch, capsys):
    """The flasher runs in the image's folder, so it must get the image's absolute path."""
    needs("arm-none-eabi-objcopy", "binutils-arm-none-eabi")
    (tmp_path / "image").mkdir()
    shutil.copy(firmware(CONV, BOARD).elf, tmp_path / "image" / "fw.elf")
    log = tmp_path / "args.txt"
    fake = tmp_path / "bin" / "bossac"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "$PWD $@" > {log}\ntest -f "$6"\n')  # $6: the image (after --port, -e -w -v -R)
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.chdir(tmp_path)
    code, out, err = _edgeq(capsys, "flash", "image", "--board", "nano33-ble-sense", "--port", "/dev/ttyACM7")
    assert code == 0, err
    cwd, *args = log.read_text().split()
    assert Path(cwd) == tmp_path / "image" and args[-1] == str(tmp_path / "image" / "fw.bin")
    assert out.startswith("flashed nano33-ble-sense with: ")
