"""The rendering rule (docs/architecture.md, "Rendering"): terminal text is made only in edgeq/cli/.

Library modules return data; they never print results (``print``, ``click.echo``) and do
not build text tables (``edgeq.textfmt``): the views in edgeq/cli/views/ do. Logging through
edgeq.log is fine. Checked on the source with ``ast``.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "edgeq"

ALLOWED = {
    "remote/runner.py": "a standalone script copied to Linux boards; its stdout is JSON the host parses",
}


def library_modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0] != "cli")


def _imports_textfmt(node: ast.AST) -> bool:
    if isinstance(node, ast.Import):
        return any(a.name == "edgeq.textfmt" or a.name.startswith("edgeq.textfmt.") for a in node.names)
    if isinstance(node, ast.ImportFrom) and node.level == 0:
        return node.module == "edgeq.textfmt" or (
            node.module == "edgeq" and any(a.name == "textfmt" for a in node.names)
        )
    return False


def _click_echo_names(tree: ast.AST) -> set[str]:
    """Names bound to click.echo / click.secho by ``from click import echo [as x]``."""
    return {
        a.asname or a.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "click"
        for a in node.names
        if a.name in ("echo", "secho")
    }


def _prints(node: ast.AST, echo_names: set[str]) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Name):
        return func.id == "print" or func.id in echo_names
    return (
        isinstance(func, ast.Attribute)
        and func.attr in ("echo", "secho")
        and isinstance(func.value, ast.Name)
        and func.value.id == "click"
    )


def violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    echo_names = _click_echo_names(tree)
    found = []
    for node in ast.walk(tree):
        if _prints(node, echo_names):
            found.append(f"line {node.lineno}: {ast.unparse(node.func)}(...) prints")
        elif _imports_textfmt(node):
            found.append(f"line {node.lineno}: imports edgeq.textfmt")
    return found


def test_library_modules_make_no_terminal_text():
    problems = []
    for path in library_modules():
        name = path.relative_to(PACKAGE).as_posix()
        if name in ALLOWED:
            continue
        problems += [f"edgeq/{name} {v}" for v in violations(path)]
    assert not problems, "terminal text belongs in edgeq/cli/views/:\n" + "\n".join(problems)


def test_allowed_exceptions_still_exist():
    """An exception whose module has moved or been fixed is removed from ALLOWED."""
    stale = [name for name in ALLOWED if not (PACKAGE / name).exists() or not violations(PACKAGE / name)]
    assert not stale, f"remove from ALLOWED: {stale}"


def test_the_check_finds_prints_echo_and_textfmt(tmp_path):
    source = tmp_path / "bad.py"
    source.write_text(
        "import click\nfrom click import echo as say\nfrom edgeq.textfmt import format_table\n"
        "def f():\n    print(1)\n    click.echo(2)\n    say(3)\n    logger.info('fine')\n"
    )
    assert [v.split(":")[0] for v in violations(source)] == ["line 3", "line 5", "line 6", "line 7"]
