/*
 * edgeq_kernels.h -- part of edgeq; copied unchanged into generated engines.
 *
 * The int8 kernel library of the edgeq compiled engine. Plain C99: no malloc,
 * no printf, no recursion, no float in the int8 path. Every kernel computes
 * exactly what TensorFlow Lite Micro's reference kernels compute (the integer
 * rules are described in docs/specs/int8-arithmetic.md in the edgeq
 * repository), so outputs are bit-identical.
 *
 * Layouts: activations NHWC with batch 1 unless a kernel says otherwise;
 * CONV_2D weights [out_c][k_h][k_w][in_c]; DEPTHWISE_CONV_2D weights
 * [k_h][k_w][out_c]; FULLY_CONNECTED weights [out][in].
 * Requantization: real multiplier = mult * 2^(shift - 31), shift > 0 is a
 * left shift (TFLite's convention); per-channel kernels take arrays.
 * Parameters come in `static const` structs the generator fills with literals.
 */
#ifndef EDGEQ_KERNELS_H
#define EDGEQ_KERNELS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define EQ_ALIGN16 __attribute__((aligned(16)))
#else
#define EQ_ALIGN16
#endif

/* ---- fixed-point helpers (edgeq_requant.c) ---- */
int32_t eq_sat_round_doubling_high_mul(int32_t a, int32_t b); /* SaturatingRoundingDoublingHighMul */
int32_t eq_round_div_pow2(int32_t x, int exponent);           /* RoundingDivideByPOT, exponent 0..31 */
int32_t eq_mul_by_quantized_mult(int32_t x, int32_t multiplier, int32_t shift); /* MultiplyByQuantizedMultiplier */
/* Fixed-point helpers of the SOFTMAX / LOGISTIC / TANH kernels (gemmlowp's algorithms). */
int32_t eq_fp_sat_shift_left(int32_t x, int e);                    /* x * 2^e, e in 1..30, saturating */
int32_t eq_fp_exp_on_negative_values(int32_t a, int integer_bits); /* exp(a), a <= 0; Q0.31 result */
int32_t eq_fp_reciprocal_q2(int32_t a);                            /* 1 / (1 + a), a in [0, 1): Q2.29 */

/* ---- SIMD paths ----
 * Cores with the 32-bit SIMD instructions (Cortex-M4/M7/M33/M55: ACLE's __ARM_FEATURE_SIMD32 and
 * __ARM_FEATURE_DSP) run the dot products with SXTB16/SMLAD; every other target runs portable C
 * that compilers vectorize (SSE2 on x86-64). Both add the same int32 products, so both give the
 * same bytes. Define EDGEQ_NO_SIMD to force the portable C. */
#if defined(__ARM_FEATURE_SIMD32) && defined(__ARM_FEATURE_DSP) && !defined(EDGEQ_NO_SIMD)
#define EQ_USE_SIMD32 1
#else
#define EQ_USE_SIMD32 0
#endif

/* Cores with Helium (the M-profile Vector Extension: Cortex-M55 and up, ACLE's __ARM_FEATURE_MVE) also
 * take the matrix kernel's dot products eight int16 taps per instruction (VMLADAVA); their columns are
 * then stored in chunks of eight taps in order, column after column, instead of SIMD32's groups of
 * four. The sums are the same int32 sums. Define EDGEQ_NO_MVE to keep the SIMD32 kernels. */
#if EQ_USE_SIMD32 && defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1) && !defined(EDGEQ_NO_MVE)
#define EQ_USE_MVE 1
#include <arm_mve.h>
#else
#define EQ_USE_MVE 0
#endif
/* Columns in SIMD32's groups of four taps (t0, t2, t1, t3). */
#define EQ_COLS_GROUPED (EQ_USE_SIMD32 && !EQ_USE_MVE)

/* Inner loops kept out of line where the compiler allows it: inlined into their callers they compete
   with them for the registers of small cores and spill. */
#if defined(__GNUC__)
#define EQ_NOINLINE __attribute__((noinline))
#define EQ_UNUSED __attribute__((unused))
#else
#define EQ_NOINLINE
#define EQ_UNUSED
#endif

/* The int32 whose two's complement bits are u (a plain cast is implementation-defined above INT32_MAX;
   compilers emit no instruction for this). */
static inline int32_t eq_from_bits(uint32_t u) {
    return u <= (uint32_t)INT32_MAX ? (int32_t)u : -(int32_t)(~u) - 1;
}

#if EQ_USE_SIMD32
#include <arm_acle.h>

/* The hot loops of the SIMD32 kernels: GCC's first scheduling pass hoists their loads ahead of the uses
   and runs out of the core's registers (sums and pointers then spill to the stack inside the loop);
   without it each loop keeps them in registers (checked on the generated code). */
#if defined(__GNUC__) && !defined(__clang__)
#define EQ_LOOP_ATTR __attribute__((optimize("no-schedule-insns")))
#else
#define EQ_LOOP_ATTR
#endif

/* SXTB16 / SXTAB16 of v rotated right by 8 (its bytes 1 and 3 into the 16-bit lanes), one instruction
   each where the compiler takes inline assembly (GCC and Clang do not fold the rotation themselves). */
static inline int32_t eq_sxtb16_odd(int32_t v) {
#if defined(__GNUC__)
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
    return r;
#else
    return __sxtb16(eq_from_bits(((uint32_t)v >> 8) | ((uint32_t)v << 24)));
#endif
}

static inline int32_t eq_sxtab16_odd(int32_t a, int32_t v) {
#if defined(__GNUC__)
    int32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(v));
    return r;
#else
    return __sxtab16(a, eq_from_bits(((uint32_t)v >> 8) | ((uint32_t)v << 24)));
#endif
}
#endif

/* a + b wrapping modulo 2^32 like TFLM's int32 addition on its targets, without signed overflow. */
static inline int32_t eq_add_wrap(int32_t a, int32_t b) {
    return eq_from_bits((uint32_t)a + (uint32_t)b);
}

/* floor(v / 2^k), k in 0..62, for negative v too (C leaves v >> k implementation-defined there). */
static inline int64_t eq_floor_div_pow2_64(int64_t v, int k) {
    return v < 0 ? ~(~v >> k) : v >> k;
}

