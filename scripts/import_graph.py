#!/usr/bin/env python3
"""Measure edgeq's import graph: package cycles, module cycles, imports inside functions.

Reads the source with :mod:`ast` (nothing is imported), so it runs without
TensorFlow. A *unit* is a subpackage of edgeq (``edgeq.codegen``) or a
top-level module (``edgeq.outputs``). Every import counts, including those
inside functions and ``importlib.import_module`` calls on literal names (or
f-strings over a literal tuple in an enclosing ``for``).

    scripts/import_graph.py            # a readable summary
    scripts/import_graph.py --json     # the same numbers as one JSON object
    scripts/import_graph.py --check    # exit 1 when any package cycle exists

Upward edges are counted against the ``layers`` contract of
``[tool.importlinter]`` in pyproject.toml, when there is one.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "edgeq"


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    in_function: bool


def module_names(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the package: dotted name -> file."""
    names = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The longest known module that ``name`` starts with, or None for outside imports."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _base(importer: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    parts = importer.split(".")
    keep = len(parts) - node.level + (1 if is_package else 0)
    base = ".".join(parts[:keep])
    return f"{base}.{node.module}" if node.module else base


def _dynamic_names(call: ast.Call, loops: list[ast.For]) -> list[str]:
    """Module names an ``importlib.import_module(...)`` call can load, when they are literal."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr == "import_module") or not call.args:
        return []
    arg = call.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return [arg.value]
    if not isinstance(arg, ast.JoinedStr) or len(arg.values) != 2:
        return []
    prefix, value = arg.values
    if not (isinstance(prefix, ast.Constant) and isinstance(value, ast.FormattedValue)):
        return []
    if not isinstance(value.value, ast.Name):
        return []
    for loop in reversed(loops):
        named = isinstance(loop.target, ast.Name) and loop.target.id == value.value.id
        if named and isinstance(loop.iter, (ast.Tuple, ast.List)):
            return [prefix.value + e.value for e in loop.iter.elts if isinstance(e, ast.Constant)]
    return []


class _Collector(ast.NodeVisitor):
    def __init__(self, importer: str, is_package: bool):
        self.importer = importer
        self.is_package = is_package
        self.found: list[tuple[str, int, bool]] = []  # (name, line, in_function)
        self.depth = 0
        self.loops: list[ast.For] = []

    def _function(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_For(self, node: ast.For) -> None:
        self.loops.append(node)
        self.generic_visit(node)
        self.loops.pop()

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.found.append((alias.name, node.lineno, self.depth > 0))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = _base(self.importer, node, self.is_package)
        for alias in node.names:
            self.found.append((f"{base}.{alias.name}", node.lineno, self.depth > 0))

    def visit_Call(self, node: ast.Call) -> None:
        for name in _dynamic_names(node, self.loops):
            self.found.append((name, node.lineno, self.depth > 0))
        self.generic_visit(node)


def collect(root: Path = ROOT) -> tuple[list[Import], int]:
    """Imports between edgeq modules, and the number of import statements inside functions."""
    modules = module_names(root)
    imports, in_functions = [], 0
    for name, path in modules.items():
        collector = _Collector(name, path.name == "__init__.py")
        collector.visit(ast.parse(path.read_text(), str(path)))
        statements = set()
        for target, line, in_function in collector.found:
            if in_function:
                statements.add(line)
            resolved = _resolve(target, modules) if target.startswith(PACKAGE + ".") else None
            if resolved and resolved != name:
                imports.append(Import(name, resolved, line, in_function))
        in_functions += len(statements)
    return imports, in_functions


def unit(module: str, modules: dict[str, Path]) -> str:
    """The edgeq subpackage or top-level module that ``module`` belongs to."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else module


def strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Groups of nodes that reach each other (Tarjan), only those with more than one node."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(edges.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(groups)


def _graph(pairs: list[tuple[str, str]]) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for a, b in pairs:
        if a != b:
            edges.setdefault(a, set()).add(b)
    return edges


