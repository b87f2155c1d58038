"""The ``edgeq`` command line: one module per command, each a thin layer over the library."""

from __future__ import annotations

import importlib
import sys

import click

from edgeq import __version__
from edgeq.cli.common import run_main

# command name -> module under edgeq.cli exposing a click command named `command`.
COMMANDS = {
    "convert": "convert",
    "inspect": "inspect",
    "evaluate": "evaluate",
    "demo": "demo",
    "generate": "generate",
    "boards": "boards",
    "run": "run",
    "profile": "profile",
    "skeleton": "skeleton",
    "edgetpu-check": "edgetpu_check",
    "analyze": "analyze",
    "qat": "qat",
    "build": "build",
    "flash": "flash",
    "ros2": "ros2",
    "mavlink": "mavlink",
    "farm": "farm",
    "sweep": "sweep",
    "compile": "compile",
}


class LazyGroup(click.Group):
    """A group that imports a command's module only when that command runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if module is None:
            return None
        return importlib.import_module(f"edgeq.cli.{module}").command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="edgeq")
@click.option("-v", "--verbose", count=True, help="Debug logging and TensorFlow's own logs on stderr.")
@click.pass_context
def cli(ctx: click.Context, verbose: int) -> None:
    """edgeq: TensorFlow model -> int8 TFLite -> C for microcontrollers -> measured on device."""
    from edgeq.log import setup_logging

    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose
    setup_logging(verbose)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (never raises for user errors)."""
    code = run_main(cli, argv)
    if argv is None and code in _STOPPED_BY_SIGNAL and "ray" in sys.modules:
        _exit_before_finalization(code)
    return code


# 128 + SIGHUP, SIGINT, SIGTERM: what run_main returns for a command a signal stopped.
_STOPPED_BY_SIGNAL = (129, 130, 143)


def _exit_before_finalization(code: int) -> None:
    """Exit with ``code`` once the atexit handlers have run, without the interpreter's finalization.

    A Ray driver stopped by a signal has already been shut down (edgeq.farm),
    but Ray 2.60's extension can crash while the interpreter tears its objects
    down afterwards (exit -11 or -6 instead of 143). Nothing of edgeq's is left
    to do by then: its temporary folder and child processes are handled by
    run_main and the atexit handlers, which run here.
    """
    import atexit
    import os

    sys.stdout.flush()
    sys.stderr.flush()
    atexit._run_exitfuncs()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