/* floor(x / 2^k), k in 0..31, likewise (compilers emit one arithmetic shift). */
static inline int32_t eq_floor_div_pow2(int32_t x, int k) {
    return x < 0 ? ~(~x >> k) : x >> k;
}

/* floor(v / 2^31) of a 64-bit v whose quotient fits int32: the low word of the logical shift. */
static inline int32_t eq_floor_2_31(int64_t v) {
    return eq_from_bits((uint32_t)((uint64_t)v >> 31));
}

/* floor(v / 2^32): the high word of v. */
static inline int32_t eq_high_word(int64_t v) {
    return eq_from_bits((uint32_t)((uint64_t)v >> 32));
}

/* MultiplyByQuantizedMultiplier of the hot loops, prepared once per channel (eq_rq_make) and applied
 * to every output of that channel (eq_rq_apply), for what QuantizeMultiplier produces: mult in
 * [0, 2^31), shift in [-31, 31]. The same bits as eq_mul_by_quantized_mult, without its branches and division:
 *   SRDHM(x, M) = s = floor((x*M + 2^30) / 2^31)  (gemmlowp's nudge-and-truncate rule, for every
 *                 product but INT32_MIN * INT32_MIN, which mult >= 0 excludes);
 *   shift >= 0: x = acc * 2^shift (wrapping in int32 like TFLM's), result s;
 *   shift = -e < 0: x = acc, RDBPOT(s, e) = floor((s + 2^(e-1) - [s < 0]) / 2^e), and since
 *     floor((floor(a / 2^31) + c) / 2^e) = floor((a + c * 2^31) / 2^(31+e)) for integer c,
 *     result = floor((x*M + 2^30 + 2^(30+e) - [s < 0] * 2^31) / 2^32 / 2^(e-1)):
 *     the high word of one 64-bit sum, shifted right by e - 1.
 * [x < 0] stands for [s < 0]: they differ only when -2^30 <= x*M < 0, where s = 0 and both give 0.
 * tests/codegen/kernel_driver.c checks eq_requant against eq_mul_by_quantized_mult. */
typedef struct {
    int32_t mult, shift;
    int64_t round; /* shift < 0: 2^30 + 2^(30+e) */
} eq_rq;

static inline eq_rq eq_rq_make(int32_t mult, int32_t shift) {
    eq_rq q;
    q.mult = mult;
    q.shift = shift;
    /* 2^30 + 2^(30+e) as its two 32-bit words: e = 1 sets bit 31 of the low word, e >= 2 bit e - 2 of the high */
    q.round = 0;
    if (shift < 0) {
        const uint32_t high = shift <= -2 ? (uint32_t)1 << (-shift - 2) : 0u;
        const uint32_t low = shift == -1 ? 0xC0000000u : 0x40000000u;
        q.round = (int64_t)(((uint64_t)high << 32) | low);
    }
    return q;
}

static inline int32_t eq_rq_apply(const eq_rq *q, int32_t acc) {
    if (q->shift < 0) {
        const int64_t v = (int64_t)acc * q->mult + q->round - (acc < 0 ? ((int64_t)1 << 31) : 0);
        return eq_floor_div_pow2(eq_high_word(v), (int)(-q->shift - 1));
    }
    return eq_floor_2_31((int64_t)eq_from_bits((uint32_t)acc << q->shift) * q->mult + ((int64_t)1 << 30));
}

/* eq_mul_by_quantized_mult for any arguments: inline (eq_requant) for every multiplier and shift QuantizeMultiplier
   gives, the out-of-line definition otherwise. */
static inline int32_t eq_mul_by_quantized_mult_fast(int32_t x, int32_t mult, int32_t shift) {
    if (mult >= 0 && shift >= -31 && shift <= 31) {
        const eq_rq q = eq_rq_make(mult, shift);
        return eq_rq_apply(&q, x);
    }
    return eq_mul_by_quantized_mult(x, mult, shift);
}

/* eq_rq_apply + out_offset, clamped to [act_min, act_max]: one int8 output of CONV / FC. */
static inline int8_t eq_rq_s8(const eq_rq *q, int32_t acc, int32_t out_offset, int32_t act_min, int32_t act_max) {
    int32_t y = eq_rq_apply(q, acc) + out_offset;
    y = y < act_min ? act_min : y;
    y = y > act_max ? act_max : y;
    return (int8_t)y;
}

static inline int32_t eq_requant(int32_t acc, int32_t mult, int32_t shift) {
    const eq_rq q = eq_rq_make(mult, shift);
    return eq_rq_apply(&q, acc);
}

static inline int8_t eq_requant_s8(int32_t acc, int32_t mult, int32_t shift, int32_t out_offset, int32_t act_min,
                                   int32_t act_max) {
    const eq_rq q = eq_rq_make(mult, shift);
    return eq_rq_s8(&q, acc, out_offset, act_min, act_max);
}

/* ---- per-channel requantization of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED ----
 * One entry per output channel, computed at generation time (edgeq/codegen/engine/requant_table.py):
 * the channel's bias (0 without one), TFLite's multiplier M, a shift and the rounding constant of the
 * fast form below. `rq` of the op's parameters says which form its outputs take:
 *   EQ_RQ_EXACT: shift is TFLite's (> 0: left); eq_rq_apply (any M and shift), + out_offset, clamped.
 *   EQ_RQ_FAST: shift holds e = -(TFLite's shift), a right shift: the generator has proved
 *     1 <= e <= 21 and |acc| < 2^29 for every input (|bias| + sum |w| * max |x + in_offset|), so
 *     with s = SMMULR(2 acc, M) = floor((acc M + 2^30) / 2^31), which is SRDHM(acc, M) exactly,
 *       t = floor((s + round - [acc < 0]) / 2^e),  round = 2^(e-1) + K 2^e,
 *     is RDBPOT(s, e) + K (the [s < 0] of RDBPOT may be read as [acc < 0]: they differ only when
 *     s = 0, where both give 0), with K = out_offset for EQ_RQ_FULL_RANGE (act_min = -128,
 *     act_max = 127: t saturated to int8 is the output) and K = out_offset - act_min otherwise
 *     (t saturated to [0, 255], then at most act_max - act_min, + act_min). No sum overflows:
 *     |s| <= |acc| < 2^29 and |round| < 2^(e+8) <= 2^29.
 *   EQ_RQ_NO_SIGN_FIX (with FAST): act_min >= out_offset, so every acc < 0 (whose output before the
 *     clamp is <= out_offset with or without the [acc < 0] term) clamps to act_min: the term is dropped. */
