/* UNIDIRECTIONAL_SEQUENCE_LSTM, fully integer: int8 input, output and hidden state, int16 cell
   state, int8 weights, int32 biases, the arithmetic of TFLM's integer LSTM kernel.

   Every gate is FC(input) + FC(hidden), each requantized to Q3.12 int16 and added with int16
   saturation, then a 16-bit sigmoid (input, forget, output gates) or tanh (cell gate) on TFLM's
   interpolated table, giving Q0.15. The cell state becomes forget * cell + input * cell gate
   (two requantizing int16 multiplies and a saturating add, optionally clipped); the hidden state
   is output gate * tanh(cell), requantized to int8. The hidden and cell states live outside the
   arena and carry over from one inference to the next, as TFLite's variable tensors do. */
#include "edgeq_kernels.h"

/* 256 values of sigmoid(i / 24) in unsigned 0.16 fixed point, as TFLM tabulates them (it
   interpolates between neighbours; tanh(x) is read as 2 sigmoid(2x) - 1 from the same table). */
/* clang-format off */
static const uint16_t eq_sigmoid_q16[256] = {
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794, 41432, 42064, 42688,
    43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409,
    51865, 52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110,
    61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186,
    63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900,
    64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208,
    65221, 65234, 65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433, 65438, 65442, 65445, 65449,
    65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491,
    65493, 65495, 65497, 65498, 65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
    65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530,
    65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535,
};
/* clang-format on */

static int16_t eq_sat16(int32_t v) {
    return (int16_t)(v < -32768 ? -32768 : v > 32767 ? 32767 : v);
}

/* The input scaled as TFLM's 16-bit sigmoid and tanh scale it: (x * mult + round) >> shift. */
static int32_t eq_scaled16(int16_t x, int32_t mult, int32_t shift) {
    const int32_t round = shift > 0 ? (int32_t)1 << (shift - 1) : 0;
    return eq_floor_div_pow2((int32_t)x * mult + round, (int)shift);
}

/* Sigmoid of Q3.12 (times 3/4 through mult 3): Q0.15 in [0, 32767]. */
static int16_t eq_sigmoid16(int16_t x) {
    const int32_t v = eq_scaled16(x, 3, 0);
    const uint32_t a = (uint32_t)(v < 0 ? -v : v);
    const uint32_t hi = a >> 9;
    uint32_t r = (uint32_t)0x7FFF << 10;
    if (hi < 255) {
        const uint32_t lo = eq_sigmoid_q16[hi], up = eq_sigmoid_q16[hi + 1];
        r = (lo << 9) + (a & 0x1FF) * (up - lo);
    }
    r = v >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1u;
    return (int16_t)(r >> 10);
}

/* Tanh of x * mult / 2^shift (a Q3.12 value after the scaling): Q0.15 in [-32768, 32767]. */
static int16_t eq_tanh16(int16_t x, int32_t mult, int32_t shift) {
    const int32_t v = eq_scaled16(x, mult, shift);
    const uint32_t a = (uint32_t)(v < 0 ? -v : v);
    const uint32_t hi = a >> 8;
    int32_t r = (int32_t)0xFFFF << 8;
    if (hi < 255) {
        const uint32_t lo = eq_sigmoid_q16[hi], up = eq_sigmoid_q16[hi + 1];
        r = (int32_t)((lo << 8) + (a & 0xFF) * (up - lo));
    }
    r = v >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
    return (int16_t)eq_floor_div_pow2(r, 8);
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
        out[u] = g == EQ_LSTM_CELL ? eq_tanh16(sum, 3, 0) : eq_sigmoid16(sum);
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
        const int16_t t = eq_tanh16(cell[u], p->tanh_mult, p->tanh_shift);
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
