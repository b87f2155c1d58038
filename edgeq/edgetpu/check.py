"""Predict which operators the Edge TPU compiler maps, and why the others stay on the CPU.

Two steps, as the compiler reports them:

1. Each operator on its own: data types, supported operation, static sizes,
   rank, constant parameters, then the op's documented limitation.
2. Partitioning: the compiler (without ``-a``) builds one Edge TPU segment. The
   first operator it cannot map, in execution order, and every operator after
   it run on the CPU. Coral's documentation states this rule; a Coral
   maintainer (google-coral/edgetpu issue 461) explains that supported ops
   stranded after that point are logged as "More than one subgraph is not
   supported", except QUANTIZE, logged as "otherwise supported, but not mapped".
   Float-to-integer conversions at the model's inputs and outputs run on the
   CPU without splitting the model (the compiler's logs show a float model's
   input QUANTIZE on the CPU and everything after it mapped).
"""

from __future__ import annotations

import os

from edgeq.edgetpu.constraints import check_constraints
from edgeq.edgetpu.ops import EDGETPU_CUSTOM_OP, is_supported
from edgeq.edgetpu.rules import Verdict, check_dtypes, check_parameters, check_rank, check_static
from edgeq.edgetpu.subgraphs import subgraph_op_names
from edgeq.edgetpu.types import EdgeTpuReport, OpCheck, Status
from edgeq.errors import ModelFormatError
from edgeq.model.graph import CONVERSION_OPS, FLOAT_DTYPES, Graph, Operator
from edgeq.model.reader import Source, read_bytes, read_model

# Advice Coral maintainers gave for common unsupported ops (google-coral/edgetpu issues 147, 272, 597).
_ALTERNATIVES = {
    "LEAKY_RELU": "replace it with ReLU or PReLU",
    "HARD_SWISH": "replace it with ReLU or ReLU6",
}


def check_model(source: Source | Graph) -> EdgeTpuReport:
    """Predict the Edge TPU compiler's placement of every operator of a .tflite model.

    Args:
        source: A .tflite path, its bytes, or an already-read :class:`~edgeq.model.Graph`.

    Returns:
        One verdict per operator plus the totals the compiler prints.

    Raises:
        ModelFormatError: ``source`` is missing, unreadable or not a TFLite model.
    """
    if isinstance(source, Graph):
        return check_graph(source)
    data = read_bytes(source)
    name = "<bytes>" if isinstance(source, (bytes, bytearray, memoryview)) else os.fspath(source)
    try:
        graph = read_model(data, name=name)
    except ModelFormatError:
        names = subgraph_op_names(data, name)
        if names is None or len(names) < 2:
            raise
        return _multi_subgraph_report(name, names)
    return check_graph(graph)


def check_graph(graph: Graph) -> EdgeTpuReport:
    """:func:`check_model` for a graph that is already read."""
    verdicts = [classify(graph, op) for op in graph.operators]
    return EdgeTpuReport(
        model=graph.name,
        ops=partition(graph, verdicts),
        compiled=any(op.custom_code == EDGETPU_CUSTOM_OP for op in graph.operators),
        notes=model_notes(graph),
    )


def classify(graph: Graph, op: Operator) -> tuple[Status, str]:
    """The status of ``op`` taken on its own (before partitioning) and edgeq's reason."""
    if op.custom_code == EDGETPU_CUSTOM_OP:
        return Status.MAPPED, ""
    if op.builtin == "QUANTIZE" and _reads_float(graph, op):
        return Status.LIMITATION, "converts float data to integer, which runs on the CPU; give the model int8 inputs"
    rules = (check_dtypes, _check_supported, check_static, check_rank, check_parameters, check_constraints)
    for rule in rules:
        verdict = rule(graph, op)
        if verdict:
            return verdict
    return Status.MAPPED, ""


def partition(graph: Graph, verdicts: list[tuple[Status, str]]) -> tuple[OpCheck, ...]:
    """Apply the compiler's single partition: after the first CPU op, supported ops run on the CPU too."""
    split: Operator | None = None
    out = []
    for op, (status, reason) in zip(graph.operators, verdicts):
        if split is not None and status is Status.MAPPED:
            status = Status.LIMITATION if op.builtin == "QUANTIZE" else Status.SUBGRAPH
            reason = (
                f"supported, but runs after op {split.index} ({split.name}), which the Edge TPU cannot run; "
                "the compiler maps one segment"
            )
        elif split is None and status is not Status.MAPPED and not _edge_conversion(graph, op):
            split = op
        out.append(OpCheck(op.index, op.name, status, reason))
    return tuple(out)


def model_notes(graph: Graph) -> tuple[str, ...]:
    """Model-level remarks: a compiled model, a dynamic batch size, shapes computed at run time."""
    notes = []
    if any(op.custom_code == EDGETPU_CUSTOM_OP for op in graph.operators):
        notes.append(f"the model is already compiled for the Edge TPU ({EDGETPU_CUSTOM_OP})")
    if any(t.shape_signature[:1] == (-1,) for t in graph.input_tensors):
        notes.append(
            "the batch dimension is dynamic (shape signature -1); edgeq assumes the stored size, "
            "convert with a fixed batch size of 1 to give the compiler static shapes"
        )
    if any(op.builtin == "SHAPE" for op in graph.operators):
        notes.append(
            "the model computes a shape at run time (SHAPE, e.g. a Keras Flatten with a dynamic batch size); "
            "with a fixed batch size the converter stores it as a constant"
        )
    return tuple(notes)


def _check_supported(graph: Graph, op: Operator) -> Verdict:
    if is_supported(op.builtin):
        return None
    what = f"custom op {op.custom_code!r}" if op.builtin == "CUSTOM" else op.name
    hint = _ALTERNATIVES.get(op.builtin)
    return Status.NOT_SUPPORTED, f"{what} is not in the Edge TPU's supported operations" + (f"; {hint}" if hint else "")


def _reads_float(graph: Graph, op: Operator) -> bool:
    return any(t >= 0 and graph.tensors[t].dtype in FLOAT_DTYPES for t in op.inputs)


def _edge_conversion(graph: Graph, op: Operator) -> bool:
    """A QUANTIZE/DEQUANTIZE fed only by graph inputs or feeding only graph outputs."""
    if op.builtin not in CONVERSION_OPS:
        return False
    inputs = [t for t in op.inputs if t >= 0 and not graph.tensors[t].is_constant]
    at_head = all(t in graph.inputs for t in inputs)
    at_tail = all(t in graph.outputs and t not in graph.consumers for t in op.outputs)
    return at_head or at_tail


def _multi_subgraph_report(name: str, subgraphs: list[list[str]]) -> EdgeTpuReport:
    reason = (
        f"the model has {len(subgraphs)} subgraphs (control flow such as WHILE or IF); edgeq assumes none of it "
        "maps, as the compiler builds one Edge TPU segment; convert without control flow or run edgetpu_compiler"
    )
    names = [op for ops in subgraphs for op in ops]
    ops = tuple(OpCheck(i, op, Status.SUBGRAPH, reason) for i, op in enumerate(names))
    return EdgeTpuReport(model=name, ops=ops, subgraph_count=len(subgraphs))
