"""Conversion options, validated when built."""

from __future__ import annotations

import math
from dataclasses import dataclass

from edgeq.calibration.methods import CalibrationMethod, RangeRule
from edgeq.data import DEFAULT_SAMPLES
from edgeq.data.binfiles import BinFormat
from edgeq.errors import UsageError
from edgeq.qtypes import IOType, QuantMode, parse_enum

WEIGHT_BITS = ("int8", "int4")

# I/O types each mode can produce, the first being the default.
MODE_IO = {
    QuantMode.INT8: (IOType.INT8, IOType.UINT8, IOType.FLOAT32),
    QuantMode.INT16X8: (IOType.INT16, IOType.FLOAT32),
    QuantMode.DYNAMIC: (IOType.FLOAT32,),
    QuantMode.FLOAT16: (IOType.FLOAT32,),
}


@dataclass(frozen=True)
class ConvertOptions:
    """What ``edgeq convert`` should produce.

    Attributes:
        mode: quantization scheme (int8, int16x8, dynamic, float16).
        io: dtype of model inputs/outputs; None picks the mode's default.
        samples: calibration samples drawn from the data (None: all).
        seed: seed of that draw.
        allow_float_fallback: keep ops the integer kernels cannot run in float
            instead of failing (int8 and int16x8 modes).
        scale, offset: image-folder normalisation, pixel * scale + offset.
        check_samples: samples used to compare the result against the float
            model (0 disables the check): held out from calibration when the
            data has more samples than ``samples``, else calibration samples.
        calibration: how activation ranges are chosen (minmax, percentile,
            mse, entropy); anything but plain minmax needs mode int8.
        percentile: the percentile of ``calibration="percentile"`` (None: 99.99).
        symmetric_activations: activation ranges ``[-t, t]`` with zero point 0.
        bin_format: the quantization of one-byte-per-element .bin files (see
            :mod:`edgeq.data.binfiles`); None refuses such files for float inputs.
        weights: "int8", or "int4" for int4 conv/depthwise/dense weights made by
            the AI Edge Quantizer (mode int8, int8 I/O, minmax calibration only).
    """

    mode: QuantMode = QuantMode.INT8
    io: IOType | None = None
    samples: int | None = DEFAULT_SAMPLES
    seed: int = 0
    allow_float_fallback: bool = False
    scale: float = 1.0 / 255.0
    offset: float = 0.0
    check_samples: int = 32
    calibration: CalibrationMethod = CalibrationMethod.MINMAX
    percentile: float | None = None
    symmetric_activations: bool = False
    bin_format: BinFormat | None = None
    weights: str = "int8"

    def __post_init__(self) -> None:
        mode = parse_enum(QuantMode, self.mode, "--mode")
        object.__setattr__(self, "mode", mode)
        io = MODE_IO[mode][0] if self.io is None else parse_enum(IOType, self.io, "--io")
        if io not in MODE_IO[mode]:
            allowed = ", ".join(t.value for t in MODE_IO[mode])
            raise UsageError(f"--io {io.value} is not available with --mode {mode.value} (allowed: {allowed})")
        object.__setattr__(self, "io", io)
        if self.samples is not None and self.samples < 1:
            raise UsageError(f"--samples {self.samples} must be at least 1")
        if not (math.isfinite(self.scale) and math.isfinite(self.offset)):
            raise UsageError("--scale and --offset must be finite numbers")
        if self.check_samples < 0:
            raise UsageError("check_samples must be >= 0")
        rule = self.range_rule
        object.__setattr__(self, "calibration", rule.method)
        if not rule.is_default and mode is not QuantMode.INT8:
            flags = f"--calibration {rule.method.value}" + (" --symmetric-activations" if rule.symmetric else "")
            raise UsageError(f"{flags} needs --mode int8 (--mode {mode.value} keeps TFLite's min/max ranges)")
        self._check_weights(mode, io, rule)

    def _check_weights(self, mode: QuantMode, io: IOType, rule: RangeRule) -> None:
        """--weights int4 goes with int8 activations, int8 I/O and the quantizer's own min/max ranges."""
        if self.weights not in WEIGHT_BITS:
            raise UsageError(f"--weights {self.weights!r} is not one of {', '.join(WEIGHT_BITS)}")
        if self.weights == "int8":
            return
        if mode is not QuantMode.INT8:
            raise UsageError(f"--weights int4 needs --mode int8 (int8 activations), not --mode {mode.value}")
        if io is not IOType.INT8:
            raise UsageError(f"--weights int4 makes int8 inputs and outputs; drop --io {io.value}")
        if not rule.is_default:
            raise UsageError(
                f"--weights int4 calibrates with the AI Edge Quantizer's min/max ranges; drop --calibration "
                f"{rule.method.value}" + (" and --symmetric-activations" if rule.symmetric else "")
            )

    @property
    def io_type(self) -> IOType:
        """The I/O dtype: ``io``, which ``__post_init__`` always sets (None picks the mode's default)."""
        if self.io is None:
            raise UsageError("ConvertOptions.io is unset; build the options with ConvertOptions(...)")
        return self.io

    @property
    def range_rule(self) -> RangeRule:
        """The calibration method and its settings (validated)."""
        return RangeRule(self.calibration, self.percentile, self.symmetric_activations)
