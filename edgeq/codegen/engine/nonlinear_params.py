"""Prepare-time parameters of the engine's non-linear int8 kernels, computed as TFLM computes them.

TFLM's kernels precompute multipliers, shifts and ranges in their ``Prepare``
functions; the edgeq engine computes the same numbers here, at generation
time, and writes them into the kernels' parameter structs. Each function
follows its TFLM counterpart step by step, including where TFLM rounds in
float32 rather than in double:

- SOFTMAX: ``softmax_common.cc`` (PreprocessSoftmaxScaling, CalculateInputRadius).
- LOGISTIC / TANH: ``logistic_common.cc`` / ``tanh_common.cc``.
- LEAKY_RELU: ``leaky_relu_common.cc``.
- HARD_SWISH: ``hard_swish_common.cc`` (DownScaleInt32ToInt16Multiplier).
- MEAN: ``reduce_common.cc`` plus the ``1 / num_elements`` folding of
  ``reference_ops::QuantizedMeanOrSum``.

The returned dicts are keyed by the field names of the C structs in
``edgeq_kernels.h``; shape fields (``size``, ``rows``, ...) are left to the caller.
"""

from __future__ import annotations

import math

import numpy as np

# Integer bits of the fixed-point input of exp() in SOFTMAX (Q5.26).
SOFTMAX_SCALED_DIFF_INTEGER_BITS = 5
# Integer bits of the fixed-point input of LOGISTIC and TANH (Q4.27).
SIGMOID_INPUT_INTEGER_BITS = 4


