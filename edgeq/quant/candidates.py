"""Candidates of QAT and compression: convert them, measure their accuracy, write the chosen one with its report.

:func:`convert_bytes` converts into a temporary folder, :func:`accuracies`
measures float Keras and int8 .tflite top-1 accuracy on labelled data, and
:func:`write_report` writes OUT.tflite and OUT.json together.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from edgeq.convert import convert
from edgeq.convert.fidelity import ordered_inputs
from edgeq.convert.options import ConvertOptions
from edgeq.convert.report import ConversionReport
from edgeq.convert.writer import report_path
from edgeq.litert import Runner
from edgeq.log import logger, quiet
from edgeq.metrics import top1_accuracy
from edgeq.outputs import atomic_write_many
from edgeq.qtypes import DataSource
from edgeq.quant.training import TrainOptions, labelled_arrays
from edgeq.tfimport import KerasModel, ModelSource, import_tf


def convert_bytes(
    model: ModelSource, data: DataSource | dict[str, np.ndarray] | None, opts: ConvertOptions
) -> tuple[ConversionReport, bytes]:
    """:func:`edgeq.convert.convert` into a temporary folder; return its report and the model bytes.

    ``data`` is any representative data source, or {input name: (N, ...) array}.
    """
    if isinstance(data, dict):
        arrays = list(data.values())
        data = arrays[0] if len(arrays) == 1 else (lambda: list(zip(*arrays)))
    with tempfile.TemporaryDirectory(prefix="edgeq-") as tmp:
        out = Path(tmp) / "model.tflite"
        report = convert(model, data, out, opts)
        return report, out.read_bytes()


def float_tflite_size(model: KerasModel) -> int | None:
    """Bytes of the plain float32 .tflite of a Keras model (None if it does not convert)."""
    tf = import_tf()
    try:
        with quiet():
            return len(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    except Exception as exc:  # noqa: BLE001 - only a size for the report
        logger.debug("no float reference size: %s", exc)
        return None


def write_report(output: Path, model_bytes: bytes, report: dict[str, Any]) -> None:
    """Write OUT.tflite and OUT.json together (staged, then renamed)."""
    text = json.dumps(report, indent=2, default=str) + "\n"
    atomic_write_many([(output, model_bytes), (report_path(output), text.encode())])


def keras_accuracy(model: KerasModel, inputs: dict[str, np.ndarray], labels: np.ndarray) -> float:
    """Top-1 accuracy of a Keras model."""
    arrays = list(inputs.values())
    with quiet():
        out = model.predict(arrays if len(arrays) > 1 else arrays[0], batch_size=256, verbose=0)
    out = np.asarray(out[0] if isinstance(out, list) else out)
    return top1_accuracy(out.reshape(len(labels), -1), labels)


def tflite_accuracy(model_bytes: bytes, inputs: dict[str, np.ndarray], labels: np.ndarray) -> float:
    """Top-1 accuracy of a .tflite run with LiteRT, one sample at a time."""
    with quiet():
        runner = Runner(model_bytes)
    names = list(inputs)
    order = ordered_inputs(runner, names)
    outputs = [runner.run_float([inputs[names[j]][i : i + 1] for j in order])[0] for i in range(len(labels))]
    return top1_accuracy(np.stack(outputs), labels)


def accuracies(
    float_model: KerasModel, candidates: dict[str, bytes], eval_data: DataSource, opts: TrainOptions
) -> dict[str, Any]:
    """{"float": Keras accuracy, name: .tflite accuracy for each candidate, "samples", "data"} on labelled data."""
    inputs, labels = labelled_arrays(eval_data, float_model, opts, "evaluation data")
    result: dict[str, Any] = {"data": str(eval_data), "samples": int(len(labels))}
    result["float"] = round(keras_accuracy(float_model, inputs, labels), 5)
    for name, model_bytes in candidates.items():
        result[name] = round(tflite_accuracy(model_bytes, inputs, labels), 5)
        logger.info("accuracy %s: %.2f %% (float %.2f %%)", name, 100 * result[name], 100 * result["float"])
    return result
