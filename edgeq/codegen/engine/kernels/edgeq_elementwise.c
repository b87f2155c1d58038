/*
 * edgeq_elementwise.c -- part of edgeq; copied unchanged into generated engines.
 *
 * int8 binary ops (with TFLite's broadcasting), RELU / RELU6 / RELU_N1_TO_1 and
 * the int8 -> int8 QUANTIZE, each element computed as TFLM's reference kernels do:
 * - ADD: both inputs (x + offset) * 2^left_shift go through MultiplyByQuantizedMultiplier
 *   with their own multiplier, the sum through the output multiplier, + out_offset, clamp.
 * - MUL: (x1 + offset1) * (x2 + offset2) through the output multiplier, + out_offset, clamp.
 * - RELU family: out_offset + MBQM(x + in_offset, mult, shift), clamped to [act_min, act_max]
 *   (RELU6 in TFLM only clamps in the input's quantization: the generator passes the identity
 *   multiplier 2^30, shift 1, for which MBQM returns x exactly).
 * - QUANTIZE int8 -> int8: MBQM(x + in_offset, mult, shift) + out_offset, clamp.
 * - SUB: ADD's rule with the second scaled input subtracted.
 * - SQUARED_DIFFERENCE: both inputs (x + offset) * 2^7 through their multipliers, the
 *   difference squared, through the output multiplier, + out_offset, clamp to int8.
 * - MAXIMUM / MINIMUM: the larger / smaller stored value (TFLM does not requantize).
 * - PRELU: v = x + in1_offset; v >= 0: MBQM(v, in1_mult, in1_shift), else
 *   MBQM(v * (alpha + in2_offset), out_mult, out_shift); + out_offset, clamp to int8.
 */
#include "edgeq_kernels.h"

static int8_t eq_clamp8(int32_t v, int32_t lo, int32_t hi) {
    return (int8_t)eq_clamp_range(v, lo, hi);
}

static int32_t eq_add_one(int32_t a, int32_t b, const eq_binary_params *p) {
    /* |x + offset| <= 255, so the shift by 20 (TFLM's int8 left_shift) stays far from overflow. */
    const int32_t scale = (int32_t)1 << p->left_shift;
    const int32_t x1 = eq_mul_by_quantized_mult_fast((a + p->in1_offset) * scale, p->in1_mult, p->in1_shift);
    const int32_t x2 = eq_mul_by_quantized_mult_fast((b + p->in2_offset) * scale, p->in2_mult, p->in2_shift);
    return eq_mul_by_quantized_mult_fast(x1 + x2, p->out_mult, p->out_shift) + p->out_offset;
}

static int32_t eq_mul_one(int32_t a, int32_t b, const eq_binary_params *p) {
    return eq_mul_by_quantized_mult_fast((a + p->in1_offset) * (b + p->in2_offset), p->out_mult, p->out_shift) +
           p->out_offset;
}

static int32_t eq_sub_one(int32_t a, int32_t b, const eq_binary_params *p) {
    const int32_t scale = (int32_t)1 << p->left_shift;
    const int32_t x1 = eq_mul_by_quantized_mult_fast((a + p->in1_offset) * scale, p->in1_mult, p->in1_shift);
    const int32_t x2 = eq_mul_by_quantized_mult_fast((b + p->in2_offset) * scale, p->in2_mult, p->in2_shift);
    return eq_mul_by_quantized_mult_fast(x1 - x2, p->out_mult, p->out_shift) + p->out_offset;
}

static int32_t eq_squared_difference_one(int32_t a, int32_t b, const eq_binary_params *p) {
    /* |x + offset| * 2^7 <= 32640 and the input multipliers are below 1/2, so the square of the
       difference stays below 2^31. */
    const int32_t scale = (int32_t)1 << p->left_shift;
    const int32_t x1 = eq_mul_by_quantized_mult_fast((a + p->in1_offset) * scale, p->in1_mult, p->in1_shift);
    const int32_t x2 = eq_mul_by_quantized_mult_fast((b + p->in2_offset) * scale, p->in2_mult, p->in2_shift);
    const int32_t diff = x1 - x2;
    return eq_mul_by_quantized_mult_fast(diff * diff, p->out_mult, p->out_shift) + p->out_offset;
}

static int32_t eq_maximum_one(int32_t a, int32_t b, const eq_binary_params *p) {
    (void)p;
    return a > b ? a : b;
}

static int32_t eq_minimum_one(int32_t a, int32_t b, const eq_binary_params *p) {
    (void)p;
    return a < b ? a : b;
}

static int32_t eq_prelu_one(int32_t x, int32_t alpha, const eq_binary_params *p) {
    const int32_t v = x + p->in1_offset;
    if (v >= 0) {
        return eq_mul_by_quantized_mult_fast(v, p->in1_mult, p->in1_shift) + p->out_offset;
    }
    return eq_mul_by_quantized_mult_fast(v * (alpha + p->in2_offset), p->out_mult, p->out_shift) + p->out_offset;
}

EQ_DEFINE_BINARY_WALK(eq_binary, int8_t)

int8_t eq_add_value_s8(const eq_binary_params *p, int32_t a, int32_t b) {
    return eq_clamp8(eq_add_one(a, b, p), p->act_min, p->act_max);
}

void eq_add_s8(const eq_binary_params *p, const int8_t *in1, const int8_t *in2, int8_t *out) {
    eq_binary(p, in1, in2, out, eq_add_one);
}

void eq_mul_s8(const eq_binary_params *p, const int8_t *in1, const int8_t *in2, int8_t *out) {
    eq_binary(p, in1, in2, out, eq_mul_one);
}

void eq_sub_s8(const eq_binary_params *p, const int8_t *in1, const int8_t *in2, int8_t *out) {
    eq_binary(p, in1, in2, out, eq_sub_one);
}

void eq_squared_difference_s8(const eq_binary_params *p, const int8_t *in1, const int8_t *in2, int8_t *out) {
    eq_binary(p, in1, in2, out, eq_squared_difference_one);
}

void eq_maximum_s8(const eq_binary_params *p, const int8_t *in1, const int8_t *in2, int8_t *out) {
    eq_binary(p, in1, in2, out, eq_maximum_one);
}

void eq_minimum_s8(const eq_binary_params *p, const int8_t *in1, const int8_t *in2, int8_t *out) {
    eq_binary(p, in1, in2, out, eq_minimum_one);
}

void eq_prelu_s8(const eq_binary_params *p, const int8_t *in, const int8_t *alpha, int8_t *out) {
    eq_binary(p, in, alpha, out, eq_prelu_one);
}

void eq_relu_s8(const eq_unary_params *p, const int8_t *in, int8_t *out) {
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t v =
            p->out_offset + eq_mul_by_quantized_mult_fast((int32_t)in[i] + p->in_offset, p->mult, p->shift);
        out[i] = eq_clamp8(v, p->act_min, p->act_max);
    }
}

void eq_requantize_s8(const eq_unary_params *p, const int8_t *in, int8_t *out) {
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t v =
            eq_mul_by_quantized_mult_fast((int32_t)in[i] + p->in_offset, p->mult, p->shift) + p->out_offset;
        out[i] = eq_clamp8(v, p->act_min, p->act_max);
    }
}
