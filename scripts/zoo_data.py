"""Seeded synthetic data for the zoo's four MLPerf Tiny models (what each looks like: see ``scripts/zoo.py``)."""

from __future__ import annotations

import numpy as np


def kws_data(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    proto = np.random.default_rng(1049)
    blobs = 3
    t_c = proto.uniform(12, 37, (12, blobs))
    c_c = proto.uniform(0, 9, (12, blobs))
    t_w = proto.uniform(2.5, 6.0, (12, blobs))
    c_w = proto.uniform(0.8, 2.0, (12, blobs))
    amp = proto.choice([-1.0, 1.0], (12, blobs)) * proto.uniform(5, 10, (12, blobs))
    y = rng.integers(0, 12, n)
    shift = rng.integers(-6, 7, (n, 1))
    scale = rng.uniform(0.8, 1.2, (n, 1, 1, 1))
    t = np.arange(49.0)[None, None, :, None]
    c = np.arange(10.0)[None, None, None, :]
    dt = (t - (t_c[y] + shift)[:, :, None, None]) / t_w[y][:, :, None, None]
    dc = (c - c_c[y][:, :, None, None]) / c_w[y][:, :, None, None]
    pattern = (amp[y][:, :, None, None] * np.exp(-0.5 * (dt**2 + dc**2))).sum(axis=1)
    envelope = 12.0 * np.exp(-np.arange(10.0) / 2.0) - 4.0
    x = envelope + scale[..., 0] * pattern + rng.normal(0.0, 7.0, (n, 49, 10))
    return np.clip(x, -30.0, 30.0)[..., None].astype(np.float32), y


def grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:size, 0:size] / float(size)
    return yy[None], xx[None]


def ic_data(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    proto = np.random.default_rng(1032)
    theta = np.linspace(0, np.pi, 10, endpoint=False) + proto.uniform(-0.1, 0.1, 10)
    freq = proto.uniform(1.5, 4.5, 10)
    col_a, col_b = proto.uniform(0.1, 0.9, (10, 3)), proto.uniform(0.1, 0.9, (10, 3))
    y = rng.integers(0, 10, n)
    yy, xx = grid(32)
    phase = rng.uniform(0, 2 * np.pi, (n, 1, 1))
    angle = (theta[y] + rng.normal(0, 0.12, n))[:, None, None]
    f = (freq[y] * rng.uniform(0.85, 1.15, n))[:, None, None]
    g = 0.5 + 0.5 * np.sin(2 * np.pi * f * (xx * np.cos(angle) + yy * np.sin(angle)) + phase)
    jitter = rng.normal(0, 0.2, (n, 2, 3))
    img = (col_a[y] + jitter[:, 0])[:, None, None] * (1 - g[..., None])
    img = img + (col_b[y] + jitter[:, 1])[:, None, None] * g[..., None]
    light = 1 + rng.uniform(-0.25, 0.25, (n, 1, 1, 1)) * (xx[..., None] - 0.5)
    img = img * light * rng.uniform(0.8, 1.2, (n, 1, 1, 1)) + rng.normal(0, 0.12, img.shape)
    return np.clip(img, 0, 1).astype(np.float32), y


def smooth_background(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    yy, xx = grid(size)
    img = rng.uniform(0.2, 0.8, (n, 1, 1, 3)) * np.ones((1, size, size, 1))
    for _ in range(3):
        theta = rng.uniform(0, np.pi, (n, 1, 1))
        freq = rng.uniform(0.5, 2.5, (n, 1, 1))
        wave = np.sin(2 * np.pi * freq * (xx * np.cos(theta) + yy * np.sin(theta)))
        img = img + wave[..., None] * rng.uniform(-0.15, 0.15, (n, 1, 1, 3))
    return img


def vww_data(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    img = smooth_background(n, 96, rng)
    y = rng.integers(0, 2, n)
    yy, xx = grid(96)
    height = rng.uniform(0.35, 0.7, (n, 1, 1))
    cy, cx = rng.uniform(0.3, 0.7, (n, 1, 1)), rng.uniform(0.2, 0.8, (n, 1, 1))
    body = ((yy - cy) / (0.5 * height)) ** 2 + ((xx - cx) / (0.16 * height)) ** 2
    head_y = cy - 0.5 * height - 0.1 * height
    head = ((yy - head_y) ** 2 + (xx - cx) ** 2) / (0.1 * height) ** 2
    mask = 1 / (1 + np.exp(np.clip(8 * (np.minimum(body, head) - 1), -30, 30)))  # soft edges
    mask = mask * y[:, None, None]
    colour = np.where(img.mean(axis=(1, 2)) > 0.5, 0.15, 0.85)[:, None, None, :]
    colour = np.clip(colour + rng.normal(0, 0.1, (n, 1, 1, 3)), 0, 1)
    img = img * (1 - mask[..., None]) + colour * mask[..., None]
    img = img + rng.normal(0, 0.04, img.shape)
    return np.clip(img, 0, 1).astype(np.float32), y


def ad_data(n: int, rng: np.random.Generator, anomaly_fraction: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    proto = np.random.default_rng(1640)
    bins = np.arange(128.0) / 127.0
    basis = np.stack([np.cos(np.pi * k * bins + proto.uniform(0, np.pi)) for k in range(1, 7)])
    mean = -30.0 - 20.0 * bins + 6.0 * np.sin(3 * np.pi * bins)
    z = rng.normal(0, 1, (n, 6)) * np.array([6.0, 5.0, 4.0, 3.0, 2.5, 2.0])
    envelope = mean + z @ basis
    frames = envelope[:, None, :] + rng.normal(0, 1.0, (n, 5, 1)) + rng.normal(0, 1.0, (n, 5, 128))
    y = (rng.uniform(0, 1, n) < anomaly_fraction).astype(np.int64)
    centre = rng.uniform(0, 1, (n, 1, 1))
    tone = 12.0 * np.exp(-0.5 * ((bins - centre) / 0.015) ** 2)
    tilt = rng.choice([-1.0, 1.0], (n, 1, 1)) * 10.0 * (bins - 0.5) ** 3 * 8
    kind = rng.integers(0, 2, (n, 1, 1))
    anomaly = np.where(kind == 0, tone, tilt) * y[:, None, None]
    x = np.clip(frames + anomaly, -80.0, 10.0).reshape(n, 640)  # dB floor and ceiling
    return x.astype(np.float32), y
