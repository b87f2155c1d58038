/*
 * px4_qemu_main.c -- test firmware for edgeq skeleton --kind px4 on QEMU's Cortex-M boards.
 *
 * Runs the skeleton's portable function, edgeq_px4_infer(), on the float samples
 * of px4_samples.h (written by tests/firmware/test_px4_skeleton.py) and prints, per
 * sample, one line each (hex bytes, little-endian, as they are in memory):
 *   q HEX       the quantized input edgeq_px4_quantize_input() put in the engine's input tensor
 *   status N    what edgeq_px4_infer() returned
 *   raw HEX     the engine's output tensor after it
 *   deq HEX     result.outputs, float32
 *   top1 HEX    result.top1, int32
 *   us HEX      microseconds the call took (QEMU -icount virtual time)
 * then "short N" (the return of a call with one value too few) and "px4-end".
 * The engine must have one input and one output (px4_samples.h names them).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "edgeq_platform.h"
#include "edgeq_px4_infer.h"
#include "px4_samples.h"

static edgeq_px4_result result;

static void put(const char *s) {
    edgeq_platform_write(s, strlen(s));
}

static void put_hex(const char *label, const void *data, size_t n) {
    static const char digits[] = "0123456789abcdef";
    const uint8_t *bytes = (const uint8_t *)data;
    char pair[2];
    size_t i;
    put(label);
    for (i = 0; i < n; ++i) {
        pair[0] = digits[bytes[i] >> 4];
        pair[1] = digits[bytes[i] & 0xFu];
        edgeq_platform_write(pair, 2);
    }
    put("\n");
}

static void put_int(const char *label, int32_t value) {
    put_hex(label, &value, sizeof value);
}

int main(void) {
    size_t s;
    edgeq_platform_init();
    put("px4-begin\n");
    for (s = 0; s < PX4_SAMPLES; ++s) {
        uint32_t t0, t1;
        int status;
        (void)edgeq_px4_quantize_input(px4_samples[s], EDGEQ_PX4_INPUT_VALUES);
        put_hex("q ", PX4_ENGINE_INPUT, PX4_ENGINE_INPUT_BYTES);
        t0 = (uint32_t)edgeq_platform_micros();
        status = edgeq_px4_infer(px4_samples[s], EDGEQ_PX4_INPUT_VALUES, &result);
        t1 = (uint32_t)edgeq_platform_micros();
        put_int("status ", (int32_t)status);
        put_hex("raw ", PX4_ENGINE_OUTPUT, PX4_ENGINE_OUTPUT_BYTES);
        put_hex("deq ", result.outputs, sizeof result.outputs);
        put_int("top1 ", result.top1);
        put_int("us ", (int32_t)(t1 - t0));
    }
    put_int("short ", (int32_t)edgeq_px4_infer(px4_samples[0], EDGEQ_PX4_INPUT_VALUES - 1u, &result));
    put("px4-end\n");
    for (;;) {
        (void)edgeq_platform_read_char(); /* sleeps in WFI until the host stops the board */
    }
}
