"""Representative and evaluation data for edgeq (no TensorFlow needed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edgeq.data.checks import check_arrays
from edgeq.data.sources import read_source
from edgeq.log import logger
from edgeq.qtypes import TensorSpec

DEFAULT_SAMPLES = 200
"""Calibration samples when --samples is not given (TFLite's guidance: 100 to 500)."""


@dataclass(frozen=True)
class Dataset:
    """Checked samples, one (N, ...) array per model input, in input order."""

    arrays: dict[str, np.ndarray] = field(repr=False)
    description: str
    requested: int | None
    available: int

    @property
    def count(self) -> int:
        return len(next(iter(self.arrays.values())))

    def samples(self) -> list[dict[str, np.ndarray]]:
        """One dict per sample, each array with a batch axis of 1."""
        return [{k: v[i : i + 1] for k, v in self.arrays.items()} for i in range(self.count)]


def load_dataset(
    source: Any,
    specs: Sequence[TensorSpec],
    *,
    samples: int | None = DEFAULT_SAMPLES,
    seed: int = 0,
    scale: float = 1.0 / 255.0,
    offset: float = 0.0,
) -> Dataset:
    """Read, check and subsample a data source for the model inputs ``specs``.

    Args:
        source: .npy/.npz path, image or .bin folder, ``module:function``, callable or array.
        specs: the model's inputs (name, shape with batch axis, dtype).
        samples: how many samples to keep (``None``: all). Fewer available is a warning.
        seed: seed of the reproducible random draw when more samples are available.
        scale, offset: image folders only: pixel (0..255) * scale + offset.
    """
    limit = None if samples is None else max(samples * 20, samples)
    arrays, what = read_source(source, specs, scale=scale, offset=offset, limit=limit)
    arrays = check_arrays(arrays, specs, what)
    available = len(next(iter(arrays.values())))
    if samples is not None and available > samples:
        keep = np.sort(np.random.default_rng(seed).choice(available, samples, replace=False))
        arrays = {k: v[keep] for k, v in arrays.items()}
    elif samples is not None and available < samples:
        logger.warning(
            "warning: %s has %d samples, fewer than the %d asked for; using all %d",
            what,
            available,
            samples,
            available,
        )
    return Dataset(arrays, what, samples, available)


__all__ = ["DEFAULT_SAMPLES", "Dataset", "TensorSpec", "load_dataset"]