typedef struct {
    int32_t bias, mult, shift, round;
} eq_channel;

#define EQ_RQ_EXACT 0
#define EQ_RQ_FAST 1
#define EQ_RQ_FULL_RANGE 2
#define EQ_RQ_NO_SIGN_FIX 4

/* c + floor((a * b + 2^31) / 2^32), wrapping (SMMLAR). */
static inline int32_t eq_smmlar(int32_t a, int32_t b, int32_t c) {
#if EQ_USE_SIMD32 && defined(__GNUC__)
    int32_t r;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(c));
    return r;
#else
    return eq_add_wrap(c, eq_high_word((int64_t)a * (int64_t)b + ((int64_t)1 << 31)));
#endif
}

/* t of EQ_RQ_FAST (above) for acc = the channel's sum, bias included. */
static inline int32_t eq_rq_fast(const eq_channel *ch, int32_t acc, int sign_fix) {
    int32_t v = eq_smmlar(eq_from_bits((uint32_t)acc << 1), ch->mult, ch->round);
    if (sign_fix) {
        v += eq_floor_div_pow2(acc, 31); /* -1 for acc < 0 */
    }
    return eq_floor_div_pow2(v, (int)ch->shift);
}

/* t saturated to int8 (SSAT #8). */
static inline int32_t eq_sat_s8(int32_t t) {
#if EQ_USE_SIMD32 && defined(__ARM_FEATURE_SAT)
    return __ssat(t, 8);
#else
    return t < -128 ? -128 : (t > 127 ? 127 : t);
#endif
}

/* t saturated to [0, 255] (USAT #8). */
static inline int32_t eq_sat_u8(int32_t t) {
#if EQ_USE_SIMD32 && defined(__ARM_FEATURE_SAT)
    return (int32_t)__usat(t, 8);
#else
    return t < 0 ? 0 : (t > 255 ? 255 : t);
#endif
}

/* The clamp after eq_rq_fast: t -> the int8 output (span = act_max - act_min). */
static inline int8_t eq_rq_fast_out(int32_t t, int full_range, int32_t act_min, int32_t span) {
    if (full_range) {
        return (int8_t)eq_sat_s8(t);
    }
    t = eq_sat_u8(t);
    t = t > span ? span : t;
    return (int8_t)(t + act_min);
}

/* One output of any rq form from acc, the sum with the bias added: requantized, + out_offset, clamped. */
static inline int8_t eq_channel_out(const eq_channel *ch, int32_t rq, int32_t acc, int32_t out_offset, int32_t act_min,
                                    int32_t act_max) {
    if (rq & EQ_RQ_FAST) {
        return eq_rq_fast_out(eq_rq_fast(ch, acc, 1), rq & EQ_RQ_FULL_RANGE, act_min, act_max - act_min);
    }
    return eq_requant_s8(acc, ch->mult, ch->shift, out_offset, act_min, act_max);
}

/* ---- convolution family (edgeq_conv.c) ---- */
typedef struct {
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w, dil_h, dil_w;
    int32_t pad_top, pad_left;
    int32_t in_offset;  /* -input zero point */
    int32_t out_offset; /* output zero point */
    int32_t act_min, act_max;
    int32_t depth_multiplier; /* depthwise only */
    int32_t rq;               /* EQ_RQ_* form of the outputs */
    int32_t cols;             /* CONV_2D: columns per block, EQ_MM_COLS, 4, 1 (the scratch holds that many) or 0 */
} eq_conv_params;

/* The taps of one output pixel that fall inside the image: rows ky_lo .. ky_hi - 1 and columns
   kx_lo .. kx_hi - 1 of the filter; x points at the input pixel of the first, tap is its index. */
typedef struct {
    const int8_t *x;
    int32_t tap, rows, cols;
} eq_taps;

static inline int32_t eq_first_tap(int32_t origin, int32_t dil) {
    return origin >= 0 ? 0 : (-origin + dil - 1) / dil;
}

static inline int32_t eq_end_tap(int32_t origin, int32_t dil, int32_t k, int32_t size) {
    int32_t end = k;
    while (end > 0 && origin + (end - 1) * dil >= size) {
        --end;
    }
    return end;
}

/* Out of line (as a call per output pixel it costs little; inlined, it crowds the conv kernel's
   registers), and unused in kernel files without convolutions. */
static EQ_NOINLINE EQ_UNUSED eq_taps eq_taps_at(const eq_conv_params *p, const int8_t *in, int32_t oy, int32_t ox) {
    const int32_t y0 = oy * p->stride_h - p->pad_top, x0 = ox * p->stride_w - p->pad_left;
    const int32_t ky = eq_first_tap(y0, p->dil_h), kx = eq_first_tap(x0, p->dil_w);
    eq_taps t;
    t.rows = eq_end_tap(y0, p->dil_h, p->k_h, p->in_h) - ky;
    t.cols = eq_end_tap(x0, p->dil_w, p->k_w, p->in_w) - kx;
    t.x = in + ((y0 + ky * p->dil_h) * p->in_w + x0 + kx * p->dil_w) * p->in_c;
    t.tap = ky * p->k_w + kx;
    return t;
}

typedef struct {
    int32_t batches, in_depth, out_depth;
    int32_t in_offset;     /* -input zero point */
    int32_t weight_offset; /* -weight zero point (0 for int8 symmetric weights) */
    int32_t out_offset;
    int32_t act_min, act_max;
    int32_t per_channel; /* 0: per-tensor weights (weight_offset may be non-zero) */
    int32_t rq;          /* EQ_RQ_* form of the outputs */
    int32_t direct;      /* 1: read the int8 input directly, no scratch; 0: one int16 column in scratch */
} eq_fc_params;

