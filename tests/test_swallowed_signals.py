"""A termination signal that a library turns into its own error still ends edgeq as a termination.

The TFLite converter calls back into Python from C++; a SIGTERM raised as
``Terminated`` inside such a callback comes back as an unrelated error
("'NoneType' object is not callable"). edgeq remembers the signal, so the
command exits 128+SIGTERM with no output written, instead of reporting a
converter failure.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time

import click
import pytest

from edgeq.cli.common import run_main
from edgeq.errors import ConversionError
from edgeq.outputs import atomic_write
from edgeq.procs import Terminated, signals_as_exceptions, termination_received


def _signal_swallowed_by_library() -> None:
    """Deliver SIGTERM to ourselves inside a 'library' that converts every exception into its own."""
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises Terminated here
    except BaseException as exc:  # noqa: BLE001 - what the converter's C++ glue does
        raise RuntimeError("'NoneType' object is not callable") from exc


def test_a_library_error_after_sigterm_exits_as_terminated(capsys):
    @click.command()
    def command():
        try:
            _signal_swallowed_by_library()
        except RuntimeError as exc:
            raise ConversionError(f"the TFLite converter failed: {exc}") from exc

    group = click.Group(commands={"go": command})
    assert run_main(group, ["go"]) == 128 + signal.SIGTERM
    err = capsys.readouterr().err
    assert "stopped by SIGTERM" in err and "converter failed" not in err


def test_outputs_do_not_land_after_a_swallowed_signal(tmp_path):
    target = tmp_path / "model.tflite"
    with signals_as_exceptions():
        with pytest.raises(RuntimeError):
            _signal_swallowed_by_library()
        assert termination_received() == signal.SIGTERM
        with pytest.raises(Terminated):
            atomic_write(target, b"half a conversion")
    assert list(tmp_path.iterdir()) == []


def test_each_command_starts_without_a_remembered_signal(capsys):
    @click.command()
    def swallow():
        with contextlib.suppress(RuntimeError):  # the library carried on
            _signal_swallowed_by_library()

    @click.command()
    def plain():
        assert termination_received() is None

    group = click.Group(commands={"swallow": swallow, "plain": plain})
    run_main(group, ["swallow"])
    assert run_main(group, ["plain"]) == 0
