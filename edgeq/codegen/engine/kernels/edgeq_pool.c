/*
 * edgeq_pool.c -- part of edgeq; copied unchanged into generated engines.
 *
 * AVERAGE_POOL_2D and MAX_POOL_2D on int8 NHWC (batch 1) as TFLM's reference
 * kernels compute them. Only the taps inside the image count: the average is
 * their sum divided by their number, rounded half away from zero; the maximum
 * starts from -128. Both are then clamped to [act_min, act_max]. Input and
 * output share scale and zero point, so no requantization happens.
 */
#include "edgeq_kernels.h"

/* The window [*start, *end) of filter offsets that land inside an axis of `size` pixels. */
static void eq_window(int32_t origin, int32_t filter, int32_t size, int32_t *start, int32_t *end) {
    *start = origin < 0 ? -origin : 0;
    *end = size - origin < filter ? size - origin : filter;
}

static int8_t eq_clamp(int32_t v, const eq_pool_params *p) {
    v = v < p->act_min ? p->act_min : v;
    v = v > p->act_max ? p->act_max : v;
    return (int8_t)v;
}

void eq_avg_pool_s8(const eq_pool_params *p, const int8_t *in, int8_t *out) {
    int32_t oy, ox, c, fy, fx, fy0, fy1, fx0, fx1;
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t y0 = oy * p->stride_h - p->pad_top;
        eq_window(y0, p->filter_h, p->in_h, &fy0, &fy1);
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t x0 = ox * p->stride_w - p->pad_left;
            eq_window(x0, p->filter_w, p->in_w, &fx0, &fx1);
            for (c = 0; c < p->channels; ++c) {
                int32_t sum = 0;
                int32_t count = 0;
                for (fy = fy0; fy < fy1; ++fy) {
                    for (fx = fx0; fx < fx1; ++fx) {
                        sum += in[((y0 + fy) * p->in_w + (x0 + fx)) * p->channels + c];
                        ++count;
                    }
                }
                if (count > 0) { /* TFLM fails the op on an empty window; the generator never plans one */
                    sum = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
                }
                *out++ = eq_clamp(sum, p);
            }
        }
    }
}

void eq_max_pool_s8(const eq_pool_params *p, const int8_t *in, int8_t *out) {
    int32_t oy, ox, c, fy, fx, fy0, fy1, fx0, fx1;
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t y0 = oy * p->stride_h - p->pad_top;
        eq_window(y0, p->filter_h, p->in_h, &fy0, &fy1);
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t x0 = ox * p->stride_w - p->pad_left;
            eq_window(x0, p->filter_w, p->in_w, &fx0, &fx1);
            for (c = 0; c < p->channels; ++c) {
                int32_t best = -128;
                for (fy = fy0; fy < fy1; ++fy) {
                    for (fx = fx0; fx < fx1; ++fx) {
                        const int32_t v = in[((y0 + fy) * p->in_w + (x0 + fx)) * p->channels + c];
                        best = v > best ? v : best;
                    }
                }
                *out++ = eq_clamp(best, p);
            }
        }
    }
}
