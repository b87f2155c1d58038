/*
 * host_dut.c -- the DUT protocol (edgeq_dut.c) on the host, for tests.
 *
 * The platform is stdin/stdout (the tests put a pty there, as QEMU's -serial
 * pty would); the model is a small C function of the 16 input bytes (64-byte
 * db buffer; loads over 16 bytes are rejected by set_input), 100 us per invoke:
 *   results = [sum / 100, max, min, invocations so far]
 *   --mse: one value, the MSE between a "reconstruction" (int8 x / 3 * 0.75)
 *          and the float input (int8 x * 0.25), like an ad01 autoencoder.
 * raw: 40 bytes, the 16 input bytes, the 16 reconstruction bytes, then the invocation count
 *      as 8 bytes little-endian (two m-raw lines: 32 + 8 bytes).
 * Other flags: --no-raw (no get_raw: `raw` is an unknown command),
 * --energy (energy mode; pin edges go to stderr as "pin-0"/"pin-1"),
 * --fail-invoke (invoke returns -7), --format (read float bit patterns, 8 hex
 * digits a line, from stdin and print each with edgeq_dut_format_float).
 * Exits 0 at end of input.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edgeq_dut.h"
#include "edgeq_platform.h"

#define INPUT_BYTES 16u
#define INPUT_CAPACITY 64u
#define INVOKE_MICROS 100u
#define RAW_BYTES 40u

/* ---- platform: stdin/stdout ---- */

static struct timespec boot_time;

void edgeq_platform_init(void) {
    clock_gettime(CLOCK_MONOTONIC, &boot_time);
}

int edgeq_platform_read_char(void) {
    int c = getchar();
    return c == EOF ? EDGEQ_PLATFORM_EOF : c;
}

void edgeq_platform_write(const char *s, size_t n) {
    fwrite(s, 1, n, stdout);
    fflush(stdout);
}

uint64_t edgeq_platform_micros(void) {
    struct timespec now;
    int64_t ns;
    clock_gettime(CLOCK_MONOTONIC, &now);
    ns = (int64_t)(now.tv_sec - boot_time.tv_sec) * 1000000000 + (now.tv_nsec - boot_time.tv_nsec);
    return (uint64_t)(ns / 1000);
}

void edgeq_platform_timestamp_pin(int level) {
    fputs(level ? "pin-1\n" : "pin-0\n", stderr);
}

/* ---- the test model ---- */

typedef struct test_model {
    uint8_t input[INPUT_BYTES];
    uint8_t raw[RAW_BYTES];
    float outputs[4];
    int8_t reconstruction[INPUT_BYTES];
    unsigned long invocations;
    int mse;
    int fail;
} test_model;

static int model_set_input(void *ctx, const uint8_t *data, size_t len) {
    test_model *m = (test_model *)ctx;
    if (len > INPUT_BYTES) {
        return 1;
    }
    memset(m->input, 0, sizeof m->input);
    memcpy(m->input, data, len);
    return 0;
}

static int model_invoke(void *ctx) {
    test_model *m = (test_model *)ctx;
    unsigned sum = 0, max = 0, min = 255, i;
    uint64_t start = edgeq_platform_micros();
    if (m->fail) {
        return -7;
    }
    while (edgeq_platform_micros() - start < INVOKE_MICROS) {
        /* take a measurable time, so m-lap-us T1 - T0 >= N * INVOKE_MICROS */
    }
    for (i = 0; i < INPUT_BYTES; ++i) {
        sum += m->input[i];
        max = m->input[i] > max ? m->input[i] : max;
        min = m->input[i] < min ? m->input[i] : min;
        m->reconstruction[i] = (int8_t)((int8_t)m->input[i] / 3);
    }
    m->invocations++;
    m->outputs[0] = (float)sum / 100.0f;
    m->outputs[1] = (float)max;
    m->outputs[2] = (float)min;
    m->outputs[3] = (float)m->invocations;
    return 0;
}

static size_t model_get_results(void *ctx, float *out, size_t max_out) {
    test_model *m = (test_model *)ctx;
    size_t i, n = max_out < 4u ? max_out : 4u;
    if (m->mse) {
        float sum = 0.0f;
        if (max_out < 1u) {
            return 0;
        }
        for (i = 0; i < INPUT_BYTES; ++i) {
            float d = (float)m->reconstruction[i] * 0.75f - (float)(int8_t)m->input[i] * 0.25f;
            sum += d * d;
        }
        out[0] = sum / (float)INPUT_BYTES;
        return 1;
    }
    memcpy(out, m->outputs, n * sizeof *out);
    return n;
}

static size_t model_get_raw(void *ctx, const uint8_t **data) {
    test_model *m = (test_model *)ctx;
    unsigned long count = m->invocations;
    size_t i;
    memcpy(m->raw, m->input, INPUT_BYTES);
    memcpy(m->raw + INPUT_BYTES, m->reconstruction, INPUT_BYTES);
    for (i = 2u * INPUT_BYTES; i < RAW_BYTES; ++i) {
        m->raw[i] = (uint8_t)(count & 0xFFu);
        count >>= 8;
    }
    *data = m->raw;
    return RAW_BYTES;
}

/* ---- --format: float bit patterns in, formatted floats out ---- */

static int format_floats(void) {
    static char line[64];
    static char text[EDGEQ_DUT_FLOAT_CHARS];
    while (fgets(line, sizeof line, stdin) != NULL) {
        uint32_t bits = (uint32_t)strtoul(line, NULL, 16);
        float v;
        size_t n;
        memcpy(&v, &bits, sizeof v);
        n = edgeq_dut_format_float(v, text, sizeof text);
        edgeq_platform_write(text, n);
        edgeq_platform_write("\n", 1);
    }
    return 0;
}

int main(int argc, char **argv) {
    static uint8_t db[INPUT_CAPACITY];
    static test_model state;
    static edgeq_dut_model model = {"test01",     INPUT_BYTES,       db, sizeof db, model_set_input,
                                    model_invoke, model_get_results, 0,  &state,    model_get_raw};
    static edgeq_dut dut;
    int i, energy = 0;
    for (i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--mse") == 0) {
            state.mse = 1;
            model.results_are_mse = 1;
            model.model_id = "testad01";
        } else if (strcmp(argv[i], "--no-raw") == 0) {
            model.get_raw = NULL;
        } else if (strcmp(argv[i], "--energy") == 0) {
            energy = 1;
        } else if (strcmp(argv[i], "--fail-invoke") == 0) {
            state.fail = 1;
        } else if (strcmp(argv[i], "--format") == 0) {
            return format_floats();
        } else {
            fputs("usage: host_dut [--mse] [--no-raw] [--energy] [--fail-invoke] [--format]\n", stderr);
            return 2;
        }
    }
    edgeq_platform_init();
    edgeq_dut_init(&dut, &model, "edgeq-host", "edgeq-test-1.0", energy);
    edgeq_dut_serve_forever(&dut);
    return 0;
}
