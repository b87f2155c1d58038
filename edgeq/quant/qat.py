"""Quantization-aware training (QAT) with tensorflow-model-optimization (tfmot).

tfmot works on Keras 2 models: :func:`edgeq.quant.tfkeras.to_tf_keras` loads or
rebuilds the model in tf-keras. :func:`quantize_aware` wraps it with
fake-quant ops (``quantize_model``) and fine-tunes it on labelled data
(:mod:`edgeq.quant.training`); :func:`qat` then converts it with
:func:`edgeq.convert.convert` (the converter uses the ranges the fake-quant ops
learned) and writes OUT.tflite and OUT.json atomically, with float / PTQ int8 /
QAT int8 accuracies when evaluation data is given (:mod:`edgeq.quant.candidates`).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from edgeq.convert import ConvertOptions
from edgeq.convert.report import ConversionReport
from edgeq.errors import UnsupportedError
from edgeq.log import quiet
from edgeq.qtypes import DataSource
from edgeq.quant.candidates import accuracies, convert_bytes, float_tflite_size, write_report
from edgeq.quant.tfkeras import import_tfmot, to_tf_keras
from edgeq.quant.training import TrainOptions, fine_tune, training_data
from edgeq.tfimport import KerasModel, ModelSource


def quantize_aware(model: ModelSource, train_data: DataSource, options: TrainOptions | None = None) -> KerasModel:
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


def quantize_wrap(tfmot: ModuleType, model: KerasModel) -> KerasModel:
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
    model: ModelSource,
    train_data: DataSource,
    output: str | Path,
    *,
    eval_data: DataSource | None = None,
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