/* Scratch. CONV_2D and FULLY_CONNECTED build int16 columns of the input (edgeq_matmul.c), and
 * DEPTHWISE_CONV_2D keeps int32 sums, in a scratch region of the arena that the generator plans like
 * a tensor alive during that one op: it reserves eq_*_scratch_bytes() bytes, 16-byte aligned (the
 * most any build uses). Weight arrays of these kernels must stay readable EQ_WEIGHT_TAIL bytes past
 * their end (the generator pads them with zeros).
 * Weight layouts (edgeq/codegen/engine/layouts.py writes them):
 *   CONV_2D: int8 [out_c][k_h][eq_conv_row_taps(p)]: each filter row (k_w * in_c taps, order (kx, ic))
 *     zero padded to a multiple of EQ_ROW_ALIGN, so that it starts a group of four column taps;
 *   DEPTHWISE_CONV_2D: int16 [ceil(out_c / 4)][k_h * k_w][4]: four output channels, tap after tap,
 *     zero padded past out_c;
 *   FULLY_CONNECTED: int8 [out][in], as in the model.
 * `ch`: one eq_channel per output channel (per-tensor quantization: the same values repeated). */
#define EQ_COL_ALIGN_MAX 16
#if EQ_USE_MVE
#define EQ_COL_ALIGN 8 /* columns hold a multiple of EQ_COL_ALIGN taps, zero padded */
#elif EQ_USE_SIMD32
#define EQ_COL_ALIGN 4
#else
#define EQ_COL_ALIGN 16
#endif
#define EQ_ROW_ALIGN 4
#define EQ_WEIGHT_TAIL 16
int32_t eq_conv_row_taps(const eq_conv_params *p); /* k_w * in_c rounded up to a multiple of EQ_ROW_ALIGN */
int32_t eq_conv2d_scratch_bytes(const eq_conv_params *p);
int32_t eq_depthwise_scratch_bytes(const eq_conv_params *p);
int32_t eq_fc_scratch_bytes(const eq_fc_params *p);

void eq_conv2d_s8(const eq_conv_params *p, const int8_t *in, const int8_t *w, const eq_channel *ch, void *scratch,
                  int8_t *out);
void eq_depthwise_conv2d_s8(const eq_conv_params *p, const int8_t *in, const int16_t *w, const eq_channel *ch,
                            void *scratch, int8_t *out);
void eq_fully_connected_s8(const eq_fc_params *p, const int8_t *in, const int8_t *w, const eq_channel *ch,
                           void *scratch, int8_t *out);

/* int4 weights (edgeq_int4.c): `count` values (a multiple of 8), packed 8 a word in the engine's nibble
   order, into int8 or int16 values, the layouts above, in an op's scratch region before its kernel runs. */
void eq_unpack_s4_s8(const uint8_t *packed, int32_t count, int8_t *out);
void eq_unpack_s4_s16(const uint8_t *packed, int32_t count, int16_t *out);
/* An int4 op's channel parameters, compact in flash (int32 bias and mult, int8 shift), as `count` eq_channel
   rows in its scratch region: shift as stored, round derived from it for the op's `rq` form and `base`, the
   K of EQ_RQ_FAST (0 in the exact form). */
void eq_expand_channels(const int32_t *bias, const int32_t *mult, const int8_t *shift, int32_t count, int32_t rq,
                        int32_t base, eq_channel *out);
/* `rows` FULLY_CONNECTED rows of `len` values, each packed padded to a multiple of 8 values, into
   [rows][len] int8 followed by EQ_WEIGHT_TAIL zero bytes. */
void eq_unpack_rows_s4_s8(const uint8_t *packed, int32_t rows, int32_t len, int8_t *out);
/* FULLY_CONNECTED over packed int4 rows, two rows unpacked and their two channels expanded (compact
   `bias`, `mult`, `shift` and the `base` of eq_expand_channels) at a time into `scratch`
   (eq_fc_s4_scratch_bytes; edgeq_fc_int4.c). */
int32_t eq_fc_s4_scratch_bytes(const eq_fc_params *p);
void eq_fully_connected_s4(const eq_fc_params *p, const int8_t *in, const uint8_t *w, const int32_t *bias,
                           const int32_t *mult, const int8_t *shift, int32_t base, void *scratch, int8_t *out);

/* ---- pooling (edgeq_pool.c) ---- */
typedef struct {
    int32_t in_h, in_w, channels;
    int32_t out_h, out_w;
    int32_t filter_h, filter_w, stride_h, stride_w, pad_top, pad_left;
    int32_t act_min, act_max;
} eq_pool_params;

void eq_avg_pool_s8(const eq_pool_params *p, const int8_t *in, int8_t *out);
void eq_max_pool_s8(const eq_pool_params *p, const int8_t *in, int8_t *out);

/* ---- elementwise (edgeq_elementwise.c) ---- */
typedef struct {
    int32_t size;       /* elements of the output */
    int32_t left_shift; /* 20 for int8 ADD */
    int32_t in1_offset, in2_offset, out_offset;
    int32_t in1_mult, in1_shift, in2_mult, in2_shift, out_mult, out_shift;
    int32_t act_min, act_max;
    /* broadcasting: for each output element the index of each input is computed from these
       4-D shapes and strides (stride 0 on broadcast axes); rank padded to 4. */
    int32_t broadcast;
    int32_t out_shape[4];
    int32_t in1_strides[4], in2_strides[4];
} eq_binary_params;

/* One element of a binary op before the clamp: a and b as stored, p its parameters. */
typedef int32_t (*eq_binary_fn)(int32_t a, int32_t b, const eq_binary_params *p);

static inline int32_t eq_clamp_range(int32_t v, int32_t lo, int32_t hi) {
    return v < lo ? lo : (v > hi ? hi : v);
}

/* Defines `static void NAME(p, in1, in2, out, fn)` over elements of type T, for the int8 and int16
   binary kernels alike: fn on every output element, clamped to [act_min, act_max]; flat when both
   inputs have the output's shape, else over the 4-D output shape with per-input strides (0 on
   broadcast axes). */
