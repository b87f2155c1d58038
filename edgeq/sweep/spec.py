"""The sweep file (SWEEP.yaml): models x conversion option sets x targets, checked before any job runs.

Paths in the file are relative to the file's folder. Every conversion option
set is a mapping of ``edgeq convert`` long option names (without the dashes)
to values, checked here the way ``edgeq convert`` checks them, so a typo is
one line and exit 2 before anything is converted.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgeq.calibration.methods import CalibrationMethod
from edgeq.convert.options import ConvertOptions
from edgeq.data.binfiles import BIN_DTYPES, bin_format
from edgeq.data.files import check_data_path, looks_like_module_spec
from edgeq.errors import UsageError
from edgeq.qtypes import IOType, QuantMode
from edgeq.targets import capabilities

DEFAULT_RUNS = 50
DEFAULT_WARMUP = 5
TOP_KEYS = ("name", "models", "data", "eval", "convert", "targets", "runs", "warmup")
MODEL_SUFFIXES = (".keras", ".h5", ".tflite")


@dataclass(frozen=True)
class SweepSpec:
    """A checked sweep file: absolute paths, normalised option sets (keys with dashes, sorted)."""

    path: Path
    name: str
    models: tuple[Path, ...]
    data: str | None
    eval: str | None
    convert: tuple[dict[str, Any], ...]
    targets: tuple[str, ...]
    runs: int
    warmup: int

    @property
    def base(self) -> Path:
        return self.path.parent

    def label(self, model: Path) -> str:
        """How results name a model: its path relative to the sweep file's folder when inside it."""
        try:
            return str(model.relative_to(self.base))
        except ValueError:
            return str(model)


def _choices(values: list[str]) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if str(value) not in values:
            raise ValueError(f"must be one of {', '.join(values)}")
        return str(value)

    return check


def _integer(low: int | None = None) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("must be an integer")
        if low is not None and value < low:
            raise ValueError(f"must be at least {low}")
        return value

    return check


def _number(positive: bool = False) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError("must be a finite number")
        if positive and value <= 0:
            raise ValueError("must be above 0")
        return float(value)

    return check


def _flag(value: Any) -> Any:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def option_checks() -> dict[str, Callable[[Any], Any]]:
    """Each plain ``edgeq convert`` option a sweep may set -> the check of its value (same rules as the CLI)."""

    return {
        "mode": _choices([m.value for m in QuantMode]),
        "io": _choices([t.value for t in IOType]),
        "samples": _integer(low=1),
        "seed": _integer(),
        "allow-float-fallback": _flag,
        "scale": _number(),
        "offset": _number(),
        "check-samples": _integer(low=0),
        "calibration": _choices([m.value for m in CalibrationMethod]),
        "percentile": _number(),
        "symmetric-activations": _flag,
        "bin-dtype": _choices(list(BIN_DTYPES)),
        "bin-scale": _number(positive=True),
        "bin-zero-point": _integer(),
    }


def check_option_set(options: Any, where: str) -> dict[str, Any]:
    """One option set, normalised (``allow_float_fallback`` -> ``allow-float-fallback``) and checked."""
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise UsageError(f"{where}: an option set is a mapping such as {{mode: int8, calibration: percentile}}")
    checks = option_checks()
    out: dict[str, Any] = {}
    for key, value in options.items():
        name = str(key).lstrip("-").replace("_", "-")
        if name not in checks:
            raise UsageError(f"{where}: unknown convert option {key!r}; valid: {', '.join(checks)}")
        try:
            out[name] = checks[name](value)
        except ValueError as exc:
            raise UsageError(f"{where}: {name}: {value!r} {exc}") from None
    try:
        convert_options(out)
    except UsageError as exc:
        raise UsageError(f"{where}: {exc}") from None
    return dict(sorted(out.items()))


