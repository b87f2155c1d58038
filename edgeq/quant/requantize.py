"""Calibrate once, quantize many times: the TFLite quantizer driven step by step.

``TFLiteConverter`` with ``_experimental_calibrate_only`` stops after
calibration and returns the float flatbuffer with each activation's observed
min/max recorded. TensorFlow's MLIR quantizer (``mlir_quantize``, the same pass
``convert()`` runs next) then turns that into the int8 model in a few
milliseconds, and accepts options ``convert()`` does not expose:

- ``denylisted_nodes``: op output tensor names to leave in float (the op runs
  in float between DEQUANTIZE and QUANTIZE);
- ``enable_numeric_verify``: a debug model where every quantized op is paired
  with a float copy fed by the same (dequantized) inputs and a NumericVerify op
  (the engine of ``tf.lite.experimental.QuantizationDebugger``).

With no denylist the result computes the same as ``edgeq convert --mode int8``
(same options, same calibration samples; only the conversion metadata differs).
TensorFlow 2.21 has no per-op int16 route: the int16x8 mode applies to the
whole model and goes through the older quantizer, which has no denylist.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from edgeq.convert import converter as conv
from edgeq.convert.loader import LoadedModel, load_model
from edgeq.convert.options import ConvertOptions
from edgeq.data import DEFAULT_SAMPLES, Dataset, load_dataset
from edgeq.errors import ConversionError
from edgeq.log import logger, quiet
from edgeq.model import Graph
from edgeq.model.graph import computes_in_float
from edgeq.qtypes import DataSource, IOType, QuantMode, parse_enum
from edgeq.tfimport import ModelSource, import_tf

Rewrite = Callable[[bytes, dict[str, np.ndarray]], bytes]
"""(calibrated flatbuffer, calibration arrays by input name) -> flatbuffer with new recorded ranges."""

# Ops that only move or reshape data: keeping them float gains nothing.
DATA_MOVEMENT = frozenset(
    {"RESHAPE", "SQUEEZE", "EXPAND_DIMS", "SHAPE", "STRIDED_SLICE", "PACK", "UNPACK", "GATHER", "SLICE"}
    | {"TRANSPOSE", "CONCATENATION", "QUANTIZE", "DEQUANTIZE", "PAD", "SPLIT", "SPLIT_V"}
)


@dataclass(frozen=True)
class Calibrated:
    """A model calibrated once, ready to be quantized with different options.

    Attributes:
        loaded: the TensorFlow model.
        dataset: the calibration samples.
        calibrated: float flatbuffer with recorded activation ranges.
        float_model: the float flatbuffer the converter built before calibrating.
        io: "int8" or "float32", the dtype of the quantized model's inputs and outputs.
    """

    loaded: LoadedModel
    dataset: Dataset = field(repr=False)
    calibrated: bytes = field(repr=False)
    float_model: bytes = field(repr=False)
    io: str = "int8"

    def quantize(self, float_nodes: Sequence[str] = (), debug: bool = False) -> bytes:
        """The int8 model, with the ops writing ``float_nodes`` kept float (see :func:`quantize`)."""
        return quantize(self.calibrated, float_nodes, io=self.io, debug=debug)


def calibrate(
    model: ModelSource,
    data: DataSource,
    *,
    samples: int | None = DEFAULT_SAMPLES,
    seed: int = 0,
    io: str = "int8",
    scale: float = 1.0 / 255.0,
    offset: float = 0.0,
    rewrite: Rewrite | None = None,
) -> Calibrated:
    """Calibrate ``model`` on ``data`` exactly as ``edgeq convert --mode int8`` does.

    Args:
        model: SavedModel folder, ``.keras``/``.h5`` path or Keras model object.
        data: representative data (see :func:`edgeq.data.load_dataset`).
        samples, seed: the calibration draw (as ``edgeq convert``).
        io: dtype of the quantized model's inputs and outputs, "int8" or "float32".
        scale, offset: image-folder normalisation.
        rewrite: optional ``(calibrated flatbuffer, calibration arrays) -> flatbuffer``,
            e.g. ``lambda m, x: edgeq.calibration.recalibrate.recalibrate(m, x, rule)[0]``
            to choose the recorded ranges with another calibration method.
    """
    tf = import_tf()
    loaded = load_model(model)
    dataset = load_dataset(data, loaded.inputs, samples=samples, seed=seed, scale=scale, offset=offset)
    io_type = None if io is None else parse_enum(IOType, io, "--io")  # as ConvertOptions would parse it
    opts = ConvertOptions(mode=QuantMode.INT8, io=io_type, samples=samples, seed=seed, allow_float_fallback=True)
    converter = conv.new_converter(tf, loaded)
    conv.configure(tf, converter, opts, dataset, loaded)
    converter._experimental_calibrate_only = True
    logger.info("calibrating on %d samples ...", dataset.count)
    calibrated, float_model = conv.run(converter, record_float=True)
    if float_model is None:
        float_model = conv.convert_float(tf, loaded)
    if rewrite is not None:
        calibrated = rewrite(calibrated, dataset.arrays)
    return Calibrated(loaded, dataset, calibrated, float_model, io)


def quantize(calibrated: bytes, float_nodes: Sequence[str] = (), *, io: str = "int8", debug: bool = False) -> bytes:
    """Quantize a calibrated flatbuffer with TensorFlow's MLIR quantizer.

    Args:
        calibrated: the output of a calibrate-only conversion.
        float_nodes: output tensor names of ops to keep in float.
        io: "int8" or "float32" model inputs and outputs.
        debug: add NumericVerify ops comparing each quantized op with a float copy.
    """
    tf = import_tf()
    from tensorflow.lite.python.convert import mlir_quantize

    io_type = {"int8": tf.int8, "float32": tf.float32}[io]
    try:
        with quiet():
            return bytes(
                mlir_quantize(
                    calibrated,
                    input_data_type=io_type,
                    output_data_type=io_type,
                    enable_numeric_verify=debug,
                    denylisted_nodes=list(float_nodes) or None,
                )
            )
    except Exception as exc:  # noqa: BLE001 - the quantizer raises many types
        raise ConversionError(f"the TFLite quantizer failed: {str(exc).strip().splitlines()[0][:300]}") from exc


def float_op_outputs(graph: Graph) -> frozenset[str]:
    """Output tensor names of the ops that compute in float (QUANTIZE/DEQUANTIZE excluded)."""
    return frozenset(
        graph.tensors[op.outputs[0]].name
        for op in graph.operators
        if op.builtin not in ("QUANTIZE", "DEQUANTIZE") and op.outputs and computes_in_float(graph, op)
    )


def compute_ops(graph: Graph) -> list[tuple[int, str, str]]:
    """``(op index, op name, output tensor name)`` of the ops worth keeping float."""
    return [
        (op.index, op.builtin, graph.tensors[op.outputs[0]].name)
        for op in graph.operators
        if op.outputs and op.builtin not in DATA_MOVEMENT and graph.tensors[op.outputs[0]].dtype == "float32"
    ]


__all__ = ["DATA_MOVEMENT", "Calibrated", "Rewrite", "calibrate", "compute_ops", "float_op_outputs", "quantize"]