def _round_half_away(x: float) -> int:
    """C ``round``: halves away from zero."""
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def _quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite's QuantizeMultiplier: ``real ~= m * 2^(shift - 31)`` with ``m`` in [2^30, 2^31).

    ``real == 0`` gives ``(0, 0)``; a mantissa rounding up to 2^31 becomes 2^30 with
    ``shift + 1``; ``shift < -31`` flushes to ``(0, 0)``. Negative ``real`` gives a
    negative multiplier, as TFLM's does.
    """
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    m = _round_half_away(q * (1 << 31))
    if m == 1 << 31:
        m //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return m, shift


def _input_radius(integer_bits: int, left_shift: int, total_signed_bits: int = 31) -> int:
    """CalculateInputRadius: the largest input difference that stays inside the fixed-point range."""
    return math.floor(((1 << integer_bits) - 1) * (1 << (total_signed_bits - integer_bits)) / 2.0**left_shift)


def _f32(x: float) -> np.float32:
    return np.float32(x)


def softmax_params(beta: float, input_scale: float) -> dict[str, int]:
    """SOFTMAX (int8 -> int8): ``input_multiplier``, ``input_left_shift``, ``diff_min``.

    Args:
        beta: The op's ``beta`` option (a float32 in the model).
        input_scale: The input tensor's scale.

    Raises:
        ValueError: ``beta * input_scale * 2^26 <= 1``, which TFLM rejects
            (QuantizeMultiplierGreaterThanOne).
    """
    real = min(
        float(beta) * float(input_scale) * (1 << (31 - SOFTMAX_SCALED_DIFF_INTEGER_BITS)),
        (1 << 31) - 1.0,
    )
    if not real > 1.0:
        raise ValueError(f"softmax beta * input scale = {beta * input_scale!r} is too small for TFLM (needs > 2^-26)")
    mult, shift = _quantize_multiplier(real)
    radius = _input_radius(SOFTMAX_SCALED_DIFF_INTEGER_BITS, shift)
    return {"input_multiplier": mult, "input_left_shift": shift, "diff_min": -radius}


def logistic_params(input_scale: float, input_zp: int) -> dict[str, int]:
    """LOGISTIC (int8, output scale 1/256, zero point -128): the Q4.27 input rescale and range radius.

    TFLM rounds the mantissa itself here (no 2^31 fix-up, which float32 scales cannot hit).
    """
    q, shift = math.frexp(float(input_scale) * (1 << (31 - SIGMOID_INPUT_INTEGER_BITS)))
    mult = _round_half_away(q * (1 << 31))
    if mult >= 1 << 31:
        raise ValueError(f"input scale {input_scale!r} overflows TFLM's int32 multiplier")
    return {
        "input_zero_point": int(input_zp),
        "input_range_radius": _input_radius(SIGMOID_INPUT_INTEGER_BITS, shift),
        "input_multiplier": mult,
        "input_left_shift": shift,
    }


def tanh_params(input_scale: float, input_zp: int) -> dict[str, int]:
    """TANH (int8, output scale 1/128, zero point 0): the same Q4.27 preparation as LOGISTIC."""
    return logistic_params(input_scale, input_zp)


def leaky_relu_params(alpha: float, in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> dict[str, int]:
    """LEAKY_RELU (int8): identity and alpha requantizations, for ``eq_unary_params``.

    TFLM forms both real multipliers in float32 (``in_scale * alpha / out_scale``,
    ``in_scale / out_scale``) before widening them to double.
    """
    alpha_real = float((_f32(in_scale) * _f32(alpha)) / _f32(out_scale))
    identity_real = float(_f32(in_scale) / _f32(out_scale))
    mult, shift = _quantize_multiplier(identity_real)
    alpha_mult, alpha_shift = _quantize_multiplier(alpha_real)
    return {
        "in_offset": -int(in_zp),
        "out_offset": int(out_zp),
        "mult": mult,
        "shift": shift,
        "alpha_mult": alpha_mult,
        "alpha_shift": alpha_shift,
        "act_min": -128,
        "act_max": 127,
    }


def _downscale_to_int16(m: int) -> int:
    """DownScaleInt32ToInt16Multiplier: round a Q31 multiplier to Q15, saturating."""
    if m >= (1 << 31) - 1 - (1 << 15):
        return (1 << 15) - 1
    return (m + (1 << 15)) >> 16


def hard_swish_params(in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> dict[str, int]:
    """HARD_SWISH (int8): the int16 fixed-point multipliers of TFLM's HardSwishPrepare.

    Raises:
        ValueError: The output multiplier needs a left shift, which TFLM rejects.
    """
    hires_input_scale = _f32(1.0 / 128.0) * _f32(in_scale)
    reluish_scale = _f32(3.0 / 32768.0)
    out_mult, out_exp = _quantize_multiplier(float(hires_input_scale / _f32(out_scale)))
    if out_exp > 0:
        raise ValueError(f"hard swish input scale {in_scale!r} / output scale {out_scale!r} is too large for TFLM")
    reluish_mult, reluish_exp = _quantize_multiplier(float(hires_input_scale / reluish_scale))
    return {
        "input_zero_point": int(in_zp),
        "output_zero_point": int(out_zp),
        "reluish_multiplier_fixedpoint_int16": _downscale_to_int16(reluish_mult),
        "reluish_multiplier_exponent": reluish_exp,
        "output_multiplier_fixedpoint_int16": _downscale_to_int16(out_mult),
        "output_multiplier_exponent": out_exp,
    }


def mean_params(in_scale: float, in_zp: int, out_scale: float, out_zp: int, num_elements: int) -> dict[str, int]:
    """MEAN (int8) over ``num_elements`` values per output: ``eq_mean_params`` minus the shape.

    ``mult``/``shift`` are TFLM's ``in_scale / out_scale`` multiplier with
    ``1 / num_elements`` folded in, as ``QuantizedMeanOrSum`` folds it at run
    time: ``fold = min(floor(log2(n)), 32, 31 + shift)``,
    ``mult = (mult << fold) // n``, ``shift -= fold``. The installed TFLM uses
    this requantizing path even when input and output quantization are equal
    (older releases divided the raw sum there instead).
    """
    if num_elements <= 0:
        raise ValueError(f"MEAN over {num_elements} elements")
    mult, shift = _quantize_multiplier(float(in_scale) / float(out_scale))
    fold = min(num_elements.bit_length() - 1, 32, 31 + shift)
    return {
        "in_zero_point": int(in_zp),
        "out_zero_point": int(out_zp),
        "mult": (mult << fold) // num_elements,
        "shift": shift - fold,
    }
