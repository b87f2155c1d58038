"""``coral``: a Coral Edge TPU (USB Accelerator, Dev Board, M.2/PCIe module) through the libedgetpu delegate.

The model is loaded by LiteRT (or tflite-runtime, see :mod:`edgeq.litert`)
with ``libedgetpu.so.1`` as a delegate. Only an ``edgetpu-custom-op`` runs on
the Edge TPU, so a model that is not compiled yet is first compiled with
``edgetpu_compiler`` when it is on PATH; otherwise it runs as given (all on the
CPU) and the profile says so. ``edgeq edgetpu-check`` predicts the placement
without any Coral software.
"""

from __future__ import annotations

import ctypes
import importlib
import platform
import time
from typing import Any

import numpy as np

from edgeq.edgetpu.compiler import compile_model, find_compiler
from edgeq.edgetpu.ops import EDGETPU_CUSTOM_OP
from edgeq.errors import DependencyError, DeviceError, UsageError
from edgeq.litert import Delegate, Interpreter, interpreter_class
from edgeq.log import logger, quiet
from edgeq.measurements import Timing
from edgeq.model import read_model
from edgeq.targets.base import Capabilities

# Shared library of the Edge TPU runtime per system (the names pycoral loads).
LIBEDGETPU = {"Linux": "libedgetpu.so.1", "Darwin": "libedgetpu.1.dylib", "Windows": "edgetpu.dll"}
INSTALL_HINT = (
    "install libedgetpu1-std from Coral's apt repository (https://coral.ai/docs/accelerator/get-started/) "
    "and run models with ai-edge-litert or tflite-runtime (https://coral.ai/docs/edgetpu/tflite-python/); "
    "`edgeq edgetpu-check MODEL` works without Coral software"
)


def library_name() -> str:
    """The Edge TPU runtime library to load on this system."""
    return LIBEDGETPU.get(platform.system(), LIBEDGETPU["Linux"])


def load_edgetpu_delegate(device: str | None = None) -> Delegate:
    """The Edge TPU delegate of the installed TFLite runtime.

    Args:
        device: Which Edge TPU, e.g. ``"usb"``, ``"pci"`` or ``"usb:0"`` (default: the first found).

    Raises:
        DependencyError: libedgetpu or a TFLite runtime is not installed.
        DeviceError: libedgetpu is installed but no Edge TPU answered.
    """
    lib = library_name()
    try:
        ctypes.CDLL(lib)
    except OSError:
        raise DependencyError(f"the Edge TPU runtime {lib} is not installed; {INSTALL_HINT}") from None
    module = importlib.import_module(interpreter_class()[0].__module__)
    try:
        return module.load_delegate(lib, {"device": device} if device else {})
    except (ValueError, RuntimeError) as exc:
        raise DeviceError(
            f"{lib} is installed but no Edge TPU answered ({str(exc).strip()}); plug in the Coral device, "
            "check it is listed by lsusb or lspci, and that your user may access it"
        ) from exc


def is_compiled(model: bytes) -> bool:
    """True when ``model`` already holds an ``edgetpu-custom-op`` (output of edgetpu_compiler)."""
    return any(op.custom_code == EDGETPU_CUSTOM_OP for op in read_model(model).operators)


CAPABILITIES = Capabilities(
    summary="a Coral Edge TPU (edgetpu_compiler and the Edge TPU runtime)",
    no_op_times="the Edge TPU runtime times whole invokes only",
    options=("device",),
)


class CoralTarget:
    """Runs and times models on a Coral Edge TPU."""

    name = "coral"
    capabilities = CAPABILITIES

    def __init__(self, device: str | None = None) -> None:
        self.device = device

    def prepare(self, model: bytes) -> tuple[bytes, tuple[str, ...]]:
        """The model to load (compiled when needed and possible) and notes on what was done."""
        if is_compiled(model):
            return model, ("model already compiled for the Edge TPU",)
        compiler = find_compiler()
        if compiler is None:
            return model, (
                "edgetpu_compiler not on PATH: the model ran uncompiled, so every op ran on the CPU; "
                "compile it with edgetpu_compiler (x86-64 Linux) for Edge TPU numbers",
            )
        compiled, summary = compile_model(model, compiler)
        return compiled, summary.notes()

    def run(self, model: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
        """Run every sample of ``inputs`` (leading sample axis); returns raw outputs, one array per output."""
        interpreter, notes = self._load(model, threads=1)
        for note in notes:
            logger.info("coral: %s", note)
        outputs: list[list[np.ndarray]] = [[] for _ in interpreter.get_output_details()]
        for i in range(len(inputs[0])):
            for k, value in enumerate(_invoke(interpreter, [x[i : i + 1] for x in inputs])):
                outputs[k].append(value[0])
        return [np.stack(o) for o in outputs]

    def profile(self, model: bytes, sample: list[np.ndarray], runs: int, warmup: int, threads: int = 1) -> Timing:
        """Time ``runs`` invokes in this process after ``warmup`` (the first loads the model into the Edge TPU)."""
        interpreter, notes = self._load(model, threads=threads)
        _set_inputs(interpreter, sample)
        for _ in range(warmup):
            interpreter.invoke()
        ms = []
        for _ in range(runs):
            start = time.perf_counter_ns()
            interpreter.invoke()
            ms.append((time.perf_counter_ns() - start) / 1e6)
        source = f"wall clock around each invoke (Edge TPU delegate {library_name()}, {threads} CPU thread(s))"
        return Timing(tuple(ms), latency_source=source, notes=notes)

    def _load(self, model: bytes, threads: int) -> tuple[Any, tuple[str, ...]]:
        read_model(model)  # a corrupt file fails here, before any runtime sees it
        delegate = load_edgetpu_delegate(self.device)
        prepared, notes = self.prepare(model)
        with quiet():
            interpreter = interpreter_class()[0](
                model_content=prepared, experimental_delegates=[delegate], num_threads=threads
            )
            interpreter.allocate_tensors()
        return interpreter, notes


def _set_inputs(interpreter: Interpreter, values: list[np.ndarray]) -> None:
    details = interpreter.get_input_details()
    if len(values) != len(details):
        raise UsageError(f"model has {len(details)} inputs, got {len(values)} arrays")
    for detail, value in zip(details, values):
        interpreter.set_tensor(detail["index"], np.asarray(value, detail["dtype"]).reshape(detail["shape"]))


def _invoke(interpreter: Interpreter, values: list[np.ndarray]) -> list[np.ndarray]:
    _set_inputs(interpreter, values)
    interpreter.invoke()
    return [interpreter.get_tensor(d["index"]).copy() for d in interpreter.get_output_details()]


def make_target(name: str, device: str | None = None) -> CoralTarget:
    """The ``coral`` target; ``device`` (e.g. ``"usb:0"``) picks one of several Edge TPUs."""
    return CoralTarget(device=None if device is None else str(device))
