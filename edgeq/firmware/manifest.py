"""``edgeq-engine.json``: what a compiled-engine folder holds, for the firmware builder.

``edgeq generate --format engine`` writes it beside ``NAME.h``/``NAME.c``: the
engine's C name, its inputs and outputs (shape, dtype, bytes, quantization) and
its arena size. ``edgeq build`` reads it to glue the engine to the serial
protocol without parsing C.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgeq.errors import UsageError

MANIFEST = "edgeq-engine.json"
FORMAT = "edgeq-engine"
VERSION = 1
# Files a TFLM project folder (edgeq generate --format tflm) always has.
TFLM_MARKERS = ("main.cc", "platform.cc")


@dataclass(frozen=True)
class TensorInfo:
    """One engine input or output; ``offset`` is its byte offset when all inputs (or outputs) are concatenated."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    bytes: int
    elements: int
    scale: float | None
    zero_point: int | None
    offset: int


@dataclass(frozen=True)
class EngineManifest:
    """The facts of one generated engine folder."""

    name: str
    macro: str
    source: str
    sources: tuple[str, ...]
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]
    arena_bytes: int
    ops: tuple[str, ...]
    results_are_mse: bool
    edgeq_version: str

    @property
    def input_bytes(self) -> int:
        """Bytes of all inputs together (what ``db load N`` loads)."""
        return sum(t.bytes for t in self.inputs)

    @property
    def output_bytes(self) -> int:
        """Bytes of all outputs together (what ``raw%`` prints)."""
        return sum(t.bytes for t in self.outputs)


def _tensors(tensors: Any) -> list[dict[str, Any]]:
    out, offset = [], 0
    for t in tensors:
        q = t.quantization
        quantized = q is not None and len(q.scale) > 0 and t.dtype not in ("float32", "float16")
        out.append(
            {
                "name": t.name,
                "shape": list(t.shape),
                "dtype": t.dtype,
                "bytes": t.nbytes,
                "elements": t.size,
                "scale": float(q.scale[0]) if quantized else None,
                "zero_point": int(q.zero_point[0]) if quantized and q.zero_point else (0 if quantized else None),
                "offset": offset,
            }
        )
        offset += t.nbytes
    return out


def results_are_mse(ctx: Any) -> bool:
    """An autoencoder-shaped model (``ctx``: an :class:`edgeq.codegen.context.ModelContext`) reports MSE:
    one input, one output of the same shape, no softmax. The DUT firmware then sends MSE, not scores."""
    if len(ctx.inputs) != 1 or len(ctx.outputs) != 1:
        return False
    return ctx.inputs[0].shape == ctx.outputs[0].shape and "SOFTMAX" not in ctx.ops


def engine_manifest(graph: Any, ctx: Any, files: list[str], arena_bytes: int, ops: tuple[str, ...]) -> str:
    """The manifest text for an engine generated from ``graph`` with template context ``ctx``."""
    data = {
        "format": FORMAT,
        "version": VERSION,
        "edgeq_version": ctx.edgeq_version,
        "name": ctx.ident,
        "macro": ctx.macro,
        "source": ctx.source,
        "sources": sorted(f for f in files if f.endswith(".c")),
        "inputs": _tensors(graph.input_tensors),
        "outputs": _tensors(graph.output_tensors),
        "arena_bytes": arena_bytes,
        "ops": list(ops),
        "results_are_mse": results_are_mse(ctx),
    }
    return json.dumps(data, indent=2) + "\n"


def read_manifest(folder: Path) -> EngineManifest:
    """The manifest of the engine folder ``folder``; UsageError when it is no engine folder."""
    path = folder / MANIFEST
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder; pass the folder edgeq generate --format engine wrote")
    if not path.is_file():
        if all((folder / marker).is_file() for marker in TFLM_MARKERS):
            raise UsageError(
                f"{folder} is a TFLM project: build it with its own toolchain (see its README.md); "
                "edgeq build takes engine folders (edgeq generate MODEL --format engine)"
            )
        raise UsageError(
            f"{folder} has no {MANIFEST}: generate it with edgeq generate MODEL.tflite --format engine -o {folder}"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT or data.get("version") != VERSION:
            raise ValueError(f"format {data.get('format')!r} version {data.get('version')!r}")
        return _from_dict(data)
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{path} is not a valid engine manifest ({exc}); regenerate the engine") from exc


def _from_dict(data: dict[str, Any]) -> EngineManifest:
    def tensors(key: str) -> tuple[TensorInfo, ...]:
        return tuple(TensorInfo(**{**t, "shape": tuple(t["shape"])}) for t in data[key])

    return EngineManifest(
        name=data["name"],
        macro=data["macro"],
        source=data["source"],
        sources=tuple(data["sources"]),
        inputs=tensors("inputs"),
        outputs=tensors("outputs"),
        arena_bytes=int(data["arena_bytes"]),
        ops=tuple(data["ops"]),
        results_are_mse=bool(data["results_are_mse"]),
        edgeq_version=data["edgeq_version"],
    )
