"""Pair the tensors of an int8 model with the float model's and the debug model's.

The int8 and float flatbuffers come from the same conversion, so an op output
keeps its name; the NumericVerify debug model renames its copies, so its ops
are paired with the int8 model's by order, op type and shape.
"""

from __future__ import annotations

from edgeq.model import Graph

QUANTIZED = frozenset({"int8", "uint8", "int16"})
QRANGE = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767)}


def tracked_tensors(graph: Graph) -> dict[int, int]:
    """Quantized tensor index -> index of the op writing it (-1 for model inputs)."""
    found = {t: -1 for t in graph.inputs if quant_params(graph, t) is not None}
    for op in graph.operators:
        for t in op.outputs:
            if t >= 0 and quant_params(graph, t) is not None:
                found[t] = op.index
    return found


def quant_params(graph: Graph, t: int) -> tuple[float, int] | None:
    tensor = graph.tensors[t]
    q = tensor.quantization
    if tensor.dtype not in QUANTIZED or tensor.is_constant or q is None or len(q.scale) != 1:
        return None
    return float(q.scale[0]), int(q.zero_point[0]) if q.zero_point else 0


def float_indices(g8: Graph, gf: Graph, tracked: dict[int, int]) -> dict[int, int]:
    """int8 tensor -> float model tensor with the same name and element count."""
    by_name: dict[str, int] = {}
    for t in gf.tensors:
        by_name.setdefault(t.name, t.index)
    pairs = {t: by_name.get(g8.tensors[t].name) for t in tracked}
    pairs.update({t: f for t, f in zip(g8.inputs, gf.inputs) if t in tracked})
    return {t: f for t, f in pairs.items() if f is not None and gf.tensors[f].size == g8.tensors[t].size}


def align_debug(gd: Graph, g8: Graph, tracked: dict[int, int]) -> dict[int, tuple[int, int]]:
    """int8 tensor -> (quantized, float) tensors of the NumericVerify op checking it in the debug model.

    The debug model holds the same quantized ops in the same order, with extra
    ops in between; tensor names differ (the quantizer renames the copies), so
    ops are paired in order by op type and output shape.
    """
    ops8 = [(g8.operators[op], t) for t, op in tracked.items() if op >= 0]
    pairs: dict[int, tuple[int, int]] = {}
    start = 0
    for op in gd.operators:
        if op.name != "NumericVerify" or op.inputs[0] not in gd.producers:
            continue
        q, f = op.inputs[0], op.inputs[1]
        kind, shape = gd.operators[gd.producers[q]].builtin, gd.tensors[q].shape
        for k in range(start, len(ops8)):
            op8, t = ops8[k]
            if op8.builtin == kind and g8.tensors[t].shape == shape:
                pairs[t], start = (q, f), k + 1
                break
    return pairs


def range_used(dtype: str, scale: float, zp: int) -> tuple[float, float]:
    qmin, qmax = QRANGE[dtype]
    return scale * (qmin - zp), scale * (qmax - zp)


__all__ = ["QRANGE", "QUANTIZED", "align_debug", "float_indices", "quant_params", "range_used", "tracked_tensors"]
