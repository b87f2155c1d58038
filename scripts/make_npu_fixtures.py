"""Write tests/fixtures/npu/*.tflite: small int8 models with an op Arm's Vela keeps on the CPU.

Each model is a FULLY_CONNECTED layer, one op the Ethos-U55/U65 does not run, and a second
FULLY_CONNECTED layer, so Vela's output holds two NPU command streams around one CPU op:

- ``gather_int8.tflite``: GATHER with constant indices (Vela maps GATHER to the NPU on the
  Ethos-U85 only).
- ``sqrt_int8.tflite``: an int8 SQRT (Vela 5.2 rejects it on every Ethos-U: "Unsupported opType").

Other ops tried for this: LOG (Vela 5.2 maps int8 LOG to the NPU) and CUMSUM (TFLite keeps it in
float between a DEQUANTIZE and a QUANTIZE, so it is no int8 op).

Seeded weights and calibration data: the same bytes every run on the same TensorFlow.
Usage: ``python scripts/make_npu_fixtures.py`` (needs the convert and npu extras).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from int8_tflite import int8_tflite  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "npu"
INPUT = (1, 16)


def build(middle: Callable) -> bytes:
    """Dense(16 -> 32, relu), ``middle``, Dense(-> 4): an int8 model (int8 input and output)."""
    import tensorflow as tf

    rng = np.random.default_rng(55)
    w1 = tf.constant(rng.normal(0.0, 0.3, (16, 32)).astype(np.float32))
    b1 = tf.constant(rng.normal(0.0, 0.1, (32,)).astype(np.float32))

    def model(x):
        y = middle(tf, tf.nn.relu(tf.matmul(x, w1) + b1))
        w2 = tf.constant(np.random.default_rng(56).normal(0.0, 0.3, (int(y.shape[-1]), 4)).astype(np.float32))
        return tf.matmul(y, w2)

    return int8_tflite(tf, model, INPUT, -2.0, 2.0, seed=1)


CANDIDATES: dict[str, Callable] = {
    "gather": lambda tf, y: tf.gather(y, list(range(0, 32, 2)), axis=1),
    "sqrt": lambda tf, y: tf.sqrt(y + 0.5),
}


def main(names: list[str]) -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for name in names or list(CANDIDATES):
        data = build(CANDIDATES[name])
        path = OUT / f"{name}_int8.tflite"
        path.write_bytes(data)
        print(f"{path}: {len(data):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
