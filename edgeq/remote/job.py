"""One job on a board: copy runner, model and sample to a temp folder there, run, fetch out.npz, clean up."""

from __future__ import annotations

import json
import logging
import shlex
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgeq.errors import DeviceError
from edgeq.remote.diagnose import runner_failure
from edgeq.remote.session import SshSession

logger = logging.getLogger("edgeq.remote")
RUNNER = Path(__file__).with_name("runner.py")
MODES = ("profile", "run")


@dataclass(frozen=True)
class RemoteResult:
    """What the runner brought back.

    Attributes:
        ms: Milliseconds of each timed invoke (empty for ``run``).
        peak_rss_bytes: Peak resident memory of the runner process (VmHWM), None when unknown.
        board: The runner's description of the board and runtime (see :mod:`edgeq.remote.runner`).
        outputs: Raw outputs of ``run``, one (N, ...) array per model output.
    """

    ms: tuple[float, ...]
    peak_rss_bytes: int | None
    board: dict[str, Any]
    outputs: list[np.ndarray] = field(default_factory=list)


@dataclass(frozen=True)
class Job:
    """What to run: ``mode`` (profile or run), the interpreter command and the runner's settings."""

    mode: str
    python: tuple[str, ...] = ("python3",)
    runs: int = 1
    warmup: int = 0
    threads: int = 1
    timeout: float = 3600.0

    def argv(self, folder: str) -> list[str]:
        """The command that starts the runner in ``folder`` on the board."""
        settings = ["--runs", str(self.runs), "--warmup", str(self.warmup), "--threads", str(self.threads)]
        return [*self.python, f"{folder}/runner.py", self.mode, folder, *settings]


def run_job(session: SshSession, job: Job, model: bytes, arrays: list[np.ndarray]) -> RemoteResult:
    """Run ``job`` on the board behind ``session``; the board's temp folder is removed whatever happens.

    Raises:
        DeviceError: ssh, scp or the runner failed (the message names the cause).
        DependencyError: The board lacks python3, numpy or a TFLite runtime.
    """
    with tempfile.TemporaryDirectory(prefix="edgeq-job-") as tmp:
        local = Path(tmp)
        files = stage(local, model, arrays)
        remote = session.make_temp_dir()
        try:
            session.put(files, remote)
            done = session.run(job.argv(remote), job.timeout, "the edgeq runner")
            if done.returncode != 0:
                raise runner_failure(session.endpoint.host, shlex.join(job.python), done.returncode, done.stderr)
            logger.debug("runner stderr on %s:\n%s", session.endpoint.host, done.stderr.strip())
            session.get(f"{remote}/out.npz", local / "out.npz")
        finally:
            session.remove_dir(remote)
        return read_result(local / "out.npz", session.endpoint.host)


def stage(folder: Path, model: bytes, arrays: list[np.ndarray]) -> list[Path]:
    """Write runner.py, model.tflite and in.npz into ``folder``; returns their paths."""
    shutil.copyfile(RUNNER, folder / "runner.py")
    (folder / "model.tflite").write_bytes(model)
    np.savez(folder / "in.npz", *(np.ascontiguousarray(a) for a in arrays))
    return [folder / "runner.py", folder / "model.tflite", folder / "in.npz"]


def read_result(path: Path, host: str) -> RemoteResult:
    """Parse the runner's out.npz (never unpickling anything the board sent)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            ms = tuple(float(x) for x in data["ms"])
            rss = int(data["rss"])
            board = json.loads(str(data["info"]))
            count = sum(1 for name in data.files if name.startswith("out_"))
            outputs = [data[f"out_{k}"] for k in range(count)]
    except (OSError, KeyError, ValueError) as exc:
        raise DeviceError(f"the runner on {host} wrote an unreadable out.npz: {exc}") from exc
    if not isinstance(board, dict):
        raise DeviceError(f"the runner on {host} wrote an unreadable out.npz: info is not a JSON object")
    return RemoteResult(ms, rss if rss > 0 else None, board, outputs)
