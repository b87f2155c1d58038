"""Quantization-aware training (QAT) with tensorflow-model-optimization (tfmot).

tfmot works on Keras 2 models (the ``tf_keras`` package): :func:`to_tf_keras`
loads a path with tf-keras or rebuilds a Keras 3 model layer by layer from its
config (weights copied, outputs checked). :func:`quantize_aware` wraps it with
fake-quant ops (``quantize_model``) and fine-tunes it on labelled data;
:func:`qat` then converts it with :func:`edgeq.convert.convert` (the converter
uses the ranges the fake-quant ops learned) and writes OUT.tflite and OUT.json
atomically, with float / PTQ int8 / QAT int8 accuracies when evaluation data is
given. :mod:`edgeq.quant.compress` reuses the loading and training helpers.
"""

from __future__ import annotations

import inspect
import math
import os
import re
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from edgeq.convert.report import ConversionReport
from edgeq.convert.tfenv import import_tf
from edgeq.errors import DatasetError, DependencyError, ModelLoadError, UnsupportedError, UsageError
from edgeq.log import logger, quiet
from edgeq.qtypes import TensorSpec

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


def _tf_keras() -> ModuleType:
    import_tf()
    try:
        import tf_keras
    except ImportError as exc:
        raise DependencyError(f"tf-keras is not installed ({exc}); pip install tf-keras") from exc
    return tf_keras


def to_tf_keras(model: Any) -> Any:
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
    tfk = _tf_keras()
    with quiet():
        if type(model).__name__ == "Sequential":
            rebuilt = tfk.Sequential([_layer(tfk, e) for e in config["layers"]], name=config.get("name"))
        else:
            rebuilt = _functional(tfk, config)
        _copy_weights(model, rebuilt)
    _check_same(model, rebuilt)
    logger.debug("rebuilt %s in tf-keras for tensorflow-model-optimization", model.name)
    return rebuilt


def _load_path(path: Path) -> Any:
    if path.is_dir():
        raise ModelLoadError(f"{path} is a SavedModel folder; QAT, clustering and pruning need a .keras or .h5 file")
    if path.suffix.lower() in (".keras", ".h5", ".hdf5") and path.is_file():
        tfk = _tf_keras()
        try:
            with quiet():
                return tfk.models.load_model(str(path), compile=False)
        except Exception as exc:  # noqa: BLE001 - Keras 3 files fail here and load below
            logger.debug("tf-keras cannot load %s (%s); trying Keras 3", path, exc)
    from edgeq.convert.loader import load_model

    return load_model(path).keras_model


def _layer(tfk: ModuleType, entry: dict[str, Any]) -> Any:
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


def _accepted(cls: type) -> tuple[set[str], bool]:
    params = inspect.signature(cls.__init__).parameters
    return set(params) - {"self"}, any(p.kind is p.VAR_KEYWORD for p in params.values())


def _clean(tfk: ModuleType, cls: type, config: dict[str, Any], layer: str) -> dict[str, Any]:
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


def _functional(tfk: ModuleType, config: dict[str, Any]) -> Any:
    tensors: dict[tuple[str, int, int], Any] = {}
    pending: list[tuple[Any, str, int, dict[str, Any]]] = []
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


def _call_node(item: tuple[Any, str, int, dict[str, Any]], tensors: dict[tuple[str, int, int], Any]) -> bool:
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


def _resolve(value: Any, tensors: dict[tuple[str, int, int], Any]) -> Any:
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        return tensors[tuple(value["config"]["keras_history"])]
    if isinstance(value, dict):
        return {k: _resolve(v, tensors) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_resolve(v, tensors) for v in value]
    return value


def _copy_weights(source: Any, target: Any) -> None:
    for layer in source.layers:
        if layer.weights:
            try:
                target.get_layer(layer.name).set_weights(layer.get_weights())
            except ValueError as exc:
                raise ModelLoadError(f"layer {layer.name!r}: weights do not fit the tf-keras rebuild: {exc}") from exc


def _check_same(source: Any, target: Any) -> None:
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


