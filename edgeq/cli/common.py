"""Helpers shared by the CLI commands: error handling, JSON output, option types."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click

from edgeq.errors import EdgeqError
from edgeq.textfmt import format_table

__all__ = [
    "edgeq_errors",
    "format_table",
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
    exceptions are bugs and propagate with their traceback.
    """
    try:
        rv = group.main(args=argv, prog_name="edgeq", standalone_mode=False)
    except EdgeqError as exc:
        click.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    return rv if isinstance(rv, int) else 0


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
        "--offset", type=float, default=0.0, show_default=True, help="Image folders: pixel * scale + offset."
    )(func)
    return click.option(
        "--scale", type=float, default=1.0 / 255.0, show_default="1/255", help="Image folders: pixel * scale + offset."
    )(func)


def port_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--port`` and ``--baud`` for the serial target."""
    func = click.option("--baud", type=int, help="Baud rate of the serial target (default 115200).")(func)
    return click.option("--port", help="Serial port of the serial target, e.g. /dev/ttyACM0.")(func)
