"""``edgeq-engine.json``: what a compiled-engine folder holds, for the firmware builder.

``edgeq generate --format engine`` writes it beside ``NAME.h``/``NAME.c``
(:mod:`edgeq.codegen.engine.manifest` fills it): the engine's C name, its
inputs and outputs (shape, dtype, bytes, quantization) and its arena size.
``edgeq build`` reads it to glue the engine to the serial protocol without
parsing C. This module is the file format: the record, its JSON text and its
reader.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgeq.errors import UsageError
from edgeq.model.io import ModelIO

MANIFEST = "edgeq-engine.json"
FORMAT = "edgeq-engine"
VERSION = 1
# Files a TFLM project folder (edgeq generate --format tflm) always has.
TFLM_MARKERS = ("main.cc", "platform.cc")
NO_TENSOR_INDEX = -1  # the manifest does not record the graph index of a tensor: ModelIO.index of one read back


@dataclass(frozen=True)
class EngineManifest:
    """The facts of one generated engine folder; ``inputs`` and ``outputs`` as the model describes them."""

    name: str
    macro: str
    source: str
    sources: tuple[str, ...]
    inputs: tuple[ModelIO, ...]
    outputs: tuple[ModelIO, ...]
    arena_bytes: int
    ops: tuple[str, ...]
    results_are_mse: bool
    edgeq_version: str

    @property
    def input_bytes(self) -> int:
        """Bytes of all inputs together (what ``db load N`` loads)."""
        return sum(t.nbytes for t in self.inputs)

    @property
    def output_bytes(self) -> int:
        """Bytes of all outputs together (what ``raw%`` prints)."""
        return sum(t.nbytes for t in self.outputs)

    def to_json(self) -> str:
        """The text of ``edgeq-engine.json``."""
        data = {
            "format": FORMAT,
            "version": VERSION,
            "edgeq_version": self.edgeq_version,
            "name": self.name,
            "macro": self.macro,
            "source": self.source,
            "sources": list(self.sources),
            "inputs": [_tensor_dict(t) for t in self.inputs],
            "outputs": [_tensor_dict(t) for t in self.outputs],
            "arena_bytes": self.arena_bytes,
            "ops": list(self.ops),
            "results_are_mse": self.results_are_mse,
        }
        return json.dumps(data, indent=2) + "\n"


def _tensor_dict(t: ModelIO) -> dict[str, Any]:
    return {
        "name": t.name,
        "shape": list(t.shape),
        "dtype": t.dtype,
        "bytes": t.nbytes,
        "elements": t.elements,
        "scale": t.scale,
        "zero_point": t.zero_point,
        "offset": t.offset,
    }


def _tensor(position: int, t: dict[str, Any]) -> ModelIO:
    return ModelIO(
        position=position,
        index=NO_TENSOR_INDEX,
        name=t["name"],
        shape=tuple(t["shape"]),
        dtype=t["dtype"],
        scale=t["scale"],
        zero_point=t["zero_point"],
        nbytes=t["bytes"],
        offset=t["offset"],
    )


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
    def tensors(key: str) -> tuple[ModelIO, ...]:
        return tuple(_tensor(i, t) for i, t in enumerate(data[key]))

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
