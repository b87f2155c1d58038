"""Write tests/fixtures/int4/: small models with int4 weights, each beside the same model with int8 weights.

Every model is a small seeded Keras model with a fixed batch-1 input (no Flatten: its float
SHAPE/STRIDED_SLICE/PACK path would stay in the quantized model), converted to a float .tflite and
quantized by Google's AI Edge Quantizer: int8 activations, and the weights of CONV_2D,
DEPTHWISE_CONV_2D and FULLY_CONNECTED as int4, symmetric per output channel (TFLite's INT4 tensor
type, two values a byte). Weight element counts are odd where the layer allows it, so a half byte
is left over at the end of the packed data.

For each ``NAME.tflite`` the script also writes ``NAME_w8.tflite``: the same model with every int4
tensor stored as int8 (the same values unpacked, the same scales), rewritten through LiteRT's
flatbuffer object API. The two compute exactly the same outputs; the int8 one is the oracle
wherever an interpreter lacks int4 kernels.

Usage: ``python scripts/make_int4_fixtures.py`` (needs the ``int4`` extra: ``pip install 'edgeq[int4]'``).
"""

from __future__ import annotations

import copy
import os
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "int4"
INT4_OPS = ("CONV_2D", "FULLY_CONNECTED", "DEPTHWISE_CONV_2D")
INT4, INT8 = 17, 9  # TFLite schema TensorType values


def conv(keras):
    """Two CONV_2D (3 -> 5 -> 7 channels, 135 and 315 weights) and global pooling."""
    inp = keras.Input((9, 9, 3), batch_size=1, name="x")
    x = keras.layers.Conv2D(5, 3, padding="same", activation="relu", name="conv1")(inp)
    x = keras.layers.Conv2D(7, 3, strides=2, activation="relu", name="conv2")(x)
    return keras.Model(inp, keras.layers.GlobalAveragePooling2D(name="gap")(x), name="conv")


def depthwise(keras):
    """DEPTHWISE_CONV_2D over 5 channels (45 weights) and over 7 (depth multiplier 1), a 1x1 CONV_2D between."""
    inp = keras.Input((8, 8, 5), batch_size=1, name="x")
    x = keras.layers.DepthwiseConv2D(3, padding="same", activation="relu", name="dw1")(inp)
    x = keras.layers.Conv2D(7, 1, activation="relu", name="pw1")(x)
    x = keras.layers.DepthwiseConv2D(3, strides=2, activation="relu6", name="dw2")(x)
    return keras.Model(inp, keras.layers.GlobalAveragePooling2D(name="gap")(x), name="depthwise")


def fc(keras):
    """FULLY_CONNECTED 13 -> 7 -> 5 (91 and 35 weights)."""
    inp = keras.Input((13,), batch_size=1, name="x")
    x = keras.layers.Dense(7, activation="relu", name="fc1")(inp)
    return keras.Model(inp, keras.layers.Dense(5, name="fc2")(x), name="fc")


def ds_cnn(keras):
    """A keyword-spotting DS-CNN: 49 x 10 features, a 10x4 CONV_2D, two depthwise-separable blocks, 12 classes."""
    inp = keras.Input((49, 10, 1), batch_size=1, name="mfcc")
    he, bias = "he_normal", keras.initializers.RandomNormal(0.0, 0.1)  # activations keep their range layer to layer
    x = keras.layers.Conv2D(24, (10, 4), 2, "same", activation="relu", kernel_initializer=he, name="conv")(inp)
    for k in (1, 2):
        x = keras.layers.DepthwiseConv2D(
            3, padding="same", activation="relu", depthwise_initializer=he, bias_initializer=bias, name=f"dw{k}"
        )(x)
        x = keras.layers.Conv2D(24, 1, activation="relu", kernel_initializer=he, bias_initializer=bias, name=f"pw{k}")(
            x
        )
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    out = keras.layers.Dense(
        12, activation="softmax", kernel_initializer=keras.initializers.RandomNormal(0.0, 0.6), name="head"
    )(x)
    return keras.Model(inp, out, name="ds_cnn")


