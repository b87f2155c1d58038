"""Drive ``tf.lite.TFLiteConverter`` for each quantization mode.

The quantized conversion records the float flatbuffer the converter builds on
its way (the input of its quantization step), so the report gets a float
reference size and the fidelity check a float model without a second
conversion. Modes without a calibration step convert the float model once more.

Calibration methods other than TFLite's min/max hook the same step
(:func:`install_recalibration`): calibrate only, let edgeq rewrite the recorded
ranges, then quantize with the converter's MLIR quantizer and its own settings.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import numpy as np

from edgeq.convert.loader import LoadedModel
from edgeq.convert.options import ConvertOptions
from edgeq.data import Dataset
from edgeq.errors import ConversionError, EdgeqError
from edgeq.log import logger, progress, quiet
from edgeq.procs import raise_if_terminated
from edgeq.qtypes import IOType, QuantMode
from edgeq.tfimport import TFLiteConverter


def new_converter(tf: ModuleType, model: LoadedModel) -> TFLiteConverter:
    """A converter for ``model`` with no options set."""
    with quiet():
        if model.keras_model is not None:
            return tf.lite.TFLiteConverter.from_keras_model(model.keras_model)
        keys = [model.signature_key] if model.signature_key else None
        return tf.lite.TFLiteConverter.from_saved_model(model.source, signature_keys=keys)


def configure(
    tf: ModuleType, converter: TFLiteConverter, opts: ConvertOptions, data: Dataset | None, model: LoadedModel
) -> None:
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
    converter.inference_input_type = io_dtype[opts.io_type]
    converter.inference_output_type = io_dtype[opts.io_type]
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


def run(
    converter: TFLiteConverter, record_float: bool, rewrite: Callable[[bytes], bytes] | None = None
) -> tuple[bytes, bytes | None]:
    """Convert; return (model bytes, float flatbuffer seen before quantization or None).

    ``rewrite``, when given, receives the calibrated float flatbuffer and
    returns it with new activation ranges (see :func:`install_recalibration`).
    """
    captured: dict[str, bytes] = {}
    if rewrite is not None:
        install_recalibration(converter, rewrite, captured)
    elif record_float and hasattr(converter, "_quantize"):
        original = converter._quantize

        def recording(model: Any, *args: Any, **kwargs: Any) -> Any:
            captured["float"] = bytes(model)
            return original(model, *args, **kwargs)

        converter._quantize = recording
    try:
        with quiet():
            result = converter.convert()
    except EdgeqError:
        raise
    except Exception as exc:  # noqa: BLE001 - the converter raises many types
        raise_if_terminated()  # SIGTERM inside the converter's callbacks comes back as another error
        raise ConversionError(f"the TFLite converter failed: {_summary(exc)}{_hint(exc)}") from exc
    return bytes(result), captured.get("float")


RNN_HINT = (
    "; a recurrent layer (LSTM, GRU, SimpleRNN) kept its loop over time steps, which the converter rejects: "
    "build it with unroll=True, e.g. LSTM(..., unroll=True), on an input of fixed sequence length "
    "(keras.Input((steps, features))), or build the LSTM with tf-keras (tf_keras.layers.LSTM), which converts "
    "to one UNIDIRECTIONAL_SEQUENCE_LSTM op, and convert again"
)


def looping_recurrent_layers(model: LoadedModel) -> list[str]:
    """Keras 3 recurrent layers that keep their time loop (``unroll=False``), as "name (Class)".

    TensorFlow's converter turns such a layer into a WHILE loop over tensor
    lists; its integer calibration fails on that loop, and with a fixed batch
    size it crashes the process. tf-keras LSTMs are not listed: they convert to
    the fused UNIDIRECTIONAL_SEQUENCE_LSTM op.
    """
    if model.keras_flavour != "keras3" or model.keras_model is None:
        return []
    import keras

    found: list[str] = []
    pending = list(getattr(model.keras_model, "layers", []))
    while pending:
        layer = pending.pop(0)
        if isinstance(layer, keras.layers.RNN) and not getattr(layer, "unroll", True):
            found.append(f"{layer.name} ({type(layer).__name__})")
        pending.extend(getattr(layer, "layers", []))  # nested models
        pending.extend(w for w in (getattr(layer, "forward_layer", None), getattr(layer, "backward_layer", None)) if w)
    return found


def _hint(exc: BaseException) -> str:
    """What to change in the model for converter failures with a known cause."""
    text = str(exc)
    if "TensorList" in text or "TensorArray" in text:
        return RNN_HINT
    return ""


_INTERNALS_HINT = "this TensorFlow release changed converter internals edgeq relies on; use --calibration minmax"


def install_recalibration(
    converter: TFLiteConverter, rewrite: Callable[[bytes], bytes], captured: dict[str, bytes]
) -> None:
    """Make the converter calibrate, pass the calibrated model through ``rewrite``, then quantize.

    Relies on three TFLiteConverter internals (TF 2.x, checked with 2.21):
    ``_quantize(model, input_type, output_type, activations_type, ...)``, the
    ``_experimental_calibrate_only`` flag that makes it return the calibrated
    float flatbuffer, and ``lite._mlir_quantize``, the call ``_quantize`` makes
    for int8 activations, repeated here with the same arguments.
    """
    from tensorflow.lite.python import lite

    original = getattr(converter, "_quantize", None)
    mlir_quantize = getattr(lite, "_mlir_quantize", None)
    if original is None or mlir_quantize is None or not hasattr(converter, "_experimental_calibrate_only"):
        raise ConversionError(_INTERNALS_HINT)
    signature = inspect.signature(original)

    def quantize(model: Any, *args: Any, **kwargs: Any) -> Any:
        captured["float"] = bytes(model)
        settings = _quantize_kwargs(converter, signature, (model, *args), kwargs)
        converter._experimental_calibrate_only = True
        try:
            calibrated = original(model, *args, **kwargs)
        finally:
            converter._experimental_calibrate_only = False
        return mlir_quantize(rewrite(bytes(calibrated)), **settings)

    converter._quantize = quantize


def _quantize_kwargs(
    converter: TFLiteConverter, signature: inspect.Signature, args: tuple, kwargs: dict
) -> dict[str, Any]:
    """The arguments ``TFLiteConverterBase._quantize`` passes to ``_mlir_quantize`` for int8 activations."""
    try:
        call = signature.bind(*args, **kwargs).arguments
        if str(getattr(call["activations_type"], "name", call["activations_type"])) != "int8":
            raise ConversionError("calibration methods other than minmax need int8 activations (--mode int8)")
        dense = converter._experimental_disable_per_channel_quantization_for_dense_layers
        return {
            "disable_per_channel": converter._experimental_disable_per_channel,
            "input_data_type": call["input_type"],
            "output_data_type": call["output_type"],
            "enable_variable_quantization": call["enable_variable_quantization"],
            "disable_per_channel_for_dense_layers": dense,
            "debug_options_str": call["debug_options"].SerializeToString(),
        }
    except (KeyError, TypeError, AttributeError) as exc:
        raise ConversionError(f"{_INTERNALS_HINT} ({exc})") from exc


def convert_float(tf: ModuleType, model: LoadedModel) -> bytes:
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
