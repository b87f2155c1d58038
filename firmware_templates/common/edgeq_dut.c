/*
 * edgeq_dut.c -- part of edgeq; copied unchanged into generated firmware.
 *
 * The MLPerf Tiny / EEMBC DUT serial protocol: a command is printable ASCII
 * tokens separated by spaces and ended by '%'; every reply line ends in
 * "\r\n" and every reply ends with "m-ready". Errors are "e-[...]" lines and
 * leave the state as it was. See edgeq_dut.h for the interface.
 */
#include "edgeq_dut.h"

#include <string.h>

#include "edgeq_platform.h"

/* The float formatter reads IEEE-754 binary32 bits. */
typedef char edgeq_dut_float_is_32_bits[(sizeof(float) == 4) ? 1 : -1];

/* Upper bound on busy-wait iterations for the >= 1 us timestamp pulse, in case the timer stands still. */
#define EDGEQ_DUT_PULSE_SPINS 100000u

enum { PARSE_OK, PARSE_BAD, PARSE_RANGE };

/* ---- output: collected in dut->out, written per line ---- */

static void out_flush(edgeq_dut *dut) {
    if (dut->out_len > 0) {
        edgeq_platform_write(dut->out, dut->out_len);
        dut->out_len = 0;
    }
}

static void out_mem(edgeq_dut *dut, const char *s, size_t n) {
    while (n > 0) {
        size_t room = sizeof dut->out - dut->out_len;
        size_t k = n < room ? n : room;
        memcpy(dut->out + dut->out_len, s, k);
        dut->out_len += k;
        s += k;
        n -= k;
        if (dut->out_len == sizeof dut->out) {
            out_flush(dut);
        }
    }
}

static void out_str(edgeq_dut *dut, const char *s) {
    if (s != NULL) {
        out_mem(dut, s, strlen(s));
    }
}

static void out_end(edgeq_dut *dut) {
    out_mem(dut, "\r\n", 2);
    out_flush(dut);
}

static void out_line(edgeq_dut *dut, const char *s) {
    out_str(dut, s);
    out_end(dut);
}

/* Write the decimal digits of v to out (no NUL); returns how many (1..20). */
static size_t u64_digits(uint64_t v, char *out) {
    size_t n = 0, i;
    do {
        out[n++] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v != 0u);
    for (i = 0; i < n / 2; ++i) {
        char t = out[i];
        out[i] = out[n - 1 - i];
        out[n - 1 - i] = t;
    }
    return n;
}

static void out_u64(edgeq_dut *dut, uint64_t v) {
    out_mem(dut, dut->num, u64_digits(v, dut->num));
}

static void out_int(edgeq_dut *dut, long v) {
    if (v < 0) {
        out_mem(dut, "-", 1);
        out_u64(dut, (uint64_t)0 - (uint64_t)(int64_t)v);
    } else {
        out_u64(dut, (uint64_t)v);
    }
}

/* "e-[" msg arg "]" */
static void out_error(edgeq_dut *dut, const char *msg, const char *arg) {
    out_str(dut, "e-[");
    out_str(dut, msg);
    out_str(dut, arg);
    out_line(dut, "]");
}

/* ---- float formatting: printf("%0.3f"), exact, half away from zero ---- */

/* Digits of mant * 2^exp2 (0 <= exp2 <= 104, an integer below 2^128). */
static size_t big_digits(uint32_t mant, int exp2, char *out) {
    uint32_t limb[5] = {0u, 0u, 0u, 0u, 0u};
    int word = exp2 / 32, bit = exp2 % 32, nonzero, i;
    size_t n = 0, j;
    limb[word] = mant << bit;
    if (bit > 8) {
        limb[word + 1] = mant >> (32 - bit);
    }
    do {
        uint32_t rem = 0u;
        nonzero = 0;
        for (i = 4; i >= 0; --i) {
            uint64_t cur = ((uint64_t)rem << 32) | limb[i];
            limb[i] = (uint32_t)(cur / 10u);
            rem = (uint32_t)(cur % 10u);
            nonzero |= limb[i] != 0u;
        }
        out[n++] = (char)('0' + (int)rem);
    } while (nonzero);
    for (j = 0; j < n / 2; ++j) {
        char t = out[j];
        out[j] = out[n - 1 - j];
        out[n - 1 - j] = t;
    }
    return n;
}

/* round(mant * 1000 / 2^k), half away from zero, 1 <= k. */
static uint64_t thousandths(uint32_t mant, int k) {
    uint64_t p = (uint64_t)mant * 1000u, q;
    if (k >= 40) { /* p < 2^34 is below half of 2^k */
        return 0u;
    }
    q = p >> k;
    if ((p & (((uint64_t)1 << k) - 1u)) >= ((uint64_t)1 << (k - 1))) {
        ++q;
    }
    return q;
}