@dataclass(frozen=True)
class TrainOptions:
    """How to fine-tune (QAT, clustering, pruning).

    Attributes:
        epochs: passes over the training data (at least 1).
        lr: Adam learning rate; fine-tuning wants a small one.
        batch_size: samples per step.
        loss: a Keras loss name, or "auto": sparse categorical crossentropy, from
            logits unless the model ends in a softmax.
        seed: seed of TensorFlow's shuffling and initialisers.
        scale, offset: image folders only, pixel * scale + offset.
    """

    epochs: int = 3
    lr: float = 1e-4
    batch_size: int = 32
    loss: str = "auto"
    seed: int = 0
    scale: float = 1.0 / 255.0
    offset: float = 0.0

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise UsageError(f"--epochs {self.epochs} must be at least 1")
        if not (math.isfinite(self.lr) and 0 < self.lr < 1):
            raise UsageError(f"--lr {self.lr} must be a number in (0, 1), e.g. 1e-4")
        if self.batch_size < 1:
            raise UsageError(f"--batch-size {self.batch_size} must be at least 1")


@dataclass(frozen=True)
class TrainData:
    """Labelled arrays in the model's input order, and the loss fitting them."""

    x: dict[str, np.ndarray] = field(repr=False)
    y: np.ndarray = field(repr=False)
    description: str
    loss: Any = field(repr=False)
    loss_name: str

    @property
    def count(self) -> int:
        return len(self.y)


def labelled_arrays(source: Any, model: Any, opts: TrainOptions, what: str) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """({input name: array} in model order, integer labels) from a labelled .npz (x, y) or class folders."""
    from edgeq.data.labelled import load_labelled

    specs = [TensorSpec(t.name.split(":")[0], tuple(t.shape), "float32") for t in model.inputs]
    inputs, labels, _ = load_labelled(source, specs, scale=opts.scale, offset=opts.offset)
    if labels is None:
        raise DatasetError(
            f"{source}: {what} must be labelled: an .npz with x and y arrays, or a folder of class folders"
        )
    classes = int(model.outputs[0].shape[-1] or 0)
    if classes > 1 and int(labels.max()) >= classes:
        raise DatasetError(f"{source}: label {int(labels.max())} is out of range for a model with {classes} outputs")
    return {s.name: np.asarray(inputs[s.name], np.float32) for s in specs}, labels


def training_data(source: Any, model: Any, opts: TrainOptions) -> TrainData:
    """Load labelled training data for ``model`` (a tf-keras model) and pick the loss."""
    x, y = labelled_arrays(source, model, opts, "training data")
    tfk = _tf_keras()
    last = model.layers[-1]
    probabilities = type(last).__name__ == "Softmax" or last.get_config().get("activation") == "softmax"
    name = opts.loss
    if name in ("auto", "sparse_categorical_crossentropy"):
        return TrainData(x, y, str(source), tfk.losses.SparseCategoricalCrossentropy(not probabilities), name)
    classes = int(model.outputs[0].shape[-1])
    onehot = np.eye(classes, dtype=np.float32)[y]
    if name == "categorical_crossentropy":
        return TrainData(x, onehot, str(source), tfk.losses.CategoricalCrossentropy(not probabilities), name)
    try:
        return TrainData(x, onehot, str(source), tfk.losses.get(name), name)
    except ValueError as exc:
        raise UsageError(
            f"--loss {name!r} is not a Keras loss; use auto, sparse_categorical_crossentropy, "
            "categorical_crossentropy or another tf-keras loss name"
        ) from exc


def fine_tune(model: Any, data: TrainData, opts: TrainOptions, label: str, callbacks: list[Any] | None = None) -> list:
    """Compile ``model`` with Adam(opts.lr) and the data's loss, train, log one line per epoch on stderr."""
    tf, tfk = import_tf(), _tf_keras()
    tf.random.set_seed(opts.seed)
    with quiet():
        model.compile(optimizer=tfk.optimizers.Adam(opts.lr), loss=data.loss, metrics=["accuracy"])
    history = model.fit(
        list(data.x.values()) if len(data.x) > 1 else next(iter(data.x.values())),
        data.y,
        epochs=opts.epochs,
        batch_size=opts.batch_size,
        shuffle=True,
        verbose=0,
        callbacks=[_epoch_logger(tfk, label, opts.epochs), *(callbacks or [])],
    )
    per_epoch = history.history
    return [{k: round(float(v[i]), 5) for k, v in per_epoch.items()} for i in range(len(per_epoch.get("loss", [])))]


