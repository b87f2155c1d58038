/*
 * edgeq_int4.c -- part of edgeq; copied unchanged into generated engines.
 *
 * int4 weights. Models store them two a byte, value 2i in the low nibble of byte i and value 2i + 1
 * in its high nibble, each sign extended from 4 bits (TFLite's INT4 packing, as tflite-micro's
 * UnpackDenseInt4IntoInt8 in tensorflow/lite/kernels/internal/portable_tensor_utils.cc reads it).
 * The generator rearranges them into the int8 kernels' layouts and packs them again in the engine's
 * own order (edgeq/codegen/engine/int4.py): every 8 values one little-endian 32-bit word, values 0
 * to 3 in the low nibbles of its bytes 0 to 3, values 4 to 7 in their high nibbles, so that one mask
 * and one shift give four values in order, one a byte. Before an int4 op runs, its weights are
 * unpacked into the op's scratch region and the int8 kernel reads them from there. `count` is a
 * multiple of 8 (the generator pads with zeros); the bytes are stored little-endian, the byte order
 * of every target the engine builds for. FULLY_CONNECTED weights are packed row by row, each row
 * padded to a multiple of 8 values, so that any rows can be unpacked on their own
 * (eq_unpack_rows_s4_s8; edgeq_fc_int4.c unpacks two at a time).
 *
 * The per-output-channel parameters of an int4 op stay compact in flash too, 9 bytes a channel (an
 * int32 bias, an int32 multiplier, an int8 shift), and are expanded into the op's scratch region as the
 * eq_channel rows every int8 kernel reads (eq_expand_channels).
 */
#include "edgeq_kernels.h"

/* Four nibbles 0..15, one a byte, sign extended in their bytes. */
static inline uint32_t eq_s4_bytes(uint32_t v) {
#if EQ_USE_SIMD32
    return (uint32_t)__ssub8(eq_from_bits(v ^ 0x08080808u), 0x08080808); /* (v ^ 8) - 8 in each byte */
#else
    return v | ((v >> 3) & 0x01010101u) * 0xF0u; /* bit 3 copied into bits 4..7 of each byte */
#endif
}

void eq_unpack_s4_s8(const uint8_t *packed, int32_t count, int8_t *out) {
    int32_t i;
    for (i = 0; i < count; i += 8, packed += 4, out += 8) {
        uint32_t w, lo, hi;
        memcpy(&w, packed, 4);
        lo = eq_s4_bytes(w & 0x0F0F0F0Fu);        /* values 0..3 */
        hi = eq_s4_bytes((w >> 4) & 0x0F0F0F0Fu); /* values 4..7 */
        memcpy(out, &lo, 4);
        memcpy(out + 4, &hi, 4);
    }
}

void eq_unpack_rows_s4_s8(const uint8_t *packed, int32_t rows, int32_t len, int8_t *out) {
    const int32_t stride = (len + 7) / 8 * 8; /* values of a packed row */
    int32_t r;
    for (r = 0; r < rows; ++r) { /* each row's padding (stride - len < 8 values) is overwritten by the next */
        eq_unpack_s4_s8(packed + r * (stride / 2), stride, out + r * len);
    }
    memset(out + rows * len, 0, EQ_WEIGHT_TAIL);
}

/* Four nibbles 0..15, one a byte, as four int16 values. */
static inline void eq_s4_halves(uint32_t v, int16_t *out) {
#if EQ_USE_SIMD32
    const int32_t s = eq_from_bits(eq_s4_bytes(v));
    const uint32_t even = (uint32_t)__sxtb16(s), odd = (uint32_t)eq_sxtb16_odd(s); /* values 0, 2 and 1, 3 */
    const uint32_t first = (even & 0xFFFFu) | (odd << 16), second = (odd & 0xFFFF0000u) | (even >> 16);
    memcpy(out, &first, 4);
    memcpy(out + 2, &second, 4);
#else
    int k;
    for (k = 0; k < 4; ++k) {
        const uint32_t nibble = (v >> (8 * k)) & 0xFu;
        out[k] = (int16_t)((int32_t)nibble - (int32_t)((nibble & 0x8u) << 1));
    }
#endif
}

void eq_unpack_s4_s16(const uint8_t *packed, int32_t count, int16_t *out) {
    int32_t i;
    for (i = 0; i < count; i += 8, packed += 4, out += 8) {
        uint32_t w;
        memcpy(&w, packed, 4);
        eq_s4_halves(w & 0x0F0F0F0Fu, out);
        eq_s4_halves((w >> 4) & 0x0F0F0F0Fu, out + 4);
    }
}

void eq_expand_channels(const int32_t *bias, const int32_t *mult, const int8_t *shift, int32_t count, int32_t rq,
                        int32_t base, eq_channel *out) {
    int32_t c;
    if (rq & EQ_RQ_FAST) { /* round = 2^(e-1) + K 2^e, 1 <= e <= 21 and |K| < 2^8 (edgeq_kernels.h) */
        for (c = 0; c < count; ++c) {
            const int32_t e = shift[c];
            out[c].bias = bias[c];
            out[c].mult = mult[c];
            out[c].shift = e;
            out[c].round = ((int32_t)1 << (e - 1)) + base * ((int32_t)1 << e);
        }
        return;
    }
    for (c = 0; c < count; ++c) { /* the exact form has no rounding constant */
        out[c].bias = bias[c];
        out[c].mult = mult[c];
        out[c].shift = shift[c];
        out[c].round = 0;
    }
}