def residual(keras):
    """A residual block: two CONV_2D (225 weights each) added to their input; the engine fuses the second and the ADD."""
    inp = keras.Input((8, 8, 2), batch_size=1, name="x")
    x = keras.layers.Conv2D(5, 3, padding="same", activation="relu", name="conv1")(inp)
    y = keras.layers.Conv2D(5, 3, padding="same", activation="relu", name="conv2")(x)
    y = keras.layers.Conv2D(5, 3, padding="same", name="conv3")(y)
    x = keras.layers.Add(name="add")([x, y])
    return keras.Model(inp, keras.layers.GlobalAveragePooling2D(name="gap")(x), name="residual")


MODELS = {"conv": conv, "depthwise": depthwise, "fc": fc, "ds_cnn": ds_cnn, "residual": residual}


def float_tflite(model) -> bytes:
    """The float .tflite of a Keras model (batch 1, no optimizations)."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return converter.convert()


def int4_recipe() -> list[dict]:
    """static_wi8_ai8 with 4-bit weights on CONV_2D, FULLY_CONNECTED and DEPTHWISE_CONV_2D."""
    from ai_edge_quantizer import recipe

    base = recipe.static_wi8_ai8()
    out = list(base)
    for op in INT4_OPS:
        entry = copy.deepcopy(base[0])
        entry["operation"] = op
        entry["op_config"]["weight_tensor_config"]["num_bits"] = 4
        if op == "DEPTHWISE_CONV_2D":
            entry["op_config"]["skip_checks"] = True
        out.append(entry)
    return out


def quantize(float_model: bytes, shape: tuple[int, ...], seed: int) -> bytes:
    """The int4-weight model of ``float_model``, calibrated on 16 seeded uniform samples of ``shape``."""
    import ai_edge_litert.interpreter as lite
    from ai_edge_quantizer import quantizer

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "float.tflite"
        path.write_bytes(float_model)
        q = quantizer.Quantizer(str(path))
        q.load_quantization_recipe(int4_recipe())
        runner = lite.Interpreter(model_content=float_model).get_signature_runner()
        sig_name = "serving_default"
        (input_name,) = runner.get_input_details()
        rng = np.random.default_rng(seed)
        samples = [{input_name: rng.uniform(-1.0, 1.0, shape).astype(np.float32)} for _ in range(16)]
        return bytes(q.quantize(q.calibrate({sig_name: samples})).quantized_model)


def unpack_int4(packed: bytes, count: int) -> np.ndarray:
    """TFLite's packing: two values a byte, the first in the low nibble, each sign extended."""
    raw = np.frombuffer(packed, np.uint8)
    nibbles = np.stack([raw & 0x0F, raw >> 4], axis=1).reshape(-1)[:count].astype(np.int16)
    return np.where(nibbles >= 8, nibbles - 16, nibbles).astype(np.int8)


def as_int8(data: bytes) -> bytes:
    """The same model with every int4 tensor stored as int8 (LiteRT's flatbuffer object API)."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as fbs

    model = fbs.ModelT.InitFromPackedBuf(data, 0)
    for subgraph in model.subgraphs:
        for tensor in subgraph.tensors:
            if tensor.type != INT4:
                continue
            buffer = model.buffers[tensor.buffer]
            count = int(np.prod(tensor.shape))
            if buffer.data is None:
                raise SystemExit(f"int4 tensor {tensor.name!r} has no data in its buffer")
            buffer.data = unpack_int4(bytes(bytearray(buffer.data)), count).view(np.uint8)
            tensor.type = INT8
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def main() -> int:
    import keras

    OUT.mkdir(parents=True, exist_ok=True)
    for seed, (name, make) in enumerate(MODELS.items(), 1):
        keras.utils.set_random_seed(seed)
        model = make(keras)
        int4 = quantize(float_tflite(model), tuple(model.inputs[0].shape), seed)
        (OUT / f"{name}.tflite").write_bytes(int4)
        (OUT / f"{name}_w8.tflite").write_bytes(as_int8(int4))
        print(f"{name}: int4 {len(int4):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
