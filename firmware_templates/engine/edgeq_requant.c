/*
 * edgeq_requant.c -- part of edgeq; copied unchanged into generated engines.
 *
 * The fixed-point helpers every int8 kernel uses to requantize: gemmlowp's
 * SaturatingRoundingDoublingHighMul and RoundingDivideByPOT, and TFLite's
 * double-rounding MultiplyByQuantizedMultiplier (shared/specs/int8-arithmetic.md).
 * No signed overflow and no right shift of a negative value is left to the
 * compiler: both are spelled out so the result is the same on every C99 target.
 */
#include "edgeq_kernels.h"

/* Arithmetic right shift, defined for negative x too (C leaves x >> e implementation-defined). */
static int32_t eq_asr(int32_t x, int exponent)
{
    return x < 0 ? ~(~x >> exponent) : x >> exponent;
}

/* The int32 whose two's complement bits are u (a plain cast is implementation-defined above INT32_MAX). */
static int32_t eq_from_bits(uint32_t u)
{
    return u <= (uint32_t)INT32_MAX ? (int32_t)u : -(int32_t)(~u) - 1;
}

int32_t eq_srdhm(int32_t a, int32_t b)
{
    int64_t ab;
    int64_t nudge;
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX; /* the one product whose doubled high half does not fit */
    }
    ab = (int64_t)a * (int64_t)b;
    nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31)); /* C division truncates toward zero */
}

int32_t eq_rdbpot(int32_t x, int exponent)
{
    const uint32_t mask = (uint32_t)(((uint64_t)1 << exponent) - 1u);
    const int32_t remainder = (int32_t)((uint32_t)x & mask);
    const int32_t threshold = (int32_t)(mask >> 1) + (x < 0 ? 1 : 0);
    return eq_asr(x, exponent) + (remainder > threshold ? 1 : 0);
}

int32_t eq_mbqm(int32_t x, int32_t multiplier, int32_t shift)
{
    const int left = shift > 0 ? (int)shift : 0;
    const int right = shift > 0 ? 0 : (int)-shift;
    /* TFLM multiplies x * (1 << left) in int32 and an overflow wraps modulo 2^32 (checked against
       tflite-micro). The same bits, computed in unsigned arithmetic where wrapping is defined;
       a shift of 32 or more (never produced by QuantizeMultiplier for real scales) leaves 0. */
    const int32_t shifted = left < 32 ? eq_from_bits((uint32_t)x << left) : 0;
    return eq_rdbpot(eq_srdhm(shifted, multiplier), right);
}
