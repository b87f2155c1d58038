"""One small module that hides which TFLite runtime is installed.

Order: ``ai_edge_litert`` (LiteRT), then ``tflite_runtime`` (older Raspberry Pi
and Coral images), then ``tensorflow.lite``. Model bytes are validated by
:mod:`edgeq.model` before they reach the runtime, which can crash on malformed
flatbuffers. What the runtime still refuses (a flatbuffer its verifier rejects,
tensor names that are not UTF-8, a kernel or delegate that fails to prepare or
run) becomes one EdgeqError line with the runtime's own last message line.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgeq.errors import DependencyError, EdgeqError, ModelFormatError, UsageError

# What the runtimes raise for a model they cannot load or run (UnicodeDecodeError is a ValueError:
# tensor names that are not UTF-8)
RUNTIME_ERRORS = (ValueError, RuntimeError, IndexError)
_CANDIDATES = (
    ("ai_edge_litert.interpreter", "ai-edge-litert"),
    ("tflite_runtime.interpreter", "tflite-runtime"),
    ("tensorflow.lite.python.interpreter", "tensorflow"),
)


def interpreter_class() -> tuple[type, str]:
    """Return (Interpreter class, package name) of the first runtime found."""
    for module_name, package in _CANDIDATES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        return module.Interpreter, package
    raise DependencyError("no TFLite runtime found; pip install ai-edge-litert")


def _without_default_delegates(cls: type) -> Any:
    """The op resolver type that leaves XNNPACK (the default delegate) out."""
    module = importlib.import_module(cls.__module__)
    resolver = getattr(module, "OpResolverType", None)
    if resolver is None:
        raise DependencyError(f"this {cls.__module__} cannot turn XNNPACK off; pip install ai-edge-litert")
    return resolver.BUILTIN_WITHOUT_DEFAULT_DELEGATES


def signature_name(tensor_name: str) -> str:
    """The signature's input name of a converted model's tensor: "serving_default_img:0" -> "img"."""
    return tensor_name.split(":")[0].removeprefix("serving_default_")


@dataclass(frozen=True)
class IOInfo:
    """One input or output of a loaded interpreter."""

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    scale: float
    zero_point: int

    @property
    def quantized(self) -> bool:
        return self.dtype.kind in "iu" and self.scale != 0.0


class Runner:
    """A LiteRT interpreter over validated model bytes, one batch-1 sample at a time."""

    def __init__(self, model: bytes | str | Path, threads: int | None = None, xnnpack: bool = True) -> None:
        from edgeq.model import read_model

        data = model if isinstance(model, bytes) else Path(model).read_bytes()
        read_model(data)  # raises ModelFormatError before the runtime sees bad bytes
        cls, self.package = interpreter_class()
        extra = {} if xnnpack else {"experimental_op_resolver_type": _without_default_delegates(cls)}
        with self._errors("load the model", ModelFormatError):
            self.interpreter = cls(model_content=data, num_threads=threads, **extra)
        with self._errors("prepare the model"):
            self.interpreter.allocate_tensors()
        with self._errors("read the model's inputs and outputs", ModelFormatError):
            self.inputs = [_io(d) for d in self.interpreter.get_input_details()]
            self.outputs = [_io(d) for d in self.interpreter.get_output_details()]

    @contextlib.contextmanager
    def _errors(self, stage: str, kind: type[EdgeqError] = EdgeqError) -> Iterator[None]:
        """The runtime's exceptions as one-line ``kind`` errors naming ``stage`` and its last message line."""
        try:
            yield
        except RUNTIME_ERRORS as exc:
            raise kind(f"{self.package} could not {stage}: {last_line(exc)}") from None

    def run(self, sample: list[np.ndarray]) -> list[np.ndarray]:
        """Run one sample given in the model's dtypes (each with batch axis 1)."""
        if len(sample) != len(self.inputs):
            raise UsageError(f"model has {len(self.inputs)} inputs, got {len(sample)} arrays")
        with self._errors("run the model"):
            for info, value in zip(self.inputs, sample):
                self.interpreter.set_tensor(info.index, np.asarray(value, info.dtype).reshape(info.shape))
            self.interpreter.invoke()
            return [self.interpreter.get_tensor(o.index).copy() for o in self.outputs]

    def run_float(self, sample: list[np.ndarray]) -> list[np.ndarray]:
        """Run one float sample: quantize inputs and dequantize outputs as the model says."""
        values = [quantize(v, info) for v, info in zip(sample, self.inputs)]
        return [dequantize(v, info) for v, info in zip(self.run(values), self.outputs)]


def last_line(exc: BaseException, limit: int = 300) -> str:
    """The last non-empty line of an exception's message (LiteRT puts its own reason last), shortened."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[-1] if lines else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def quantize(x: np.ndarray, info: IOInfo) -> np.ndarray:
    """Float -> the input's dtype: round half away from zero, add zero point, clamp."""
    if not info.quantized:
        return np.asarray(x, info.dtype)
    scaled = np.asarray(x, np.float64) / info.scale
    q = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5) + info.zero_point
    limits = np.iinfo(info.dtype)
    return np.clip(q, limits.min, limits.max).astype(info.dtype)


def dequantize(q: np.ndarray, info: IOInfo) -> np.ndarray:
    """The output's dtype -> float32 (a float output passes through)."""
    if not info.quantized:
        return np.asarray(q, np.float32)
    return ((q.astype(np.float32) - info.zero_point) * info.scale).astype(np.float32)


def _io(detail: dict[str, Any]) -> IOInfo:
    scale, zero_point = detail.get("quantization", (0.0, 0))
    return IOInfo(
        int(detail["index"]),
        str(detail["name"]),
        tuple(int(d) for d in detail["shape"]),
        np.dtype(detail["dtype"]),
        float(scale),
        int(zero_point),
    )
