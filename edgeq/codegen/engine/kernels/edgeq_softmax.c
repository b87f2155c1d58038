/*
 * edgeq_softmax.c -- part of edgeq; copied unchanged into generated engines.
 *
 * SOFTMAX, int8 in, int8 out (scale 1/256, zero point -128), computed as TFLM's
 * reference kernel computes it: the input difference to the row maximum is
 * rescaled to Q5.26, exponentiated with gemmlowp's exp_on_negative_values,
 * summed in Q12.19, inverted with a Newton-Raphson reciprocal, and each
 * exponential is scaled by that reciprocal with a final rounding shift.
 * Integer arithmetic only (int32 / int64).
 */
#include "edgeq_kernels.h"

#define SM_SCALED_DIFF_INTEGER_BITS 5
#define SM_ACCUM_INTEGER_BITS 12

/* 1 / (1 + x) for x in [0, 1), Q0.31 in and out. */
static int32_t sm_one_over_one_plus_x(int32_t a) {
    return eq_fp_sat_shift_left(eq_fp_reciprocal_q2(a), 1);
}

static int sm_count_leading_zeros(uint32_t x) {
    int n = 0;
    if (x == 0) {
        return 32;
    }
    while ((x & 0x80000000u) == 0) {
        x <<= 1;
        ++n;
    }
    return n;
}

/* The row's input difference rescaled to Q5.26 (MultiplyByQuantizedMultiplierGreaterThanOne). */
static int32_t sm_scaled_diff(const eq_softmax_params *p, int32_t diff) {
    const int32_t shifted = (int32_t)((int64_t)diff * ((int64_t)1 << p->input_left_shift));
    return eq_sat_round_doubling_high_mul(shifted, p->input_multiplier);
}

static void sm_row(const eq_softmax_params *p, const int8_t *in, int8_t *out) {
    int32_t max_in_row = INT8_MIN;
    int32_t sum_of_exps = 0; /* Q12.19 */
    int32_t shifted_scale;
    int headroom_plus_one;
    int exponent;
    int32_t c;

    for (c = 0; c < p->depth; ++c) {
        if (in[c] > max_in_row) {
            max_in_row = in[c];
        }
    }
    for (c = 0; c < p->depth; ++c) {
        const int32_t diff = (int32_t)in[c] - max_in_row;
        if (diff >= p->diff_min) {
            const int32_t e = eq_fp_exp_on_negative_values(sm_scaled_diff(p, diff), SM_SCALED_DIFF_INTEGER_BITS);
            sum_of_exps += eq_round_div_pow2(e, SM_ACCUM_INTEGER_BITS);
        }
    }
    /* GetReciprocal: sum = 2^num_bits_over_unit * (1 + x) with x in [0, 1). */
    headroom_plus_one = sm_count_leading_zeros((uint32_t)sum_of_exps);
    shifted_scale =
        sm_one_over_one_plus_x((int32_t)(((uint32_t)sum_of_exps << headroom_plus_one) - ((uint32_t)1 << 31)));
    exponent = (SM_ACCUM_INTEGER_BITS - headroom_plus_one) + 31 - 8;
    if (exponent > 31) {
        exponent = 31; /* sums of 2^28 or more (depth >= 512): TFLM stops with a check failure */
    }

    for (c = 0; c < p->depth; ++c) {
        const int32_t diff = (int32_t)in[c] - max_in_row;
        int32_t v = INT8_MIN;
        if (diff >= p->diff_min) {
            const int32_t e = eq_fp_exp_on_negative_values(sm_scaled_diff(p, diff), SM_SCALED_DIFF_INTEGER_BITS);
            v = eq_round_div_pow2(eq_sat_round_doubling_high_mul(shifted_scale, e), exponent) + INT8_MIN;
            v = v < INT8_MIN ? INT8_MIN : (v > INT8_MAX ? INT8_MAX : v);
        }
        out[c] = (int8_t)v;
    }
}

void eq_softmax_s8(const eq_softmax_params *p, const int8_t *in, int8_t *out) {
    int32_t r;
    for (r = 0; r < p->rows; ++r) {
        sm_row(p, in + (size_t)r * (size_t)p->depth, out + (size_t)r * (size_t)p->depth);
    }
}
