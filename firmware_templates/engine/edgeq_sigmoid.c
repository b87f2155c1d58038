/*
 * edgeq_sigmoid.c -- part of edgeq; copied unchanged into generated engines.
 *
 * LOGISTIC and TANH, int8 in and out, computed as TFLM's int8 reference kernels
 * compute them: inputs beyond +-input_range_radius saturate; the others are
 * rescaled to Q4.27 (eq_mbqm), mapped through gemmlowp's fixed-point logistic
 * or tanh (exp_on_negative_values and a Newton-Raphson division), and rounded
 * back to int8: LOGISTIC to scale 1/256 with zero point -128, TANH to scale
 * 1/128 with zero point 0. Integer arithmetic only (int32 / int64).
 */
#include "edgeq_kernels.h"

#define SG_INPUT_INTEGER_BITS 4

/* Multiply by 2^e (e in 1..30), saturating. */
static int32_t sg_shl_sat(int32_t x, int e)
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
static int32_t sg_exp_quarter(int32_t a)
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
static int32_t sg_exp_on_negative_values(int32_t a, int integer_bits)
{
    static const int32_t multipliers[7] = {1672461947, 1302514674, 790015084, 290630308,
                                           39332535,   720401,     242}; /* exp(-2^k), k = -2..4 */
    const int fractional_bits = 31 - integer_bits;
    const int32_t one_quarter = (int32_t)1 << (fractional_bits - 2);
    const int32_t a_mod_quarter_minus_one_quarter =
        (int32_t)((uint32_t)a & (uint32_t)(one_quarter - 1)) - one_quarter; /* a mod 1/4, minus 1/4 */
    const int32_t remainder = a_mod_quarter_minus_one_quarter - a;
    int32_t result = sg_exp_quarter(sg_shl_sat(a_mod_quarter_minus_one_quarter, integer_bits));
    int k;
    for (k = -2; k <= 4 && k < integer_bits; ++k) {
        if (remainder & ((int32_t)1 << (fractional_bits + k))) {
            result = eq_srdhm(result, multipliers[k + 2]);
        }
    }
    return a == 0 ? INT32_MAX : result;
}

/* Newton-Raphson for 1 / (1 + a), a in [0, 1) in Q0.31; returns the Q2.29 estimate. */
static int32_t sg_reciprocal_q2(int32_t a)
{
    const int64_t sum = (int64_t)a + INT32_MAX;
    const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    const int32_t f2_one = (int32_t)1 << 29;
    int32_t x = 1515870810 + eq_srdhm(half_denominator, -1010580540); /* 48/17 - 32/17 * d */
    int i;
    for (i = 0; i < 3; ++i) {
        const int32_t one_minus_half_denominator_times_x = f2_one - eq_srdhm(half_denominator, x);
        x = x + sg_shl_sat(eq_srdhm(x, one_minus_half_denominator_times_x), 2);
    }
    return x;
}

/* gemmlowp logistic on a Q4.27 input; result Q0.31. */
static int32_t sg_logistic_q4(int32_t a)
{
    int32_t positive;
    if (a == 0) {
        return (int32_t)1 << 30;
    }
    /* 1 / (1 + exp(-|a|)), Q1.30 from the Q2.29 reciprocal then rescaled to Q0.31 */
    positive = sg_shl_sat(sg_reciprocal_q2(sg_exp_on_negative_values(a > 0 ? -a : a, SG_INPUT_INTEGER_BITS)), 1);
    return a > 0 ? positive : INT32_MAX - positive;
}

/* gemmlowp tanh on a Q4.27 input; result Q0.31. */
static int32_t sg_tanh_q4(int32_t a)
{
    int32_t t;
    if (a == 0) {
        return 0;
    }
    /* (1 - exp(-2|a|)) / (1 + exp(-2|a|)): the raw -|a| read as Q5.26 is -2|a| */
    t = sg_reciprocal_q2(sg_exp_on_negative_values(a < 0 ? a : -a, SG_INPUT_INTEGER_BITS + 1));
    t = sg_shl_sat(t - ((int32_t)1 << 29), 2);
    return a < 0 ? -t : t;
}

static int8_t sg_clamp_s8(int32_t v)
{
    return (int8_t)(v < INT8_MIN ? INT8_MIN : (v > INT8_MAX ? INT8_MAX : v));
}

void eq_logistic_s8(const eq_sigmoid_params *p, const int8_t *in, int8_t *out)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t x = (int32_t)in[i] - p->input_zero_point;
        if (x <= -p->input_range_radius) {
            out[i] = INT8_MIN;
        } else if (x >= p->input_range_radius) {
            out[i] = INT8_MAX;
        } else {
            const int32_t q4 = eq_mbqm(x, p->input_multiplier, p->input_left_shift);
            out[i] = sg_clamp_s8(eq_rdbpot(sg_logistic_q4(q4), 31 - 8) + INT8_MIN);
        }
    }
}

void eq_tanh_s8(const eq_sigmoid_params *p, const int8_t *in, int8_t *out)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t x = (int32_t)in[i] - p->input_zero_point;
        if (x <= -p->input_range_radius) {
            out[i] = INT8_MIN;
        } else if (x >= p->input_range_radius) {
            out[i] = INT8_MAX;
        } else {
            const int32_t q4 = eq_mbqm(x, p->input_multiplier, p->input_left_shift);
            out[i] = sg_clamp_s8(eq_rdbpot(sg_tanh_q4(q4), 31 - 7));
        }
    }
}
