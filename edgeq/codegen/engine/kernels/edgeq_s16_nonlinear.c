/*
 * edgeq_s16_nonlinear.c -- part of edgeq; copied unchanged into generated engines.
 *
 * LOGISTIC and TANH of int16x8 models as TFLM's reference int16 kernels compute
 * them: the input is rescaled to x * 3 * 2^12 (real x; mult and shift come from
 * the generator), its magnitude indexes a 256-entry sigmoid table with linear
 * interpolation between entries, and the symmetry sigmoid(-x) = 1 - sigmoid(x)
 * (tanh(x) = 2 sigmoid(2x) - 1) gives the negative half. Output scale 2^-15.
 */
#include "edgeq_kernels.h"

/* sigmoid(i / 24) in unsigned 0.16 fixed point, each entry raised by half the gap between the
   curve and the chord at the middle of its interval: round(65536 * (s(i) + (s(i + 1/2) -
   (s(i) + s(i + 1)) / 2) / 2)) for i < 255, and 65535 for the last entry (TFLM's table). */
static const uint16_t eq_s16_sigmoid_table[256] = {
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

/* The input in the table's scale: (x * mult + rounding) / 2^shift, floored. */
static int32_t eq_s16_table_input(int16_t x, int32_t mult, int32_t shift) {
    const int32_t round = shift > 0 ? (int32_t)1 << (shift - 1) : 0;
    return eq_floor_div_pow2((int32_t)x * mult + round, (int)shift);
}

int16_t eq_sigmoid_q15(int16_t x, int32_t mult, int32_t shift) {
    const int32_t v = eq_s16_table_input(x, mult, shift);
    const uint32_t mag = v >= 0 ? (uint32_t)v : (uint32_t)(-v);
    const uint32_t step = mag >> 9;
    uint32_t r = (uint32_t)0x7FFF << 10; /* saturated */
    if (step < 255) {
        const uint32_t lo = eq_s16_sigmoid_table[step], hi = eq_s16_sigmoid_table[step + 1];
        r = (lo << 9) + (mag & 0x1FFu) * (hi - lo);
    }
    r = v >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1u;
    return (int16_t)(int32_t)(r >> 10);
}

int16_t eq_tanh_q15(int16_t x, int32_t mult, int32_t shift) {
    const int32_t v = eq_s16_table_input(x, mult, shift);
    const uint32_t mag = v >= 0 ? (uint32_t)v : (uint32_t)(-v);
    const uint32_t step = mag >> 8;
    int32_t r = (int32_t)0xFFFF << 8; /* saturated */
    if (step < 255) {
        const uint32_t lo = eq_s16_sigmoid_table[step], hi = eq_s16_sigmoid_table[step + 1];
        r = (int32_t)((lo << 8) + (mag & 0xFFu) * (hi - lo));
    }
    r = v >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
    return (int16_t)eq_floor_div_pow2(r, 8);
}

void eq_logistic_s16(const eq_s16_sigmoid_params *p, const int16_t *in, int16_t *out) {
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        out[i] = eq_sigmoid_q15(in[i], p->mult, p->shift);
    }
}

void eq_tanh_s16(const eq_s16_sigmoid_params *p, const int16_t *in, int16_t *out) {
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        out[i] = eq_tanh_q15(in[i], p->mult, p->shift);
    }
}
