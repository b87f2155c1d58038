"""The engine's int8 kernel library against TFLM's reference kernels, byte for byte.

The C files of edgeq/codegen/engine/kernels are compiled into a shared library with
the host gcc and called through ctypes. Each op variant is a one-op int8 model
built with TensorFlow (once per module), its parameters come from edgeq's
reader and quantmath, and on 20 seeded inputs (including all -128, all 127 and
alternating extremes) the kernel's output must equal the tflite-micro
interpreter's output exactly.
"""

from __future__ import annotations

import ctypes
import math
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest

from edgeq.codegen.engine import layouts, scratch
from edgeq.codegen.engine import quantmath as qm
from edgeq.codegen.engine.requant_table import RQ_EXACT, RQ_FAST, acc_bounds, channel_table
from edgeq.codegen.engine.scratch import WEIGHT_TAIL
from edgeq.codegen.engine.sources import kernel_dir
from edgeq.model import read_model
from tests.conftest import repack

tf = pytest.importorskip("tensorflow")
runtime = pytest.importorskip("tflite_micro.python.tflite_micro.runtime")

ENGINE = kernel_dir()
SOURCES = [
    "edgeq_requant.c",
    "edgeq_matmul.c",
    "edgeq_conv.c",
    "edgeq_depthwise.c",
    "edgeq_fc.c",
    "edgeq_pool.c",
    "edgeq_elementwise.c",
    "edgeq_data.c",
]
FLOAT_SOURCES = ["edgeq_quant.c"]
CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2"]
SAMPLES = 20
I32 = ctypes.c_int32
I8P = ctypes.POINTER(ctypes.c_int8)
I32P = ctypes.POINTER(ctypes.c_int32)


# ---- the library and its structs (field order as in edgeq_kernels.h) ----


def _struct(name: str, fields: list[tuple[str, object]]) -> type[ctypes.Structure]:
    return type(name, (ctypes.Structure,), {"_fields_": fields})


def _ints(names: str) -> list[tuple[str, object]]:
    return [(n, I32) for n in names.split()]


ConvParams = _struct(
    "ConvParams",
    _ints(
        "in_h in_w in_c out_h out_w out_c k_h k_w stride_h stride_w dil_h dil_w pad_top pad_left "
        "in_offset out_offset act_min act_max depth_multiplier rq cols"
    ),
)
FcParams = _struct(
    "FcParams",
    _ints("batches in_depth out_depth in_offset weight_offset out_offset act_min act_max per_channel rq direct"),
)
PoolParams = _struct(
    "PoolParams",
    _ints("in_h in_w channels out_h out_w filter_h filter_w stride_h stride_w pad_top pad_left act_min act_max"),
)
BinaryParams = _struct(
    "BinaryParams",
    _ints(
        "size left_shift in1_offset in2_offset out_offset in1_mult in1_shift in2_mult in2_shift "
        "out_mult out_shift act_min act_max broadcast"
    )
    + [("out_shape", I32 * 4), ("in1_strides", I32 * 4), ("in2_strides", I32 * 4)],
)
UnaryParams = _struct(
    "UnaryParams", _ints("size in_offset out_offset mult shift alpha_mult alpha_shift act_min act_max")
)
PadParams = _struct(
    "PadParams", [("in_shape", I32 * 4), ("out_shape", I32 * 4), ("before", I32 * 4), ("pad_value", I32)]
)
ConcatParams = _struct(
    "ConcatParams",
    _ints("outer inner_out inputs")
    + [("inner_in", I32P), ("mult", I32P), ("shift", I32P), ("in_offset", I32P), ("out_offset", I32)],
)
SliceParams = _struct(
    "SliceParams",
    [("in_shape", I32 * 4), ("start", I32 * 4), ("stop", I32 * 4), ("step", I32 * 4), ("out_size", I32)],
)
QuantParams = _struct(
    "QuantParams",
    [("size", I32), ("scale", ctypes.c_float), ("zero_point", I32), ("qmin", I32), ("qmax", I32)],
)

STRUCTS = {
    "eq_conv_params": ConvParams,
    "eq_fc_params": FcParams,
    "eq_pool_params": PoolParams,
    "eq_binary_params": BinaryParams,
    "eq_unary_params": UnaryParams,
    "eq_pad_params": PadParams,
    "eq_concat_params": ConcatParams,
    "eq_slice_params": SliceParams,
    "eq_quant_params": QuantParams,
}


def _sizes_source() -> str:
    cases = "".join(f"    case {i}: return sizeof({name});\n" for i, name in enumerate(STRUCTS))
    return (
        '#include "edgeq_kernels.h"\n'
        "size_t eq_test_sizeof(int which);\n"
        f"size_t eq_test_sizeof(int which)\n{{\n    switch (which) {{\n{cases}    default: return 0;\n    }}\n}}\n"
    )


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("host gcc is not installed")
    out = tmp_path_factory.mktemp("kernels")
    sizes = out / "sizes.c"
    sizes.write_text(_sizes_source())
    so = out / "libedgeq_kernels.so"
    sources = [str(ENGINE / s) for s in SOURCES + FLOAT_SOURCES] + [str(sizes)]
    cmd = [gcc, *CFLAGS, "-fPIC", "-shared", "-I", str(ENGINE), "-o", str(so), *sources]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return ctypes.CDLL(str(so))


def test_struct_layouts_match_the_header(lib):
    lib.eq_test_sizeof.restype = ctypes.c_size_t
    for i, (name, struct) in enumerate(STRUCTS.items()):
        assert lib.eq_test_sizeof(i) == ctypes.sizeof(struct), name


