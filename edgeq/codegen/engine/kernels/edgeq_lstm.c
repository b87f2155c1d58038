/* UNIDIRECTIONAL_SEQUENCE_LSTM, fully integer: int8 input, output and hidden state, int16 cell
   state, int8 weights, int32 biases, the arithmetic of TFLM's integer LSTM kernel.

   Every gate is FC(input) + FC(hidden), each requantized to Q3.12 int16 and added with int16
   saturation, then a 16-bit sigmoid (input, forget, output gates) or tanh (cell gate) on TFLM's
   interpolated table, giving Q0.15. The cell state becomes forget * cell + input * cell gate
   (two requantizing int16 multiplies and a saturating add, optionally clipped); the hidden state
   is output gate * tanh(cell), requantized to int8. The hidden and cell states live outside the
   arena and carry over from one inference to the next, as TFLite's variable tensors do. */
#include "edgeq_kernels.h"

static int16_t eq_sat16(int32_t v) {
    return (int16_t)(v < -32768 ? -32768 : v > 32767 ? 32767 : v);
}

/* x[0 .. depth-1] as int16 in SMLAD lane order, zero up to padded (a multiple of 4): each group of four
   x0 x1 x2 x3 becomes x0 x2 x1 x3, so its first word pairs with SXTB16 of four weights (w0, w2) and its
   second with SXTB16 of them rotated by 8 (w1, w3). */
static void eq_lstm_lanes(const int8_t *x, int32_t depth, int32_t padded, int16_t *out) {
    for (int32_t k = 0; k < padded; ++k) {
        out[(k & ~3) + ((k & 1) << 1) + ((k >> 1) & 1)] = (int16_t)(k < depth ? x[k] : 0);
    }
}

/* acc + sum_k row[k] * x[k] over a zero-padded row and x in eq_lstm_lanes order. */
static int32_t eq_lstm_dot(const int8_t *row, const int16_t *lanes, int32_t padded, int32_t acc) {
#if EQ_USE_SIMD32
    for (int32_t k = 0; k < padded; k += 4) {
        const int32_t w = eq_word(row + k);
        acc = __smlad(__sxtb16(w), eq_word(lanes + k), acc);
        acc = __smlad(eq_sxtb16_odd(w), eq_word(lanes + k + 2), acc);
    }
#else
    for (int32_t k = 0; k < padded; ++k) {
        acc += (int32_t)row[k] * lanes[(k & ~3) + ((k & 1) << 1) + ((k >> 1) & 1)];
    }
#endif
    return acc;
}

/* out[u] = requant(bias[u] + sum_k w[u][k] * x[k]), saturated to int16 (zero points folded into bias). */
static void eq_gate_fc(const int16_t *lanes, int32_t stride, const int8_t *w, const int32_t *bias, int32_t units,
                       int32_t mult, int32_t shift, int16_t *out) {
    const eq_rq q = eq_rq_make(mult, shift);
    for (int32_t u = 0; u < units; ++u) {
        out[u] = eq_sat16(eq_rq_apply(&q, eq_lstm_dot(w + u * stride, lanes, stride, bias[u])));
    }
}

/* Gate g at one step: FC(input) + FC(hidden), then its nonlinearity, into out. */
static void eq_lstm_gate(const eq_lstm_params *p, int32_t g, const int16_t *x_lanes, const int16_t *h_lanes,
                         int16_t *tmp, int16_t *out) {
    const int32_t units = p->units, in_stride = p->in_stride, rec_stride = p->rec_stride;
    const int8_t *in_w = p->in_w + g * units * in_stride, *rec_w = p->rec_w + g * units * rec_stride;
    eq_gate_fc(x_lanes, in_stride, in_w, p->in_bias + g * units, units, p->in_mult[g], p->in_shift[g], out);
    eq_gate_fc(h_lanes, rec_stride, rec_w, p->rec_bias + g * units, units, p->rec_mult[g], p->rec_shift[g], tmp);
    for (int32_t u = 0; u < units; ++u) {
        const int16_t sum = eq_sat16((int32_t)out[u] + tmp[u]);
        out[u] = g == EQ_LSTM_CELL ? eq_tanh_q15(sum, 3, 0) : eq_sigmoid_q15(sum, 3, 0);
    }
}

/* a * b requantized (TFLM's 16-bit MUL with zero input offsets), clamped to [lo, hi]. */
static int32_t eq_mul16(int16_t a, int16_t b, const eq_rq *q, int32_t offset, int32_t lo, int32_t hi) {
    const int32_t v = eq_rq_apply(q, (int32_t)a * b) + offset;
    return v < lo ? lo : v > hi ? hi : v;
}

static void eq_lstm_step(const eq_lstm_params *p, const int8_t *x, int8_t *y) {
    const int32_t units = p->units;
    int16_t *x_lanes = p->scratch, *h_lanes = x_lanes + p->in_stride;
    int16_t *forget = h_lanes + p->rec_stride, *input = forget + units, *cell_gate = input + units;
    int16_t *tmp = cell_gate + units, *cell = p->cell;
    const eq_rq keep_q = eq_rq_make(p->forget_mult, p->forget_shift), add_q = eq_rq_make(p->input_mult, p->input_shift);
    const eq_rq hidden_q = eq_rq_make(p->hidden_mult, p->hidden_shift);
    eq_lstm_lanes(x, p->in_depth, p->in_stride, x_lanes);
    eq_lstm_lanes(p->hidden, units, p->rec_stride, h_lanes);
    eq_lstm_gate(p, EQ_LSTM_FORGET, x_lanes, h_lanes, tmp, forget);
    eq_lstm_gate(p, EQ_LSTM_INPUT, x_lanes, h_lanes, tmp, input);
    eq_lstm_gate(p, EQ_LSTM_CELL, x_lanes, h_lanes, tmp, cell_gate);
    for (int32_t u = 0; u < units; ++u) {
        const int32_t kept = eq_mul16(forget[u], cell[u], &keep_q, 0, -32768, 32767);
        const int32_t added = eq_mul16(input[u], cell_gate[u], &add_q, 0, -32768, 32767);
        int32_t c = eq_sat16(kept + added);
        if (p->cell_clip > 0) {
            c = c > p->cell_clip ? p->cell_clip : c < -p->cell_clip ? -p->cell_clip : c;
        }
        cell[u] = (int16_t)c;
    }
    eq_lstm_gate(p, EQ_LSTM_OUTPUT, x_lanes, h_lanes, tmp, input); /* the output gate, in the input gate's buffer */
    for (int32_t u = 0; u < units; ++u) {
        const int16_t t = eq_tanh_q15(cell[u], p->tanh_mult, p->tanh_shift);
        const int32_t h = eq_mul16(t, input[u], &hidden_q, p->hidden_zp, -128, 127);
        p->hidden[u] = (int8_t)h;
        y[u] = (int8_t)h;
    }
}

void eq_lstm_s8(const eq_lstm_params *p, const int8_t *in, int8_t *out) {
    for (int32_t t = 0; t < p->steps; ++t) {
        eq_lstm_step(p, in + t * p->in_depth, out + t * p->units);
    }
}
