/*
 * edgeq_matmul.c -- part of edgeq; copied unchanged into generated engines.
 *
 * The int8 matrix kernel under CONV_2D (every filter size, 1x1 included) and
 * FULLY_CONNECTED. A column holds one receptive field of the input as int16
 * values x + in_offset (TFLM's `input_val + input_offset`), with 0 for taps
 * outside the image and for the padding up to a multiple of EQ_COL_ALIGN: such
 * taps add nothing, exactly as TFLM skips them. Each output is
 *     requantize(bias[row] + sum over taps of w[row][tap] * column[tap])
 * with the int32 sums TFLM forms (integer addition is exact, so the order of the
 * terms does not matter). Up to four columns (output pixels) go through every
 * weight row together, so each weight is loaded once per four pixels.
 *
 * Portable build: columns one after the other, plain loops over int16 columns and
 * int8 weights that compilers turn into multiply-add vector code (PMADDWD with
 * SSE2). SIMD32 build (Cortex-M4 and up): a block of columns is stored in groups
 * of four taps, column after column within a group, each group in the order
 * (t0, t2, t1, t3): SXTB16 splits a word of four weights into (w0, w2) and
 * (w1, w3), so one SMLAD adds two products and one pointer walks all columns.
 * Weight rows are read EQ_COL_ALIGN-rounded: up to 15 bytes past a row, against
 * zero column taps; the generator pads every weight array so the last row may be
 * read that far too (EQ_WEIGHT_TAIL).
 */
#include "edgeq_kernels.h"

#include <string.h>

int32_t eq_col_len(int32_t taps)
{
    return (taps + (EQ_COL_ALIGN - 1)) / EQ_COL_ALIGN * EQ_COL_ALIGN;
}

