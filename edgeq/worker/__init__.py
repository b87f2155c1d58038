"""The one child process edgeq runs interpreters in: ``python -m edgeq.worker JOB ...``.

Interpreters run in a child so that a crash (tflite-micro has aborted whole
processes near its smallest workable arena) is a failure to report, not the
end of edgeq, and so that the child's peak memory is its own. Jobs
(:mod:`edgeq.worker.jobs`):

- ``outputs FOLDER ARENA``: FOLDER/model.tflite on FOLDER/in.npz through the
  tflite-micro interpreter, raw outputs to FOLDER/out.npz;
- ``time RUNTIME FOLDER RUNS WARMUP ARG``: time invokes of one sample with
  LiteRT (``litert``, ``litert-no-xnnpack``; ARG = threads) or tflite-micro
  (``tflm``; ARG = arena bytes) into FOLDER/ms.npz with the peak RSS;
- ``probe MODEL ARENA [--record]``: can tflite-micro allocate and invoke with
  ARENA bytes? One JSON line on stdout (exit :data:`REFUSED` when not).

A failed ``outputs`` or ``time`` job exits with :data:`FAILED` and writes one
sentence as its last stderr line; :func:`failure_message` turns that and the
exit status into the parent's error. This module is the parent's side.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from edgeq import procs
from edgeq.errors import EdgeqError

FAILED = 1
REFUSED = 3
CORRUPT_HINT = "the model may be corrupt"


def worker_command(job: str, *args: str) -> list[str]:
    """The command line that runs ``job`` in a new worker process."""
    return [sys.executable, "-m", "edgeq.worker", job, *args]


def failure_message(what: str, returncode: int, stderr: str, hint: str = CORRUPT_HINT) -> str:
    """The one-line error for a child that ended with ``returncode``: its last stderr line, or the signal."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    last = lines[-1][:300] if lines else ""
    name = procs.signal_name(returncode)
    if name is not None:
        return f"{what} crashed ({name}){': ' + last if last else ''}{'; ' + hint if hint else ''}"
    return f"{what} failed: {last or f'exit status {returncode}'}"


def run_child(
    cmd: list[str], stdin: bytes = b"", timeout: float = 3600.0, what: str = "the runner", hint: str = ""
) -> subprocess.CompletedProcess[bytes]:
    """Run ``cmd`` to the end; a non-zero exit or a timeout is an EdgeqError naming ``what``."""
    try:
        done = procs.run(cmd, input=stdin, capture_output=True, timeout=timeout)
    except procs.TimeoutExpired:
        raise EdgeqError(f"{what} did not finish within {timeout:g} s; try fewer --runs") from None
    if done.returncode != 0:
        raise EdgeqError(failure_message(what, done.returncode, done.stderr.decode(errors="replace"), hint))
    return done


def tflm_outputs(model: bytes, inputs: list[np.ndarray], arena: int) -> list[np.ndarray]:
    """Every sample of ``inputs`` through the tflite-micro interpreter; raw outputs with a sample axis."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "model.tflite").write_bytes(model)
        np.savez(folder / "in.npz", *inputs)
        cmd = worker_command("outputs", tmp, str(arena))
        run_child(cmd, what="the tflite-micro interpreter", hint=CORRUPT_HINT)
        with np.load(folder / "out.npz") as out:
            return [out[f"arr_{i}"] for i in range(len(out.files))]


def time_invokes(
    runtime: str, model: bytes, sample: list[np.ndarray], runs: int, warmup: int, arg: int, what: str
) -> tuple[np.ndarray, int | None]:
    """Milliseconds of ``runs`` invokes of ``sample`` (after ``warmup``) and the child's peak RSS in bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "model.tflite").write_bytes(model)
        np.savez(folder / "in.npz", *sample)
        run_child(worker_command("time", runtime, tmp, str(runs), str(warmup), str(arg)), what=what, hint=CORRUPT_HINT)
        with np.load(folder / "ms.npz") as out:
            rss = int(out["rss"])
            return out["ms"], (rss if rss > 0 else None)


def peak_rss_bytes(status: str | None = None) -> int | None:
    """Peak resident memory of this process (``VmHWM``), None where /proc is missing.

    The child reads it about itself at the end of its run: the kernel's ``wait4``
    figure would also count the parent's memory at fork time.
    """
    if status is None:
        try:
            status = Path("/proc/self/status").read_text()
        except OSError:
            return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return None


__all__ = [
    "FAILED",
    "REFUSED",
    "failure_message",
    "peak_rss_bytes",
    "run_child",
    "time_invokes",
    "tflm_outputs",
    "worker_command",
]
