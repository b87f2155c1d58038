"""int4 weights: Google's AI Edge Quantizer on a batch-1 float model.

``edgeq convert --weights int4`` keeps int8 activations everywhere and stores
the weights of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED as TFLite's INT4
tensor type: symmetric, one scale per output channel, two values per byte
(the first value in the low nibble), as TFLite Micro's int4 kernels read them.
TensorFlow's own converter has no int4 weight option, so the float model goes
through the AI Edge Quantizer (``ai_edge_quantizer``, the ``int4`` extra):
calibrated once with edgeq's representative samples, then quantized with a
recipe that names every layer whose weights become int4 (the others keep int8
per-channel weights), so the same calibration serves any mix of the two.

The float model is converted at batch 1: Keras' Flatten of a dynamic batch
leaves a float SHAPE -> STRIDED_SLICE -> PACK chain that the quantizer keeps in
float; with a batch-1 input those shapes are constants and fold away.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from types import ModuleType
from typing import Any

import numpy as np

from edgeq.convert import converter as conv
from edgeq.convert.bias_params import drop_bias_quantization
from edgeq.convert.loader import LoadedModel
from edgeq.convert.report import layer_for
from edgeq.data import Dataset
from edgeq.errors import ConversionError, DependencyError
from edgeq.litert import Runner, feed_order, signature_name
from edgeq.log import logger, quiet
from edgeq.model import Graph, read_model
from edgeq.procs import raise_if_terminated

INT4_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")
QUANTIZER = "AI Edge Quantizer"
INSTALL_HINT = "--weights int4 needs Google's AI Edge Quantizer: pip install 'edgeq[int4]'"


@dataclass(frozen=True)
class WeightLayer:
    """One op whose weights may be int4: its output tensor, weight tensor and Keras layer."""

    op_index: int
    op: str
    output: str
    weight: str
    layer: str | None
    shape: tuple[int, ...]

    @property
    def elements(self) -> int:
        return int(np.prod(self.shape))

    @property
    def int8_bytes(self) -> int:
        return self.elements

    @property
    def int4_bytes(self) -> int:
        return (self.elements + 1) // 2

    @property
    def saved_bytes(self) -> int:
        """Bytes int4 saves over int8 weights (the bias and scales stay as they are)."""
        return self.int8_bytes - self.int4_bytes

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(int8_bytes=self.int8_bytes, int4_bytes=self.int4_bytes)
        return out


def quantizer_version() -> str:
    """The installed AI Edge Quantizer's version; DependencyError naming the extra when it is missing."""
    try:
        import ai_edge_quantizer  # type: ignore[import-untyped]  # noqa: F401 - optional, checked before the work
    except ImportError:
        raise DependencyError(INSTALL_HINT) from None
    try:
        return metadata.version("ai-edge-quantizer")
    except metadata.PackageNotFoundError:
        return "unknown"


def weight_layers(graph: Graph, layer_names: Sequence[str] = ()) -> tuple[WeightLayer, ...]:
    """The conv, depthwise-conv and dense ops of a float graph with constant float weights."""
    found = []
    for op in graph.operators:
        if op.builtin not in INT4_OPS or len(op.inputs) < 2 or op.inputs[1] < 0 or not op.outputs:
            continue
        weight = graph.tensors[op.inputs[1]]
        if not weight.is_constant or weight.dtype != "float32":
            continue
        output = graph.tensors[op.outputs[0]].name
        layer = _main_layer((weight.name, output), layer_names)
        found.append(WeightLayer(op.index, op.builtin, output, weight.name, layer, tuple(weight.shape)))
    return tuple(found)


def _main_layer(names: Sequence[str], layer_names: Sequence[str]) -> str | None:
    """The earliest Keras layer named in ``names``: the conv or dense layer before the batch norm and activation
    the converter fused into it."""
    order = {name: i for i, name in enumerate(layer_names)}
    found = [layer_for(part, layer_names) for name in names for part in re.split(r"[;]", name)]
    known = [layer for layer in found if layer is not None]
    return min(known, key=order.__getitem__) if known else None


