/*
 * edgeq_fc.c -- part of edgeq; copied unchanged into generated engines.
 *
 * FULLY_CONNECTED on int8 as TFLM's reference kernels compute it: input
 * [batches][in_depth], weights [out_depth][in_depth], for each output
 * acc = bias + sum (w + weight_offset) * (x + in_offset), then
 * MultiplyByQuantizedMultiplier, + out_offset, clamp. Like TFLM's per-channel
 * kernel, the per-channel path ignores weight_offset (per-channel weights are
 * symmetric by the quantization spec). Symmetric weights run through the
 * matrix kernel of edgeq_matmul.c, each input row one int16 column, or, with
 * p->direct (the generator's choice when that column would grow the arena),
 * straight from the int8 input without any scratch: two weight rows at a time
 * against the input, with the SIMD32 instructions one word of four inputs
 * split into (x0, x2) and (x1, x3) + in_offset by SXTAB16 and multiplied
 * against both rows with SMLAD. Both add the same int32 products (in another
 * order, which integer addition modulo 2^32 does not notice).
 */
#include "edgeq_kernels.h"

int32_t eq_fc_scratch_bytes(const eq_fc_params *p) {
    const int32_t padded = (p->in_depth + EQ_COL_ALIGN_MAX - 1) / EQ_COL_ALIGN_MAX * EQ_COL_ALIGN_MAX;
    if ((!p->per_channel && p->weight_offset != 0) || p->direct) {
        return 0; /* eq_fc_offset_weights and eq_fc_direct need none */
    }
    return padded * (int32_t)sizeof(int16_t); /* one column */
}

/* Per-tensor weights with a zero point: sum (w + weight_offset) * (x + in_offset), output by output. */
static void eq_fc_offset_weights(const eq_fc_params *p, const int8_t *in, const int8_t *w, const eq_channel *ch,
                                 int8_t *out) {
    int32_t b, o, i;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = in + b * p->in_depth;
        for (o = 0; o < p->out_depth; ++o) {
            const int8_t *row = w + o * p->in_depth;
            int32_t acc = 0;
            for (i = 0; i < p->in_depth; ++i) {
                acc += ((int32_t)row[i] + p->weight_offset) * ((int32_t)x[i] + p->in_offset);
            }
            *out++ = eq_channel_out(&ch[o], p->rq, eq_add_wrap(acc, ch[o].bias), p->out_offset, p->act_min, p->act_max);
        }
    }
}

/* The outputs of rows r and r + 1 (`two`) from their sums (bias not yet added). */
static void eq_fc_out2(const eq_fc_params *p, const eq_channel *ch, int32_t r, int two, int32_t a, int32_t b,
                       int8_t *out) {
    out[r] = eq_channel_out(&ch[r], p->rq, eq_add_wrap(a, ch[r].bias), p->out_offset, p->act_min, p->act_max);
    if (two) {
        out[r + 1] =
            eq_channel_out(&ch[r + 1], p->rq, eq_add_wrap(b, ch[r + 1].bias), p->out_offset, p->act_min, p->act_max);
    }
}

#if !EQ_USE_SIMD32
#define EQ_LOOP_ATTR
#endif

/* Symmetric weights without scratch: every pair of rows against one input row x, read as int8. */
static EQ_NOINLINE EQ_LOOP_ATTR void eq_fc_direct(const eq_fc_params *p, const int8_t *x, const int8_t *w,
                                                  const eq_channel *ch, int8_t *out) {
    const int32_t n = p->in_depth, off = p->in_offset;
    int32_t r, i;
#if EQ_USE_SIMD32
    const int32_t whole = n & ~3, offsets = eq_offsets(off);
#else
    const int32_t whole = 0;
#endif
    for (r = 0; r < p->out_depth; r += 2) {
        const int two = r + 1 < p->out_depth;
        const int8_t *wa = w + r * n, *wb = two ? wa + n : wa;
        int32_t a = 0, b = 0;
#if EQ_USE_SIMD32
        for (i = 0; i < whole; i += 4) {
            const int32_t xw = eq_word(x + i), u = eq_word(wa + i), v = eq_word(wb + i);
            const int32_t xe = __sxtab16(offsets, xw), xo = eq_sxtab16_odd(offsets, xw);
            a = __smlad(__sxtb16(u), xe, __smlad(eq_sxtb16_odd(u), xo, a));
            b = __smlad(__sxtb16(v), xe, __smlad(eq_sxtb16_odd(v), xo, b));
        }
#endif
        for (i = whole; i < n; ++i) { /* int16 products: compilers vectorize them as multiply-adds (PMADDWD) */
            const int16_t xv = (int16_t)(x[i] + off), u = wa[i], v = wb[i];
            a += (int32_t)u * xv;
            b += (int32_t)v * xv;
        }
        eq_fc_out2(p, ch, r, two, a, b, out);
    }
}

void eq_fully_connected_s8(const eq_fc_params *p, const int8_t *in, const int8_t *w, const eq_channel *ch,
                           void *scratch, int8_t *out) {
    eq_matmul m;
    eq_cols col;
    int32_t b;
    if (!p->per_channel && p->weight_offset != 0) {
        eq_fc_offset_weights(p, in, w, ch, out);
        return;
    }
    if (p->direct) {
        for (b = 0; b < p->batches; ++b) {
            eq_fc_direct(p, in + b * p->in_depth, w, ch, out + b * p->out_depth);
        }
        return;
    }
    m.w = w;
    m.rows = p->out_depth;
    m.len = p->in_depth;
    m.ch = ch;
    m.rq = p->rq;
    m.out_offset = p->out_offset;
    m.act_min = p->act_min;
    m.act_max = p->act_max;
    eq_matmul_set_add(&m, NULL, 0);
    col.base = (int16_t *)scratch;
    col.cols = 1;
    col.n = eq_col_len(p->in_depth);
    for (b = 0; b < p->batches; ++b) {
        /* one input row as a column: x + in_offset, zero padded */
        eq_col_put_s8(&col, 0, 0, in + b * p->in_depth, p->in_depth, p->in_offset);
        eq_col_zero(&col, 0, p->in_depth, col.n - p->in_depth);
        eq_matmul_s8(&m, &col, 1, out + b * p->out_depth, p->out_depth);
    }
}
