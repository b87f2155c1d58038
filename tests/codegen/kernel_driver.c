/*
 * kernel_driver.c -- drives every int8 kernel of edgeq/codegen/engine/kernels over
 * seeded random parameters (extreme offsets, multipliers and shifts included)
 * and prints one FNV-1a hash per kernel family.
 *
 * tests/codegen/test_kernels.py builds it with AddressSanitizer and
 * UndefinedBehaviorSanitizer, and, where arm-none-eabi-gcc and qemu-arm exist,
 * for ARM with and without the SIMD32 path: every build must print the same hashes.
 * Every random draw is its own statement, so the sequence does not depend on the
 * compiler's evaluation order. Kernel scratch regions are allocated with exactly
 * the size the kernel reports, so AddressSanitizer catches a kernel that writes
 * past it (the driver is test code: it may call malloc, the engine never does).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgeq_kernels.h"

static uint32_t rng_state = 12345u;
static uint32_t fnv = 2166136261u;

static int8_t in1[2048], in2[2048], weights[4096], laid[8192], out[8192], out_exact[8192];
static int16_t laid16[4096];
static int32_t bias[64], mult[64], shift[64], abs_sums[64];
static eq_channel table[64];
static float fin[512], fout[512];
static int mismatches;

/* Uniform in [lo, hi]. */
static int32_t rnd(int32_t lo, int32_t hi) {
    uint64_t span = (uint64_t)((int64_t)hi - (int64_t)lo + 1);
    rng_state = rng_state * 1664525u + 1013904223u;
    return (int32_t)((int64_t)lo + (int64_t)((((uint64_t)rng_state << 8) ^ rng_state) % span));
}

static void mix(const void *data, size_t n) {
    const uint8_t *b = (const uint8_t *)data;
    while (n--) {
        fnv = (fnv ^ *b++) * 16777619u;
    }
}

/* Random bytes, or alternating -128 / 127 every fourth round. */
static void fill(int8_t *a, int32_t n, int round) {
    int32_t i;
    for (i = 0; i < n; ++i) {
        a[i] = (int8_t)(round % 4 == 0 ? (i % 2 ? 127 : -128) : rnd(-128, 127));
    }
}

/* Every other round only right shifts of at most 21, which the fast requantization takes. */
static void fill_requant(int32_t n, int round) {
    int32_t i;
    for (i = 0; i < n; ++i) {
        mult[i] = rnd(1 << 30, INT32_MAX);
        shift[i] = round % 2 ? rnd(-21, -1) : rnd(-31, 8);
        bias[i] = rnd(-100000, 100000);
    }
}

/* The eq_channel table of n channels and its rq form, as edgeq/codegen/engine/requant_table.py computes
   them (abs_sums: sum |w| of each channel); exact: the exact form whatever the parameters. */
static int32_t make_table(int32_t n, int with_bias, int32_t in_offset, int32_t out_offset, int32_t act_min,
                          int32_t act_max, int exact) {
    const int64_t top = in_offset > 0 ? 127 + in_offset : 128 - in_offset; /* max |x + in_offset| */
    int32_t i, rq = EQ_RQ_FAST;
    for (i = 0; i < n; ++i) {
        const int64_t b = with_bias ? (bias[i] < 0 ? -(int64_t)bias[i] : bias[i]) : 0;
        if (exact || shift[i] > -1 || shift[i] < -21 || b + abs_sums[i] * top >= ((int64_t)1 << 29)) {
            rq = EQ_RQ_EXACT;
        }
    }
    if (rq == EQ_RQ_FAST) {
        const int32_t base = act_min == -128 && act_max == 127 ? out_offset : out_offset - act_min;
        rq |= act_min == -128 && act_max == 127 ? EQ_RQ_FULL_RANGE : 0;
        rq |= act_min >= out_offset ? EQ_RQ_NO_SIGN_FIX : 0;
        for (i = 0; i < n; ++i) {
            table[i].bias = with_bias ? bias[i] : 0;
            table[i].mult = mult[i];
            table[i].shift = -shift[i];
            table[i].round = (1 << (-shift[i] - 1)) + base * (1 << -shift[i]);
        }
        return rq;
    }
    for (i = 0; i < n; ++i) {
        table[i].bias = with_bias ? bias[i] : 0;
        table[i].mult = mult[i];
        table[i].shift = shift[i];
        table[i].round = 0;
    }
    return rq;
}

/* The outputs of the fast form must equal the exact form's (which edgeq checks against TFLM). */
static void compare_exact(const char *what, size_t n) {
    if (memcmp(out, out_exact, n) != 0) {
        printf("%s: the fast requantization differs from the exact one\n", what);
        ++mismatches;
    }
}

