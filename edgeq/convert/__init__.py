"""edgeq.convert: TensorFlow model + representative data -> quantized .tflite + report.

The package is callable: ``edgeq.convert(model, data, output)`` is
:func:`convert`.
"""

from __future__ import annotations

import sys
import time
import types
from pathlib import Path
from typing import Any

from edgeq.convert.options import ConvertOptions
from edgeq.convert.pipeline import run_pipeline
from edgeq.convert.report import ConversionReport, FloatOp
from edgeq.convert.writer import write_outputs
from edgeq.errors import ConversionError
from edgeq.log import logger
from edgeq.qtypes import DataSource
from edgeq.tfimport import ModelSource


def convert(
    model: ModelSource,
    data: DataSource | None,
    output: str | Path,
    options: ConvertOptions | None = None,
    **kwargs: Any,
) -> ConversionReport:
    """Convert a TensorFlow model to a quantized TFLite flatbuffer.

    Args:
        model: SavedModel folder, ``.keras`` or ``.h5`` path, or a Keras model object.
        data: representative data (see :func:`edgeq.data.load_dataset`); may be
            None for the dynamic and float16 modes.
        output: the ``.tflite`` file to write (atomically); the report goes to
            the same path with ``.json``.
        options: a :class:`ConvertOptions`; or give its fields as keyword
            arguments (``mode="int8", io="int8", samples=200, seed=0, ...``).

    Returns:
        The :class:`ConversionReport` (also written as JSON beside the output).

    Raises:
        EdgeqError: a subclass naming the problem (bad model, bad data, float
            ops left in an integer mode, converter failure).
    """
    opts = options or ConvertOptions(**kwargs)
    started = time.monotonic()
    result = run_pipeline(model, data, opts)
    report = result.report(output, time.monotonic() - started)
    if report.float_ops and not opts.allow_float_fallback:
        raise ConversionError(_float_ops_message(report.float_ops, opts))
    write_outputs(Path(output), result.model_bytes, report)
    logger.debug("wrote %s (%d bytes)", output, report.output_bytes)
    return report


def _float_ops_message(ops: tuple[FloatOp, ...], opts: ConvertOptions) -> str:
    listed = ", ".join(op.describe() for op in ops)
    if opts.weights == "int4" and any(op.op in ("SHAPE", "STRIDED_SLICE", "PACK") for op in ops):
        return (
            f"{len(ops)} op(s) stayed float with --weights int4: {listed}; the model computes its batch size at run "
            "time: convert the Keras model (.keras/.h5, rebuilt at batch 1) or save the SavedModel with a batch-1 input"
        )
    return (
        f"{len(ops)} op(s) stayed float in --mode {opts.mode.value}: {listed}; "
        "replace those layers with integer-friendly ones or pass --allow-float-fallback"
    )


class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> ConversionReport:
        return convert(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

__all__ = ["ConversionReport", "ConvertOptions", "convert"]
