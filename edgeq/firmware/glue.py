"""The files every engine firmware shares: the DUT protocol and the engine glue, whatever the board or SDK.

``edgeq build`` (bare-metal Cortex-M, :mod:`.project`) and ``edgeq skeleton``
(Arduino, ESP-IDF, Zephyr, :mod:`.skeletons`) put the same C beside the
engine: ``edgeq_dut.c/.h`` (the MLPerf Tiny protocol), ``edgeq_platform.h``
(the board interface each firmware implements) and ``edgeq_engine_glue.c/.h``
(the engine as an ``edgeq_dut_model``, rendered from
``edgeq/firmware/templates/common/edgeq_engine_glue.c.j2``). Only the entry point
and the platform file differ between firmwares.
"""

from __future__ import annotations

from pathlib import Path

from edgeq import __version__
from edgeq.errors import UnsupportedError, UsageError
from edgeq.firmware.manifest import EngineManifest
from edgeq.firmware.mlperf import MLPERF_MODELS
from edgeq.model.io import ModelIO
from edgeq.render import render, template_bytes

# Copied unchanged from edgeq/firmware/templates/common/.
COMMON = ("edgeq_dut.c", "edgeq_dut.h", "edgeq_platform.h", "edgeq_engine_glue.h")
# Rendered for each engine.
GLUE_C = "edgeq_engine_glue.c"
# C type of each tensor dtype the glue reads outputs (and, for MSE, the input) in.
C_TYPES = {"int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t", "int32": "int32_t", "float32": "float"}
# MLPerf Tiny benchmarks whose runner sends image pixels, one byte 0..255 each (the reference firmware
# subtracts 128 for its int8 model).
IMAGE_BENCHMARKS = ("ic01", "vww01")
# What the engine folder contributes: its C sources and headers, and the manifest as a record.
ENGINE_SUFFIXES = (".c", ".h", ".json")


def check_dtypes(engine: EngineManifest) -> None:
    """UnsupportedError when an input or output has a dtype the glue cannot read."""
    bad = [t.dtype for t in engine.outputs + engine.inputs if t.dtype not in C_TYPES]
    if bad:
        raise UnsupportedError(f"engine {engine.name} has {bad[0]} tensors; the firmware reads {', '.join(C_TYPES)}")


def check_mlperf(mlperf: str | None) -> None:
    """UsageError unless ``mlperf`` is None or one of the MLPerf Tiny runner's model ids."""
    if mlperf is not None and mlperf not in MLPERF_MODELS:
        raise UsageError(f"--mlperf {mlperf!r} is not an MLPerf Tiny model id; use one of {', '.join(MLPERF_MODELS)}")


def float_input(engine: EngineManifest, mlperf: str | None = None) -> bool:
    """The firmware also takes the input as float32 values and quantizes them (MLPerf Tiny ad01).

    On for ``--mlperf ad01`` and for autoencoder-shaped engines (those whose results are an MSE),
    when the engine has one quantized int8 input.
    """
    single_int8 = len(engine.inputs) == 1 and engine.inputs[0].dtype == "int8" and engine.inputs[0].scale is not None
    return single_int8 and (mlperf == "ad01" or (mlperf is None and engine.results_are_mse))


def uint8_image_input(engine: EngineManifest, mlperf: str | None = None) -> bool:
    """The firmware turns the MLPerf Tiny runner's pixel bytes p (0..255) into the int8 input p - 128.

    On for ``--mlperf ic01`` and ``vww01`` when the engine has one int8 input with zero point -128
    (its real value is then p x scale: the pixel, scaled as in training). A uint8 input with zero point 0
    takes the runner's bytes as they are (off); other ids are off.

    Raises:
        UsageError: ic01 or vww01 for an engine whose input cannot take pixel bytes that way.
    """
    if mlperf not in IMAGE_BENCHMARKS:
        return False
    inputs = engine.inputs
    if len(inputs) == 1 and inputs[0].scale is not None:
        t = inputs[0]
        if (t.dtype, t.zero_point) in (("int8", -128), ("uint8", 0)):
            return t.dtype == "int8"
    raise UsageError(
        f"--mlperf {mlperf}: the MLPerf Tiny runner sends image pixels as bytes 0..255, which the firmware "
        "passes on as p - 128 to an int8 input with zero point -128 or as p to a uint8 input with zero point 0; "
        f"engine {engine.name} has {_inputs_text(inputs)}: convert the model with inputs in [0, 1] or [0, 255] "
        "(edgeq convert, --io int8 or --io uint8)"
    )


def _inputs_text(inputs: tuple[ModelIO, ...]) -> str:
    """What the inputs are, for an error: "2 inputs", "one float32 input without quantization", ..."""
    if len(inputs) != 1:
        return f"{len(inputs)} inputs"
    t = inputs[0]
    return f"one {t.dtype} input " + (
        f"with zero point {t.zero_point}" if t.scale is not None else "without quantization"
    )


def protocol_files(engine: EngineManifest, mlperf: str | None = None) -> dict[str, str | bytes]:
    """The protocol sources (copied) and the engine glue (rendered), by file name.

    Args:
        engine: the engine's manifest.
        mlperf: an MLPerf Tiny model id (``kws01``, ``ic01``, ``vww01``, ``ad01``, ``sww01``): `profile%`
            reports it instead of the engine's name, ``ad01`` reports the MSE and takes float32 input, and
            ``ic01``/``vww01`` take pixel bytes (:func:`uint8_image_input`).
    """
    check_mlperf(mlperf)
    files: dict[str, str | bytes] = {name: template_bytes(f"common/{name}") for name in COMMON}
    files[GLUE_C] = render(
        f"common/{GLUE_C}.j2",
        e=engine,
        ctypes=C_TYPES,
        edgeq_version=__version__,
        mlperf=mlperf,
        model_id=mlperf or engine.name,
        results_are_mse=engine.results_are_mse if mlperf is None else mlperf == "ad01",
        float_input=float_input(engine, mlperf),
        uint8_input=uint8_image_input(engine, mlperf),
    )
    return files


def engine_files(engine_dir: Path) -> dict[str, bytes]:
    """The engine folder's files (sources, headers, manifest), by file name."""
    return {
        path.name: path.read_bytes()
        for path in sorted(engine_dir.iterdir())
        if path.is_file() and path.suffix in ENGINE_SUFFIXES
    }
