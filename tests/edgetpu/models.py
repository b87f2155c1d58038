"""Models for the Edge TPU tests, edited from checked-in fixtures with LiteRT's flatbuffer object API."""

from __future__ import annotations

import numpy as np

from tests.conftest import FIXTURES, generated_schema, repack

CONV_INT8 = FIXTURES / "tflite" / "conv_int8.tflite"  # CONV_2D, DEPTHWISE_CONV_2D, MAX_POOL_2D, RESHAPE, FC, SOFTMAX
CONV_FLOAT = FIXTURES / "tflite" / "conv_float.tflite"
ZOO = FIXTURES / "zoo"
OPS = FIXTURES / "ops"


def replace_opcode(data: bytes, old: str, new: str) -> bytes:
    """``data`` with every ``old`` builtin op turned into ``new`` (the options stay as they were)."""
    fbs = generated_schema()
    old_code, new_code = getattr(fbs.BuiltinOperator, old), getattr(fbs.BuiltinOperator, new)

    def edit(model):
        for code in model.operatorCodes:
            if max(code.builtinCode, code.deprecatedBuiltinCode) == old_code:
                code.builtinCode = code.deprecatedBuiltinCode = new_code

    return repack(data, edit)


def set_shapes(data: bytes, shape: list[int], signature: list[int] | None = None) -> bytes:
    """``data`` with every non-constant tensor given ``shape`` (and ``signature`` as shape signature)."""

    def edit(model):
        for tensor in model.subgraphs[0].tensors:
            if model.buffers[tensor.buffer].data is None:
                tensor.shape = np.array(shape, np.int32)
                tensor.shapeSignature = None if signature is None else np.array(signature, np.int32)

    return repack(data, edit)


def add_subgraph_copy(data: bytes) -> bytes:
    """``data`` with its subgraph duplicated, as control flow (WHILE, IF) would add one."""
    fbs = generated_schema()

    def edit(model):
        model.subgraphs.append(fbs.SubGraphT.InitFromPackedBuf(_subgraph_bytes(data), 0))

    return repack(data, edit)


def _subgraph_bytes(data: bytes) -> bytes:
    import flatbuffers

    fbs = generated_schema()
    sub = fbs.ModelT.InitFromPackedBuf(data, 0).subgraphs[0]
    builder = flatbuffers.Builder(1024)
    builder.Finish(sub.Pack(builder))
    return bytes(builder.Output())


def static_flatten(data: bytes) -> bytes:
    """A zoo model as a fixed-batch conversion gives it: the SHAPE -> STRIDED_SLICE -> PACK chain that
    feeds RESHAPE folded into a constant, and no -1 in any shape signature."""
    fbs = generated_schema()

    def edit(model):
        sub = model.subgraphs[0]
        names = [_op_name(model, op) for op in sub.operators]
        first = names.index(fbs.BuiltinOperator.SHAPE)
        pack, reshape = sub.operators[first + 2], sub.operators[first + 3]
        shape_tensor = sub.tensors[pack.outputs[0]]
        units = int(np.prod(sub.tensors[reshape.outputs[0]].shape))
        model.buffers.append(fbs.BufferT())
        model.buffers[-1].data = np.array([1, units], "<i4").view(np.uint8)
        shape_tensor.buffer = len(model.buffers) - 1
        del sub.operators[first : first + 3]
        for tensor in sub.tensors:
            tensor.shapeSignature = None

    return repack(data, edit)


def _op_name(model, op) -> int:
    code = model.operatorCodes[op.opcodeIndex]
    return max(code.builtinCode, code.deprecatedBuiltinCode)
