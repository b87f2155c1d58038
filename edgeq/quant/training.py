"""Labelled training data and fine-tuning shared by QAT, clustering and pruning.

:class:`TrainOptions` holds the fine-tuning settings, :func:`training_data`
loads labelled data for a tf-keras model and picks the loss, and
:func:`fine_tune` compiles and trains with one log line per epoch.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from types import ModuleType

import numpy as np

from edgeq.data.labelled import load_labelled
from edgeq.errors import DatasetError, UsageError
from edgeq.log import logger, quiet
from edgeq.qtypes import DataSource, DataSpec
from edgeq.quant.tfkeras import tf_keras_module
from edgeq.tfimport import KerasCallback, KerasLoss, KerasModel, import_tf


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
    loss: KerasLoss = field(repr=False)
    loss_name: str

    @property
    def count(self) -> int:
        return len(self.y)


def labelled_arrays(
    source: DataSource, model: KerasModel, opts: TrainOptions, what: str
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """({input name: array} in model order, integer labels) from a labelled .npz (x, y) or class folders."""
    specs = [DataSpec(t.name.split(":")[0], tuple(t.shape), "float32") for t in model.inputs]
    inputs, labels, _ = load_labelled(source, specs, scale=opts.scale, offset=opts.offset)
    if labels is None:
        raise DatasetError(
            f"{source}: {what} must be labelled: an .npz with x and y arrays, or a folder of class folders"
        )
    classes = int(model.outputs[0].shape[-1] or 0)
    if classes > 1 and int(labels.max()) >= classes:
        raise DatasetError(f"{source}: label {int(labels.max())} is out of range for a model with {classes} outputs")
    return {s.name: np.asarray(inputs[s.name], np.float32) for s in specs}, labels


def training_data(source: DataSource, model: KerasModel, opts: TrainOptions) -> TrainData:
    """Load labelled training data for ``model`` (a tf-keras model) and pick the loss."""
    x, y = labelled_arrays(source, model, opts, "training data")
    tfk = tf_keras_module()
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


def fine_tune(
    model: KerasModel, data: TrainData, opts: TrainOptions, label: str, callbacks: list[KerasCallback] | None = None
) -> list[dict[str, float]]:
    """Compile ``model`` with Adam(opts.lr) and the data's loss, train, log one line per epoch on stderr."""
    tf, tfk = import_tf(), tf_keras_module()
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


def _epoch_logger(tfk: ModuleType, label: str, epochs: int) -> KerasCallback:
    callback: type[KerasCallback] = tfk.callbacks.Callback  # the base class of the Keras flavour in use

    class EpochLog(callback):
        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.started = time.monotonic()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            values = ", ".join(f"{k} {v:.4f}" for k, v in (logs or {}).items())
            seconds = time.monotonic() - self.started
            logger.info("%s epoch %d/%d: %s (%.1f s)", label, epoch + 1, epochs, values, seconds)

    return EpochLog()