/* CONV_2D weights [out_c][k_h][k_w][in_c] into the kernels' layout (rows padded to EQ_ROW_ALIGN). */
static void lay_conv(const eq_conv_params *p) {
    const int32_t run = p->k_w * p->in_c, row = eq_conv_row_taps(p);
    int32_t r, i;
    memset(laid, 0, sizeof laid);
    for (r = 0; r < p->out_c * p->k_h; ++r) {
        for (i = 0; i < run; ++i) {
            laid[r * row + i] = weights[r * run + i];
        }
    }
    for (r = 0; r < p->out_c; ++r) {
        abs_sums[r] = 0;
        for (i = 0; i < p->k_h * run; ++i) {
            abs_sums[r] += abs(weights[r * p->k_h * run + i]);
        }
    }
}

/* DEPTHWISE_CONV_2D weights [k_h][k_w][out_c] into the int16 [quads][taps][4] layout. */
static void lay_depthwise(const eq_conv_params *p) {
    const int32_t taps = p->k_h * p->k_w;
    int32_t c, t;
    memset(laid16, 0, sizeof laid16);
    for (c = 0; c < p->out_c; ++c) {
        abs_sums[c] = 0;
        for (t = 0; t < taps; ++t) {
            laid16[(c / 4 * taps + t) * 4 + c % 4] = weights[t * p->out_c + c];
            abs_sums[c] += abs(weights[t * p->out_c + c]);
        }
    }
}

static void conv(int round, int depthwise) {
    eq_conv_params p;
    int32_t w_size;
    int exact;
    void *scratch;
    p.in_h = rnd(1, 9);
    p.in_w = rnd(1, 11);
    p.in_c = rnd(1, 9);
    p.k_h = rnd(1, 5);
    p.k_w = rnd(1, 5);
    p.stride_h = rnd(1, 3);
    p.stride_w = rnd(1, 3);
    p.dil_h = rnd(1, 2);
    p.dil_w = rnd(1, 2);
    p.out_h = rnd(1, 9);
    p.out_w = rnd(1, 11);
    p.pad_top = rnd(0, 3);
    p.pad_left = rnd(0, 3);
    p.depth_multiplier = depthwise ? rnd(1, 3) : 1;
    p.cols = round % 4 == 0 ? 4 : (round % 4 == 1 ? 8 : (round % 4 == 2 ? 1 : 0));
    p.out_c = depthwise ? p.in_c * p.depth_multiplier : rnd(1, 7);
    p.in_offset = rnd(-127, 128);
    p.out_offset = rnd(-128, 127);
    p.act_min = rnd(-128, 0);
    p.act_max = rnd(1, 127);
    w_size = p.k_h * p.k_w * p.out_c * (depthwise ? 1 : p.in_c);
    fill(in1, p.in_h * p.in_w * p.in_c, round);
    fill(weights, w_size, round + 1);
    fill_requant(p.out_c, round);
    if (depthwise) {
        lay_depthwise(&p);
    } else {
        lay_conv(&p);
    }
    scratch = malloc((size_t)(depthwise ? eq_depthwise_scratch_bytes(&p) : eq_conv2d_scratch_bytes(&p)) + 1u);
    for (exact = 1; exact >= 0; --exact) {
        p.rq = make_table(p.out_c, round % 4 < 2, p.in_offset, p.out_offset, p.act_min, p.act_max, exact);
        if (depthwise) {
            eq_depthwise_conv2d_s8(&p, in1, laid16, table, scratch, out);
        } else {
            eq_conv2d_s8(&p, in1, laid, table, scratch, out);
        }
        if (exact) {
            memcpy(out_exact, out, sizeof out);
        }
    }
    free(scratch);
    compare_exact(depthwise ? "depthwise" : "conv", (size_t)(p.out_h * p.out_w * p.out_c));
    mix(out, (size_t)(p.out_h * p.out_w * p.out_c));
}

