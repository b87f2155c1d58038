/*
 * edgeq_transpose_conv.c -- part of edgeq; copied unchanged into generated engines.
 *
 * TRANSPOSE_CONV on int8 NHWC (batch 1), per-channel or per-tensor weights
 * [out_c][k_h][k_w][in_c], with the sums TFLM's reference kernel forms. TFLM
 * scatters: input pixel (iy, ix) adds (x + in_offset) * w[oc][ky][kx][ic] to
 * output pixel (iy * stride - pad + ky, ix * stride - pad + kx). This kernel
 * gathers the same products per output pixel instead, so it needs no int32
 * buffer of the whole output: output row oy takes the filter rows ky = (oy +
 * pad) mod stride, that + stride, ... from input row (oy + pad - ky) / stride
 * while it lies inside the input (columns likewise). Integer sums do not
 * depend on their order, so the bytes are TFLM's. Two output channels share
 * each input read; cores with SIMD32 multiply four input channels per two
 * SMLADs. Each sum plus the channel's bias is requantized, offset and clamped
 * as CONV_2D's are (eq_channel_out).
 */
#include "edgeq_kernels.h"

/* The sum of one tap: n products (x + in_offset) * w of an input pixel and a filter row. */
static int32_t eq_tap_dot(const int8_t *x, const int8_t *w, int32_t n, int32_t in_offset) {
    int32_t acc = 0;
    int32_t i = 0;
#if EQ_USE_SIMD32
    const int32_t offsets = eq_offsets(in_offset); /* x + in_offset fits each 16-bit half */
    for (; i + 4 <= n; i += 4) {
        const int32_t xw = eq_word(x + i), ww = eq_word(w + i);
        acc = __smlad(__sxtab16(offsets, xw), __sxtb16(ww), acc);
        acc = __smlad(eq_sxtab16_odd(offsets, xw), eq_sxtb16_odd(ww), acc);
    }
#endif
    for (; i < n; ++i) {
        acc += ((int32_t)x[i] + in_offset) * (int32_t)w[i];
    }
    return acc;
}

/* eq_tap_dot of one input pixel against the filter rows w0 and w1 of two output channels (the input read once). */
static void eq_tap_dot2(const int8_t *x, const int8_t *w0, const int8_t *w1, int32_t n, int32_t in_offset,
                        int32_t acc[2]) {
    int32_t a0 = 0, a1 = 0;
    int32_t i = 0;
#if EQ_USE_SIMD32
    const int32_t offsets = eq_offsets(in_offset);
    for (; i + 4 <= n; i += 4) {
        const int32_t xw = eq_word(x + i), w0w = eq_word(w0 + i), w1w = eq_word(w1 + i);
        const int32_t even = __sxtab16(offsets, xw), odd = eq_sxtab16_odd(offsets, xw);
        a0 = __smlad(even, __sxtb16(w0w), a0);
        a0 = __smlad(odd, eq_sxtb16_odd(w0w), a0);
        a1 = __smlad(even, __sxtb16(w1w), a1);
        a1 = __smlad(odd, eq_sxtb16_odd(w1w), a1);
    }
#endif
    for (; i < n; ++i) {
        const int32_t v = (int32_t)x[i] + in_offset;
        a0 += v * (int32_t)w0[i];
        a1 += v * (int32_t)w1[i];
    }
    acc[0] += a0;
    acc[1] += a1;
}

/* The taps of one output position along an axis: the first filter index k0 and its input index i0;
   each further tap is k0 + t * stride reading input i0 - t, for `count` taps. */
typedef struct {
    int32_t k0, i0, count;
} eq_axis_span;

