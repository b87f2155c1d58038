"""The facts about a model that every generator writes: names, I/O, ops, hashes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgeq import __version__
from edgeq.codegen.cgen import c_comment, c_float, c_identifier, c_int, c_macro_prefix
from edgeq.model import Graph, Tensor


@dataclass(frozen=True)
class TensorMacro:
    """One model input or output as the generated headers describe it."""

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    elements: int
    bytes: int
    scale: str | None
    zero_point: str | None
    quant_text: str = ""


@dataclass(frozen=True)
class ModelContext:
    """Everything a template needs about the model."""

    ident: str
    macro: str
    source: str
    sha256: str
    size: int
    ops: tuple[str, ...]
    inputs: tuple[TensorMacro, ...]
    outputs: tuple[TensorMacro, ...]
    edgeq_version: str = __version__

    @property
    def ops_text(self) -> str:
        return ", ".join(self.ops)


def model_context(graph: Graph, source: str | Path, name: str | None) -> ModelContext:
    """Build the template context; ``name`` defaults to the model's file stem."""
    ident = c_identifier(name or Path(str(source)).stem)
    ops = tuple(dict.fromkeys(op.name for op in graph.operators))
    return ModelContext(
        ident=ident,
        macro=c_macro_prefix(ident),
        source=c_comment(Path(str(source)).name),
        sha256=graph.sha256,
        size=graph.size_bytes,
        ops=ops,
        inputs=tuple(_tensor_macro(i, t) for i, t in enumerate(graph.input_tensors)),
        outputs=tuple(_tensor_macro(i, t) for i, t in enumerate(graph.output_tensors)),
    )


def _tensor_macro(position: int, tensor: Tensor) -> TensorMacro:
    q = tensor.quantization
    quantized = q is not None and len(q.scale) > 0 and tensor.dtype not in ("float32", "float16")
    return TensorMacro(
        index=position,
        name=c_comment(tensor.name),
        shape=tuple(tensor.shape),
        dtype=tensor.dtype,
        elements=tensor.size,
        bytes=tensor.nbytes,
        scale=c_float(q.scale[0]) if quantized else None,
        zero_point=c_int(q.zero_point[0] if q.zero_point else 0) if quantized else None,
        quant_text=f"scale {q.scale[0]:.9g}, zero point {q.zero_point[0] if q.zero_point else 0}" if quantized else "",
    )
