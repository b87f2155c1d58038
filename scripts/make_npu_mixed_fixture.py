"""Write tests/fixtures/npu_mixed/conv_gather_int8.tflite: an int8 CNN with one op Vela keeps on the CPU.

The model is CONV_2D (8x8x3 -> 8x8x8, relu), GATHER of 6 of its 8 channels (constant indices),
DEPTHWISE_CONV_2D, then a FULLY_CONNECTED head. Compiled by Vela for an Ethos-U55 or U65 it becomes
``ethos-u`` (the convolution), GATHER on the CPU (Vela 5.2 places GATHER on the NPU of the Ethos-U85
only), and a second ``ethos-u`` (depthwise convolution and head): the shape
``edgeq.codegen.npu_split`` cuts the CPU part out of, with GATHER an op that TFLM and edgeq's
compiled engine both run.

Ops tried for the CPU part: SQRT (Vela rejects int8 SQRT, but edgeq's engine has no SQRT kernel),
LOG (Vela 5.2 maps int8 LOG to the NPU), CUMSUM (TFLite keeps it in float between a DEQUANTIZE and
a QUANTIZE). GATHER is on both runtimes and stays on the CPU.

Seeded weights and calibration data. Usage: ``python scripts/make_npu_mixed_fixture.py`` (needs the
convert extra); check the result with ``edgeq compile ... --npu ethos-u55-128``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from int8_tflite import int8_tflite  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "npu_mixed" / "conv_gather_int8.tflite"
INPUT = (1, 8, 8, 3)
CHANNELS = [0, 2, 3, 5, 6, 7]  # the channels GATHER keeps


def build() -> bytes:
    """The int8 model (int8 input and output) as .tflite bytes."""
    import tensorflow as tf

    rng = np.random.default_rng(7)
    conv = tf.constant(rng.normal(0.0, 0.4, (3, 3, 3, 8)).astype(np.float32))
    depthwise = tf.constant(rng.normal(0.0, 0.4, (3, 3, len(CHANNELS), 1)).astype(np.float32))
    dense = tf.constant(rng.normal(0.0, 0.2, (8 * 8 * len(CHANNELS), 5)).astype(np.float32))

    def model(x):
        y = tf.nn.relu(tf.nn.conv2d(x, conv, 1, "SAME"))
        y = tf.gather(y, CHANNELS, axis=3)
        y = tf.nn.relu(tf.nn.depthwise_conv2d(y, depthwise, [1, 1, 1, 1], "SAME"))
        return tf.matmul(tf.reshape(y, (1, -1)), dense)

    return int8_tflite(tf, model, INPUT, -1.0, 1.0, seed=8)


def main() -> int:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    data = build()
    OUT.write_bytes(data)
    print(f"{OUT}: {len(data):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
