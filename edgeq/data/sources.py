"""Readers that turn a data source into arrays, one (N, ...) array per model input.

Sources: a numpy array, a .npy file, a .npz file (one array per input, named
after the inputs), a folder of images, a folder of raw .bin tensors, a
``module:function`` spec or a Python callable returning an iterable of samples.
These readers know nothing about the model beyond the input specs they are
given; checking happens in :mod:`edgeq.data.checks`.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from edgeq.data.binfiles import BinFormat, BinInput, decode_bin
from edgeq.data.files import DATA_KINDS, IMAGE_SUFFIXES, load_npy, load_npz, looks_like_module_spec
from edgeq.data.images import load_images
from edgeq.errors import DatasetError
from edgeq.qtypes import DataSource, DataSpec

Arrays = dict[str, np.ndarray]


def read_source(
    source: DataSource,
    specs: Sequence[DataSpec],
    *,
    scale: float,
    offset: float,
    limit: int | None,
    bin_format: BinFormat | None = None,
) -> tuple[Arrays, str]:
    """Read ``source`` into {input name: (N, ...) array}; also return a short description.

    ``limit`` bounds how many samples are pulled from generators (files are read whole).
    ``bin_format``: how one-byte-per-element .bin files are read (see :mod:`edgeq.data.binfiles`).
    """
    if isinstance(source, np.ndarray):
        return _single(source, specs, "array"), f"array {source.shape}"
    if callable(source):
        return _from_iterable(source(), specs, limit, getattr(source, "__name__", "callable"))
    text = str(source)
    path = Path(text)
    if not path.exists() and looks_like_module_spec(text):
        return _from_module_spec(text, specs, limit)
    if not path.exists():
        raise DatasetError(f"{path}: no such file or folder (data: {DATA_KINDS})")
    if path.is_dir():
        return _read_folder(path, specs, scale, offset, bin_format), str(path)
    return _read_file(path, specs), str(path)


def _read_file(path: Path, specs: Sequence[DataSpec]) -> Arrays:
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return _single(load_npy(path), specs, path.name)
    if suffix == ".npz":
        return _read_npz(path, specs)
    raise DatasetError(f"{path}: unsupported data file {suffix or '(no extension)'!r}; use {DATA_KINDS}")


def _single(array: np.ndarray, specs: Sequence[DataSpec], what: str) -> Arrays:
    if len(specs) != 1:
        names = ", ".join(s.name for s in specs)
        raise DatasetError(
            f"{what} holds one array but the model has {len(specs)} inputs ({names}); "
            "pass an .npz with one array per input, named after the inputs"
        )
    return {specs[0].name: array}


def _read_npz(path: Path, specs: Sequence[DataSpec]) -> Arrays:
    return match_npz_arrays(load_npz(path), specs, path.name)


def match_npz_arrays(arrays: Arrays, specs: Sequence[DataSpec], what: str) -> Arrays:
    """Pick one array per input from an .npz: by input name, else 'x' or the only array."""
    names = [s.name for s in specs]
    if all(n in arrays for n in names):
        return {n: arrays[n] for n in names}
    if len(specs) == 1:
        for key in ("x", "inputs", "input", "data"):
            if key in arrays:
                return {names[0]: arrays[key]}
        if len(arrays) == 1:
            return {names[0]: next(iter(arrays.values()))}
    missing = [n for n in names if n not in arrays]
    raise DatasetError(
        f"{what} has arrays {sorted(arrays)} but the model's inputs are {names}; "
        f"missing {missing}: name each array after its input"
    )


def _read_folder(
    path: Path, specs: Sequence[DataSpec], scale: float, offset: float, bin_format: BinFormat | None
) -> Arrays:
    files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    images = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
    bins = [p for p in files if p.suffix.lower() == ".bin"]
    if images:
        return _single(load_images(images, _only(specs, path), scale, offset), specs, str(path))
    if bins:
        return _single(load_bins(bins, _only(specs, path), bin_format), specs, str(path))
    raise DatasetError(f"{path} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}) and no .bin files")


def _only(specs: Sequence[DataSpec], path: Path) -> DataSpec:
    if len(specs) != 1:
        raise DatasetError(f"{path}: a folder of files feeds single-input models only; use an .npz per input")
    return specs[0]


def load_bins(files: list[Path], spec: DataSpec, bin_format: BinFormat | None = None) -> np.ndarray:
    """One raw tensor per file, read by the rule of :func:`edgeq.data.binfiles.decode_bin`."""
    if any(d is None for d in spec.sample_shape):
        raise DatasetError(
            f"input {spec.name} has unknown dimensions {spec.shape_str()}; .bin files need a fixed shape"
        )
    layout = [BinInput(spec.name, tuple(int(d) for d in spec.sample_shape), spec.dtype)]  # type: ignore[arg-type]
    samples = [decode_bin(p.read_bytes(), layout, str(p), bin_format)[0] for p in files]
    kinds = {a.dtype for a in samples}
    if len(kinds) > 1:
        raise DatasetError(f"the .bin files of {files[0].parent} mix sizes ({', '.join(sorted(map(str, kinds)))})")
    return np.stack(samples)


def _from_module_spec(text: str, specs: Sequence[DataSpec], limit: int | None) -> tuple[Arrays, str]:
    module_name, _, func_name = text.partition(":")
    if "" not in sys.path and "." not in sys.path:
        sys.path.insert(0, "")  # let users point at a module in the current folder
    try:
        func = getattr(importlib.import_module(module_name), func_name)
    except (ImportError, AttributeError) as exc:
        raise DatasetError(f"cannot load data function {text!r}: {exc}") from exc
    if not callable(func):
        raise DatasetError(f"{text} is not callable; it must return an iterable of samples")
    arrays, _ = _from_iterable(func(), specs, limit, text)
    return arrays, text


def _from_iterable(items: Iterable[Any], specs: Sequence[DataSpec], limit: int | None, what: str) -> tuple[Arrays, str]:
    if isinstance(items, np.ndarray):
        return _single(items, specs, what), what
    per_input: dict[str, list[np.ndarray]] = {s.name: [] for s in specs}
    for n, sample in enumerate(items):
        if limit is not None and n >= limit:
            break
        for name, value in _split_sample(sample, specs, what, n).items():
            per_input[name].append(np.asarray(value))
    if not per_input[specs[0].name]:
        raise DatasetError(f"{what} yielded no samples")
    return {name: _stack(vals, what, name) for name, vals in per_input.items()}, what


def _split_sample(sample: Any, specs: Sequence[DataSpec], what: str, n: int) -> dict[str, Any]:
    if isinstance(sample, dict):
        missing = [s.name for s in specs if s.name not in sample]
        if missing:
            raise DatasetError(f"sample {n} of {what} lacks inputs {missing} (has {sorted(sample)})")
        return {s.name: sample[s.name] for s in specs}
    if isinstance(sample, (list, tuple)) and len(specs) > 1:
        if len(sample) != len(specs):
            raise DatasetError(f"sample {n} of {what} has {len(sample)} parts; the model has {len(specs)} inputs")
        return {s.name: v for s, v in zip(specs, sample)}
    if isinstance(sample, (list, tuple)) and len(sample) == 1:
        sample = sample[0]
    if len(specs) > 1:
        raise DatasetError(
            f"sample {n} of {what} is one array; the model has {len(specs)} inputs: yield a dict or tuple"
        )
    return {specs[0].name: sample}


def _stack(values: list[np.ndarray], what: str, name: str) -> np.ndarray:
    shapes = {v.shape for v in values}
    if len(shapes) > 1:
        raise DatasetError(f"samples of {what} for input {name} differ in shape: {sorted(shapes)[:3]}")
    return np.stack(values)


Loader = Callable[..., Any]
