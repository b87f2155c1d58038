"""Generation-time parameters of int8 SUB, SQUARED_DIFFERENCE, MAXIMUM / MINIMUM and PRELU.

Each function returns the fields of ``eq_binary_params`` (but ``size`` and the
broadcast shapes) that TFLM's ``Prepare`` of the op computes from the float32
scales and integer zero points, with the arithmetic in float32 or double
exactly where TFLM does it:

- SUB (``CalculateOpDataSub``): like ADD, inputs shifted left by 20, but
  ``twice_max = 2 * max(s1, s2)``, the input multipliers ``s_i / twice_max``
  and the output multiplier ``twice_max / (2^20 * s_out)`` are float32
  arithmetic; each goes through QuantizeMultiplierSmallerThanOneExp.
- SQUARED_DIFFERENCE: inputs shifted left by 7; double arithmetic;
  input multipliers ``s_i / twice_max`` (smaller than one), output multiplier
  ``twice_max^2 / (2^14 * s_out)`` through QuantizeMultiplier; no activation.
- MAXIMUM / MINIMUM compare the stored bytes: no parameters.
- PRELU: ``in / out`` (kept in ``in1_mult`` / ``in1_shift``) for inputs at or
  above the zero point, ``in * alpha / out`` (kept in ``out_mult`` /
  ``out_shift``) for the others, both double through QuantizeMultiplier.
"""

from __future__ import annotations

import numpy as np

from edgeq.codegen.engine.quantmath import activation_range, quantize_multiplier

SUB_LEFT_SHIFT = 20
SQUARED_DIFFERENCE_LEFT_SHIFT = 7
_FULL_RANGE = {"act_min": -128, "act_max": 127}


def _smaller_than_one(real: float, what: str) -> tuple[int, int]:
    """QuantizeMultiplierSmallerThanOneExp: ``real`` must lie in (0, 1)."""
    if not 0.0 < real < 1.0:
        raise ValueError(f"{what} multiplier {real!r} is outside (0, 1); TFLM rejects such scales")
    return quantize_multiplier(real)


def _fields(offsets: tuple[int, int, int], left_shift: int, m1, m2, mo) -> dict[str, int]:
    return dict(
        left_shift=left_shift,
        in1_offset=-int(offsets[0]),
        in2_offset=-int(offsets[1]),
        out_offset=int(offsets[2]),
        in1_mult=m1[0],
        in1_shift=m1[1],
        in2_mult=m2[0],
        in2_shift=m2[1],
        out_mult=mo[0],
        out_shift=mo[1],
    )


def sub_params(
    s1: float, zp1: int, s2: float, zp2: int, s_out: float, zp_out: int, fused: str = "NONE"
) -> dict[str, int]:
    """Fields of ``eq_binary_params`` for int8 SUB (input 1 minus input 2)."""
    f1, f2, fo = np.float32(s1), np.float32(s2), np.float32(s_out)
    twice_max = np.float32(2) * max(f1, f2)
    with np.errstate(all="ignore"):
        r1, r2 = float(f1 / twice_max), float(f2 / twice_max)
        ro = float(twice_max / (np.float32(1 << SUB_LEFT_SHIFT) * fo))
    m1 = _smaller_than_one(r1, "SUB input 1")
    m2 = _smaller_than_one(r2, "SUB input 2")
    mo = _smaller_than_one(ro, "SUB output")
    fields = _fields((zp1, zp2, zp_out), SUB_LEFT_SHIFT, m1, m2, mo)
    act_min, act_max = activation_range(fused, s_out, zp_out)
    return {**fields, "act_min": act_min, "act_max": act_max}


def squared_difference_params(s1: float, zp1: int, s2: float, zp2: int, s_out: float, zp_out: int) -> dict[str, int]:
    """Fields of ``eq_binary_params`` for int8 SQUARED_DIFFERENCE (always the full int8 range)."""
    d1, d2 = float(np.float32(s1)), float(np.float32(s2))
    twice_max = 2.0 * max(d1, d2)
    scaled_out = float(np.float32(1 << (2 * SQUARED_DIFFERENCE_LEFT_SHIFT)) * np.float32(s_out))
    m1 = _smaller_than_one(d1 / twice_max, "SQUARED_DIFFERENCE input 1")
    m2 = _smaller_than_one(d2 / twice_max, "SQUARED_DIFFERENCE input 2")
    mo = quantize_multiplier(twice_max * twice_max / scaled_out)
    return {**_fields((zp1, zp2, zp_out), SQUARED_DIFFERENCE_LEFT_SHIFT, m1, m2, mo), **_FULL_RANGE}


def compare_params() -> dict[str, int]:
    """Fields of ``eq_binary_params`` for MAXIMUM and MINIMUM, which compare stored values unchanged."""
    return {**_fields((0, 0, 0), 0, (0, 0), (0, 0), (0, 0)), **_FULL_RANGE}


def prelu_params(s_in: float, zp_in: int, s_alpha: float, zp_alpha: int, s_out: float, zp_out: int) -> dict[str, int]:
    """Fields of ``eq_binary_params`` for int8 PRELU (input 1 the data, input 2 alpha)."""
    d_in, d_alpha, d_out = (float(np.float32(s)) for s in (s_in, s_alpha, s_out))
    positive = quantize_multiplier(d_in / d_out)
    negative = quantize_multiplier(d_in * d_alpha / d_out)
    return {**_fields((zp_in, zp_alpha, zp_out), 0, positive, (0, 0), negative), **_FULL_RANGE}
