"""Build the op-coverage suite under tests/fixtures/ops/ (needs TensorFlow).

Run once and check the files in; tests/codegen/test_engine.py runs every model
through the compiled engine and the tflite-micro interpreter::

    .venv/bin/python scripts/make_op_suite.py

Every model is small (< 30 KB) and fully int8: TFLiteConverter with
Optimize.DEFAULT, TFLITE_BUILTINS_INT8 and int8 I/O, except the ``float_io_*``
models whose float32 I/O adds QUANTIZE / DEQUANTIZE and the ``s16_*`` models,
converted with the int16x8 op set (int16 activations and I/O, int8 weights,
int64 biases). Weights and representative data are seeded from the model's name, so a rerun writes the same bytes.
``*_sat`` models are calibrated on tiny values plus one sample holding a single
extreme element per input: the input keeps its full range while every later
tensor gets a small one, so random inputs saturate. A few graphs are edited
after conversion (the converter turns a static SQUEEZE into RESHAPE and always
gives a convolution a bias). The UNIDIRECTIONAL_SEQUENCE_LSTM models are tf-keras
LSTM layers converted with ``from_keras_model`` (Keras 3's LSTM gives a WHILE loop,
or the unrolled steps). ``index.json`` maps each name to the op it covers,
the variant, the ops the file holds, whether the engine is expected to run it
and the reference target (``host-tflm``; ``host``, LiteRT, where TFLM has no kernel).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import fcntl
import functools
import hashlib
import json
import os
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

OUT_DIR = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "ops"
MAX_BYTES = 30_000
CALIBRATION_SAMPLES = 32
IMAGE = (1, 7, 13, 5)
SMALL = (1, 4, 5, 3)
ACTS = {"none": lambda t: t, "relu": tf.nn.relu, "relu6": tf.nn.relu6}


@dataclass(frozen=True)
class Spec:
    """One suite model: a function of float inputs, how to calibrate and convert it."""

    name: str
    op: str
    variant: str
    fn: Callable
    shapes: tuple[tuple[int | None, ...], ...]
    low: float = -2.0
    high: float = 3.0
    per_channel: bool = True
    float_io: bool = False
    saturate: bool = False
    edit: Callable | None = None
    supported: bool = True
    oracle: str = "host-tflm"
    int16: bool = False  # int16x8: int16 activations and I/O, int8 weights, int64 biases
    keras: bool = False  # fn() makes a tf-keras model, converted with from_keras_model (a fused LSTM needs it)


def weights(name: str, shape: tuple[int, ...], tag: int = 0) -> tf.Tensor:
    rng = np.random.default_rng(zlib.crc32(f"{name}/{tag}".encode()))
    return tf.constant(rng.normal(0.0, 0.5, shape).astype(np.float32))


# ---- the suite ----


def conv_specs() -> list[Spec]:
    # name: (input, kernel, stride, padding, dilation, activation, per_channel)
    cases = {
        "conv_k1_s1_valid": (IMAGE, 1, 1, "VALID", 1, "none", True),
        "conv_k1_s2_same_relu": (IMAGE, 1, 2, "SAME", 1, "relu", True),
        "conv_k3_s1_same_relu": (IMAGE, 3, 1, "SAME", 1, "relu", True),
        "conv_k3_s1_valid_relu6": (IMAGE, 3, 1, "VALID", 1, "relu6", True),
        "conv_k3_s2_same": (IMAGE, 3, 2, "SAME", 1, "none", True),
        "conv_k3_s2_valid_relu6": (IMAGE, 3, 2, "VALID", 1, "relu6", True),
        "conv_k5_s1_same_relu6": (IMAGE, 5, 1, "SAME", 1, "relu6", True),
        "conv_k5_s2_same": (IMAGE, 5, 2, "SAME", 1, "none", True),
        "conv_k5_s2_valid_relu": (IMAGE, 5, 2, "VALID", 1, "relu", True),
        "conv_k3_dil2_same_relu": (IMAGE, 3, 1, "SAME", 2, "relu", True),
        "conv_k3_dil2_valid": (IMAGE, 3, 1, "VALID", 2, "none", True),
        "conv_k5_dil2_same_relu6": (IMAGE, 5, 1, "SAME", 2, "relu6", True),
        "conv_k3_s1_same_per_tensor": (IMAGE, 3, 1, "SAME", 1, "none", False),
        "conv_k3_s2_valid_per_tensor_relu": (IMAGE, 3, 2, "VALID", 1, "relu", False),
        "conv_k5_s1_same_per_tensor_relu6": (IMAGE, 5, 1, "SAME", 1, "relu6", False),
        "conv_in1x1_k1": ((1, 1, 1, 5), 1, 1, "VALID", 1, "none", True),
        "conv_in1x1_k3_same_relu": ((1, 1, 1, 5), 3, 1, "SAME", 1, "relu", True),
        "conv_in8x8_k3_s2_same": ((1, 8, 8, 4), 3, 2, "SAME", 1, "none", True),
        "conv_in8x8_k5_s2_same_relu": ((1, 8, 8, 4), 5, 2, "SAME", 1, "relu", True),
    }
    specs = [_conv(name, *case) for name, case in cases.items()]
    specs.append(_conv("conv_k3_s1_same_no_bias", IMAGE, 3, 1, "SAME", 1, "none", True, edit=drop_bias))
    specs.append(_conv("conv_k3_s1_same_sat", IMAGE, 3, 1, "SAME", 1, "none", True, saturate=True))
    specs.append(_conv("conv_k3_s2_same_per_tensor_sat", IMAGE, 3, 2, "SAME", 1, "relu", False, saturate=True))
    return specs


def _conv(name, shape, k, stride, padding, dil, act, per_channel, edit=None, saturate=False) -> Spec:
    w = weights(name, (k, k, shape[3], 6))
    b = weights(name, (6,), 1)

    def fn(x):
        return ACTS[act](tf.nn.conv2d(x, w, stride, padding, dilations=dil) + b)

    quant = "per-channel" if per_channel else "per-tensor"
    variant = (
        f"{shape[1]}x{shape[2]}x{shape[3]} -> 6, {k}x{k}, stride {stride}, {padding}, dilation {dil}, {act}, {quant}"
    )
    return Spec(name, "CONV_2D", variant, fn, (shape,), per_channel=per_channel, edit=edit, saturate=saturate)


def depthwise_specs() -> list[Spec]:
    # name: (input, kernel, multiplier, stride, padding, dilation, activation, per_channel)
    cases = {
        "dw_k3_m1_s1_same_relu6": (IMAGE, 3, 1, 1, "SAME", 1, "relu6", True),
        "dw_k3_m2_s1_same": (IMAGE, 3, 2, 1, "SAME", 1, "none", True),
        "dw_k3_m1_s2_valid": (IMAGE, 3, 1, 2, "VALID", 1, "none", True),
        "dw_k3_m2_s2_same_relu": (IMAGE, 3, 2, 2, "SAME", 1, "relu", True),
        "dw_k5_m1_s1_valid_relu": (IMAGE, 5, 1, 1, "VALID", 1, "relu", True),
        "dw_k5_m2_s2_valid": (IMAGE, 5, 2, 2, "VALID", 1, "none", True),
        "dw_k3_m1_dil2_same": (IMAGE, 3, 1, 1, "SAME", 2, "none", True),
        "dw_k3_m2_dil2_valid_relu6": (IMAGE, 3, 2, 1, "VALID", 2, "relu6", True),
        "dw_k3_m1_s1_same_per_tensor": (IMAGE, 3, 1, 1, "SAME", 1, "none", False),
        "dw_in8x8_k3_m1_s2_same": ((1, 8, 8, 4), 3, 1, 2, "SAME", 1, "none", True),
        "dw_in1x1_k3_m2_same": ((1, 1, 1, 5), 3, 2, 1, "SAME", 1, "none", True),
    }
    specs = [_depthwise(name, *case) for name, case in cases.items()]
    specs.append(_depthwise("dw_k3_m1_s1_same_sat", IMAGE, 3, 1, 1, "SAME", 1, "none", True, saturate=True))
    return specs


def _depthwise(name, shape, k, mult, stride, padding, dil, act, per_channel, saturate=False) -> Spec:
    w = weights(name, (k, k, shape[3], mult))
    b = weights(name, (shape[3] * mult,), 1)

    def fn(x):
        y = tf.nn.depthwise_conv2d(x, w, [1, stride, stride, 1], padding, dilations=[dil, dil])
        return ACTS[act](y + b)

    quant = "per-channel" if per_channel else "per-tensor"
    variant = f"{shape[1]}x{shape[2]}x{shape[3]}, {k}x{k}, multiplier {mult}, stride {stride}, {padding}, dilation {dil}, {act}, {quant}"
    return Spec(name, "DEPTHWISE_CONV_2D", variant, fn, (shape,), per_channel=per_channel, saturate=saturate)


def fc_specs() -> list[Spec]:
    # name: (input shape, bias, activation, per_channel)
    cases = {
        "fc_b1_bias": ((1, 10), True, "none", True),
        "fc_b1_bias_relu": ((1, 10), True, "relu", True),
        "fc_b3_bias_relu6": ((3, 10), True, "relu6", True),
        "fc_b1_no_bias": ((1, 10), False, "none", True),
        "fc_b3_no_bias_relu": ((3, 10), False, "relu", True),
        "fc_b1_per_tensor": ((1, 10), True, "none", False),
        "fc_b3_per_tensor_relu": ((3, 10), True, "relu", False),
        "fc_b1_per_tensor_no_bias": ((1, 10), False, "none", False),
        "fc_rank3_keep_dims": ((1, 4, 10), True, "none", True),
        "fc_in1_out1": ((1, 1), True, "none", False),
    }
    specs = [_fc(name, *case) for name, case in cases.items()]
    specs.append(_fc("fc_b1_bias_sat", (1, 10), True, "none", True, saturate=True))
    specs.append(_fc("fc_b3_per_tensor_sat", (3, 10), True, "relu6", False, saturate=True))
    return specs


def _fc(name, shape, bias, act, per_channel, saturate=False) -> Spec:
    out = 1 if shape[-1] == 1 else 7
    w = weights(name, (shape[-1], out))
    b = weights(name, (out,), 1)

    def fn(x):
        y = tf.matmul(x, w)
        return ACTS[act](y + b if bias else y)

    quant = "per-channel" if per_channel else "per-tensor"
    variant = f"{list(shape)} x {shape[-1]}x{out}, {'bias' if bias else 'no bias'}, {act}, {quant}"
    return Spec(name, "FULLY_CONNECTED", variant, fn, (shape,), per_channel=per_channel, saturate=saturate)


def pool_specs() -> list[Spec]:
    # name: (op, input, filter, stride, padding)
    cases = {
        "avgpool_k2_s2_valid": ("avg", IMAGE, 2, 2, "VALID"),
        "avgpool_k3_s2_same": ("avg", IMAGE, 3, 2, "SAME"),
        "avgpool_k3_s1_same": ("avg", IMAGE, 3, 1, "SAME"),
        "avgpool_k4x3_s1_valid": ("avg", IMAGE, (4, 3), 1, "VALID"),
        "avgpool_in8x8_k3_s2_same": ("avg", (1, 8, 8, 4), 3, 2, "SAME"),
        "avgpool_global_valid": ("avg", IMAGE, (7, 13), 1, "VALID"),
        "maxpool_k2_s2_valid": ("max", IMAGE, 2, 2, "VALID"),
        "maxpool_k3_s2_same": ("max", IMAGE, 3, 2, "SAME"),
        "maxpool_k3_s1_same": ("max", IMAGE, 3, 1, "SAME"),
        "maxpool_k2x4_s2_valid": ("max", IMAGE, (2, 4), 2, "VALID"),
        "maxpool_in8x8_k3_s2_same": ("max", (1, 8, 8, 4), 3, 2, "SAME"),
    }
    specs = []
    for name, (kind, shape, k, stride, padding) in cases.items():
        pool = tf.nn.avg_pool2d if kind == "avg" else tf.nn.max_pool2d
        builtin = "AVERAGE_POOL_2D" if kind == "avg" else "MAX_POOL_2D"
        fn = _bind(pool, k, stride, padding)
        variant = f"{shape[1]}x{shape[2]}x{shape[3]}, filter {k}, stride {stride}, {padding}"
        specs.append(Spec(name, builtin, variant, fn, (shape,)))
    return specs


def _bind(pool, k, stride, padding) -> Callable:
    return lambda x: pool(x, k, stride, padding)


def binary_specs() -> list[Spec]:
    c = weights("binary_const", (3,))
    add, mul = (lambda a, b: a + b), (lambda a, b: a * b)
    relu_add, relu6_add = (lambda a, b: tf.nn.relu(a + b)), (lambda a, b: tf.nn.relu6(a + b))
    relu_mul = lambda a, b: tf.nn.relu(a * b)  # noqa: E731
    # name: (function, shapes, variant, saturate)
    cases = {
        "add_same_shape": (add, (SMALL, SMALL), "same shape", False),
        "add_same_shape_relu": (relu_add, (SMALL, SMALL), "same shape, fused relu", False),
        "add_broadcast_row": (add, (SMALL, (1, 1, 5, 3)), "broadcast over H", False),
        "add_broadcast_both_relu6": (relu6_add, ((1, 4, 1, 3), (1, 1, 5, 1)), "broadcast both, fused relu6", False),
        "add_broadcast_rank2": (add, ((2, 6), (1, 6)), "rank-2 broadcast", False),
        "add_same_shape_sat": (add, (SMALL, SMALL), "same shape, saturating", True),
        "mul_same_shape": (mul, (SMALL, SMALL), "same shape", False),
        "mul_same_shape_relu": (relu_mul, (SMALL, SMALL), "same shape, fused relu", False),
        "mul_broadcast_both": (mul, ((1, 4, 1, 3), (1, 1, 5, 1)), "broadcast both", False),
        "mul_broadcast_row": (mul, (SMALL, (1, 4, 1, 3)), "broadcast over W", False),
        "mul_same_shape_sat": (mul, (SMALL, SMALL), "same shape, saturating", True),
    }
    specs = [
        Spec(n, "ADD" if n.startswith("add") else "MUL", v, fn, shapes, saturate=sat)
        for n, (fn, shapes, v, sat) in cases.items()
    ]
    specs.append(Spec("add_const_channel", "ADD", "constant per-channel operand", lambda x: x + c, (SMALL,)))
    specs.append(Spec("mul_const_channel", "MUL", "constant per-channel operand", lambda x: x * c, (SMALL,)))
    return specs


def shape_specs() -> list[Spec]:
    w = weights("reshape_flatten_fc", (60, 4))
    return [
        Spec("reshape_only", "RESHAPE", "1x4x5x3 -> 1x12x5, output aliases input", _reshape((1, 12, 5)), (SMALL,)),
        Spec("reshape_flatten_fc", "RESHAPE", "flatten between relu and FC", lambda x: _flat_fc(x, w), (SMALL,)),
        Spec("squeeze_axis2", "SQUEEZE", "1x4x1x3 -> 1x4x3", lambda x: tf.squeeze(x, 2), ((1, 4, 1, 3),), edit=squeeze),
        Spec(
            "squeeze_relu",
            "SQUEEZE",
            "relu then squeeze",
            lambda x: tf.squeeze(tf.nn.relu(x), 2),
            ((1, 4, 1, 3),),
            edit=squeeze,
        ),
        Spec("expand_dims_axis1", "EXPAND_DIMS", "1x4x3 -> 1x1x4x3 (dynamic batch)", _expand(1), ((None, 4, 3),)),
        Spec("expand_dims_last", "EXPAND_DIMS", "1x4x3 -> 1x4x3x1 (dynamic batch)", _expand(-1), ((None, 4, 3),)),
    ]


def _reshape(shape) -> Callable:
    return lambda x: tf.reshape(x, shape)


def _flat_fc(x, w):
    return tf.matmul(tf.reshape(tf.nn.relu(x), (1, 60)), w)


def _expand(axis: int) -> Callable:
    return lambda x: tf.expand_dims(tf.nn.relu(x), axis)


def activation_specs() -> list[Spec]:
    hard_swish, leaky = tf.keras.activations.hard_swish, tf.nn.leaky_relu
    vec, seq = ((1, 64),), ((1, 4, 12),)
    return [
        Spec("softmax_2d", "SOFTMAX", "1x10, range 4", tf.nn.softmax, ((1, 10),), -2.0, 2.0),
        Spec("softmax_3d", "SOFTMAX", "1x4x12, range 6", tf.nn.softmax, seq, -3.0, 3.0),
        Spec("softmax_2d_wide", "SOFTMAX", "1x10, range 100", tf.nn.softmax, ((1, 10),), -50.0, 50.0),
        Spec("softmax_2d_tiny", "SOFTMAX", "1x10, range 0.02", tf.nn.softmax, ((1, 10),), -0.01, 0.01),
        Spec("logistic", "LOGISTIC", "range 8", tf.nn.sigmoid, vec, -4.0, 4.0),
        Spec("logistic_wide", "LOGISTIC", "range 120, saturating", tf.nn.sigmoid, vec, -60.0, 60.0),
        Spec("tanh", "TANH", "range 6", tf.nn.tanh, vec, -3.0, 3.0),
        Spec("tanh_wide", "TANH", "range 40, saturating", tf.nn.tanh, vec, -20.0, 20.0),
        Spec("relu", "RELU", "standalone", tf.nn.relu, (SMALL,)),
        Spec("relu6", "RELU6", "standalone", tf.nn.relu6, (SMALL,), -4.0, 9.0),
        Spec(
            "relu_n1_to_1",
            "RELU_N1_TO_1",
            "clip to [-1, 1]; TFLM has no kernel, LiteRT is the reference",
            lambda x: tf.clip_by_value(x, -1.0, 1.0),
            (SMALL,),
            oracle="host",
        ),
        Spec("leaky_relu_0.1", "LEAKY_RELU", "alpha 0.1", lambda x: leaky(x, 0.1), vec),
        Spec("leaky_relu_0.3", "LEAKY_RELU", "alpha 0.3, range -5..2", lambda x: leaky(x, 0.3), vec, -5.0, 2.0),
        Spec("hard_swish", "HARD_SWISH", "range -6..6", hard_swish, vec, -6.0, 6.0),
        Spec("hard_swish_wide", "HARD_SWISH", "range -3..10", hard_swish, vec, -3.0, 10.0),
        Spec("hard_swish_sat", "HARD_SWISH", "saturating", hard_swish, vec, -6.0, 6.0, saturate=True),
    ]


def data_specs() -> list[Spec]:
    zero_pad = tf.keras.layers.ZeroPadding2D(((1, 2), (2, 0)))
    gap, gap_keep = tf.keras.layers.GlobalAveragePooling2D(), tf.keras.layers.GlobalAveragePooling2D(keepdims=True)
    two = (SMALL, (1, 4, 5, 2))
    return [
        Spec("pad_zero_padding2d", "PAD", "ZeroPadding2D ((1, 2), (2, 0))", zero_pad, (SMALL,)),
        Spec("pad_all_axes", "PAD", "pad every axis but batch", _pad([[0, 0], [1, 1], [0, 3], [2, 1]]), (SMALL,)),
        Spec("pad_rank2", "PAD", "1x6 padded 2 / 3", _pad([[0, 0], [2, 3]]), ((1, 6),)),
        Spec("padv2_constant", "PADV2", "constant value 1.0", _pad([[0, 0], [1, 1], [1, 1], [0, 0]], 1.0), (SMALL,)),
        Spec("concat_channels", "CONCATENATION", "axis 3, 2 inputs", _concat(3), two),
        Spec("concat_height", "CONCATENATION", "axis 1", _concat(1), (SMALL, SMALL)),
        Spec("concat_three_width", "CONCATENATION", "axis 2, 3 inputs", _concat(2), (SMALL, (1, 4, 2, 3), SMALL)),
        Spec("concat_rank2", "CONCATENATION", "axis 1 of 1xN", _concat(1), ((1, 6), (1, 3))),
        Spec("concat_requantized_inputs", "CONCATENATION", "relu and mul requantize to the concat scale", _mixed, two),
        Spec("concat_conv_skip", "CONCATENATION", "conv output next to the graph input", _skip, (SMALL,)),
        Spec("mean_gap", "MEAN", "GlobalAveragePooling2D", gap, (IMAGE,)),
        Spec("mean_gap_keepdims", "MEAN", "GlobalAveragePooling2D keepdims", gap_keep, (IMAGE,)),
        Spec(
            "mean_reduce_hw", "MEAN", "reduce_mean axes 1, 2 on 8x8x16, range 0..4", _mean, ((1, 8, 8, 16),), 0.0, 4.0
        ),
        Spec("mean_gap_sat", "MEAN", "GlobalAveragePooling2D, saturating", gap, (IMAGE,), saturate=True),
        Spec("slice_steps", "STRIDED_SLICE", "[:, 1:6:2, 10:1:-3, 1:]", lambda x: x[:, 1:6:2, 10:1:-3, 1:], (IMAGE,)),
        Spec("slice_plain", "STRIDED_SLICE", "[:, :, 2:9, :]", lambda x: x[:, :, 2:9, :], (IMAGE,)),
        Spec("slice_shrink", "STRIDED_SLICE", "[:, 2, :, 1:4] (shrink axis)", lambda x: x[:, 2, :, 1:4], (IMAGE,)),
        Spec("slice_rank2", "STRIDED_SLICE", "[:, 3:-2]", lambda x: x[:, 3:-2], ((1, 12),)),
    ]


def _pad(paddings, value: float = 0.0) -> Callable:
    return lambda x: tf.pad(x, paddings, constant_values=value)


def _concat(axis: int) -> Callable:
    return lambda *xs: tf.concat(xs, axis)


def _mixed(a, b):
    return tf.concat([tf.nn.relu(a), b * 10.0], 3)


def _skip(x):
    return tf.concat([tf.nn.conv2d(x, weights("concat_conv_skip", (1, 1, 3, 3)), 1, "SAME"), x], 3)


def _mean(x):
    return tf.reduce_mean(x, [1, 2], keepdims=True)


def float_io_specs() -> list[Spec]:
    w = weights("float_io_conv", (3, 3, 3, 4))
    conv = lambda x: tf.nn.relu(tf.nn.conv2d(x, w, 1, "SAME"))  # noqa: E731
    add = lambda a, b: a + b  # noqa: E731
    return [
        Spec("float_io_conv", "QUANTIZE", "float32 I/O around a 3x3 conv", conv, ((1, 6, 6, 3),), float_io=True),
        Spec("float_io_add", "QUANTIZE", "float32 I/O, two inputs", add, (SMALL, SMALL), float_io=True),
        Spec("float_io_softmax", "DEQUANTIZE", "float32 I/O softmax", tf.nn.softmax, ((1, 10),), float_io=True),
        Spec(
            "float_io_add_sat", "QUANTIZE", "float32 I/O, saturating", add, (SMALL, SMALL), float_io=True, saturate=True
        ),
    ]


def unsupported_specs() -> list[Spec]:
    reduce_max = lambda x: tf.reduce_max(x, axis=[1, 2])  # noqa: E731
    return [Spec("unsupported_reduce_max", "REDUCE_MAX", "no engine kernel", reduce_max, (SMALL,), supported=False)]


def s16_specs() -> list[Spec]:
    """int16x8 models (int16 activations and I/O, int8 weights): the engine's int16 kernels."""
    fc, conv, dw = (
        [
            _fc("s16_fc_b1_bias_relu", (1, 10), True, "relu", True),
            _fc("s16_fc_b3_per_tensor_relu6", (3, 10), True, "relu6", False),
            _fc("s16_fc_b1_no_bias", (1, 10), False, "none", True),
            _fc("s16_fc_b1_bias_sat", (1, 10), True, "none", True, saturate=True),
        ],
        [
            _conv("s16_conv_k3_s1_same_relu", IMAGE, 3, 1, "SAME", 1, "relu", True),
            _conv("s16_conv_k3_s2_valid_per_tensor", IMAGE, 3, 2, "VALID", 1, "none", False),
            _conv("s16_conv_k3_dil2_same_relu6", IMAGE, 3, 1, "SAME", 2, "relu6", True),
            _conv("s16_conv_k3_s1_same_sat", IMAGE, 3, 1, "SAME", 1, "none", True, saturate=True),
        ],
        [
            _depthwise("s16_dw_k3_m2_s1_same", IMAGE, 3, 2, 1, "SAME", 1, "none", True),
            _depthwise("s16_dw_k3_m1_s2_valid_relu6", IMAGE, 3, 1, 2, "VALID", 1, "relu6", True),
            _depthwise("s16_dw_k3_m1_dil2_same_sat", IMAGE, 3, 1, 1, "SAME", 2, "none", True, saturate=True),
        ],
    )
    add, mul = (lambda a, b: tf.nn.relu(a + b)), (lambda a, b: a * b)
    binary = [  # name, function, shapes, variant, saturate
        ("s16_add_same_shape_relu", add, (SMALL, SMALL), "same shape, fused relu", False),
        ("s16_add_broadcast_both", lambda a, b: a + b, ((1, 4, 1, 3), (1, 1, 5, 1)), "broadcast both", False),
        ("s16_add_same_shape_sat", add, (SMALL, SMALL), "same shape, fused relu, saturating", True),
        ("s16_mul_same_shape", mul, (SMALL, SMALL), "same shape", False),
        ("s16_mul_broadcast_row_relu", lambda a, b: tf.nn.relu(a * b), (SMALL, (1, 4, 1, 3)), "broadcast, relu", False),
        ("s16_mul_same_shape_sat", mul, (SMALL, SMALL), "same shape, saturating", True),
    ]
    ew = [Spec(n, n[4:7].upper(), v, fn, shapes, saturate=sat) for n, fn, shapes, v, sat in binary]
    pool = lambda x: tf.nn.avg_pool2d(x, 2, 2, "VALID")  # noqa: E731
    refused = Spec("s16_unsupported_avgpool", "AVERAGE_POOL_2D", "no int16 kernel", pool, (IMAGE,), supported=False)
    vec = ((1, 64),)
    act = [
        Spec("s16_logistic", "LOGISTIC", "range 8", tf.nn.sigmoid, vec, -4.0, 4.0),
        Spec("s16_logistic_wide", "LOGISTIC", "range 120, saturating", tf.nn.sigmoid, vec, -60.0, 60.0),
        Spec("s16_tanh", "TANH", "range 6", tf.nn.tanh, vec, -3.0, 3.0),
        Spec("s16_tanh_wide", "TANH", "range 40, saturating", tf.nn.tanh, vec, -20.0, 20.0),
        Spec("s16_softmax_2d", "SOFTMAX", "1x10, range 4", tf.nn.softmax, ((1, 10),), -2.0, 2.0),
        Spec("s16_softmax_3d", "SOFTMAX", "1x4x12, range 6", tf.nn.softmax, ((1, 4, 12),), -3.0, 3.0),
        Spec("s16_softmax_2d_wide", "SOFTMAX", "1x10, range 100", tf.nn.softmax, ((1, 10),), -50.0, 50.0),
    ]
    specs = (*fc, *conv, *dw, *ew, *act, refused)
    return [dataclasses.replace(s, int16=True, variant=f"int16x8, {s.variant}") for s in specs]


