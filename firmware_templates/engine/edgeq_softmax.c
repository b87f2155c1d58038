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

/* Multiply by 2^e (e in 1..30), saturating. */
static int32_t sm_shl_sat(int32_t x, int e)
{
    const int32_t threshold = (int32_t)(((int32_t)1 << (31 - e)) - 1);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return (int32_t)((int64_t)x * ((int64_t)1 << e));
}

/* exp(x) for x in [-1/4, 0), Q0.31 in and out. */
static int32_t sm_exp_quarter(int32_t a)
{
    const int32_t constant_term = 1895147668;    /* exp(-1/8) */
    const int32_t constant_1_over_3 = 715827883; /* 1/3 */
    const int32_t x = a + ((int32_t)1 << 28);   /* a + 1/8 */
    const int32_t x2 = eq_srdhm(x, x);
    const int32_t x3 = eq_srdhm(x2, x);
    const int32_t x4 = eq_srdhm(x2, x2);
    const int32_t x4_over_4 = eq_rdbpot(x4, 2);
    const int32_t poly = eq_rdbpot(eq_srdhm(x4_over_4 + x3, constant_1_over_3) + x2, 1);
    return constant_term + eq_srdhm(constant_term, x + poly);
}

/* exp(a) for a <= 0 given in Q(integer_bits).(31 - integer_bits), integer_bits 1..5; result Q0.31. */
static int32_t sm_exp_on_negative_values(int32_t a, int integer_bits)
{
    static const int32_t multipliers[7] = {1672461947, 1302514674, 790015084, 290630308,
                                           39332535,   720401,     242}; /* exp(-2^k), k = -2..4 */
    const int fractional_bits = 31 - integer_bits;
    const int32_t one_quarter = (int32_t)1 << (fractional_bits - 2);
    const int32_t a_mod_quarter_minus_one_quarter =
        (int32_t)((uint32_t)a & (uint32_t)(one_quarter - 1)) - one_quarter; /* a mod 1/4, minus 1/4 */
    const int32_t remainder = a_mod_quarter_minus_one_quarter - a;
    int32_t result = sm_exp_quarter(sm_shl_sat(a_mod_quarter_minus_one_quarter, integer_bits));
    int k;
    for (k = -2; k <= 4 && k < integer_bits; ++k) {
        if (remainder & ((int32_t)1 << (fractional_bits + k))) {
            result = eq_srdhm(result, multipliers[k + 2]);
        }
    }
    return a == 0 ? INT32_MAX : result;
}

/* 1 / (1 + x) for x in [0, 1), Q0.31 in and out (three Newton-Raphson steps in Q2.29). */
static int32_t sm_one_over_one_plus_x(int32_t a)
{
    const int64_t sum = (int64_t)a + INT32_MAX;
    const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    const int32_t f2_one = (int32_t)1 << 29;
    int32_t x = 1515870810 + eq_srdhm(half_denominator, -1010580540); /* 48/17 - 32/17 * d */
    int i;
    for (i = 0; i < 3; ++i) {
        const int32_t one_minus_half_denominator_times_x = f2_one - eq_srdhm(half_denominator, x);
        x = x + sm_shl_sat(eq_srdhm(x, one_minus_half_denominator_times_x), 2);
    }
    return sm_shl_sat(x, 1);
}

static int sm_count_leading_zeros(uint32_t x)
{
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
static int32_t sm_scaled_diff(const eq_softmax_params *p, int32_t diff)
{
    const int32_t shifted = (int32_t)((int64_t)diff * ((int64_t)1 << p->input_left_shift));
    return eq_srdhm(shifted, p->input_multiplier);
}

static void sm_row(const eq_softmax_params *p, const int8_t *in, int8_t *out)
{
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
            const int32_t e = sm_exp_on_negative_values(sm_scaled_diff(p, diff), SM_SCALED_DIFF_INTEGER_BITS);
            sum_of_exps += eq_rdbpot(e, SM_ACCUM_INTEGER_BITS);
        }
    }
    /* GetReciprocal: sum = 2^num_bits_over_unit * (1 + x) with x in [0, 1). */
    headroom_plus_one = sm_count_leading_zeros((uint32_t)sum_of_exps);
    shifted_scale = sm_one_over_one_plus_x(
        (int32_t)(((uint32_t)sum_of_exps << headroom_plus_one) - ((uint32_t)1 << 31)));
    exponent = (SM_ACCUM_INTEGER_BITS - headroom_plus_one) + 31 - 8;
    if (exponent > 31) {
        exponent = 31; /* sums of 2^28 or more (depth >= 512): TFLM stops with a check failure */
    }

    for (c = 0; c < p->depth; ++c) {
        const int32_t diff = (int32_t)in[c] - max_in_row;
        int32_t v = INT8_MIN;
        if (diff >= p->diff_min) {
            const int32_t e = sm_exp_on_negative_values(sm_scaled_diff(p, diff), SM_SCALED_DIFF_INTEGER_BITS);
            v = eq_rdbpot(eq_srdhm(shifted_scale, e), exponent) + INT8_MIN;
            v = v < INT8_MIN ? INT8_MIN : (v > INT8_MAX ? INT8_MAX : v);
        }
        out[c] = (int8_t)v;
    }
}

void eq_softmax_s8(const eq_softmax_params *p, const int8_t *in, int8_t *out)
{
    int32_t r;
    for (r = 0; r < p->rows; ++r) {
        sm_row(p, in + (size_t)r * (size_t)p->depth, out + (size_t)r * (size_t)p->depth);
    }
}