static eq_axis_span eq_axis_taps(int32_t pos, int32_t pad, int32_t k, int32_t stride, int32_t size) {
    eq_axis_span t;
    const int32_t shifted = pos + pad; /* pos, pad >= 0 */
    int32_t first = shifted % stride;  /* smallest filter index landing on an input pixel */
    int32_t i0 = (shifted - first) / stride;
    t.count = 0;
    while (i0 >= size && first < k) { /* filter indices whose input row lies past the input */
        first += stride;
        i0 -= 1;
    }
    t.k0 = first;
    t.i0 = i0;
    while (first < k && i0 >= 0) {
        ++t.count;
        first += stride;
        i0 -= 1;
    }
    return t;
}

static int32_t eq_transpose_sum(const eq_transpose_conv_params *p, const int8_t *in, const int8_t *w,
                                const eq_axis_span *ty, const eq_axis_span *tx) {
    int32_t acc = 0;
    int32_t a, b;
    for (a = 0; a < ty->count; ++a) {
        const int32_t ky = ty->k0 + a * p->stride_h, iy = ty->i0 - a;
        for (b = 0; b < tx->count; ++b) {
            const int32_t kx = tx->k0 + b * p->stride_w, ix = tx->i0 - b;
            const int8_t *x = in + ((size_t)iy * (size_t)p->in_w + (size_t)ix) * (size_t)p->in_c;
            const int8_t *row = w + ((size_t)ky * (size_t)p->k_w + (size_t)kx) * (size_t)p->in_c;
            acc += eq_tap_dot(x, row, p->in_c, p->in_offset);
        }
    }
    return acc;
}

/* eq_transpose_sum of two output channels, whose filters are w0 and w0 + filter. */
static void eq_transpose_sum2(const eq_transpose_conv_params *p, const int8_t *in, const int8_t *w0, size_t filter,
                              const eq_axis_span *ty, const eq_axis_span *tx, int32_t acc[2]) {
    int32_t a, b;
    acc[0] = 0;
    acc[1] = 0;
    for (a = 0; a < ty->count; ++a) {
        const int32_t ky = ty->k0 + a * p->stride_h, iy = ty->i0 - a;
        for (b = 0; b < tx->count; ++b) {
            const int32_t kx = tx->k0 + b * p->stride_w, ix = tx->i0 - b;
            const int8_t *x = in + ((size_t)iy * (size_t)p->in_w + (size_t)ix) * (size_t)p->in_c;
            const int8_t *row = w0 + ((size_t)ky * (size_t)p->k_w + (size_t)kx) * (size_t)p->in_c;
            eq_tap_dot2(x, row, row + filter, p->in_c, p->in_offset, acc);
        }
    }
}

void eq_transpose_conv_s8(const eq_transpose_conv_params *p, const int8_t *in, const int8_t *w, const eq_channel *ch,
                          int8_t *out) {
    const size_t filter = (size_t)p->k_h * (size_t)p->k_w * (size_t)p->in_c;
    int32_t oy, ox, oc;
    for (oy = 0; oy < p->out_h; ++oy) {
        const eq_axis_span ty = eq_axis_taps(oy, p->pad_top, p->k_h, p->stride_h, p->in_h);
        for (ox = 0; ox < p->out_w; ++ox) {
            const eq_axis_span tx = eq_axis_taps(ox, p->pad_left, p->k_w, p->stride_w, p->in_w);
            for (oc = 0; oc + 2 <= p->out_c; oc += 2) { /* two channels at a time, then the odd one */
                int32_t acc[2];
                eq_transpose_sum2(p, in, w + (size_t)oc * filter, filter, &ty, &tx, acc);
                *out++ = eq_channel_out(&ch[oc], p->rq, acc[0] + ch[oc].bias, p->out_offset, p->act_min, p->act_max);
                *out++ =
                    eq_channel_out(&ch[oc + 1], p->rq, acc[1] + ch[oc + 1].bias, p->out_offset, p->act_min, p->act_max);
            }
            if (oc < p->out_c) {
                const int32_t acc = eq_transpose_sum(p, in, w + (size_t)oc * filter, &ty, &tx) + ch[oc].bias;
                *out++ = eq_channel_out(&ch[oc], p->rq, acc, p->out_offset, p->act_min, p->act_max);
            }
        }
    }
}
