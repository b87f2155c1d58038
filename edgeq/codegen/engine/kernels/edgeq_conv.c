/*
 * edgeq_conv.c -- part of edgeq; copied unchanged into generated engines.
 *
 * CONV_2D on int8 NHWC tensors (batch 1), computed as
 * TFLM's reference kernels do: taps outside the image are skipped, every
 * output channel gets acc = bias + sum w * (x + in_offset), then
 * MultiplyByQuantizedMultiplier with its own multiplier and shift, + out_offset,
 * and the clamp to [act_min, act_max] (the op's eq_channel table and rq form).
 *
 * CONV_2D copies the receptive fields of up to eight output pixels (four, or
 * one, where the generator keeps the scratch small) into int16 columns
 * (x + in_offset, 0 outside the image: a skipped tap and a zero tap add the
 * same nothing) and runs the matrix kernel of edgeq_matmul.c over them; 1x1
 * filters are the one-tap case. With cols 0 it needs no scratch: each output
 * channel is summed straight from the int8 input over the taps inside the
 * image, the smallest and slowest form. Each filter row of a column starts a group of
 * four taps (the weights are laid out that way, zero padded): a row inside the
 * image is one run of whole words, the padding taps read whatever input follows
 * (times a zero weight) when it exists. DEPTHWISE_CONV_2D is in
 * edgeq_depthwise.c (a model without it links none of its code).
 */
#include "edgeq_kernels.h"

int32_t eq_conv_row_taps(const eq_conv_params *p) {
    return (p->k_w * p->in_c + EQ_ROW_ALIGN - 1) / EQ_ROW_ALIGN * EQ_ROW_ALIGN;
}

/* Columns per block: EQ_MM_COLS, or 4 or 1 where the generator keeps the scratch small (0: none). */
static int32_t eq_conv_cols(const eq_conv_params *p) {
    return p->cols == 4 || p->cols == 1 || p->cols == 0 ? p->cols : EQ_MM_COLS;
}

int32_t eq_conv2d_scratch_bytes(const eq_conv_params *p) {
    const int32_t taps = p->k_h * eq_conv_row_taps(p);
    const int32_t padded = (taps + EQ_COL_ALIGN_MAX - 1) / EQ_COL_ALIGN_MAX * EQ_COL_ALIGN_MAX;
    return eq_conv_cols(p) * padded * (int32_t)sizeof(int16_t); /* a block of columns */
}

/* Column j of b: the receptive field of the output pixel whose window starts at input (y0, x0), tap order
   (ky, kx, channel), each filter row padded to eq_conv_row_taps taps. */
static void eq_im2col(const eq_conv_params *p, const int8_t *in, int32_t y0, int32_t x0, const eq_cols *b, int32_t j) {
    const int32_t run = p->k_w * p->in_c, row = eq_conv_row_taps(p), in_row = p->in_w * p->in_c;
    const int8_t *const end = in + p->in_h * in_row;
    const int row_whole = p->dil_w == 1 && x0 >= 0 && x0 + p->k_w <= p->in_w;
    const int32_t row_step = p->dil_h * in_row;
    int32_t ky, kx, k = 0;
    if (row_whole && y0 >= 0 && y0 + (p->k_h - 1) * p->dil_h < p->in_h &&
        end - (in + y0 * in_row + x0 * p->in_c + (p->k_h - 1) * row_step) >= row) {
        /* the whole window lies inside the image, and so do the bytes after its last row up to the padded
           length: each filter row one run of whole groups (the padding taps meet zero weights) */
        const int8_t *src = in + y0 * in_row + x0 * p->in_c;
#if EQ_COLS_GROUPED
        const int32_t offsets = eq_offsets(p->in_offset), step = 2 * b->cols;
        eq_word_t *dst = eq_col_group(b, j, 0);
        for (ky = p->k_h; ky > 0; --ky, k += row, src += row_step) {
            dst = eq_col_run(dst, step, src, row, offsets);
        }
#else
        for (ky = p->k_h; ky > 0; --ky, k += row, src += row_step) {
            eq_col_put_s8(b, j, k, src, row, p->in_offset);
        }
#endif
        if (k < b->n) {
            eq_col_zero(b, j, k, b->n - k);
        }
        return;
    }
    for (ky = 0; ky < p->k_h; ++ky, k += row) {
        const int32_t iy = y0 + ky * p->dil_h;
        if (iy < 0 || iy >= p->in_h) {
            eq_col_zero(b, j, k, row);
        } else if (row_whole && end - (in + iy * in_row + x0 * p->in_c) >= row) {
            /* the whole filter row lies inside the image, and so do the bytes after it up to the padded
               length: one run of whole groups (the padding taps meet zero weights) */
            eq_col_put_groups_s8(b, j, k, in + iy * in_row + x0 * p->in_c, row, p->in_offset);
        } else if (row_whole) {
            eq_col_put_s8(b, j, k, in + iy * in_row + x0 * p->in_c, run, p->in_offset);
            if (row > run) {
                eq_col_zero(b, j, k + run, row - run);
            }
        } else {
            for (kx = 0; kx < p->k_w; ++kx) {
                const int32_t ix = x0 + kx * p->dil_w;
                if (ix < 0 || ix >= p->in_w) {
                    eq_col_zero(b, j, k + kx * p->in_c, p->in_c);
                } else {
                    eq_col_put_s8(b, j, k + kx * p->in_c, in + iy * in_row + ix * p->in_c, p->in_c, p->in_offset);
                }
            }
            if (row > run) {
                eq_col_zero(b, j, k + run, row - run);
            }
        }
    }
    if (k < b->n) {
        eq_col_zero(b, j, k, b->n - k);
    }
}