#define EQ_DEFINE_BINARY_WALK(NAME, T)                                                                                 \
    static void NAME(const eq_binary_params *p, const T *in1, const T *in2, T *out, eq_binary_fn fn) {                 \
        int32_t i, a, b, c, d;                                                                                         \
        if (!p->broadcast) {                                                                                           \
            for (i = 0; i < p->size; ++i) {                                                                            \
                out[i] = (T)eq_clamp_range(fn(in1[i], in2[i], p), p->act_min, p->act_max);                             \
            }                                                                                                          \
            return;                                                                                                    \
        }                                                                                                              \
        for (a = 0; a < p->out_shape[0]; ++a) {                                                                        \
            for (b = 0; b < p->out_shape[1]; ++b) {                                                                    \
                for (c = 0; c < p->out_shape[2]; ++c) {                                                                \
                    const int32_t o1 = a * p->in1_strides[0] + b * p->in1_strides[1] + c * p->in1_strides[2];          \
                    const int32_t o2 = a * p->in2_strides[0] + b * p->in2_strides[1] + c * p->in2_strides[2];          \
                    for (d = 0; d < p->out_shape[3]; ++d) {                                                            \
                        const int32_t v = fn(in1[o1 + d * p->in1_strides[3]], in2[o2 + d * p->in2_strides[3]], p);     \
                        *out++ = (T)eq_clamp_range(v, p->act_min, p->act_max);                                         \
                    }                                                                                                  \
                }                                                                                                      \
            }                                                                                                          \
        }                                                                                                              \
    }

void eq_add_s8(const eq_binary_params *p, const int8_t *in1, const int8_t *in2, int8_t *out);
/* One element of int8 ADD (a is input 1, b input 2), clamped: what eq_add_s8 stores. */
int8_t eq_add_value_s8(const eq_binary_params *p, int32_t a, int32_t b);

/* CONV_2D followed by an ADD of its output and a residual tensor of the same shape, computed
   in place: each output element is written over the residual element it was added to (read
   first), so the residual buffer becomes the output and the conv output never exists. The
   bytes are those of the two separate ops. conv_is_in1: the conv output is ADD's input 1. */
void eq_conv2d_add_s8(const eq_conv_params *p, const eq_binary_params *add, int32_t conv_is_in1, const int8_t *in,
                      const int8_t *w, const eq_channel *ch, void *scratch, int8_t *residual_inout); /* edgeq_conv.c */
void eq_mul_s8(const eq_binary_params *p, const int8_t *in1, const int8_t *in2, int8_t *out);

/* ---- binary ops SUB, SQUARED_DIFFERENCE, MAXIMUM, MINIMUM, PRELU (edgeq_elementwise.c) ----
 * Same parameters and broadcasting as ADD. SQUARED_DIFFERENCE: left_shift 7, output multiplier
 * applied to the squared difference. MAXIMUM / MINIMUM: only the shapes are used. PRELU: input 2
 * is alpha; in1_mult / in1_shift rescale inputs at or above the zero point, out_mult / out_shift
 * the product (x + in1_offset) * (alpha + in2_offset) of the others. */
void eq_sub_s8(const eq_binary_params *p, const int8_t *in1, const int8_t *in2, int8_t *out);
void eq_squared_difference_s8(const eq_binary_params *p, const int8_t *in1, const int8_t *in2, int8_t *out);
void eq_maximum_s8(const eq_binary_params *p, const int8_t *in1, const int8_t *in2, int8_t *out);
void eq_minimum_s8(const eq_binary_params *p, const int8_t *in1, const int8_t *in2, int8_t *out);
void eq_prelu_s8(const eq_binary_params *p, const int8_t *in, const int8_t *alpha, int8_t *out);

/* ---- the matrix kernel under CONV_2D and FULLY_CONNECTED (edgeq_matmul.c) ---- */
typedef struct {
    const int8_t *w; /* rows x len weights, one row per output channel */
    int32_t rows, len;
    const eq_channel *ch; /* one per row */
    int32_t rq;           /* EQ_RQ_* */
    int32_t out_offset, act_min, act_max;
    const eq_binary_params *add; /* not NULL: CONV_2D+ADD, each output added to the residual it overwrites */
    int32_t conv_is_in1;
    /* set by eq_matmul_set_add: the ADD's three requantizations, prepared once (add_inline: all
       three in eq_rq's range, else each output goes through eq_add_value_s8) */
    eq_rq add_q1, add_q2, add_qo;
    int32_t add_inline;
} eq_matmul;

/* m->add = add (NULL for none) and m->conv_is_in1, with the ADD's requantizations prepared. */
void eq_matmul_set_add(eq_matmul *m, const eq_binary_params *add, int32_t conv_is_in1);

/* A block of 1, 4 or EQ_MM_COLS int16 columns in scratch memory, n taps each (a multiple of
   EQ_COL_ALIGN); where a tap of a column lives is the build's own business (eq_col_put_s8). */
#define EQ_MM_COLS 8
typedef struct {
    int16_t *base;
    int32_t cols, n;
} eq_cols;

int32_t eq_col_len(int32_t taps); /* taps rounded up to a multiple of EQ_COL_ALIGN */
/* Taps k .. k+len-1 of column j = x[0 .. len-1] + offset, or 0. */
void eq_col_put_s8(const eq_cols *b, int32_t j, int32_t k, const int8_t *x, int32_t len, int32_t offset);
void eq_col_zero(const eq_cols *b, int32_t j, int32_t k, int32_t len);

#if EQ_USE_SIMD32
/* Aligned 32-bit words of the column scratch: read and written only through this type (and memcpy),
   so the compiler may pair them into LDRD / STRD. */
#if defined(__GNUC__)
typedef int32_t eq_word_t __attribute__((may_alias));
typedef struct {
    int32_t even, odd;
} __attribute__((may_alias)) eq_pair_t;
#else
typedef int32_t eq_word_t;
typedef struct {
    int32_t even, odd;
} eq_pair_t;
#endif

/* The 32-bit word at p, any alignment (an int16x2 or int8x4 in ACLE's terms, which are int32_t). */
static inline int32_t eq_word(const void *p) {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}
#endif

