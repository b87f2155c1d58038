/*
 * edgeq_conv.c -- part of edgeq; copied unchanged into generated engines.
 *
 * CONV_2D and DEPTHWISE_CONV_2D on int8 NHWC tensors (batch 1), computed as
 * TFLM's reference kernels do: taps outside the image are skipped, every
 * output channel gets acc = bias + sum w * (x + in_offset), then
 * MultiplyByQuantizedMultiplier with its own multiplier and shift, + out_offset,
 * and the clamp to [act_min, act_max].
 *
 * On cores with the 32-bit SIMD instructions (Cortex-M4/M7/M33/M55: ACLE's
 * __ARM_FEATURE_SIMD32) the CONV_2D dot product takes four taps per step with
 * SXTAB16/SMLAD. It adds the same int32 products as the portable loop, so both
 * paths give the same bytes. Define EDGEQ_NO_SIMD to force the portable path.
 */
#include "edgeq_kernels.h"

#include <string.h>

#if defined(__ARM_FEATURE_SIMD32) && defined(__ARM_FEATURE_DSP) && !defined(EDGEQ_NO_SIMD)
#include <arm_acle.h>
#define EQ_USE_SIMD32 1
#else
#define EQ_USE_SIMD32 0
#endif

/* acc + bias without signed overflow (TFLM's int32 addition wraps on its targets). */
static int32_t eq_add_bias(int32_t acc, const int32_t *bias, int32_t channel)
{
    uint32_t sum;
    if (bias == NULL) {
        return acc;
    }
    sum = (uint32_t)acc + (uint32_t)bias[channel];
    return sum <= (uint32_t)INT32_MAX ? (int32_t)sum : -(int32_t)(~sum) - 1;
}

static int8_t eq_output(int32_t acc, int32_t mult, int32_t shift, const eq_conv_params *p)
{
    int32_t y = eq_mbqm(acc, mult, shift) + p->out_offset;
    y = y < p->act_min ? p->act_min : y;
    y = y > p->act_max ? p->act_max : y;
    return (int8_t)y;
}

/* sum over i < n of w[i] * (x[i] + x_offset) */
static int32_t eq_dot_s8(const int8_t *x, const int8_t *w, int32_t n, int32_t x_offset)
{
    int32_t acc = 0;
    int32_t i = 0;
#if EQ_USE_SIMD32
    /* x_offset is -zero_point, in [-127, 128]: it fits each 16-bit half, and so does x + x_offset. */
    const uint32_t half = (uint32_t)x_offset & 0xFFFFu;
    const int16x2_t offsets = (int16x2_t)((half << 16) | half);
    for (; i + 4 <= n; i += 4) {
        uint32_t xb;
        uint32_t wb;
        memcpy(&xb, x + i, sizeof xb);
        memcpy(&wb, w + i, sizeof wb);
        /* bytes 0 and 2, then bytes 1 and 3, each widened to a pair of int16 */
        acc = __smlad(__sxtab16(offsets, (int8x4_t)xb), __sxtb16((int8x4_t)wb), acc);
        acc = __smlad(__sxtab16(offsets, (int8x4_t)((xb >> 8) | (xb << 24))),
                      __sxtb16((int8x4_t)((wb >> 8) | (wb << 24))), acc);
    }
#endif
    {
        /* sum w * (x + off) = sum w * x + off * sum w: the same int32 result, and a plain
           int8 x int8 dot product that compilers vectorize. */
        int32_t dot = 0;
        int32_t wsum = 0;
        for (; i < n; ++i) {
            dot += (int32_t)w[i] * (int32_t)x[i];
            wsum += (int32_t)w[i];
        }
        return acc + dot + wsum * x_offset;
    }
}

/* Filter sums per output channel for the interior fast path of the portable build (targets
   with the DSP extension use the SIMD dot product instead and do not reserve it). Static, like
   every buffer of the engine, which runs one inference at a time: 4 * EQ_CONV_MAX_SUMS bytes.
   Layers with more output channels take the general path. */
#ifndef EQ_CONV_MAX_SUMS
#define EQ_CONV_MAX_SUMS 256
#endif
#if !EQ_USE_SIMD32
static int32_t eq_filter_sums[EQ_CONV_MAX_SUMS];
#else
static int32_t eq_filter_sums[1];
#endif

