"""``ssh://user@host[:port]``: a Linux board (Raspberry Pi and the like) running LiteRT, driven over SSH.

Each run or profile copies a self-contained runner script
(:mod:`edgeq.remote.runner`), the model and the sample into a ``mktemp -d``
folder on the board, runs it with the board's Python, fetches ``out.npz`` and
deletes the folder. The board needs Python 3.9+, numpy and ``ai-edge-litert``
(or ``tflite-runtime`` / ``tensorflow``); edgeq itself is not installed there.

Login is by key only (``BatchMode=yes``) and host keys are checked against
known_hosts (``StrictHostKeyChecking=yes``), never accepted blindly. Settings
come from arguments, else the environment:

- ``$EDGEQ_SSH_PYTHON``: the interpreter command on the board (default ``python3``);
- ``$EDGEQ_SSH_KNOWN_HOSTS``: a known_hosts file instead of ``~/.ssh/known_hosts``;
- ``$EDGEQ_SSH_IDENTITY``: the private key to log in with (only that key is offered);
- ``$EDGEQ_SSH_CONFIG``: an ssh_config file instead of ``~/.ssh/config``.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Any

import numpy as np

from edgeq.errors import UsageError
from edgeq.measurements import Memory, Timing
from edgeq.model import read_model
from edgeq.remote.endpoint import ENV_PYTHON, Endpoint, SshOptions
from edgeq.remote.job import Job, RemoteResult, run_job
from edgeq.remote.session import SshSession
from edgeq.targets.base import Capabilities

OPTIONS = ("python", "known_hosts", "identity", "ssh_config", "connect_timeout", "timeout", "threads")


CAPABILITIES = Capabilities(
    summary="a Linux board over SSH (LiteRT in the board's Python)",
    no_op_times="the remote runner times whole invokes with LiteRT",
    options=OPTIONS,
)


class SshTarget:
    """A Linux board reached with the OpenSSH client.

    Args:
        url: ``ssh://user@host[:port]``.
        python: Command that starts Python on the board, split like a shell would
            (e.g. ``"/home/pi/venv/bin/python"``); default ``$EDGEQ_SSH_PYTHON`` or ``python3``.
        known_hosts: known_hosts file (default ``$EDGEQ_SSH_KNOWN_HOSTS``, else ssh's own).
        identity: Private key file (default ``$EDGEQ_SSH_IDENTITY``, else ssh's keys and agent).
        ssh_config: ssh_config file (default ``$EDGEQ_SSH_CONFIG``, else ``~/.ssh/config``).
        connect_timeout: Seconds to wait for the board to answer.
        timeout: Seconds one run or profile may take on the board.
        threads: Interpreter threads for :meth:`run` (:meth:`profile` takes its own).

    Raises:
        UsageError: A malformed URL, a missing key/known_hosts/config file or a bad number.
    """

    def __init__(
        self,
        url: str,
        *,
        python: str | None = None,
        known_hosts: str | Path | None = None,
        identity: str | Path | None = None,
        ssh_config: str | Path | None = None,
        connect_timeout: float = 10.0,
        timeout: float = 3600.0,
        threads: int = 1,
    ) -> None:
        self.name = url
        self.endpoint = Endpoint.parse(url)
        self.options = SshOptions.from_env(known_hosts, identity, ssh_config, connect_timeout)
        self.python = tuple(shlex.split(python or os.environ.get(ENV_PYTHON) or "python3"))
        if not self.python:
            raise UsageError(f"the Python command for {url} is empty; e.g. python3 or /home/pi/venv/bin/python")
        self.timeout = float(timeout)
        self.threads = _threads(threads)
        if not self.timeout > 0:
            raise UsageError(f"the timeout of {url} must be > 0 seconds, got {timeout}")
        self.board: dict[str, Any] | None = None  # what the runner reported about the board, after a job

    def run(self, model: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
        """Run every sample of ``inputs`` (one (N, ...) array per model input) on the board; raw outputs."""
        return self._job(Job("run", self.python, threads=self.threads, timeout=self.timeout), model, inputs).outputs

    def profile(self, model: bytes, sample: list[np.ndarray], runs: int, warmup: int, threads: int = 1) -> Timing:
        """Time ``runs`` invokes of one sample on the board, after ``warmup`` untimed ones.

        The latencies are the board's wall clock around each invoke; the memory
        figure is the runner process's peak RSS (VmHWM) on the board.
        """
        if runs < 1 or warmup < 0:
            raise UsageError(f"runs must be >= 1 and warmup >= 0 (got {runs} and {warmup})")
        job = Job("profile", self.python, runs, warmup, _threads(threads), self.timeout)
        result = self._job(job, model, sample)
        return Timing(
            result.ms,
            latency_source=latency_source(result, self.endpoint.host, job.threads),
            memory=Memory(peak_rss_bytes=result.peak_rss_bytes),
            notes=(board_note(result.board), "peak RSS: VmHWM of the runner process on the board"),
        )

    def _job(self, job: Job, model: bytes, arrays: list[np.ndarray]) -> RemoteResult:
        read_model(model)  # a malformed model fails here, not as a crash on the board
        with SshSession(self.endpoint, self.options) as session:
            result = run_job(session, job, model, arrays)
        self.board = result.board
        return result


def make_target(name: str, **options: Any) -> SshTarget:
    """The target for ``name`` = ``ssh://user@host[:port]``; ``options`` are :class:`SshTarget`'s keywords.

    Raises:
        UsageError: A malformed name or an option the SSH target does not take.
    """
    CAPABILITIES.check_options(name, options)
    return SshTarget(name, **options)


def latency_source(result: RemoteResult, host: str, threads: int) -> str:
    """E.g. "wall clock around each invoke on Raspberry Pi 5 Model B Rev 1.0 (ai-edge-litert 1.2.0, 4 thread(s))"."""
    board = result.board
    where = board.get("model") or f"{board.get('machine', 'a')} board {host}"
    runtime = f"{board.get('runtime', 'unknown runtime')} {board.get('runtime_version', '')}".strip()
    return f"wall clock around each invoke on {where} ({runtime}, {threads} thread(s))"


def board_note(board: dict[str, Any]) -> str:
    """One line about the board and the software the runner found there."""
    model = board.get("model") or "no device-tree model"
    return (
        f"board: {model}, {board.get('machine')}, Linux {board.get('kernel')}, {board.get('cpu_count')} CPU(s); "
        f"Python {board.get('python')}, numpy {board.get('numpy')}, "
        f"{board.get('runtime')} {board.get('runtime_version')}"
    )


def _threads(threads: int) -> int:
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise UsageError(f"threads must be a whole number >= 1, got {threads!r}")
    return threads
