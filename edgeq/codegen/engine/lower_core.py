"""Lowering of the core int8 ops to kernel calls with precomputed parameters.

Each ``lower_*`` takes the emitter, the graph and one op, checks every option
it depends on (anything else is an UnsupportedError naming the op, its index and
the option), computes the requantization at generation time and emits one call.
"""

from __future__ import annotations

import math

import numpy as np

from edgeq.codegen.engine import layouts
from edgeq.codegen.engine import quantmath as qm
from edgeq.codegen.engine.emitter import INDENT, Emitter, wrap_braced, wrap_call
from edgeq.codegen.engine.int4 import (
    EXPAND,
    UNPACK_SOURCE,
    compact_rows,
    expand_args,
    packed_layout,
    unpack_call,
    unpacked_bytes,
    unpacked_weights_bytes,
)
from edgeq.codegen.engine.layouts import WEIGHT_TAIL
from edgeq.codegen.engine.operands import constant_data, inconsistent
from edgeq.codegen.engine.requant_table import ChannelTable, acc_bounds, channel_table
from edgeq.codegen.engine.scratch import FC_ROWS, MM_COLS
from edgeq.errors import UnsupportedError
from edgeq.model import Graph, Operator, Tensor


def unsupported(op: Operator, what: str) -> UnsupportedError:
    return UnsupportedError(f"op {op.index} {op.builtin}: {what} is not supported by the edgeq engine")


def qparams(op: Operator, t: Tensor) -> tuple[list[float], list[int]]:
    q = t.quantization
    if q is None or not q.scale:
        raise unsupported(op, f"tensor {t.name!r} without quantization ({t.dtype})")
    zps = list(q.zero_point) if q.zero_point else [0] * len(q.scale)
    return [float(s) for s in q.scale], [int(z) for z in zps]


def expect_dtype(op: Operator, tensors: list[Tensor], dtype: str = "int8") -> None:
    for t in tensors:
        if t.dtype != dtype:
            raise unsupported(op, f"{t.dtype} tensor {t.name!r} (the engine runs {dtype})")


FUSED_ACTIVATIONS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")


def fused_activation(op: Operator) -> str:
    """The op's fused activation, or an UnsupportedError for one the engine cannot fuse."""
    fused = op.options.get("fused_activation_function", "NONE")
    if fused not in FUSED_ACTIVATIONS:
        raise unsupported(op, f"fused activation {fused}")
    return fused


def pad_shape4(op: Operator, shape: tuple[int, ...], what: str = "rank") -> list[int]:
    """``shape`` with leading 1s to rank 4; UnsupportedError (``what`` N) above rank 4."""
    if len(shape) > 4:
        raise unsupported(op, f"{what} {len(shape)}")
    return [1] * (4 - len(shape)) + [int(d) for d in shape]


def act_range(op: Operator, out: Tensor) -> tuple[int, int]:
    fused = fused_activation(op)
    scale, zp = qparams(op, out)
    try:
        return qm.activation_range(fused, scale[0], zp[0])
    except ValueError as exc:
        raise inconsistent(op, f"{fused} over output scale {scale[0]:g}: {exc}") from None


def multipliers(op: Operator, in_s: float, w_s: list[float], out_s: float, channels: int) -> tuple[list, list]:
    """conv_multipliers, refusing scales whose ratio needs a left shift past 31 bits (int32 overflow in C)."""
    mult, shift = qm.conv_multipliers(in_s, w_s, out_s, channels)
    if max(shift, default=0) > 31:
        raise inconsistent(
            op,
            f"input scale {in_s:g} x weight scale {max(w_s):g} / output scale {out_s:g} is 2^{max(shift) - 1} or more",
        )
    return mult, shift


def window_pad(op: Operator, size: int, k: int, stride: int, dilation: int = 1) -> int:
    """TFLite's padding before the first pixel along one axis of size ``size`` (SAME or VALID)."""
    mode = op.options.get("padding", "SAME")
    if mode == "VALID":
        return 0
    if mode != "SAME":
        raise unsupported(op, f"padding {mode}")
    return qm.same_padding(size, k, stride, dilation)[1]


