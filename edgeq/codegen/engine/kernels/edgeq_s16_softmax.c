/*
 * edgeq_s16_softmax.c -- part of edgeq; copied unchanged into generated engines.
 *
 * SOFTMAX of int16x8 models (int16 in, int16 out of scale 2^-15, zero points 0)
 * as TFLM's reference int16 kernel computes it, row by row over the last axis:
 * - each input minus the row's maximum, through MultiplyByQuantizedMultiplier
 *   (so that [-65535, 0] spans [-10, 0]), plus 32767, clamped to int16, is looked
 *   up in the exp table; the results (Q0.15) are summed in int32;
 * - the sum, normalized to its leading one bit and rounded to 17 bits, minus
 *   3 * 2^15, clamped to int16, is looked up in the 1 / (1 + x) table;
 * - each exp times that reciprocal, shifted back by the normalization with
 *   rounding, clamped to [0, 32767].
 * A table lookup interpolates between 513 entries: entry 256 + (v >> 7), plus
 * the slope to the next entry times the low 7 bits of v, rounded.
 * The outputs hold the row's exp values until the row is normalized.
 */
#include "edgeq_kernels.h"

/* floor(x / 2^s), s in 0..31, without relying on how the compiler shifts negative values. */
static int32_t eq_s16_sm_floor_shift(int32_t x, int32_t s) {
    return x >= 0 ? x >> s : -((-(x + 1)) >> s) - 1;
}

static int16_t eq_s16_lut_lookup(int16_t v, const int16_t *lut) {
    const int32_t index = 256 + eq_s16_sm_floor_shift(v, 7);
    const int32_t offset = (int32_t)((uint32_t)(int32_t)v & 0x7Fu);
    const int32_t base = lut[index];
    const int32_t slope = lut[index + 1] - lut[index];
    return (int16_t)(base + eq_s16_sm_floor_shift(slope * offset + 64, 7));
}

static int16_t eq_s16_clamp_int16(int32_t v) {
    return (int16_t)(v < -32768 ? -32768 : v > 32767 ? 32767 : v);
}

/* Leading zero bits of a nonzero 32-bit value. */
static int32_t eq_s16_clz(uint32_t x) {
    int32_t n = 0;
    while (!(x & 0x80000000u)) {
        x <<= 1;
        ++n;
    }
    return n;
}

static void eq_s16_softmax_row(const eq_s16_softmax_params *p, const int16_t *in, int16_t *out) {
    int32_t c, sum = 0, lead, right, shifted;
    int16_t max = in[0], reciprocal;
    for (c = 1; c < p->depth; ++c) {
        max = in[c] > max ? in[c] : max;
    }
    for (c = 0; c < p->depth; ++c) {
        const int32_t scaled = eq_mul_by_quantized_mult((int32_t)in[c] - max, p->mult, p->shift);
        out[c] = eq_s16_lut_lookup(eq_s16_clamp_int16(scaled + 32767), p->exp_lut);
        sum += out[c];
    }
    lead = eq_s16_clz((uint32_t)sum);
    shifted = (int32_t)((((int64_t)sum << (lead - 1)) + (1 << 13)) >> 14);
    reciprocal = eq_s16_lut_lookup(eq_s16_clamp_int16(shifted - ((1 << 15) + (1 << 16))), p->recip_lut);
    right = 31 - lead;
    for (c = 0; c < p->depth; ++c) {
        const int64_t r = ((int64_t)out[c] * reciprocal + ((int64_t)1 << (right - 1))) >> right;
        out[c] = (int16_t)(r < 0 ? 0 : r > 32767 ? 32767 : r);
    }
}

void eq_softmax_s16(const eq_s16_softmax_params *p, const int16_t *in, int16_t *out) {
    int32_t row;
    for (row = 0; row < p->rows; ++row) {
        eq_s16_softmax_row(p, in + (int64_t)row * p->depth, out + (int64_t)row * p->depth);
    }
}
