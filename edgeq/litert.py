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
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np

from edgeq.errors import DatasetError, DependencyError, EdgeqError, ModelFormatError, UsageError
from edgeq.model import read_model
from edgeq.model.io import ModelIO, model_inputs, model_outputs
from edgeq.qtypes import DataSpec

# What the runtimes raise for a model they cannot load or run (UnicodeDecodeError is a ValueError:
# tensor names that are not UTF-8)
RUNTIME_ERRORS = (ValueError, RuntimeError, IndexError)
# The runtimes (ai_edge_litert, tflite_runtime, tflite_micro) ship no type information: these names say which
# of their objects a value is.
Interpreter: TypeAlias = Any  # an Interpreter of the LiteRT / TFLite runtime (or of TFLM's runtime)
Delegate: TypeAlias = Any  # a LiteRT delegate (load_delegate), e.g. the Edge TPU's
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


def _without_default_delegates(cls: type[Interpreter]) -> Any:
    """The op resolver type that leaves XNNPACK (the default delegate) out."""
    module = importlib.import_module(cls.__module__)
    resolver = getattr(module, "OpResolverType", None)
    if resolver is None:
        raise DependencyError(f"this {cls.__module__} cannot turn XNNPACK off; pip install ai-edge-litert")
    return resolver.BUILTIN_WITHOUT_DEFAULT_DELEGATES


def signature_name(tensor_name: str) -> str:
    """The signature's input name of a converted model's tensor: "serving_default_img:0" -> "img"."""
    return tensor_name.split(":")[0].removeprefix("serving_default_")


def feed_order(input_names: Sequence[str], data_names: Sequence[str], *, same_count: bool = False) -> list[int]:
    """For each model input (its tensor name), the position in ``data_names`` of the array that feeds it.

    An array feeds the input whose :func:`signature_name` it bears (or that name
    before a ``:``); an input no array names takes the array at its own position.

    Raises:
        DatasetError: With ``same_count``, when there are not as many arrays as inputs.
    """
    if same_count and len(input_names) != len(data_names):
        raise DatasetError(f"the model has {len(input_names)} inputs but the data has {len(data_names)} arrays")
    order = []
    for position, name in enumerate(input_names):
        bare = signature_name(name)
        match = [k for k, n in enumerate(data_names) if n == bare or n.split(":")[0] == bare]
        order.append(match[0] if match else position)
    return order


class Runner:
    """A LiteRT interpreter over validated model bytes, one batch-1 sample at a time.

    ``inputs`` and ``outputs`` describe the model's tensors (:class:`~edgeq.model.io.ModelIO`,
    read from the model; their ``index`` is the interpreter's tensor index too).
    """

    def __init__(self, model: bytes | str | Path, threads: int | None = None, xnnpack: bool = True) -> None:
        data = model if isinstance(model, bytes) else Path(model).read_bytes()
        graph = read_model(data)  # raises ModelFormatError before the runtime sees bad bytes
        cls, self.package = interpreter_class()
        extra = {} if xnnpack else {"experimental_op_resolver_type": _without_default_delegates(cls)}
        with self._errors("load the model", ModelFormatError):
            self.interpreter = cls(model_content=data, num_threads=threads, **extra)
        with self._errors("prepare the model"):
            self.interpreter.allocate_tensors()
        with self._errors("read the model's inputs and outputs", ModelFormatError):
            details = (self.interpreter.get_input_details(), self.interpreter.get_output_details())
        self.inputs: list[ModelIO] = list(model_inputs(graph))
        self.outputs: list[ModelIO] = list(model_outputs(graph))
        for specs, found in zip((self.inputs, self.outputs), details):
            if [s.index for s in specs] != [int(d["index"]) for d in found]:
                raise ModelFormatError(f"{self.package} reads other input or output tensors than the model lists")

    @contextlib.contextmanager
    def _errors(self, stage: str, kind: type[EdgeqError] = EdgeqError) -> Iterator[None]:
        """The runtime's exceptions as one-line ``kind`` errors naming ``stage`` and its last message line."""
        try:
            yield
        except RUNTIME_ERRORS as exc:
            raise kind(f"{self.package} could not {stage}: {last_line(exc)}") from None

    def data_specs(self) -> list[DataSpec]:
        """The float data each input takes, named by its signature name, any number of samples."""
        return [DataSpec(signature_name(info.name), (None, *info.shape[1:]), "float32") for info in self.inputs]

    def run(self, sample: list[np.ndarray]) -> list[np.ndarray]:
        """Run one sample given in the model's dtypes (each with batch axis 1)."""
        if len(sample) != len(self.inputs):
            raise UsageError(f"model has {len(self.inputs)} inputs, got {len(sample)} arrays")
        with self._errors("run the model"):
            for info, value in zip(self.inputs, sample):
                self.interpreter.set_tensor(info.index, np.asarray(value, info.numpy_dtype).reshape(info.shape))
            self.interpreter.invoke()
            return [self.interpreter.get_tensor(o.index).copy() for o in self.outputs]

    def run_float(self, sample: list[np.ndarray]) -> list[np.ndarray]:
        """Run one float sample: quantize inputs and dequantize outputs as the model says."""
        values = [info.quantize(v) for v, info in zip(sample, self.inputs)]
        return [info.dequantize(v) for v, info in zip(self.run(values), self.outputs)]


def last_line(exc: BaseException, limit: int = 300) -> str:
    """The last non-empty line of an exception's message (LiteRT puts its own reason last), shortened."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[-1] if lines else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."
