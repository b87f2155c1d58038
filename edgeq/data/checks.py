"""Checks that data fits the model: dtype, shape, finite values, sample count."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgeq.errors import DatasetError
from edgeq.qtypes import DataSpec


def check_arrays(arrays: dict[str, np.ndarray], specs: Sequence[DataSpec], what: str) -> dict[str, np.ndarray]:
    """Cast to the input dtypes, check shapes and values; return the checked arrays."""
    checked = {s.name: check_one(arrays[s.name], s, what) for s in specs}
    counts = {name: len(a) for name, a in checked.items()}
    if len(set(counts.values())) > 1:
        raise DatasetError(f"{what}: inputs have different sample counts {counts}; give every input the same N")
    return checked


def check_one(array: np.ndarray, spec: DataSpec, what: str) -> np.ndarray:
    """Cast ``array`` (N, ...) for ``spec`` and check its shape and values."""
    array = _cast(array, spec, what)
    _check_shape(array, spec, what)
    if array.dtype.kind == "f":
        _check_finite(array, spec, what)
    return array


def _cast(array: np.ndarray, spec: DataSpec, what: str) -> np.ndarray:
    if array.dtype.kind not in "biuf":
        raise DatasetError(f"{what}: input {spec.name} data has dtype {array.dtype}; expected numbers")
    target = (
        np.dtype(spec.dtype)
        if spec.dtype in ("float32", "float16", "int8", "uint8", "int16", "int32", "int64", "bool")
        else np.dtype(np.float32)
    )
    if target.kind != "f" and array.dtype.kind == "f":
        raise DatasetError(f"{what}: input {spec.name} is {spec.dtype} but the data is {array.dtype}")
    return np.ascontiguousarray(array, dtype=target)


def _check_shape(array: np.ndarray, spec: DataSpec, what: str) -> None:
    want = spec.sample_shape
    got = array.shape[1:]
    if len(got) == len(want) and all(w is None or w == g for w, g in zip(want, got)):
        if array.shape[0] == 0:
            raise DatasetError(f"{what}: input {spec.name} has no samples (shape {array.shape})")
        return
    expected = "(N, " + ", ".join("?" if d is None else str(d) for d in want) + ")"
    raise DatasetError(
        f"{what}: input {spec.name} expects samples of shape {expected}, got {array.shape}{_shape_hint(array.shape, want)}"
    )


def _shape_hint(got: tuple[int, ...], want: tuple[int | None, ...]) -> str:
    if tuple(got) == tuple(want):
        return "; add the batch axis (x[None])"
    if len(got) == len(want) and got[1:] + (1,) == tuple(want):
        return "; add the channel axis (x[..., None])"
    if len(got) == len(want) + 1 and got[1:] == tuple(want):
        return ""
    if len(got) == len(want) + 2 and got[-1] == 1 and got[1:-1] == tuple(want):
        return "; drop the trailing axis (x[..., 0])"
    if len(got) == len(want) + 1 and got[1:] == tuple(reversed(want)):
        return "; the axes look transposed (NCHW vs NHWC?)"
    return ""


def _check_finite(array: np.ndarray, spec: DataSpec, what: str) -> None:
    finite = np.isfinite(array.reshape(len(array), -1)).all(axis=1)
    if finite.all():
        return
    bad = np.flatnonzero(~finite)
    sample = array[bad[0]]
    kind = "NaN" if np.isnan(sample).any() else "Inf"
    more = f" ({len(bad)} bad samples in all)" if len(bad) > 1 else ""
    raise DatasetError(
        f"{what}: sample {int(bad[0])} of input {spec.name} contains {kind}{more}; "
        "fix or drop those samples before calibrating"
    )
