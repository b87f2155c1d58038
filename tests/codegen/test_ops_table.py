"""The engine's op table (edgeq/codegen/engine/ops.py) against its kernel files and the generator."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgeq.codegen.context import model_context
from edgeq.codegen.engine import ops
from edgeq.codegen.engine.build import build_engine
from edgeq.codegen.engine.sources import kernel_dir
from edgeq.errors import UnsupportedError
from edgeq.model import read_model

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _kernel_files() -> set[str]:
    return {p.name for p in kernel_dir().iterdir() if p.suffix in (".c", ".h")}


def test_every_kernel_file_is_named_by_an_op_or_shared():
    unnamed = _kernel_files() - ops.kernel_files_named()
    assert unnamed == set(), f"kernel files no op of engine/ops.py names: {sorted(unnamed)}"


def test_every_kernel_file_an_op_names_exists():
    files = _kernel_files()
    missing = {f"{op}: {name}" for op, support in ops.OPS.items() for name in support.kernels if name not in files} | {
        name for name in (*ops.SHARED_KERNELS, *ops.KERNEL_DEPENDENCIES) if name not in files
    }
    missing |= {dep for deps in ops.KERNEL_DEPENDENCIES.values() for dep in deps if dep not in files}
    assert missing == set(), f"kernel files named in engine/ops.py but not in kernels/: {sorted(missing)}"


def test_every_op_has_a_callable_lowering():
    assert all(callable(support.lower) and support.kernels for support in ops.OPS.values())


MODELS = sorted((FIXTURES / "ops").glob("*.tflite")) + sorted((FIXTURES / "zoo").glob("*/int8.tflite"))


@pytest.mark.parametrize("model", [m for m in MODELS if "unsupported" not in m.name], ids=lambda p: p.stem)
def test_engines_copy_only_kernel_files_their_ops_name(model):
    """build_engine refuses a lowering that calls into a file its entry does not name; what it copies is named."""
    graph = read_model(model.read_bytes())
    try:
        engine = build_engine(graph, model_context(graph, model, "net"))
    except UnsupportedError:
        pytest.skip("the engine does not run this model")
    named = ops.kernel_files_named()
    assert set(engine.kernel_files) <= named
    assert set(engine.kernel_files) <= set(engine.files)
