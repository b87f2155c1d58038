/*
 * edgeq_requant.c -- part of edgeq; copied unchanged into generated engines.
 *
 * The fixed-point helpers every int8 kernel uses to requantize: gemmlowp's
 * SaturatingRoundingDoublingHighMul and RoundingDivideByPOT, and TFLite's
 * double-rounding MultiplyByQuantizedMultiplier (docs/specs/int8-arithmetic.md
 * in the edgeq repository describes all three).
 * No signed overflow and no right shift of a negative value is left to the
 * compiler: both are spelled out so the result is the same on every C99 target.
 */
#include "edgeq_kernels.h"

/* Arithmetic right shift, defined for negative x too (C leaves x >> e implementation-defined). */
static int32_t eq_arith_shift_right(int32_t x, int exponent) {
    return x < 0 ? ~(~x >> exponent) : x >> exponent;
}

int32_t eq_sat_round_doubling_high_mul(int32_t a, int32_t b) {
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX; /* the one product whose doubled high half does not fit */
    }
    /* (ab + nudge) / 2^31 truncated toward zero, nudge = 2^30 or 1 - 2^30 by the sign of ab, is
       floor((ab + 2^30) / 2^31) for every ab: no division needed */
    return (int32_t)eq_floor_div_pow2_64((int64_t)a * (int64_t)b + ((int64_t)1 << 30), 31);
}

int32_t eq_round_div_pow2(int32_t x, int exponent) {
    const uint32_t mask = (uint32_t)(((uint64_t)1 << exponent) - 1u);
    const int32_t remainder = (int32_t)((uint32_t)x & mask);
    const int32_t threshold = (int32_t)(mask >> 1) + (x < 0 ? 1 : 0);
    return eq_arith_shift_right(x, exponent) + (remainder > threshold ? 1 : 0);
}

int32_t eq_mul_by_quantized_mult(int32_t x, int32_t multiplier, int32_t shift) {
    const int left = shift > 0 ? (int)shift : 0;
    const int right = shift > 0 ? 0 : (int)-shift;
    /* TFLM multiplies x * (1 << left) in int32 and an overflow wraps modulo 2^32 (checked against
       tflite-micro). The same bits, computed in unsigned arithmetic where wrapping is defined;
       a shift of 32 or more (never produced by QuantizeMultiplier for real scales) leaves 0. */
    const int32_t shifted = left < 32 ? eq_from_bits((uint32_t)x << left) : 0;
    return eq_round_div_pow2(eq_sat_round_doubling_high_mul(shifted, multiplier), right);
}

/* ---- gemmlowp-style fixed-point helpers shared by SOFTMAX, LOGISTIC and TANH ---- */

/* Multiply by 2^e (e in 1..30), saturating. */
int32_t eq_fp_sat_shift_left(int32_t x, int e) {
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
static int32_t eq_fp_exp_quarter(int32_t a) {
    const int32_t constant_term = 1895147668;    /* exp(-1/8) */
    const int32_t constant_1_over_3 = 715827883; /* 1/3 */
    const int32_t x = a + ((int32_t)1 << 28);    /* a + 1/8 */
    const int32_t x2 = eq_sat_round_doubling_high_mul(x, x);
    const int32_t x3 = eq_sat_round_doubling_high_mul(x2, x);
    const int32_t x4 = eq_sat_round_doubling_high_mul(x2, x2);
    const int32_t x4_over_4 = eq_round_div_pow2(x4, 2);
    const int32_t poly = eq_round_div_pow2(eq_sat_round_doubling_high_mul(x4_over_4 + x3, constant_1_over_3) + x2, 1);
    return constant_term + eq_sat_round_doubling_high_mul(constant_term, x + poly);
}

/* exp(a) for a <= 0 given in Q(integer_bits).(31 - integer_bits), integer_bits 1..5; result Q0.31. */
int32_t eq_fp_exp_on_negative_values(int32_t a, int integer_bits) {
    static const int32_t multipliers[7] = {1672461947, 1302514674, 790015084, 290630308,
                                           39332535,   720401,     242}; /* exp(-2^k), k = -2..4 */
    const int fractional_bits = 31 - integer_bits;
    const int32_t one_quarter = (int32_t)1 << (fractional_bits - 2);
    const int32_t a_mod_quarter_minus_one_quarter =
        (int32_t)((uint32_t)a & (uint32_t)(one_quarter - 1)) - one_quarter; /* a mod 1/4, minus 1/4 */
    const int32_t remainder = a_mod_quarter_minus_one_quarter - a;
    int32_t result = eq_fp_exp_quarter(eq_fp_sat_shift_left(a_mod_quarter_minus_one_quarter, integer_bits));
    int k;
    for (k = -2; k <= 4 && k < integer_bits; ++k) {
        if (remainder & ((int32_t)1 << (fractional_bits + k))) {
            result = eq_sat_round_doubling_high_mul(result, multipliers[k + 2]);
        }
    }
    return a == 0 ? INT32_MAX : result;
}

/* Newton-Raphson for 1 / (1 + a), a in [0, 1) in Q0.31; returns the Q2.29 estimate. */
int32_t eq_fp_reciprocal_q2(int32_t a) {
    const int64_t sum = (int64_t)a + INT32_MAX;
    const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    const int32_t f2_one = (int32_t)1 << 29;
    int32_t x = 1515870810 + eq_sat_round_doubling_high_mul(half_denominator, -1010580540); /* 48/17 - 32/17 * d */
    int i;
    for (i = 0; i < 3; ++i) {
        const int32_t one_minus_half_denominator_times_x = f2_one - eq_sat_round_doubling_high_mul(half_denominator, x);
        x = x + eq_fp_sat_shift_left(eq_sat_round_doubling_high_mul(x, one_minus_half_denominator_times_x), 2);
    }
    return x;
}