size_t edgeq_dut_format_float(float v, char *out, size_t cap) {
    uint32_t bits, mant;
    int field, exp2;
    size_t n = 0;
    if (out == NULL || cap < EDGEQ_DUT_FLOAT_CHARS) {
        return 0;
    }
    memcpy(&bits, &v, sizeof bits);
    field = (int)((bits >> 23) & 0xFFu);
    mant = bits & 0x7FFFFFu;
    if (field == 0xFF) {
        const char *s = mant != 0u ? "nan" : (bits >> 31) ? "-inf" : "inf";
        n = strlen(s);
        memcpy(out, s, n + 1);
        return n;
    }
    if (bits >> 31) {
        out[n++] = '-';
    }
    exp2 = field == 0 ? -149 : field - 150;
    mant = field == 0 ? mant : (mant | 0x800000u);
    if (exp2 >= 0) {
        n += big_digits(mant, exp2, out + n);
        memcpy(out + n, ".000", 4);
        n += 4;
    } else {
        uint64_t q = thousandths(mant, -exp2);
        n += u64_digits(q / 1000u, out + n);
        out[n++] = '.';
        out[n++] = (char)('0' + (int)(q / 100u % 10u));
        out[n++] = (char)('0' + (int)(q / 10u % 10u));
        out[n++] = (char)('0' + (int)(q % 10u));
    }
    out[n] = '\0';
    return n;
}

/* ---- helpers ---- */

/* Decimal integer with an optional '-', |value| <= 2^31 - 1. */
static int parse_int(const char *s, long *value) {
    uint32_t mag = 0u;
    int neg = *s == '-';
    s += neg;
    if (*s == '\0') {
        return PARSE_BAD;
    }
    for (; *s != '\0'; ++s) {
        uint32_t d = (uint32_t)(unsigned char)*s - (uint32_t)'0';
        if (d > 9u) {
            return PARSE_BAD;
        }
        if (mag > (0x7FFFFFFFu - d) / 10u) {
            return PARSE_RANGE;
        }
        mag = mag * 10u + d;
    }
    *value = neg ? -(long)mag : (long)mag;
    return PARSE_OK;
}

/* Parse tok into *value, or print the error and return 0. what: "Invalid byte count: ". */
static int parse_arg(edgeq_dut *dut, const char *tok, long *value, const char *what) {
    int rc = parse_int(tok, value);
    if (rc != PARSE_OK) {
        out_error(dut, rc == PARSE_RANGE ? "Number out of range: " : what, tok);
    }
    return rc == PARSE_OK;
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static size_t capacity(const edgeq_dut *dut) {
    return dut->model != NULL && dut->model->input_buffer != NULL ? dut->model->input_capacity : 0u;
}

static int model_complete(const edgeq_dut_model *m) {
    return m != NULL && m->input_buffer != NULL && m->set_input != NULL && m->invoke != NULL &&
           m->get_results != NULL;
}

/* Hold the timestamp pin low for at least 1 us: the falling edge is the timestamp. */
static void pulse_pin(void) {
    uint64_t t0 = edgeq_platform_micros();
    uint32_t spins = 0u;
    edgeq_platform_timestamp_pin(0);
    while (edgeq_platform_micros() - t0 < 2u && spins < EDGEQ_DUT_PULSE_SPINS) {
        ++spins;
    }
    edgeq_platform_timestamp_pin(1);
}

/* Take a timestamp now: the time, and in energy mode the pin edge. */
static uint64_t mark_time(const edgeq_dut *dut) {
    uint64_t t = edgeq_platform_micros();
    if (dut->energy_mode) {
        pulse_pin();
    }
    return t;
}

/* Report a timestamp taken by mark_time(): m-lap-us-T (performance mode only). */
static void print_lap(edgeq_dut *dut, uint64_t t) {
    if (!dut->energy_mode) {
        out_str(dut, "m-lap-us-");
        out_u64(dut, t);
        out_end(dut);
    }
}

static void print_results(edgeq_dut *dut) {
    const edgeq_dut_model *m = dut->model;
    size_t count = m->get_results(m->ctx, dut->results, EDGEQ_DUT_MAX_RESULTS), i;
    if (count > EDGEQ_DUT_MAX_RESULTS) {
        count = EDGEQ_DUT_MAX_RESULTS;
    }
    if (m->results_are_mse && count > 1u) {
        count = 1u;
    }
    out_str(dut, "m-results-[");
    for (i = 0; i < count; ++i) {
        out_str(dut, i > 0 ? "," : "");
        out_mem(dut, dut->num, edgeq_dut_format_float(dut->results[i], dut->num, sizeof dut->num));
    }
    out_line(dut, "]");
}
