/*
 * edgeq_conv.c -- part of edgeq; copied unchanged into generated engines.
 *
 * CONV_2D and DEPTHWISE_CONV_2D on int8 NHWC tensors (batch 1), computed as
 * TFLM's reference kernels do: taps outside the image are skipped, every
 * output channel gets acc = bias + sum w * (x + in_offset), then
 * MultiplyByQuantizedMultiplier with its own multiplier and shift, + out_offset,
 * and the clamp to [act_min, act_max].
 *
 * CONV_2D copies the receptive fields of two output pixels into int16 columns
 * (x + in_offset, 0 outside the image: a skipped tap and a zero tap add the same
 * nothing) and runs the matrix kernel of edgeq_matmul.c over them; 1x1 filters
 * are the one-tap case. DEPTHWISE_CONV_2D with depth multiplier 1 accumulates
 * channels side by side: in int32 sums in the scratch region (a loop compilers
 * vectorize), or, with the SIMD32 instructions, four channels at a time in
 * registers with SXTAB16/SXTB16 and SMLABB/SMLATT. Both give the same int32 sums.
 */
#include "edgeq_kernels.h"

#include <string.h>

int32_t eq_conv2d_scratch_bytes(const eq_conv_params *p)
{
    const int32_t taps = p->k_h * p->k_w * p->in_c;
    const int32_t padded = (taps + EQ_COL_ALIGN_MAX - 1) / EQ_COL_ALIGN_MAX * EQ_COL_ALIGN_MAX;
    return EQ_MM_COLS * padded * (int32_t)sizeof(int16_t); /* a block of columns */
}

int32_t eq_depthwise_scratch_bytes(const eq_conv_params *p)
{
    return p->depth_multiplier == 1 ? p->out_c * (int32_t)sizeof(int32_t) : 0;
}

/* Column j of b: the receptive field of output pixel `pixel`, tap order (ky, kx, channel). */
static void eq_im2col(const eq_conv_params *p, const int8_t *in, int32_t pixel, const eq_cols *b, int32_t j)
{
    const int32_t y0 = pixel / p->out_w * p->stride_h - p->pad_top;
    const int32_t x0 = pixel % p->out_w * p->stride_w - p->pad_left;
    const int32_t row = p->k_w * p->in_c;
    const int row_whole = p->dil_w == 1 && x0 >= 0 && x0 + p->k_w <= p->in_w;
    int32_t ky, kx, k = 0;
    for (ky = 0; ky < p->k_h; ++ky, k += row) {
        const int32_t iy = y0 + ky * p->dil_h;
        if (iy < 0 || iy >= p->in_h) {
            eq_col_zero(b, j, k, row);
        } else if (row_whole) {
            /* the whole filter row lies inside the image: one contiguous run */
            eq_col_put_s8(b, j, k, in + (iy * p->in_w + x0) * p->in_c, row, p->in_offset);
        } else {
            for (kx = 0; kx < p->k_w; ++kx) {
                const int32_t ix = x0 + kx * p->dil_w;
                if (ix < 0 || ix >= p->in_w) {
                    eq_col_zero(b, j, k + kx * p->in_c, p->in_c);
                } else {
                    eq_col_put_s8(b, j, k + kx * p->in_c, in + (iy * p->in_w + ix) * p->in_c, p->in_c, p->in_offset);
                }
            }
        }
    }
    eq_col_zero(b, j, k, b->n - k);
}

static void eq_conv2d_core(const eq_conv_params *p, const eq_binary_params *add, int32_t conv_is_in1,
                           const int8_t *in, const int8_t *w, const int32_t *bias, const int32_t *mult,
                           const int32_t *shift, int16_t *scratch, int8_t *out)
{
    const int32_t taps = p->k_h * p->k_w * p->in_c;
    const int32_t pixels = p->out_h * p->out_w;
    eq_matmul m;
    eq_cols b;
    int32_t px, j;
    m.w = w;
    m.rows = p->out_c;
    m.len = taps;
    m.bias = bias;
    m.mult = mult;
    m.shift = shift;
    m.per_channel = 1;
    m.out_offset = p->out_offset;
    m.act_min = p->act_min;
    m.act_max = p->act_max;
    eq_matmul_set_add(&m, add, conv_is_in1);
    b.base = scratch;
    b.cols = EQ_MM_COLS;
    b.n = eq_col_len(taps);
    for (px = 0; px < pixels; px += EQ_MM_COLS) {
        const int32_t used = pixels - px < EQ_MM_COLS ? pixels - px : EQ_MM_COLS;
        /* a last, partial block repeats its last pixel in the unused columns (computed, not stored) */
        for (j = 0; j < EQ_MM_COLS; ++j) {
            eq_im2col(p, in, px + (j < used ? j : used - 1), &b, j);
        }
        eq_matmul_s8(&m, &b, used, out + px * p->out_c, p->out_c);
    }
}

