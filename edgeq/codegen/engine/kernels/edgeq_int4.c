/*
 * edgeq_int4.c -- part of edgeq; copied unchanged into generated engines.
 *
 * int4 weights: two values a byte, value 2i in the low nibble of byte i and value 2i + 1 in its
 * high nibble, each sign extended from 4 bits (TFLite's INT4 packing, as tflite-micro's
 * UnpackDenseInt4IntoInt8 in tensorflow/lite/kernels/internal/portable_tensor_utils.cc reads it).
 * The generator stores them in the int8 kernels' layouts, packed; before an int4 op runs, its
 * weights are unpacked into the op's scratch region and the int8 kernel reads them from there.
 * Eight values at a time from a word of four packed bytes: the low and high nibbles masked out,
 * interleaved back into order, and sign extended in their bytes (SIMD32: SSUB8 of (v ^ 8) - 8; else
 * a nibble's bit 3 copied into the bits above it); the words are stored little-endian, the byte
 * order of every target the engine builds for. The int16 layout takes one packed byte at a time.
 */
#include "edgeq_kernels.h"

/* One nibble sign extended. */
static int32_t eq_s4(uint32_t nibble) {
    return (int32_t)(nibble & 0xFu) - (int32_t)((nibble & 0x8u) << 1);
}

/* Four nibbles 0..15, one a byte, sign extended in their bytes. */
static inline uint32_t eq_s4_bytes(uint32_t v) {
#if EQ_USE_SIMD32
    return (uint32_t)__ssub8(eq_from_bits(v ^ 0x08080808u), 0x08080808); /* (v ^ 8) - 8 in each byte */
#else
    return v | ((v >> 3) & 0x01010101u) * 0xF0u; /* bit 3 copied into bits 4..7 of each byte */
#endif
}

void eq_unpack_s4_s8(const uint8_t *packed, int32_t count, int8_t *out) {
    int32_t i = 0, k;
    for (; i + 8 <= count; i += 8, packed += 4, out += 8) {
        uint32_t w, lo, hi, even, odd, v[2];
        memcpy(&w, packed, 4);
        lo = w & 0x0F0F0F0Fu;                                  /* values 0, 2, 4, 6 */
        hi = (w >> 4) & 0x0F0F0F0Fu;                           /* values 1, 3, 5, 7 */
        even = (lo & 0x00FF00FFu) | ((hi << 8) & 0xFF00FF00u); /* values 0, 1, 4, 5 */
        odd = ((lo >> 8) & 0x00FF00FFu) | (hi & 0xFF00FF00u);  /* values 2, 3, 6, 7 */
        v[0] = eq_s4_bytes((even & 0xFFFFu) | (odd << 16));
        v[1] = eq_s4_bytes((odd & 0xFFFF0000u) | (even >> 16));
        memcpy(out, v, 8);
    }
    for (; i + 4 <= count; i += 4, packed += 2, out += 4) {
        uint32_t t = (uint32_t)packed[0] | ((uint32_t)packed[1] << 16); /* b0 in byte 0, b1 in byte 2 */
        t = eq_s4_bytes((t | (t << 4)) & 0x0F0F0F0Fu);                  /* lo0, hi0, lo1, hi1 */
        memcpy(out, &t, 4);
    }
    for (k = 0; i + k < count; ++k) { /* the last 1 to 3 values */
        out[k] = (int8_t)eq_s4((uint32_t)packed[k / 2] >> (4 * (k & 1)));
    }
}

void eq_unpack_s4_s16(const uint8_t *packed, int32_t count, int16_t *out) {
    int32_t i = 0;
    for (; i + 2 <= count; i += 2, ++packed, out += 2) {
        uint32_t t = (uint32_t)packed[0];
        t = (t | (t << 12)) & 0x000F000Fu;       /* lo in halfword 0, hi in halfword 1 */
        t |= ((t >> 3) & 0x00010001u) * 0xFFF0u; /* sign bits of each halfword */
        memcpy(out, &t, 4);
    }
    if (i < count) {
        *out = (int16_t)eq_s4(packed[0]);
    }
}
