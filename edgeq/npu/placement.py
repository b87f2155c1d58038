"""Which ops of the input model Vela put on the NPU, and why the others stay on the CPU.

Vela's output keeps every CPU op as the ordinary TFLite op it was, with its
output tensors' names, and replaces each group of NPU ops by one ``ethos-u``
custom op. An input op is on the CPU when an op of the same type writing the
same tensors is in the output; every other input op went into an ``ethos-u``
command stream (Vela also folds away ops whose result it can compute while
compiling, such as the SHAPE of a static tensor: those count as NPU ops, as
Vela's own summary counts them). The reason of a CPU op comes from the
warning Vela printed for it (matched by op type and output tensor), in one
plain sentence.
"""

from __future__ import annotations

import re

from edgeq.model import Graph, Operator
from edgeq.model.graph import activation_dtypes
from edgeq.npu.types import NpuOp
from edgeq.npu.vela import Rejection

ETHOS_U_OP = "ethos-u"
INTEGER_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "bool")
_TENSOR_NAME = re.compile(r"\s*\([^()]*\)$")  # Vela ends some reasons with the tensor's name in brackets
_FAMILIES = {"u55": "Ethos-U55", "u65": "Ethos-U65", "u85": "Ethos-U85"}


def place_ops(source: Graph, compiled: Graph, rejections: tuple[Rejection, ...], accelerator: str) -> tuple[NpuOp, ...]:
    """Every op of ``source`` with its placement in ``compiled`` (Vela's output) and, on the CPU, the reason."""
    kept = {_key(compiled, op) for op in compiled.operators if op.name != ETHOS_U_OP}
    kept_outputs = {key[1] for key in kept}
    ops = []
    for op in source.operators:
        key = _key(source, op)
        if key in kept or (key[1] in kept_outputs and key[1]):
            reason = cpu_reason(source, op, rejections, accelerator)
            ops.append(NpuOp(op.index, op.name, "cpu", reason))
        else:
            ops.append(NpuOp(op.index, op.name, "npu"))
    return tuple(ops)


def _key(graph: Graph, op: Operator) -> tuple[str, tuple[str, ...]]:
    return op.name, tuple(graph.tensors[i].name for i in op.outputs if i >= 0)


def unused_rejections(source: Graph, ops: tuple[NpuOp, ...], rejections: tuple[Rejection, ...]) -> tuple[str, ...]:
    """Notes for the warnings Vela printed about ops that still ended on the NPU (folded while compiling)."""
    cpu_outputs = {
        graph_name
        for op in ops
        if op.placement == "cpu"
        for graph_name in (source.tensors[i].name for i in source.operators[op.index].outputs if i >= 0)
    }
    return tuple(
        f"Vela warned about {r.op} writing {r.ofm!r} ({r.reason}) but did not keep it on the CPU: "
        "its value was fixed while compiling"
        for r in rejections
        if r.ofm not in cpu_outputs
    )


def cpu_reason(graph: Graph, op: Operator, rejections: tuple[Rejection, ...], accelerator: str) -> str:
    """One sentence: why ``op`` stays on the CPU, from Vela's warning about it (or its data types)."""
    npu = _FAMILIES.get(accelerator.split("-")[1] if "-" in accelerator else "", "the Ethos-U")
    names = {graph.tensors[i].name for i in op.outputs if i >= 0}
    found = next((r for r in rejections if r.ofm in names and r.op.upper() == op.name.upper()), None)
    found = found or next((r for r in rejections if r.ofm in names), None)
    floats = [d for d in activation_dtypes(graph, op) if d not in INTEGER_DTYPES]
    if found is None:
        if floats:
            return f"it works on {floats[0]} data and the {npu} runs int8/int16 ops only, so TFLM runs it on the CPU"
        return f"Vela left it on the CPU without naming a reason (it did not map it to the {npu})"
    said = _TENSOR_NAME.sub("", found.reason).rstrip(".")
    if said.lower() == "unsupported optype":
        return f"Vela has no {npu} implementation of {op.name} (Vela: Unsupported opType), so TFLM runs it on the CPU"
    if "shapeless tensor" in said.lower() or "constant shape" in found.detail.lower():
        return (
            f"its tensor shapes are only known at run time and the {npu} needs constant shapes "
            f"(Vela: {said}), so TFLM runs it on the CPU"
        )
    if "datatype" in said.lower() and floats:
        return f"it works on {floats[0]} data and the {npu} runs int8/int16 ops only (Vela: {said})"
    rule = f"{found.detail.rstrip('.')}: {said}" if found.detail else said
    return f"the {npu} cannot run it as it is (Vela: {rule}), so TFLM runs it on the CPU"
