/*
 * edgeq_int4.c -- part of edgeq; copied unchanged into generated engines.
 *
 * int4 weights: two values a byte, value 2i in the low nibble of byte i and value 2i + 1 in its
 * high nibble, each sign extended from 4 bits (TFLite's INT4 packing, as tflite-micro's
 * UnpackDenseInt4IntoInt8 in tensorflow/lite/kernels/internal/portable_tensor_utils.cc reads it).
 * The generator stores them in the int8 kernels' layouts, packed; before an int4 op runs, its
 * weights are unpacked into the op's scratch region and the int8 kernel reads them from there.
 * Four values at a time from two packed bytes: the bytes spread to one a halfword, the nibbles to
 * one a byte (or a halfword), and a nibble's bit 3 copied into the bits above it; each word is
 * stored little-endian, the byte order of every target the engine builds for.
 */
#include "edgeq_kernels.h"

/* One nibble sign extended. */
static int32_t eq_s4(uint32_t nibble) {
    return (int32_t)(nibble & 0xFu) - (int32_t)((nibble & 0x8u) << 1);
}

void eq_unpack_s4_s8(const uint8_t *packed, int32_t count, int8_t *out) {
    int32_t i = 0, k;
    for (; i + 4 <= count; i += 4, packed += 2, out += 4) {
        uint32_t t = (uint32_t)packed[0] | ((uint32_t)packed[1] << 16); /* b0 in byte 0, b1 in byte 2 */
        t = (t | (t << 4)) & 0x0F0F0F0Fu;                               /* lo0, hi0, lo1, hi1 */
        t |= ((t >> 3) & 0x01010101u) * 0xF0u;                          /* sign bits of each byte */
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