def spatial_specs() -> list[Spec]:
    """Upsampling: RESIZE_NEAREST_NEIGHBOR, RESIZE_BILINEAR (Keras Resizing / UpSampling2D, TF1 flags), TRANSPOSE_CONV."""
    v1, half = tf.compat.v1.image, "half-pixel centers"
    up2 = tf.keras.layers.UpSampling2D(2, interpolation="bilinear")
    # name: (function, variant); every input is 1x4x5x3
    resizes = {
        "resize_nearest_up2": (_resizing(8, 10, "nearest"), f"4x5 -> 8x10, Keras Resizing, {half}"),
        "resize_nearest_odd": (_resizing(7, 9, "nearest"), f"4x5 -> 7x9, Keras Resizing, {half}"),
        "resize_nearest_down": (_resizing(3, 2, "nearest"), f"4x5 -> 3x2, Keras Resizing, {half}"),
        "resize_nearest_align_corners": (_v1_resize(v1.resize_nearest_neighbor, True), "4x5 -> 7x9, align_corners"),
        "resize_nearest_legacy": (_v1_resize(v1.resize_nearest_neighbor, False), "4x5 -> 7x9, no flags (TF1)"),
        "resize_bilinear_up2": (up2, f"4x5 -> 8x10, Keras UpSampling2D bilinear, {half}"),
        "resize_bilinear_odd": (_resizing(7, 9, "bilinear"), f"4x5 -> 7x9, Keras Resizing, {half}"),
        "resize_bilinear_down": (_resizing(3, 2, "bilinear"), f"4x5 -> 3x2, Keras Resizing, {half}"),
        "resize_bilinear_align_corners": (_v1_resize(v1.resize_bilinear, True), "4x5 -> 7x9, align_corners"),
        "resize_bilinear_legacy": (_v1_resize(v1.resize_bilinear, False), "4x5 -> 7x9, no flags (TF1)"),
    }
    specs = [
        Spec(n, "RESIZE_NEAREST_NEIGHBOR" if "nearest" in n else "RESIZE_BILINEAR", v, fn, ((1, 4, 5, 3),))
        for n, (fn, v) in resizes.items()
    ]
    sat = Spec("resize_bilinear_sat", "RESIZE_BILINEAR", "4x5 -> 8x10, saturating", up2, ((1, 4, 5, 3),), saturate=True)
    specs.append(sat)
    # name: (input, filters, kernel, stride, padding, bias, relu, per_channel)
    cases = {
        "tconv_k3_s2_same_bias": ((1, 4, 5, 3), 4, 3, 2, "same", True, False, True),
        "tconv_k3_s2_valid_no_bias": ((1, 4, 5, 3), 4, 3, 2, "valid", False, False, True),
        "tconv_k2_s2_valid_bias_relu": ((1, 4, 5, 3), 5, 2, 2, "valid", True, True, True),
        "tconv_k4_s2_same_per_tensor": ((1, 3, 4, 6), 3, 4, 2, "same", True, False, False),
        "tconv_k3_s1_same_bias": ((1, 4, 5, 3), 4, 3, 1, "same", True, False, True),
        "tconv_k3x2_s21_valid_bias": ((1, 4, 5, 3), 2, (3, 2), (2, 1), "valid", True, False, True),
        "tconv_k5_s3_same_no_bias": ((1, 3, 3, 4), 3, 5, 3, "same", False, False, True),
    }
    specs += [_tconv(name, *case) for name, case in cases.items()]
    # name: (shapes, transpose_a, transpose_b, variant); two activations (a constant operand becomes FULLY_CONNECTED)
    matmuls = {
        "bmm_rank4": (((1, 2, 3, 4), (1, 2, 4, 5)), False, False, "1x2x3x4 x 1x2x4x5"),
        "bmm_adj_x": (((1, 4, 3), (1, 4, 5)), True, False, "adj_x: 1x4x3 x 1x4x5"),
        "bmm_adj_y": (((1, 3, 4), (1, 5, 4)), False, True, "adj_y: 1x3x4 x 1x5x4 (attention scores)"),
        "bmm_broadcast": (((1, 2, 3, 4), (1, 1, 4, 5)), False, False, "rhs batch broadcast: 1x2x3x4 x 1x1x4x5"),
    }
    for name, (shapes, adj_a, adj_b, variant) in matmuls.items():
        specs.append(Spec(name, "BATCH_MATMUL", variant, _matmul(adj_a, adj_b), shapes))
    return specs


