/*
 * edgeq_depthwise.c -- part of edgeq; copied unchanged into generated engines.
 *
 * DEPTHWISE_CONV_2D on int8 NHWC tensors (batch 1), computed as TFLM's
 * reference kernel does: taps outside the image are skipped, every output
 * channel gets acc = bias + sum w * (x + in_offset) over its input channel,
 * then its requantization (the op's eq_channel table and rq form). With depth
 * multiplier 1 it takes four channels at a time, sums in registers: with the
 * SIMD32 instructions one word of inputs per tap is split into 16-bit lanes
 * with SXTAB16 and multiplied lane by lane against int16 weights with
 * SMLABB/SMLABT/SMLATB/SMLATT, in straight-line code for a 3x3 filter (its
 * whole window, or the 3x2, 2x3 and 2x2 windows at the image's edges); the
 * portable loop computes the same int32 sums.
 */
#include "edgeq_kernels.h"

int32_t eq_depthwise_scratch_bytes(const eq_conv_params *p) {
    (void)p;
    return 0; /* sums in registers */
}

/* Where the layout keeps the weights of channel quad q, tap 0 (4 int16 per tap). */
static const int16_t *eq_dw_quad(const eq_conv_params *p, const int16_t *w, int32_t q) {
    return w + q * p->k_h * p->k_w * 4;
}

/* Lanes 0 .. lanes-1 of quad q (output channels 4q ..) of one output pixel, any depth multiplier:
   portable sums, lane beside lane. */
static void eq_dw_lanes(const eq_conv_params *p, const eq_taps *t, const int16_t *w, const eq_channel *ch, int32_t q,
                        int32_t lanes, int8_t *out) {
    const int32_t x_step = p->dil_w * p->in_c, x_row = p->dil_h * p->in_w * p->in_c;
    const int16_t *wq = eq_dw_quad(p, w, q) + t->tap * 4;
    int32_t acc[4] = {0, 0, 0, 0}, ic[4];
    int32_t l, ky, kx;
    for (l = 0; l < 4; ++l) {
        const int32_t oc = 4 * q + (l < lanes ? l : 0);
        ic[l] = p->depth_multiplier == 1 ? oc : oc / p->depth_multiplier;
    }
    for (ky = 0; ky < t->rows; ++ky) {
        for (kx = 0; kx < t->cols; ++kx) {
            const int8_t *xs = t->x + ky * x_row + kx * x_step;
            const int16_t *ws = wq + (ky * p->k_w + kx) * 4;
            for (l = 0; l < 4; ++l) {
                acc[l] += (int32_t)ws[l] * ((int32_t)xs[ic[l]] + p->in_offset);
            }
        }
    }
    for (l = 0; l < lanes; ++l) {
        const eq_channel *c = &ch[4 * q + l];
        out[4 * q + l] = eq_channel_out(c, p->rq, eq_add_wrap(acc[l], c->bias), p->out_offset, p->act_min, p->act_max);
    }
}

#if EQ_USE_SIMD32

/* The four outputs of one quad from their sums (bias included), any rq form. */
static EQ_NOINLINE void eq_dw_out4_any(const eq_conv_params *p, const eq_channel *ch, int32_t a0, int32_t a1,
                                       int32_t a2, int32_t a3, int8_t *out) {
    const int32_t acc[4] = {a0, a1, a2, a3};
    int32_t l;
    for (l = 0; l < 4; ++l) {
        out[l] = eq_channel_out(&ch[l], p->rq, acc[l], p->out_offset, p->act_min, p->act_max);
    }
}

/* The same, inline for the fast form of RELU-like layers with out_offset -128 (one SSAT, no sign term). */
static inline void eq_dw_out4(const eq_conv_params *p, const eq_channel *ch, int32_t a0, int32_t a1, int32_t a2,
                              int32_t a3, int8_t *out) {
    if (p->rq == (EQ_RQ_FAST | EQ_RQ_FULL_RANGE | EQ_RQ_NO_SIGN_FIX)) {
        out[0] = (int8_t)eq_sat_s8(eq_rq_fast(&ch[0], a0, 0));
        out[1] = (int8_t)eq_sat_s8(eq_rq_fast(&ch[1], a1, 0));
        out[2] = (int8_t)eq_sat_s8(eq_rq_fast(&ch[2], a2, 0));
        out[3] = (int8_t)eq_sat_s8(eq_rq_fast(&ch[3], a3, 0));
    } else {
        eq_dw_out4_any(p, ch, a0, a1, a2, a3, out);
    }
}