#if EQ_USE_SIMD32
/* Whole groups of the SIMD32 layout: group g of column j holds its taps (t0, t2, t1, t3) as two words
   at base + (g * cols + j) * 4, the next group of the same column 2 * cols words further. */
static inline eq_word_t *eq_col_group(const eq_cols *b, int32_t j, int32_t k) {
    return (eq_word_t *)(void *)(b->base + k * b->cols + j * 4);
}

/* x + offset for len (a multiple of 4) taps from the group at dst on (offsets: the offset in both
   16-bit halves); returns where the next group of the column goes. One word of inputs gives (x0, x2)
   + offset and (x1, x3) + offset with SXTAB16: offset, -zero_point, is in [-127, 128], so it fits
   each half, and so does x + offset. */
static inline eq_word_t *eq_col_run(eq_word_t *dst, int32_t step, const int8_t *x, int32_t len, int32_t offsets) {
    const int8_t *const end = x + len;
    for (; x != end; x += 4, dst += step) {
        const int32_t word = eq_word(x);
        eq_pair_t pair;
        pair.even = __sxtab16(offsets, word);
        pair.odd = eq_sxtab16_odd(offsets, word);
        *(eq_pair_t *)(void *)dst = pair; /* one STRD */
    }
    return dst;
}

/* The offset in both halves of a word. */
static inline int32_t eq_offsets(int32_t offset) {
    const uint32_t half = (uint32_t)offset & 0xFFFFu;
    return eq_from_bits((half << 16) | half);
}
#endif

/* eq_col_put_s8 where k and len are multiples of EQ_COL_ALIGN, inline in SIMD32 builds. */
static inline void eq_col_put_groups_s8(const eq_cols *b, int32_t j, int32_t k, const int8_t *x, int32_t len,
                                        int32_t offset) {
#if EQ_COLS_GROUPED
    (void)eq_col_run(eq_col_group(b, j, k), 2 * b->cols, x, len, eq_offsets(offset));
#else
    eq_col_put_s8(b, j, k, x, len, offset);
#endif
}

/* Every row against every column of b: row r of column j goes to out[j * out_stride + r], for the
   first `used` columns. */
void eq_matmul_s8(const eq_matmul *m, const eq_cols *b, int32_t used, int8_t *out, int32_t out_stride);

/* ---- activations (eq_relu_s8: edgeq_elementwise.c; LEAKY_RELU, HARD_SWISH: edgeq_leaky_relu_hard_swish.c) ---- */
typedef struct {
    int32_t size;
    int32_t in_offset, out_offset;   /* -in zp, out zp */
    int32_t mult, shift;             /* identity rescale in -> out (RELU family, LEAKY_RELU x >= 0) */
    int32_t alpha_mult, alpha_shift; /* LEAKY_RELU x < 0 */
    int32_t act_min, act_max;
} eq_unary_params;

/* RELU, RELU6, RELU_N1_TO_1 via act_min/act_max */
void eq_relu_s8(const eq_unary_params *p, const int8_t *in, int8_t *out);
void eq_leaky_relu_s8(const eq_unary_params *p, const int8_t *in, int8_t *out);

/* Softmax, logistic, tanh and hard swish follow TFLM's fixed-point algorithms; their
   parameter structs hold the values TFLM's Prepare computes, precomputed by edgeq. */
typedef struct {
    int32_t rows, depth;
    int32_t input_multiplier, input_left_shift, diff_min;
} eq_softmax_params;
void eq_softmax_s8(const eq_softmax_params *p, const int8_t *in, int8_t *out);

typedef struct {
    int32_t size;
    int32_t input_zero_point, input_range_radius, input_multiplier, input_left_shift;
} eq_sigmoid_params;
void eq_logistic_s8(const eq_sigmoid_params *p, const int8_t *in, int8_t *out);
void eq_tanh_s8(const eq_sigmoid_params *p, const int8_t *in, int8_t *out);

typedef struct {
    int32_t size;
    int32_t input_zero_point, output_zero_point;
    int32_t reluish_multiplier_fixedpoint_int16, reluish_multiplier_exponent;
    int32_t output_multiplier_fixedpoint_int16, output_multiplier_exponent;
} eq_hard_swish_params;
void eq_hard_swish_s8(const eq_hard_swish_params *p, const int8_t *in, int8_t *out);

/* ---- data movement (edgeq_data.c) ---- */
void eq_copy(const void *in, void *out, size_t bytes); /* RESHAPE / SQUEEZE / EXPAND_DIMS when not aliased */

typedef struct {
    int32_t in_shape[4], out_shape[4];
    int32_t before[4]; /* padding before each axis (after) implied by out_shape */
    int32_t pad_value; /* the output zero point for PAD, or the constant of PADV2 */
} eq_pad_params;
void eq_pad_s8(const eq_pad_params *p, const int8_t *in, int8_t *out);

typedef struct {
    int32_t outer, inner_out; /* product of dims before the axis; out axis size * inner */
    int32_t inputs;
    const int32_t *inner_in;                 /* per input: its axis size * inner */
    const int32_t *mult, *shift, *in_offset; /* per input requantization (mult 0: plain copy) */
    int32_t out_offset;
} eq_concat_params;
void eq_concat_s8(const eq_concat_params *p, const int8_t *const *inputs, int8_t *out);

typedef struct {
    int32_t in_shape[4]; /* rank padded to 4 */
    int32_t start[4], stop[4], step[4];
    int32_t out_size;
} eq_slice_params;
void eq_strided_slice_s8(const eq_slice_params *p, const int8_t *in, int8_t *out);

/* ---- data movement TRANSPOSE, DEPTH_TO_SPACE, SPACE_TO_DEPTH, SPLIT, SPLIT_V, UNPACK, GATHER (edgeq_data.c);
 * PACK is eq_concat_s8 without requantization ---- */
/* A permutation of the input's axes: the output walked in order, shape padded to rank 6 with leading 1s,
   strides[i] the input elements between neighbours along output axis i. */
