"""Generation-time integer math of the int8 kernels: multipliers, activation ranges, padding.

Every function reproduces what TFLM's kernels compute in their ``Prepare``
step, from the float32 scales and int zero points stored in the model, so the
values baked into the generated C match TFLM's bit for bit
(docs/specs/int8-arithmetic.md). Scales go through float32 first, then the
arithmetic is done in double or float exactly where TFLM does it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

# TfLiteFusedActivation values the int8 kernels clamp with, as (real min, real max); None = unbounded.
_FUSED_BOUNDS: dict[str, tuple[float | None, float | None]] = {
    "NONE": (None, None),
    "RELU": (0.0, None),
    "RELU6": (0.0, 6.0),
    "RELU_N1_TO_1": (-1.0, 1.0),
}
_DTYPE_RANGES = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767)}
ADD_LEFT_SHIFT_INT8 = 20  # TFLM's ADD rescales int8 inputs by 2^20 before adding


def _f64(scale: float) -> float:
    """A model scale as TFLM holds it: float32, then widened to double."""
    return float(np.float32(scale))


def round_half_away(x: float) -> int:
    """Round to the nearest integer, halves away from zero (C ``round``, TFLite's ``TfLiteRound``); exact."""
    whole = math.trunc(x)
    frac = x - whole  # exact: the fractional part of a double is a double
    if frac >= 0.5:
        return whole + 1
    if frac <= -0.5:
        return whole - 1
    return whole


def quantize_multiplier(real: float) -> tuple[int, int]:
    """Split ``real`` into ``(M, shift)`` with ``real ~= M * 2^(shift - 31)``, as TFLite's ``QuantizeMultiplier``.

    ``q, shift = frexp(real)``; ``M = round(q * 2^31)`` with halves away from zero;
    ``M == 2^31`` becomes ``2^30`` with ``shift + 1``; ``shift < -31`` flushes to
    ``(0, 0)``; ``real == 0`` gives ``(0, 0)``. ``real`` is a double computed by the
    caller from float32 scales. A shift above 30 is returned as TFLM would use it,
    although MultiplyByQuantizedMultiplier then shifts int32 values out of range.
    """
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = round_half_away(q * (1 << 31))
    if abs(q_fixed) == 1 << 31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return q_fixed, shift


def conv_multipliers(
    in_scale: float, w_scales: Sequence[float], out_scale: float, channels: int
) -> tuple[list[int], list[int]]:
    """Per-output-channel ``(multipliers, shifts)`` of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED.

    TFLM's PopulateConvolutionQuantizationParams: ``(double)in * (double)w[c] / (double)out``
    for each channel, a per-tensor weight scale repeated ``channels`` times. TFLM's per-tensor
    FULLY_CONNECTED uses the same double product (checked against tflite-micro: TFLite's older
    GetQuantizedConvolutionMultipler multiplied the two scales in float32 first, which differs).
    """
    scales = _channel_scales(w_scales, channels)
    reals = [_f64(in_scale) * _f64(w) / _f64(out_scale) for w in scales]
    return _split_all(reals)


def _channel_scales(w_scales: Sequence[float], channels: int) -> list[float]:
    if len(w_scales) == 1:
        return [float(w_scales[0])] * channels
    if len(w_scales) != channels:
        raise ValueError(f"{len(w_scales)} weight scales for {channels} output channels; expected 1 or {channels}")
    return [float(w) for w in w_scales]


def _split_all(reals: list[float]) -> tuple[list[int], list[int]]:
    pairs = [quantize_multiplier(r) for r in reals]
    return [m for m, _ in pairs], [s for _, s in pairs]


def _quantize_f32(value: float, scale: float, zero_point: int) -> int:
    """``zero_point + round(value / scale)`` with the division in float32, as TFLite's activation-range lambda.

    Raises:
        ValueError: The quotient does not fit TFLite's int32 (converting it is undefined behaviour in C).
    """
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        quotient = float(np.float32(value) / np.float32(scale))
    if not (math.isfinite(quotient) and -(2.0**31) <= round(quotient) < 2.0**31):
        raise ValueError(f"{value:g} / scale {scale:g} does not fit int32 (a bound of the activation range)")
    return int(zero_point) + round_half_away(quotient)


def activation_range(fused: str, out_scale: float, out_zp: int, dtype: str = "int8") -> tuple[int, int]:
    """``(act_min, act_max)`` of a fused activation, as TFLite's CalculateActivationRangeQuantized.

    NONE is the dtype's range; RELU, RELU6 and RELU_N1_TO_1 quantize their real bounds
    (0, 6, -1, 1) with ``out_zp + round(bound / out_scale)`` in float32 and intersect
    with the dtype's range.
    """
    if fused not in _FUSED_BOUNDS:
        raise ValueError(f"fused activation {fused!r}; expected one of {', '.join(_FUSED_BOUNDS)}")
    if dtype not in _DTYPE_RANGES:
        raise ValueError(f"dtype {dtype!r}; expected one of {', '.join(_DTYPE_RANGES)}")
    qmin, qmax = _DTYPE_RANGES[dtype]
    lo, hi = _FUSED_BOUNDS[fused]
    act_min = qmin if lo is None else max(qmin, _quantize_f32(lo, out_scale, out_zp))
    act_max = qmax if hi is None else min(qmax, _quantize_f32(hi, out_scale, out_zp))
    return act_min, act_max


def same_padding(in_size: int, k: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """``(out_size, pad_before)`` of SAME padding (TFLite's ComputeOutSize / ComputePaddingHeightWidth).

    ``out = ceil(in / stride)``; the total padding ``(out - 1) * stride + (k - 1) * dilation + 1 - in``
    (at least 0) is split with the odd pixel after: ``pad_before = total // 2``.
    """
    _check_window(in_size, k, stride, dilation)
    out = (in_size + stride - 1) // stride
    total = max(0, (out - 1) * stride + (k - 1) * dilation + 1 - in_size)
    return out, total // 2


def valid_padding(in_size: int, k: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """``(out_size, 0)`` of VALID padding: ``out = (in + stride - effective_k) // stride``."""
    _check_window(in_size, k, stride, dilation)
    effective = (k - 1) * dilation + 1
    if effective > in_size:
        raise ValueError(f"VALID padding: a window of {effective} does not fit an axis of {in_size}")
    return (in_size + stride - effective) // stride, 0


def _check_window(in_size: int, k: int, stride: int, dilation: int) -> None:
    if min(in_size, k, stride, dilation) < 1:
        raise ValueError(f"size {in_size}, kernel {k}, stride {stride}, dilation {dilation}: all must be >= 1")


def _smaller_than_one(real: float, what: str) -> tuple[int, int]:
    """TFLite's QuantizeMultiplierSmallerThanOneExp: ``real`` must lie in (0, 1)."""
    if not 0.0 < real < 1.0:
        raise ValueError(f"{what} multiplier {real!r} is outside (0, 1); TFLM rejects such scales")
    return quantize_multiplier(real)


def add_params(
    s1: float, zp1: int, s2: float, zp2: int, s_out: float, zp_out: int, fused: str = "NONE"
) -> dict[str, int]:
    """Fields of ``eq_binary_params`` for int8 ADD, as TFLM's CalculateOpDataAdd.

    ``twice_max = 2 * (double)max(s1, s2)``; input multipliers ``s_i / twice_max``; output
    multiplier ``twice_max / (2^20 * s_out)``; each through QuantizeMultiplierSmallerThanOneExp.
    """
    d1, d2, d_out = _f64(s1), _f64(s2), _f64(s_out)
    twice_max = 2.0 * max(d1, d2)
    m1, sh1 = _smaller_than_one(d1 / twice_max, "ADD input 1")
    m2, sh2 = _smaller_than_one(d2 / twice_max, "ADD input 2")
    mo, sho = _smaller_than_one(twice_max / ((1 << ADD_LEFT_SHIFT_INT8) * d_out), "ADD output")
    act_min, act_max = activation_range(fused, s_out, zp_out)
    return dict(
        left_shift=ADD_LEFT_SHIFT_INT8,
        in1_offset=-int(zp1),
        in2_offset=-int(zp2),
        out_offset=int(zp_out),
        in1_mult=m1,
        in1_shift=sh1,
        in2_mult=m2,
        in2_shift=sh2,
        out_mult=mo,
        out_shift=sho,
        act_min=act_min,
        act_max=act_max,
    )


def mul_params(
    s1: float, zp1: int, s2: float, zp2: int, s_out: float, zp_out: int, fused: str = "NONE"
) -> dict[str, int]:
    """Fields of ``eq_binary_params`` for int8 MUL, as TFLM's CalculateOpDataMul.

    One multiplier ``(double)s1 * (double)s2 / (double)s_out`` through QuantizeMultiplier;
    the input multipliers and left shift are unused (0).
    """
    mo, sho = quantize_multiplier(_f64(s1) * _f64(s2) / _f64(s_out))
    act_min, act_max = activation_range(fused, s_out, zp_out)
    return dict(
        left_shift=0,
        in1_offset=-int(zp1),
        in2_offset=-int(zp2),
        out_offset=int(zp_out),
        in1_mult=0,
        in1_shift=0,
        in2_mult=0,
        in2_shift=0,
        out_mult=mo,
        out_shift=sho,
        act_min=act_min,
        act_max=act_max,
    )


def relu_params(kind: str, in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> dict[str, int]:
    """Fields of ``eq_unary_params`` (but ``size``) for a standalone RELU, RELU6 or RELU_N1_TO_1.

    RELU and RELU_N1_TO_1 follow TFLM's CalculateReluOpData: multiplier ``(double)in / (double)out``,
    bounds ``out_zp + round(bound / out_scale)`` in float32 within [-128, 127]. TFLM's RELU6 does not
    requantize: it clamps the input to ``[in_zp, in_zp + round(6 / in_scale)]`` (float32 division,
    within [-128, 127]) and copies, i.e. the identity multiplier ``2^30, shift 1`` with zero offsets.
    """
    if kind == "RELU6":
        six = _quantize_f32(6.0, in_scale, in_zp)
        return dict(
            in_offset=0,
            out_offset=0,
            mult=1 << 30,
            shift=1,
            alpha_mult=0,
            alpha_shift=0,
            act_min=max(-128, min(127, int(in_zp))),
            act_max=max(-128, min(127, six)),
        )
    if kind not in ("RELU", "RELU_N1_TO_1"):
        raise ValueError(f"activation {kind!r}; expected RELU, RELU6 or RELU_N1_TO_1")
    mult, shift = quantize_multiplier(_f64(in_scale) / _f64(out_scale))
    act_min, act_max = activation_range(kind, out_scale, out_zp)
    return dict(
        in_offset=-int(in_zp),
        out_offset=int(out_zp),
        mult=mult,
        shift=shift,
        alpha_mult=0,
        alpha_shift=0,
        act_min=act_min,
        act_max=act_max,
    )


def requantize_params(in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> dict[str, int]:
    """Fields of ``eq_unary_params`` (but ``size``) for int8 -> int8 QUANTIZE, as TFLM's Requantize.

    Multiplier ``(double)in / (double)out`` through QuantizeMultiplier; output clamped to [-128, 127].
    """
    mult, shift = quantize_multiplier(_f64(in_scale) / _f64(out_scale))
    return dict(
        in_offset=-int(in_zp),
        out_offset=int(out_zp),
        mult=mult,
        shift=shift,
        alpha_mult=0,
        alpha_shift=0,
        act_min=-128,
        act_max=127,
    )
