"""``edgeq ros2``: a model as a ROS 2 node (``run``) or as a ROS 2 package for a robot's workspace (``package``)."""

from __future__ import annotations

import importlib

import click

# subcommand -> module under edgeq.cli exposing a click command named `command`
SUBCOMMANDS = {"run": "ros2_run", "package": "ros2_package"}


class _Lazy(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = SUBCOMMANDS.get(cmd_name)
        return None if module is None else importlib.import_module(f"edgeq.cli.{module}").command


@click.group("ros2", cls=_Lazy)
def command() -> None:
    """A model in ROS 2 (Jazzy): run it as a node, or write a colcon package for a robot."""