/* sum over i < n of w[i] * x[i] (compilers vectorize this loop) */
static int32_t eq_dot_plain(const int8_t *x, const int8_t *w, int32_t n)
{
    int32_t acc = 0;
    int32_t i;
    for (i = 0; i < n; ++i) {
        acc += (int32_t)w[i] * (int32_t)x[i];
    }
    return acc;
}

/* All taps inside the image and no dilation: sum w * (x + off) = dot(w, x) + off * sum(w),
   the same int32 result with the offset taken out of the inner loop. */
static int32_t eq_conv_interior(const eq_conv_params *p, const int8_t *in, const int8_t *filter, int32_t y0,
                                int32_t x0, int32_t filter_sum)
{
    const int32_t row = p->k_w * p->in_c;
    int32_t acc = 0;
    int32_t ky;
    for (ky = 0; ky < p->k_h; ++ky) {
        acc += eq_dot_plain(in + ((y0 + ky) * p->in_w + x0) * p->in_c, filter + ky * row, row);
    }
    return acc + p->in_offset * filter_sum;
}

/* The conv result of one output element, or, with an ADD epilogue, that result added to the
   residual element at the same position (read before it is overwritten). */
static int8_t eq_conv_store(int32_t acc, int32_t oc, const eq_conv_params *p, const int32_t *mult,
                            const int32_t *shift, const eq_binary_params *add, int32_t conv_is_in1,
                            const int8_t *slot)
{
    const int8_t v = eq_output(acc, mult[oc], shift[oc], p);
    if (add == NULL) {
        return v;
    }
    return conv_is_in1 ? eq_add_value_s8(add, v, *slot) : eq_add_value_s8(add, *slot, v);
}

static void eq_conv2d_core(const eq_conv_params *p, const eq_binary_params *add, int32_t conv_is_in1,
                           const int8_t *in, const int8_t *w, const int32_t *bias, const int32_t *mult,
                           const int32_t *shift, int8_t *out);

void eq_conv2d_s8(const eq_conv_params *p, const int8_t *in, const int8_t *w, const int32_t *bias,
                  const int32_t *mult, const int32_t *shift, int8_t *out)
{
    eq_conv2d_core(p, NULL, 0, in, w, bias, mult, shift, out);
}

void eq_conv2d_add_s8(const eq_conv_params *p, const eq_binary_params *add, int32_t conv_is_in1, const int8_t *in,
                      const int8_t *w, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                      int8_t *residual_inout)
{
    eq_conv2d_core(p, add, conv_is_in1, in, w, bias, mult, shift, residual_inout);
}

static void eq_conv2d_core(const eq_conv_params *p, const eq_binary_params *add, int32_t conv_is_in1,
                           const int8_t *in, const int8_t *w, const int32_t *bias, const int32_t *mult,
                           const int32_t *shift, int8_t *out)
{
    const int32_t taps = p->k_h * p->k_w * p->in_c;
    const int sums = !EQ_USE_SIMD32 && p->out_c <= EQ_CONV_MAX_SUMS && p->dil_h == 1 && p->dil_w == 1;
    int32_t oy, ox, oc, ky, kx;
    if (sums) {
        for (oc = 0; oc < p->out_c; ++oc) {
            int32_t i, total = 0;
            for (i = 0; i < taps; ++i) {
                total += (int32_t)w[oc * taps + i];
            }
            eq_filter_sums[oc] = total;
        }
    }
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t y0 = oy * p->stride_h - p->pad_top;
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t x0 = ox * p->stride_w - p->pad_left;
            const int row_whole = p->dil_w == 1 && x0 >= 0 && x0 + p->k_w <= p->in_w;
            const int interior = sums && row_whole && y0 >= 0 && y0 + p->k_h <= p->in_h;
            for (oc = 0; oc < p->out_c; ++oc) {
                const int8_t *filter = w + oc * taps;
                int32_t acc = 0;
                if (interior) {
                    acc = eq_conv_interior(p, in, filter, y0, x0, eq_filter_sums[oc]);
                    acc = eq_add_bias(acc, bias, oc);
                    *out = eq_conv_store(acc, oc, p, mult, shift, add, conv_is_in1, out);
                    ++out;
                    continue;
                }
                for (ky = 0; ky < p->k_h; ++ky) {
                    const int32_t iy = y0 + ky * p->dil_h;
                    if (iy < 0 || iy >= p->in_h) {
                        continue;
                    }
                    if (row_whole) {
                        /* the whole filter row lies inside the image: one contiguous dot product */
                        acc += eq_dot_s8(in + (iy * p->in_w + x0) * p->in_c, filter + ky * p->k_w * p->in_c,
                                         p->k_w * p->in_c, p->in_offset);
                        continue;
                    }
                    for (kx = 0; kx < p->k_w; ++kx) {
                        const int32_t ix = x0 + kx * p->dil_w;
                        if (ix < 0 || ix >= p->in_w) {
                            continue;
                        }
                        acc += eq_dot_s8(in + (iy * p->in_w + ix) * p->in_c, filter + (ky * p->k_w + kx) * p->in_c,
                                         p->in_c, p->in_offset);
                    }
                }
                acc = eq_add_bias(acc, bias, oc);
                *out = eq_conv_store(acc, oc, p, mult, shift, add, conv_is_in1, out);
                    ++out;
            }
        }
    }
}

