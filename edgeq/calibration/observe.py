"""Run a float TFLite model over calibration data and histogram its activations.

The model is the calibrated float flatbuffer itself, run by LiteRT with
``experimental_preserve_all_tensors=True``, so tensor indices are exactly the
ones whose recorded ranges get rewritten: no name matching between a Keras
model and a flatbuffer is involved.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from edgeq.calibration.histograms import DEFAULT_BINS, Histogram
from edgeq.errors import ConversionError, DatasetError
from edgeq.log import progress, quiet
from edgeq.runtime import interpreter_class, signature_name


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
    order = _input_order(interpreter.get_input_details(), list(samples))
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


def _observe(interpreter: Any, hists: dict[int, Histogram]) -> None:
    """Add each tensor's current value to its histogram; forget tensors the interpreter does not keep."""
    for index in list(hists):
        try:
            value = interpreter.get_tensor(index)
        except ValueError:  # a tensor without data (e.g. an unused intermediate)
            del hists[index]
            continue
        hists[index].update(value)


def _interpreter(model: bytes) -> Any:
    cls, _ = interpreter_class()
    try:
        with quiet():
            interpreter = cls(model_content=model, experimental_preserve_all_tensors=True)
            interpreter.allocate_tensors()
    except (TypeError, RuntimeError, ValueError) as exc:
        raise ConversionError(f"cannot run the calibrated float model to collect statistics: {exc}") from exc
    return interpreter


def _input_order(details: list[dict], names: list[str]) -> list[tuple[dict, int]]:
    """Pair each interpreter input with the position of the data array that feeds it."""
    if len(details) != len(names):
        raise DatasetError(f"the model has {len(details)} inputs but the data has {len(names)} arrays")
    pairs = []
    for position, detail in enumerate(details):
        bare = signature_name(detail["name"])
        match = [k for k, n in enumerate(names) if n == bare or n.split(":")[0] == bare]
        pairs.append((detail, match[0] if match else position))
    return pairs
