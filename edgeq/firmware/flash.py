"""Put a firmware image on a real board with the flasher its board file names.

One row per flasher: the tool, its arguments, the image format it takes and
how to install it. An ELF converts to .bin or .hex with arm-none-eabi-objcopy
when the flasher needs one. Emulated boards are not flashed: ``edgeq flash``
starts them in QEMU (:mod:`edgeq.firmware.qemu`).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from edgeq import procs
from edgeq.boards import Board
from edgeq.errors import DependencyError, DeviceError, UsageError
from edgeq.firmware.toolchain import tool
from edgeq.log import logger

IMAGE_SUFFIXES = (".elf", ".hex", ".bin", ".uf2")
TIMEOUT = 600.0


@dataclass(frozen=True)
class Flasher:
    """How to run one flasher: ``{image}`` and ``{port}`` in the arguments are filled in."""

    tools: tuple[str, ...]  # executable names to try, in order
    args: tuple[str, ...]
    image: str  # suffix of the image it takes
    install: str
    port_args: tuple[str, ...] = ()  # put first when a port is given; empty: the tool finds the probe itself


FLASHERS = {
    "pyocd": Flasher(("pyocd",), ("flash", "{image}"), ".elf", "pip install pyocd"),
    # openocd reads openocd.cfg (interface and target) from the image's folder.
    "openocd": Flasher(("openocd",), ("-c", "program {image} verify reset exit"), ".elf", "apt-get install openocd"),
    "st-flash": Flasher(
        ("st-flash",), ("--reset", "write", "{image}", "0x08000000"), ".bin", "apt-get install stlink-tools"
    ),
    "esptool": Flasher(
        ("esptool", "esptool.py"),
        ("write_flash", "0x0", "{image}"),
        ".bin",
        "pip install esptool",
        ("--port", "{port}"),
    ),
    "picotool": Flasher(("picotool",), ("load", "-x", "{image}"), ".elf", "apt-get install picotool"),
    "nrfjprog": Flasher(
        ("nrfjprog",),
        ("--program", "{image}", "--sectorerase", "--verify", "--reset"),
        ".hex",
        "the nRF Command Line Tools from nordicsemi.com",
    ),
    "commander": Flasher(("commander",), ("flash", "{image}"), ".hex", "Simplicity Commander from silabs.com"),
    "bossac": Flasher(
        ("bossac",), ("-e", "-w", "-v", "-R", "{image}"), ".bin", "apt-get install bossa-cli", ("--port={port}",)
    ),
}


def find_image(path: Path, suffix: str) -> Path:
    """The image to flash: ``path`` itself, or the one image in folder ``path`` (or its build/ folder).

    An image in the flasher's format wins; otherwise an ELF (converted later).
    """
    if path.is_file():
        return path
    if not path.is_dir():
        raise UsageError(f"{path} does not exist; pass a firmware image or the folder holding one")
    found = [p for folder in (path, path / "build") for p in sorted(folder.glob("*")) if p.suffix in IMAGE_SUFFIXES]
    for wanted in (suffix, ".elf"):
        matches = [p for p in found if p.suffix == wanted]
        if len(matches) > 1:
            raise UsageError(f"{path} holds several {wanted} images ({', '.join(p.name for p in matches)}); pass one")
        if matches:
            return matches[0]
    raise UsageError(
        f"no firmware image ({', '.join(IMAGE_SUFFIXES)}) in {path}: build the project first "
        "(edgeq build for QEMU boards; a TFLM project with its own toolchain, see its README.md)"
    )


def convert(image: Path, suffix: str) -> Path:
    """``image`` as ``suffix`` (.bin or .hex) beside it, made from an ELF with arm-none-eabi-objcopy."""
    if image.suffix == suffix:
        return image
    formats = {".bin": "binary", ".hex": "ihex"}
    if image.suffix != ".elf" or suffix not in formats:
        raise UsageError(f"the flasher needs a {suffix} image and cannot use {image.name}; build a {suffix} file")
    out = image.with_suffix(suffix)
    procs.run([tool("objcopy"), "-O", formats[suffix], str(image), str(out)], check=True, timeout=TIMEOUT)
    return out


def flasher_for(board: Board) -> tuple[Flasher, str]:
    """The board's flasher and the path of its executable.

    Raises:
        UsageError: an emulated board, or a board edgeq does not program.
        DependencyError: the flasher is not installed (the message says how to install it).
    """
    if board.flasher == "qemu":
        raise UsageError(f"{board.id} is emulated: edgeq flash starts it in QEMU instead of flashing it")
    flasher = FLASHERS.get(board.flasher)
    if flasher is None:
        raise UsageError(f"{board.id} has no flasher (flasher: {board.flasher}); it is not programmed by edgeq")
    found = next((path for path in map(shutil.which, flasher.tools) if path), None)
    if found is None:
        raise DependencyError(
            f"{flasher.tools[0]} is not installed (the flasher of {board.id}); install it with: {flasher.install}"
        )
    return flasher, found


def flash_command(flasher: Flasher, executable: str, image: Path, port: str | None = None) -> list[str]:
    """The command line that writes ``image`` with ``flasher`` (port arguments first when ``port`` is given)."""
    fill = {"image": str(image), "port": port or ""}
    prefix = [a.format(**fill) for a in flasher.port_args] if port else []
    return [executable, *prefix, *(a.format(**fill) for a in flasher.args)]


def flash(board: Board, path: Path, port: str | None = None) -> list[str]:
    """Flash the image at ``path`` (a file, or a folder holding one) onto ``board``; returns the command run.

    The flasher runs in the image's folder (openocd finds openocd.cfg there); its output goes to the terminal.

    Raises:
        UsageError, DependencyError: see :func:`flasher_for` and :func:`find_image`.
        DeviceError: the flasher failed or hung.
    """
    flasher, executable = flasher_for(board)
    if port and not flasher.port_args:
        logger.warning("warning: %s finds the board itself; --port %s is not used", flasher.tools[0], port)
    image = convert(find_image(Path(path).resolve(), flasher.image), flasher.image)  # the flasher runs in its folder
    cmd = flash_command(flasher, executable, image, port)
    name = Path(executable).name
    try:
        done = procs.run(cmd, cwd=image.parent, timeout=TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise DeviceError(f"{name} did not finish flashing {board.id} within {TIMEOUT:g} s") from exc
    if done.returncode != 0:
        raise DeviceError(f"{name} failed with exit code {done.returncode} flashing {image.name} onto {board.id}")
    return cmd
