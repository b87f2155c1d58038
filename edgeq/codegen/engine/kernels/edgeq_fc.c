/*
 * edgeq_fc.c -- part of edgeq; copied unchanged into generated engines.
 *
 * FULLY_CONNECTED on int8 as TFLM's reference kernels compute it: input
 * [batches][in_depth], weights [out_depth][in_depth], for each output
 * acc = bias + sum (w + weight_offset) * (x + in_offset), then
 * MultiplyByQuantizedMultiplier, + out_offset, clamp. Like TFLM's per-channel
 * kernel, the per-channel path ignores weight_offset (per-channel weights are
 * symmetric by the quantization spec). Symmetric weights run through the
 * matrix kernel of edgeq_matmul.c, each input row one int16 column.
 */
#include "edgeq_kernels.h"

int32_t eq_fc_scratch_bytes(const eq_fc_params *p) {
    const int32_t padded = (p->in_depth + EQ_COL_ALIGN_MAX - 1) / EQ_COL_ALIGN_MAX * EQ_COL_ALIGN_MAX;
    if (!p->per_channel && p->weight_offset != 0) {
        return 0; /* eq_fc_offset_weights needs none */
    }
    return padded * (int32_t)sizeof(int16_t); /* one column */
}

/* Per-tensor weights with a zero point: sum (w + weight_offset) * (x + in_offset), output by output. */
static void eq_fc_offset_weights(const eq_fc_params *p, const int8_t *in, const int8_t *w, const eq_channel *ch,
                                 int8_t *out) {
    int32_t b, o, i;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = in + b * p->in_depth;
        for (o = 0; o < p->out_depth; ++o) {
            const int8_t *row = w + o * p->in_depth;
            int32_t acc = 0;
            for (i = 0; i < p->in_depth; ++i) {
                acc += ((int32_t)row[i] + p->weight_offset) * ((int32_t)x[i] + p->in_offset);
            }
            *out++ = eq_channel_out(&ch[o], p->rq, eq_add_wrap(acc, ch[o].bias), p->out_offset, p->act_min, p->act_max);
        }
    }
}

void eq_fully_connected_s8(const eq_fc_params *p, const int8_t *in, const int8_t *w, const eq_channel *ch,
                           void *scratch, int8_t *out) {
    eq_matmul m;
    eq_cols col;
    int32_t b;
    if (!p->per_channel && p->weight_offset != 0) {
        eq_fc_offset_weights(p, in, w, ch, out);
        return;
    }
    m.w = w;
    m.rows = p->out_depth;
    m.len = p->in_depth;
    m.ch = ch;
    m.rq = p->rq;
    m.out_offset = p->out_offset;
    m.act_min = p->act_min;
    m.act_max = p->act_max;
    eq_matmul_set_add(&m, NULL, 0);
    col.base = (int16_t *)scratch;
    col.cols = 1;
    col.n = eq_col_len(p->in_depth);
    for (b = 0; b < p->batches; ++b) {
        /* one input row as a column: x + in_offset, zero padded */
        eq_col_put_s8(&col, 0, 0, in + b * p->in_depth, p->in_depth, p->in_offset);
        eq_col_zero(&col, 0, p->in_depth, col.n - p->in_depth);
        eq_matmul_s8(&m, &col, 1, out + b * p->out_depth, p->out_depth);
    }
}
