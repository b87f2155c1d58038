"""Representative and evaluation data for edgeq (no TensorFlow needed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from edgeq.data.binfiles import BinFormat
from edgeq.data.checks import check_arrays
from edgeq.data.sources import read_source
from edgeq.log import logger
from edgeq.qtypes import DataSource, DataSpec

DEFAULT_SAMPLES = 200
"""Calibration samples when --samples is not given (TFLite's guidance: 100 to 500)."""


@dataclass(frozen=True)
class Dataset:
    """Checked samples, one (N, ...) array per model input, in input order.

    Attributes:
        arrays: the calibration samples.
        description: where they came from.
        requested: the sample count asked for (None: all).
        available: how many samples the source held.
        indices: position in the source of each calibration sample.
        held_out: up to the number asked for of the other samples (not used for
            calibration), in the same form; empty when the source had no more.
        held_out_indices: their positions in the source.
    """

    arrays: dict[str, np.ndarray] = field(repr=False)
    description: str
    requested: int | None
    available: int
    indices: tuple[int, ...] = field(default=(), repr=False)
    held_out: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    held_out_indices: tuple[int, ...] = field(default=(), repr=False)

    @property
    def count(self) -> int:
        return len(next(iter(self.arrays.values())))

    def samples(self) -> list[dict[str, np.ndarray]]:
        """One dict per sample, each array with a batch axis of 1."""
        return [{k: v[i : i + 1] for k, v in self.arrays.items()} for i in range(self.count)]


def load_dataset(
    source: DataSource,
    specs: Sequence[DataSpec],
    *,
    samples: int | None = DEFAULT_SAMPLES,
    seed: int = 0,
    scale: float = 1.0 / 255.0,
    offset: float = 0.0,
    held_out: int = 0,
    bin_format: BinFormat | None = None,
) -> Dataset:
    """Read, check and subsample a data source for the model inputs ``specs``.

    Args:
        source: .npy/.npz path, image or .bin folder, ``module:function``, callable or array.
        specs: the model's inputs (name, shape with batch axis, dtype).
        samples: how many samples to keep (``None``: all). Fewer available is a warning.
        seed: seed of the reproducible random draw when more samples are available.
        scale, offset: image folders only: pixel (0..255) * scale + offset.
        held_out: how many of the samples not drawn for calibration to keep
            aside (drawn with the same seed), to check the result on.
        bin_format: how one-byte-per-element .bin files are read (see
            :mod:`edgeq.data.binfiles`).
    """
    limit = None if samples is None else max(samples * 20, samples)
    arrays, what = read_source(source, specs, scale=scale, offset=offset, limit=limit, bin_format=bin_format)
    arrays = check_arrays(arrays, specs, what)
    available = len(next(iter(arrays.values())))
    keep, aside = _draw(available, samples, held_out, seed)
    picked = arrays if len(keep) == available else {k: v[keep] for k, v in arrays.items()}
    extra = {k: v[aside] for k, v in arrays.items()} if len(aside) else {}
    if samples is not None and available < samples:
        logger.warning(
            "warning: %s has %d samples, fewer than the %d asked for; using all %d",
            what,
            available,
            samples,
            available,
        )
    return Dataset(picked, what, samples, available, tuple(map(int, keep)), extra, tuple(map(int, aside)))


def _draw(available: int, samples: int | None, held_out: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted positions of the calibration samples and of the held-out ones."""
    everything = np.arange(available)
    if samples is None or available <= samples:
        return everything, everything[:0]
    rng = np.random.default_rng(seed)
    keep = np.sort(rng.choice(available, samples, replace=False))
    rest = np.setdiff1d(everything, keep)
    count = min(held_out, len(rest))
    aside = np.sort(rng.choice(rest, count, replace=False)) if count else rest[:0]
    return keep, aside


__all__ = ["DEFAULT_SAMPLES", "BinFormat", "Dataset", "DataSpec", "load_dataset"]
