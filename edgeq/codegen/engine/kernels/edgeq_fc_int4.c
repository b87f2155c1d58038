/*
 * edgeq_fc_int4.c -- part of edgeq; copied unchanged into generated engines.
 *
 * FULLY_CONNECTED with int4 weights and little RAM: the packed rows (edgeq_int4.c) are unpacked two
 * at a time into a scratch of two rows, their two channels' compact parameters expanded into two
 * eq_channel rows before them, and each pair runs through eq_fully_connected_s8's direct path (the
 * int8 input read directly), so the outputs are those of the int8 kernel. The faster variants unpack
 * all rows and expand all channels at once before eq_fully_connected_s8 (the generator emits that).
 */
#include "edgeq_kernels.h"

#define EQ_FC_S4_PAIR 2 /* rows unpacked, and channels expanded, at a time */

int32_t eq_fc_s4_scratch_bytes(const eq_fc_params *p) {
    return (int32_t)(EQ_FC_S4_PAIR * sizeof(eq_channel)) + EQ_FC_S4_PAIR * p->in_depth + EQ_WEIGHT_TAIL;
}

void eq_fully_connected_s4(const eq_fc_params *p, const int8_t *in, const uint8_t *w, const int32_t *bias,
                           const int32_t *mult, const int8_t *shift, int32_t base, void *scratch, int8_t *out) {
    const int32_t row_bytes = (p->in_depth + 7) / 8 * 4; /* packed bytes of one row */
    eq_channel *const rows = (eq_channel *)scratch;
    int8_t *const weights = (int8_t *)(rows + EQ_FC_S4_PAIR);
    eq_fc_params pair = *p;
    int32_t r, b;
    pair.direct = 1;
    pair.batches = 1;
    for (r = 0; r < p->out_depth; r += EQ_FC_S4_PAIR) {
        pair.out_depth = r + 1 < p->out_depth ? EQ_FC_S4_PAIR : 1;
        eq_unpack_rows_s4_s8(w + r * row_bytes, pair.out_depth, p->in_depth, weights);
        eq_expand_channels(bias + r, mult + r, shift + r, pair.out_depth, p->rq, base, rows);
        for (b = 0; b < p->batches; ++b) {
            eq_fully_connected_s8(&pair, in + b * p->in_depth, weights, rows, NULL, out + b * p->out_depth + r);
        }
    }
}