void eq_conv2d_s8(const eq_conv_params *p, const int8_t *in, const int8_t *w, const int32_t *bias,
                  const int32_t *mult, const int32_t *shift, void *scratch, int8_t *out)
{
    eq_conv2d_core(p, NULL, 0, in, w, bias, mult, shift, (int16_t *)scratch, out);
}

void eq_conv2d_add_s8(const eq_conv_params *p, const eq_binary_params *add, int32_t conv_is_in1, const int8_t *in,
                      const int8_t *w, const int32_t *bias, const int32_t *mult, const int32_t *shift, void *scratch,
                      int8_t *residual_inout)
{
    eq_conv2d_core(p, add, conv_is_in1, in, w, bias, mult, shift, (int16_t *)scratch, residual_inout);
}

/* ---- DEPTHWISE_CONV_2D ---- */

/* The taps of one output pixel that fall inside the image: rows ky_lo .. ky_hi - 1 and columns
   kx_lo .. kx_hi - 1 of the filter; x and w point at the input pixel and the weights of the first. */
typedef struct {
    const int8_t *x, *w;
    int32_t rows, cols;
} eq_taps;

static int32_t eq_first_tap(int32_t origin, int32_t dil)
{
    return origin >= 0 ? 0 : (-origin + dil - 1) / dil;
}

static int32_t eq_end_tap(int32_t origin, int32_t dil, int32_t k, int32_t size)
{
    int32_t end = k;
    while (end > 0 && origin + (end - 1) * dil >= size) {
        --end;
    }
    return end;
}

static eq_taps eq_taps_at(const eq_conv_params *p, const int8_t *in, const int8_t *w, int32_t oy, int32_t ox)
{
    const int32_t y0 = oy * p->stride_h - p->pad_top, x0 = ox * p->stride_w - p->pad_left;
    const int32_t ky = eq_first_tap(y0, p->dil_h), kx = eq_first_tap(x0, p->dil_w);
    eq_taps t;
    t.rows = eq_end_tap(y0, p->dil_h, p->k_h, p->in_h) - ky;
    t.cols = eq_end_tap(x0, p->dil_w, p->k_w, p->in_w) - kx;
    t.x = in + ((y0 + ky * p->dil_h) * p->in_w + x0 + kx * p->dil_w) * p->in_c;
    t.w = w + (ky * p->k_w + kx) * p->out_c;
    return t;
}

static inline void eq_dw_store(const eq_conv_params *p, int32_t c, int32_t acc, const int32_t *bias,
                               const int32_t *mult, const int32_t *shift, int8_t *out)
{
    if (bias != NULL) {
        acc = eq_add_wrap(acc, bias[c]);
    }
    out[c] = eq_requant_s8(acc, mult[c], shift[c], p->out_offset, p->act_min, p->act_max);
}

#if EQ_USE_SIMD32
/* The four sums of channels c .. c+3. */
typedef struct {
    int32_t s0, s1, s2, s3;
} eq_dw_sums;

/* Channels c .. c+3 of one output pixel, sums in registers: per tap one word of inputs and one of
   weights, split into 16-bit lanes (x + offset with SXTAB16, w with SXTB16) and multiplied lane by
   lane with SMLABB / SMLATT. x_step / x_row: bytes to the next tap / filter row in the input. */
static EQ_NOINLINE eq_dw_sums eq_dw_block4(const int8_t *x, const int8_t *w, int32_t rows, int32_t cols,
                                           int32_t x_step, int32_t x_row, int32_t w_step, int32_t w_row,
                                           int32_t offsets)
{
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    eq_dw_sums s;
    for (; rows > 0; --rows, x += x_row, w += w_row) {
        const int8_t *xs = x, *ws = w;
        int32_t kx;
        for (kx = cols; kx > 0; --kx, xs += x_step, ws += w_step) {
            int32_t xw, ww, xe, xo, we, wo;
            memcpy(&xw, xs, sizeof xw);
            memcpy(&ww, ws, sizeof ww);
            xe = __sxtab16(offsets, xw);
            xo = eq_sxtab16_odd(offsets, xw);
            we = __sxtb16(ww);
            wo = eq_sxtb16_odd(ww);
            a0 = __smlabb(xe, we, a0);
            a2 = __smlatt(xe, we, a2);
            a1 = __smlabb(xo, wo, a1);
            a3 = __smlatt(xo, wo, a3);
        }
    }
    s.s0 = a0;
    s.s1 = a1;
    s.s2 = a2;
    s.s3 = a3;
    return s;
}

