"""Flash of a generated engine on a Cortex-M target: text + data of its objects, by arm-none-eabi-size."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

DEFAULT_CPU = "cortex-m4"


def cortex_cpu(core: str | None) -> str:
    """A gcc -mcpu value from a board's core name (cortex-m4f -> cortex-m4); Cortex-M4 by default."""
    if not core or not core.startswith("cortex-m"):
        return DEFAULT_CPU
    return core.rstrip("f") if core.endswith("f") and not core.endswith("plusf") else core


def engine_flash(folder: Path, cpu: str = DEFAULT_CPU) -> int | None:
    """text + data bytes of every .c in ``folder`` compiled with -O2 for ``cpu``; None without the toolchain."""
    gcc, size = shutil.which("arm-none-eabi-gcc"), shutil.which("arm-none-eabi-size")
    if not gcc or not size:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        objects = []
        for source in sorted(folder.glob("*.c")):
            obj = Path(tmp) / (source.stem + ".o")
            done = subprocess.run(
                [gcc, "-std=c99", f"-mcpu={cpu}", "-mthumb", "-O2", "-c", "-o", str(obj), str(source)],
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                return None
            objects.append(str(obj))
        out = subprocess.run([size, "-t", *objects], capture_output=True, text=True, check=True).stdout
    text, data = out.strip().splitlines()[-1].split()[:2]
    return int(text) + int(data)
