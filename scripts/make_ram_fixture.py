"""Write tests/fixtures/ram/kws_fc4000.tflite: a speech classifier whose FULLY_CONNECTED reads 4,000 inputs.

The shape of small published keyword-spotting models without global pooling: 50 frames x 10
coefficients, one 3x3 CONV_2D with 8 filters (50 x 10 x 8 = 4,000 int8 values), flattened into a
FULLY_CONNECTED layer of 12 classes and a SOFTMAX. Its int16 input column (8,000 bytes) would
sit beside the FC's 4,000-byte int8 input, where TFLM's kernel reads that input directly: the
model the engine's kernel schedule (edgeq.codegen.engine.schedule) is tested and benchmarked on.
Seeded weights and calibration data: the same bytes every run on the same TensorFlow.
Usage: ``python scripts/make_ram_fixture.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from int8_tflite import int8_tflite  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "ram" / "kws_fc4000.tflite"
INPUT = (1, 50, 10, 1)


def build() -> bytes:
    import tensorflow as tf

    rng = np.random.default_rng(4000)
    w_conv = tf.constant(rng.normal(0.0, 0.4, (3, 3, 1, 8)).astype(np.float32))
    b_conv = tf.constant(rng.normal(0.0, 0.1, (8,)).astype(np.float32))
    w_fc = tf.constant(rng.normal(0.0, 0.05, (4000, 12)).astype(np.float32))
    b_fc = tf.constant(rng.normal(0.0, 0.1, (12,)).astype(np.float32))

    def model(x):
        y = tf.nn.relu(tf.nn.conv2d(x, w_conv, 1, "SAME") + b_conv)
        return tf.nn.softmax(tf.matmul(tf.reshape(y, (1, 4000)), w_fc) + b_fc)

    return int8_tflite(tf, model, INPUT, -30.0, 30.0, seed=1)


def main() -> int:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(build())
    print(f"{OUT}: {OUT.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
