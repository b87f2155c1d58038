"""Drive ``tf.lite.TFLiteConverter`` for each quantization mode.

The quantized conversion records the float flatbuffer the converter builds on
its way (the input of its quantization step), so the report gets a float
reference size and the fidelity check a float model without a second
conversion. Modes without a calibration step convert the float model once more.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from edgeq.convert.loader import LoadedModel
from edgeq.convert.options import ConvertOptions
from edgeq.convert.tfenv import quiet
from edgeq.data import Dataset
from edgeq.errors import ConversionError
from edgeq.log import logger, progress
from edgeq.qtypes import IOType, QuantMode


def new_converter(tf: Any, model: LoadedModel) -> Any:
    """A converter for ``model`` with no options set."""
    with quiet():
        if model.keras_model is not None:
            return tf.lite.TFLiteConverter.from_keras_model(model.keras_model)
        keys = [model.signature_key] if model.signature_key else None
        return tf.lite.TFLiteConverter.from_saved_model(model.source, signature_keys=keys)


def configure(tf: Any, converter: Any, opts: ConvertOptions, data: Dataset | None, model: LoadedModel) -> None:
    """Set optimizations, op sets, I/O types and the representative dataset."""
    ops = tf.lite.OpsSet
    if opts.mode is QuantMode.FLOAT16:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
        return
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if opts.mode is QuantMode.DYNAMIC:
        return
    integer = ops.TFLITE_BUILTINS_INT8
    if opts.mode is QuantMode.INT16X8:
        integer = ops.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8
    # Float builtins stay allowed so a failing op can be named; edgeq then checks the result.
    converter.target_spec.supported_ops = [integer, ops.TFLITE_BUILTINS]
    io_dtype = {
        IOType.INT8: tf.int8,
        IOType.UINT8: tf.uint8,
        IOType.INT16: tf.int16,
        IOType.FLOAT32: tf.float32,
    }
    converter.inference_input_type = io_dtype[opts.io]
    converter.inference_output_type = io_dtype[opts.io]
    converter.representative_dataset = _representative(data, model)


def _representative(data: Dataset | None, model: LoadedModel) -> Any:
    if data is None:
        raise ConversionError("this mode needs representative data: pass -d DATA")
    by_name = True  # signature inputs are fed by name: TFLite may order inputs differently

    def generate() -> Iterator[Any]:
        for sample in progress(data.samples(), data.count, "calibrating"):
            if by_name:
                yield {name: value for name, value in sample.items()}
            else:
                yield [sample[spec.name] for spec in model.inputs]

    return generate


def run(converter: Any, record_float: bool) -> tuple[bytes, bytes | None]:
    """Convert; return (model bytes, float flatbuffer seen before quantization or None)."""
    captured: dict[str, bytes] = {}
    if record_float and hasattr(converter, "_quantize"):
        original = converter._quantize

        def recording(model: Any, *args: Any, **kwargs: Any) -> Any:
            captured["float"] = bytes(model)
            return original(model, *args, **kwargs)

        converter._quantize = recording
    try:
        with quiet():
            result = converter.convert()
    except Exception as exc:  # noqa: BLE001 - the converter raises many types
        raise ConversionError(f"the TFLite converter failed: {_summary(exc)}") from exc
    return bytes(result), captured.get("float")


def convert_float(tf: Any, model: LoadedModel) -> bytes:
    """The plain float32 conversion (no optimizations)."""
    converter = new_converter(tf, model)
    return run(converter, record_float=False)[0]


def _summary(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    interesting = [ln for ln in lines if "error:" in ln.lower()] or lines or [type(exc).__name__]
    text = interesting[0]
    if "error:" in text:
        text = text[text.lower().index("error:") + 6 :].strip()
    logger.debug("converter error in full: %s", exc)
    return text[:400] + " (run with -v for the converter's full log)"


def as_float_arrays(data: Dataset, limit: int) -> list[list[np.ndarray]]:
    """Up to ``limit`` samples as lists of batch-1 arrays in input order."""
    names = list(data.arrays)
    n = min(limit, data.count)
    return [[data.arrays[name][i : i + 1] for name in names] for i in range(n)]