def _matmul(adj_a: bool, adj_b: bool) -> Callable:
    return lambda a, b: tf.matmul(a, b, transpose_a=adj_a, transpose_b=adj_b)


def _resizing(h: int, w: int, interpolation: str) -> Callable:
    return tf.keras.layers.Resizing(h, w, interpolation=interpolation)


def _v1_resize(resize: Callable, align_corners: bool) -> Callable:
    return lambda x: resize(x, (7, 9), align_corners=align_corners)


def _tconv(name, shape, filters, k, stride, padding, bias, relu, per_channel) -> Spec:
    kernel = (k, k) if isinstance(k, int) else k
    layer = tf.keras.layers.Conv2DTranspose(filters, kernel, stride, padding, use_bias=bias)
    layer.build(shape)
    values = [weights(name, (*kernel, filters, shape[3])).numpy()]
    layer.set_weights(values + ([weights(name, (filters,), 1).numpy()] if bias else []))

    def fn(x):
        return tf.nn.relu(layer(x)) if relu else layer(x)

    quant = "per-channel" if per_channel else "per-tensor"
    extras = ", ".join(s for s in ("bias" if bias else "no bias", "relu" if relu else "", quant) if s)
    variant = f"{shape[1]}x{shape[2]}x{shape[3]} -> {filters}, {k}, stride {stride}, {padding.upper()}, {extras}"
    return Spec(name, "TRANSPOSE_CONV", variant, fn, (shape,), per_channel=per_channel)


