"""Valid models rewritten the ways older converters and other tools write them, for the TFLM parity test.

Each rewrite takes a model's bytes and returns new bytes with one thing written
differently: metadata an older converter filled in another way (a stale
``quantized_dimension``, a bias without quantization, the pre-2.3 opcode field),
optional tables left out, extra unused entries, the >2 GB buffer layout, or a
broken bound TFLM must refuse. :data:`REWRITES` maps each rewrite's name to its
function; :data:`MODELS` names the fixtures they are applied to. The verdicts
(TFLM's and edgeq's) are in docs/model-compatibility.md.

The rewrites unpack and pack with LiteRT's generated flatbuffer object API
(:func:`tests.conftest.repack`), no TensorFlow.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tests.conftest import FIXTURES, generated_schema, repack

MODELS = {
    "conv": FIXTURES / "tflite" / "conv_int8.tflite",  # conv, depthwise, max pool, reshape, FC, softmax
    "depthwise": FIXTURES / "ops" / "dw_k3_m2_s1_same.tflite",  # depth multiplier 2
    "fc": FIXTURES / "ops" / "fc_b1_bias.tflite",  # per-channel FC with a bias
    "add": FIXTURES / "ops" / "add_same_shape.tflite",  # two inputs, no constants
}

PLACEHOLDER_FOR_GREATER_OP_CODES = 127  # deprecated_builtin_code of builtins numbered 127 and above


def _tensors(model):
    return model.subgraphs[0].tensors


def _int32_biases(model) -> list:
    """The constant int32 vectors (the biases of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED)."""
    return [t for t in _tensors(model) if t.type == generated_schema().TensorType.INT32 and len(t.shape) == 1]


def _edit(data: bytes, edit: Callable) -> bytes:
    return repack(data, edit)


# --- metadata older converters wrote differently (TFLM accepts these) ---


def stale_bias_axis(data: bytes) -> bytes:
    """Every 1-D quantized tensor (the biases) with quantized_dimension 3, the filter's axis, outside its rank.

    Converters before TF 2.4 copied the filter's channel axis into its per-channel bias.
    """

    def edit(model):
        for t in _tensors(model):
            if t.quantization is not None and len(t.shape) == 1:
                t.quantization.quantizedDimension = 3

    return _edit(data, edit)


def stale_per_tensor_axis(data: bytes) -> bytes:
    """Every tensor quantized per tensor (one scale) with quantized_dimension = rank + 2, whatever its rank."""

    def edit(model):
        for t in _tensors(model):
            q = t.quantization
            if q is not None and q.scale is not None and len(q.scale) == 1:
                q.quantizedDimension = len(t.shape) + 2

    return _edit(data, edit)


def wrong_weight_axis(data: bytes) -> bytes:
    """Per-channel weights whose quantized_dimension is the next axis, which does not have one scale per entry.

    TFLM's CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED kernels use their own
    channel axis and never read the field.
    """

    def edit(model):
        for t in _tensors(model):
            q = t.quantization
            if q is not None and q.scale is not None and len(q.scale) > 1 and len(t.shape) > 1:
                q.quantizedDimension = (q.quantizedDimension + 1) % len(t.shape)

    return _edit(data, edit)


def bias_empty_quantization(data: bytes) -> bytes:
    """The int32 biases with a quantization table that has no scale and no zero_point arrays."""

    def edit(model):
        for t in _int32_biases(model):
            t.quantization = generated_schema().QuantizationParametersT()

    return _edit(data, edit)


def bias_no_quantization(data: bytes) -> bytes:
    """The int32 biases with no quantization table at all."""

    def edit(model):
        for t in _int32_biases(model):
            t.quantization = None

    return _edit(data, edit)


def bias_no_zero_point(data: bytes) -> bytes:
    """The int32 biases with scales but no zero_point array (zero points are 0 for a bias anyway)."""

    def edit(model):
        for t in _int32_biases(model):
            if t.quantization is not None:
                t.quantization.zeroPoint = None

    return _edit(data, edit)


def no_zero_point(data: bytes) -> bytes:
    """Every quantized tensor with scales but no zero_point array."""

    def edit(model):
        for t in _tensors(model):
            if t.quantization is not None:
                t.quantization.zeroPoint = None

    return _edit(data, edit)


def single_zero_point(data: bytes) -> bytes:
    """Per-channel tensors (weights, biases) with one zero point for all their scales."""

    def edit(model):
        for t in _tensors(model):
            q = t.quantization
            if q is not None and q.scale is not None and len(q.scale) > 1:
                q.zeroPoint = np.array(q.zeroPoint[:1], np.int64)

    return _edit(data, edit)


def deprecated_opcode_only(data: bytes) -> bytes:
    """Operator codes as schema v3 wrote them: deprecated_builtin_code set, builtin_code left 0."""

    def edit(model):
        for code in model.operatorCodes:
            code.deprecatedBuiltinCode = max(code.deprecatedBuiltinCode, code.builtinCode)
            code.builtinCode = 0

    return _edit(data, edit)


def builtin_opcode_only(data: bytes) -> bytes:
    """Operator codes with builtin_code set and deprecated_builtin_code left 0 (a writer that skips the old field)."""

    def edit(model):
        for code in model.operatorCodes:
            code.builtinCode = max(code.deprecatedBuiltinCode, code.builtinCode)
            code.deprecatedBuiltinCode = 0

    return _edit(data, edit)


def placeholder_opcode(data: bytes) -> bytes:
    """Operator codes with builtin_code set and deprecated_builtin_code the placeholder 127.

    Converters write the placeholder only for builtins numbered 127 and above;
    every op of these models is numbered lower, so TFLM (max of the two fields)
    reads the op as PLACEHOLDER_FOR_GREATER_OP_CODES and finds no kernel.
    """

    def edit(model):
        for code in model.operatorCodes:
            code.builtinCode = max(code.deprecatedBuiltinCode, code.builtinCode)
            code.deprecatedBuiltinCode = PLACEHOLDER_FOR_GREATER_OP_CODES

    return _edit(data, edit)


def both_opcodes(data: bytes) -> bytes:
    """Operator codes with builtin_code and deprecated_builtin_code both set to the op (today's converter)."""

    def edit(model):
        for code in model.operatorCodes:
            code.builtinCode = code.deprecatedBuiltinCode = max(code.deprecatedBuiltinCode, code.builtinCode)

    return _edit(data, edit)


def no_signature_defs(data: bytes) -> bytes:
    """No signature_defs vector (converters before TF 2.5)."""

    def edit(model):
        model.signatureDefs = None

    return _edit(data, edit)


def no_subgraph_name(data: bytes) -> bytes:
    """The subgraph without a name."""

    def edit(model):
        model.subgraphs[0].name = None

    return _edit(data, edit)


def no_description(data: bytes) -> bytes:
    """The model without a description string."""

    def edit(model):
        model.description = None

    return _edit(data, edit)


def no_metadata(data: bytes) -> bytes:
    """No metadata vector (no min_runtime_version, no CONVERSION_METADATA)."""

    def edit(model):
        model.metadata = None

    return _edit(data, edit)


def extra_metadata(data: bytes) -> bytes:
    """Two more metadata entries (a tool's own, one with an empty buffer) pointing at new buffers."""
    fbs = generated_schema()

    def edit(model):
        model.metadata = list(model.metadata or [])
        for name, payload in ((b"edgeq_test_tool", b'{"tool": "rewriter", "v": 2}'), (b"empty_entry", b"")):
            buffer = fbs.BufferT()
            buffer.data = np.frombuffer(payload, np.uint8) if payload else None
            model.buffers.append(buffer)
            entry = fbs.MetadataT()
            entry.name = name
            entry.buffer = len(model.buffers) - 1
            model.metadata.append(entry)

    return _edit(data, edit)


def extra_buffers(data: bytes) -> bytes:
    """Three buffers no tensor uses: one empty, one with bytes, one with the size of a float32 vector."""
    fbs = generated_schema()

    def edit(model):
        for payload in (b"", bytes(range(37)), np.arange(16, dtype=np.float32).tobytes()):
            buffer = fbs.BufferT()
            buffer.data = np.frombuffer(payload, np.uint8) if payload else None
            model.buffers.append(buffer)

    return _edit(data, edit)


def external_buffers(data: bytes) -> bytes:
    """Constant data stored after the flatbuffer, at Buffer.offset/size (the layout of models over 2 GB).

    The converter writes this layout when the flatbuffer would pass 2 GB: each
    buffer's bytes go after the flatbuffer, 16-byte aligned, and Buffer.offset
    counts from the start of the file.
    """
    model = generated_schema().ModelT.InitFromPackedBuf(data, 0)
    payloads = {i: bytes(b.data.tobytes()) for i, b in enumerate(model.buffers) if b.data is not None and len(b.data)}

    def place(offsets: dict[int, int]):
        def edit(m):
            for i, offset in offsets.items():
                m.buffers[i].data = None
                m.buffers[i].offset = offset
                m.buffers[i].size = len(payloads[i])

        return edit

    head = repack(data, place(dict.fromkeys(payloads, 1)))  # 1 = "offset not known yet": same table sizes
    offsets, end = {}, len(head)
    for i, payload in payloads.items():
        end += -end % 16
        offsets[i] = end
        end += len(payload)
    packed = bytearray(repack(data, place(offsets)))
    assert len(packed) == len(head)
    for i, payload in payloads.items():
        packed.extend(bytes(offsets[i] - len(packed)))
        packed.extend(payload)
    return bytes(packed)


# --- broken bounds (TFLM refuses these) ---


def _first_constant(model):
    return next(t for t in _tensors(model) if model.buffers[t.buffer].data is not None)


def bad_buffer_index(data: bytes) -> bytes:
    """A constant tensor pointing at buffer len(buffers) + 5, past the end of the buffers vector."""

    def edit(model):
        constants = [t for t in _tensors(model) if model.buffers[t.buffer].data is not None]
        target = constants[0] if constants else _tensors(model)[0]
        target.buffer = len(model.buffers) + 5

    return _edit(data, edit)


def short_constant(data: bytes) -> bytes:
    """A constant tensor whose buffer holds one element less than its shape needs (an input for models without)."""

    def edit(model):
        constants = [t for t in _tensors(model) if model.buffers[t.buffer].data is not None]
        if constants:
            buffer = model.buffers[constants[0].buffer]
            buffer.data = buffer.data[: -(4 if constants[0].type == generated_schema().TensorType.INT32 else 1)]
        else:  # no constants: give the first input data of the wrong size
            tensor = _tensors(model)[0]
            extra = generated_schema().BufferT()
            extra.data = np.zeros(3, np.uint8)
            model.buffers.append(extra)
            tensor.buffer = len(model.buffers) - 1

    return _edit(data, edit)


def bad_tensor_index(data: bytes) -> bytes:
    """The first operator reading tensor len(tensors) + 3."""

    def edit(model):
        op = model.subgraphs[0].operators[0]
        op.inputs = np.array([len(_tensors(model)) + 3, *op.inputs[1:]], np.int32)

    return _edit(data, edit)


def bad_opcode_index(data: bytes) -> bytes:
    """The first operator using opcode len(operator_codes) + 2."""

    def edit(model):
        model.subgraphs[0].operators[0].opcodeIndex = len(model.operatorCodes) + 2

    return _edit(data, edit)


def truncated_external_buffer(data: bytes) -> bytes:
    """The external-buffer layout with the file cut 8 bytes short of the last buffer's end."""
    return external_buffers(data)[:-8]


REWRITES: dict[str, Callable[[bytes], bytes]] = {
    "original": lambda data: data,
    "stale_bias_axis": stale_bias_axis,
    "stale_per_tensor_axis": stale_per_tensor_axis,
    "wrong_weight_axis": wrong_weight_axis,
    "bias_empty_quantization": bias_empty_quantization,
    "bias_no_quantization": bias_no_quantization,
    "bias_no_zero_point": bias_no_zero_point,
    "no_zero_point": no_zero_point,
    "single_zero_point": single_zero_point,
    "deprecated_opcode_only": deprecated_opcode_only,
    "builtin_opcode_only": builtin_opcode_only,
    "placeholder_opcode": placeholder_opcode,
    "both_opcodes": both_opcodes,
    "no_signature_defs": no_signature_defs,
    "no_subgraph_name": no_subgraph_name,
    "no_description": no_description,
    "no_metadata": no_metadata,
    "extra_metadata": extra_metadata,
    "extra_buffers": extra_buffers,
    "external_buffers": external_buffers,
    "bad_buffer_index": bad_buffer_index,
    "short_constant": short_constant,
    "bad_tensor_index": bad_tensor_index,
    "bad_opcode_index": bad_opcode_index,
    "truncated_external_buffer": truncated_external_buffer,
}
