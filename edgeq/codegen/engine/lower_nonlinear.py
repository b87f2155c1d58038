"""Lowering of the fixed-point nonlinear ops: SOFTMAX, LOGISTIC, TANH, LEAKY_RELU, HARD_SWISH, MEAN."""

from __future__ import annotations

from edgeq.codegen.engine import nonlinear_params as nl
from edgeq.codegen.engine.emitter import Emitter
from edgeq.codegen.engine.lower_core import expect_dtype, qparams, unsupported
from edgeq.model import Graph, Operator


def _unary(graph: Graph, op: Operator):
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    expect_dtype(op, [x, y])
    (in_s,), (in_zp,) = qparams(op, x)
    (out_s,), (out_zp,) = qparams(op, y)
    return x, y, in_s, in_zp, out_s, out_zp


def _params(op: Operator, make, *args) -> dict[str, int]:
    """``make(*args)``; a ValueError (scales TFLM rejects) becomes an UnsupportedError naming the op."""
    try:
        return make(*args)
    except ValueError as exc:
        raise unsupported(op, str(exc)) from None


def lower_softmax(em: Emitter, graph: Graph, op: Operator) -> None:
    x, y, in_s, _, out_s, out_zp = _unary(graph, op)
    if abs(out_s - 1.0 / 256.0) > 1e-9 or out_zp != -128:
        raise unsupported(op, f"output scale {out_s} / zero point {out_zp} (TFLM needs 1/256 and -128)")
    depth = x.shape[-1]
    fields = {
        "rows": x.size // depth,
        "depth": depth,
        **_params(op, nl.softmax_params, op.options.get("beta", 1.0), in_s),
    }
    p = em.struct("eq_softmax_params", em.name(op.index, "params"), fields)
    em.call(op.index, "eq_softmax_s8", [f"&{p}", em.ptr(x.index), em.ptr(y.index)], op.builtin, "edgeq_softmax.c")


def _sigmoid_like(em: Emitter, graph: Graph, op: Operator, kernel: str, params) -> None:
    x, y, in_s, in_zp, _, _ = _unary(graph, op)
    fields = {"size": x.size, **_params(op, params, in_s, in_zp)}
    p = em.struct("eq_sigmoid_params", em.name(op.index, "params"), fields)
    em.call(op.index, kernel, [f"&{p}", em.ptr(x.index), em.ptr(y.index)], op.builtin, "edgeq_sigmoid.c")


def lower_logistic(em: Emitter, graph: Graph, op: Operator) -> None:
    _sigmoid_like(em, graph, op, "eq_logistic_s8", nl.logistic_params)


def lower_tanh(em: Emitter, graph: Graph, op: Operator) -> None:
    _sigmoid_like(em, graph, op, "eq_tanh_s8", nl.tanh_params)


def lower_leaky_relu(em: Emitter, graph: Graph, op: Operator) -> None:
    x, y, in_s, in_zp, out_s, out_zp = _unary(graph, op)
    fields = {
        "size": x.size,
        **_params(op, nl.leaky_relu_params, op.options.get("alpha", 0.2), in_s, in_zp, out_s, out_zp),
    }
    fields.setdefault("act_min", -128)
    fields.setdefault("act_max", 127)
    p = em.struct("eq_unary_params", em.name(op.index, "params"), fields)
    args = [f"&{p}", em.ptr(x.index), em.ptr(y.index)]
    em.call(op.index, "eq_leaky_relu_s8", args, op.builtin, "edgeq_leaky_relu_hard_swish.c")


def lower_hard_swish(em: Emitter, graph: Graph, op: Operator) -> None:
    x, y, in_s, in_zp, out_s, out_zp = _unary(graph, op)
    fields = {"size": x.size, **_params(op, nl.hard_swish_params, in_s, in_zp, out_s, out_zp)}
    p = em.struct("eq_hard_swish_params", em.name(op.index, "params"), fields)
    args = [f"&{p}", em.ptr(x.index), em.ptr(y.index)]
    em.call(op.index, "eq_hard_swish_s8", args, op.builtin, "edgeq_leaky_relu_hard_swish.c")


def lower_mean(em: Emitter, graph: Graph, op: Operator) -> None:
    x, y, in_s, in_zp, out_s, out_zp = _unary(graph, op)
    axes = graph.tensors[op.inputs[1]].numpy()
    if axes is None or sorted(int(a) % 4 for a in axes.reshape(-1)) != [1, 2] or len(x.shape) != 4 or x.shape[0] != 1:
        raise unsupported(
            op,
            f"MEAN over axes {None if axes is None else axes.tolist()} of shape {list(x.shape)} (only H and W of NHWC)",
        )
    _, h, w, c = x.shape
    fields = {"in_h": h, "in_w": w, "channels": c, **_params(op, nl.mean_params, in_s, in_zp, out_s, out_zp, h * w)}
    p = em.struct("eq_mean_params", em.name(op.index, "params"), fields)
    em.call(op.index, "eq_mean_hw_s8", [f"&{p}", em.ptr(x.index), em.ptr(y.index)], op.builtin, "edgeq_reduce.c")
