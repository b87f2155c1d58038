/*
 * edgeq_s16_elementwise.c -- part of edgeq; copied unchanged into generated engines.
 *
 * ADD and MUL of int16x8 models (int16 inputs and output, zero point 0), with
 * TFLite's broadcasting, each element as TFLM's reference kernels compute it:
 * - ADD: each input times 2^left_shift (15) through its own multiplier (both
 *   below 1/2, so |x| * 2^15 <= 2^30 and the sum stay in int32), the sum through
 *   the output multiplier, clamp to [act_min, act_max].
 * - MUL: the int32 product (at most 2^30) through the output multiplier, clamp.
 */
#include "edgeq_kernels.h"

static int32_t eq_s16_add_one(int32_t a, int32_t b, const eq_binary_params *p) {
    const int32_t scale = (int32_t)1 << p->left_shift;
    const int32_t x1 = eq_mul_by_quantized_mult((a + p->in1_offset) * scale, p->in1_mult, p->in1_shift);
    const int32_t x2 = eq_mul_by_quantized_mult((b + p->in2_offset) * scale, p->in2_mult, p->in2_shift);
    return eq_mul_by_quantized_mult(x1 + x2, p->out_mult, p->out_shift) + p->out_offset;
}

static int32_t eq_s16_mul_one(int32_t a, int32_t b, const eq_binary_params *p) {
    return eq_mul_by_quantized_mult((a + p->in1_offset) * (b + p->in2_offset), p->out_mult, p->out_shift) +
           p->out_offset;
}

EQ_DEFINE_BINARY_WALK(eq_s16_binary, int16_t)

void eq_add_s16(const eq_binary_params *p, const int16_t *in1, const int16_t *in2, int16_t *out) {
    eq_s16_binary(p, in1, in2, out, eq_s16_add_one);
}

void eq_mul_s16(const eq_binary_params *p, const int16_t *in1, const int16_t *in2, int16_t *out) {
    eq_s16_binary(p, in1, in2, out, eq_s16_mul_one);
}
