/*
 * edgeq_sigmoid.c -- part of edgeq; copied unchanged into generated engines.
 *
 * LOGISTIC and TANH, int8 in and out, computed as TFLM's int8 reference kernels
 * compute them: inputs beyond +-input_range_radius saturate; the others are
 * rescaled to Q4.27 (eq_mul_by_quantized_mult), mapped through gemmlowp's fixed-point logistic
 * or tanh (exp_on_negative_values and a Newton-Raphson division), and rounded
 * back to int8: LOGISTIC to scale 1/256 with zero point -128, TANH to scale
 * 1/128 with zero point 0. Integer arithmetic only (int32 / int64).
 */
#include "edgeq_kernels.h"

#define SG_INPUT_INTEGER_BITS 4

/* gemmlowp logistic on a Q4.27 input; result Q0.31. */
static int32_t sg_logistic_q4(int32_t a) {
    int32_t positive;
    if (a == 0) {
        return (int32_t)1 << 30;
    }
    /* 1 / (1 + exp(-|a|)), Q1.30 from the Q2.29 reciprocal then rescaled to Q0.31 */
    positive = eq_fp_sat_shift_left(
        eq_fp_reciprocal_q2(eq_fp_exp_on_negative_values(a > 0 ? -a : a, SG_INPUT_INTEGER_BITS)), 1);
    return a > 0 ? positive : INT32_MAX - positive;
}

/* gemmlowp tanh on a Q4.27 input; result Q0.31. */
static int32_t sg_tanh_q4(int32_t a) {
    int32_t t;
    if (a == 0) {
        return 0;
    }
    /* (1 - exp(-2|a|)) / (1 + exp(-2|a|)): the raw -|a| read as Q5.26 is -2|a| */
    t = eq_fp_reciprocal_q2(eq_fp_exp_on_negative_values(a < 0 ? a : -a, SG_INPUT_INTEGER_BITS + 1));
    t = eq_fp_sat_shift_left(t - ((int32_t)1 << 29), 2);
    return a < 0 ? -t : t;
}

static int8_t sg_clamp_s8(int32_t v) {
    return (int8_t)(v < INT8_MIN ? INT8_MIN : (v > INT8_MAX ? INT8_MAX : v));
}

void eq_logistic_s8(const eq_sigmoid_params *p, const int8_t *in, int8_t *out) {
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t x = (int32_t)in[i] - p->input_zero_point;
        if (x <= -p->input_range_radius) {
            out[i] = INT8_MIN;
        } else if (x >= p->input_range_radius) {
            out[i] = INT8_MAX;
        } else {
            const int32_t q4 = eq_mul_by_quantized_mult_fast(x, p->input_multiplier, p->input_left_shift);
            out[i] = sg_clamp_s8(eq_round_div_pow2(sg_logistic_q4(q4), 31 - 8) + INT8_MIN);
        }
    }
}

void eq_tanh_s8(const eq_sigmoid_params *p, const int8_t *in, int8_t *out) {
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t x = (int32_t)in[i] - p->input_zero_point;
        if (x <= -p->input_range_radius) {
            out[i] = INT8_MIN;
        } else if (x >= p->input_range_radius) {
            out[i] = INT8_MAX;
        } else {
            const int32_t q4 = eq_mul_by_quantized_mult_fast(x, p->input_multiplier, p->input_left_shift);
            out[i] = sg_clamp_s8(eq_round_div_pow2(sg_tanh_q4(q4), 31 - 7));
        }
    }
}
