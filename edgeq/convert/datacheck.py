"""Is the calibration data plausible for the model? Cheap checks that warn, never fail.

Range check (Keras models): the first BatchNormalization or Normalization layer
stores the per-channel mean and variance of its input over the training data.
The calibration samples are run through the model up to that layer, and the
same statistics compared: when, over the channels (median), the spread differs
from the stored one by more than :data:`LIMIT` times, or the mean lies more than
:data:`LIMIT` stored standard deviations away, the data is very likely scaled
differently from the training data (0..255 pixels for a model trained on [0, 1],
quantized .bin values read with a wrong scale, ...). A conversion calibrated on
such data gives a model that is accurate on that data only. Models without
either layer, and SavedModels, are not checked.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from types import ModuleType
from typing import Any

import numpy as np

from edgeq.convert.loader import LoadedModel
from edgeq.data.binfiles import BinFormat
from edgeq.log import logger
from edgeq.model import Graph
from edgeq.model.io import model_inputs
from edgeq.tfimport import KerasLayer

LIMIT = 3.0
STAT_LAYERS = ("BatchNormalization", "Normalization")


def range_warning(loaded: LoadedModel, arrays: Mapping[str, np.ndarray]) -> str | None:
    """A one-line warning when the data's statistics at the first normalization layer are implausible."""
    model = loaded.keras_model
    layer = next((x for x in getattr(model, "layers", ()) if type(x).__name__ in STAT_LAYERS), None)
    if layer is None:
        logger.debug("data range check skipped: no BatchNormalization or Normalization layer")
        return None
    try:
        mean, std, axes = _stored_stats(layer)
        seen_mean, seen_std = _seen_stats(loaded, layer, arrays, axes, mean.size)
    except Exception as exc:  # noqa: BLE001 - a check that cannot run must not stop the conversion
        logger.debug("data range check skipped at layer %s: %s", layer.name, exc)
        return None
    ratio = float(np.median(seen_std / std))
    shift = float(np.median(np.abs(seen_mean - mean) / std))
    logger.debug("data range check at %s: spread x%.3g, mean shift %.3g std", layer.name, ratio, shift)
    if 1 / LIMIT <= ratio <= LIMIT and shift <= LIMIT:
        return None
    return (
        f"warning: the calibration data looks unlike the data the model was trained on: at layer {layer.name} "
        f"({type(layer).__name__}) it has {ratio:.3g}x the spread the layer stored in training and a mean "
        f"{shift:.3g} stored standard deviations away (median over {mean.size} channels); check how the data is "
        "scaled (--scale/--offset for images, --bin-scale/--bin-zero-point for .bin files, 0..255 data for a "
        "model trained on [0, 1]?)"
    )


def _stored_stats(layer: KerasLayer) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """Per-channel mean and standard deviation stored in ``layer``, and the axes they run along."""
    if type(layer).__name__ == "BatchNormalization":
        mean, var = _flat(layer.moving_mean), _flat(layer.moving_variance)
        std = np.sqrt(var + float(layer.epsilon))
        axes = layer.axis
    else:
        mean, var = _flat(layer.mean), _flat(layer.variance)
        std = np.maximum(np.sqrt(var), 1e-7)
        axes = layer.axis if layer.axis is not None else ()
    axes = (axes,) if isinstance(axes, int) else tuple(axes)
    return mean, std, axes


def _numpy(value: Any) -> np.ndarray:
    """A tensor or variable as a float64 array."""
    return np.asarray(value.numpy() if hasattr(value, "numpy") else value, np.float64)


def _flat(value: Any) -> np.ndarray:
    return _numpy(value).reshape(-1)


def _seen_stats(
    loaded: LoadedModel, layer: KerasLayer, arrays: Mapping[str, np.ndarray], axes: tuple[int, ...], channels: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation of ``layer``'s input over the calibration samples."""
    module = _keras(loaded.keras_flavour)
    model = loaded.keras_model
    upto = module.Model(model.inputs, layer.input)
    feed = [arrays[spec.name] for spec in loaded.inputs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seen = _numpy(upto(feed, training=False))
    kept = {a % seen.ndim for a in axes}
    reduce = tuple(a for a in range(seen.ndim) if a not in kept)
    mean, std = seen.mean(axis=reduce).reshape(-1), seen.std(axis=reduce).reshape(-1)
    if mean.size != channels:
        raise ValueError(f"{mean.size} channels seen, {channels} stored")
    return mean, std


def _keras(flavour: str | None) -> ModuleType:
    if flavour == "tf_keras":
        import tf_keras

        return tf_keras
    import keras

    return keras


def bin_input_warning(fmt: BinFormat | None, graph: Graph) -> str | None:
    """A warning when .bin files were read with ``fmt`` but the converted model quantizes its input otherwise."""
    if fmt is None or len(graph.inputs) != 1:
        return None
    (spec,) = model_inputs(graph)
    if spec.dtype not in ("int8", "uint8") or spec.scale is None:
        return None
    zero = spec.zero_point
    if spec.dtype == fmt.dtype and zero == fmt.zero_point and math.isclose(spec.scale, fmt.scale, rel_tol=1e-6):
        return None
    return (
        f"warning: the .bin files hold {fmt.describe()}, but the converted model's input is {spec.dtype}, "
        f"scale {spec.scale:.6g}, zero point {zero}: to feed it those files, give edgeq run the same "
        f"--bin-dtype {fmt.dtype} --bin-scale {fmt.scale:.9g} --bin-zero-point {fmt.zero_point} "
        "(without them their bytes are read in the model's own quantization)"
    )
