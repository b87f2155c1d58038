"""One int8 .tflite (int8 input and output) from a TensorFlow function, for the fixture scripts."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def int8_tflite(tf: Any, model: Callable, shape: Sequence[int], low: float, high: float, seed: int) -> bytes:
    """``model`` at input ``shape``, calibrated on 32 seeded uniform samples in [low, high]."""
    func = tf.function(model).get_concrete_function(tf.TensorSpec(shape, tf.float32))
    converter = tf.lite.TFLiteConverter.from_concrete_functions([func], func)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    calib = np.random.default_rng(seed)

    def representative():
        for _ in range(32):
            yield [calib.uniform(low, high, shape).astype(np.float32)]

    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return converter.convert()