/* CONV_2D + ADD in place over a residual: random conv (as in conv()) and ADD parameters. */
static void conv_add(int round) {
    eq_conv_params p;
    eq_binary_params b;
    void *scratch;
    int32_t n;
    int exact;
    memset(&b, 0, sizeof b);
    p.in_h = rnd(1, 6);
    p.in_w = rnd(1, 7);
    p.in_c = rnd(1, 9);
    p.k_h = rnd(1, 3);
    p.k_w = rnd(1, 3);
    p.stride_h = rnd(1, 2);
    p.stride_w = rnd(1, 2);
    p.dil_h = 1;
    p.dil_w = 1;
    p.out_h = rnd(1, 6);
    p.out_w = rnd(1, 7);
    p.pad_top = rnd(0, 1);
    p.pad_left = rnd(0, 1);
    p.depth_multiplier = 1;
    p.cols = round % 4 == 0 ? 4 : (round % 4 == 1 ? 8 : (round % 4 == 2 ? 1 : 0));
    p.out_c = rnd(1, 9);
    p.in_offset = rnd(-127, 128);
    p.out_offset = rnd(-128, 127);
    p.act_min = rnd(-128, 0);
    p.act_max = rnd(1, 127);
    n = p.out_h * p.out_w * p.out_c;
    b.size = n;
    b.left_shift = 20;
    b.in1_offset = rnd(-127, 128);
    b.in2_offset = rnd(-127, 128);
    b.out_offset = rnd(-128, 127);
    b.in1_mult = rnd(1 << 30, INT32_MAX);
    b.in1_shift = rnd(-3, 0);
    b.in2_mult = rnd(1 << 30, INT32_MAX);
    b.in2_shift = rnd(-3, 0);
    b.out_mult = rnd(1 << 30, INT32_MAX);
    b.out_shift = rnd(-20, 0);
    b.act_min = rnd(-128, 0);
    b.act_max = rnd(0, 127);
    fill(in1, p.in_h * p.in_w * p.in_c, round);
    fill(weights, p.k_h * p.k_w * p.out_c * p.in_c, round + 1);
    fill_requant(p.out_c, round);
    lay_conv(&p);
    fill(in2, n, round + 2); /* the residual, copied to out and overwritten there with the sum */
    scratch = malloc((size_t)eq_conv2d_scratch_bytes(&p) + 1u);
    for (exact = 1; exact >= 0; --exact) {
        memcpy(out, in2, (size_t)n);
        p.rq = make_table(p.out_c, round % 3 != 0, p.in_offset, p.out_offset, p.act_min, p.act_max, exact);
        eq_conv2d_add_s8(&p, &b, round % 2, in1, laid, table, scratch, out);
        if (exact) {
            memcpy(out_exact, out, sizeof out);
        }
    }
    free(scratch);
    compare_exact("conv+add", (size_t)n);
    mix(out, (size_t)n);
}

static void fully_connected(int round) {
    eq_fc_params p;
    void *scratch;
    int32_t o, i;
    int exact;
    p.batches = rnd(1, 4);
    p.in_depth = rnd(1, 40);
    p.out_depth = rnd(1, 30);
    p.in_offset = rnd(-127, 128);
    p.weight_offset = rnd(-3, 3);
    p.out_offset = rnd(-128, 127);
    p.act_min = -128;
    p.act_max = rnd(0, 127);
    p.per_channel = round % 2;
    p.direct = (round / 2) % 2;
    fill(in1, p.batches * p.in_depth, round);
    fill(weights, p.out_depth * p.in_depth, round + 1);
    fill_requant(p.out_depth, round);
    for (o = 0; o < p.out_depth; ++o) {
        abs_sums[o] = 0;
        for (i = 0; i < p.in_depth; ++i) {
            abs_sums[o] += abs(weights[o * p.in_depth + i] + (p.per_channel ? 0 : p.weight_offset));
        }
    }
    scratch = malloc((size_t)eq_fc_scratch_bytes(&p) + 1u);
    for (exact = 1; exact >= 0; --exact) {
        p.rq = make_table(p.out_depth, round % 3 != 0, p.in_offset, p.out_offset, p.act_min, p.act_max, exact);
        eq_fully_connected_s8(&p, in1, weights, table, scratch, out);
        if (exact) {
            memcpy(out_exact, out, sizeof out);
        }
    }
    free(scratch);
    compare_exact("fully_connected", (size_t)(p.batches * p.out_depth));
    mix(out, (size_t)(p.batches * p.out_depth));
}

static void pool(int round) {
    eq_pool_params p;
    size_t n;
    p.in_h = rnd(1, 9);
    p.in_w = rnd(1, 9);
    p.channels = rnd(1, 5);
    p.filter_h = rnd(1, 4);
    p.filter_w = rnd(1, 4);
    p.stride_h = rnd(1, 3);
    p.stride_w = rnd(1, 3);
    p.pad_top = rnd(0, p.filter_h - 1);
    p.pad_left = rnd(0, p.filter_w - 1);
    p.out_h = (p.in_h + p.pad_top - 1) / p.stride_h + 1;
    p.out_w = (p.in_w + p.pad_left - 1) / p.stride_w + 1;
    p.act_min = rnd(-128, 0);
    p.act_max = rnd(0, 127);
    n = (size_t)(p.out_h * p.out_w * p.channels);
    fill(in1, p.in_h * p.in_w * p.channels, round);
    eq_avg_pool_s8(&p, in1, out);
    mix(out, n);
    eq_max_pool_s8(&p, in1, out);
    mix(out, n);
}

