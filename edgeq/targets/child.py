"""Child processes that time invokes, and the peak resident memory they report about themselves.

Peak RSS comes from ``VmHWM`` in ``/proc/self/status``, read by the child at the
end of its run: the kernel's ``wait4`` figure would also count the parent's
memory at fork time.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

from edgeq import procs
from edgeq.errors import EdgeqError


def peak_rss_bytes(status: str | None = None) -> int | None:
    """Peak resident memory of this process (``VmHWM``), None where /proc is missing."""
    if status is None:
        try:
            status = Path("/proc/self/status").read_text()
        except OSError:
            return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return None


def run_child(cmd: list[str], stdin: bytes = b"", timeout: float = 3600.0, what: str = "the runner"):
    """Run ``cmd``; a non-zero exit or a timeout is an EdgeqError naming ``what``."""
    try:
        done = procs.run(cmd, input=stdin, capture_output=True, timeout=timeout)
    except procs.TimeoutExpired:
        raise EdgeqError(f"{what} did not finish within {timeout:g} s; try fewer --runs") from None
    if done.returncode != 0:
        how = procs.signal_name(done.returncode)
        status = f"crashed ({how})" if how else f"failed (exit {done.returncode})"
        tail = "; ".join(done.stderr.decode(errors="replace").strip().splitlines()[-2:])
        raise EdgeqError(f"{what} {status}{': ' + tail if tail else ''}")
    return done


def time_in_child(runtime: str, model: bytes, sample: list, runs: int, warmup: int, arg: int, what: str):
    """Time ``runs`` invokes of ``model`` in :mod:`edgeq.targets.profile_worker`; returns (ms array, peak RSS)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "model.tflite").write_bytes(model)
        np.savez(folder / "in.npz", *sample)
        cmd = [sys.executable, "-m", "edgeq.targets.profile_worker", runtime, tmp, str(runs), str(warmup), str(arg)]
        run_child(cmd, what=what)
        with np.load(folder / "ms.npz") as out:
            rss = int(out["rss"])
            return out["ms"], (rss if rss > 0 else None)