#define EQ_DW_BLOCK 64

/* Per-channel sums of the depthwise filter taps, for interior pixels of the portable build
   (static like every engine buffer: 4 * EQ_CONV_MAX_SUMS bytes, shared with the conv sums). */
static int eq_depthwise_sums(const eq_conv_params *p, const int8_t *w)
{
    int32_t c, t;
    if (EQ_USE_SIMD32 || p->in_c > EQ_CONV_MAX_SUMS || p->dil_h != 1 || p->dil_w != 1) {
        return 0;
    }
    for (c = 0; c < p->in_c; ++c) {
        int32_t total = 0;
        for (t = 0; t < p->k_h * p->k_w; ++t) {
            total += (int32_t)w[t * p->in_c + c];
        }
        eq_filter_sums[c] = total;
    }
    return 1;
}

/* Interior pixel, depth multiplier 1: acc[c] = sum over taps of w * x, then + offset * tap sum. */
static void eq_depthwise_interior(const eq_conv_params *p, const int8_t *in, const int8_t *w, int32_t y0,
                                  int32_t x0, int32_t c0, int32_t n, int32_t *acc)
{
    int32_t ky, kx, c;
    for (c = 0; c < n; ++c) {
        acc[c] = p->in_offset * eq_filter_sums[c0 + c];
    }
    for (ky = 0; ky < p->k_h; ++ky) {
        for (kx = 0; kx < p->k_w; ++kx) {
            const int8_t *xs = in + ((y0 + ky) * p->in_w + x0 + kx) * p->in_c + c0;
            const int8_t *ws = w + (ky * p->k_w + kx) * p->in_c + c0;
            for (c = 0; c < n; ++c) {
                acc[c] += (int32_t)ws[c] * (int32_t)xs[c];
            }
        }
    }
}

/* Depth multiplier 1: per output pixel, accumulate a block of channels at once (vectorizable). */
static void eq_depthwise_m1(const eq_conv_params *p, const int8_t *in, const int8_t *w, const int32_t *bias,
                            const int32_t *mult, const int32_t *shift, int8_t *out)
{
    int32_t acc[EQ_DW_BLOCK];
    int32_t oy, ox, c0, c, ky, kx;
    const int32_t channels = p->in_c;
    const int sums = eq_depthwise_sums(p, w);
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t y0 = oy * p->stride_h - p->pad_top;
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t x0 = ox * p->stride_w - p->pad_left;
            const int interior = sums && y0 >= 0 && x0 >= 0 && y0 + p->k_h <= p->in_h && x0 + p->k_w <= p->in_w;
            for (c0 = 0; c0 < channels; c0 += EQ_DW_BLOCK) {
                const int32_t n = channels - c0 < EQ_DW_BLOCK ? channels - c0 : EQ_DW_BLOCK;
                if (interior) {
                    eq_depthwise_interior(p, in, w, y0, x0, c0, n, acc);
                    for (c = 0; c < n; ++c) {
                        *out++ = eq_output(eq_add_bias(acc[c], bias, c0 + c), mult[c0 + c], shift[c0 + c], p);
                    }
                    continue;
                }
                for (c = 0; c < n; ++c) {
                    acc[c] = 0;
                }
                for (ky = 0; ky < p->k_h; ++ky) {
                    const int32_t iy = y0 + ky * p->dil_h;
                    if (iy < 0 || iy >= p->in_h) {
                        continue;
                    }
                    for (kx = 0; kx < p->k_w; ++kx) {
                        const int32_t ix = x0 + kx * p->dil_w;
                        const int8_t *xs;
                        const int8_t *ws;
                        if (ix < 0 || ix >= p->in_w) {
                            continue;
                        }
                        xs = in + (iy * p->in_w + ix) * channels + c0;
                        ws = w + (ky * p->k_w + kx) * channels + c0;
                        for (c = 0; c < n; ++c) {
                            acc[c] += (int32_t)ws[c] * ((int32_t)xs[c] + p->in_offset);
                        }
                    }
                }
                for (c = 0; c < n; ++c) {
                    *out++ = eq_output(eq_add_bias(acc[c], bias, c0 + c), mult[c0 + c], shift[c0 + c], p);
                }
            }
        }
    }
}