def window_fields(op: Operator, x: Tensor, w: Tensor, y: Tensor) -> dict[str, int]:
    """The geometry fields of a windowed kernel's parameters: NHWC input and output, weights [O, H, W, I]."""
    _, in_h, in_w, in_c = x.shape
    _, out_h, out_w, out_c = y.shape
    return dict(
        in_h=in_h,
        in_w=in_w,
        in_c=in_c,
        out_h=out_h,
        out_w=out_w,
        out_c=out_c,
        k_h=w.shape[1],
        k_w=w.shape[2],
        stride_h=op.options.get("stride_h", 1),
        stride_w=op.options.get("stride_w", 1),
    )


def conv_fields(op: Operator, x: Tensor, w: Tensor, y: Tensor) -> dict[str, int]:
    """``window_fields`` with the dilations and paddings of CONV_2D and DEPTHWISE_CONV_2D (int8 and int16)."""
    f = window_fields(op, x, w, y)
    dh, dw = op.options.get("dilation_h", 1), op.options.get("dilation_w", 1)
    pads = (
        window_pad(op, f["in_h"], f["k_h"], f["stride_h"], dh),
        window_pad(op, f["in_w"], f["k_w"], f["stride_w"], dw),
    )
    return {**f, "dil_h": dh, "dil_w": dw, "pad_top": pads[0], "pad_left": pads[1]}


def _io(graph: Graph, op: Operator) -> tuple[Tensor, Tensor, Tensor, Tensor | None]:
    x, w = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    b = graph.tensor(op.inputs[2]) if len(op.inputs) > 2 else None
    return x, w, graph.tensors[op.outputs[0]], b


def _check_weights(op: Operator, w: Tensor, b: Tensor | None) -> None:
    if not w.is_constant:
        raise unsupported(op, "non-constant weights")
    if w.dtype != "int4":
        expect_dtype(op, [w])
    if b is not None and (b.dtype != "int32" or not b.is_constant):
        raise unsupported(op, f"{b.dtype} bias")


def conv_parts(
    em: Emitter, graph: Graph, op: Operator, depthwise: bool, cols: int = MM_COLS, owner: int | None = None
) -> tuple[str, str, list[str]]:
    """Emit the parameters and constants of a conv; returns (params name, input pointer, weight arguments).

    ``cols``: columns per block of a CONV_2D (its scratch region was planned for that many); ``owner``: the
    op index of the scratch region (a fused CONV_2D+ADD's), ``op.index`` when None.
    """
    x, w, y, b = _io(graph, op)
    expect_dtype(op, [x, y])
    _check_weights(op, w, b)
    if x.shape[0] != 1:
        raise unsupported(op, f"batch {x.shape[0]}")
    (in_s,), (in_zp,) = qparams(op, x)
    w_s, _ = qparams(op, w)
    (out_s,), (out_zp,) = qparams(op, y)
    in_c, out_c = x.shape[3], y.shape[3]
    mult, shift = multipliers(op, in_s, w_s, out_s, out_c)
    lo, hi = act_range(op, y)
    weights = constant_data(op, w).astype(np.int64)
    abs_sums = np.abs(weights).reshape(-1, out_c).sum(0) if depthwise else np.abs(weights).reshape(out_c, -1).sum(1)
    bias = b.numpy() if b is not None else None
    table = channel_table(mult, shift, bias, acc_bounds(abs_sums, bias, in_zp), out_zp, lo, hi)
    fields = dict(
        **conv_fields(op, x, w, y),
        in_offset=-in_zp,
        out_offset=out_zp,
        act_min=lo,
        act_max=hi,
        depth_multiplier=op.options.get("depth_multiplier", 1) if depthwise else 1,
        rq=table.rq,
        cols=cols,
    )
    if depthwise and out_c != in_c * fields["depth_multiplier"]:
        raise unsupported(op, f"depth multiplier {fields['depth_multiplier']} with {in_c} -> {out_c} channels")
    if not depthwise and w.shape[3] != in_c:
        raise unsupported(op, f"grouped convolution ({in_c} input channels, filters of {w.shape[3]})")
    p = em.struct("eq_conv_params", em.name(op.index, "params"), fields)
    if w.dtype != "int4":
        return p, em.ptr(x.index), [_conv_weights(em, op, w, depthwise), _channels(em, op, table)]
    region = op.index if owner is None else owner
    weights_name = int4_weights(em, graph, op, region)
    return p, em.ptr(x.index), [weights_name, int4_channels(em, graph, op, table, region)]