/* Hides the value of pointer v from the optimizer (no instruction). */
#if defined(__GNUC__)
#define EQ_OPAQUE(v) __asm__("" : "+r"(v))
#else
#define EQ_OPAQUE(v) ((void)0)
#endif

/* One tap of a quad: a word of inputs at xs, (w0, w1) and (w2, w3) at ws; (x0, x2) and (x1, x3) +
   offset with SXTAB16, each lane times its int16 weight. */
#if EQ_USE_MVE
/* Helium: the four lanes at once, in int32: VLDRB.S32 widens the word of inputs, VADD adds the offset,
   VLDRH.S32 widens the four int16 weights, VMUL and VADD accumulate (the same int32 sums). */
#define EQ_DW_TAP(xs, ws)                                                                                              \
    acc = vaddq_s32(acc, vmulq_s32(vldrhq_s32((const int16_t *)(const void *)(ws)),                                    \
                                   vaddq_n_s32(vldrbq_s32((const int8_t *)(xs)), p->in_offset)))
#define EQ_DW_SUMS(ch)                                                                                                 \
    int32x4_t acc = vdupq_n_s32(0);                                                                                    \
    (void)offsets
#define EQ_DW_OUT(p, ch, out)                                                                                          \
    eq_dw_out4(p, ch, eq_add_wrap(vgetq_lane_s32(acc, 0), (ch)[0].bias),                                               \
               eq_add_wrap(vgetq_lane_s32(acc, 1), (ch)[1].bias), eq_add_wrap(vgetq_lane_s32(acc, 2), (ch)[2].bias),   \
               eq_add_wrap(vgetq_lane_s32(acc, 3), (ch)[3].bias), out)
#else
#define EQ_DW_TAP(xs, ws)                                                                                              \
    do {                                                                                                               \
        const int32_t xw_ = eq_word(xs), w01_ = (ws)[0], w23_ = (ws)[1];                                               \
        const int32_t xe_ = __sxtab16(offsets, xw_), xo_ = eq_sxtab16_odd(offsets, xw_);                               \
        a0 = __smlabb(xe_, w01_, a0);                                                                                  \
        a1 = __smlabt(xo_, w01_, a1);                                                                                  \
        a2 = __smlatb(xe_, w23_, a2);                                                                                  \
        a3 = __smlatt(xo_, w23_, a3);                                                                                  \
    } while (0)
#define EQ_DW_SUMS(ch) int32_t a0 = (ch)[0].bias, a1 = (ch)[1].bias, a2 = (ch)[2].bias, a3 = (ch)[3].bias
#define EQ_DW_OUT(p, ch, out) eq_dw_out4(p, ch, a0, a1, a2, a3, out)
#endif

#if defined(__GNUC__)
#define EQ_DW_INLINE static inline __attribute__((always_inline)) EQ_LOOP_ATTR
#else
#define EQ_DW_INLINE static inline
#endif

/* One row of a 3x3 window's taps inside the image, cols (2 or 3) of them from y, the weights of the row's
   first tap at ws. */
#define EQ_DW_ROW(y, ws, cols)                                                                                         \
    do {                                                                                                               \
        EQ_DW_TAP(y, ws);                                                                                              \
        EQ_DW_TAP((y) + x_step, (ws) + 2);                                                                             \
        if ((cols) == 3) {                                                                                             \
            EQ_DW_TAP((y) + x_step2, (ws) + 4);                                                                        \
        }                                                                                                              \
    } while (0)

/* Every whole quad of channels (4 * quads of them) of one output pixel of a 3x3 filter whose window
   keeps rows x cols taps (2 or 3 each) inside the image: straight-line code, the weights of a quad at
   constant offsets (ws: the first kept tap's, 3 taps = 6 words to the next row). rows and cols are
   constants in each caller, so every variant is free of branches and loops inside a quad. */
EQ_DW_INLINE void eq_dw_quads3(const eq_conv_params *p, const int8_t *x, const eq_word_t *ws, const eq_channel *ch,
                               int32_t offsets, int32_t quads, int8_t *out, const int32_t rows, const int32_t cols) {
    const int32_t x_step = p->dil_w * p->in_c, x_step2 = 2 * x_step, row_step = p->dil_h * p->in_w * p->in_c;
    for (; quads > 0; --quads, x += 4, ws += 18, ch += 4, out += 4) {
        const int8_t *y = x;
        EQ_DW_SUMS(ch);
        EQ_OPAQUE(y); /* the rows are reached from y by adds: no pointer per row kept across quads */
        EQ_DW_ROW(y, ws, cols);
        y += row_step;
        EQ_DW_ROW(y, ws + 6, cols);
        if (rows == 3) {
            y += row_step;
            EQ_DW_ROW(y, ws + 12, cols);
        }
        EQ_DW_OUT(p, ch, out);
    }
}

