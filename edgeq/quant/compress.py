"""Weight clustering and pruning (tensorflow-model-optimization), then the normal int8 conversion.

Clustering shares K values per layer kernel and pruning zeroes the smallest
weights; neither shrinks the plain .tflite (int8 weights stay one byte each),
but both make it compress far better, so reports give the gzip size next to
the plain size (:func:`gzip_size`). Both work on tf-keras models
(:func:`edgeq.quant.tfkeras.to_tf_keras`), fine-tune when labelled training data is
given, strip the tfmot wrappers and return plain tf-keras models. The shared
conversion, accuracy and report-writing helpers live in :mod:`edgeq.quant.candidates`.
"""

from __future__ import annotations

import gzip
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from edgeq.convert.options import ConvertOptions
from edgeq.convert.report import ConversionReport
from edgeq.errors import UsageError
from edgeq.log import logger, quiet
from edgeq.qtypes import DataSource
from edgeq.quant.candidates import accuracies, convert_bytes, write_report
from edgeq.quant.tfkeras import import_tfmot, tf_keras_module, to_tf_keras
from edgeq.quant.training import TrainData, TrainOptions, fine_tune
from edgeq.quant.training import training_data as load_training
from edgeq.tfimport import KerasLayer, KerasModel, ModelSource, TFSchedule

CENTROID_INITS = {"kmeans++": "KMEANS_PLUS_PLUS", "linear": "LINEAR", "density": "DENSITY_BASED", "random": "RANDOM"}
SCHEDULES = ("polynomial", "constant")
KERNELS = ("kernel", "depthwise_kernel")


def gzip_size(data: bytes) -> int:
    """Bytes of ``data`` after gzip at level 9 (no timestamp): what a compressed download or flash image costs."""
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def kernel_stats(model: KerasModel) -> dict[str, dict[str, Any]]:
    """{layer: {"kind", "weights", "unique", "sparsity"}} for each kernel or depthwise_kernel of a Keras model."""
    stats = {}
    for layer in model.layers:
        for weight in layer.weights:
            kind = weight.name.split("/")[-1].split(":")[0]
            if kind in KERNELS:
                values = np.asarray(weight.numpy())
                stats[layer.name] = {
                    "kind": kind,
                    "weights": int(values.size),
                    "unique": int(np.unique(values).size),
                    "sparsity": round(float(np.mean(values == 0)), 4),
                }
    return stats


def _train(train_data: DataSource | TrainData | None, model: KerasModel, opts: TrainOptions) -> TrainData | None:
    if train_data is None or isinstance(train_data, TrainData):
        return train_data
    return load_training(train_data, model, opts)


def _fresh(model: ModelSource) -> KerasModel:
    """A tf-keras copy of ``model`` (tfmot wrappers modify the layers they wrap)."""
    base = to_tf_keras(model)
    with quiet():
        copy = tf_keras_module().models.clone_model(base)
        copy.set_weights(base.get_weights())
    return copy


def cluster_model(
    model: ModelSource,
    k: int,
    train_data: DataSource | TrainData | None = None,
    epochs: int = 2,
    *,
    init: str = "kmeans++",
    options: TrainOptions | None = None,
    preserve_sparsity: bool = False,
) -> KerasModel:
    """Cluster each supported kernel (Conv2D, Dense) to ``k`` shared values; fine-tune if data is given.

    Args:
        model: path or Keras model (Keras 3 models are rebuilt in tf-keras).
        k: clusters per kernel, at least 2 (3 with ``preserve_sparsity``).
        train_data: labelled data (path or :class:`TrainData`) to fine-tune the centroids on, or None.
        epochs: fine-tuning epochs (ignored without data).
        init: centroid initialisation, one of :data:`CENTROID_INITS`.
        options: learning rate, batch size, loss, seed (its ``epochs`` is replaced by ``epochs``).
        preserve_sparsity: keep pruned zeros at zero (cluster after :func:`prune_model`).

    Returns:
        A plain tf-keras model (clustering wrappers stripped).
    """
    if k < 2 or (preserve_sparsity and k < 3):
        raise UsageError(f"--cluster {k}: give at least {3 if preserve_sparsity else 2} clusters per layer")
    if init not in CENTROID_INITS:
        raise UsageError(f"--cluster-init {init!r} is not one of {', '.join(CENTROID_INITS)}")
    clustering = import_tfmot().clustering.keras
    base = _fresh(model)
    opts = replace(options or TrainOptions(), epochs=epochs)
    init_value = getattr(clustering.CentroidInitialization, CENTROID_INITS[init])
    params = {"number_of_clusters": k, "cluster_centroids_init": init_value, "preserve_sparsity": preserve_sparsity}
    with quiet():
        wrapped = tf_keras_module().models.clone_model(base, clone_function=lambda layer: _cluster_layer(layer, params))
    data = _train(train_data, base, opts)
    if data is not None:
        fine_tune(wrapped, data, opts, f"clustering (k={k})")
    with quiet():
        return clustering.strip_clustering(wrapped)


