/*
 * edgeq_data.c -- part of edgeq; copied unchanged into generated engines.
 *
 * Data movement: copies for RESHAPE-like ops, PAD / PADV2, CONCATENATION (and PACK),
 * STRIDED_SLICE, TRANSPOSE / DEPTH_TO_SPACE / SPACE_TO_DEPTH (one permutation kernel),
 * SPLIT / SPLIT_V / UNPACK and GATHER on int8, with shapes padded by the generator.
 * None of them requantizes but CONCATENATION (below): TFLM copies the bytes.
 * TFLM's int8 CONCATENATION copies bytes whatever the inputs' quantization;
 * a non-zero per-input multiplier here requantizes that input instead
 * (MBQM(x + in_offset) + out_offset, clamped), for graphs where edgeq chooses to.
 */
#include "edgeq_kernels.h"

#include <string.h>

void eq_copy(const void *in, void *out, size_t bytes) {
    if (in != out) {
        memmove(out, in, bytes);
    }
}

/* Whether coordinate i of the output falls inside the input along an axis. */
static int eq_inside(int32_t i, int32_t before, int32_t size) {
    return i >= before && i < before + size;
}

void eq_pad_s8(const eq_pad_params *p, const int8_t *in, int8_t *out) {
    const int32_t *is = p->in_shape;
    const int32_t *os = p->out_shape;
    const int32_t row = os[3];
    const int32_t head = p->before[3];
    const int32_t tail = row - head - is[3];
    const int8_t pad = (int8_t)p->pad_value;
    int32_t a, b, c;
    for (a = 0; a < os[0]; ++a) {
        for (b = 0; b < os[1]; ++b) {
            for (c = 0; c < os[2]; ++c) {
                if (eq_inside(a, p->before[0], is[0]) && eq_inside(b, p->before[1], is[1]) &&
                    eq_inside(c, p->before[2], is[2])) {
                    const int32_t src =
                        (((a - p->before[0]) * is[1] + (b - p->before[1])) * is[2] + (c - p->before[2])) * is[3];
                    memset(out, pad, (size_t)head);
                    memcpy(out + head, in + src, (size_t)is[3]);
                    memset(out + head + is[3], pad, (size_t)tail);
                } else {
                    memset(out, pad, (size_t)row);
                }
                out += row;
            }
        }
    }
}

static void eq_concat_requantize(const int8_t *in, int8_t *out, int32_t n, int32_t mult, int32_t shift,
                                 int32_t in_offset, int32_t out_offset) {
    int32_t i;
    for (i = 0; i < n; ++i) {
        int32_t v = eq_mul_by_quantized_mult_fast((int32_t)in[i] + in_offset, mult, shift) + out_offset;
        v = v < -128 ? -128 : v;
        v = v > 127 ? 127 : v;
        out[i] = (int8_t)v;
    }
}

void eq_concat_s8(const eq_concat_params *p, const int8_t *const *inputs, int8_t *out) {
    int32_t o, k;
    for (o = 0; o < p->outer; ++o) {
        int8_t *dst = out + o * p->inner_out;
        for (k = 0; k < p->inputs; ++k) {
            const int32_t n = p->inner_in[k];
            const int8_t *src = inputs[k] + o * n;
            if (p->mult != NULL && p->mult[k] != 0) {
                eq_concat_requantize(src, dst, n, p->mult[k], p->shift[k], p->in_offset[k], p->out_offset);
            } else {
                memcpy(dst, src, (size_t)n);
            }
            dst += n;
        }
    }
}

/* Whether index has not yet reached stop, walking with step (TFLM's strided-slice loop test). */
static int eq_before_stop(int32_t index, int32_t stop, int32_t step) {
    return step > 0 ? index < stop : index > stop;
}

void eq_strided_slice_s8(const eq_slice_params *p, const int8_t *in, int8_t *out) {
    const int32_t *s = p->in_shape;
    int32_t a, b, c, d;
    for (a = p->start[0]; eq_before_stop(a, p->stop[0], p->step[0]); a += p->step[0]) {
        for (b = p->start[1]; eq_before_stop(b, p->stop[1], p->step[1]); b += p->step[1]) {
            for (c = p->start[2]; eq_before_stop(c, p->stop[2], p->step[2]); c += p->step[2]) {
                const int8_t *row = in + ((a * s[1] + b) * s[2] + c) * s[3];
                for (d = p->start[3]; eq_before_stop(d, p->stop[3], p->step[3]); d += p->step[3]) {
                    *out++ = row[d];
                }
            }
        }
    }
}

void eq_permute_s8(const eq_permute_params *p, const int8_t *in, int8_t *out) {
    const int32_t *n = p->shape;
    const int32_t *s = p->strides;
    int32_t a, b, c, d, e, f;
    for (a = 0; a < n[0]; ++a) {
        for (b = 0; b < n[1]; ++b) {
            for (c = 0; c < n[2]; ++c) {
                for (d = 0; d < n[3]; ++d) {
                    for (e = 0; e < n[4]; ++e) {
                        const int8_t *src = in + a * s[0] + b * s[1] + c * s[2] + d * s[3] + e * s[4];
                        if (s[5] == 1) {
                            memcpy(out, src, (size_t)n[5]);
                            out += n[5];
                            continue;
                        }
                        for (f = 0; f < n[5]; ++f) {
                            *out++ = src[f * s[5]];
                        }
                    }
                }
            }
        }
    }
}

void eq_split_s8(const eq_split_params *p, const int8_t *in, int8_t *const *outputs) {
    int32_t o, k;
    for (o = 0; o < p->outer; ++o) {
        const int8_t *src = in + o * p->inner_in;
        for (k = 0; k < p->outputs; ++k) {
            const int32_t n = p->inner_out[k];
            memcpy(outputs[k] + o * n, src, (size_t)n);
            src += n;
        }
    }
}

void eq_gather_s8(const eq_gather_params *p, const int8_t *in, int8_t *out) {
    int32_t b, o, i;
    for (b = 0; b < p->batches; ++b) {
        const int32_t *index = p->indices + b * p->coords;
        for (o = 0; o < p->outer; ++o) {
            const int8_t *rows = in + (b * p->outer + o) * p->axis_size * p->inner;
            for (i = 0; i < p->coords; ++i) {
                memcpy(out, rows + index[i] * p->inner, (size_t)p->inner);
                out += p->inner;
            }
        }
    }
}