typedef struct {
    int32_t shape[6];
    int32_t strides[6];
} eq_permute_params;
void eq_permute_s8(const eq_permute_params *p, const int8_t *in, int8_t *out);

typedef struct {
    int32_t outer, inner_in; /* product of dims before the axis; input axis size * inner */
    int32_t outputs;
    const int32_t *inner_out; /* per output: its axis size * inner */
} eq_split_params;
void eq_split_s8(const eq_split_params *p, const int8_t *in, int8_t *const *outputs);

/* GATHER with constant indices: batches (batch_dims), outer (dims up to the axis), the axis, inner
   elements per index; indices holds batches * coords values in [0, axis_size). */
typedef struct {
    int32_t batches, outer, axis_size, inner, coords;
    const int32_t *indices;
} eq_gather_params;
void eq_gather_s8(const eq_gather_params *p, const int8_t *in, int8_t *out);

/* MEAN over spatial axes (H, W) of an NHWC tensor, keep_dims or not (same data layout). TFLM
   requantizes sum - in_zp * count even when input and output quantization are equal. */
typedef struct {
    int32_t in_h, in_w, channels;
    int32_t in_zero_point, out_zero_point;
    int32_t mult, shift; /* in_scale / out_scale with 1 / (in_h * in_w) folded in, as TFLM folds it */
} eq_mean_params;
void eq_mean_hw_s8(const eq_mean_params *p, const int8_t *in, int8_t *out);

/* ---- upsampling: RESIZE_NEAREST_NEIGHBOR, RESIZE_BILINEAR (edgeq_resize.c), TRANSPOSE_CONV
 * (edgeq_transpose_conv.c). NHWC int8; resizes keep the input's quantization. ---- */
typedef struct {
    int32_t batches, in_h, in_w, channels, out_h, out_w;
    const int32_t *rows; /* per output row its source row (chosen at generation time, as TFLM chooses) */
    const int32_t *cols; /* per output column its source column */
} eq_resize_nearest_params;
void eq_resize_nearest_s8(const eq_resize_nearest_params *p, const int8_t *in, int8_t *out);

typedef struct {
    int32_t batches, in_h, in_w, channels, out_h, out_w;
    int32_t scale_h, scale_w; /* input pixels per output pixel in units of 1/1024 */
    int32_t half_pixel;       /* half_pixel_centers */
} eq_resize_bilinear_params;
void eq_resize_bilinear_s8(const eq_resize_bilinear_params *p, const int8_t *in, int8_t *out);

typedef struct {
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t k_h, k_w, stride_h, stride_w;
    int32_t pad_top, pad_left; /* as TFLM pads the convolution this op transposes */
    int32_t in_offset;         /* -input zero point */
    int32_t out_offset;        /* output zero point */
    int32_t act_min, act_max;
    int32_t rq; /* EQ_RQ_* form of the outputs */
} eq_transpose_conv_params;
/* w: int8 [out_c][k_h][k_w][in_c] as in the model; ch: one eq_channel per output channel */
void eq_transpose_conv_s8(const eq_transpose_conv_params *p, const int8_t *in, const int8_t *w, const eq_channel *ch,
                          int8_t *out);

/* ---- BATCH_MATMUL of two int8 tensors (edgeq_batch_matmul.c) ----
 * output [batches][rows][cols]; lhs element (i, k) of a batch at i * lhs_row_stride + k * lhs_depth_stride,
 * rhs element (k, j) at k * rhs_depth_stride + j * rhs_col_stride (adj_x / adj_y swap the strides). */
typedef struct {
    int32_t batches, rows, cols, depth;
    int32_t lhs_row_stride, lhs_depth_stride, rhs_depth_stride, rhs_col_stride;
    const int32_t *lhs_batch, *rhs_batch;       /* per output batch: where its lhs / rhs matrix starts */
    int32_t lhs_offset, rhs_offset, out_offset; /* -lhs zero point, -rhs zero point, output zero point */
    int32_t mult, shift;                        /* one per-tensor requantization (TFLite's shift convention) */
} eq_batch_matmul_params;
void eq_batch_matmul_s8(const eq_batch_matmul_params *p, const int8_t *lhs, const int8_t *rhs, int8_t *out);

/* ---- edges of float-I/O models (edgeq_quant.c; the only float code, outside the int8 path) ---- */
typedef struct {
    int32_t size;
    float scale; /* quantize: 1/scale is NOT used; TFLM divides */
    int32_t zero_point;
    int32_t qmin, qmax;
} eq_quant_params;
void eq_quantize_f32_s8(const eq_quant_params *p, const float *in, int8_t *out);
void eq_dequantize_s8_f32(const eq_quant_params *p, const int8_t *in, float *out);
/* int8 -> int8 QUANTIZE (requantization) */
void eq_requantize_s8(const eq_unary_params *p, const int8_t *in, int8_t *out);

/* ---- int16x8 models: int16 activations (zero point 0), int8 weights, int64 biases (edgeq_s16_*.c) ----
   Sums are int64, requantized by TFLM's 64-bit MultiplyByQuantizedMultiplier (multiplier rounded to
   16 bits, shift -31..7); weights stay in TFLite's layouts: CONV_2D [out_c][k_h][k_w][in_c],
   DEPTHWISE_CONV_2D [k_h][k_w][out_c], FULLY_CONNECTED [out][in]. */
typedef struct {
    int64_t bias; /* 0 without a bias tensor */
    int32_t mult, shift;
} eq_s16_channel;
typedef struct {
    int32_t in_h, in_w, in_c, out_h, out_w, out_c;
    int32_t k_h, k_w, stride_h, stride_w, dil_h, dil_w, pad_top, pad_left;
    int32_t depth_multiplier; /* DEPTHWISE_CONV_2D: out_c = in_c * depth_multiplier */
    int32_t act_min, act_max;
} eq_s16_conv_params;
typedef struct {
    int32_t batches, in_depth, out_depth;
    int32_t weight_offset; /* -(weight zero point) of per-tensor weights, 0 otherwise */
    int32_t act_min, act_max;
} eq_s16_fc_params;
int32_t eq_s16_requant64(int64_t acc, int32_t mult, int32_t shift);
void eq_conv2d_s16(const eq_s16_conv_params *p, const int16_t *in, const int8_t *w, const eq_s16_channel *ch,
                   int16_t *out);