def int4_weights(em: Emitter, graph: Graph, op: Operator, owner: int) -> str:
    """int4 weights packed in flash in the kernel's layout, unpacked before the op's call into the start of the
    scratch region of op ``owner`` (engine.int4); returns the name of the unpacked weights' pointer."""
    source = packed_weights(em, graph, op)
    unpacked = em.scratch(owner, what="weights", ctype="int16_t" if op.builtin == "DEPTHWISE_CONV_2D" else "int8_t")
    em.prelude.append(wrap_call(INDENT * 2, *unpack_call(graph, op, source, unpacked)))
    em.kernels.add(UNPACK_SOURCE)
    return unpacked


def int4_channels(em: Emitter, graph: Graph, op: Operator, table: ChannelTable, owner: int) -> str:
    """The channel parameters of an int4 op, compact in flash (9 bytes a channel), expanded in the prelude into
    ``eq_channel`` rows in the scratch region of op ``owner``, after the unpacked weights; returns the name of
    the rows' pointer."""
    bias, mult, shift = em.compact_channels(em.name(op.index, "channel"), compact_rows(table))
    skip = unpacked_weights_bytes(graph, op)
    rows = em.scratch(owner, skip=skip, what="channels", ctype="eq_channel")
    em.prelude.append(wrap_call(INDENT * 2, EXPAND, expand_args(bias, mult, shift, table, rows)))
    em.kernels.add(UNPACK_SOURCE)
    return rows


def packed_weights(em: Emitter, graph: Graph, op: Operator) -> str:
    """The constant array of ``op``'s int4 weights, packed in the kernel's layout (engine.int4); returns its name."""
    w = graph.tensors[op.inputs[1]]
    packed, _, layout = packed_layout(graph, op)
    key, name = ("weights4", w.index, op.builtin), em.name(op.index, "weights4")
    return em.const_array(key, name, packed, f"{layout}: {w.name}", role="weights")


def kernel_scratch(em: Emitter, graph: Graph, op: Operator, owner: int) -> str:
    """The kernel's own scratch of ``op`` in the region of op ``owner``: after any unpacked int4 weights."""
    return em.scratch(owner, skip=unpacked_bytes(graph, op))


def _conv_weights(em: Emitter, op: Operator, w: Tensor, depthwise: bool) -> str:
    """The weights in the kernel's layout, as a constant array; returns its name."""
    if depthwise:
        data, layout, kind = layouts.depthwise_weights(constant_data(op, w)), "int16 [quads][taps][4]", "dw"
    else:
        data, layout, kind = layouts.conv_weights(constant_data(op, w)), "[out_c][k_h][row taps]", "conv"
    # the kernels read whole column widths of the last row
    name = em.name(op.index, f"{kind}_weights")
    return em.const_array(("weights", w.index, kind), name, data, f"{layout}: {w.name}", WEIGHT_TAIL, "weights")


def _channels(em: Emitter, op: Operator, table: ChannelTable) -> str:
    return em.channel_table(em.name(op.index, "channels"), table.rows)


def _conv_like(em: Emitter, graph: Graph, op: Operator, depthwise: bool) -> None:
    p, x, args = conv_parts(em, graph, op, depthwise, em.block_cols.get(op.index, MM_COLS))
    kernel = "eq_depthwise_conv2d_s8" if depthwise else "eq_conv2d_s8"
    out = em.ptr(op.outputs[0])
    source = "edgeq_depthwise.c" if depthwise else "edgeq_conv.c"
    em.call(op.index, kernel, [f"&{p}", x, *args, kernel_scratch(em, graph, op, op.index), out], op.builtin, source)


