/*
 * edgeq_resize.c -- part of edgeq; copied unchanged into generated engines.
 *
 * RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR on int8 NHWC tensors, as TFLM's
 * reference kernels compute them. Input and output share scale and zero
 * point, so neither requantizes.
 *
 * Nearest neighbour: TFLM picks each source row and column with float
 * arithmetic; the generator repeats that arithmetic in single precision and
 * hands the kernel the chosen indices, so the kernel only copies pixels.
 *
 * Bilinear: TFLM's integer path. Source positions are in units of 1/1024
 * pixel: scale = round(1024 * in / out) (align_corners: (in - 1) / (out - 1)),
 * position = i * scale (half_pixel_centers: + scale / 2 - 512), the two
 * neighbours are position / 1024 (truncated, at least 0) and the next one up
 * (at most size - 1), the weights the remainders. The four weighted taps sum
 * to a value in units of 2^-20 (TFLM sums in 64 bits; the sums fit 32), rounded
 * half away from zero.
 */
#include "edgeq_kernels.h"

void eq_resize_nearest_s8(const eq_resize_nearest_params *p, const int8_t *in, int8_t *out) {
    const size_t depth = (size_t)p->channels;
    int32_t b, y, x;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = in + (size_t)b * (size_t)p->in_h * (size_t)p->in_w * depth;
        for (y = 0; y < p->out_h; ++y) {
            const int8_t *row = image + (size_t)p->rows[y] * (size_t)p->in_w * depth;
            for (x = 0; x < p->out_w; ++x) {
                memcpy(out, row + (size_t)p->cols[x] * depth, depth);
                out += depth;
            }
        }
    }
}

/* The neighbours lo, hi of output position i along an axis of `size` input pixels, and the
   distance of the source position from lo in 1/1024 pixel (negative before the first pixel). */
static void eq_bilinear_axis(const eq_resize_bilinear_params *p, int32_t i, int32_t scale, int32_t size, int32_t *lo,
                             int32_t *hi, int32_t *frac) {
    const int32_t pos = p->half_pixel ? i * scale + scale / 2 - 512 : i * scale;
    const int32_t low = pos / 1024; /* C99 division truncates toward zero, as TFLM's */
    const int32_t high = (pos + 1023) / 1024;
    *lo = low > 0 ? low : 0;
    *hi = high < size - 1 ? high : size - 1;
    *frac = pos - 1024 * *lo;
}

/* The four tap weights of one output pixel, in units of 2^-20: exact in int32 (each factor lies in
   [-512, 1536], so |weight| < 2^22 and a sum of four int8 taps stays below 2^30), the same sums TFLM
   forms in 64 bits. */
typedef struct {
    int32_t w00, w01, w10, w11; /* (y0, x0), (y1, x0), (y0, x1), (y1, x1) */
} eq_bilinear_weights;

static eq_bilinear_weights eq_bilinear_make(int32_t fy, int32_t fx) {
    eq_bilinear_weights w;
    w.w00 = (1024 - fy) * (1024 - fx);
    w.w01 = fy * (1024 - fx);
    w.w10 = (1024 - fy) * fx;
    w.w11 = fy * fx;
    return w;
}

/* The sum over 2^20, rounded half away from zero (C99 division truncates toward zero, as TFLM's). */
static int8_t eq_bilinear_round(int32_t sum) {
    const int32_t half = sum > 0 ? ((int32_t)1 << 19) : -((int32_t)1 << 19);
    return (int8_t)((sum + half) / ((int32_t)1 << 20));
}

/* One output pixel: depth channels from the four neighbours a (y0, x0), b (y1, x0), c (y0, x1), d (y1, x1). */
static void eq_bilinear_pixel(const eq_bilinear_weights *w, const int8_t *a, const int8_t *b, const int8_t *c,
                              const int8_t *d, int32_t depth, int8_t *out) {
    int32_t ch;
    for (ch = 0; ch < depth; ++ch) {
        out[ch] = eq_bilinear_round(a[ch] * w->w00 + b[ch] * w->w01 + c[ch] * w->w10 + d[ch] * w->w11);
    }
}

void eq_resize_bilinear_s8(const eq_resize_bilinear_params *p, const int8_t *in, int8_t *out) {
    const int32_t depth = p->channels;
    const size_t row_len = (size_t)p->in_w * (size_t)depth;
    int32_t b, y, x;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = in + (size_t)b * (size_t)p->in_h * row_len;
        for (y = 0; y < p->out_h; ++y) {
            int32_t y0, y1, fy;
            eq_bilinear_axis(p, y, p->scale_h, p->in_h, &y0, &y1, &fy);
            for (x = 0; x < p->out_w; ++x) {
                int32_t x0, x1, fx;
                eq_bilinear_axis(p, x, p->scale_w, p->in_w, &x0, &x1, &fx);
                {
                    const eq_bilinear_weights w = eq_bilinear_make(fy, fx);
                    const int8_t *r0 = image + (size_t)y0 * row_len, *r1 = image + (size_t)y1 * row_len;
                    eq_bilinear_pixel(&w, r0 + (size_t)x0 * depth, r1 + (size_t)x0 * depth, r0 + (size_t)x1 * depth,
                                      r1 + (size_t)x1 * depth, depth, out);
                    out += depth;
                }
            }
        }
    }
}
