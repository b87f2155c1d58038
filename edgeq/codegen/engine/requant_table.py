"""The per-output-channel requantization table of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED.

One ``eq_channel`` per output channel, ``(bias, mult, shift, round)``, and the
op's ``rq`` form (edgeq_kernels.h). The fast form replaces TFLM's two 64-bit
rounding steps by one SMMLAR of ``2 * acc`` and a shift; it is exact when the
shift is a right shift of at most ``FAST_MAX_SHIFT`` and no sum the op can form
reaches ``FAST_ACC_LIMIT`` in magnitude, which the generator proves here from
the weights and the bias: ``|acc| <= |bias| + sum |w| * max |x + in_offset|``.
Every other op keeps the exact form, which handles any multiplier and shift.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RQ_EXACT = 0
RQ_FAST = 1
RQ_FULL_RANGE = 2
RQ_NO_SIGN_FIX = 4
FAST_ACC_LIMIT = 1 << 29
FAST_MAX_SHIFT = 21


@dataclass(frozen=True)
class ChannelTable:
    """The ``rq`` form of an op and its ``eq_channel`` rows ``(bias, mult, shift, round)``.

    ``shift`` is TFLite's shift in the exact form and the right shift ``e = -shift`` in the fast form.
    ``base``: the fast form's ``K`` (edgeq_kernels.h), from which each row's ``round`` follows
    (:func:`rounding`); 0 in the exact form, whose ``round`` is 0.
    """

    rq: int
    rows: tuple[tuple[int, int, int, int], ...]
    base: int = 0

    def __post_init__(self) -> None:
        if not self.rows:
            raise ValueError("a channel table needs at least one row")


def max_input_term(in_zp: int) -> int:
    """The largest ``|x + in_offset|`` over int8 inputs, ``in_offset = -in_zp``."""
    return max(abs(-128 - in_zp), abs(127 - in_zp))


def acc_bounds(abs_weight_sums: np.ndarray, bias: np.ndarray | None, in_zp: int) -> np.ndarray:
    """Per channel, the largest ``|acc|`` any input gives: ``|bias| + sum |w| * max |x + in_offset|``."""
    bound = np.asarray(abs_weight_sums, np.int64) * max_input_term(in_zp)
    return bound + (np.abs(np.asarray(bias, np.int64)) if bias is not None else 0)


def _fast_form(mult: list[int], shift: list[int], bounds: np.ndarray) -> bool:
    shifts_ok = all(m >= 0 and -FAST_MAX_SHIFT <= s <= -1 for m, s in zip(mult, shift))
    return shifts_ok and int(np.max(bounds, initial=0)) < FAST_ACC_LIMIT


def channel_table(
    mult: list[int],
    shift: list[int],
    bias: np.ndarray | None,
    bounds: np.ndarray,
    out_zp: int,
    act_min: int,
    act_max: int,
) -> ChannelTable:
    """The table of an op with ``len(mult)`` output channels (``bounds``: acc_bounds of each)."""
    channels = len(mult)
    biases = [0] * channels if bias is None else [int(b) for b in np.asarray(bias).reshape(-1)]
    if len(biases) != channels or len(shift) != channels:
        raise ValueError(f"{channels} multipliers, {len(shift)} shifts and {len(biases)} biases")
    if not _fast_form(mult, shift, bounds):
        return ChannelTable(RQ_EXACT, tuple((b, m, s, 0) for b, m, s in zip(biases, mult, shift)))
    rq = RQ_FAST
    if act_min == -128 and act_max == 127:
        rq |= RQ_FULL_RANGE
    if act_min >= out_zp:
        rq |= RQ_NO_SIGN_FIX
    base = out_zp if rq & RQ_FULL_RANGE else out_zp - act_min
    rows = tuple((b, m, -s, rounding(rq, base, -s)) for b, m, s in zip(biases, mult, shift))
    return ChannelTable(rq, rows, base)


def rounding(rq: int, base: int, shift: int) -> int:
    """The ``round`` of a row: ``2^(e-1) + K 2^e`` in the fast form (``shift`` = e, ``base`` = K), else 0.

    eq_expand_channels (edgeq_int4.c) computes it so from the shift of the compact rows of int4 ops.
    """
    return (1 << (shift - 1)) + base * (1 << shift) if rq & RQ_FAST else 0