def lower_conv2d(em: Emitter, graph: Graph, op: Operator) -> None:
    _conv_like(em, graph, op, depthwise=False)


def lower_depthwise(em: Emitter, graph: Graph, op: Operator) -> None:
    _conv_like(em, graph, op, depthwise=True)


def lower_fully_connected(em: Emitter, graph: Graph, op: Operator) -> None:
    x, w, y, b = _io(graph, op)
    expect_dtype(op, [x, y])
    _check_weights(op, w, b)
    if op.options.get("weights_format", "DEFAULT") != "DEFAULT":
        raise unsupported(op, f"weights format {op.options['weights_format']}")
    (in_s,), (in_zp,) = qparams(op, x)
    w_s, w_zp = qparams(op, w)
    (out_s,), (out_zp,) = qparams(op, y)
    out_depth, in_depth = w.shape
    per_channel = len(w_s) > 1
    mult, shift = multipliers(op, in_s, w_s, out_s, out_depth)
    lo, hi = act_range(op, y)
    w_offset = 0 if per_channel else -w_zp[0]  # the per-channel kernel ignores a weight zero point, as TFLM's
    abs_sums = np.abs(constant_data(op, w).astype(np.int64) + w_offset).sum(1)
    bias = b.numpy() if b is not None else None
    table = channel_table(mult, shift, bias, acc_bounds(abs_sums, bias, in_zp), out_zp, lo, hi)
    fields = dict(
        batches=x.size // in_depth,
        in_depth=in_depth,
        out_depth=out_depth,
        in_offset=-in_zp,
        weight_offset=w_offset,
        out_offset=out_zp,
        act_min=lo,
        act_max=hi,
        per_channel=int(per_channel),
        rq=table.rq,
        direct=int(em.variants.get(op.index) == "direct"),  # the int8 input read directly, no scratch
    )
    p = em.struct("eq_fc_params", em.name(op.index, "params"), fields)
    if w.dtype == "int4" and em.variants.get(op.index) == FC_ROWS:  # packed rows, two unpacked at a time
        weights = packed_weights(em, graph, op)
        compact = em.compact_channels(em.name(op.index, "channel"), compact_rows(table))
        args = [f"&{p}", em.ptr(x.index), weights, *compact, str(table.base), em.scratch(op.index), em.ptr(y.index)]
        em.call(op.index, "eq_fully_connected_s4", args, op.builtin, "edgeq_fc_int4.c")
        return
    if w.dtype == "int4":
        weights = int4_weights(em, graph, op, op.index)
    else:
        weights = em.const_tensor(w, em.name(op.index, "fc_weights"), tail=WEIGHT_TAIL, role="weights")
    x_ptr = em.ptr(x.index)  # pointers are declared in the order of first use
    channels = int4_channels(em, graph, op, table, op.index) if w.dtype == "int4" else _channels(em, op, table)
    scratch = kernel_scratch(em, graph, op, op.index)
    args = [f"&{p}", x_ptr, weights, channels, scratch, em.ptr(y.index)]
    em.call(op.index, "eq_fully_connected_s8", args, op.builtin, "edgeq_fc.c")


