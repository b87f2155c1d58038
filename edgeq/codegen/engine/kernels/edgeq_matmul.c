/*
 * edgeq_matmul.c -- part of edgeq; copied unchanged into generated engines.
 *
 * The int8 matrix kernel under CONV_2D (every filter size, 1x1 included) and
 * FULLY_CONNECTED. A column holds one receptive field of the input as int16
 * values x + in_offset (TFLM's `input_val + input_offset`), with 0 for taps
 * outside the image and for the padding up to a multiple of EQ_COL_ALIGN: such
 * taps add nothing, exactly as TFLM skips them. Each output is
 *     requantize(bias[row] + sum over taps of w[row][tap] * column[tap])
 * with the int32 sums TFLM forms (integer addition is exact and wraps modulo
 * 2^32 on every target TFLM runs on, so neither the order of the terms nor
 * starting from the bias changes a bit). A block of 8 (or 4) columns (output
 * pixels) goes through every weight row, so each weight is loaded once per block;
 * single columns (FULLY_CONNECTED, a last pixel) take two rows at a time.
 *
 * Portable build: columns one after the other, plain loops over int16 columns and
 * int8 weights that compilers turn into multiply-add vector code (PMADDWD with
 * SSE2). SIMD32 build (Cortex-M4 and up): a block of columns is stored in groups
 * of four taps, column after column within a group, each group in the order
 * (t0, t2, t1, t3): SXTB16 splits a word of four weights into (w0, w2) and
 * (w1, w3), so one SMLAD adds two products, one LDRD reads a column's group and
 * one pointer walks all columns. The sums stay in registers and go straight into
 * the op's requantization (EQ_RQ_FAST: SMMLAR, shift, SSAT). Weight rows are read
 * EQ_COL_ALIGN-rounded: up to 15 bytes past a row, against zero column taps; the
 * generator pads every weight array so the last row may be read that far too
 * (EQ_WEIGHT_TAIL).
 */
#include "edgeq_kernels.h"

int32_t eq_col_len(int32_t taps) {
    return (taps + (EQ_COL_ALIGN - 1)) / EQ_COL_ALIGN * EQ_COL_ALIGN;
}

#if EQ_USE_MVE
/* Where tap k of column j lives: chunk k / 8 holds eight taps of every column, in order. */
static inline int32_t eq_col_at(const eq_cols *b, int32_t j, int32_t k) {
    return (k & ~7) * b->cols + j * 8 + (k & 7);
}
#elif EQ_USE_SIMD32
/* Where tap k of column j lives: group k / 4 holds four taps of every column, in (t0, t2, t1, t3). */
static inline int32_t eq_col_at(const eq_cols *b, int32_t j, int32_t k) {
    return (k & ~3) * b->cols + j * 4 + ((k & 1) << 1) + ((k & 2) >> 1);
}
#else
static inline int32_t eq_col_at(const eq_cols *b, int32_t j, int32_t k) {
    return j * b->n + k;
}
#endif

void eq_col_put_s8(const eq_cols *b, int32_t j, int32_t k, const int8_t *x, int32_t len, int32_t offset) {
    int32_t i = 0;
#if EQ_USE_MVE
    /* taps up to the next chunk boundary one by one, then whole chunks (VLDRB.S16 widens eight inputs,
       VADD adds the offset: x + offset fits int16), then the rest */
    const int16x8_t offsets = vdupq_n_s16((int16_t)offset);
    for (; i < len && ((k + i) & 7) != 0; ++i) {
        b->base[eq_col_at(b, j, k + i)] = (int16_t)(x[i] + offset);
    }
    for (; i + 8 <= len; i += 8) {
        vst1q_s16(b->base + eq_col_at(b, j, k + i), vaddq_s16(vldrbq_s16(x + i), offsets));
    }
#elif EQ_USE_SIMD32
    /* taps up to the next group boundary one by one, then whole groups (eq_col_run), then the rest */
    int32_t whole;
    for (; i < len && ((k + i) & 3) != 0; ++i) {
        b->base[eq_col_at(b, j, k + i)] = (int16_t)(x[i] + offset);
    }
    whole = (len - i) & ~3;
    if (whole > 0) {
        (void)eq_col_run(eq_col_group(b, j, k + i), 2 * b->cols, x + i, whole, eq_offsets(offset));
        i += whole;
    }
#endif
    for (; i < len; ++i) {
        b->base[eq_col_at(b, j, k + i)] = (int16_t)(x[i] + offset);
    }
}

