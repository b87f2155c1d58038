"""The ``edgeq-engine.json`` of a generated engine: its name, I/O, arena and sources, for ``edgeq build``.

The record and its file format are :mod:`edgeq.firmware.manifest` (the
firmware reads it, and firmware sits below codegen); this module fills it from
the model's one I/O description, :class:`edgeq.model.io.ModelIO`.
"""

from __future__ import annotations

from collections.abc import Iterable

from edgeq.codegen.context import ModelContext, results_are_mse
from edgeq.firmware.manifest import MANIFEST, EngineManifest
from edgeq.model import Graph
from edgeq.model.io import model_inputs, model_outputs

__all__ = ["MANIFEST", "engine_manifest"]


def engine_manifest(
    graph: Graph, ctx: ModelContext, files: Iterable[str], arena_bytes: int, ops: tuple[str, ...]
) -> str:
    """The manifest text of an engine generated from ``graph`` with template context ``ctx`` into ``files``."""
    manifest = EngineManifest(
        name=ctx.ident,
        macro=ctx.macro,
        source=ctx.source,
        sources=tuple(sorted(f for f in files if f.endswith(".c"))),
        inputs=model_inputs(graph),
        outputs=model_outputs(graph),
        arena_bytes=arena_bytes,
        ops=tuple(ops),
        results_are_mse=results_are_mse(ctx),
        edgeq_version=ctx.edgeq_version,
    )
    return manifest.to_json()
