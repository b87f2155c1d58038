/*
 * edgeq_reduce.c -- part of edgeq; copied unchanged into generated engines.
 *
 * MEAN over the H and W axes of an NHWC int8 tensor (batch 1), keep_dims or
 * not (the output data is the same C values either way), computed as TFLM's
 * reference kernel computes it: the int32 sum of each channel, minus the
 * input zero point times the count, is requantized with a multiplier that has
 * 1 / count folded in (done at generation time, see
 * edgeq/codegen/engine/nonlinear_params.py), then offset by the output zero
 * point and clamped. TFLM takes this path even when the input and output
 * quantization are equal.
 */
#include "edgeq_kernels.h"

void eq_mean_hw_s8(const eq_mean_params *p, const int8_t *in, int8_t *out) {
    const int32_t count = p->in_h * p->in_w;
    int32_t c;
    for (c = 0; c < p->channels; ++c) {
        int32_t sum = 0;
        int32_t i;
        int32_t y;
        for (i = 0; i < count; ++i) {
            sum += in[(size_t)i * (size_t)p->channels + (size_t)c];
        }
        y = eq_mul_by_quantized_mult_fast(sum - p->in_zero_point * count, p->mult, p->shift) + p->out_zero_point;
        out[c] = (int8_t)(y < INT8_MIN ? INT8_MIN : (y > INT8_MAX ? INT8_MAX : y));
    }
}
