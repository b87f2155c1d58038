"""Behaviour on a real terminal (a pty): the calibration progress bar, and clean stdout with -v --json."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys

import pytest

from .conftest import MODELS

pytestmark = pytest.mark.slow


def _run_on_pty(args: list[str], timeout: float = 300) -> tuple[int, str, str]:
    """Run ``python -m edgeq ARGS`` with stderr on a pty and stdout on a pipe."""
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "EDGEQ_NO_PROGRESS"}
    proc = subprocess.Popen([sys.executable, "-m", "edgeq", *args], stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], timeout)
        if not ready:
            proc.kill()
            raise AssertionError("edgeq hung on the pty")
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO: the child closed the pty
            break
        if not data:
            break
        chunks.append(data)
    stdout = proc.stdout.read().decode()
    code = proc.wait(timeout=60)
    os.close(master)
    return code, stdout, b"".join(chunks).decode(errors="replace")


def test_progress_bar_on_a_terminal(tmp_path, tiny_data):
    out = tmp_path / "m.tflite"
    code, stdout, terminal = _run_on_pty(
        ["convert", str(MODELS / "tiny_cnn.keras"), "-d", str(tiny_data), "-o", str(out), "--samples", "30", "--json"]
    )
    assert code == 0, terminal
    assert "calibrating [" in terminal and "30/30" in terminal
    assert json.loads(stdout)["samples_used"] == 30  # the bar never reaches stdout


def test_verbose_json_keeps_stdout_clean(tmp_path, tiny_data):
    out = tmp_path / "m.tflite"
    code, stdout, terminal = _run_on_pty(
        [
            "-v",
            "convert",
            str(MODELS / "tiny_cnn.keras"),
            "-d",
            str(tiny_data),
            "-o",
            str(out),
            "--samples",
            "10",
            "--json",
        ]
    )
    assert code == 0, terminal
    assert json.loads(stdout)["output_bytes"] == out.stat().st_size
    assert len(terminal) > 200  # TensorFlow's own logs are shown with -v
