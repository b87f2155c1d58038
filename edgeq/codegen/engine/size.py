"""Flash of a generated engine on a Cortex-M target: text + data of its objects, by arm-none-eabi-size."""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from pathlib import Path

from edgeq import procs

DEFAULT_CPU = "cortex-m4"


def cortex_cpu(core: str | None) -> str:
    """A gcc -mcpu value from a board's core name (cortex-m4f -> cortex-m4); Cortex-M4 by default."""
    if not core or not core.startswith("cortex-m"):
        return DEFAULT_CPU
    return core.rstrip("f") if core.endswith("f") and not core.endswith("plusf") else core


def engine_flash(folder: Path, cpu: str = DEFAULT_CPU) -> int | None:
    """text + data bytes of every .c in ``folder`` compiled with -O2 for ``cpu``; None without the toolchain.

    Each object's size is remembered for this process by its source and the headers it includes, so
    generating several engines recompiles only what differs (the kernels are the same files).
    """
    gcc, size = shutil.which("arm-none-eabi-gcc"), shutil.which("arm-none-eabi-size")
    if not gcc or not size:
        return None
    total = 0
    with tempfile.TemporaryDirectory() as tmp:
        for source in sorted(folder.glob("*.c")):
            key = (gcc, cpu, _digest(source))
            if key not in _OBJECT_BYTES:
                obj = Path(tmp) / (source.stem + ".o")
                done = procs.run(
                    [gcc, "-std=c99", f"-mcpu={cpu}", "-mthumb", "-O2", "-c", "-o", str(obj), str(source)],
                    capture_output=True,
                    text=True,
                )
                if done.returncode != 0:
                    return None
                _OBJECT_BYTES[key] = _text_data(size, obj)
            total += _OBJECT_BYTES[key]
    return total


_OBJECT_BYTES: dict[tuple[str, str, str], int] = {}  # (compiler, cpu, source digest) -> text + data


def _digest(source: Path) -> str:
    """SHA-256 of a source and of the headers of its folder it includes with ``#include "..."``."""
    text = source.read_bytes()
    digest = hashlib.sha256(text)
    for name in re.findall(rb'^\s*#\s*include\s+"([^"]+)"', text, re.MULTILINE):
        header = source.parent / name.decode(errors="replace")
        digest.update(name + (header.read_bytes() if header.is_file() else b""))
    return digest.hexdigest()


def _text_data(size: str, obj: Path) -> int:
    out = procs.run([size, str(obj)], capture_output=True, text=True, check=True).stdout
    text, data = out.strip().splitlines()[-1].split()[:2]
    return int(text) + int(data)