/* Columns of the next block for `left` pixels still to compute (at most `cols`): 8, then 4, then single
   columns (SIMD32: a single column costs about half of a 4-column block); always 1 when cols is 1. */
static int32_t eq_block_cols(int32_t left, int32_t cols) {
#if EQ_USE_SIMD32
    const int32_t four = 3;
#else
    const int32_t four = 2;
#endif
    if (cols == 1) {
        return 1;
    }
    return left >= 5 && cols == 8 ? 8 : (left >= four ? 4 : 1);
}

static void eq_conv2d_direct(const eq_conv_params *p, const eq_binary_params *add, int32_t conv_is_in1,
                             const int8_t *in, const int8_t *w, const eq_channel *ch, int8_t *out);

static void eq_conv2d_core(const eq_conv_params *params, const eq_binary_params *add, int32_t conv_is_in1,
                           const int8_t *in, const int8_t *w, const eq_channel *ch, int16_t *scratch, int8_t *out) {
    /* a private copy: the column stores (which may alias anything) do not make the compiler reload it */
    const eq_conv_params copy = *params, *const p = &copy;
    const int32_t taps = p->k_h * eq_conv_row_taps(p);
    const int32_t pixels = p->out_h * p->out_w;
    /* 1x1 filters without padding whose columns are whole groups: one run of input per column */
    const int simple = p->k_h == 1 && p->k_w == 1 && p->pad_top == 0 && p->pad_left == 0 && p->in_c % EQ_COL_ALIGN == 0;
    eq_matmul m;
    eq_cols b;
    int32_t px, j, used, oy = 0, ox = 0, y0 = 0, x0 = 0;
    if (p->cols == 0) {
        eq_conv2d_direct(p, add, conv_is_in1, in, w, ch, out);
        return;
    }
    m.w = w;
    m.rows = p->out_c;
    m.len = taps;
    m.ch = ch;
    m.rq = p->rq;
    m.out_offset = p->out_offset;
    m.act_min = p->act_min;
    m.act_max = p->act_max;
    eq_matmul_set_add(&m, add, conv_is_in1);
    b.base = scratch;
    b.n = eq_col_len(taps);
    for (px = 0; px < pixels; px += used) {
        b.cols = eq_block_cols(pixels - px, eq_conv_cols(p));
        used = pixels - px < b.cols ? pixels - px : b.cols;
        /* a last, partial block repeats its last pixel in the unused columns (computed, not stored) */
        for (j = 0; j < b.cols; ++j) {
            if (j < used) {
                y0 = oy * p->stride_h - p->pad_top;
                x0 = ox * p->stride_w - p->pad_left;
                if (++ox == p->out_w) {
                    ox = 0;
                    ++oy;
                }
            }
            if (simple) {
                eq_col_put_groups_s8(&b, j, 0, in + (y0 * p->in_w + x0) * p->in_c, p->in_c, p->in_offset);
            } else {
                eq_im2col(p, in, y0, x0, &b, j);
            }
        }
        eq_matmul_s8(&m, &b, used, out + px * p->out_c, p->out_c);
    }
}

