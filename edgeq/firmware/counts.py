"""Executed-instruction counts of emulated firmware, from edgeq's QEMU plugin (``plugin/edgeq_counts.c``).

:func:`plugin_library` builds the plugin once with the host C compiler (a
cache entry, safe under parallel use); :func:`plugin_args` gives the
``-plugin`` option that makes QEMU count every translated block's executions
per engine call, between the firmware's ``eq_op_begin`` and ``eq_op_end``
hooks; :func:`read_counts` reads what the plugin wrote when QEMU ended.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from edgeq import procs
from edgeq.cache import cache_dir, cached_folder
from edgeq.errors import DependencyError, EdgeqError
from edgeq.firmware.toolchain import tool
from edgeq.resources import package_dir

HOOKS = ("eq_op_begin", "eq_op_end")


@dataclass(frozen=True)
class BlockCounts:
    """What the plugin saw.

    Attributes:
        calls: ``eq_op_begin`` calls (kernel calls of every invoke, warm-ups included).
        blocks: block id -> the addresses of its instructions.
        counts: (bucket, block id, runs, taken): runs of a block in a bucket (-1: outside the
            engine's kernel calls; k: the k-th kernel call of an invoke) and how many of them
            ended in a taken branch.
    """

    calls: int
    blocks: dict[int, tuple[int, ...]]
    counts: tuple[tuple[int, int, int, int], ...]


def plugin_source() -> Path:
    return package_dir("edgeq.firmware", "plugin") / "edgeq_counts.c"


def plugin_library() -> Path:
    """The plugin, compiled for this machine's QEMU (cached by its source and compiler)."""
    compiler = shutil.which(os.environ.get("CC", "gcc"))
    if compiler is None:
        raise DependencyError("counting instructions needs a C compiler for the QEMU plugin (apt-get install gcc)")
    source = plugin_source()
    key = hashlib.sha256(source.read_bytes() + compiler.encode()).hexdigest()[:16]

    def build(stage: Path) -> None:
        out = stage / "edgeq_counts.so"
        cmd = [compiler, "-shared", "-fPIC", "-O2", "-fvisibility=hidden", "-o", str(out), str(source)]
        done = procs.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise EdgeqError(f"building edgeq's QEMU plugin failed: {done.stderr.strip()[:300]}")

    return cached_folder(cache_dir() / "qemu-plugin" / key, build) / "edgeq_counts.so"


def hook_addresses(elf: Path) -> dict[str, int]:
    """Addresses of the firmware's ``eq_op_begin`` and ``eq_op_end`` (Thumb bit cleared); {} without hooks."""
    done = procs.run([tool("nm"), str(elf)], capture_output=True, text=True)
    if done.returncode != 0:
        raise EdgeqError(f"arm-none-eabi-nm could not read {elf}: {done.stderr.strip()[:200]}")
    found = {}
    for line in done.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] in HOOKS:
            found[parts[2]] = int(parts[0], 16) & ~1
    return found if len(found) == len(HOOKS) else {}


def plugin_args(library: Path, elf: Path, calls: int, out: Path) -> list[str]:
    """``-plugin LIB,out=OUT,begin=..,end=..,calls=N`` for firmware with the per-op hooks."""
    hooks = hook_addresses(elf)
    if not hooks:
        raise EdgeqError(f"{elf} has no eq_op_begin/eq_op_end hooks; rebuild it for an emulated board")
    return window_args(library, out, hooks["eq_op_begin"], [hooks["eq_op_end"]], calls)


def window_args(library: Path, out: Path, begin: int, ends: list[int], calls: int = 1) -> list[str]:
    """The ``-plugin`` option counting between code addresses: a bucket starts where ``begin`` runs (the
    k-th of ``calls`` per round) and ends where one of ``ends`` (at most 8) runs."""
    if not 1 <= len(ends) <= 8:
        raise EdgeqError(f"the plugin takes 1 to 8 end addresses, not {len(ends)}")
    spec = ",".join([str(library), f"out={out}", f"begin={begin:x}", *(f"end={e:x}" for e in ends)])
    return ["-plugin", f"{spec},calls={max(calls, 1)}"]


def read_counts(path: Path) -> BlockCounts:
    """What the plugin wrote into ``path`` when QEMU exited."""
    if not path.is_file():
        raise EdgeqError(f"QEMU's instruction-count plugin wrote nothing to {path} (did QEMU end by SIGKILL?)")
    calls, blocks, counts = 0, {}, []
    for line in path.read_text().splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "calls":
            calls = int(rest)
        elif kind == "block":
            fields = rest.split()
            blocks[int(fields[0])] = tuple(int(a, 16) for a in fields[1:])
        elif kind == "count":
            bucket, block, runs, taken = map(int, rest.split())
            counts.append((bucket, block, runs, taken))
    return BlockCounts(calls, blocks, tuple(counts))


__all__ = ["BlockCounts", "hook_addresses", "plugin_args", "plugin_library", "read_counts", "window_args"]