def batch1_float_model(tf: ModuleType, loaded: LoadedModel) -> bytes:
    """The float .tflite at batch size 1 (Keras models are cloned on a batch-1 input first)."""
    model = loaded
    if loaded.keras_model is not None and any(s.shape and s.shape[0] is None for s in loaded.inputs):
        try:
            clone = _batch1_clone(loaded)
        except Exception as exc:  # noqa: BLE001 - then the dynamic batch stays, and any float op it leaves is named
            raise_if_terminated()
            logger.warning("warning: could not rebuild %s at batch 1 (%s); converting it as it is", loaded.source, exc)
        else:
            model = LoadedModel(
                loaded.source, loaded.kind, loaded.inputs, clone, loaded.keras_flavour, loaded.layer_names
            )
    return conv.convert_float(tf, model)


def _batch1_clone(loaded: LoadedModel) -> Any:
    """The Keras model rebuilt on batch-1 inputs of the same names, with the same weights."""
    if loaded.keras_flavour == "tf_keras":
        import tf_keras as keras
    else:
        import keras
    source = loaded.keras_model
    inputs = [keras.Input(shape=s.shape[1:], batch_size=1, name=s.name) for s in loaded.inputs]
    given = inputs[0] if len(inputs) == 1 else inputs
    with quiet():
        try:
            clone = keras.models.clone_model(source, input_tensors=given)
        except Exception as exc:  # noqa: BLE001 - subclassed and exotic models: wrap instead
            logger.debug("clone_model failed (%s); wrapping the model on batch-1 inputs", exc)
            clone = keras.Model(given, source(given))
        clone.set_weights(source.get_weights())
    return clone


def recipe(int4: Collection[WeightLayer]) -> list[dict[str, Any]]:
    """The quantizer recipe: int8 activations and per-channel int8 weights, int4 weights on ``int4``."""
    from ai_edge_quantizer import recipe as recipes

    base = recipes.static_wi8_ai8()
    entries = list(base)
    for layer in int4:
        entry = copy.deepcopy(base[0])
        entry["regex"] = "^" + re.escape(layer.output) + ";$"  # the op's scope: its output names, ";" after each
        entry["operation"] = layer.op
        entry["op_config"]["weight_tensor_config"]["num_bits"] = 4
        # The quantizer's policy lists no int4 depthwise kernel and would silently keep int8 weights;
        # LiteRT and TFLite Micro both run DEPTHWISE_CONV_2D with int4 filters.
        entry["op_config"]["skip_checks"] = layer.op == "DEPTHWISE_CONV_2D"
        entries.append(entry)
    return entries


class Int4Quantizer:
    """A float model calibrated once by the AI Edge Quantizer, quantized with any set of int4 layers."""

    def __init__(self, float_model: bytes, dataset: Dataset, layer_names: Sequence[str] = ()) -> None:
        from ai_edge_quantizer import quantizer

        self.float_model = float_model
        self.layers = weight_layers(read_model(float_model), layer_names)
        self.biases_without_parameters = 0
        self._quantizer = quantizer
        with quiet():
            signature, names = _signature(float_model)
            feeds = _feeds(dataset, names)
            try:
                self.calibration = _calibrate(float_model, recipe(self.layers), {signature: feeds})
            except Exception as exc:  # noqa: BLE001 - the quantizer raises many types
                raise_if_terminated()
                raise ConversionError(f"the {QUANTIZER} could not calibrate the model: {_first_line(exc)}") from exc

    def _new(self, entries: list[dict[str, Any]]) -> Any:
        q = self._quantizer.Quantizer(self.float_model)
        q.load_quantization_recipe(entries)
        return q

    def quantize(self, int4: Collection[str]) -> bytes:
        """The model with int4 weights on the layers whose output tensors are ``int4`` (int8 elsewhere)."""
        chosen = [layer for layer in self.layers if layer.output in int4]
        try:
            with quiet():
                result = self._new(recipe(chosen)).quantize(self.calibration)
        except Exception as exc:  # noqa: BLE001 - the quantizer raises many types
            raise_if_terminated()
            raise ConversionError(f"the {QUANTIZER} failed: {_first_line(exc)}") from exc
        model = bytes(result.quantized_model)
        check_int4_layers(read_model(model), {layer.output for layer in chosen})
        # The quantizer writes each bias's derivable scales and zero points; no kernel reads them.
        model, self.biases_without_parameters = drop_bias_quantization(model)
        return model