def _ptr(a: np.ndarray, kind=I8P):
    return a.ctypes.data_as(kind)


def _i32(values) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(values, dtype=np.int32))


def _padded_weights(w: np.ndarray) -> np.ndarray:
    """Weights as the generator emits them, then WEIGHT_TAIL zero bytes the kernels may read."""
    w = np.ascontiguousarray(w).reshape(-1)
    return np.concatenate([w, np.zeros(WEIGHT_TAIL // w.itemsize, w.dtype)])


def _table(mult, shift, bias, abs_sums, in_zp: int, out_zp: int, lo: int, hi: int, exact: bool = False):
    """The op's rq form and its eq_channel rows as the generator computes them (exact: force RQ_EXACT)."""
    bounds = acc_bounds(abs_sums, bias, in_zp) + (1 << 40 if exact else 0)
    table = channel_table(list(mult), list(shift), bias, bounds, out_zp, lo, hi)
    return table.rq, np.ascontiguousarray(np.array(table.rows, np.int32).reshape(-1))


def _scratch(lib, name: str, params, expected: int) -> np.ndarray:
    """The scratch region of a kernel: the C size function must agree with the generator's planning."""
    size = getattr(lib, name)(ctypes.byref(params))
    assert size == expected, f"{name}: {size} bytes in C, {expected} planned by edgeq.codegen.engine.scratch"
    return np.zeros(max(size, 1), np.int8)


# ---- models: one op, full int8, converted once per module ----


def _convert(fn, shapes, *, int_io=True, per_channel=True, dense_per_channel=True, ranges=None, seed=0) -> bytes:
    rng = np.random.default_rng(seed)
    ranges = ranges or [(-2.0, 3.0)] * len(shapes)
    specs = [tf.TensorSpec(s, tf.float32) for s in shapes]
    func = tf.function(fn).get_concrete_function(*specs)
    conv = tf.lite.TFLiteConverter.from_concrete_functions([func], func)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]

    def representative():
        for _ in range(24):
            yield [rng.uniform(lo, hi, s).astype(np.float32) for s, (lo, hi) in zip(shapes, ranges)]

    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv._experimental_disable_per_channel = not per_channel
    conv._experimental_disable_per_channel_quantization_for_dense_layers = not dense_per_channel
    if int_io:
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Statistics for quantized inputs were expected"
        return conv.convert()


def _weights(shape, seed):
    return tf.constant(np.random.default_rng(seed).normal(0.0, 0.5, shape).astype(np.float32))


IN_SHAPE = (1, 7, 13, 5)
ACTS = {"none": lambda t: t, "relu": tf.nn.relu, "relu6": tf.nn.relu6}

# name: (kernel, stride, padding, dilation, activation, per_channel, bias)
CONV_CASES = {
    "1x1": (1, 1, "VALID", 1, "none", True, True),
    "3x3_same_relu": (3, 1, "SAME", 1, "relu", True, True),
    "3x3_s2_valid_relu6": (3, 2, "VALID", 1, "relu6", True, True),
    "5x5_s2_same": (5, 2, "SAME", 1, "none", True, True),
    "3x3_dil2_same_relu": (3, 1, "SAME", 2, "relu", True, True),
    "3x3_same_per_tensor_relu6": (3, 1, "SAME", 1, "relu6", False, True),
    "3x3_s2_same_no_bias": (3, 2, "SAME", 1, "none", True, False),
}

# name: (kernel, depth multiplier, stride, padding, dilation, activation)
DEPTHWISE_CASES = {
    "3x3_m1_same_relu6": (3, 1, 1, "SAME", 1, "relu6"),
    "3x3_m2_s2_valid": (3, 2, 2, "VALID", 1, "none"),
    "5x5_m2_same_relu": (5, 2, 1, "SAME", 1, "relu"),
    "3x3_m1_dil2_same": (3, 1, 1, "SAME", 2, "none"),
}

# name: (bias, activation, per_channel)
FC_CASES = {
    "bias_relu": (True, "relu", True),
    "no_bias": (False, "none", True),
    "per_tensor_bias": (True, "none", False),
    "per_tensor_relu6": (True, "relu6", False),
}


def _conv_model(case):
    k, stride, padding, dil, act, per_channel, bias = case
    w = _weights((k, k, IN_SHAPE[3], 6), 1)
    b = _weights((6,), 2)

    def fn(x):
        y = tf.nn.conv2d(x, w, stride, padding, dilations=dil)
        return ACTS[act](y + b if bias else y)

    model = _convert(fn, [IN_SHAPE], per_channel=per_channel)
    return model if bias else repack(model, _drop_bias)  # the converter adds a zero bias; TFLM takes none


def _drop_bias(model) -> None:
    op = model.subgraphs[0].operators[0]
    op.inputs = op.inputs[:2]


def _depthwise_model(case):
    k, mult, stride, padding, dil, act = case
    w = _weights((k, k, IN_SHAPE[3], mult), 3)
    b = _weights((IN_SHAPE[3] * mult,), 4)

    def fn(x):
        y = tf.nn.depthwise_conv2d(x, w, [1, stride, stride, 1], padding, dilations=[dil, dil])
        return ACTS[act](y + b)

    return _convert(fn, [IN_SHAPE])


def _fc_model(case):
    bias, act, per_channel = case
    w = _weights((10, 7), 5)
    b = _weights((7,), 6)

    def fn(x):
        y = tf.matmul(x, w)
        return ACTS[act](y + b if bias else y)

    return _convert(fn, [(3, 10)], dense_per_channel=per_channel)


POOL_CASES = {
    "avg_3x3_s2_same": (tf.nn.avg_pool2d, 3, 2, "SAME"),
    "avg_2x2_s2_valid": (tf.nn.avg_pool2d, 2, 2, "VALID"),
    "avg_4x3_s1_same": (tf.nn.avg_pool2d, (4, 3), 1, "SAME"),
    "max_3x3_s2_same": (tf.nn.max_pool2d, 3, 2, "SAME"),
    "max_2x2_s2_valid": (tf.nn.max_pool2d, 2, 2, "VALID"),
}

BINARY_CASES = {
    "add_same_shape": (lambda a, b: a + b, (1, 4, 5, 3), (1, 4, 5, 3)),
    "add_broadcast_relu": (lambda a, b: tf.nn.relu(a + b), (1, 4, 5, 3), (1, 1, 5, 3)),
    "add_broadcast_rank": (lambda a, b: a + b, (1, 4, 5, 3), (3,)),
    "mul_same_shape": (lambda a, b: a * b, (1, 4, 5, 3), (1, 4, 5, 3)),
    "mul_broadcast": (lambda a, b: a * b, (1, 4, 1, 3), (1, 1, 5, 1)),
}


@pytest.fixture(scope="module")
def models():
    """{case name: .tflite bytes}, converted once for the whole module."""
    out: dict[str, bytes] = {}
    out.update({f"conv_{n}": _conv_model(c) for n, c in CONV_CASES.items()})
    out.update({f"dw_{n}": _depthwise_model(c) for n, c in DEPTHWISE_CASES.items()})
    out.update({f"fc_{n}": _fc_model(c) for n, c in FC_CASES.items()})
    for name, (pool, k, stride, padding) in POOL_CASES.items():
        out[f"pool_{name}"] = _convert(lambda x, p=pool, k=k, s=stride, pad=padding: p(x, k, s, pad), [IN_SHAPE])
    for name, (fn, s1, s2) in BINARY_CASES.items():
        out[f"bin_{name}"] = _convert(fn, [s1, s2])
    out["relu"] = _convert(tf.nn.relu, [(1, 4, 5, 3)])
    out["relu6"] = _convert(tf.nn.relu6, [(1, 4, 5, 3)])
    out["relu_n1_to_1"] = _convert(lambda x: tf.clip_by_value(x, -1.0, 1.0), [(1, 4, 5, 3)])
    out["pad"] = _convert(lambda x: tf.pad(x, [[0, 0], [1, 2], [2, 0], [0, 1]]), [(1, 4, 5, 3)])
    out["concat_c"] = _convert(lambda a, b: tf.concat([a, b], 3), [(1, 4, 5, 3), (1, 4, 5, 2)])
    # inputs calibrated to different ranges: the converter gives every input the output's quantization
    out["concat_h"] = _convert(
        lambda a, b: tf.concat([a, b], 1), [(1, 2, 5, 3), (1, 3, 5, 3)], ranges=[(-1, 1), (-5, 9)]
    )
    out["slice"] = _convert(lambda x: x[:, 1:6:2, 10:1:-3, 1:], [(1, 7, 13, 5)])
    out["fc_1x1"] = _convert(lambda x: tf.matmul(x, [[0.7]]) + [0.1], [(1, 1)], dense_per_channel=False)
    out["float_add"] = _convert(lambda a, b: a + b, [(1, 4, 5, 3), (1, 4, 5, 3)], int_io=False)
    return out


# ---- running TFLM and the kernels ----


def _only_op(graph, builtin: str):
    ops = [op for op in graph.operators if op.builtin == builtin]
    assert len(ops) == 1, [op.builtin for op in graph.operators]
    return ops[0]


def _samples(shapes, dtype=np.int8, seed=0):
    """SAMPLES input sets: all -128, all 127, alternating extremes, then seeded random bytes."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(SAMPLES):
        arrays = []
        for shape in shapes:
            size = math.prod(shape)
            if i == 0:
                a = np.full(size, -128)
            elif i == 1:
                a = np.full(size, 127)
            elif i == 2:
                a = np.where(np.arange(size) % 2 == 0, -128, 127)
            else:
                a = rng.integers(-128, 128, size)
            arrays.append(a.astype(dtype).reshape(shape))
        out.append(arrays)
    return out


def _tflm(model: bytes):
    interp = runtime.Interpreter.from_bytes(model, arena_size=256 * 1024)

    def run(inputs):
        for i, a in enumerate(inputs):
            interp.set_input(a, i)
        interp.invoke()
        return np.array(interp.get_output(0))

    return run


def _litert(model: bytes):
    from edgeq.litert import Runner

    runner = Runner(model)
    return lambda inputs: runner.run(inputs)[0]


def _check(model: bytes, kernel, seed=0, oracle=_tflm):
    """Run kernel(inputs) -> array and the oracle (TFLM) on the same samples; every output byte must match."""
    graph = read_model(model)
    shapes = [graph.tensors[i].shape for i in graph.inputs]
    run = oracle(model)
    for n, inputs in enumerate(_samples(shapes, seed=seed)):
        expected = run(inputs)
        got = kernel([np.ascontiguousarray(a) for a in inputs])
        assert got.shape == expected.shape
        mismatch = np.flatnonzero(got.reshape(-1) != expected.reshape(-1))
        assert mismatch.size == 0, f"sample {n}: {mismatch.size} bytes differ, first at {mismatch[:5]}"


def _scale_zp(t):
    return float(t.quantization.scale[0]), int(t.quantization.zero_point[0])


def _fused(op) -> str:
    return op.options.get("fused_activation_function", "NONE")


def _pad(padding: str, in_size: int, k: int, stride: int, dil: int, out_size: int) -> int:
    fn = qm.same_padding if padding == "SAME" else qm.valid_padding
    out, before = fn(in_size, k, stride, dil)
    assert out == out_size
    return before


def _conv_call(lib, graph, op, depthwise: bool, exact: bool = False, cols: int = scratch.MM_COLS):
    x, w = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    y = graph.tensors[op.outputs[0]]
    b = graph.tensors[op.inputs[2]].numpy() if len(op.inputs) > 2 and op.inputs[2] >= 0 else None
    (in_s, in_zp), (out_s, out_zp) = _scale_zp(x), _scale_zp(y)
    _, in_h, in_w, in_c = x.shape
    _, out_h, out_w, out_c = y.shape
    k_h, k_w = w.shape[1], w.shape[2]
    o = op.options
    mult, shift = qm.conv_multipliers(in_s, w.quantization.scale, out_s, out_c)
    lo, hi = qm.activation_range(_fused(op), out_s, out_zp)
    weights = np.abs(w.numpy().astype(np.int64))
    abs_sums = weights.reshape(-1, out_c).sum(0) if depthwise else weights.reshape(out_c, -1).sum(1)
    rq, td = _table(mult, shift, b, abs_sums, in_zp, out_zp, lo, hi, exact)
    p = ConvParams(
        in_h, in_w, in_c, out_h, out_w, out_c, k_h, k_w, o["stride_h"], o["stride_w"], o["dilation_h"],
        o["dilation_w"], _pad(o["padding"], in_h, k_h, o["stride_h"], o["dilation_h"], out_h),
        _pad(o["padding"], in_w, k_w, o["stride_w"], o["dilation_w"], out_w), -in_zp, out_zp, lo, hi,
        o.get("depth_multiplier", 1) if depthwise else 1, rq, cols,
    )  # fmt: skip
    layout = layouts.depthwise_weights if depthwise else layouts.conv_weights
    wd = _padded_weights(layout(w.numpy()))
    fn = lib.eq_depthwise_conv2d_s8 if depthwise else lib.eq_conv2d_s8
    planned = scratch.depthwise_scratch(graph, op) if depthwise else scratch.conv_scratch(graph, op, cols)
    sc = _scratch(lib, "eq_depthwise_scratch_bytes" if depthwise else "eq_conv2d_scratch_bytes", p, planned)

    def kernel(inputs):
        out = np.zeros(y.shape, np.int8)
        fn(ctypes.byref(p), _ptr(inputs[0]), _ptr(wd), _ptr(td, I32P), _ptr(sc), _ptr(out))
        return out

    return kernel


@pytest.mark.parametrize("variant", list(scratch.VARIANT_COLS))
@pytest.mark.parametrize("name", CONV_CASES)
def test_conv2d_matches_tflm(lib, models, name, variant):
    """Every kernel variant (blocks of 8, 4 or 1 columns, or none), each with one rq form."""
    graph = read_model(models[f"conv_{name}"])
    op = _only_op(graph, "CONV_2D")
    assert graph.tensors[op.inputs[1]].quantization.per_channel == CONV_CASES[name][5]
    assert _fused(op) == CONV_CASES[name][4].upper()
    assert (len(op.inputs) > 2 and op.inputs[2] >= 0) == CONV_CASES[name][6]
    cols, exact = scratch.VARIANT_COLS[variant], variant in ("cols4", "direct")
    _check(models[f"conv_{name}"], _conv_call(lib, graph, op, depthwise=False, exact=exact, cols=cols))


@pytest.mark.parametrize("exact", [False, True], ids=["fast", "exact"])
@pytest.mark.parametrize("name", DEPTHWISE_CASES)
def test_depthwise_conv2d_matches_tflm(lib, models, name, exact):
    graph = read_model(models[f"dw_{name}"])
    op = _only_op(graph, "DEPTHWISE_CONV_2D")
    assert _fused(op) == DEPTHWISE_CASES[name][5].upper()
    _check(models[f"dw_{name}"], _conv_call(lib, graph, op, depthwise=True, exact=exact))


@pytest.mark.parametrize("direct", [False, True], ids=["column", "direct"])
@pytest.mark.parametrize("exact", [False, True], ids=["fast", "exact"])
@pytest.mark.parametrize("name", FC_CASES)
def test_fully_connected_matches_tflm(lib, models, name, exact, direct):
    """The int16-column and the direct (no scratch) kernel, each with both rq forms."""
    graph = read_model(models[f"fc_{name}"])
    op = _only_op(graph, "FULLY_CONNECTED")
    x, w, y = (graph.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    has_bias = len(op.inputs) > 2 and op.inputs[2] >= 0
    assert has_bias == FC_CASES[name][0] and w.quantization.per_channel == FC_CASES[name][2]
    assert _fused(op) == FC_CASES[name][1].upper()
    (in_s, in_zp), (out_s, out_zp) = _scale_zp(x), _scale_zp(y)
    out_depth, in_depth = w.shape
    mult, shift = qm.conv_multipliers(in_s, w.quantization.scale, out_s, out_depth)
    lo, hi = qm.activation_range(_fused(op), out_s, out_zp)
    w_zp = int(w.quantization.zero_point[0])
    per_channel = int(w.quantization.per_channel)
    bias = graph.tensors[op.inputs[2]].numpy() if has_bias else None
    abs_sums = np.abs(w.numpy().astype(np.int64) - (0 if per_channel else w_zp)).sum(1)
    rq, td = _table(mult, shift, bias, abs_sums, in_zp, out_zp, lo, hi, exact)
    p = FcParams(x.size // in_depth, in_depth, out_depth, -in_zp, -w_zp, out_zp, lo, hi, per_channel, rq, direct)
    wd = _padded_weights(w.numpy())
    sc = _scratch(lib, "eq_fc_scratch_bytes", p, scratch.fc_scratch(graph, op, direct))

    def kernel(inputs):
        out = np.zeros(y.shape, np.int8)
        lib.eq_fully_connected_s8(ctypes.byref(p), _ptr(inputs[0]), _ptr(wd), _ptr(td, I32P), _ptr(sc), _ptr(out))
        return out

    _check(models[f"fc_{name}"], kernel)


def test_per_tensor_fc_multiplies_the_scales_in_double_like_tflm(lib, models):
    """TFLM's per-tensor FC multiplier is (double)in * (double)w / (double)out, as for CONV_2D.

    With these scales a float32 product ((double)(in * w) / out, TFLite's older rule) would give the
    multiplier 1395018852 instead of 1395018932, and x = +-19 (acc = 127 * x) would land on the
    other side of a rounding tie: all 256 inputs are run.
    """
    s_in, s_w, s_out = 0.04948537051677704, 0.009917890653014183, 0.048353273421525955

    def set_scales(model):
        sg = model.subgraphs[0]
        op = sg.operators[0]
        x, w, b, y = (sg.tensors[i] for i in (*op.inputs, op.outputs[0]))
        for t, scale in ((x, s_in), (w, s_w), (b, float(np.float32(s_in) * np.float32(s_w))), (y, s_out)):
            t.quantization.scale, t.quantization.zeroPoint = [scale], [0]
        model.buffers[w.buffer].data = np.array([127], np.uint8)
        model.buffers[b.buffer].data = np.zeros(4, np.uint8)

    model = repack(models["fc_1x1"], set_scales)
    graph = read_model(model)
    op = _only_op(graph, "FULLY_CONNECTED")
    x, w, y = (graph.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    assert [t.quantization.scale[0] for t in (x, w, y)] == [np.float32(s) for s in (s_in, s_w, s_out)]
    float32_rule = qm.quantize_multiplier(float(np.float32(s_in) * np.float32(s_w)) / float(np.float32(s_out)))
    mult, shift = (_i32(v) for v in qm.conv_multipliers(s_in, [s_w], s_out, 1))
    assert float32_rule == (1395018852, -6) and (mult[0], shift[0]) == (1395018932, -6)
    wd, sc = _padded_weights(np.array([127], np.int8)), np.zeros(32, np.int8)
    run = _tflm(model)
    for rq_form in (RQ_FAST, RQ_EXACT):
        rq, td = _table(mult, shift, np.zeros(1, np.int32), [127], 0, 0, -128, 127, exact=rq_form == RQ_EXACT)
        assert rq & RQ_FAST == rq_form
        p = FcParams(1, 1, 1, 0, 0, 0, -128, 127, 0, rq, 0)
        for x in range(-128, 128):
            xd, out = np.array([[x]], np.int8), np.zeros((1, 1), np.int8)
            lib.eq_fully_connected_s8(ctypes.byref(p), _ptr(xd), _ptr(wd), _ptr(td, I32P), _ptr(sc), _ptr(out))
            assert out[0, 0] == run([xd])[0, 0], (rq, x)


@pytest.mark.parametrize("name", POOL_CASES)
def test_pooling_matches_tflm(lib, models, name):
    graph = read_model(models[f"pool_{name}"])
    builtin = "AVERAGE_POOL_2D" if name.startswith("avg") else "MAX_POOL_2D"
    op = _only_op(graph, builtin)
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    o = op.options
    _, in_h, in_w, ch = x.shape
    _, out_h, out_w, _ = y.shape
    fh, fw, sh, sw = o["filter_height"], o["filter_width"], o["stride_h"], o["stride_w"]
    lo, hi = qm.activation_range(_fused(op), *_scale_zp(y))
    p = PoolParams(
        in_h, in_w, ch, out_h, out_w, fh, fw, sh, sw, _pad(o["padding"], in_h, fh, sh, 1, out_h),
        _pad(o["padding"], in_w, fw, sw, 1, out_w), lo, hi,
    )  # fmt: skip
    fn = lib.eq_avg_pool_s8 if builtin == "AVERAGE_POOL_2D" else lib.eq_max_pool_s8

    def kernel(inputs):
        out = np.zeros(y.shape, np.int8)
        fn(ctypes.byref(p), _ptr(inputs[0]), _ptr(out))
        return out

    _check(models[f"pool_{name}"], kernel)


def _broadcast(p, shape1, shape2, out_shape) -> None:
    out4 = (1,) * (4 - len(out_shape)) + tuple(out_shape)
    p.size = math.prod(out_shape)
    p.broadcast = int(tuple(shape1) != tuple(shape2))
    p.out_shape[:] = out4
    for shape, strides in ((shape1, p.in1_strides), (shape2, p.in2_strides)):
        s4 = (1,) * (4 - len(shape)) + tuple(shape)
        step = 1
        for i in reversed(range(4)):
            strides[i] = 0 if s4[i] == 1 and out4[i] != 1 else step
            step *= s4[i]


@pytest.mark.parametrize("name", BINARY_CASES)
def test_add_and_mul_match_tflm(lib, models, name):
    model = models[f"bin_{name}"]
    graph = read_model(model)
    builtin = "ADD" if name.startswith("add") else "MUL"
    op = _only_op(graph, builtin)
    a, b, y = (graph.tensors[i] for i in (*op.inputs, op.outputs[0]))
    assert list(op.inputs) == list(graph.inputs)
    params = qm.add_params if builtin == "ADD" else qm.mul_params
    p = BinaryParams(**params(*_scale_zp(a), *_scale_zp(b), *_scale_zp(y), fused=_fused(op)))
    _broadcast(p, a.shape, b.shape, y.shape)
    fn = lib.eq_add_s8 if builtin == "ADD" else lib.eq_mul_s8

    def kernel(inputs):
        out = np.zeros(y.shape, np.int8)
        fn(ctypes.byref(p), _ptr(inputs[0]), _ptr(inputs[1]), _ptr(out))
        return out

    _check(model, kernel)


@pytest.mark.parametrize("kind", ["relu", "relu6", "relu_n1_to_1"])
def test_relu_family_matches_the_reference(lib, models, kind):
    """RELU6 in TFLM clamps in the input's quantization even when the output's differs (as here).
    TFLM has no RELU_N1_TO_1 kernel: LiteRT's (requantize, then clamp like RELU) is the oracle."""
    graph = read_model(models[kind])
    op = _only_op(graph, kind.upper())
    assert _scale_zp(graph.tensors[op.inputs[0]]) != _scale_zp(graph.tensors[op.outputs[0]])
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    p = UnaryParams(size=x.size, **qm.relu_params(kind.upper(), *_scale_zp(x), *_scale_zp(y)))

    def kernel(inputs):
        out = np.zeros(y.shape, np.int8)
        lib.eq_relu_s8(ctypes.byref(p), _ptr(inputs[0]), _ptr(out))
        return out

    _check(models[kind], kernel, oracle=_litert if kind == "relu_n1_to_1" else _tflm)


def test_requantize_matches_tflm(lib, models):
    """int8 -> int8 QUANTIZE: the RELU model with its op turned into a QUANTIZE."""

    def to_quantize(model):
        code = model.operatorCodes[model.subgraphs[0].operators[0].opcodeIndex]
        code.builtinCode = code.deprecatedBuiltinCode = 114  # QUANTIZE
        model.subgraphs[0].operators[0].builtinOptionsType = 0
        model.subgraphs[0].operators[0].builtinOptions = None

    model = repack(models["relu"], to_quantize)
    graph = read_model(model)
    op = _only_op(graph, "QUANTIZE")
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    p = UnaryParams(size=x.size, **qm.requantize_params(*_scale_zp(x), *_scale_zp(y)))

    def kernel(inputs):
        out = np.zeros(y.shape, np.int8)
        lib.eq_requantize_s8(ctypes.byref(p), _ptr(inputs[0]), _ptr(out))
        return out

    _check(model, kernel)


def test_pad_matches_tflm(lib, models):
    graph = read_model(models["pad"])
    op = _only_op(graph, "PAD")
    x, pads, y = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]], graph.tensors[op.outputs[0]]
    p = PadParams()
    p.in_shape[:], p.out_shape[:] = x.shape, y.shape
    p.before[:] = [int(v) for v in pads.numpy()[:, 0]]
    p.pad_value = _scale_zp(y)[1]

    def kernel(inputs):
        out = np.zeros(y.shape, np.int8)
        lib.eq_pad_s8(ctypes.byref(p), _ptr(inputs[0]), _ptr(out))
        return out

    _check(models["pad"], kernel)


@pytest.mark.parametrize("name", ["concat_c", "concat_h"])
def test_concat_matches_tflm(lib, models, name):
    graph = read_model(models[name])
    op = _only_op(graph, "CONCATENATION")
    y = graph.tensors[op.outputs[0]]
    axis = op.options["axis"] % len(y.shape)
    inner = math.prod(y.shape[axis + 1 :])
    ins = [graph.tensors[i] for i in op.inputs]
    inner_in = _i32([t.shape[axis] * inner for t in ins])
    order = [list(graph.inputs).index(i) for i in op.inputs]
    p = ConcatParams(math.prod(y.shape[:axis]), y.shape[axis] * inner, len(ins), _ptr(inner_in, I32P))
    p.out_offset = _scale_zp(y)[1]

    def kernel(inputs):
        out = np.zeros(y.shape, np.int8)
        arrays = (I8P * len(ins))(*[_ptr(inputs[k]) for k in order])
        lib.eq_concat_s8(ctypes.byref(p), arrays, _ptr(out))
        return out

    _check(models[name], kernel)


def test_strided_slice_matches_tflm(lib, models):
    graph = read_model(models["slice"])
    op = _only_op(graph, "STRIDED_SLICE")
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    axes = [slice(None), slice(1, 6, 2), slice(10, 1, -3), slice(1, None)]  # the slice the model was built from
    p = SliceParams()
    p.in_shape[:] = x.shape
    for i, (axis, n) in enumerate(zip(axes, x.shape)):
        p.start[i], p.stop[i], p.step[i] = axis.indices(n)
    p.out_size = y.size

    def kernel(inputs):
        out = np.zeros(y.shape, np.int8)
        lib.eq_strided_slice_s8(ctypes.byref(p), _ptr(inputs[0]), _ptr(out))
        return out

    _check(models["slice"], kernel)


def test_float_edges_quantize_add_dequantize_match_tflm(lib, models):
    """A float-I/O ADD: QUANTIZE each input, ADD, DEQUANTIZE, compared with TFLM as float bits."""
    model = models["float_add"]
    graph = read_model(model)
    t = graph.tensors
    add, deq = _only_op(graph, "ADD"), _only_op(graph, "DEQUANTIZE")
    producer = {op.outputs[0]: op for op in graph.operators}
    quants = [producer[i] for i in add.inputs]  # the QUANTIZE feeding each ADD input
    assert all(q.builtin == "QUANTIZE" for q in quants)
    feeds = [list(graph.inputs).index(q.inputs[0]) for q in quants]
    a, b, y = (t[i] for i in (*add.inputs, add.outputs[0]))
    qps = [QuantParams(x.size, *_scale_zp(x), -128, 127) for x in (a, b)]
    p = BinaryParams(**qm.add_params(*_scale_zp(a), *_scale_zp(b), *_scale_zp(y), fused=_fused(add)))
    _broadcast(p, a.shape, b.shape, y.shape)
    dq = QuantParams(y.size, *_scale_zp(t[deq.inputs[0]]), -128, 127)
    f32p = ctypes.POINTER(ctypes.c_float)
    run = _tflm(model)
    rng = np.random.default_rng(7)
    for n in range(SAMPLES):
        inputs = [None, None]
        # input of ADD operand 0: values on and next to the rounding ties; operand 1: a wide normal spread
        inputs[feeds[0]] = (rng.integers(-300, 300, a.shape) * 0.5 * qps[0].scale).astype(np.float32)
        inputs[feeds[1]] = rng.normal(0.0, 2.0 + n, b.shape).astype(np.float32)
        expected = np.asarray(run(inputs), np.float32)
        quantized = [np.zeros(a.shape, np.int8), np.zeros(b.shape, np.int8)]
        for qp, feed, q in zip(qps, feeds, quantized):
            lib.eq_quantize_f32_s8(ctypes.byref(qp), _ptr(inputs[feed], f32p), _ptr(q))
        summed = np.zeros(y.shape, np.int8)
        lib.eq_add_s8(ctypes.byref(p), _ptr(quantized[0]), _ptr(quantized[1]), _ptr(summed))
        got = np.zeros(y.shape, np.float32)
        lib.eq_dequantize_s8_f32(ctypes.byref(dq), _ptr(summed), _ptr(got, f32p))
        assert got.tobytes() == expected.tobytes(), f"sample {n}"


def test_mbqm_left_shift_overflow_wraps_like_tflm(lib, models):
    """A MUL whose output scale forces shift 24: (x1 * x2) << 24 overflows int32, and TFLM wraps."""

    def tiny_output_scale(model):
        sg = model.subgraphs[0]
        op = sg.operators[0]
        s1, s2 = (np.float32(sg.tensors[i].quantization.scale[0]) for i in op.inputs)
        sg.tensors[op.outputs[0]].quantization.scale = [float(s1 * s2 / np.float32(2.0**23 * 1.37))]

    model = repack(models["bin_mul_same_shape"], tiny_output_scale)
    graph = read_model(model)
    op = _only_op(graph, "MUL")
    a, b, y = (graph.tensors[i] for i in (*op.inputs, op.outputs[0]))
    p = BinaryParams(**qm.mul_params(*_scale_zp(a), *_scale_zp(b), *_scale_zp(y)))
    assert p.out_shift == 24
    _broadcast(p, a.shape, b.shape, y.shape)

    def kernel(inputs):
        out = np.zeros(y.shape, np.int8)
        lib.eq_mul_s8(ctypes.byref(p), _ptr(inputs[0]), _ptr(inputs[1]), _ptr(out))
        return out

    _check(model, kernel)


# ---- the fixed-point helpers, by their definition in docs/specs/int8-arithmetic.md ----

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def _srdhm_ref(a: int, b: int) -> int:
    if a == b == INT32_MIN:
        return INT32_MAX
    n = a * b + (2**30 if a * b >= 0 else 1 - 2**30)
    q = abs(n) // 2**31  # C division truncates toward zero
    return q if n >= 0 else -q


def _rdbpot_ref(x: int, e: int) -> int:
    mask = (1 << e) - 1
    return (x >> e) + (1 if (x & mask) > (mask >> 1) + (1 if x < 0 else 0) else 0)


def _mbqm_ref(x: int, m: int, s: int) -> int:
    shifted = ((x << max(s, 0)) - INT32_MIN) % 2**32 + INT32_MIN  # int32 wrap, as TFLM's x * (1 << left)
    return _rdbpot_ref(_srdhm_ref(shifted, m), max(-s, 0))


def test_fixed_point_helpers_match_their_definition(lib):
    srdhm, rdbpot = lib.eq_sat_round_doubling_high_mul, lib.eq_round_div_pow2
    mbqm = lib.eq_mul_by_quantized_mult
    srdhm.restype = rdbpot.restype = mbqm.restype = I32
    srdhm.argtypes = [I32, I32]
    rdbpot.argtypes = [I32, ctypes.c_int]
    mbqm.argtypes = [I32, I32, I32]
    rng = np.random.default_rng(3)
    edges = [INT32_MIN, INT32_MIN + 1, -(2**30), -1, 0, 1, 2**30, INT32_MAX]
    values = edges + [int(v) for v in rng.integers(INT32_MIN, INT32_MAX, 200, endpoint=True)]
    for a in values[:50]:
        for b in values[::5]:
            assert srdhm(a, b) == _srdhm_ref(a, b), (a, b)
    for x in values:
        for e in (0, 1, 5, 17, 30, 31):
            assert rdbpot(x, e) == _rdbpot_ref(x, e), (x, e)
        for m, s in ((1 << 30, 1), (1518500250, -7), (INT32_MAX, 0), (1 << 30, 4), (1717986918, -31), (1 << 30, 31)):
            assert mbqm(x, m, s) == _mbqm_ref(x, m, s), (x, m, s)


# ---- the whole library under sanitizers, and its ARM SIMD path ----

DRIVER = Path(__file__).with_name("kernel_driver.c")
ALL_SOURCES = [str(ENGINE / s) for s in SOURCES + FLOAT_SOURCES]


def _build_and_run(cmd: list[str], exe: Path, runner: list[str] = ()) -> str:
    built = subprocess.run([*cmd, "-I", str(ENGINE), str(DRIVER), *ALL_SOURCES, "-o", str(exe)], capture_output=True)
    assert built.returncode == 0, built.stderr.decode()
    ran = subprocess.run([*runner, str(exe)], capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    return ran.stdout


@pytest.fixture(scope="module")
def host_hashes(lib, tmp_path_factory):
    return _build_and_run(["gcc", *CFLAGS], tmp_path_factory.mktemp("driver") / "plain")


def test_kernels_run_clean_under_asan_and_ubsan(host_hashes, tmp_path):
    sanitize = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-g"]
    probe = subprocess.run(
        ["gcc", *sanitize, "-x", "c", "-", "-o", str(tmp_path / "probe")], input=b"int main(void){return 0;}"
    )
    if probe.returncode != 0:
        pytest.skip("gcc cannot link the sanitizer runtimes here")
    assert _build_and_run(["gcc", *CFLAGS, *sanitize], tmp_path / "sanitized") == host_hashes


ARM_FLAGS = ["-mthumb", "-march=armv7-a", "-mfloat-abi=soft", "--specs=rdimon.specs"]


@pytest.mark.parametrize("simd", [True, False], ids=["simd32", "portable"])
def test_arm_build_gives_the_host_bytes(host_hashes, tmp_path, simd):
    """The SIMD32 (SMLAD) path runs on an ARMv7-A core under qemu-arm: same hashes as the host's portable C."""
    gcc, qemu = shutil.which("arm-none-eabi-gcc"), shutil.which("qemu-arm")
    if gcc is None or qemu is None:
        pytest.skip("arm-none-eabi-gcc and qemu-arm (apt: gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-user)")
    flags = [gcc, *CFLAGS, *ARM_FLAGS] + ([] if simd else ["-DEDGEQ_NO_SIMD"])
    assert _build_and_run(flags, tmp_path / "driver.elf", [qemu]) == host_hashes


@pytest.mark.parametrize("cpu", ["cortex-m0plus", "cortex-m4", "cortex-m7", "cortex-m55"])
def test_engine_compiles_warning_free_for_cortex_m(tmp_path, cpu):
    gcc = shutil.which("arm-none-eabi-gcc")
    if gcc is None:
        pytest.skip("arm-none-eabi-gcc is not installed")
    for source in ALL_SOURCES:
        cmd = [gcc, *CFLAGS, f"-mcpu={cpu}", "-mthumb", "-I", str(ENGINE), "-c", source, "-o", str(tmp_path / "k.o")]
        done = subprocess.run(cmd, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


# ---- quantmath on its own ----


@pytest.mark.parametrize(
    ("real", "expected"),
    [
        (0.0, (0, 0)),
        (0.5, (1 << 30, 0)),
        (1.0, (1 << 30, 1)),
        (0.75, (1610612736, 0)),
        (1.0 - 2.0**-40, (1 << 30, 1)),  # rounds up to 2^31: halved, shift + 1
        (2.0**-32, (1 << 30, -31)),
        (2.0**-33, (0, 0)),  # shift < -31 flushes to zero
        (3.0, (1610612736, 2)),
    ],
)
def test_quantize_multiplier_rules(real, expected):
    assert qm.quantize_multiplier(real) == expected


def test_activation_range_and_padding_rules():
    assert qm.activation_range("NONE", 0.1, 3) == (-128, 127)
    assert qm.activation_range("RELU", 0.1, -128) == (-128, 127)
    assert qm.activation_range("RELU", 0.1, 5) == (5, 127)
    assert qm.activation_range("RELU6", 0.05, -128) == (-128, -8)
    assert qm.activation_range("RELU6", 6.0 / 250.0, -128) == (-128, 122)
    assert qm.activation_range("RELU_N1_TO_1", 1.0 / 64, 0) == (-64, 64)
    assert qm.same_padding(7, 3, 2) == (4, 1)
    assert qm.same_padding(13, 5, 2) == (7, 2)
    assert qm.same_padding(13, 3, 1, 2) == (13, 2)
    assert qm.same_padding(4, 2, 2) == (2, 0)
    assert qm.valid_padding(7, 3, 2) == (3, 0)
    assert qm.valid_padding(13, 3, 1, 2) == (9, 0)
    with pytest.raises(ValueError):
        qm.valid_padding(3, 3, 1, 2)
    with pytest.raises(ValueError):
        qm.activation_range("TANH", 0.1, 0)
