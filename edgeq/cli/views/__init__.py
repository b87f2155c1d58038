"""Terminal text of the commands: one module per topic, each a set of ``render_*`` functions.

The rule (docs/architecture.md, "Rendering"): library modules return data (frozen
dataclasses with ``to_dict()`` for ``--json``, or plain values); the text a command
prints on the terminal is made here, from that data, with :func:`edgeq.textfmt.format_table`
for tables; files users open (HTML/Markdown reports, generated C) are rendered from
templates by the library module that writes them. A view returns a string and prints
nothing: the command module passes it to ``click.echo``.
"""