def _cluster_layer(layer: KerasLayer, params: dict[str, Any]) -> KerasLayer:
    """The layer wrapped for clustering, or itself: layers tfmot does not cluster, kernels with <= k weights."""
    kernel = getattr(layer, "kernel", None)
    if kernel is None or int(np.prod(kernel.shape)) <= params["number_of_clusters"]:
        return layer
    try:
        return import_tfmot().clustering.keras.cluster_weights(layer, **params)
    except ValueError as exc:  # a layer type tfmot's clustering registry does not know
        logger.debug("layer %s is not clustered: %s", layer.name, exc)
        return layer


def prune_model(
    model: ModelSource,
    sparsity: float,
    train_data: DataSource | TrainData | None = None,
    epochs: int = 2,
    *,
    schedule: str = "polynomial",
    options: TrainOptions | None = None,
) -> KerasModel:
    """Zero the smallest-magnitude weights of each supported kernel (Conv2D, Dense) to ``sparsity``.

    With training data, tfmot's ``prune_low_magnitude`` ramps sparsity up
    (``polynomial``: from 0 over the first 70 % of steps; ``constant``: at once)
    while fine-tuning; without, the kernels are pruned once by magnitude.

    Returns:
        A plain tf-keras model (pruning wrappers stripped).
    """
    if not 0.0 < sparsity < 1.0:
        raise UsageError(f"--prune {sparsity}: sparsity must be between 0 and 1 (exclusive), e.g. 0.5")
    if schedule not in SCHEDULES:
        raise UsageError(f"--prune-schedule {schedule!r} is not one of {', '.join(SCHEDULES)}")
    sparse = import_tfmot().sparsity.keras
    base = _fresh(model)
    opts = replace(options or TrainOptions(), epochs=epochs)
    data = _train(train_data, base, opts)
    steps = opts.epochs * -(-data.count // opts.batch_size) if data is not None else 1
    with quiet():
        wrapped = sparse.prune_low_magnitude(base, pruning_schedule=_schedule(sparse, sparsity, schedule, steps))
    if data is None:
        _prune_once(wrapped, sparsity)
    else:
        fine_tune(wrapped, data, opts, f"pruning ({sparsity:.0%})", [sparse.UpdatePruningStep()])
    with quiet():
        return sparse.strip_pruning(wrapped)


def _schedule(sparse: ModuleType, target: float, kind: str, steps: int) -> TFSchedule:
    if kind == "constant":
        return sparse.ConstantSparsity(target, begin_step=0, frequency=1)
    ramp = max(1, int(0.7 * steps))
    frequency = max(1, ramp // 10)
    return sparse.PolynomialDecay(
        0.0, target, begin_step=0, end_step=frequency * (ramp // frequency), frequency=frequency
    )


def _prune_once(wrapped: KerasModel, target: float) -> None:
    """Zero the ``target`` fraction of smallest-magnitude weights of each wrapped kernel (no training data)."""
    for layer in wrapped.layers:
        for weight in layer.layer.get_prunable_weights() if hasattr(layer, "pruning_schedule") else []:
            values = weight.numpy()
            order = np.argsort(np.abs(values), axis=None, kind="stable")[: int(round(target * values.size))]
            pruned = values.reshape(-1).copy()
            pruned[order] = 0.0
            weight.assign(pruned.reshape(values.shape))


@dataclass(frozen=True)
class CompressOptions:
    """Clustering and/or pruning before ``edgeq convert`` (see :func:`convert_compressed`).

    Attributes:
        cluster: clusters per kernel (K >= 2), or None.
        cluster_init: centroid initialisation (kmeans++, linear, density, random).
        prune: target sparsity in (0, 1), or None. With both, pruning runs first
            and clustering keeps the zeros (sparsity-preserving clustering).
        schedule: pruning schedule with training data: polynomial or constant.
        train_data: labelled data to fine-tune on (None: one-shot, no training).
        eval_data: labelled data for float / int8 / compressed int8 accuracy.
        train: fine-tuning options (epochs default 2).
    """

    cluster: int | None = None
    cluster_init: str = "kmeans++"
    prune: float | None = None
    schedule: str = "polynomial"
    train_data: DataSource | TrainData | None = None
    eval_data: DataSource | None = None
    train: TrainOptions = field(default_factory=lambda: TrainOptions(epochs=2))

    def __post_init__(self) -> None:
        if self.cluster is None and self.prune is None:
            raise UsageError("give --cluster K and/or --prune SPARSITY")
        if self.cluster is not None and (self.cluster < 2 or (self.prune is not None and self.cluster < 3)):
            raise UsageError(f"--cluster {self.cluster}: give at least {2 if self.prune is None else 3} clusters")
        if self.prune is not None and not 0.0 < self.prune < 1.0:
            raise UsageError(f"--prune {self.prune}: sparsity must be between 0 and 1 (exclusive), e.g. 0.5")
        if self.cluster_init not in CENTROID_INITS:
            raise UsageError(f"--cluster-init {self.cluster_init!r} is not one of {', '.join(CENTROID_INITS)}")
        if self.schedule not in SCHEDULES:
            raise UsageError(f"--prune-schedule {self.schedule!r} is not one of {', '.join(SCHEDULES)}")


@dataclass(frozen=True)
class CompressionReport:
    """The conversion report of the compressed model plus sizes, kernel statistics and accuracies."""

    conversion: ConversionReport
    compression: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {**self.conversion.to_dict(), "compression": self.compression}


def compress_model(model: ModelSource, options: CompressOptions) -> KerasModel:
    """Prune and/or cluster ``model`` as ``options`` say; returns a plain tf-keras model."""
    opts = options.train
    data = _train(options.train_data, to_tf_keras(model), opts)
    if options.prune is not None:
        model = prune_model(model, options.prune, data, opts.epochs, schedule=options.schedule, options=opts)
    if options.cluster is not None:
        preserve = options.prune is not None
        model = cluster_model(
            model,
            options.cluster,
            data,
            opts.epochs,
            init=options.cluster_init,
            options=opts,
            preserve_sparsity=preserve,
        )
    return model


def convert_compressed(
    model: ModelSource,
    data: DataSource | None,
    output: str | Path,
    convert_options: ConvertOptions,
    options: CompressOptions,
) -> CompressionReport:
    """Convert ``model`` plain and compressed; write the compressed one with a report comparing both.

    The report's "compression" section has the plain and gzip sizes of both
    int8 models, per-kernel unique values and sparsity, and (with
    ``eval_data``) float, int8 and compressed int8 accuracy.
    """
    started = time.monotonic()
    base = to_tf_keras(model)
    _, plain_bytes = convert_bytes(base, data, convert_options)
    compressed = compress_model(base, options)
    conversion, model_bytes = convert_bytes(compressed, data, convert_options)
    section: dict[str, Any] = {"cluster": options.cluster, "prune": options.prune}
    section["fine_tuned_on"] = None if options.train_data is None else str(options.train_data)
    section["bytes"] = {"plain": len(model_bytes), "gzip": gzip_size(model_bytes)}
    section["uncompressed_bytes"] = {"plain": len(plain_bytes), "gzip": gzip_size(plain_bytes)}
    section["gzip_ratio"] = round(section["bytes"]["gzip"] / section["uncompressed_bytes"]["gzip"], 4)
    section["kernels"] = kernel_stats(compressed)
    if options.eval_data is not None:
        candidates = {"int8": plain_bytes, "compressed_int8": model_bytes}
        section["accuracy"] = accuracies(base, candidates, options.eval_data, options.train)
    section["seconds"] = round(time.monotonic() - started, 3)
    report = CompressionReport(replace(conversion, output=str(output)), section)
    write_report(Path(output), model_bytes, report.to_dict())
    return report
