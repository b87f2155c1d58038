/*
 * edgeq_quant.c -- part of edgeq; copied unchanged into generated engines.
 *
 * The float edges of float-I/O models, the only float code of the engine:
 * QUANTIZE float -> int8 as TFLM's AffineQuantize (round(x / scale) in float,
 * halves away from zero, + zero point, clamp) and DEQUANTIZE int8 -> float
 * (scale * (q - zero point)). No libm: the rounding is done exactly in integers.
 */
#include "edgeq_kernels.h"

/* Magnitude beyond which every quotient saturates the int8 output anyway. */
#define EQ_QUOTIENT_LIMIT 1.0e9f

/* round(v) with halves away from zero, for |v| <= EQ_QUOTIENT_LIMIT. */
static int32_t eq_round_half_away(float v) {
    const int32_t whole = (int32_t)v;    /* truncates toward zero */
    const float frac = v - (float)whole; /* exact: whole and v share their leading bits */
    return whole + (frac >= 0.5f ? 1 : 0) - (frac <= -0.5f ? 1 : 0);
}

void eq_quantize_f32_s8(const eq_quant_params *p, const float *in, int8_t *out) {
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        float v = in[i] / p->scale; /* TFLM divides; 1/scale would round differently */
        int32_t q;
        /* Out-of-range quotients (and NaN) saturate; a float -> int conversion would be undefined. */
        if (v > EQ_QUOTIENT_LIMIT) {
            v = EQ_QUOTIENT_LIMIT;
        } else if (!(v >= -EQ_QUOTIENT_LIMIT)) {
            v = -EQ_QUOTIENT_LIMIT;
        }
        q = eq_round_half_away(v) + p->zero_point;
        q = q < p->qmin ? p->qmin : q;
        q = q > p->qmax ? p->qmax : q;
        out[i] = (int8_t)q;
    }
}

void eq_dequantize_s8_f32(const eq_quant_params *p, const int8_t *in, float *out) {
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        out[i] = p->scale * (float)((int32_t)in[i] - p->zero_point);
    }
}
