"""The zoo's segmentation model: ``seg_unet`` and its data.

Not an MLPerf Tiny reference: edgeq's own model (its "published" figures are
its own counts). ``seg_unet``, a small U-Net-like segmenter for 32x32
grayscale images in [0, 1] (two strided conv stages down, a TRANSPOSE_CONV and
a bilinear RESIZE up, skip connections by CONCATENATION and ADD, a per-pixel
softmax over background / object). Its data: one to three soft-edged ellipses,
brighter or darker than a smooth shaded background, plus noise; the label is
the per-pixel object mask, shape ``(n, 32, 32)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def seg_unet(input_shape: Sequence[int] = (32, 32, 1), classes: int = 2) -> Any:
    """U-Net-like segmenter: conv 8, two stride-2 conv stages (16, 32), conv 32; up by a 3x3 stride-2
    transposed conv (concatenated with the 16x16 skip, conv 16), then by bilinear resize (1x1 conv 8
    added to the 32x32 skip, conv 8); 1x1 conv to ``classes`` with a per-pixel softmax."""
    import keras

    layers = keras.layers
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    skip1 = layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    skip2 = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(skip1)
    x = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(skip2)
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(x)
    x = layers.Conv2DTranspose(16, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Conv2D(16, 3, padding="same", activation="relu")(layers.Concatenate()([x, skip2]))
    x = layers.UpSampling2D(2, interpolation="bilinear")(x)
    x = layers.Add()([layers.Conv2D(8, 1)(x), skip1])
    x = layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    outputs = layers.Conv2D(classes, 1, activation="softmax", name="mask")(x)
    return keras.Model(inputs, outputs, name="seg_unet")


def seg_data(n: int, rng: np.random.Generator, size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Ellipses on a shaded background; the label is the object mask (1 inside any ellipse)."""
    yy, xx = np.mgrid[0:size, 0:size] / float(size)
    yy, xx = yy[None], xx[None]
    tilt = rng.uniform(-0.3, 0.3, (n, 2, 1, 1))
    img = rng.uniform(0.3, 0.7, (n, 1, 1)) + tilt[:, 0] * (yy - 0.5) + tilt[:, 1] * (xx - 0.5)
    img = img + 0.05 * np.sin(2 * np.pi * rng.uniform(0.5, 2.0, (n, 1, 1)) * (xx + rng.uniform(0, 1, (n, 1, 1))))
    inside = np.zeros((n, size, size))
    for k in range(3):
        present = (rng.uniform(0, 1, (n, 1, 1)) < 0.6) | (k == 0)  # one to three objects
        cy, cx = rng.uniform(0.15, 0.85, (2, n, 1, 1))
        ry, rx = rng.uniform(0.08, 0.22, (2, n, 1, 1))
        d = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2
        soft = present / (1 + np.exp(np.clip(10 * (d - 1), -30, 30)))
        contrast = rng.choice([-1.0, 1.0], (n, 1, 1)) * rng.uniform(0.25, 0.45, (n, 1, 1))
        img = img + contrast * soft
        inside = np.maximum(inside, soft)
    img = img + rng.normal(0, 0.05, img.shape)
    return np.clip(img, 0, 1)[..., None].astype(np.float32), (inside > 0.5).astype(np.int64)
