"""Keras 3 -> tf-keras (Keras 2) rebuild for tensorflow-model-optimization (tfmot).

tfmot works on Keras 2 models (the ``tf_keras`` package): :func:`to_tf_keras`
loads a path with tf-keras or rebuilds a Keras 3 model layer by layer from its
config (weights copied, outputs checked). :func:`import_tfmot` imports tfmot
without letting it switch ``tf.keras`` to the legacy Keras.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from edgeq.convert.loader import load_model
from edgeq.errors import DependencyError, ModelLoadError
from edgeq.log import logger, quiet
from edgeq.tfimport import KerasLayer, KerasModel, KerasTensor, import_tf

TFMOT_HINT = "pip install tensorflow-model-optimization"
_LAYER_KWARGS = {"name", "trainable", "dtype", "batch_input_shape", "input_shape", "batch_size", "input_dim", "dynamic"}
_DROP = object()


def import_tfmot() -> ModuleType:
    """Return ``tensorflow_model_optimization``; DependencyError naming the pip package when missing."""
    tf = import_tf()
    saved = os.environ.get("TF_USE_LEGACY_KERAS")
    try:
        with quiet():
            getattr(tf.keras, "version", None)  # resolve tf.keras before tfmot sets TF_USE_LEGACY_KERAS=1
            import tensorflow_model_optimization as tfmot
    except ImportError as exc:
        raise DependencyError(f"tensorflow-model-optimization is not installed ({exc}); {TFMOT_HINT}") from exc
    finally:
        if saved is None:
            os.environ.pop("TF_USE_LEGACY_KERAS", None)
        else:
            os.environ["TF_USE_LEGACY_KERAS"] = saved
    return tfmot


def tf_keras_module() -> ModuleType:
    """The ``tf_keras`` package (tfmot's Keras); DependencyError naming the pip package when missing."""
    import_tf()
    try:
        import tf_keras
    except ImportError as exc:
        raise DependencyError(f"tf-keras is not installed ({exc}); pip install tf-keras") from exc
    return tf_keras


def to_tf_keras(model: str | Path | KerasModel) -> KerasModel:
    """A tf-keras (Keras 2) model for ``model``: a .keras/.h5 path or a Keras 3 / tf-keras model object.

    Raises:
        ModelLoadError: a SavedModel folder, a subclassed model, or a layer that has no tf-keras equivalent.
    """
    if isinstance(model, (str, Path)):
        model = _load_path(Path(model))
    if type(model).__module__.startswith("tf_keras"):
        return model
    if not hasattr(model, "get_config") or not hasattr(model, "layers"):
        raise ModelLoadError(f"{type(model).__name__} is not a Keras model")
    try:
        config = model.get_config()
    except NotImplementedError as exc:
        raise ModelLoadError(
            f"{model.name} is a subclassed Keras model; QAT, clustering and pruning need a functional or Sequential model"
        ) from exc
    tfk = tf_keras_module()
    with quiet():
        if type(model).__name__ == "Sequential":
            rebuilt = tfk.Sequential([_layer(tfk, e) for e in config["layers"]], name=config.get("name"))
        else:
            rebuilt = _functional(tfk, config)
        _copy_weights(model, rebuilt)
    _check_same(model, rebuilt)
    logger.debug("rebuilt %s in tf-keras for tensorflow-model-optimization", model.name)
    return rebuilt


def _load_path(path: Path) -> KerasModel:
    if path.is_dir():
        raise ModelLoadError(f"{path} is a SavedModel folder; QAT, clustering and pruning need a .keras or .h5 file")
    if path.suffix.lower() in (".keras", ".h5", ".hdf5") and path.is_file():
        tfk = tf_keras_module()
        try:
            with quiet():
                return tfk.models.load_model(str(path), compile=False)
        except Exception as exc:  # noqa: BLE001 - Keras 3 files fail here and load below
            logger.debug("tf-keras cannot load %s (%s); trying Keras 3", path, exc)
    return load_model(path).keras_model


def _layer(tfk: ModuleType, entry: dict[str, Any]) -> KerasLayer:
    cls_name, config = entry["class_name"], entry["config"]
    name = config.get("name", cls_name)
    if cls_name in ("Functional", "Sequential", "Model"):
        raise ModelLoadError(
            f"layer {name!r} is a nested model; tensorflow-model-optimization cannot wrap nested models: "
            "rebuild the model flat (call the inner model's layers directly)"
        )
    cls = getattr(tfk.layers, cls_name, None)
    if cls is None or entry.get("registered_name") or entry.get("module") not in (None, "keras", "keras.layers"):
        raise ModelLoadError(
            f"layer {name!r} ({cls_name}) has no tf-keras equivalent; tensorflow-model-optimization needs a "
            "tf-keras model: replace the layer with a built-in one or save the model with tf-keras"
        )
    try:
        return cls.from_config(_clean(tfk, cls, config, name))
    except Exception as exc:  # noqa: BLE001 - any config mismatch is reported with the layer's name
        raise ModelLoadError(f"layer {name!r} ({cls_name}) cannot be rebuilt in tf-keras: {exc}") from exc


def _accepted(cls: type[KerasLayer]) -> tuple[set[str], bool]:
    params = inspect.signature(cls.__init__).parameters
    return set(params) - {"self"}, any(p.kind is p.VAR_KEYWORD for p in params.values())


def _clean(tfk: ModuleType, cls: type[KerasLayer], config: dict[str, Any], layer: str) -> dict[str, Any]:
    names, takes_kwargs = _accepted(cls)
    out: dict[str, Any] = {}
    for key, value in config.items():
        key = "batch_input_shape" if key == "batch_shape" else key
        if key == "dtype" and isinstance(value, dict):
            value = value.get("config", {}).get("name", "float32")
        elif isinstance(value, dict) and "class_name" in value:
            value = _sub_object(tfk, value, layer)
        if value is _DROP:
            continue
        if key in names or (takes_kwargs and key in _LAYER_KWARGS):
            out[key] = value
        elif value not in (None, False, {}, [], 0):
            logger.debug("layer %s: dropped Keras 3 option %s=%r", layer, key, value)
    return out


def _sub_object(tfk: ModuleType, spec: dict[str, Any], layer: str) -> Any:
    """Initializers, regularizers and constraints as tf-keras objects (Keras 3 adds arguments Keras 2 lacks)."""
    module = str(spec.get("module") or "")
    namespace = getattr(tfk, module.rsplit(".", 1)[-1], None) if module.startswith("keras.") else None
    cls = getattr(namespace, spec["class_name"], None) if namespace else None
    if cls is None:
        if "initializers" not in module:
            logger.warning("warning: layer %s: %s has no tf-keras equivalent; dropped", layer, spec["class_name"])
        return _DROP
    names, _ = _accepted(cls)
    return cls(**{k: v for k, v in (spec.get("config") or {}).items() if k in names})


def _functional(tfk: ModuleType, config: dict[str, Any]) -> KerasModel:
    tensors: dict[tuple[str, int, int], KerasTensor] = {}
    pending: list[tuple[KerasLayer, str, int, dict[str, Any]]] = []
    for entry in config["layers"]:
        layer = _layer(tfk, entry)
        if entry["class_name"] == "InputLayer":
            tensors[(layer.name, 0, 0)] = layer.output
        pending += [(layer, entry["name"], i, node) for i, node in enumerate(entry.get("inbound_nodes", []))]
    while pending:
        waiting = [item for item in pending if not _call_node(item, tensors)]
        if len(waiting) == len(pending):
            raise ModelLoadError(f"cannot rebuild the graph of {config.get('name')}: layer {waiting[0][1]!r}")
        pending = waiting
    inputs = [tensors[tuple(r)] for r in _refs(config["input_layers"])]
    outputs = [tensors[tuple(r)] for r in _refs(config["output_layers"])]
    single = isinstance(config["output_layers"][0], str)
    return tfk.Model(inputs, outputs[0] if single else outputs, name=config.get("name"))


def _refs(refs: list[Any]) -> list[list[Any]]:
    return [refs] if refs and isinstance(refs[0], str) else list(refs)


def _call_node(
    item: tuple[KerasLayer, str, int, dict[str, Any]], tensors: dict[tuple[str, int, int], KerasTensor]
) -> bool:
    layer, name, index, node = item
    try:
        args = _resolve(node.get("args", []), tensors)
        kwargs = _resolve(node.get("kwargs", {}), tensors)
    except KeyError:
        return False
    outputs = layer(*args, **kwargs)
    for i, tensor in enumerate(outputs if isinstance(outputs, (list, tuple)) else [outputs]):
        tensors[(name, index, i)] = tensor
    return True


def _resolve(value: Any, tensors: dict[tuple[str, int, int], KerasTensor]) -> Any:
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        return tensors[tuple(value["config"]["keras_history"])]
    if isinstance(value, dict):
        return {k: _resolve(v, tensors) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_resolve(v, tensors) for v in value]
    return value


def _copy_weights(source: KerasModel, target: KerasModel) -> None:
    for layer in source.layers:
        if layer.weights:
            try:
                target.get_layer(layer.name).set_weights(layer.get_weights())
            except ValueError as exc:
                raise ModelLoadError(f"layer {layer.name!r}: weights do not fit the tf-keras rebuild: {exc}") from exc


def _check_same(source: KerasModel, target: KerasModel) -> None:
    shapes = [tuple(t.shape) for t in source.inputs]
    if any(d is None for s in shapes for d in s[1:]):
        return
    rng = np.random.default_rng(0)
    x = [rng.standard_normal((2, *s[1:])).astype(np.float32) for s in shapes]
    try:
        with quiet():
            a, b = source(x if len(x) > 1 else x[0]), target(x if len(x) > 1 else x[0])
    except Exception as exc:  # noqa: BLE001 - e.g. integer inputs: the check is skipped, not fatal
        logger.debug("no output check of the tf-keras rebuild: %s", exc)
        return
    a, b = np.asarray(a[0] if isinstance(a, list) else a), np.asarray(b[0] if isinstance(b, list) else b)
    if not np.allclose(a, b, rtol=1e-4, atol=1e-4 * (1.0 + float(np.max(np.abs(a))))):
        raise ModelLoadError(f"rebuilding {source.name} in tf-keras changed its outputs; save the model with tf-keras")
