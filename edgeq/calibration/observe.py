"""Run a float TFLite model over calibration data and histogram its activations.

The model is the calibrated float flatbuffer itself, run by LiteRT with
``experimental_preserve_all_tensors=True``, so tensor indices are exactly the
ones whose recorded ranges get rewritten: no name matching between a Keras
model and a flatbuffer is involved.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from edgeq.calibration.histograms import DEFAULT_BINS, Histogram
from edgeq.errors import ConversionError
from edgeq.litert import Interpreter, feed_order, interpreter_class
from edgeq.log import progress, quiet


def collect_histograms(
    model: bytes,
    tensors: Iterable[tuple[int, str]],
    samples: dict[str, np.ndarray],
    bins: int = DEFAULT_BINS,
) -> dict[int, Histogram]:
    """Histogram each ``(index, name)`` tensor of ``model`` over every sample.

    Args:
        model: a float .tflite flatbuffer.
        tensors: tensor indices (and names for messages) to observe.
        samples: one ``(N, ...)`` array per model input, keyed by input name.
        bins: bins per sign of each histogram.

    Returns:
        Tensor index -> histogram; tensors the interpreter does not keep are left out.
    """
    interpreter = _interpreter(model)
    details = interpreter.get_input_details()
    order = list(zip(details, feed_order([d["name"] for d in details], list(samples), same_count=True)))
    arrays = list(samples.values())
    hists = {index: Histogram(bins, name) for index, name in tensors}
    count = len(arrays[0])
    for i in progress(range(count), count, "collecting activation statistics"):
        for detail, k in order:
            interpreter.set_tensor(
                detail["index"], np.asarray(arrays[k][i : i + 1], detail["dtype"]).reshape(detail["shape"])
            )
        interpreter.invoke()
        _observe(interpreter, hists)
    return hists


def _observe(interpreter: Interpreter, hists: dict[int, Histogram]) -> None:
    """Add each tensor's current value to its histogram; forget tensors the interpreter does not keep."""
    for index in list(hists):
        try:
            value = interpreter.get_tensor(index)
        except ValueError:  # a tensor without data (e.g. an unused intermediate)
            del hists[index]
            continue
        hists[index].update(value)


def _interpreter(model: bytes) -> Interpreter:
    cls, _ = interpreter_class()
    try:
        with quiet():
            interpreter = cls(model_content=model, experimental_preserve_all_tensors=True)
            interpreter.allocate_tensors()
    except (TypeError, RuntimeError, ValueError) as exc:
        raise ConversionError(f"cannot run the calibrated float model to collect statistics: {exc}") from exc
    return interpreter
