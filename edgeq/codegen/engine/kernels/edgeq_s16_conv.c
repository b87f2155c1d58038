/*
 * edgeq_s16_conv.c -- part of edgeq; copied unchanged into generated engines.
 *
 * CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED of int16x8 models as TFLM's
 * reference kernels compute them: int16 activations with zero point 0, int8
 * weights, an int64 sum of products plus the int64 bias, then the 64-bit
 * MultiplyByQuantizedMultiplier and the clamp to the fused activation's range.
 * Taps outside the input (padding) add nothing.
 */
#include "edgeq_kernels.h"

/* floor(x / 2^s) for 0 < s < 63, without relying on how the compiler shifts negative values. */
static int64_t eq_s16_floor_shift(int64_t x, int32_t s) {
    return x >= 0 ? x >> s : -((-(x + 1)) >> s) - 1;
}

/* TFLM's MultiplyByQuantizedMultiplier(int64_t x, ...): the multiplier rounded to its top 16 bits,
   one rounding shift by 15 - shift (8..46); the generator keeps |acc| below 2^47 and shift in -31..7,
   so nothing overflows. The low 32 bits are the result, as TFLM's conversion to int32_t keeps them. */
int32_t eq_s16_requant64(int64_t acc, int32_t mult, int32_t shift) {
    const int64_t reduced = mult < 0x7FFF0000 ? (int64_t)((mult + (1 << 15)) >> 16) : 0x7FFF;
    const int32_t total = 15 - shift;
    const int64_t r = eq_s16_floor_shift(acc * reduced + ((int64_t)1 << (total - 1)), total);
    return eq_from_bits((uint32_t)((uint64_t)r & 0xFFFFFFFFu));
}

static int16_t eq_s16_output(int64_t acc, const eq_s16_channel *c, int32_t act_min, int32_t act_max) {
    int32_t v = eq_s16_requant64(acc + c->bias, c->mult, c->shift);
    v = v < act_min ? act_min : v;
    v = v > act_max ? act_max : v;
    return (int16_t)v;
}

/* The sum of one output pixel of one CONV_2D filter. */
static int64_t eq_s16_conv_sum(const eq_s16_conv_params *p, const int16_t *in, const int8_t *filter, int32_t y0,
                               int32_t x0) {
    int64_t acc = 0;
    int32_t ky, kx, c;
    for (ky = 0; ky < p->k_h; ++ky) {
        const int32_t y = y0 + ky * p->dil_h;
        if (y < 0 || y >= p->in_h) {
            continue;
        }
        for (kx = 0; kx < p->k_w; ++kx) {
            const int32_t x = x0 + kx * p->dil_w;
            const int16_t *px;
            const int8_t *tap;
            int32_t part = 0; /* partial sums of at most 256 products of 2^22: below 2^31 */
            if (x < 0 || x >= p->in_w) {
                continue;
            }
            px = in + ((int64_t)y * p->in_w + x) * p->in_c;
            tap = filter + ((int64_t)ky * p->k_w + kx) * p->in_c;
            for (c = 0; c < p->in_c; ++c) {
                part += (int32_t)tap[c] * px[c];
                if ((c & 255) == 255) {
                    acc += part;
                    part = 0;
                }
            }
            acc += part;
        }
    }
    return acc;
}

void eq_conv2d_s16(const eq_s16_conv_params *p, const int16_t *in, const int8_t *w, const eq_s16_channel *ch,
                   int16_t *out) {
    const int64_t filter_size = (int64_t)p->k_h * p->k_w * p->in_c;
    int32_t oy, ox, o;
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t y0 = oy * p->stride_h - p->pad_top;
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t x0 = ox * p->stride_w - p->pad_left;
            int16_t *dst = out + ((int64_t)oy * p->out_w + ox) * p->out_c;
            for (o = 0; o < p->out_c; ++o) {
                const int64_t acc = eq_s16_conv_sum(p, in, w + o * filter_size, y0, x0);
                dst[o] = eq_s16_output(acc, &ch[o], p->act_min, p->act_max);
            }
        }
    }
}

/* The sum of output channel o (input channel o / depth_multiplier) at one output pixel. */
static int64_t eq_s16_depthwise_sum(const eq_s16_conv_params *p, const int16_t *in, const int8_t *w, int32_t o,
                                    int32_t y0, int32_t x0) {
    const int32_t c = o / p->depth_multiplier;
    int64_t acc = 0;
    int32_t ky, kx;
    for (ky = 0; ky < p->k_h; ++ky) {
        const int32_t y = y0 + ky * p->dil_h;
        if (y < 0 || y >= p->in_h) {
            continue;
        }
        for (kx = 0; kx < p->k_w; ++kx) {
            const int32_t x = x0 + kx * p->dil_w;
            if (x < 0 || x >= p->in_w) {
                continue;
            }
            acc +=
                (int32_t)w[((int64_t)ky * p->k_w + kx) * p->out_c + o] * in[((int64_t)y * p->in_w + x) * p->in_c + c];
        }
    }
    return acc;
}

void eq_depthwise_conv2d_s16(const eq_s16_conv_params *p, const int16_t *in, const int8_t *w, const eq_s16_channel *ch,
                             int16_t *out) {
    int32_t oy, ox, o;
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t y0 = oy * p->stride_h - p->pad_top;
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t x0 = ox * p->stride_w - p->pad_left;
            int16_t *dst = out + ((int64_t)oy * p->out_w + ox) * p->out_c;
            for (o = 0; o < p->out_c; ++o) {
                dst[o] = eq_s16_output(eq_s16_depthwise_sum(p, in, w, o, y0, x0), &ch[o], p->act_min, p->act_max);
            }
        }
    }
}

void eq_fully_connected_s16(const eq_s16_fc_params *p, const int16_t *in, const int8_t *w, const eq_s16_channel *ch,
                            int16_t *out) {
    int32_t b, o, i;
    for (b = 0; b < p->batches; ++b) {
        const int16_t *x = in + (int64_t)b * p->in_depth;
        for (o = 0; o < p->out_depth; ++o) {
            const int8_t *row = w + (int64_t)o * p->in_depth;
            int64_t acc = 0;
            for (i = 0; i < p->in_depth; ++i) {
                acc += (int64_t)((int32_t)row[i] + p->weight_offset) * x[i];
            }
            out[(int64_t)b * p->out_depth + o] = eq_s16_output(acc, &ch[o], p->act_min, p->act_max);
        }
    }
}
