/*
 * kernel_driver.c -- drives every int8 kernel of firmware_templates/engine over
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

static int8_t in1[2048], in2[2048], weights[4096], out[8192];
static int32_t bias[64], mult[64], shift[64];
static float fin[512], fout[512];

/* Uniform in [lo, hi]. */
static int32_t rnd(int32_t lo, int32_t hi)
{
    uint64_t span = (uint64_t)((int64_t)hi - (int64_t)lo + 1);
    rng_state = rng_state * 1664525u + 1013904223u;
    return (int32_t)((int64_t)lo + (int64_t)((((uint64_t)rng_state << 8) ^ rng_state) % span));
}

static void mix(const void *data, size_t n)
{
    const uint8_t *b = (const uint8_t *)data;
    while (n--) {
        fnv = (fnv ^ *b++) * 16777619u;
    }
}

/* Random bytes, or alternating -128 / 127 every fourth round. */
static void fill(int8_t *a, int32_t n, int round)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        a[i] = (int8_t)(round % 4 == 0 ? (i % 2 ? 127 : -128) : rnd(-128, 127));
    }
}

static void fill_requant(int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        mult[i] = rnd(1 << 30, INT32_MAX);
        shift[i] = rnd(-31, 8);
        bias[i] = rnd(-100000, 100000);
    }
}

static void conv(int round, int depthwise)
{
    eq_conv_params p;
    int32_t w_size;
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
    p.out_c = depthwise ? p.in_c * p.depth_multiplier : rnd(1, 7);
    p.in_offset = rnd(-127, 128);
    p.out_offset = rnd(-128, 127);
    p.act_min = rnd(-128, 0);
    p.act_max = rnd(1, 127);
    w_size = p.k_h * p.k_w * p.out_c * (depthwise ? 1 : p.in_c);
    fill(in1, p.in_h * p.in_w * p.in_c, round);
    fill(weights, w_size, round + 1);
    fill_requant(p.out_c);
    scratch = malloc((size_t)(depthwise ? eq_depthwise_scratch_bytes(&p) : eq_conv2d_scratch_bytes(&p)) + 1u);
    if (depthwise) {
        eq_depthwise_conv2d_s8(&p, in1, weights, round % 2 ? bias : NULL, mult, shift, scratch, out);
    } else {
        eq_conv2d_s8(&p, in1, weights, round % 2 ? bias : NULL, mult, shift, scratch, out);
    }
    free(scratch);
    mix(out, (size_t)(p.out_h * p.out_w * p.out_c));
}

/* CONV_2D + ADD in place over a residual: random conv (as in conv()) and ADD parameters. */
static void conv_add(int round)
{
    eq_conv_params p;
    eq_binary_params b;
    void *scratch;
    int32_t n;
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
    fill(out, n, round + 2); /* the residual, overwritten with the sum */
    fill_requant(p.out_c);
    scratch = malloc((size_t)eq_conv2d_scratch_bytes(&p) + 1u);
    eq_conv2d_add_s8(&p, &b, round % 2, in1, weights, round % 3 ? bias : NULL, mult, shift, scratch, out);
    free(scratch);
    mix(out, (size_t)n);
}

static void fully_connected(int round)
{
    eq_fc_params p;
    void *scratch;
    p.batches = rnd(1, 4);
    p.in_depth = rnd(1, 40);
    p.out_depth = rnd(1, 30);
    p.in_offset = rnd(-127, 128);
    p.weight_offset = rnd(-3, 3);
    p.out_offset = rnd(-128, 127);
    p.act_min = -128;
    p.act_max = rnd(0, 127);
    p.per_channel = round % 2;
    fill(in1, p.batches * p.in_depth, round);
    fill(weights, p.out_depth * p.in_depth, round + 1);
    fill_requant(p.out_depth);
    scratch = malloc((size_t)eq_fc_scratch_bytes(&p) + 1u);
    eq_fully_connected_s8(&p, in1, weights, round % 3 ? bias : NULL, mult, shift, scratch, out);
    free(scratch);
    mix(out, (size_t)(p.batches * p.out_depth));
}

static void pool(int round)
{
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

static void binary(int round)
{
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

static void unary(int round)
{
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
        r[0] = eq_srdhm(x, y);
        r[1] = eq_rdbpot(x, e);
        r[2] = eq_mbqm(x, m, s);
        mix(r, sizeof r);
    }
}

/* The kernels' inline requantization against eq_mbqm, the definition, over the whole int32 range
   and every multiplier QuantizeMultiplier can give (mult in [0, 2^31), shift in [-31, 31]); a
   mismatch makes the run fail. */
static int requant_agrees(void)
{
    static const int32_t edges[] = {INT32_MIN, INT32_MIN + 1, -1073741825, -1073741824, -65536, -3, -2, -1, 0, 1,
                                    2,         3,             65535,       1073741823,  1073741824, INT32_MAX - 1,
                                    INT32_MAX};
    const int32_t n_edges = (int32_t)(sizeof edges / sizeof edges[0]);
    int32_t i;
    for (i = 0; i < 400000; ++i) {
        const int32_t pick = rnd(0, 3);
        const int32_t x = pick == 0 ? edges[rnd(0, n_edges - 1)] : eq_floor_pot(rnd(INT32_MIN, INT32_MAX), (int)rnd(0, 31));
        const int32_t m = rnd(0, 7) == 0 ? (rnd(0, 1) ? INT32_MAX : rnd(0, 3)) : rnd(1 << 30, INT32_MAX);
        const int32_t s = rnd(-31, 31);
        if (eq_requant(x, m, s) != eq_mbqm(x, m, s)) {
            printf("eq_requant(%ld, %ld, %ld) = %ld, eq_mbqm gives %ld\n", (long)x, (long)m, (long)s,
                   (long)eq_requant(x, m, s), (long)eq_mbqm(x, m, s));
            return 0;
        }
    }
    return 1;
}

static void pad(int round)
{
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

static void concat(int round)
{
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

static void strided_slice(int round)
{
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

static void float_edges(void)
{
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

int main(void)
{
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
    return 0;
}
