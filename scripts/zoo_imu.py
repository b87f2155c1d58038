"""The zoo's recurrent model: ``imu_lstm``, an activity classifier over IMU windows, and its data.

Not an MLPerf Tiny reference: edgeq's own model (its "published" figures are
its own counts). A window is 48 steps (about 2 s at 25 Hz) of a 3-axis
accelerometer (in g, gravity included) and a 3-axis gyroscope (rad/s); an
LSTM of 24 units reads it and a dense softmax over its last state names one of
six activities: idle, walk, run, wave, circle, shake.

Data (:func:`imu_data`): every class is a fixed motion pattern drawn from one
seed: a base frequency, and per axis an amplitude and a phase of that
frequency and its second harmonic (shake adds short bursts at random times).
Each window draws a random start phase, a tempo of 0.8 to 1.2 times the
base frequency, an amplitude of 0.6 to 1.4 times the pattern's, a device
orientation (gravity tilted by up to 25 degrees) and sensor noise (0.25 g or rad/s).

Conversion: Keras 3's LSTM converts to a WHILE loop (or, with ``unroll=True``,
to one FULLY_CONNECTED, LOGISTIC, TANH, MUL and ADD chain per step); the same
layer in tf-keras converts to TFLite's fused UNIDIRECTIONAL_SEQUENCE_LSTM.
The zoo trains the Keras 3 model and converts :func:`tf_keras_twin`, a tf-keras
copy with the same weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

STEPS, CHANNELS, UNITS, CLASSES = 48, 6, 24, 6
RATE_HZ = 25.0
ACTIVITIES = ("idle", "walk", "run", "wave", "circle", "shake")
# per class: base frequency (Hz), accelerometer and gyroscope amplitude (g, rad/s)
_MOTION = {
    "idle": (0.3, 0.02, 0.03),
    "walk": (1.8, 0.35, 1.0),
    "run": (2.8, 1.1, 2.5),
    "wave": (1.2, 0.7, 3.0),
    "circle": (0.8, 0.5, 1.5),
    "shake": (5.0, 0.4, 1.2),
}


def imu_lstm(input_shape: Sequence[int] = (STEPS, CHANNELS), classes: int = CLASSES) -> Any:
    """LSTM 24 units over the window, its last state to a dense softmax (Keras 3)."""
    import keras

    inputs = keras.Input(shape=tuple(input_shape), name="imu")
    x = keras.layers.LSTM(UNITS, name="lstm")(inputs)
    outputs = keras.layers.Dense(classes, activation="softmax", name="activity")(x)
    return keras.Model(inputs, outputs, name="imu_lstm")


def tf_keras_twin(model: Any) -> Any:
    """The same network in tf-keras, batch 1, with ``model``'s weights: it converts to the fused LSTM op."""
    import tf_keras

    steps, channels = model.input_shape[1:]
    units = model.get_layer("lstm").units
    classes = model.get_layer("activity").units
    inputs = tf_keras.Input((steps, channels), batch_size=1, name="imu")
    x = tf_keras.layers.LSTM(units, name="lstm")(inputs)
    outputs = tf_keras.layers.Dense(classes, activation="softmax", name="activity")(x)
    twin = tf_keras.Model(inputs, outputs, name="imu_lstm")
    twin.set_weights(model.get_weights())  # same order and layout: kernel, recurrent kernel, bias (i, f, c, o)
    return twin


def layer_macs(layer: Any) -> int:
    """MACs of one LSTM layer: per step, 4 gates x units x (features + units)."""
    steps, features = layer.input.shape[1:]
    return int(steps) * 4 * layer.units * (int(features) + layer.units)


def imu_data(n: int, rng: np.random.Generator, steps: int = STEPS) -> tuple[np.ndarray, np.ndarray]:
    """Seeded IMU windows ``(n, steps, 6)`` and activity labels ``(n,)``."""
    proto = np.random.default_rng(6031)
    amp_shape = proto.uniform(0.2, 1.0, (CLASSES, 2, CHANNELS))  # fundamental, harmonic per axis
    phases = proto.uniform(0, 2 * np.pi, (CLASSES, 2, CHANNELS))
    y = rng.integers(0, CLASSES, n)
    t = np.arange(steps) / RATE_HZ
    x = np.empty((n, steps, CHANNELS))
    for i, label in enumerate(y):
        base, acc, gyro = _MOTION[ACTIVITIES[label]]
        scale = np.array([acc] * 3 + [gyro] * 3) * rng.uniform(0.6, 1.4)
        f = base * rng.uniform(0.8, 1.2)
        start = rng.uniform(0, 2 * np.pi)
        wave = 0.0
        for h in range(2):
            arg = 2 * np.pi * (h + 1) * f * t[:, None] + (h + 1) * start + phases[label, h]
            wave = wave + amp_shape[label, h] * np.sin(arg) / (h + 1)
        x[i] = wave * scale
        if ACTIVITIES[label] == "shake":
            x[i] += _bursts(rng, steps, scale)
        x[i, :, :3] += _gravity(rng)
    x += rng.normal(0, 0.25, x.shape)
    return np.clip(x, -4.0, 4.0).astype(np.float32), y


def _gravity(rng: np.random.Generator) -> np.ndarray:
    """1 g along the device's z axis, tilted by up to 25 degrees in a random direction."""
    tilt, heading = np.radians(rng.uniform(0, 25)), rng.uniform(0, 2 * np.pi)
    return np.array([np.sin(tilt) * np.cos(heading), np.sin(tilt) * np.sin(heading), np.cos(tilt)])


def _bursts(rng: np.random.Generator, steps: int, scale: np.ndarray) -> np.ndarray:
    """Two or three 3-step bursts of large motion on every axis."""
    out = np.zeros((steps, CHANNELS))
    for _ in range(rng.integers(2, 4)):
        at = rng.integers(0, steps - 3)
        out[at : at + 3] += rng.normal(0, 2.0, (3, CHANNELS)) * scale
    return out
