"""``edgeq boards``: the board database as a table; ``edgeq boards show BOARD``: one board with its sources."""

from __future__ import annotations

import click

from edgeq.cli.common import edgeq_errors, json_option, print_json


@click.group(name="boards", invoke_without_command=True)
@json_option
@click.pass_context
@edgeq_errors
def command(ctx: click.Context, as_json: bool) -> None:
    """List the boards edgeq knows: core, clock, flash, RAM, kind and runtimes.

    `edgeq boards show BOARD` prints every fact of one board with its source.
    """
    if ctx.invoked_subcommand is not None:
        return
    from edgeq.boards import list_boards
    from edgeq.cli.views.boards import render_boards

    boards = list_boards()
    if as_json:
        print_json([board.to_dict() for board in boards])
        return
    click.echo(render_boards(boards))


@command.command(name="show")
@click.argument("board")
@json_option
@click.pass_context
@edgeq_errors
def show(ctx: click.Context, board: str, as_json: bool) -> None:
    """Show every fact of BOARD (an id from `edgeq boards`, or a board .yaml file) with its source."""
    from edgeq.boards import load_board
    from edgeq.cli.views.boards import render_board

    info = load_board(board)
    if as_json or (ctx.parent is not None and ctx.parent.params.get("as_json")):
        print_json(info.to_dict())
    else:
        click.echo(render_board(info))
