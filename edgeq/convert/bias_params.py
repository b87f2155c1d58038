"""Biases without their own quantization parameters: the bytes per-channel data costs in a .tflite.

A quantized CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED with per-channel
weights stores its int32 bias with a scale and an int64 zero point per output
channel (12 bytes a channel, plus the vectors' headers), although the
quantization spec fixes them: scale = input scale x weight scale of that
channel, zero point 0. The kernels of LiteRT (built-in and XNNPACK), TFLite
Micro and edgeq's engine compute with the input and weight scales and never
read the bias's own, so those parameters can go. On an int4 model they are a
large share of what is left: MobileNetV2 loses about 200 KB of 2.3 MB.

Only biases whose parameters are exactly what the spec derives (zero points 0,
scales equal to the product within float32 rounding) and that only such ops
read are changed; anything else is left as it was.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Builtin operator codes of the ops whose bias parameters the kernels derive.
_BIAS_OPS = {3: "CONV_2D", 4: "DEPTHWISE_CONV_2D", 9: "FULLY_CONNECTED"}
_INT32 = 2  # TensorType.INT32
_RELATIVE_TOLERANCE = 1e-6
_DATA_ALIGNMENT = 16


def drop_bias_quantization(model: bytes) -> tuple[bytes, int]:
    """(the model with derivable bias parameters removed, how many biases changed).

    Returns ``model`` itself (and 0) when no bias qualifies.
    """
    import flatbuffers  # type: ignore[import-untyped]
    from ai_edge_litert import schema_py_generated as fbs  # type: ignore[import-untyped]

    unpacked = fbs.ModelT.InitFromPackedBuf(model, 0)
    changed = 0
    for subgraph in unpacked.subgraphs or []:
        for index in _derivable_biases(unpacked, subgraph):
            subgraph.tensors[index].quantization = None
            changed += 1
    if not changed:
        return model, 0
    aligned = _aligned_buffer_class(fbs.BufferT)
    unpacked.buffers = [aligned.inline(buffer, model) for buffer in unpacked.buffers or []]
    builder = flatbuffers.Builder(len(model) + 1024)
    builder.Finish(unpacked.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output()), changed


def _aligned_buffer_class(base: Any) -> Any:
    """A BufferT whose data is written inline and 16-byte aligned, as TensorFlow's converter writes it.

    The object API would write it with 1-byte alignment (int32 biases read
    through unaligned pointers on a microcontroller) and would lose data a
    large model keeps after the flatbuffer (``offset``/``size``): such data is
    read from ``model`` and written inline.
    """

    class AlignedBuffer(base):
        @classmethod
        def inline(cls, buffer: Any, model: bytes) -> Any:
            out = cls()
            data = buffer.data
            if buffer.offset is not None and buffer.offset > 1 and buffer.size:
                data = model[buffer.offset : buffer.offset + buffer.size]
            if data is not None and not isinstance(data, bytes):
                data = np.asarray(data, dtype=np.uint8).tobytes()
            out.data = data
            out.offset, out.size = 0, 0
            return out

        def Pack(self, builder: Any) -> Any:  # noqa: N802 - the generated API's name
            vector = None
            if self.data is not None:
                builder.StartVector(1, len(self.data), _DATA_ALIGNMENT)
                builder.head -= len(self.data)
                builder.Bytes[builder.head : builder.head + len(self.data)] = self.data
                vector = builder.EndVector()
            builder.StartObject(3)
            if vector is not None:
                builder.PrependUOffsetTRelativeSlot(0, vector, 0)
            return builder.EndObject()

    return AlignedBuffer


def _derivable_biases(model: Any, subgraph: Any) -> list[int]:
    """Indices of bias tensors of ``subgraph`` whose scales and zero points the spec derives."""
    readers: dict[int, int] = {}
    candidates: dict[int, Any] = {}
    for op in subgraph.operators or []:
        for position, index in enumerate(op.inputs if op.inputs is not None else []):
            if index >= 0:
                readers[index] = readers.get(index, 0) + 1
            if position == 2 and index >= 0 and _opcode(model, op) in _BIAS_OPS:
                candidates[index] = op
    return [
        index
        for index, op in candidates.items()
        if readers.get(index) == 1 and _derivable(subgraph.tensors, op.inputs[0], op.inputs[1], index)
    ]


def _derivable(tensors: list[Any], x: int, w: int, b: int) -> bool:
    """True when bias ``b`` is int32 with zero points 0 and scales input scale x weight scale, per channel."""
    bias, weights, inputs = tensors[b], tensors[w], tensors[x]
    if bias.type != _INT32 or bias.quantization is None or weights.quantization is None:
        return False
    scales = _vector(bias.quantization.scale).astype(np.float32)
    weight_scales = _vector(weights.quantization.scale).astype(np.float64)
    input_scales = _vector(inputs.quantization.scale if inputs.quantization is not None else None).astype(np.float64)
    zero_points = _vector(bias.quantization.zeroPoint)
    if len(weight_scales) < 2 or len(input_scales) != 1 or len(scales) != len(weight_scales):
        return False  # per-tensor weights: LiteRT checks the bias scale there
    if zero_points.size not in (0, len(scales)) or np.any(zero_points != 0):
        return False
    expected = (input_scales[0] * weight_scales).astype(np.float32)
    return bool(np.all(np.abs(scales - expected) <= _RELATIVE_TOLERANCE * np.abs(expected)))


def _opcode(model: Any, op: Any) -> int:
    code = model.operatorCodes[op.opcodeIndex]
    return int(max(code.builtinCode, code.deprecatedBuiltinCode))


def _vector(values: Any) -> np.ndarray:
    """A quantization vector of the object API (list, numpy array or None) as a numpy array."""
    return np.asarray([] if values is None else values)
