"""Labelled evaluation data: .npz with x and y, a folder of class folders, or unlabelled .npy."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from edgeq.data.checks import check_arrays
from edgeq.data.files import load_npz
from edgeq.data.images import load_images
from edgeq.data.sources import IMAGE_SUFFIXES, Arrays, match_npz_arrays, read_source
from edgeq.errors import DatasetError
from edgeq.qtypes import DataSource, DataSpec

LABEL_KEYS = ("y", "labels", "label")


def load_labelled(
    source: DataSource, specs: Sequence[DataSpec], *, scale: float = 1 / 255, offset: float = 0.0
) -> tuple[Arrays, np.ndarray | None, list[str] | None]:
    """Return (inputs, integer labels or None, class names or None)."""
    path = Path(str(source))
    if path.is_dir() and _class_folders(path):
        return _from_class_folders(path, specs, scale, offset)
    if path.suffix.lower() == ".npz" and path.is_file():
        return _from_npz(path, specs)
    arrays, what = read_source(source, specs, scale=scale, offset=offset, limit=None)
    return check_arrays(arrays, specs, what), None, None


def _from_npz(path: Path, specs: Sequence[DataSpec]) -> tuple[Arrays, np.ndarray | None, None]:
    arrays = load_npz(path)
    label_key = next((k for k in LABEL_KEYS if k in arrays), None)
    labels = arrays.pop(label_key) if label_key else None
    inputs = check_arrays(match_npz_arrays(arrays, specs, path.name), specs, path.name)
    if labels is not None:
        labels = labels_to_indices(labels, len(next(iter(inputs.values()))), path.name)
    return inputs, labels, None


def labels_to_indices(labels: np.ndarray, count: int, what: str) -> np.ndarray:
    """Class indices from integer labels (N,) or one-hot / probability rows (N, C)."""
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] > 1:
        labels = labels.argmax(axis=1)
    labels = labels.reshape(-1)
    if len(labels) != count:
        raise DatasetError(f"{what}: {len(labels)} labels for {count} samples; give one label per sample")
    if labels.dtype.kind == "f" and not np.all(labels == np.round(labels)):
        raise DatasetError(f"{what}: labels are not class indices (non-integer values)")
    return labels.astype(np.int64)


def _class_folders(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))


def _from_class_folders(path: Path, specs: Sequence[DataSpec], scale: float, offset: float):
    if len(specs) != 1:
        raise DatasetError(f"{path}: class folders feed single-input models only")
    classes = _class_folders(path)
    files, labels = [], []
    for index, folder in enumerate(classes):
        images = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        files += images
        labels += [index] * len(images)
    if not files:
        raise DatasetError(f"{path}: no images in its class folders ({', '.join(c.name for c in classes)})")
    arrays = check_arrays({specs[0].name: load_images(files, specs[0], scale, offset)}, specs, str(path))
    return arrays, np.asarray(labels, np.int64), [c.name for c in classes]