def _specs_binary_and_shape() -> list[Spec]:
    """SUB, SQUARED_DIFFERENCE, MAXIMUM, MINIMUM, PRELU, and the ops that only move bytes."""
    return [*_specs_new_binary(), *_specs_movement()]


def _specs_new_binary() -> list[Spec]:
    c = weights("sub_const_channel", (3,))
    sub, sqd = (lambda a, b: a - b), tf.math.squared_difference
    relu_sub, relu6_sub = (lambda a, b: tf.nn.relu(a - b)), (lambda a, b: tf.nn.relu6(a - b))
    both = ((1, 4, 1, 3), (1, 1, 5, 1))
    # name: (op, function, shapes, variant, saturate)
    cases = {
        "sub_same_shape": ("SUB", sub, (SMALL, SMALL), "same shape", False),
        "sub_same_shape_relu": ("SUB", relu_sub, (SMALL, SMALL), "same shape, fused relu", False),
        "sub_broadcast_both_relu6": ("SUB", relu6_sub, both, "broadcast both, fused relu6", False),
        "sub_broadcast_rank2": ("SUB", sub, ((2, 6), (1, 6)), "rank-2 broadcast", False),
        "sub_same_shape_sat": ("SUB", sub, (SMALL, SMALL), "same shape, saturating", True),
        "sub_const_channel": ("SUB", lambda x: c - x, (SMALL,), "constant per-channel minuend", False),
        "squared_difference_same_shape": ("SQUARED_DIFFERENCE", sqd, (SMALL, SMALL), "same shape", False),
        "squared_difference_broadcast": ("SQUARED_DIFFERENCE", sqd, both, "broadcast both", False),
        "squared_difference_sat": ("SQUARED_DIFFERENCE", sqd, (SMALL, SMALL), "same shape, saturating", True),
        "maximum_same_shape": ("MAXIMUM", tf.maximum, (SMALL, SMALL), "same shape", False),
        "maximum_broadcast": ("MAXIMUM", tf.maximum, (SMALL, (1, 1, 1, 3)), "broadcast over H and W", False),
        "maximum_const_channel": ("MAXIMUM", lambda x: tf.maximum(x, c), (SMALL,), "constant per-channel", False),
        "minimum_same_shape": ("MINIMUM", tf.minimum, (SMALL, SMALL), "same shape", False),
        "minimum_broadcast": ("MINIMUM", tf.minimum, both, "broadcast both", False),
    }
    specs = [Spec(n, op, v, fn, shapes, saturate=sat) for n, (op, fn, shapes, v, sat) in cases.items()]
    prelu = {  # name: (alpha shape, shared axes, input shape, variant)
        "prelu_per_element": ((4, 5, 3), None, SMALL, "Keras PReLU, alpha per element"),
        "prelu_shared_hw": ((1, 1, 3), [1, 2], SMALL, "Keras PReLU, alpha per channel"),
        "prelu_rank2": ((16,), None, (1, 16), "Keras PReLU on 1x16"),
    }
    specs += [Spec(n, "PRELU", v, _prelu(n, a, axes), (shape,)) for n, (a, axes, shape, v) in prelu.items()]
    return specs


