/*
 * edgeq_fc.c -- part of edgeq; copied unchanged into generated engines.
 *
 * FULLY_CONNECTED on int8 as TFLM's reference kernels compute it: input
 * [batches][in_depth], weights [out_depth][in_depth], for each output
 * acc = bias + sum (w + weight_offset) * (x + in_offset), then
 * MultiplyByQuantizedMultiplier, + out_offset, clamp. Like TFLM's per-channel
 * kernel, the per-channel path ignores weight_offset (per-channel weights are
 * symmetric by the quantization spec).
 */
#include "edgeq_kernels.h"

/* acc + bias without signed overflow (TFLM's int32 addition wraps on its targets). */
static int32_t eq_fc_add_bias(int32_t acc, const int32_t *bias, int32_t o)
{
    uint32_t sum;
    if (bias == NULL) {
        return acc;
    }
    sum = (uint32_t)acc + (uint32_t)bias[o];
    return sum <= (uint32_t)INT32_MAX ? (int32_t)sum : -(int32_t)(~sum) - 1;
}

void eq_fully_connected_s8(const eq_fc_params *p, const int8_t *in, const int8_t *w, const int32_t *bias,
                           const int32_t *mult, const int32_t *shift, int8_t *out)
{
    const int32_t w_offset = p->per_channel ? 0 : p->weight_offset;
    int32_t b, o, i;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = in + b * p->in_depth;
        for (o = 0; o < p->out_depth; ++o) {
            const int8_t *row = w + o * p->in_depth;
            const int32_t c = p->per_channel ? o : 0;
            int32_t acc = 0;
            int32_t y;
            if (w_offset == 0 && p->in_offset == 0) {
                /* the generator folded the input offset into the bias: a plain dot product */
                for (i = 0; i < p->in_depth; ++i) {
                    acc += (int32_t)row[i] * (int32_t)x[i];
                }
            } else if (w_offset == 0) {
                /* sum w * (x + off) = sum w * x + off * sum w: same int32 result, vectorizable */
                int32_t dot = 0;
                int32_t wsum = 0;
                for (i = 0; i < p->in_depth; ++i) {
                    dot += (int32_t)row[i] * (int32_t)x[i];
                    wsum += (int32_t)row[i];
                }
                acc = dot + wsum * p->in_offset;
            } else {
                for (i = 0; i < p->in_depth; ++i) {
                    acc += ((int32_t)row[i] + w_offset) * ((int32_t)x[i] + p->in_offset);
                }
            }
            acc = eq_fc_add_bias(acc, bias, o);
            y = eq_mbqm(acc, mult[c], shift[c]) + p->out_offset;
            y = y < p->act_min ? p->act_min : y;
            y = y > p->act_max ? p->act_max : y;
            *out++ = (int8_t)y;
        }
    }
}