void eq_depthwise_conv2d_s16(const eq_s16_conv_params *p, const int16_t *in, const int8_t *w, const eq_s16_channel *ch,
                             int16_t *out);
void eq_fully_connected_s16(const eq_s16_fc_params *p, const int16_t *in, const int8_t *w, const eq_s16_channel *ch,
                            int16_t *out);
/* int16 ADD (left_shift 15) and MUL with eq_binary_params (offsets 0) and the int16 clamp. */
void eq_add_s16(const eq_binary_params *p, const int16_t *in1, const int16_t *in2, int16_t *out);
void eq_mul_s16(const eq_binary_params *p, const int16_t *in1, const int16_t *in2, int16_t *out);
/* int16 LOGISTIC / TANH (edgeq_s16_nonlinear.c): input x * mult / 2^shift is in the table's scale. */
typedef struct {
    int32_t size;
    int32_t mult, shift; /* mult <= 32767, shift 0..31 */
} eq_s16_sigmoid_params;
/* TFLM's interpolated sigmoid table (edgeq_s16_nonlinear.c) and one value read from it: sigmoid
   (Q0.15 in [0, 32767]) or tanh (Q0.15) of x * mult / 2^shift; the integer LSTM (edgeq_lstm.c) inlines
   them too. */
extern const uint16_t eq_s16_sigmoid_table[256];

/* The input in the table's scale: (x * mult + rounding) / 2^shift, floored. */
static inline int32_t eq_s16_table_input(int16_t x, int32_t mult, int32_t shift) {
    const int32_t round = shift > 0 ? (int32_t)1 << (shift - 1) : 0;
    return eq_floor_div_pow2((int32_t)x * mult + round, (int)shift);
}

static inline int16_t eq_sigmoid_q15(int16_t x, int32_t mult, int32_t shift) {
    const int32_t v = eq_s16_table_input(x, mult, shift);
    const uint32_t mag = v >= 0 ? (uint32_t)v : (uint32_t)(-v);
    const uint32_t step = mag >> 9;
    uint32_t r = (uint32_t)0x7FFF << 10; /* saturated */
    if (step < 255) {
        const uint32_t lo = eq_s16_sigmoid_table[step], hi = eq_s16_sigmoid_table[step + 1];
        r = (lo << 9) + (mag & 0x1FFu) * (hi - lo);
    }
    r = v >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1u;
    return (int16_t)(int32_t)(r >> 10);
}

static inline int16_t eq_tanh_q15(int16_t x, int32_t mult, int32_t shift) {
    const int32_t v = eq_s16_table_input(x, mult, shift);
    const uint32_t mag = v >= 0 ? (uint32_t)v : (uint32_t)(-v);
    const uint32_t step = mag >> 8;
    int32_t r = (int32_t)0xFFFF << 8; /* saturated */
    if (step < 255) {
        const uint32_t lo = eq_s16_sigmoid_table[step], hi = eq_s16_sigmoid_table[step + 1];
        r = (int32_t)((lo << 8) + (mag & 0xFFu) * (hi - lo));
    }
    r = v >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
    return (int16_t)eq_floor_div_pow2(r, 8);
}

void eq_logistic_s16(const eq_s16_sigmoid_params *p, const int16_t *in, int16_t *out);
void eq_tanh_s16(const eq_s16_sigmoid_params *p, const int16_t *in, int16_t *out);
/* int16 SOFTMAX over the last axis (edgeq_s16_softmax.c): two 513-entry interpolation tables made by
   the generator (exp on [-10, 0] and 1 / (1 + x) on [0, 1]); mult, shift rescale input differences. */
typedef struct {
    int32_t rows, depth;
    int32_t mult, shift;
    const int16_t *exp_lut, *recip_lut;
} eq_s16_softmax_params;
void eq_softmax_s16(const eq_s16_softmax_params *p, const int16_t *in, int16_t *out);

/* ---- UNIDIRECTIONAL_SEQUENCE_LSTM (edgeq_lstm.c): TFLM's integer LSTM, int8 in/out, int16 cell.
   Gates are indexed EQ_LSTM_INPUT..EQ_LSTM_OUTPUT (TFLite's order); every gate's FC output is
   Q3.12. hidden, cell and scratch (in_stride + rec_stride + 4 * units int16, 4-byte aligned) live
   outside the arena: the states carry over from one inference to the next, as TFLite's variable
   tensors do. ---- */
enum { EQ_LSTM_INPUT = 0, EQ_LSTM_FORGET = 1, EQ_LSTM_CELL = 2, EQ_LSTM_OUTPUT = 3 };
typedef struct {
    int32_t steps, in_depth, units;
    int32_t in_stride, rec_stride; /* in_depth and units rounded up to a multiple of 4 */
    const int8_t *in_w;            /* [4 gates][units][in_stride], rows zero-padded */
    const int8_t *rec_w;           /* [4 gates][units][rec_stride], rows zero-padded */
    const int32_t *in_bias;        /* [4 gates][units]: bias - input zp * row sum of in_w */
    const int32_t *rec_bias;       /* [4 gates][units]: -hidden zp * row sum of rec_w */
    int32_t in_mult[4], in_shift[4], rec_mult[4], rec_shift[4];
    int32_t forget_mult, forget_shift;            /* forget gate * cell -> cell */
    int32_t input_mult, input_shift;              /* input gate * cell gate -> cell */
    int32_t hidden_mult, hidden_shift, hidden_zp; /* output gate * tanh(cell) -> hidden */
    int32_t tanh_mult, tanh_shift;                /* cell state -> tanh's Q3.12 input (x * mult >> shift) */
    int32_t cell_clip;                            /* quantized |cell| limit, 0: none */
    int8_t *hidden;
    int16_t *cell, *scratch;
} eq_lstm_params;
void eq_lstm_s8(const eq_lstm_params *p, const int8_t *in, int8_t *out); /* in [steps][in_depth], out [steps][units] */

#ifdef __cplusplus
}
#endif

#endif /* EDGEQ_KERNELS_H */