def _prelu(name: str, alpha_shape: tuple[int, ...], shared_axes=None) -> Callable:
    """A Keras PReLU whose alpha, seeded from ``name``, takes values in [-0.3, 0.6)."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    alpha = tf.keras.initializers.Constant(rng.uniform(-0.3, 0.6, alpha_shape).astype(np.float32))
    return tf.keras.layers.PReLU(alpha_initializer=alpha, shared_axes=shared_axes)


def _specs_movement() -> list[Spec]:
    rank5 = (1, 2, 3, 4, 5)
    gather_batch = tf.constant([[4, 0, 2]], tf.int32)
    # name: (op, function, shapes, variant)
    cases = {
        "transpose_nhwc_to_nchw": ("TRANSPOSE", _perm([0, 3, 1, 2]), (SMALL,), "1x4x5x3, perm 0 3 1 2"),
        "transpose_rank3": ("TRANSPOSE", _perm([0, 2, 1]), ((1, 4, 12),), "1x4x12, perm 0 2 1"),
        "transpose_rank5": ("TRANSPOSE", _perm([0, 4, 2, 1, 3]), (rank5,), "rank 5, perm 0 4 2 1 3"),
        "depth_to_space_b2": ("DEPTH_TO_SPACE", lambda x: tf.nn.depth_to_space(x, 2), ((1, 3, 4, 8),), "block 2"),
        "depth_to_space_b3": ("DEPTH_TO_SPACE", lambda x: tf.nn.depth_to_space(x, 3), ((1, 2, 2, 18),), "block 3"),
        "space_to_depth_b2": ("SPACE_TO_DEPTH", lambda x: tf.nn.space_to_depth(x, 2), ((1, 4, 6, 3),), "block 2"),
        "space_to_depth_b3": ("SPACE_TO_DEPTH", lambda x: tf.nn.space_to_depth(x, 3), ((1, 6, 3, 2),), "block 3"),
        "split_channels": ("SPLIT", lambda x: tuple(tf.split(x, 3, axis=3)), (IMAGE[:3] + (6,),), "3 parts, axis 3"),
        "split_width_add": ("SPLIT", _split_add, (SMALL,), "2 parts of axis 1 added"),
        "split_v_width": ("SPLIT_V", lambda x: tuple(tf.split(x, [1, 3, 1], axis=2)), (SMALL,), "sizes 1 3 1, axis 2"),
        "split_v_inferred": ("SPLIT_V", lambda x: tuple(tf.split(x, [2, -1], axis=1)), ((1, 12),), "sizes 2 -1"),
        "pack_axis1": ("PACK", lambda a, b: tf.stack([a, b], axis=1), ((1, 4, 3), (1, 4, 3)), "2 inputs, axis 1"),
        "pack_last_axis": ("PACK", lambda *xs: tf.stack(xs, axis=-1), ((1, 4, 3),) * 3, "3 inputs, axis -1"),
        "unpack_axis1": ("UNPACK", lambda x: tuple(tf.unstack(x, axis=1)), ((1, 3, 4, 5),), "3 outputs, axis 1"),
        "unpack_last_axis": ("UNPACK", lambda x: tuple(tf.unstack(x, axis=-1)), ((1, 4, 2),), "2 outputs, axis -1"),
        "gather_channels": (
            "GATHER",
            lambda x: tf.gather(x, [2, 0, 1, 1], axis=3),
            (SMALL,),
            "indices 2 0 1 1, axis 3",
        ),
        "gather_rows": ("GATHER", lambda x: tf.gather(x, [3, 0], axis=1), (SMALL,), "indices 3 0, axis 1"),
        "gather_batch_dims": (
            "GATHER",
            lambda x: tf.gather(x, gather_batch, axis=2, batch_dims=1),
            (SMALL,),
            "indices [[4, 0, 2]], axis 2, batch_dims 1",
        ),
    }
    return [Spec(n, op, v, fn, shapes) for n, (op, fn, shapes, v) in cases.items()]


def _perm(perm: list[int]) -> Callable:
    return lambda x: tf.transpose(x, perm)


def _split_add(x):
    a, b = tf.split(x, 2, axis=1)
    return tf.nn.relu(a) + b


def all_specs() -> list[Spec]:
    groups = (conv_specs, depthwise_specs, fc_specs, pool_specs, binary_specs, shape_specs, activation_specs)
    extra = (data_specs, float_io_specs, unsupported_specs, s16_specs, spatial_specs, _specs_binary_and_shape)
    return [s for g in (*groups, *extra, lstm_specs, in_place_specs) for s in g()]


def in_place_specs() -> list[Spec]:
    """Chains of convolutions whose later ops may write their output over their input (engine.inplace).

    The first op reads the graph input (never written over); each later op gets the dying output of the
    one before, with the paddings, strides, dilations and multipliers whose windows reach back furthest.
    """
    # name: steps of (kind, kernel, stride, padding, dilation, out channels or multiplier, activation)
    chains = {
        "inplace_dw_k3_pw": [
            ("c", 1, 1, "SAME", 1, 8, "relu"),
            ("d", 3, 1, "SAME", 1, 1, "relu"),
            ("c", 1, 1, "SAME", 1, 8, "none"),
        ],
        "inplace_dw_k5_s2_m2": [
            ("c", 3, 1, "SAME", 1, 4, "relu6"),
            ("d", 5, 2, "SAME", 1, 2, "none"),
            ("c", 3, 2, "VALID", 1, 6, "relu"),
        ],
        "inplace_dilated": [
            ("c", 1, 1, "VALID", 1, 5, "none"),
            ("d", 3, 1, "SAME", 2, 1, "relu"),
            ("c", 3, 1, "SAME", 2, 7, "none"),
        ],
        "inplace_valid_s2": [
            ("c", 3, 1, "VALID", 1, 8, "relu"),
            ("c", 5, 2, "SAME", 1, 8, "none"),
            ("d", 3, 1, "VALID", 1, 1, "relu6"),
        ],
    }
    return [_chain(name, steps) for name, steps in chains.items()]


def _chain(name: str, steps: list) -> Spec:
    layers, channels = [], IMAGE[3]
    for i, (kind, k, stride, padding, dil, n, act) in enumerate(steps):
        if kind == "c":
            w, channels = weights(name, (k, k, channels, n), 2 * i), n
        else:
            w, channels = weights(name, (k, k, channels, n), 2 * i), channels * n
        layers.append((kind, w, weights(name, (channels,), 2 * i + 1), stride, padding, dil, act))

    def fn(x):
        for kind, w, b, stride, padding, dil, act in layers:
            if kind == "c":
                x = tf.nn.conv2d(x, w, stride, padding, dilations=dil)
            else:
                x = tf.nn.depthwise_conv2d(x, w, [1, stride, stride, 1], padding, dilations=[dil, dil])
            x = ACTS[act](x + b)
        return x

    variant = " -> ".join(f"{'conv' if s[0] == 'c' else 'dw'} {s[1]}x{s[1]} s{s[2]} {s[3]} d{s[4]}" for s in steps)
    return Spec(name, "CONV_2D" if steps[1][0] == "c" else "DEPTHWISE_CONV_2D", f"in place: {variant}", fn, (IMAGE,))


def lstm_specs() -> list[Spec]:
    """UNIDIRECTIONAL_SEQUENCE_LSTM: tf-keras LSTM layers (Keras 3's LSTM converts to a WHILE loop instead)."""
    # name: (steps, features, units, return_sequences, saturate)
    shapes = {
        "lstm_t10_f4_u12_last": (10, 4, 12, False, False),
        "lstm_t16_f6_u16_seq": (16, 6, 16, True, False),
        "lstm_t8_f3_u8_seq_sat": (8, 3, 8, True, True),
    }
    specs = []
    for name, (steps, features, units, sequences, sat) in shapes.items():
        variant = f"{steps} steps x {features} features, {units} units, {'every step' if sequences else 'last step'}"
        make = functools.partial(_keras_lstm, name, steps, features, units, sequences)
        op = "UNIDIRECTIONAL_SEQUENCE_LSTM"
        specs.append(Spec(name, op, variant, make, ((1, steps, features),), saturate=sat, keras=True))
    return specs


def _keras_lstm(name: str, steps: int, features: int, units: int, sequences: bool):
    """A tf-keras LSTM with weights seeded from ``name`` (forget bias 1, as Keras initializes it)."""
    import tf_keras

    inp = tf_keras.Input((steps, features), batch_size=1)
    layer = tf_keras.layers.LSTM(units, return_sequences=sequences)
    model = tf_keras.Model(inp, layer(inp))
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    kernel, recurrent = (rng.normal(0.0, 0.4, (n, 4 * units)).astype(np.float32) for n in (features, units))
    bias = rng.normal(0.0, 0.2, 4 * units).astype(np.float32)
    bias[units : 2 * units] += 1.0
    layer.set_weights([kernel, recurrent, bias])
    return model


# ---- conversion ----


def representative(spec: Spec) -> Callable:
    shapes = [tuple(1 if d is None else d for d in s) for s in spec.shapes]

    def gen():
        rng = np.random.default_rng(zlib.crc32(spec.name.encode()))
        for n in range(CALIBRATION_SAMPLES):
            sample = [rng.uniform(spec.low, spec.high, s).astype(np.float32) for s in shapes]
            if spec.saturate:
                sample = [_spiked(x * np.float32(0.01), spec, n, k) for k, x in enumerate(sample)]
            yield sample

    return gen


def _spiked(x: np.ndarray, spec: Spec, n: int, k: int) -> np.ndarray:
    """Tiny values; sample 0 holds the low extreme at one element, sample 1 the high one.

    Input ``k`` puts its extreme at another element than input ``k - 1``, so a sum of
    inputs never reaches the sum of their ranges during calibration.
    """
    if n < 2:
        flat = x.reshape(-1)
        flat[(n * 7 + k * 3) % flat.size] = spec.low if n == 0 else spec.high
    return x


def convert(spec: Spec) -> bytes:
    if spec.keras:
        conv = tf.lite.TFLiteConverter.from_keras_model(spec.fn())
    else:
        specs = [tf.TensorSpec(s, tf.float32) for s in spec.shapes]
        func = tf.function(spec.fn, autograph=False).get_concrete_function(*specs)
        conv = tf.lite.TFLiteConverter.from_concrete_functions([func], func)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative(spec)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if spec.int16:
        conv.target_spec.supported_ops = [tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
    conv._experimental_disable_per_channel = not spec.per_channel
    conv._experimental_disable_per_channel_quantization_for_dense_layers = not spec.per_channel
    if not spec.float_io:
        conv.inference_input_type = conv.inference_output_type = tf.int16 if spec.int16 else tf.int8
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Statistics for quantized inputs were expected"
        data = conv.convert()
    return repack(data, spec.edit) if spec.edit else data


def repack(data: bytes, edit: Callable) -> bytes:
    """Unpack with LiteRT's generated object API, apply ``edit(model, schema)``, pack again."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(data, 0)
    edit(model, schema)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def drop_bias(model, schema) -> None:
    """The converter adds a zero bias to a bias-free convolution; TFLM also takes none."""
    op = model.subgraphs[0].operators[0]
    op.inputs = op.inputs[:2]


def squeeze(model, schema) -> None:
    """The converter writes a static squeeze as RESHAPE; make it the SQUEEZE op (dims [2])."""
    code = schema.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.SQUEEZE
    model.operatorCodes.append(code)
    for op in model.subgraphs[0].operators:
        if model.operatorCodes[op.opcodeIndex].builtinCode == schema.BuiltinOperator.RESHAPE:
            options = schema.SqueezeOptionsT()
            options.squeezeDims = [2]
            op.opcodeIndex = len(model.operatorCodes) - 1
            op.inputs = op.inputs[:1]
            op.builtinOptionsType, op.builtinOptions = schema.BuiltinOptions.SqueezeOptions, options


def model_ops(data: bytes) -> list[str]:
    from edgeq.model import read_model

    return [op.builtin for op in read_model(data).operators]


def build(spec: Spec, out_dir: Path) -> dict[str, object]:
    data = convert(spec)
    ops = model_ops(data)
    if spec.op not in ops:
        raise SystemExit(f"{spec.name}: expected a {spec.op} op, the converter wrote {ops}")
    if len(data) > MAX_BYTES:
        raise SystemExit(f"{spec.name} is {len(data)} bytes; suite models must stay under {MAX_BYTES}")
    (out_dir / f"{spec.name}.tflite").write_bytes(data)
    entry = {"op": spec.op, "variant": spec.variant, "ops": ops, "bytes": len(data)}
    entry.update({"float_io": spec.float_io, "saturating": spec.saturate, "supported": spec.supported})
    entry["oracle"] = spec.oracle
    entry["sha256"] = hashlib.sha256(data).hexdigest()
    return entry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output directory")
    parser.add_argument(
        "--only", default="", help="comma-separated ops (e.g. SUB,PRELU): rebuild only their models, keep the rest"
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    tf.keras.utils.set_random_seed(0)
    only = {op.strip() for op in args.only.split(",") if op.strip()}
    specs = [spec for spec in all_specs() if not only or spec.op in only]
    if only and not specs:
        raise SystemExit(f"no suite model covers {sorted(only)}")
    with _index_lock(args.out):
        index_path = args.out / "index.json"
        index = json.loads(index_path.read_text()) if only and index_path.exists() else {}
        if only:  # drop this op's old entries (a renamed or removed spec leaves no stale file)
            for name in [n for n, e in index.items() if e["op"] in only]:
                (args.out / f"{name}.tflite").unlink(missing_ok=True)
                del index[name]
        index.update({spec.name: build(spec, args.out) for spec in specs})
        digests = [e["sha256"] for e in index.values()]
        if len(set(digests)) != len(digests):
            raise SystemExit("two suite models have the same bytes")
        index_path.write_text(json.dumps(index, indent=1, sort_keys=True) + "\n")
    total = sum(e["bytes"] for e in index.values())
    print(f"wrote {len(specs)} models; index.json lists {len(index)} ({total} bytes) in {args.out}")
    return 0


@contextlib.contextmanager
def _index_lock(out_dir: Path):
    """One writer of index.json at a time (several ops may be rebuilt in parallel)."""
    with open(out_dir / ".index.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


if __name__ == "__main__":
    raise SystemExit(main())