void eq_col_zero(const eq_cols *b, int32_t j, int32_t k, int32_t len) {
    int32_t i = 0;
#if EQ_USE_MVE
    if (((k | len) & 7) == 0) { /* whole chunks */
        for (; i < len; i += 8) {
            vst1q_s16(b->base + eq_col_at(b, j, k + i), vdupq_n_s16(0));
        }
        return;
    }
#elif EQ_USE_SIMD32
    if (((k | len) & 3) == 0) { /* whole groups */
        const int32_t step = 2 * b->cols;
        eq_word_t *dst = eq_col_group(b, j, k);
        for (; i < len; i += 4, dst += step) {
            dst[0] = 0;
            dst[1] = 0;
        }
        return;
    }
#endif
    for (; i < len; ++i) {
        b->base[eq_col_at(b, j, k + i)] = 0;
    }
}

/* ---- requantization and stores ---- */

/* True when a multiplier and shift are within what the inline add path handles. */
static int eq_requant_in_range(int32_t mult, int32_t shift) {
    return mult >= 0 && shift >= -31 && shift <= 31;
}

void eq_matmul_set_add(eq_matmul *m, const eq_binary_params *add, int32_t conv_is_in1) {
    m->add = add;
    m->conv_is_in1 = conv_is_in1;
    m->add_inline = add != NULL && eq_requant_in_range(add->in1_mult, add->in1_shift) &&
                    eq_requant_in_range(add->in2_mult, add->in2_shift) &&
                    eq_requant_in_range(add->out_mult, add->out_shift);
    if (m->add_inline) {
        m->add_q1 = eq_rq_make(add->in1_mult, add->in1_shift);
        m->add_q2 = eq_rq_make(add->in2_mult, add->in2_shift);
        m->add_qo = eq_rq_make(add->out_mult, add->out_shift);
    }
}