def _layers(root: Path) -> list[list[str]]:
    """The layers contract of pyproject.toml, top first (alternatives split on '|')."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        return []
    config = tomllib.loads((root / "pyproject.toml").read_text()).get("tool", {}).get("importlinter", {})
    for contract in config.get("contracts", []):
        if contract.get("type") == "layers":
            return [
                [f"{PACKAGE}.{n.strip()}" for n in layer.replace(":", "|").split("|")] for layer in contract["layers"]
            ]
    return []


def upward_edges(imports: list[Import], modules: dict[str, Path], root: Path) -> list[tuple[str, str]]:
    """Unit edges that go from a lower layer to a higher one of the layers contract."""
    rank = {name: i for i, layer in enumerate(_layers(root)) for name in layer}
    up = set()
    for imp in imports:
        a, b = unit(imp.importer, modules), unit(imp.imported, modules)
        if a in rank and b in rank and rank[b] < rank[a]:
            up.add((a, b))
    return sorted(up)


# Third-party packages worth deferring: slow to import, or optional (not installed everywhere edgeq runs).
HEAVY = frozenset(
    "tensorflow tf_keras keras tensorflow_model_optimization tflite_micro ai_edge_litert tflite_runtime matplotlib "
    "serial jinja2 PIL yaml ray rclpy pymavlink scipy sklearn click smbus2 ppk2_api joulescope pycoral".split()
)


def _load_time_imports(path: Path) -> list[str]:
    """Names imported when the module loads (its top level, including under if/try), not inside functions."""
    found = []
    for node in ast.parse(path.read_text(), str(path)).body:
        for sub in ast.walk(node) if isinstance(node, (ast.If, ast.Try)) else [node]:
            if isinstance(sub, ast.Import):
                found += [a.name for a in sub.names]
            elif isinstance(sub, ast.ImportFrom) and sub.module and sub.level == 0:
                found += [sub.module, *(f"{sub.module}.{a.name}" for a in sub.names)]
    return found


def heavy_dependency(module: str, modules: dict[str, Path], seen: frozenset[str] = frozenset()) -> str | None:
    """The heavy package that loading ``module`` imports (directly or through edgeq modules), or None."""
    parents = [".".join(module.split(".")[:i]) for i in range(2, module.count(".") + 1)]
    for name in [*_load_time_imports(modules[module]), *parents]:
        if name.split(".")[0] in HEAVY:
            return name.split(".")[0]
        if name in modules and name != module and name not in seen:
            found = heavy_dependency(name, modules, seen | {module})
            if found:
                return found
    return None


def deferred_without_reason(imports: list[Import], modules: dict[str, Path]) -> list[str]:
    """Imports of edgeq modules inside functions that defer nothing heavy (the CLI and the facade excepted).

    The CLI defers imports to keep ``edgeq --help`` fast and ``edgeq/__init__.py`` is a lazy facade; anywhere
    else an import belongs at the top of the module unless the module it loads pulls in a heavy dependency.
    """
    found = []
    for imp in imports:
        if not imp.in_function or imp.importer == PACKAGE or imp.importer.startswith(f"{PACKAGE}.cli"):
            continue
        if heavy_dependency(imp.imported, modules) is None:
            found.append(f"{imp.importer}:{imp.line} -> {imp.imported}")
    return sorted(set(found))


def measure(root: Path = ROOT) -> dict:
    """All the numbers, as one JSON-ready dict."""
    modules = module_names(root)
    imports, in_functions = collect(root)
    unit_pairs = [(unit(i.importer, modules), unit(i.imported, modules)) for i in imports]
    return {
        "package_cycles": strongly_connected(_graph([p for p in unit_pairs if PACKAGE not in p])),
        "module_cycles": strongly_connected(_graph([(i.importer, i.imported) for i in imports])),
        "imports_in_functions": in_functions,
        "internal_imports_in_functions": len({(i.importer, i.line) for i in imports if i.in_function}),
        "upward_edges": [list(e) for e in upward_edges(imports, modules, root)],
        "deferred_without_reason": deferred_without_reason(imports, modules),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--check", action="store_true", help="exit 1 when a package cycle exists")
    args = parser.parse_args(argv)
    result = measure()
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"package cycles: {len(result['package_cycles'])}")
        for group in result["package_cycles"]:
            print("  " + " <-> ".join(group))
        print(f"module cycles: {len(result['module_cycles'])}")
        for group in result["module_cycles"]:
            print("  " + " <-> ".join(group))
        print(f"upward edges (against the layers contract): {len(result['upward_edges'])}")
        for a, b in result["upward_edges"]:
            print(f"  {a} -> {b}")
        print(f"import statements inside functions: {result['imports_in_functions']}")
        print(f"  of which import edgeq modules: {result['internal_imports_in_functions']}")
        print(f"  deferring nothing heavy, outside the CLI: {len(result['deferred_without_reason'])}")
        for entry in result["deferred_without_reason"]:
            print(f"    {entry}")
    return 1 if args.check and result["package_cycles"] else 0


if __name__ == "__main__":
    sys.exit(main())
