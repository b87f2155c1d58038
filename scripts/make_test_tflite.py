"""Build the small .tflite fixtures under tests/fixtures/tflite/ (needs TensorFlow).

Run once and check the files in; tests read them without TensorFlow::

    .venv/bin/python scripts/make_test_tflite.py

Every model is seeded (weights and representative data), so reruns give the
same graphs. Files:

- ``conv_float.tflite``: conv2d (same) -> depthwise (valid) -> max pool -> dense -> softmax
  on a 16x16x3 input, float32 throughout.
- ``conv_int8.tflite``: the same model, fully int8 (int8 input and output).
- ``two_input_int8.tflite``: two 8-value inputs, a dense branch each, added, then a dense
  head; fully int8.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

SEED = 1234
OUT_DIR = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "tflite"
MAX_BYTES = 50_000


def conv_model() -> tf.keras.Model:
    """conv2d(8, 3x3, same, relu) -> depthwise(3x3, valid) -> maxpool 2 -> dense(10) -> softmax."""
    tf.keras.utils.set_random_seed(SEED)
    inp = tf.keras.Input(shape=(16, 16, 3), batch_size=1, name="image")
    x = tf.keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inp)
    x = tf.keras.layers.DepthwiseConv2D(3, padding="valid", activation="relu")(x)
    x = tf.keras.layers.MaxPooling2D(2)(x)
    x = tf.keras.layers.Flatten()(x)
    x = tf.keras.layers.Dense(10)(x)
    out = tf.keras.layers.Softmax()(x)
    return tf.keras.Model(inp, out)


def two_input_model() -> tf.keras.Model:
    """Two 8-value inputs -> dense(16, relu) each -> add -> dense(4)."""
    tf.keras.utils.set_random_seed(SEED + 1)
    a = tf.keras.Input(shape=(8,), batch_size=1, name="a")
    b = tf.keras.Input(shape=(8,), batch_size=1, name="b")
    xa = tf.keras.layers.Dense(16, activation="relu")(a)
    xb = tf.keras.layers.Dense(16, activation="relu")(b)
    x = tf.keras.layers.Add()([xa, xb])
    out = tf.keras.layers.Dense(4)(x)
    return tf.keras.Model([a, b], out)


def representative(shapes: list[tuple[int, ...]], count: int = 32):
    """A seeded representative-dataset generator yielding one list of arrays per sample."""

    def gen():
        rng = np.random.default_rng(SEED)
        for _ in range(count):
            yield [rng.uniform(-1.0, 1.0, size=s).astype(np.float32) for s in shapes]

    return gen


def convert(model: tf.keras.Model, int8: bool) -> bytes:
    """Convert ``model`` to float32 or fully-int8 TFLite bytes."""
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if int8:
        shapes = [tuple(t.shape) for t in model.inputs]
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative(shapes)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    return converter.convert()


def write(name: str, data: bytes, out_dir: Path) -> None:
    """Write one fixture, refusing anything larger than MAX_BYTES."""
    if len(data) > MAX_BYTES:
        raise SystemExit(f"{name} is {len(data)} bytes; fixtures must stay under {MAX_BYTES}")
    path = out_dir / name
    path.write_bytes(data)
    print(f"wrote {path} ({len(data)} bytes)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output directory")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    conv = conv_model()
    write("conv_float.tflite", convert(conv, int8=False), args.out)
    write("conv_int8.tflite", convert(conv, int8=True), args.out)
    write("two_input_int8.tflite", convert(two_input_model(), int8=True), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
