"""The package layering holds: import-linter's contracts (pyproject.toml) and no package import cycles.

docs/architecture.md describes the layers; scripts/import_graph.py measures the graph.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "import_graph.py"


def _import_graph():
    if "import_graph" not in sys.modules:
        spec = importlib.util.spec_from_file_location("import_graph", SCRIPT)
        module = importlib.util.module_from_spec(spec)
        sys.modules["import_graph"] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    return sys.modules["import_graph"]


def test_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    if importlib.util.find_spec("importlinter") is None or not lint.exists():
        pytest.skip("import-linter is not installed (pip install 'edgeq[dev]')")
    done = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_no_package_import_cycles():
    result = _import_graph().measure(ROOT)
    assert result["package_cycles"] == []


def test_cycle_check_exits_nonzero_only_on_cycles():
    done = subprocess.run([sys.executable, str(SCRIPT), "--check"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout
    assert "package cycles: 0" in done.stdout


def test_the_graph_script_finds_a_cycle(tmp_path):
    """A package cycle written on purpose is reported, including one hidden inside a function."""
    graph = _import_graph()
    (tmp_path / "edgeq" / "a").mkdir(parents=True)
    (tmp_path / "edgeq" / "b").mkdir()
    (tmp_path / "edgeq" / "__init__.py").write_text("")
    (tmp_path / "edgeq" / "a" / "__init__.py").write_text("from edgeq.b import thing\n")
    (tmp_path / "edgeq" / "b" / "__init__.py").write_text("def thing():\n    from edgeq import a\n")
    (tmp_path / "pyproject.toml").write_text("")
    result = graph.measure(tmp_path)
    assert result["package_cycles"] == [["edgeq.a", "edgeq.b"]]
    assert result["imports_in_functions"] == 1


def test_imports_inside_functions_only_defer_heavy_dependencies():
    """Outside the CLI, an import inside a function must defer TensorFlow, tflite-micro & co., never hide a cycle."""
    assert _import_graph().measure(ROOT)["deferred_without_reason"] == []


def test_the_deferral_check_sees_through_edgeq_modules_to_the_heavy_one():
    graph = _import_graph()
    modules = graph.module_names(ROOT)
    assert graph.heavy_dependency("edgeq.cli.common", modules) == "click"  # imported at its top
    assert graph.heavy_dependency("edgeq.cli.profile", modules) == "click"  # through edgeq.cli.common
    assert graph.heavy_dependency("edgeq.tfimport", modules) is None  # it imports TensorFlow only when called
    assert graph.heavy_dependency("edgeq.errors", modules) is None