def lower_pool(em: Emitter, graph: Graph, op: Operator) -> None:
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    expect_dtype(op, [x, y])
    if x.shape[0] != 1:
        raise unsupported(op, f"batch {x.shape[0]}")
    _, in_h, in_w, ch = x.shape
    _, out_h, out_w, _ = y.shape
    fh, fw = op.options.get("filter_height", 1), op.options.get("filter_width", 1)
    sh, sw = op.options.get("stride_h", 1), op.options.get("stride_w", 1)
    if qparams(op, x) != qparams(op, y):
        raise unsupported(op, "different input and output quantization")
    lo, hi = act_range(op, y)
    fields = dict(
        in_h=in_h,
        in_w=in_w,
        channels=ch,
        out_h=out_h,
        out_w=out_w,
        filter_h=fh,
        filter_w=fw,
        stride_h=sh,
        stride_w=sw,
        pad_top=window_pad(op, in_h, fh, sh),
        pad_left=window_pad(op, in_w, fw, sw),
        act_min=lo,
        act_max=hi,
    )
    p = em.struct("eq_pool_params", em.name(op.index, "params"), fields)
    kernel = "eq_avg_pool_s8" if op.builtin == "AVERAGE_POOL_2D" else "eq_max_pool_s8"
    em.call(op.index, kernel, [f"&{p}", em.ptr(x.index), em.ptr(y.index)], op.builtin, "edgeq_pool.c")


def lower_alias(em: Emitter, graph: Graph, op: Operator) -> None:
    """RESHAPE / SQUEEZE / EXPAND_DIMS: same bytes; a copy only if the planner could not alias."""
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if x.nbytes != y.nbytes:
        raise unsupported(op, f"reshape of {x.nbytes} into {y.nbytes} bytes")
    if em.offsets[x.index] != em.offsets[y.index]:
        em.call(op.index, "eq_copy", [em.ptr(x.index), em.ptr(y.index), str(x.nbytes)], op.builtin, "edgeq_data.c")


def _strides(shape: list[int], out: list[int]) -> list[int]:
    """Element strides of a contiguous 4-D shape, 0 on axes broadcast to ``out``."""
    strides, step = [0, 0, 0, 0], 1
    for axis in range(3, -1, -1):
        strides[axis] = 0 if shape[axis] == 1 and out[axis] != 1 else step
        step *= shape[axis]
    return strides


def broadcast_fields(op: Operator, a: Tensor, b: Tensor, y: Tensor) -> dict[str, object]:
    """eq_binary_params' walk: the flat case, or the 4-D output shape and each input's strides over it."""
    if tuple(a.shape) == tuple(b.shape) == tuple(y.shape):
        return {
            "broadcast": 0,
            "out_shape": [1, 1, 1, y.size],
            "in1_strides": [0, 0, 0, 1],
            "in2_strides": [0, 0, 0, 1],
        }
    sa, sb, so = (pad_shape4(op, t.shape, "broadcast of rank") for t in (a, b, y))
    for x in (sa, sb):
        if any(d not in (1, o) for d, o in zip(x, so)):
            raise unsupported(op, f"broadcast of {list(a.shape)} and {list(b.shape)} to {list(y.shape)}")
    return {"broadcast": 1, "out_shape": so, "in1_strides": _strides(sa, so), "in2_strides": _strides(sb, so)}


def concat_bytes(em: Emitter, op: Operator, inputs: list[Tensor], y: Tensor, axis: int, inner_in: list[int]) -> None:
    """eq_concat_s8 copying each input's bytes into ``y`` along ``axis`` (no requantization, as TFLM):
    ``inner_in`` holds each input's elements per outer index."""
    inner = math.prod(y.shape[axis + 1 :])
    fields = {
        "outer": math.prod(y.shape[:axis]),
        "inner_out": y.shape[axis] * inner,
        "inputs": len(inputs),
        "inner_in": em.int_array(em.name(op.index, "inner_in"), inner_in),
        "mult": "NULL",
        "shift": "NULL",
        "in_offset": "NULL",
        "out_offset": 0,
    }
    p = em.struct("eq_concat_params", em.name(op.index, "params"), fields)
    ptrs = [
        em.const_tensor(t, em.name(op.index, f"in{k}")) if t.is_constant else em.ptr(t.index)
        for k, t in enumerate(inputs, 1)
    ]
    lines = [
        wrap_braced(f"{INDENT * 2}const int8_t *const in[{len(inputs)}] = {{", ptrs),
        wrap_call(INDENT * 2, "eq_concat_s8", [f"&{p}", "in", em.ptr(y.index)]),
    ]
    em.block(op.index, lines, op.builtin, "edgeq_data.c")