/* eq_add_value_s8(m->add, a, b) with the requantizations prepared: the same arithmetic. */
static inline int8_t eq_add_inline(const eq_matmul *m, int32_t a, int32_t b) {
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
static void eq_store(const eq_matmul *m, int8_t v, int8_t *dst) {
    if (m->add == NULL) {
        *dst = v;
    } else if (m->add_inline) {
        *dst = m->conv_is_in1 ? eq_add_inline(m, v, *dst) : eq_add_inline(m, *dst, v);
    } else {
        *dst = m->conv_is_in1 ? eq_add_value_s8(m->add, v, *dst) : eq_add_value_s8(m->add, *dst, v);
    }
}

/* The output of channel ch for acc (bias included), any rq form, stored (or added to the residual). */
static EQ_NOINLINE void eq_out_any(const eq_matmul *m, const eq_channel *ch, int32_t acc, int8_t *dst) {
    eq_store(m, eq_channel_out(ch, m->rq, acc, m->out_offset, m->act_min, m->act_max), dst);
}

#if EQ_USE_SIMD32
/* ---- SIMD32: dot products with the requantization in the same loop nest (EQ_LOOP_ATTR) ---- */
#define EQ_MM_ATTR EQ_LOOP_ATTR
#if defined(__GNUC__)
#define EQ_MM_INLINE static inline __attribute__((always_inline)) EQ_MM_ATTR
#define EQ_MM_FN static __attribute__((noinline)) EQ_MM_ATTR
#else
#define EQ_MM_INLINE static inline
#define EQ_MM_FN static
#endif

/* Epilogues the loops are compiled for: the fast form (EQ_RQ_FAST) without the ADD, as RELU-like
   layers with out_offset -128 take it (one SSAT, no sign term), or with both (any clamp), else
   eq_out_any. */
enum { EQ_EPI_ANY, EQ_EPI_FULL_NOFIX, EQ_EPI_CLAMP };

static int eq_epilogue(const eq_matmul *m) {
    const int32_t full_nofix = EQ_RQ_FAST | EQ_RQ_FULL_RANGE | EQ_RQ_NO_SIGN_FIX;
    if (m->add != NULL || !(m->rq & EQ_RQ_FAST)) {
        return EQ_EPI_ANY;
    }
    return (m->rq & full_nofix) == full_nofix ? EQ_EPI_FULL_NOFIX : EQ_EPI_CLAMP;
}

/* One channel's requantization constants, loaded once per row (int8 stores may alias anything, so
   the compiler would reload them after every output otherwise). */
typedef struct {
    int32_t mult, round, e, act_min, span;
    int32_t full; /* EQ_RQ_FULL_RANGE (the clamp of EQ_EPI_CLAMP) */
} eq_rowq;

EQ_MM_INLINE eq_rowq eq_rowq_load(const eq_matmul *m, const eq_channel *ch) {
    eq_rowq q;
    q.mult = ch->mult;
    q.round = ch->round;
    q.e = ch->shift; /* e */
    q.act_min = m->act_min;
    q.span = m->act_max - m->act_min;
    q.full = m->rq & EQ_RQ_FULL_RANGE;
    return q;
}

/* The output of acc in a fast epilogue (not EQ_EPI_ANY). */
EQ_MM_INLINE int8_t eq_fast(const eq_rowq *q, int32_t acc, const int epi) {
    int32_t v = eq_smmlar(eq_from_bits((uint32_t)acc << 1), q->mult, q->round);
    if (epi != EQ_EPI_FULL_NOFIX) {
        v += eq_floor_div_pow2(acc, 31);
    }
    v = eq_floor_div_pow2(v, (int)q->e);
    return epi == EQ_EPI_FULL_NOFIX ? (int8_t)eq_sat_s8(v) : eq_rq_fast_out(v, q->full, q->act_min, q->span);
}

EQ_MM_INLINE void eq_put(const eq_matmul *m, const eq_channel *ch, const eq_rowq *q, int32_t acc, int8_t *dst,
                         const int epi) {
    if (epi == EQ_EPI_ANY) {
        eq_out_any(m, ch, acc, dst);
    } else {
        *dst = eq_fast(q, acc, epi);
    }
}

/* Two products of one SMLAD pair: acc + w(even) * x[0] + w(odd) * x[1]. */
#define EQ_MAC2(acc, even, odd, xp) __smlad((even), (xp)[0], __smlad((odd), (xp)[1], (acc)))

/* One group of four taps of a row (its weights in the word ww) against the 8 columns at xp. */
#define EQ_GROUP8(ww, xp)                                                                                              \
    do {                                                                                                               \
        const int32_t word_ = (ww), even_ = __sxtb16(word_), odd_ = eq_sxtb16_odd(word_);                              \
        a0 = EQ_MAC2(a0, even_, odd_, (xp));                                                                           \
        a1 = EQ_MAC2(a1, even_, odd_, (xp) + 2);                                                                       \
        a2 = EQ_MAC2(a2, even_, odd_, (xp) + 4);                                                                       \
        a3 = EQ_MAC2(a3, even_, odd_, (xp) + 6);                                                                       \
        a4 = EQ_MAC2(a4, even_, odd_, (xp) + 8);                                                                       \
        a5 = EQ_MAC2(a5, even_, odd_, (xp) + 10);                                                                      \
        a6 = EQ_MAC2(a6, even_, odd_, (xp) + 12);                                                                      \
        a7 = EQ_MAC2(a7, even_, odd_, (xp) + 14);                                                                      \
    } while (0)

#if EQ_USE_MVE
/* Helium: one row's sums against the columns at x, chunk after chunk of eight taps: VLDRB.S16 widens
   eight weights once, one VLDRH and one VMLADAVA per column add eight products to its sum. */
#define EQ_MVE_COLS4(wv, xv)                                                                                           \
    a0 = vmladavaq_s16(a0, (wv), vld1q_s16(xv));                                                                       \
    a1 = vmladavaq_s16(a1, (wv), vld1q_s16((xv) + 8));                                                                 \
    a2 = vmladavaq_s16(a2, (wv), vld1q_s16((xv) + 16));                                                                \
    a3 = vmladavaq_s16(a3, (wv), vld1q_s16((xv) + 24))
#define EQ_MVE_COLS8(wv, xv)                                                                                           \
    EQ_MVE_COLS4(wv, xv);                                                                                              \
    a4 = vmladavaq_s16(a4, (wv), vld1q_s16((xv) + 32));                                                                \
    a5 = vmladavaq_s16(a5, (wv), vld1q_s16((xv) + 40));                                                                \
    a6 = vmladavaq_s16(a6, (wv), vld1q_s16((xv) + 48));                                                                \
    a7 = vmladavaq_s16(a7, (wv), vld1q_s16((xv) + 56))
/* cols: EQ_MVE_COLS4 or EQ_MVE_COLS8, step: 8 taps x its columns; groups (of four taps) is even in
   Helium builds. */
#define EQ_MVE_ROW(w, x, groups, cols, step)                                                                           \
    do {                                                                                                               \
        const int8_t *wp_ = (w), *const end_ = (w) + 4 * (groups);                                                     \
        const int16_t *xv_ = (const int16_t *)(const void *)(x);                                                       \
        for (; wp_ != end_; wp_ += 8) {                                                                                \
            const int16x8_t wv_ = vldrbq_s16(wp_);                                                                     \
            cols(wv_, xv_);                                                                                            \
            xv_ += (step);                                                                                             \
        }                                                                                                              \
    } while (0)
#endif

/* Every row against the 8 columns at x (groups of 4 taps); column j of row r to out[j * stride + r],
   the first `used`. */
EQ_MM_INLINE void eq_rows_by_cols8(const eq_matmul *m, const eq_word_t *x, int32_t groups, int32_t used, int8_t *out,
                                   int32_t stride, const int epi) {
    const eq_channel *ch = m->ch;
    const int8_t *w = m->w;
    const int32_t rows = m->rows, len = m->len;
    int32_t r;
    for (r = 0; r < rows; ++r, ++ch, w += len) {
        int32_t a0, a1, a2, a3, a4, a5, a6, a7;
        eq_rowq q;
        int8_t *dst = out + r;
        a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = ch->bias;
#if EQ_USE_MVE
        EQ_MVE_ROW(w, x, groups, EQ_MVE_COLS8, 64);
#else
        const int8_t *wp = w + 4, *const end = w + 4 * groups;
        const eq_word_t *xp = x + 16;
        EQ_GROUP8(eq_word(w), x); /* the first group, from the bias */
        for (; wp != end; wp += 4, xp += 16) {
            EQ_GROUP8(eq_word(wp), xp);
        }
#endif
        q = eq_rowq_load(m, ch);
        if (used == 8) {
            eq_put(m, ch, &q, a0, dst, epi);
            eq_put(m, ch, &q, a1, dst + stride, epi);
            eq_put(m, ch, &q, a2, dst + 2 * stride, epi);
            eq_put(m, ch, &q, a3, dst + 3 * stride, epi);
            eq_put(m, ch, &q, a4, dst + 4 * stride, epi);
            eq_put(m, ch, &q, a5, dst + 5 * stride, epi);
            eq_put(m, ch, &q, a6, dst + 6 * stride, epi);
            eq_put(m, ch, &q, a7, dst + 7 * stride, epi);
        } else {
            const int32_t acc[8] = {a0, a1, a2, a3, a4, a5, a6, a7};
            int32_t j;
            for (j = 0; j < used; ++j) {
                eq_put(m, ch, &q, acc[j], dst + j * stride, epi);
            }
        }
    }
}

/* The same for 4 columns. */
EQ_MM_INLINE void eq_rows_by_cols4(const eq_matmul *m, const eq_word_t *x, int32_t groups, int32_t used, int8_t *out,
                                   int32_t stride, const int epi) {
    const eq_channel *ch = m->ch;
    const int8_t *w = m->w;
    const int32_t rows = m->rows, len = m->len;
    int32_t r;
    for (r = 0; r < rows; ++r, ++ch, w += len) {
        int32_t a0, a1, a2, a3;
        eq_rowq q;
        int8_t *dst = out + r;
        a0 = a1 = a2 = a3 = ch->bias;
#if EQ_USE_MVE
        EQ_MVE_ROW(w, x, groups, EQ_MVE_COLS4, 32);
#else
        const int8_t *wp = w, *const end = w + 4 * groups;
        const eq_word_t *xp = x;
        do {
            const int32_t ww = eq_word(wp), even = __sxtb16(ww), odd = eq_sxtb16_odd(ww);
            a0 = EQ_MAC2(a0, even, odd, xp);
            a1 = EQ_MAC2(a1, even, odd, xp + 2);
            a2 = EQ_MAC2(a2, even, odd, xp + 4);
            a3 = EQ_MAC2(a3, even, odd, xp + 6);
            wp += 4;
            xp += 8;
        } while (wp != end);
#endif
        q = eq_rowq_load(m, ch);
        eq_put(m, ch, &q, a0, dst, epi);
        if (used > 1) {
            eq_put(m, ch, &q, a1, dst + stride, epi);
        }
        if (used > 2) {
            eq_put(m, ch, &q, a2, dst + 2 * stride, epi);
        }
        if (used > 3) {
            eq_put(m, ch, &q, a3, dst + 3 * stride, epi);
        }
    }
}

/* One column: rows in pairs (an odd last row computed twice, stored once). */
EQ_MM_INLINE void eq_rows_by_cols1(const eq_matmul *m, const eq_word_t *x, int32_t groups, int8_t *out, const int epi) {
    const eq_channel *ch = m->ch;
    const int32_t rows = m->rows, len = m->len;
    int32_t r;
    for (r = 0; r < rows; r += 2, ch += 2) {
        const int two = r + 1 < rows;
        const int8_t *wa = m->w + r * len, *wb = two ? wa + len : wa, *const end = wa + 4 * groups;
        const eq_word_t *xp = x;
        int32_t a = ch[0].bias, b = ch[two].bias;
        eq_rowq q;
#if EQ_USE_MVE
        const int16_t *xv = (const int16_t *)(const void *)xp;
        for (; wa != end; wa += 8, wb += 8, xv += 8) {
            const int16x8_t col = vld1q_s16(xv);
            a = vmladavaq_s16(a, vldrbq_s16(wa), col);
            b = vmladavaq_s16(b, vldrbq_s16(wb), col);
        }
#else
        do {
            const int32_t u = eq_word(wa), v = eq_word(wb);
            a = EQ_MAC2(a, __sxtb16(u), eq_sxtb16_odd(u), xp);
            b = EQ_MAC2(b, __sxtb16(v), eq_sxtb16_odd(v), xp);
            wa += 4;
            wb += 4;
            xp += 2;
        } while (wa != end);
#endif
        q = eq_rowq_load(m, ch);
        eq_put(m, ch, &q, a, out + r, epi);
        if (two) {
            q = eq_rowq_load(m, ch + 1);
            eq_put(m, ch + 1, &q, b, out + r + 1, epi);
        }
    }
}

EQ_MM_FN void eq_matmul_cols8(const eq_matmul *m, const eq_word_t *x, int32_t groups, int32_t used, int8_t *out,
                              int32_t stride) {
    switch (eq_epilogue(m)) {
    case EQ_EPI_FULL_NOFIX:
        eq_rows_by_cols8(m, x, groups, used, out, stride, EQ_EPI_FULL_NOFIX);
        break;
    case EQ_EPI_CLAMP:
        eq_rows_by_cols8(m, x, groups, used, out, stride, EQ_EPI_CLAMP);
        break;
    default:
        eq_rows_by_cols8(m, x, groups, used, out, stride, EQ_EPI_ANY);
        break;
    }
}

EQ_MM_FN void eq_matmul_cols4(const eq_matmul *m, const eq_word_t *x, int32_t groups, int32_t used, int8_t *out,
                              int32_t stride) {
    switch (eq_epilogue(m)) {
    case EQ_EPI_FULL_NOFIX:
        eq_rows_by_cols4(m, x, groups, used, out, stride, EQ_EPI_FULL_NOFIX);
        break;
    case EQ_EPI_CLAMP:
        eq_rows_by_cols4(m, x, groups, used, out, stride, EQ_EPI_CLAMP);
        break;
    default:
        eq_rows_by_cols4(m, x, groups, used, out, stride, EQ_EPI_ANY);
        break;
    }
}

EQ_MM_FN void eq_matmul_cols1(const eq_matmul *m, const eq_word_t *x, int32_t groups, int8_t *out) {
    switch (eq_epilogue(m)) {
    case EQ_EPI_FULL_NOFIX:
        eq_rows_by_cols1(m, x, groups, out, EQ_EPI_FULL_NOFIX);
        break;
    case EQ_EPI_CLAMP:
        eq_rows_by_cols1(m, x, groups, out, EQ_EPI_CLAMP);
        break;
    default:
        eq_rows_by_cols1(m, x, groups, out, EQ_EPI_ANY);
        break;
    }
}

void eq_matmul_s8(const eq_matmul *m, const eq_cols *b, int32_t used, int8_t *out, int32_t out_stride) {
    const eq_word_t *x = (const eq_word_t *)(const void *)b->base;
    const int32_t groups = b->n / 4;
    if (b->cols == 8) {
        eq_matmul_cols8(m, x, groups, used, out, out_stride);
    } else if (b->cols == 4) {
        eq_matmul_cols4(m, x, groups, used, out, out_stride);
    } else {
        eq_matmul_cols1(m, x, groups, out);
    }
}
#else
/* ---- portable: dot products the compiler vectorizes, then eq_out_any ---- */

/* One row against four consecutive columns of n taps (a0..a3). */
static void eq_dot_1x4(const int16_t *c0, const int8_t *w, int32_t n, int32_t *sums) {
    const int16_t *c1 = c0 + n, *c2 = c1 + n, *c3 = c2 + n;
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int16_t v = w[i];
        a0 += (int32_t)v * c0[i];
        a1 += (int32_t)v * c1[i];
        a2 += (int32_t)v * c2[i];
        a3 += (int32_t)v * c3[i];
    }
    sums[0] = a0;
    sums[1] = a1;
    sums[2] = a2;
    sums[3] = a3;
}