def convert_options(options: dict[str, Any]) -> ConvertOptions:
    """The :class:`edgeq.convert.ConvertOptions` of a checked option set (no TensorFlow is imported)."""

    fields = {k.replace("-", "_"): v for k, v in options.items() if not k.startswith("bin-")}
    fmt = bin_format(options.get("bin-dtype"), options.get("bin-scale"), options.get("bin-zero-point"))
    return ConvertOptions(**fields, bin_format=fmt)


def load_spec(path: str | Path) -> SweepSpec:
    """Read and check SWEEP.yaml (UsageError, exit 2, naming the first problem)."""
    import yaml

    path = Path(path).absolute()
    try:
        doc = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise UsageError(f"cannot read sweep file {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{path.name} is not valid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(doc, dict):
        raise UsageError(f"{path.name}: a sweep file is a mapping with keys {', '.join(TOP_KEYS)}")
    unknown = [k for k in doc if k not in TOP_KEYS]
    if unknown:
        raise UsageError(f"{path.name}: unknown key {unknown[0]!r}; valid: {', '.join(TOP_KEYS)}")
    return SweepSpec(
        path=path,
        name=str(doc.get("name") or path.stem),
        models=_models(doc.get("models"), path),
        data=_data(doc.get("data"), path, "data", "-d"),
        eval=_data(doc.get("eval"), path, "eval", "-d"),
        convert=_option_sets(doc.get("convert"), path),
        targets=_targets(doc.get("targets"), path),
        runs=_count(doc, "runs", DEFAULT_RUNS, 1, path),
        warmup=_count(doc, "warmup", DEFAULT_WARMUP, 0, path),
    )


def _models(value: Any, path: Path) -> tuple[Path, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise UsageError(f"{path.name}: models: give a list of paths (.keras, .h5, SavedModel folder or .tflite)")
    out = []
    for item in value:
        model = (path.parent / item).absolute()
        if not model.exists():
            raise UsageError(f"{path.name}: models: {item}: no such file or folder")
        if model.is_file() and model.suffix.lower() not in MODEL_SUFFIXES:
            raise UsageError(f"{path.name}: models: {item}: not a .keras, .h5, .tflite or SavedModel folder")
        out.append(model)
    if len(set(out)) != len(out):
        raise UsageError(f"{path.name}: models: a model is listed twice")
    return tuple(out)


def _data(value: Any, path: Path, key: str, option: str) -> str | None:

    if value is None:
        return None
    if not isinstance(value, str):
        raise UsageError(f"{path.name}: {key}: give a path (or module:function) as for edgeq convert {option}")
    local = path.parent / value
    source = value if not local.exists() and looks_like_module_spec(value) else str(local.absolute())
    try:
        check_data_path(source, option=key)
    except Exception as exc:
        raise UsageError(f"{path.name}: {exc}") from None
    return source


def _option_sets(value: Any, path: Path) -> tuple[dict[str, Any], ...]:
    if value is None:
        value = [{}]
    if not isinstance(value, list) or not value:
        raise UsageError(f"{path.name}: convert: give a list of option sets such as [{{mode: int8}}]")
    sets = tuple(check_option_set(v, f"{path.name}: convert[{i}]") for i, v in enumerate(value))
    if len(set(map(repr, sets))) != len(sets):
        raise UsageError(f"{path.name}: convert: an option set is listed twice")
    return sets


def _targets(value: Any, path: Path) -> tuple[str, ...]:

    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise UsageError(f"{path.name}: targets: give a list of target names such as [host-c, qemu-m4]")
    for name in value:
        try:
            caps = capabilities(name)
        except UsageError as exc:
            raise UsageError(f"{path.name}: targets: {exc}") from None
        if not caps.profile:
            raise UsageError(f"{path.name}: targets: {name} cannot profile models")
    if len(set(value)) != len(value):
        raise UsageError(f"{path.name}: targets: a target is listed twice")
    return tuple(value)


def _count(doc: dict[str, Any], key: str, default: int, low: int, path: Path) -> int:
    value = doc.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise UsageError(f"{path.name}: {key}: {value!r} must be an integer of at least {low}")
    return value