void eq_depthwise_conv2d_s8(const eq_conv_params *p, const int8_t *in, const int8_t *w, const int32_t *bias,
                            const int32_t *mult, const int32_t *shift, int8_t *out)
{
    int32_t oy, ox, ic, m, ky, kx;
    if (p->depth_multiplier == 1) {
        eq_depthwise_m1(p, in, w, bias, mult, shift, out);
        return;
    }
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t y0 = oy * p->stride_h - p->pad_top;
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t x0 = ox * p->stride_w - p->pad_left;
            for (ic = 0; ic < p->in_c; ++ic) {
                for (m = 0; m < p->depth_multiplier; ++m) {
                    const int32_t oc = ic * p->depth_multiplier + m;
                    int32_t acc = 0;
                    for (ky = 0; ky < p->k_h; ++ky) {
                        const int32_t iy = y0 + ky * p->dil_h;
                        if (iy < 0 || iy >= p->in_h) {
                            continue;
                        }
                        for (kx = 0; kx < p->k_w; ++kx) {
                            const int32_t ix = x0 + kx * p->dil_w;
                            if (ix < 0 || ix >= p->in_w) {
                                continue;
                            }
                            acc += (int32_t)w[(ky * p->k_w + kx) * p->out_c + oc] *
                                   ((int32_t)in[(iy * p->in_w + ix) * p->in_c + ic] + p->in_offset);
                        }
                    }
                    acc = eq_add_bias(acc, bias, oc);
                    *out++ = eq_output(acc, mult[oc], shift[oc], p);
                }
            }
        }
    }
}

#define EQ_1X1_BLOCK 64

/* 1x1 CONV_2D (any stride, no padding). Weights come transposed to [in_c][out_c] and the
   generator has folded in_offset * sum(w) into the bias, so each output pixel is a sum over
   input channels of x[ic] times a contiguous row of weights, accumulated for a block of
   output channels at once (a loop compilers vectorize). The same int32 sums as eq_conv2d_s8. */
void eq_conv1x1_s8(const eq_conv_params *p, const int8_t *in, const int8_t *wt, const int32_t *bias,
                   const int32_t *mult, const int32_t *shift, int8_t *out)
{
    int32_t acc[EQ_1X1_BLOCK];
    int32_t oy, ox, oc0, ic, j;
    for (oy = 0; oy < p->out_h; ++oy) {
        for (ox = 0; ox < p->out_w; ++ox) {
            const int8_t *x = in + ((oy * p->stride_h) * p->in_w + ox * p->stride_w) * p->in_c;
            for (oc0 = 0; oc0 < p->out_c; oc0 += EQ_1X1_BLOCK) {
                const int32_t n = p->out_c - oc0 < EQ_1X1_BLOCK ? p->out_c - oc0 : EQ_1X1_BLOCK;
                for (j = 0; j < n; ++j) {
                    acc[j] = bias[oc0 + j];
                }
                for (ic = 0; ic < p->in_c; ++ic) {
                    const int32_t xv = x[ic];
                    const int8_t *row = wt + ic * p->out_c + oc0;
                    for (j = 0; j < n; ++j) {
                        acc[j] += (int32_t)row[j] * xv;
                    }
                }
                for (j = 0; j < n; ++j) {
                    *out++ = eq_output(acc[j], mult[oc0 + j], shift[oc0 + j], p);
                }
            }
        }
    }
}
