"""A model onto one physical board of a farm: engine, firmware, and the board's flasher aimed at that board.

Several boards of one kind on a host share a flasher that would otherwise
pick the first probe it finds, so the probe's USB serial number (from the
agent's discovery or farm.yaml) selects the board for the flashers that take
one; esptool and bossac take the board's serial port instead.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from edgeq import procs
from edgeq.codegen import generate
from edgeq.errors import DeviceError
from edgeq.farm.devices import Device

# flasher -> (where the selection goes, its arguments); {serial} is the probe's USB serial number
PROBE_SELECT = {
    "pyocd": ("suffix", ("--uid", "{serial}")),
    "st-flash": ("prefix", ("--serial", "{serial}")),
    "openocd": ("prefix", ("-c", "adapter serial {serial}")),
    "nrfjprog": ("suffix", ("--snr", "{serial}")),
    "picotool": ("suffix", ("--ser", "{serial}")),
    "commander": ("suffix", ("--serialno", "{serial}")),
}
TIMEOUT_S = 600.0


def flash_model(model: bytes, device: Device) -> None:
    """Generate the engine for ``model``, build it for the device's board and flash that board.

    DeviceError when the flasher fails (the board is then marked unhealthy by the job).
    """
    from edgeq.boards import load_board
    from edgeq.firmware.build import build_firmware

    if device.board is None:
        raise DeviceError(f"{device.key} has no board id; name it in farm.yaml")
    board = load_board(device.board)
    with tempfile.TemporaryDirectory(prefix="edgeq-farm-") as tmp:
        folder = Path(tmp)
        (folder / "model.tflite").write_bytes(model)
        generate(folder / "model.tflite", "engine", folder / "engine", name="net")
        build = build_firmware(folder / "engine", board, folder / "firmware")
        _flash(board, build.elf.parent, device)


def flash_command(flasher: str, base: list[str], device: Device) -> list[str]:
    """``base`` (the flasher's command) with the arguments that select ``device``'s probe added."""
    where, args = PROBE_SELECT.get(flasher, ("", ()))
    if not args or not device.serial_number:
        return base
    extra = [a.format(serial=device.serial_number) for a in args]
    return [base[0], *extra, *base[1:]] if where == "prefix" else [*base, *extra]


def _flash(board, image_dir: Path, device: Device) -> None:
    from edgeq.firmware.flash import convert, find_image, flasher_for
    from edgeq.firmware.flash import flash_command as base_command

    flasher, executable = flasher_for(board)
    image = convert(find_image(image_dir.resolve(), flasher.image), flasher.image)
    cmd = flash_command(board.flasher, base_command(flasher, executable, image, device.port), device)
    try:
        done = procs.run(cmd, cwd=image.parent, timeout=TIMEOUT_S, capture_output=True)
    except subprocess.TimeoutExpired:
        raise DeviceError(
            f"{Path(executable).name} did not finish flashing {device.where} in {TIMEOUT_S:g} s"
        ) from None
    if done.returncode != 0:
        raise DeviceError(f"{Path(executable).name} failed (exit {done.returncode}) flashing {device.where}")