def _epoch_logger(tfk: ModuleType, label: str, epochs: int) -> Any:
    class EpochLog(tfk.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.started = time.monotonic()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            values = ", ".join(f"{k} {v:.4f}" for k, v in (logs or {}).items())
            seconds = time.monotonic() - self.started
            logger.info("%s epoch %d/%d: %s (%.1f s)", label, epoch + 1, epochs, values, seconds)

    return EpochLog()


def quantize_aware(model: Any, train_data: Any, options: TrainOptions | None = None) -> Any:
    """Wrap ``model`` with tfmot fake-quant ops and fine-tune it; returns the trained tf-keras QAT model.

    Raises:
        UnsupportedError: a layer tfmot cannot quantize (named in the message).
    """
    opts = options or TrainOptions()
    tfmot = import_tfmot()
    base = to_tf_keras(model)
    data = training_data(train_data, base, opts)
    quantized = quantize_wrap(tfmot, base)
    fine_tune(quantized, data, opts, "QAT")
    return quantized


def quantize_wrap(tfmot: ModuleType, model: Any) -> Any:
    """``tfmot.quantization.keras.quantize_model`` with its errors turned into one-line UnsupportedErrors."""
    try:
        with quiet():
            return tfmot.quantization.keras.quantize_model(model)
    except (RuntimeError, ValueError) as exc:
        found = re.search(r"Layer (\S+?):<class '(?:[\w.]+\.)?(\w+)'>", str(exc))
        what = f"layer {found.group(1)!r} ({found.group(2)})" if found else str(exc).splitlines()[0]
        raise UnsupportedError(
            f"tensorflow-model-optimization cannot quantize {what}: QAT supports Conv2D, DepthwiseConv2D and "
            "Dense (BatchNormalization only right after a convolution), ReLU, pooling and Add; "
            "change that layer or use post-training quantization (edgeq convert)"
        ) from exc


@dataclass(frozen=True)
class QatReport:
    """What ``edgeq qat`` did: the conversion report of the QAT model, the training, the accuracies.

    ``accuracy`` (with evaluation data) holds fractions in [0, 1] for "float"
    (the model before QAT), "ptq_int8" (plain post-training int8) and
    "qat_int8" (the written model), plus "samples" and "data".
    """

    conversion: ConversionReport
    train: dict[str, Any]
    accuracy: dict[str, Any] | None
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        out = self.conversion.to_dict()
        out["qat"] = {"train": self.train, "accuracy": self.accuracy, "seconds": self.seconds}
        return out


def qat(
    model: Any,
    train_data: Any,
    output: str | Path,
    *,
    eval_data: Any = None,
    options: TrainOptions | None = None,
    samples: int | None = 200,
) -> QatReport:
    """Quantization-aware fine-tuning, then a fully-integer int8 conversion written with its report.

    Args:
        model: .keras/.h5 path, or a Keras 3 or tf-keras model (functional or Sequential).
        train_data: labelled data: an .npz with x and y, or a folder of class folders.
        output: the .tflite to write; the JSON report goes beside it (OUT.json).
        eval_data: labelled data to measure float, PTQ int8 and QAT int8 accuracy on.
        options: epochs, learning rate, batch size, loss, seed (:class:`TrainOptions`).
        samples: training samples used as representative data by the converter.
    """
    from edgeq.convert import ConvertOptions
    from edgeq.quant.compress import accuracies, convert_bytes, float_tflite_size, write_report

    started = time.monotonic()
    opts = options or TrainOptions()
    tfmot = import_tfmot()
    base = to_tf_keras(model)
    data = training_data(train_data, base, opts)
    quantized = quantize_wrap(tfmot, base)
    history = fine_tune(quantized, data, opts, "QAT")
    convert_opts = ConvertOptions(samples=samples, seed=opts.seed, check_samples=0)
    conversion, model_bytes = convert_bytes(quantized, data.x, convert_opts)
    conversion = replace(conversion, output=str(output), float_tflite_bytes=float_tflite_size(base))
    accuracy = None
    if eval_data is not None:
        _, ptq_bytes = convert_bytes(base, data.x, convert_opts)
        accuracy = accuracies(base, {"ptq_int8": ptq_bytes, "qat_int8": model_bytes}, eval_data, opts)
    train = {"epochs": opts.epochs, "lr": opts.lr, "batch_size": opts.batch_size, "loss": data.loss_name}
    train |= {"samples": data.count, "data": data.description, "seed": opts.seed, "history": history}
    report = QatReport(conversion, train, accuracy, round(time.monotonic() - started, 3))
    write_report(Path(output), model_bytes, report.to_dict())
    return report