static void binary(int round) {
    eq_binary_params b;
    memset(&b, 0, sizeof b);
    b.out_shape[0] = 1;
    b.out_shape[1] = rnd(1, 4);
    b.out_shape[2] = rnd(1, 5);
    b.out_shape[3] = rnd(1, 6);
    b.size = b.out_shape[1] * b.out_shape[2] * b.out_shape[3];
    b.broadcast = round % 2;
    b.in1_strides[3] = 1;
    b.in1_strides[2] = b.out_shape[3];
    b.in1_strides[1] = b.out_shape[2] * b.out_shape[3];
    b.in2_strides[3] = 1; /* when broadcasting, input 2 is one row repeated over axes 1 and 2 */
    b.left_shift = 20;
    b.in1_offset = rnd(-127, 128);
    b.in2_offset = rnd(-127, 128);
    b.out_offset = rnd(-128, 127);
    b.in1_mult = rnd(1 << 30, INT32_MAX);
    b.in1_shift = rnd(-3, 0);
    b.in2_mult = rnd(1 << 30, INT32_MAX);
    b.in2_shift = rnd(-3, 0);
    b.out_mult = rnd(1 << 30, INT32_MAX);
    b.out_shift = rnd(-20, 0);
    b.act_min = -128;
    b.act_max = 127;
    fill(in1, b.size, round);
    fill(in2, b.size, round + 1);
    eq_add_s8(&b, in1, in2, out);
    mix(out, (size_t)b.size);
    b.out_shift = rnd(-12, 24); /* large left shifts wrap in int32, as in TFLM */
    eq_mul_s8(&b, in1, in2, out);
    mix(out, (size_t)b.size);
}

static void unary(int round) {
    eq_unary_params u;
    int i;
    u.size = rnd(1, 200);
    u.in_offset = rnd(-127, 128);
    u.out_offset = rnd(-128, 127);
    u.mult = rnd(1 << 30, INT32_MAX);
    u.shift = rnd(-31, 31);
    u.alpha_mult = 0;
    u.alpha_shift = 0;
    u.act_min = rnd(-128, 0);
    u.act_max = rnd(0, 127);
    fill(in1, u.size, round);
    eq_relu_s8(&u, in1, out);
    mix(out, (size_t)u.size);
    eq_requantize_s8(&u, in1, out);
    mix(out, (size_t)u.size);
    for (i = 0; i < 4; ++i) {
        const int32_t x = i == 0 ? INT32_MIN : rnd(INT32_MIN, INT32_MAX);
        const int32_t y = i == 1 ? x : rnd(INT32_MIN, INT32_MAX);
        const int32_t m = rnd(0, INT32_MAX);
        const int32_t e = rnd(0, 31);
        const int32_t s = rnd(-31, 31);
        int32_t r[3];
        r[0] = eq_sat_round_doubling_high_mul(x, y);
        r[1] = eq_round_div_pow2(x, e);
        r[2] = eq_mul_by_quantized_mult(x, m, s);
        mix(r, sizeof r);
    }
}

/* The kernels' inline requantization against eq_mul_by_quantized_mult, the definition, over the whole int32 range
   and every multiplier QuantizeMultiplier can give (mult in [0, 2^31), shift in [-31, 31]); a
   mismatch makes the run fail. */
static int requant_agrees(void) {
    static const int32_t edges[] = {
        INT32_MIN, INT32_MIN + 1, -1073741825, -1073741824, -65536,        -3,       -2, -1, 0, 1, 2,
        3,         65535,         1073741823,  1073741824,  INT32_MAX - 1, INT32_MAX};
    const int32_t n_edges = (int32_t)(sizeof edges / sizeof edges[0]);
    int32_t i;
    for (i = 0; i < 400000; ++i) {
        const int32_t pick = rnd(0, 3);
        const int32_t x =
            pick == 0 ? edges[rnd(0, n_edges - 1)] : eq_floor_div_pow2(rnd(INT32_MIN, INT32_MAX), (int)rnd(0, 31));
        const int32_t m = rnd(0, 7) == 0 ? (rnd(0, 1) ? INT32_MAX : rnd(0, 3)) : rnd(1 << 30, INT32_MAX);
        const int32_t s = rnd(-31, 31);
        if (eq_requant(x, m, s) != eq_mul_by_quantized_mult(x, m, s)) {
            printf("eq_requant(%ld, %ld, %ld) = %ld, eq_mul_by_quantized_mult gives %ld\n", (long)x, (long)m, (long)s,
                   (long)eq_requant(x, m, s), (long)eq_mul_by_quantized_mult(x, m, s));
            return 0;
        }
    }
    return 1;
}

