"""The conversion pipeline: check paths -> load -> data -> convert -> validate -> compare."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from edgeq.calibration.recalibrate import CalibrationSummary, recalibrate
from edgeq.convert import converter as conv
from edgeq.convert.datacheck import bin_input_warning, range_warning
from edgeq.convert.fidelity import check_fidelity
from edgeq.convert.int4 import convert_int4, quantizer_version
from edgeq.convert.loader import LoadedModel, load_model
from edgeq.convert.options import ConvertOptions
from edgeq.convert.report import ConversionReport, find_float_ops, io_tensors, ops_by_type
from edgeq.data import Dataset, load_dataset
from edgeq.data.files import check_data_path
from edgeq.errors import ConversionError, EdgeqError
from edgeq.log import logger
from edgeq.model import Graph, read_model
from edgeq.model.io import model_inputs, model_outputs
from edgeq.qtypes import DataSource, QuantMode
from edgeq.tfimport import ModelSource, import_tf


@dataclass(frozen=True)
class PipelineResult:
    """Bytes and facts gathered by one conversion."""

    options: ConvertOptions
    loaded: LoadedModel
    dataset: Dataset | None
    model_bytes: bytes
    float_bytes: bytes | None
    graph: Graph
    fidelity: dict[str, Any] | None
    calibration: CalibrationSummary | None = None
    notes: tuple[str, ...] = ()
    weights: dict[str, Any] | None = None

    def report(self, output: str | Path, seconds: float) -> ConversionReport:
        g, d, o = self.graph, self.dataset, self.options
        return ConversionReport(
            model=self.loaded.source,
            model_kind=self.loaded.kind,
            output=str(output),
            mode=o.mode.value,
            io=o.io_type.value,
            float_tflite_bytes=len(self.float_bytes) if self.float_bytes else None,
            output_bytes=len(self.model_bytes),
            ops_by_type=ops_by_type(g),
            float_ops=find_float_ops(g, self.loaded.layer_names) if o.mode.needs_data else (),
            inputs=io_tensors(model_inputs(g)),
            outputs=io_tensors(model_outputs(g)),
            samples_used=d.count if d else None,
            samples_requested=o.samples if d else None,
            samples_available=d.available if d else None,
            seed=o.seed,
            data=d.description if d else None,
            seconds=round(seconds, 3),
            fidelity=self.fidelity,
            calibration=self.calibration.to_dict() if self.calibration else None,
            notes=self.notes,
            weights=self.weights,
        )


def run_pipeline(model: ModelSource, data: DataSource | None, opts: ConvertOptions) -> PipelineResult:
    """Convert ``model`` with ``opts``; raises EdgeqError subclasses on user errors.

    Warnings (implausible data, a check on calibration samples, .bin files in
    another quantization than the result's input) are logged and kept as notes.
    """
    check_data_path(data, bins_only=opts.bin_format is not None)
    if opts.weights == "int4":
        quantizer_version()  # the optional quantizer is there before anything is loaded
    loaded = load_model(model)
    _check_recurrent_layers(loaded, opts)
    tf = import_tf()
    logger.info("loaded %s (%s, inputs %s)", loaded.source, loaded.kind, _specs_text(loaded))
    dataset = _dataset(data, loaded, opts)
    notes = [_warn(range_warning(loaded, dataset.arrays))] if dataset is not None else []
    if opts.weights == "int4" and dataset is not None:
        return _int4(tf, loaded, dataset, opts, notes)
    converter = conv.new_converter(tf, loaded)
    conv.configure(tf, converter, opts, dataset, loaded)
    calibrated_by = f" (calibration: {opts.range_rule.describe()})" if opts.mode is QuantMode.INT8 else ""
    logger.info("converting to %s%s ...", opts.mode.value, calibrated_by)
    calibration: dict[str, CalibrationSummary] = {}
    rewrite = _recalibration(dataset, opts, calibration)
    model_bytes, float_bytes = conv.run(converter, record_float=opts.mode.needs_data, rewrite=rewrite)
    if float_bytes is None:
        float_bytes = _float_reference(tf, loaded)
    graph = _validate(model_bytes)
    notes.append(_warn(bin_input_warning(opts.bin_format, graph)))
    fidelity = _fidelity(float_bytes, model_bytes, dataset, opts, notes)
    summary = calibration.get("summary") or _default_calibration(dataset, opts)
    kept = tuple(n for n in notes if n)
    return PipelineResult(opts, loaded, dataset, model_bytes, float_bytes, graph, fidelity, summary, kept)


def _int4(tf: ModuleType, loaded: LoadedModel, dataset: Dataset, opts: ConvertOptions, notes: list) -> PipelineResult:
    """``--weights int4``: the AI Edge Quantizer instead of TFLite's converter, then the same checks."""
    model_bytes, float_bytes, weights = convert_int4(tf, loaded, dataset)
    graph = _validate(model_bytes)
    fidelity = _fidelity(float_bytes, model_bytes, dataset, opts, notes)
    kept = tuple(n for n in notes if n)
    return PipelineResult(opts, loaded, dataset, model_bytes, float_bytes, graph, fidelity, None, kept, weights)


def _check_recurrent_layers(loaded: LoadedModel, opts: ConvertOptions) -> None:
    """Refuse, before calibration, the Keras 3 recurrent loops the integer converter cannot quantize."""
    if not opts.mode.needs_data:
        return
    if looping := conv.looping_recurrent_layers(loaded):
        raise ConversionError(
            f"{', '.join(looping)} keeps its loop over time steps (unroll=False), which TensorFlow cannot "
            f"quantize to {opts.mode.value}: build it with unroll=True on an input of fixed sequence length, "
            "or with tf-keras (tf_keras.layers.LSTM, one fused LSTM op), and convert again"
        )


def _warn(message: str | None) -> str | None:
    if message:
        logger.warning("%s", message)
    return message


def _recalibration(
    dataset: Dataset | None, opts: ConvertOptions, into: dict[str, CalibrationSummary]
) -> Callable[[bytes], bytes] | None:
    """The hook that rewrites the calibrated ranges, or None for TFLite's own min/max."""
    rule = opts.range_rule
    if rule.is_default or dataset is None:
        return None

    def rewrite(calibrated: bytes) -> bytes:
        new_bytes, into["summary"] = recalibrate(calibrated, dataset.arrays, rule)
        return new_bytes

    return rewrite


def _default_calibration(dataset: Dataset | None, opts: ConvertOptions) -> CalibrationSummary | None:
    if opts.mode is not QuantMode.INT8 or dataset is None:
        return None
    return CalibrationSummary("minmax", None, False, dataset.count)


def _dataset(data: DataSource | None, loaded: LoadedModel, opts: ConvertOptions) -> Dataset | None:
    if data is None:
        if opts.mode.needs_data:
            raise ConversionError(
                f"--mode {opts.mode.value} calibrates activations: pass representative data with -d DATA"
            )
        return None
    dataset = load_dataset(
        data,
        loaded.inputs,
        samples=opts.samples,
        seed=opts.seed,
        scale=opts.scale,
        offset=opts.offset,
        held_out=opts.check_samples,
        bin_format=opts.bin_format,
    )
    logger.info("calibration data: %d samples from %s", dataset.count, dataset.description)
    return dataset


def _float_reference(tf: ModuleType, loaded: LoadedModel) -> bytes | None:
    try:
        return conv.convert_float(tf, loaded)
    except EdgeqError as exc:
        logger.warning("warning: no float reference model (%s)", exc)
        return None


def _validate(model_bytes: bytes) -> Graph:
    try:
        return read_model(model_bytes)
    except EdgeqError as exc:
        raise ConversionError(f"the converter produced an unreadable model: {exc}") from exc


def _fidelity(
    float_bytes: bytes | None, model_bytes: bytes, dataset: Dataset | None, opts: ConvertOptions, notes: list
) -> dict[str, Any] | None:
    """The float-vs-quantized check on held-out samples, or on calibration samples (with a warning)."""
    if float_bytes is None or dataset is None or opts.check_samples == 0:
        return None
    held_out = bool(dataset.held_out)
    if not held_out:
        notes.append(
            _warn(
                f"warning: the float-vs-quantized check runs on calibration samples ({dataset.description} has "
                f"{dataset.available}, all used for calibration), the data the quantizer was fitted to; give "
                "more samples than --samples for a check on held-out ones"
            )
        )
    samples, indices = (dataset.held_out, dataset.held_out_indices) if held_out else (dataset.arrays, dataset.indices)
    try:
        metrics = check_fidelity(float_bytes, model_bytes, samples, opts.check_samples)
    except Exception as exc:  # noqa: BLE001 - a failed check must not lose the conversion
        logger.warning("warning: could not compare against the float model: %s", exc)
        return None
    if metrics is not None:
        metrics["held_out"] = held_out
        metrics["sample_indices"] = list(indices[: int(metrics["samples"])])  # type: ignore[call-overload]
    return metrics


def _specs_text(loaded: LoadedModel) -> str:
    return ", ".join(f"{s.name} {s.shape_str()}" for s in loaded.inputs)
