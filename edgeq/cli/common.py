"""Helpers shared by the CLI commands: error handling, JSON output, option types."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from edgeq.errors import DatasetError, EdgeqError
from edgeq.procs import Terminated, signals_as_exceptions, termination_received

if TYPE_CHECKING:
    from pathlib import Path

    import numpy as np

__all__ = [
    "edgeq_errors",
    "image_norm_options",
    "json_option",
    "port_options",
    "print_json",
    "run_main",
]


def run_main(group: click.Group, argv: list[str] | None) -> int:
    """Invoke ``group`` in standalone-off mode and map outcomes to exit codes.

    User errors (:class:`EdgeqError`) print ``error: message`` on stderr, one
    line, no traceback. Click usage errors keep click's own message. Other
    exceptions are bugs and propagate with their traceback. SIGTERM and SIGHUP
    unwind like Ctrl-C, so every child process and temporary file is cleaned
    up; the command's temporary files live in one folder per process
    (:mod:`edgeq.tempdirs`).
    """
    from edgeq.tempdirs import process_tempdir

    with signals_as_exceptions(), process_tempdir():
        try:
            rv = group.main(args=argv, prog_name="edgeq", standalone_mode=False)
        except EdgeqError as exc:
            if (signum := termination_received()) is not None:  # a library turned the signal into its own error
                return _stopped(Terminated(signum))
            click.echo(f"error: {exc}", err=True)
            return exc.exit_code
        except click.exceptions.Abort:
            click.echo("aborted", err=True)
            return 130
        except Terminated as exc:
            return _stopped(exc)
        except click.UsageError as exc:
            click.echo(f"error: {one_line_usage(exc)}", err=True)
            return exc.exit_code
        except click.ClickException as exc:
            exc.show()
            return exc.exit_code
        except click.exceptions.Exit as exc:
            return exc.exit_code
    return rv if isinstance(rv, int) else 0


def _stopped(exc: Terminated) -> int:
    click.echo(f"stopped by {exc.name}", err=True)
    return 128 + exc.signum


def one_line_usage(exc: click.UsageError) -> str:
    """Click's usage error as one line, pointing at the command's --help."""
    message = " ".join(exc.format_message().split())
    where = exc.ctx.command_path if exc.ctx is not None else "edgeq"
    return f"{message.rstrip('.')}; see '{where} --help'"


class OutputPath(click.ParamType):
    """An output file or folder, checked writable when the command line is parsed (before any work)."""

    name = "path"

    def __init__(self, kind: str = "file") -> None:
        self.kind = kind

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from edgeq.outputs import OutputError, check_output

        try:
            check_output(value, self.kind)
        except OutputError as exc:
            self.fail(str(exc), param, ctx)
        return str(value)


class Number(click.ParamType):
    """A finite number within bounds (NaN and infinities are refused): ``Number(float, low=0, low_open=True)``."""

    def __init__(self, kind: type = float, low: float | None = None, low_open: bool = False, high: float | None = None):
        self.kind, self.low, self.low_open, self.high = kind, low, low_open, high
        self.name = "integer" if kind is int else "number"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        import math

        try:
            number = self.kind(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not {'an integer' if self.kind is int else 'a number'}", param, ctx)
        if isinstance(number, float) and not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        if self.low is not None and (number <= self.low if self.low_open else number < self.low):
            self.fail(f"{value} must be {'above' if self.low_open else 'at least'} {self.low:g}", param, ctx)
        if self.high is not None and number > self.high:
            self.fail(f"{value} must be at most {self.high:g}", param, ctx)
        return number


def edgeq_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Let a command raise EdgeqError under CliRunner (standalone mode) and still exit cleanly."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except EdgeqError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper


def print_json(obj: Any) -> None:
    """Print one JSON object on stdout (nothing else goes to stdout in --json mode)."""
    click.echo(json.dumps(obj, indent=2, default=_json_default))


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if hasattr(obj, "value"):
        return obj.value
    return str(obj)


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """The ``--json`` flag every command has."""
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout, logs on stderr.")(
        func
    )


def image_norm_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--scale`` and ``--offset``: how image folders are normalised (pixel * scale + offset)."""
    func = click.option(
        "--offset", type=Number(float), default=0.0, show_default=True, help="Image folders: pixel * scale + offset."
    )(func)
    return click.option(
        "--scale",
        type=Number(float),
        default=1.0 / 255.0,
        show_default="1/255",
        help="Image folders: pixel * scale + offset.",
    )(func)


def port_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--port``, ``--baud`` and ``--via`` for the serial target."""
    func = click.option(
        "--via",
        type=click.Choice(["direct", "io-manager"]),
        help="How the serial target reaches the board: directly (default, or $EDGEQ_SERIAL_VIA) or through "
        "an EEMBC IO manager on --port (energy mode: commands sent as 'dut CMD%', replies read from '[dut]: ').",
    )(func)
    func = click.option("--baud", type=Number(int, low=1), help="Baud rate of the serial target (default 115200).")(
        func
    )
    return click.option("--port", help="Serial port of the serial target, e.g. /dev/ttyACM0.")(func)


def bin_options(func):
    """``--bin-dtype``, ``--bin-scale``, ``--bin-zero-point``: one-byte .bin files as quantized values."""
    from edgeq.data.binfiles import BIN_DTYPES

    func = click.option(
        "--bin-zero-point", type=Number(int), help="Zero point of one-byte .bin files (with --bin-dtype)."
    )(func)
    func = click.option(
        "--bin-scale", type=Number(float, low=0, low_open=True), help="Scale of one-byte .bin files (with --bin-dtype)."
    )(func)
    return click.option(
        "--bin-dtype",
        type=click.Choice(BIN_DTYPES),
        help=".bin files of one byte per element hold quantized values of this dtype: real = "
        "(q - zero point) * scale (MLPerf Tiny: the reference int8 model's input quantization).",
    )(func)


def load_arrays(path: Path) -> list[np.ndarray]:
    """The arrays of an .npy (one) or .npz (one per input) file, N >= 1 samples each; DatasetError otherwise."""
    from edgeq.batch_run import check_sample_counts
    from edgeq.data.files import load_npy, load_npz

    if path.is_dir():
        raise DatasetError(
            f"{path} is a folder without y_labels.csv; give an .npy/.npz file or an MLPerf Tiny dataset folder"
        )
    arrays = list(load_npz(path).values()) if path.suffix.lower() == ".npz" else [load_npy(path)]
    if not arrays:
        raise DatasetError(f"{path} holds no arrays; save one array per model input with numpy.savez")
    check_sample_counts(arrays, str(path))
    return arrays
