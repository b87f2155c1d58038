"""Corrupt but readable models for the error-handling tests: random byte mutations and hand-made cases.

Every model here passes or fails the edgeq reader deterministically. The hand-made
ones each hit one runtime's weak spot: a shape the engine must not trust, a
string LiteRT's verifier rejects, a tensor name that is not UTF-8, an op TFLM
has no kernel for.
"""

from __future__ import annotations

import random

import numpy as np

from tests.conftest import FIXTURES, repack

CONV_INT8 = FIXTURES / "tflite" / "conv_int8.tflite"
OPS = FIXTURES / "ops"


def byte_mutants(data: bytes, count: int, seed: int, most: int = 4) -> list[bytes]:
    """``count`` copies of ``data``, each with 1 to ``most`` random bytes overwritten (fixed ``seed``)."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        mutant = bytearray(data)
        for _ in range(rng.randint(1, most)):
            mutant[rng.randrange(len(mutant))] = rng.randrange(256)
        out.append(bytes(mutant))
    return out


def set_shape(t, *shape: int) -> None:
    t.shape = np.array(shape, np.int32)
    t.shapeSignature = None


def huge_fc_input() -> bytes:
    """FULLY_CONNECTED with input 1 x 2^30, weights 16 x 1 and output 1 x 16: planned as a 1 GiB arena."""

    def edit(model):
        ts = model.subgraphs[0].tensors  # x, bias, weights, output
        set_shape(ts[0], 1, 2**30)
        set_shape(ts[2], 16, 1)
        model.buffers[ts[2].buffer].data = np.arange(16, dtype=np.uint8)
        set_shape(ts[1], 16)
        model.buffers[ts[1].buffer].data = np.zeros(64, np.uint8)
        set_shape(ts[3], 1, 16)

    return repack((OPS / "fc_in1_out1.tflite").read_bytes(), edit)


def huge_fc_weight_zero_point() -> bytes:
    """Per-tensor FULLY_CONNECTED weights whose zero point does not fit C's int32 (-Werror=overflow)."""

    def edit(model):
        model.subgraphs[0].tensors[2].quantization.zeroPoint = np.array([717259538432], np.int64)

    return repack((OPS / "fc_b1_per_tensor.tflite").read_bytes(), edit)


def tile_model() -> bytes:
    """A one-op model whose op is TILE, which TFLM has no kernel for."""
    from ai_edge_litert import schema_py_generated as fbs

    def edit(model):
        for code in model.operatorCodes:
            code.builtinCode = code.deprecatedBuiltinCode = fbs.BuiltinOperator.TILE

    return repack((OPS / "squared_difference_same_shape.tflite").read_bytes(), edit)


def unterminated_string() -> bytes:
    """conv_int8 with the NUL after a metadata name overwritten: LiteRT's verifier rejects the file, TFLM runs it."""
    data = bytearray(CONV_INT8.read_bytes())
    name = b"min_runtime_version"
    data[data.index(name + b"\0") + len(name)] = ord("!")
    return bytes(data)


def non_utf8_name() -> bytes:
    """conv_int8 with its input tensor's name no longer UTF-8 (LiteRT's Python API raises UnicodeDecodeError)."""
    data = bytearray(CONV_INT8.read_bytes())
    data[data.index(b"serving_default_image")] = 0x88
    return bytes(data)


def stale_bias_axis() -> bytes:
    """conv with a per-channel bias whose quantized_dimension is the weights' (3): older converters, TFLM runs it."""

    def edit(model):
        model.subgraphs[0].tensors[1].quantization.quantizedDimension = 3

    return repack((OPS / "conv_k3_s1_same_relu.tflite").read_bytes(), edit)


HAND_MADE = {
    "huge_fc_input": huge_fc_input,
    "huge_fc_weight_zero_point": huge_fc_weight_zero_point,
    "tile": tile_model,
    "unterminated_string": unterminated_string,
    "non_utf8_name": non_utf8_name,
    "stale_bias_axis": stale_bias_axis,
}