#if EQ_USE_SIMD32
/* The 32-bit word at p (an int16x2 or int8x4 in ACLE's terms, which are int32_t). */
static inline int32_t eq_word(const void *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Where tap k of column j lives: group k / 4 holds four taps of every column, in (t0, t2, t1, t3). */
static inline int32_t eq_col_at(const eq_cols *b, int32_t j, int32_t k)
{
    return (k & ~3) * b->cols + j * 4 + ((k & 1) << 1) + ((k & 2) >> 1);
}
#else
static inline int32_t eq_col_at(const eq_cols *b, int32_t j, int32_t k)
{
    return j * b->n + k;
}
#endif

void eq_col_put_s8(const eq_cols *b, int32_t j, int32_t k, const int8_t *x, int32_t len, int32_t offset)
{
    int32_t i = 0;
#if EQ_USE_SIMD32
    /* taps up to the next group boundary one by one, then whole groups: one word of four inputs
       gives (x0, x2) + offset and (x1, x3) + offset; offset is -zero_point, in [-127, 128], so it
       fits each 16-bit half, and so does x + offset */
    const uint32_t half = (uint32_t)offset & 0xFFFFu;
    const int32_t offsets = eq_from_bits((half << 16) | half);
    int16_t *dst;
    for (; i < len && ((k + i) & 3) != 0; ++i) {
        b->base[eq_col_at(b, j, k + i)] = (int16_t)(x[i] + offset);
    }
    for (dst = b->base + eq_col_at(b, j, k + i); i + 4 <= len; i += 4, dst += 4 * b->cols) {
        const int32_t word = eq_word(x + i);
        const int32_t even = __sxtab16(offsets, word);
        const int32_t odd = eq_sxtab16_odd(offsets, word);
        memcpy(dst, &even, sizeof even);
        memcpy(dst + 2, &odd, sizeof odd);
    }
#endif
    for (; i < len; ++i) {
        b->base[eq_col_at(b, j, k + i)] = (int16_t)(x[i] + offset);
    }
}

void eq_col_zero(const eq_cols *b, int32_t j, int32_t k, int32_t len)
{
    int32_t i;
    for (i = 0; i < len; ++i) {
        b->base[eq_col_at(b, j, k + i)] = 0;
    }
}

/* ---- requantization and stores ---- */

/* The requantization and bias of one row (output channel). */
typedef struct {
    eq_rq q;
    int32_t bias;
} eq_row;

static inline eq_row eq_row_make(const eq_matmul *m, int32_t row)
{
    const int32_t c = m->per_channel ? row : 0;
    eq_row r;
    r.q = eq_rq_make(m->mult[c], m->shift[c]);
    r.bias = m->bias != NULL ? m->bias[row] : 0;
    return r;
}

/* One output of row r: + bias (wrapping like TFLM's int32 addition), requantized and clamped. */
static inline int8_t eq_row_out(const eq_matmul *m, const eq_row *r, int32_t acc)
{
    return eq_rq_s8(&r->q, eq_add_wrap(acc, r->bias), m->out_offset, m->act_min, m->act_max);
}

static int eq_rq_fits(int32_t mult, int32_t shift)
{
    return mult >= 0 && shift >= -31 && shift <= 31;
}

void eq_matmul_set_add(eq_matmul *m, const eq_binary_params *add, int32_t conv_is_in1)
{
    m->add = add;
    m->conv_is_in1 = conv_is_in1;
    m->add_inline = add != NULL && eq_rq_fits(add->in1_mult, add->in1_shift) &&
                    eq_rq_fits(add->in2_mult, add->in2_shift) && eq_rq_fits(add->out_mult, add->out_shift);
    if (m->add_inline) {
        m->add_q1 = eq_rq_make(add->in1_mult, add->in1_shift);
        m->add_q2 = eq_rq_make(add->in2_mult, add->in2_shift);
        m->add_qo = eq_rq_make(add->out_mult, add->out_shift);
    }
}

/* eq_add_value_s8(m->add, a, b) with the requantizations prepared: the same arithmetic. */
static inline int8_t eq_add_inline(const eq_matmul *m, int32_t a, int32_t b)
{
    const eq_binary_params *p = m->add;
    const int32_t scale = (int32_t)1 << p->left_shift;
    const int32_t x1 = eq_rq_apply(&m->add_q1, (a + p->in1_offset) * scale);
    const int32_t x2 = eq_rq_apply(&m->add_q2, (b + p->in2_offset) * scale);
    int32_t y = eq_rq_apply(&m->add_qo, x1 + x2) + p->out_offset;
    y = y < p->act_min ? p->act_min : y;
    y = y > p->act_max ? p->act_max : y;
    return (int8_t)y;
}

/* Store v at dst or, with CONV_2D+ADD, add it to the residual element it overwrites (read first). */
static void eq_store(const eq_matmul *m, int8_t v, int8_t *dst)
{
    if (m->add == NULL) {
        *dst = v;
    } else if (m->add_inline) {
        *dst = m->conv_is_in1 ? eq_add_inline(m, v, *dst) : eq_add_inline(m, *dst, v);
    } else {
        *dst = m->conv_is_in1 ? eq_add_value_s8(m->add, v, *dst) : eq_add_value_s8(m->add, *dst, v);
    }
}

/* ---- dot products ---- */

/* The sums of one row against four columns, or of two rows (a, b) against one column. */
typedef struct {
    int32_t s0, s1, s2, s3;
} eq_sums;

#if EQ_USE_SIMD32
/* One row against four interleaved columns; n taps, a multiple of 4. */
static EQ_NOINLINE eq_sums eq_dot_1x4(const int16_t *x, const int8_t *w, int32_t n)
{
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    int32_t groups;
    eq_sums s;
    for (groups = n / 4; groups > 0; --groups, w += 4, x += 16) {
        const int32_t ww = eq_word(w);
        const int32_t even = __sxtb16(ww), odd = eq_sxtb16_odd(ww);
        a0 = __smlad(even, eq_word(x), __smlad(odd, eq_word(x + 2), a0));
        a1 = __smlad(even, eq_word(x + 4), __smlad(odd, eq_word(x + 6), a1));
        a2 = __smlad(even, eq_word(x + 8), __smlad(odd, eq_word(x + 10), a2));
        a3 = __smlad(even, eq_word(x + 12), __smlad(odd, eq_word(x + 14), a3));
    }
    s.s0 = a0;
    s.s1 = a1;
    s.s2 = a2;
    s.s3 = a3;
    return s;
}

/* Two rows against one column (s0, s1). */
static EQ_NOINLINE eq_sums eq_dot_2x1(const int16_t *x, const int8_t *w0, const int8_t *w1, int32_t n)
{
    int32_t a0 = 0, a1 = 0;
    int32_t groups;
    eq_sums s;
    for (groups = n / 4; groups > 0; --groups, w0 += 4, w1 += 4, x += 4) {
        const int32_t wa = eq_word(w0), wb = eq_word(w1);
        const int32_t x_even = eq_word(x), x_odd = eq_word(x + 2);
        a0 = __smlad(__sxtb16(wa), x_even, __smlad(eq_sxtb16_odd(wa), x_odd, a0));
        a1 = __smlad(__sxtb16(wb), x_even, __smlad(eq_sxtb16_odd(wb), x_odd, a1));
    }
    s.s0 = a0;
    s.s1 = a1;
    s.s2 = 0;
    s.s3 = 0;
    return s;
}
#else
static eq_sums eq_dot_1x4(const int16_t *c0, const int8_t *w, int32_t n)
{
    const int16_t *c1 = c0 + n, *c2 = c1 + n, *c3 = c2 + n;
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    int32_t i;
    eq_sums s;
    for (i = 0; i < n; ++i) {
        const int16_t v = w[i];
        a0 += (int32_t)v * c0[i];
        a1 += (int32_t)v * c1[i];
        a2 += (int32_t)v * c2[i];
        a3 += (int32_t)v * c3[i];
    }
    s.s0 = a0;
    s.s1 = a1;
    s.s2 = a2;
    s.s3 = a3;
    return s;
}

static eq_sums eq_dot_2x1(const int16_t *x, const int8_t *w0, const int8_t *w1, int32_t n)
{
    int32_t a0 = 0, a1 = 0;
    int32_t i;
    eq_sums s;
    for (i = 0; i < n; ++i) {
        const int16_t u = w0[i], v = w1[i];
        a0 += (int32_t)u * x[i];
        a1 += (int32_t)v * x[i];
    }
    s.s0 = a0;
    s.s1 = a1;
    s.s2 = 0;
    s.s3 = 0;
    return s;
}
#endif

/* Four columns: every row once, its outputs for the first `used` columns stored. */
static void eq_matmul_4(const eq_matmul *m, const eq_cols *b, int32_t used, int8_t *out, int32_t out_stride)
{
    int32_t r;
    for (r = 0; r < m->rows; ++r) {
        const eq_sums s = eq_dot_1x4(b->base, m->w + r * m->len, b->n);
        const eq_row row = eq_row_make(m, r);
        const int8_t v0 = eq_row_out(m, &row, s.s0), v1 = eq_row_out(m, &row, s.s1);
        const int8_t v2 = eq_row_out(m, &row, s.s2), v3 = eq_row_out(m, &row, s.s3);
        if (m->add == NULL && used == EQ_MM_COLS) {
            out[r] = v0;
            out[out_stride + r] = v1;
            out[2 * out_stride + r] = v2;
            out[3 * out_stride + r] = v3;
            continue;
        }
        eq_store(m, v0, out + r);
        if (used > 1) {
            eq_store(m, v1, out + out_stride + r);
        }
        if (used > 2) {
            eq_store(m, v2, out + 2 * out_stride + r);
        }
        if (used > 3) {
            eq_store(m, v3, out + 3 * out_stride + r);
        }
    }
}

/* One column: rows in pairs (an odd last row computed twice, stored once). */
static void eq_matmul_1(const eq_matmul *m, const eq_cols *b, int8_t *out)
{
    int32_t r;
    for (r = 0; r < m->rows; r += 2) {
        const int two = r + 1 < m->rows;
        const int8_t *w0 = m->w + r * m->len;
        const eq_sums s = eq_dot_2x1(b->base, w0, two ? w0 + m->len : w0, b->n);
        const eq_row ra = eq_row_make(m, r);
        eq_store(m, eq_row_out(m, &ra, s.s0), out + r);
        if (two) {
            const eq_row rb = eq_row_make(m, r + 1);
            eq_store(m, eq_row_out(m, &rb, s.s1), out + r + 1);
        }
    }
}

void eq_matmul_s8(const eq_matmul *m, const eq_cols *b, int32_t used, int8_t *out, int32_t out_stride)
{
    if (b->cols == 1) {
        eq_matmul_1(m, b, out);
    } else {
        eq_matmul_4(m, b, used, out, out_stride);
    }
}
