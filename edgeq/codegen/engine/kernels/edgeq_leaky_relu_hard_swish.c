/*
 * edgeq_leaky_relu_hard_swish.c -- part of edgeq; copied unchanged into generated engines.
 *
 * LEAKY_RELU and HARD_SWISH, int8 in and out, computed as TFLM's reference
 * kernels compute them. LEAKY_RELU requantizes x >= 0 with the identity
 * multiplier and x < 0 with the alpha multiplier (eq_mul_by_quantized_mult). HARD_SWISH works
 * in 16-bit fixed point with two int16 multipliers: the input on the output
 * scale, times a "relu-ish" factor in [0, 1] that is (x + 3) / 6 saturated.
 */
#include "edgeq_kernels.h"

static int8_t act_clamp_s8(int32_t v) {
    return (int8_t)(v < INT8_MIN ? INT8_MIN : (v > INT8_MAX ? INT8_MAX : v));
}

void eq_leaky_relu_s8(const eq_unary_params *p, const int8_t *in, int8_t *out) {
    /* A negative alpha multiplier is applied as its magnitude, then negated (TFLM does the same). */
    const int alpha_negative = p->alpha_mult < 0;
    const int32_t alpha_mult = alpha_negative ? -p->alpha_mult : p->alpha_mult;
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t x = (int32_t)in[i] + p->in_offset;
        int32_t y;
        if (x >= 0) {
            y = eq_mul_by_quantized_mult_fast(x, p->mult, p->shift);
        } else {
            y = eq_mul_by_quantized_mult_fast(x, alpha_mult, p->alpha_shift);
            y = alpha_negative ? -y : y;
        }
        y += p->out_offset;
        out[i] = (int8_t)(y < p->act_min ? p->act_min : (y > p->act_max ? p->act_max : y)); /* [-128, 127] */
    }
}

static int32_t act_sat_s16(int64_t v) {
    return (int32_t)(v < INT16_MIN ? INT16_MIN : (v > INT16_MAX ? INT16_MAX : v));
}

/* int16 SaturatingRoundingDoublingHighMul (round to nearest). */
static int32_t act_sat_round_doubling_high_mul16(int32_t a, int32_t b) {
    const int32_t ab = a * b;
    const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
    if (a == INT16_MIN && b == INT16_MIN) {
        return INT16_MAX;
    }
    return (ab + nudge) / (1 << 15);
}

/* int16 SaturatingDoublingHighMul (rounds toward zero). */
static int32_t act_sat_doubling_high_mul16(int32_t a, int32_t b) {
    if (a == INT16_MIN && b == INT16_MIN) {
        return INT16_MAX;
    }
    return (a * b) / (1 << 15);
}

/* RoundingDivideByPOT of an int16 value, e in 0..31. Up to 15 it is the int32 rule; from 16 on,
   TFLM's int16 mask (1 << e) - 1 truncates to all ones and the result is the sign (x >= 0: 1, else -1).
   Such exponents need scale ratios far outside trained models. */
static int32_t act_round_div_pow2_16(int32_t x, int e) {
    if (e >= 16) {
        return x < 0 ? -1 : 1;
    }
    return eq_round_div_pow2(x, e);
}

static int32_t act_hard_swish_one(const eq_hard_swish_params *p, int32_t q) {
    const int32_t hires = (q - p->input_zero_point) * (1 << 7); /* fits int16: |x| <= 255 */
    const int32_t on_output_scale = act_sat_round_doubling_high_mul16(hires, p->output_multiplier_fixedpoint_int16);
    const int32_t exponent = p->reluish_multiplier_exponent;
    int32_t reluish = hires;
    int32_t y;
    if (exponent > 0) {
        reluish = act_sat_s16((int64_t)reluish * ((int64_t)1 << (exponent - 1)));
    }
    reluish = act_sat_round_doubling_high_mul16(reluish, p->reluish_multiplier_fixedpoint_int16);
    if (exponent > 0) {
        reluish = act_sat_s16((int64_t)reluish * 2);
    } else if (exponent < 0) {
        reluish = act_round_div_pow2_16(reluish, -exponent);
    }
    reluish = (reluish + (1 << 15)) >> 1; /* [-1, 1] -> [0, 1] */
    y = act_sat_doubling_high_mul16(reluish, on_output_scale);
    y = act_round_div_pow2_16(y, -p->output_multiplier_exponent) + p->output_zero_point;
    /* TFLM adds the zero point in int16 (wraps only when in_scale / out_scale >= 64) */
    return y > INT16_MAX ? y - 65536 : (y < INT16_MIN ? y + 65536 : y);
}

void eq_hard_swish_s8(const eq_hard_swish_params *p, const int8_t *in, int8_t *out) {
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        out[i] = act_clamp_s8(act_hard_swish_one(p, in[i]));
    }
}
