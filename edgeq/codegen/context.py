"""The facts about a model that every generator writes: names, I/O, ops, hashes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgeq import __version__
from edgeq.codegen.cgen import c_comment, c_float, c_identifier, c_int, c_macro_prefix
from edgeq.model import Graph
from edgeq.model.io import ModelIO, model_inputs, model_outputs


@dataclass(frozen=True)
class TensorMacro:
    """One model input or output as the generated headers write it: the facts of its ModelIO, formatted for C."""

    io: ModelIO

    @property
    def index(self) -> int:
        """Its position among the model's inputs (or outputs): the N of ``NAME_INPUTN_*``."""
        return self.io.position

    @property
    def name(self) -> str:
        """The tensor's name, safe inside a C comment."""
        return c_comment(self.io.name)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.io.shape

    @property
    def dtype(self) -> str:
        return self.io.dtype

    @property
    def elements(self) -> int:
        return self.io.elements

    @property
    def bytes(self) -> int:
        return self.io.nbytes

    @property
    def scale(self) -> str | None:
        """The scale as a C float literal, None when not quantized."""
        return c_float(self.io.scale) if self.io.scale is not None else None

    @property
    def zero_point(self) -> str | None:
        """The zero point as a C int literal, None when not quantized."""
        return c_int(self.io.zero_point or 0) if self.io.scale is not None else None

    @property
    def quant_text(self) -> str:
        """``scale S, zero point Z`` for comments and READMEs ("" when not quantized)."""
        if self.io.scale is None:
            return ""
        return f"scale {self.io.scale:.9g}, zero point {self.io.zero_point or 0}"


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
        inputs=tuple(TensorMacro(io) for io in model_inputs(graph)),
        outputs=tuple(TensorMacro(io) for io in model_outputs(graph)),
    )


def results_are_mse(ctx: ModelContext) -> bool:
    """An autoencoder-shaped model reports MSE: one input, one output of the same shape, no softmax.

    The DUT firmware then sends MSE, not scores.
    """
    if len(ctx.inputs) != 1 or len(ctx.outputs) != 1:
        return False
    return ctx.inputs[0].shape == ctx.outputs[0].shape and "SOFTMAX" not in ctx.ops