/* eq_dw_pixelRxC: the variant for windows of R rows x C columns, out of line (one function each). The
   windows a 3x3 filter keeps: the whole 3 x 3, and 3 x 2, 2 x 3 and 2 x 2 at the image's edges. */
#define EQ_DW_VARIANT(rows, cols)                                                                                      \
    static EQ_NOINLINE EQ_LOOP_ATTR void eq_dw_pixel##rows##x##cols(const eq_conv_params *p, const int8_t *x,          \
                                                                    const eq_word_t *ws, const eq_channel *ch,         \
                                                                    int32_t offsets, int32_t quads, int8_t *out) {     \
        eq_dw_quads3(p, x, ws, ch, offsets, quads, out, rows, cols);                                                   \
    }
EQ_DW_VARIANT(3, 3)
EQ_DW_VARIANT(3, 2)
EQ_DW_VARIANT(2, 3)
EQ_DW_VARIANT(2, 2)

/* The straight-line variant for a 3x3 filter's window of rows x cols taps, or NULL. */
typedef void (*eq_dw_quads_fn)(const eq_conv_params *, const int8_t *, const eq_word_t *, const eq_channel *, int32_t,
                               int32_t, int8_t *);
static eq_dw_quads_fn eq_dw_variant3(int32_t rows, int32_t cols) {
    if (rows == 3) {
        return cols == 3 ? eq_dw_pixel3x3 : cols == 2 ? eq_dw_pixel3x2 : NULL;
    }
    if (rows == 2) {
        return cols == 3 ? eq_dw_pixel2x3 : cols == 2 ? eq_dw_pixel2x2 : NULL;
    }
    return NULL;
}

/* Every whole quad of channels of one output pixel, any window: tap after tap. */
static EQ_NOINLINE EQ_LOOP_ATTR void eq_dw_pixel(const eq_conv_params *p, const eq_taps *t, const int16_t *w,
                                                 const eq_channel *ch, int32_t offsets, int32_t quads, int8_t *out) {
    const int32_t x_step = p->dil_w * p->in_c, rows = t->rows, cols = t->cols;
    const int32_t x_row = p->dil_h * p->in_w * p->in_c - cols * x_step; /* from past a row's taps to the next */
    const int32_t w_skip = (p->k_w - cols) * 2, quad_words = p->k_h * p->k_w * 2;
    const eq_word_t *wq = (const eq_word_t *)(const void *)(w + t->tap * 4);
    const int8_t *xq = t->x;
    if (p->k_h == 3 && p->k_w == 3) {
        const eq_dw_quads_fn variant = eq_dw_variant3(rows, cols);
        if (variant != NULL) {
            variant(p, xq, wq, ch, offsets, quads, out);
            return;
        }
    }
    for (; quads > 0; --quads, xq += 4, wq += quad_words, ch += 4, out += 4) {
        const int8_t *x = xq;
        const eq_word_t *ws = wq;
        EQ_DW_SUMS(ch);
        int32_t ky, kx;
        for (ky = rows; ky > 0; --ky, x += x_row, ws += w_skip) {
            for (kx = cols; kx > 0; --kx, x += x_step, ws += 2) {
                EQ_DW_TAP(x, ws);
            }
        }
        EQ_DW_OUT(p, ch, out);
    }
}
#endif

void eq_depthwise_conv2d_s8(const eq_conv_params *p, const int8_t *in, const int16_t *w, const eq_channel *ch,
                            void *scratch, int8_t *out) {
    const int32_t quads = (p->out_c + 3) / 4;
    int32_t oy, ox, q;
    int32_t whole = 0; /* quads of the SIMD path */
#if EQ_USE_SIMD32
    const int32_t offsets = eq_offsets(p->in_offset);
    whole = p->depth_multiplier == 1 ? p->out_c / 4 : 0;
#endif
    (void)scratch;
    for (oy = 0; oy < p->out_h; ++oy) {
        for (ox = 0; ox < p->out_w; ++ox, out += p->out_c) {
            const eq_taps t = eq_taps_at(p, in, oy, ox);
#if EQ_USE_SIMD32
            if (whole > 0) {
                eq_dw_pixel(p, &t, w, ch, offsets, whole, out);
            }
#endif
            for (q = whole; q < quads; ++q) {
                eq_dw_lanes(p, &t, w, ch, q, p->out_c - 4 * q < 4 ? p->out_c - 4 * q : 4, out);
            }
        }
    }
}
