"""Build the small TensorFlow model fixtures the converter tests use.

Run once with the project's environment; the files are checked in under
tests/fixtures/models/ so that tests never train:

    python scripts/make_fixtures.py

Every model is seeded and untrained (weights from the seeded initializers),
which is enough to exercise loading, calibration and quantization.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "models"


def tiny_cnn(keras):
    """12x12x3 image classifier: conv, depthwise conv, pooling, dense, softmax (Keras 3)."""
    inp = keras.Input((12, 12, 3), name="img")
    x = keras.layers.Conv2D(8, 3, activation="relu", name="conv")(inp)
    x = keras.layers.DepthwiseConv2D(3, activation="relu", name="dw")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    out = keras.layers.Dense(4, activation="softmax", name="head")(x)
    return keras.Model(inp, out, name="tiny_cnn")


def legacy_h5(path: Path) -> None:
    """A Keras-2-era .h5 (tf-keras): its DepthwiseConv2D config carries a 'groups' key Keras 3 rejects."""
    import tf_keras

    tf_keras.utils.set_random_seed(1)
    inp = tf_keras.Input((10, 10, 2), name="x")
    x = tf_keras.layers.DepthwiseConv2D(3, activation="relu", name="dw")(inp)
    x = tf_keras.layers.Flatten(name="flat")(x)
    out = tf_keras.layers.Dense(3, name="logits")(x)
    tf_keras.Model(inp, out).save(path, save_format="h5")


def two_input(keras):
    """Two inputs (an 8x8x1 image and a 4-vector) joined before the head."""
    image = keras.Input((8, 8, 1), name="image")
    meta = keras.Input((4,), name="meta")
    a = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(image)
    a = keras.layers.Flatten(name="flat")(a)
    b = keras.layers.Dense(8, activation="relu", name="meta_dense")(meta)
    x = keras.layers.Concatenate(name="join")([a, b])
    out = keras.layers.Dense(3, activation="softmax", name="head")(x)
    return keras.Model([image, meta], out, name="two_input")


def saved_model_tf1(path: Path) -> None:
    """A TF1-style SavedModel (graph + session, SavedModelBuilder), as old exports are."""
    import numpy as np
    import tensorflow as tf

    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        x = v1.placeholder(tf.float32, [None, 16], name="features")
        w = tf.constant(np.random.default_rng(2).normal(size=(16, 8)).astype(np.float32))
        y = tf.nn.relu(tf.matmul(x, w), name="hidden")
        w2 = tf.constant(np.random.default_rng(3).normal(size=(8, 2)).astype(np.float32))
        out = tf.identity(tf.matmul(y, w2), name="scores")
        with v1.Session(graph=graph) as sess:
            builder = v1.saved_model.Builder(str(path))
            sig = v1.saved_model.predict_signature_def({"features": x}, {"scores": out})
            builder.add_meta_graph_and_variables(sess, ["serve"], signature_def_map={"serving_default": sig})
            builder.save()


def saved_model_cos(path: Path) -> None:
    """A TF2 SavedModel with COS, which has no integer kernel: stays float in int8 mode."""
    import numpy as np
    import tensorflow as tf

    class Wave(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = tf.constant(np.random.default_rng(4).normal(size=(6, 6)).astype(np.float32))

        @tf.function(input_signature=[tf.TensorSpec([1, 6], tf.float32, name="x")])
        def __call__(self, x):
            return {"y": tf.matmul(tf.math.cos(tf.matmul(x, self.w)), self.w)}

    module = Wave()
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.__call__})


def main() -> int:
    import keras
    import tensorflow as tf  # noqa: F401

    OUT.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(0)
    tiny_cnn(keras).save(OUT / "tiny_cnn.keras")
    keras.utils.set_random_seed(0)
    two_input(keras).save(OUT / "two_input.keras")
    legacy_h5(OUT / "legacy_dw.h5")
    for name, build in (("savedmodel_tf1", saved_model_tf1), ("savedmodel_cos", saved_model_cos)):
        shutil.rmtree(OUT / name, ignore_errors=True)
        build(OUT / name)
    for p in sorted(OUT.rglob("*")):
        if p.is_file():
            print(f"{p.relative_to(OUT)}: {p.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