void eq_conv2d_s8(const eq_conv_params *p, const int8_t *in, const int8_t *w, const eq_channel *ch, void *scratch,
                  int8_t *out) {
    eq_conv2d_core(p, NULL, 0, in, w, ch, (int16_t *)scratch, out);
}

void eq_conv2d_add_s8(const eq_conv_params *p, const eq_binary_params *add, int32_t conv_is_in1, const int8_t *in,
                      const int8_t *w, const eq_channel *ch, void *scratch, int8_t *residual_inout) {
    eq_conv2d_core(p, add, conv_is_in1, in, w, ch, (int16_t *)scratch, residual_inout);
}

/* The output of acc (bias included) for channel c, stored at dst or, with CONV_2D+ADD, added to the
   residual element it overwrites (read first). */
static void eq_conv_store(const eq_conv_params *p, const eq_binary_params *add, int32_t conv_is_in1,
                          const eq_channel *c, int32_t acc, int8_t *dst) {
    const int8_t v = eq_channel_out(c, p->rq, acc, p->out_offset, p->act_min, p->act_max);
    if (add == NULL) {
        *dst = v;
    } else {
        *dst = conv_is_in1 ? eq_add_value_s8(add, v, *dst) : eq_add_value_s8(add, *dst, v);
    }
}

/* acc + sum of w[i] * (x[i] + off) over n taps, both read as int8 (SIMD32: four taps per two SMLAD). */
static inline int32_t eq_dot_s8(int32_t acc, const int8_t *w, const int8_t *x, int32_t n, int32_t off) {
    int32_t i = 0;
#if EQ_USE_SIMD32
    const int32_t offsets = eq_offsets(off);
    for (; i + 4 <= n; i += 4) {
        const int32_t xw = eq_word(x + i), u = eq_word(w + i);
        acc = __smlad(__sxtb16(u), __sxtab16(offsets, xw), __smlad(eq_sxtb16_odd(u), eq_sxtab16_odd(offsets, xw), acc));
    }
#endif
    for (; i < n; ++i) { /* int16 products: compilers vectorize them as multiply-adds */
        const int16_t xv = (int16_t)(x[i] + off), u = w[i];
        acc += (int32_t)u * xv;
    }
    return acc;
}

/* CONV_2D without scratch (cols 0): every output channel of every pixel summed from the int8 input,
   over the taps inside the image (the weights in the [out_c][k_h][row taps] layout); without
   dilation across a row, the taps of a filter row inside the image are one run in both. */
static void eq_conv2d_direct(const eq_conv_params *p, const eq_binary_params *add, int32_t conv_is_in1,
                             const int8_t *in, const int8_t *w, const eq_channel *ch, int8_t *out) {
    const int32_t row = eq_conv_row_taps(p), filter = p->k_h * row, off = p->in_offset;
    const int32_t x_step = p->dil_w * p->in_c, x_row = p->dil_h * p->in_w * p->in_c;
    int32_t oy, ox, oc, ky, kx;
    for (oy = 0; oy < p->out_h; ++oy) {
        for (ox = 0; ox < p->out_w; ++ox) {
            const eq_taps t = eq_taps_at(p, in, oy, ox);
            const int32_t ky0 = t.tap / p->k_w, kx0 = t.tap % p->k_w, run = t.cols * p->in_c;
            for (oc = 0; oc < p->out_c; ++oc, ++out) {
                const int8_t *wf = w + oc * filter + ky0 * row + kx0 * p->in_c;
                int32_t acc = 0;
                for (ky = 0; ky < t.rows; ++ky) {
                    const int8_t *xs = t.x + ky * x_row, *ws = wf + ky * row;
                    if (p->dil_w == 1) {
                        acc = eq_dot_s8(acc, ws, xs, run, off);
                        continue;
                    }
                    for (kx = 0; kx < t.cols; ++kx) {
                        acc = eq_dot_s8(acc, ws + kx * p->in_c, xs + kx * x_step, p->in_c, off);
                    }
                }
                eq_conv_store(p, add, conv_is_in1, &ch[oc], eq_add_wrap(acc, ch[oc].bias), out);
            }
        }
    }
}
