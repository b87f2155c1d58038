"""Shared types: enums and frozen dataclasses used across the pipeline stages."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from edgeq.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path

    import numpy as np

E = TypeVar("E", bound=Enum)

# Data a model runs on (edgeq.data.load_dataset): a .npy/.npz path, an image or .bin folder,
# "module:function", a callable returning an iterable of samples (a generator, a tf.data.Dataset) or an array.
DataSource: TypeAlias = "str | Path | np.ndarray | Callable[[], Iterable[Any]]"
# Labelled data (edgeq.evaluate, mixed precision): a DataSource (an .npz with x and y, class folders) or (x, y).
LabelledSource: TypeAlias = "DataSource | tuple[np.ndarray, np.ndarray]"


class QuantMode(str, Enum):
    """Quantization scheme of ``edgeq convert``."""

    INT8 = "int8"  # full integer: int8 weights and activations
    INT16X8 = "int16x8"  # int16 activations, int8 weights
    DYNAMIC = "dynamic"  # dynamic range: int8 weights, float activations
    FLOAT16 = "float16"  # float16 weights

    @property
    def needs_data(self) -> bool:
        return self in (QuantMode.INT8, QuantMode.INT16X8)


class IOType(str, Enum):
    """dtype of the converted model's inputs and outputs."""

    INT8 = "int8"
    UINT8 = "uint8"
    FLOAT32 = "float32"
    INT16 = "int16"


def parse_enum(enum_cls: type[E], value: E | str, what: str) -> E:
    """Return ``enum_cls(value)`` or raise a :class:`UsageError` listing the allowed values."""
    if isinstance(value, enum_cls):
        return value
    try:
        return enum_cls(str(value).lower())
    except ValueError:
        allowed = ", ".join(m.value for m in enum_cls)
        raise UsageError(f"{what} {value!r} is not one of: {allowed}") from None


@dataclass(frozen=True)
class DataSpec:
    """The data one model input takes: name, shape and dtype of its arrays, as data loaders check them.

    ``shape`` includes the batch dimension, first and usually ``None``; unknown
    dimensions are ``None``. It comes from a Keras model or SavedModel before
    conversion (no tensor index, no quantization, dimensions maybe unknown), or
    from a .tflite's input fed float data. Not a model tensor: a .tflite's inputs
    and outputs, with static shapes, quantization and byte layout, are
    :class:`edgeq.model.io.ModelIO`.
    """

    name: str
    shape: tuple[int | None, ...]
    dtype: str = "float32"

    @property
    def sample_shape(self) -> tuple[int | None, ...]:
        """The shape of one sample: the first (batch) dimension dropped, whatever its size."""
        return tuple(self.shape[1:])

    def shape_str(self) -> str:
        return "(" + ", ".join("?" if d is None else str(d) for d in self.shape) + ")"