def _widest(old: Any, new: Any) -> Any:
    """Each tensor's range over all samples so far (TensorFlow's min/max rule), not a moving average."""
    if not old:
        return new
    return {**new, "min": np.minimum(old["min"], new["min"]), "max": np.maximum(old["max"], new["max"])}


def _calibrate(float_model: bytes, entries: list[dict[str, Any]], feeds: dict[str, Any]) -> Any:
    """The quantizer's calibration with min/max over every sample.

    Its default folds each sample's extremes into a moving average, which ends
    near a typical sample's range and clips the rest: on the zoo's autoencoder
    that cost 8.7 AUC points against TensorFlow's min/max int8.
    """
    from ai_edge_quantizer import calibrator, recipe_manager

    manager = recipe_manager.RecipeManager()
    manager.load_quantization_recipe(entries)
    calib = calibrator.Calibrator(float_model, qsv_update_func=_widest)
    calib.calibrate(feeds, manager)
    return calib.get_model_qsvs()


def convert_int4(tf: ModuleType, loaded: LoadedModel, dataset: Dataset) -> tuple[bytes, bytes, dict[str, Any]]:
    """(int4 model, batch-1 float model, the report's weights section): every conv/dw/fc layer int4."""
    version = quantizer_version()
    float_model = batch1_float_model(tf, loaded)
    logger.info("quantizing with the %s %s: int8 activations, int4 weights", QUANTIZER, version)
    quantizer = Int4Quantizer(float_model, dataset, loaded.layer_names)
    model = quantizer.quantize({layer.output for layer in quantizer.layers})
    section = weights_section(quantizer.layers, quantizer.layers, version)
    return model, float_model, {**section, "biases_without_parameters": quantizer.biases_without_parameters}


def weights_section(layers: Sequence[WeightLayer], int4: Collection[WeightLayer], version: str) -> dict[str, Any]:
    """The report's ``weights`` section: the quantizer, each layer's weight bits and bytes."""
    chosen = {layer.output for layer in int4}
    rows = [{**layer.to_dict(), "bits": 4 if layer.output in chosen else 8} for layer in layers]
    return {
        "quantizer": f"{QUANTIZER} {version}",
        "layers": rows,
        "int4_layers": sum(1 for r in rows if r["bits"] == 4),
        "weight_bytes": {
            "int8": sum(layer.int8_bytes for layer in layers),
            "chosen": sum(r["int4_bytes"] if r["bits"] == 4 else r["int8_bytes"] for r in rows),
        },
    }


def check_int4_layers(graph: Graph, expected: Collection[str]) -> None:
    """ConversionError unless exactly the conv/dw/fc ops writing ``expected`` have int4 weights."""
    found = set(int4_outputs(graph))
    if found != set(expected):
        missing, extra = sorted(set(expected) - found), sorted(found - set(expected))
        raise ConversionError(
            f"the {QUANTIZER} did not give int4 weights to the layers asked (not int4: {missing or 'none'}; "
            f"int4 unasked: {extra or 'none'}); a newer release of it may have changed its recipe format"
        )


def int4_outputs(graph: Graph) -> list[str]:
    """Output tensor names of the ops of a quantized graph that read int4 weights."""
    return [
        graph.tensors[op.outputs[0]].name
        for op in graph.operators
        if op.builtin in INT4_OPS
        and len(op.inputs) > 1
        and op.inputs[1] >= 0
        and op.outputs
        and graph.tensors[op.inputs[1]].dtype == "int4"
    ]


def _signature(float_model: bytes) -> tuple[str, list[str]]:
    """The float model's signature key and its input names, as the quantizer feeds them."""
    runner = Runner(float_model)
    signatures = runner.interpreter.get_signature_list()
    if not signatures:
        return "serving_default", [signature_name(info.name) for info in runner.inputs]
    key = next(iter(signatures))
    return key, list(signatures[key]["inputs"])


def _feeds(dataset: Dataset, names: list[str]) -> list[dict[str, np.ndarray]]:
    """Calibration samples as the quantizer takes them: one dict of batch-1 arrays per sample."""
    keys = list(dataset.arrays)
    order = feed_order(names, keys)
    return [{name: sample[keys[j]] for name, j in zip(names, order)} for sample in dataset.samples()]


def _first_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return (lines[-1] if lines else type(exc).__name__)[:300]