/* Two rows against one column. */
static void eq_dot_2x1(const int16_t *x, const int8_t *w0, const int8_t *w1, int32_t n, int32_t *sums) {
    int32_t a0 = 0, a1 = 0;
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int16_t u = w0[i], v = w1[i];
        a0 += (int32_t)u * x[i];
        a1 += (int32_t)v * x[i];
    }
    sums[0] = a0;
    sums[1] = a1;
}

void eq_matmul_s8(const eq_matmul *m, const eq_cols *b, int32_t used, int8_t *out, int32_t out_stride) {
    int32_t sums[EQ_MM_COLS];
    int32_t r, j;
    if (b->cols == 1) {
        for (r = 0; r < m->rows; r += 2) {
            const int two = r + 1 < m->rows;
            const int8_t *w0 = m->w + r * m->len;
            eq_dot_2x1(b->base, w0, two ? w0 + m->len : w0, b->n, sums);
            eq_out_any(m, &m->ch[r], eq_add_wrap(sums[0], m->ch[r].bias), out + r);
            if (two) {
                eq_out_any(m, &m->ch[r + 1], eq_add_wrap(sums[1], m->ch[r + 1].bias), out + r + 1);
            }
        }
        return;
    }
    for (r = 0; r < m->rows; ++r) {
        const int8_t *w = m->w + r * m->len;
        for (j = 0; j < used; j += 4) {
            eq_dot_1x4(b->base + j * b->n, w, b->n, sums + j);
        }
        for (j = 0; j < used; ++j) {
            eq_out_any(m, &m->ch[r], eq_add_wrap(sums[j], m->ch[r].bias), out + j * out_stride + r);
        }
    }
}
#endif