static void pad(int round) {
    eq_pad_params p;
    int32_t i, in_n = 1, out_n = 1;
    for (i = 0; i < 4; ++i) {
        p.in_shape[i] = rnd(1, 4);
        p.before[i] = rnd(0, 2);
        p.out_shape[i] = p.in_shape[i] + p.before[i] + rnd(0, 2);
        in_n *= p.in_shape[i];
        out_n *= p.out_shape[i];
    }
    p.pad_value = rnd(-128, 127);
    fill(in1, in_n, round);
    eq_pad_s8(&p, in1, out);
    mix(out, (size_t)out_n);
}

static void concat(int round) {
    eq_concat_params c;
    const int8_t *parts[2];
    int32_t inner_in[2], cm[2], cs[2], co[2];
    c.outer = rnd(1, 5);
    inner_in[0] = rnd(1, 20);
    inner_in[1] = rnd(1, 20);
    c.inner_out = inner_in[0] + inner_in[1];
    c.inputs = 2;
    c.inner_in = inner_in;
    cm[0] = 0;
    cm[1] = rnd(1 << 30, INT32_MAX);
    cs[0] = 0;
    cs[1] = rnd(-4, 2);
    co[0] = 0;
    co[1] = rnd(-127, 128);
    c.mult = round % 2 ? cm : NULL;
    c.shift = cs;
    c.in_offset = co;
    c.out_offset = rnd(-128, 127);
    fill(in1, c.outer * inner_in[0], round);
    fill(in2, c.outer * inner_in[1], round + 1);
    parts[0] = in1;
    parts[1] = in2;
    eq_concat_s8(&c, parts, out);
    mix(out, (size_t)(c.outer * c.inner_out));
}

static void strided_slice(int round) {
    eq_slice_params s;
    int32_t i, n = 1;
    for (i = 0; i < 4; ++i) {
        s.in_shape[i] = rnd(1, 6);
        s.step[i] = rnd(1, 3);
        s.step[i] = rnd(0, 1) ? s.step[i] : -s.step[i];
        s.start[i] = rnd(0, s.in_shape[i] - 1);
        s.stop[i] = s.step[i] > 0 ? rnd(s.start[i], s.in_shape[i]) : rnd(-1, s.start[i]);
        n *= s.in_shape[i];
    }
    s.out_size = 0; /* not read by the kernel */
    fill(in1, n, round);
    memset(out, 0, (size_t)n);
    eq_strided_slice_s8(&s, in1, out);
    mix(out, (size_t)n);
}

static void float_edges(void) {
    eq_quant_params q;
    int32_t i;
    q.size = 512;
    q.scale = (float)rnd(1, 1000) / 4096.0f;
    q.zero_point = rnd(-128, 127);
    q.qmin = -128;
    q.qmax = 127;
    for (i = 0; i < q.size; ++i) {
        const float num = (float)rnd(-2000000, 2000000) * q.scale;
        fin[i] = num / (float)rnd(1, 2000);
    }
    fin[7] = 3.0e38f; /* quotients far beyond int32 saturate */
    fin[8] = -3.0e38f;
    eq_quantize_f32_s8(&q, fin, out);
    mix(out, (size_t)q.size);
    eq_dequantize_s8_f32(&q, out, fout);
    mix(fout, sizeof fout);
}

int main(void) {
    int round;
    if (!requant_agrees()) {
        return 1;
    }
    for (round = 0; round < 200; ++round) {
        conv(round, 0);
        conv(round, 1);
        conv_add(round);
    }
    printf("conv %08lx\n", (unsigned long)fnv);
    for (round = 0; round < 200; ++round) {
        fully_connected(round);
        pool(round);
    }
    printf("fc+pool %08lx\n", (unsigned long)fnv);
    for (round = 0; round < 200; ++round) {
        binary(round);
        unary(round);
    }
    printf("elementwise %08lx\n", (unsigned long)fnv);
    for (round = 0; round < 200; ++round) {
        pad(round);
        concat(round);
        strided_slice(round);
        float_edges();
    }
    printf("data+float %08lx\n", (unsigned long)fnv);
    return mismatches == 0 ? 0 : 1;
}