/* Channels 0 .. 4 * (channels / 4) - 1 of one output pixel. */
static int32_t eq_dw_simd(const eq_conv_params *p, const eq_taps *t, const int32_t *bias, const int32_t *mult,
                          const int32_t *shift, int8_t *out)
{
    const uint32_t half = (uint32_t)p->in_offset & 0xFFFFu;
    const int32_t offsets = eq_from_bits((half << 16) | half);
    const int32_t x_step = p->dil_w * p->in_c, x_row = p->dil_h * p->in_w * p->in_c, w_row = p->k_w * p->out_c;
    int32_t c;
    for (c = 0; c + 4 <= p->in_c; c += 4) {
        const eq_dw_sums s =
            eq_dw_block4(t->x + c, t->w + c, t->rows, t->cols, x_step, x_row, p->out_c, w_row, offsets);
        eq_dw_store(p, c, s.s0, bias, mult, shift, out);
        eq_dw_store(p, c + 1, s.s1, bias, mult, shift, out);
        eq_dw_store(p, c + 2, s.s2, bias, mult, shift, out);
        eq_dw_store(p, c + 3, s.s3, bias, mult, shift, out);
    }
    return c;
}
#endif

/* One output pixel, depth multiplier 1, channels from c on: sums[c] side by side, tap after tap
   (a loop compilers vectorize), then the outputs. */
static void eq_dw_channels(const eq_conv_params *p, const eq_taps *t, int32_t c, int32_t *sums,
                           const int32_t *bias, const int32_t *mult, const int32_t *shift, int8_t *out)
{
    const int32_t channels = p->in_c;
    const int32_t x_step = p->dil_w * p->in_c, x_row = p->dil_h * p->in_w * p->in_c, w_row = p->k_w * p->out_c;
    const int8_t *x = t->x, *w = t->w;
    int32_t ky, kx, j;
    for (j = c; j < channels; ++j) {
        sums[j] = 0;
    }
    for (ky = 0; ky < t->rows; ++ky, x += x_row, w += w_row) {
        const int8_t *xs = x, *ws = w;
        for (kx = 0; kx < t->cols; ++kx, xs += x_step, ws += p->out_c) {
            for (j = c; j < channels; ++j) {
                sums[j] += (int32_t)ws[j] * (int32_t)(int16_t)(xs[j] + p->in_offset);
            }
        }
    }
    for (j = c; j < channels; ++j) {
        eq_dw_store(p, j, sums[j], bias, mult, shift, out);
    }
}

/* Any depth multiplier: output channel oc = ic * depth_multiplier + m. */
static void eq_dw_general(const eq_conv_params *p, const eq_taps *t, const int32_t *bias, const int32_t *mult,
                          const int32_t *shift, int8_t *out)
{
    const int32_t x_step = p->dil_w * p->in_c, x_row = p->dil_h * p->in_w * p->in_c, w_row = p->k_w * p->out_c;
    int32_t oc, ky, kx;
    for (oc = 0; oc < p->out_c; ++oc) {
        const int32_t ic = oc / p->depth_multiplier;
        int32_t acc = 0;
        for (ky = 0; ky < t->rows; ++ky) {
            for (kx = 0; kx < t->cols; ++kx) {
                acc += (int32_t)t->w[ky * w_row + kx * p->out_c + oc] *
                       ((int32_t)t->x[ky * x_row + kx * x_step + ic] + p->in_offset);
            }
        }
        eq_dw_store(p, oc, acc, bias, mult, shift, out);
    }
}

void eq_depthwise_conv2d_s8(const eq_conv_params *p, const int8_t *in, const int8_t *w, const int32_t *bias,
                            const int32_t *mult, const int32_t *shift, void *scratch, int8_t *out)
{
    int32_t oy, ox;
    for (oy = 0; oy < p->out_h; ++oy) {
        for (ox = 0; ox < p->out_w; ++ox, out += p->out_c) {
            const eq_taps t = eq_taps_at(p, in, w, oy, ox);
            int32_t c = 0;
            if (p->depth_multiplier != 1) {
                eq_dw_general(p, &t, bias, mult, shift, out);
                continue;
            }
#if EQ_USE_SIMD32
            c = eq_dw_simd(p, &t, bias, mult, shift, out);
#endif
            if (c < p->in_c) {
                eq_dw_channels(p, &t, c, (int32_t *)scratch, bias, mult, shift, out);
            }
        }
    }
}
