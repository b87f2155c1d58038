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

/* ---- float formatting: printf("%0.3f") without printf, exact for every float ----
 * Like C's printf, the value's exact binary expansion is rounded to three
 * decimals; an exact tie (the rest is exactly half a thousandth, as for 0.0625)
 * goes to the even last digit, as printf does in the default rounding mode. */

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

/* round(mant * 1000 / 2^k) to nearest, exact ties to even, 1 <= k. */
static uint64_t thousandths(uint32_t mant, int k) {
    uint64_t p = (uint64_t)mant * 1000u, q, rest, half;
    if (k >= 40) { /* p < 2^34 is below half of 2^k */
        return 0u;
    }
    q = p >> k;
    rest = p & (((uint64_t)1 << k) - 1u);
    half = (uint64_t)1 << (k - 1);
    if (rest > half || (rest == half && (q & 1u) != 0u)) {
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
    return m != NULL && m->input_buffer != NULL && m->set_input != NULL && m->invoke != NULL && m->get_results != NULL;
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

/* ---- commands: each prints its reply lines; the caller adds m-ready ---- */

static void cmd_name(edgeq_dut *dut, char **args, size_t argc) {
    (void)args;
    (void)argc;
    out_str(dut, "m-name-dut-[");
    out_str(dut, dut->dut_name);
    out_line(dut, "]");
}

static void cmd_profile(edgeq_dut *dut, char **args, size_t argc) {
    (void)args;
    (void)argc;
    out_str(dut, "m-profile-[");
    out_str(dut, dut->firmware_version);
    out_line(dut, "]");
    out_str(dut, "m-model-[");
    out_str(dut, dut->model != NULL ? dut->model->model_id : NULL);
    out_line(dut, "]");
}

static void cmd_help(edgeq_dut *dut, char **args, size_t argc) {
    static const char *const head[] = {
        "edgeq DUT, MLPerf Tiny / EEMBC protocol; end each command with %",
        "  name          print the DUT name",
        "  profile       print the firmware version and the model id",
        "  help          print this text",
        "  timestamp     print m-lap-us-N (energy mode: pulse the timestamp pin)",
    };
    static const char *const tail[] = {
        "  db HEX        append hex byte pairs to the loaded bytes",
        "  db print      print the loaded bytes",
        "  infer N W     copy the input in, run W warm-up (default 10) and N timed inferences",
        "  results       print the results of the last inference",
    };
    static const char raw_help[] = "  raw           print the output bytes of the last inference as m-raw-[HEX] lines";
    size_t i;
    (void)args;
    (void)argc;
    for (i = 0; i < sizeof head / sizeof head[0]; ++i) {
        out_line(dut, head[i]);
    }
    out_str(dut, "  db load N     expect N input bytes, 1 <= N <= ");
    out_u64(dut, capacity(dut));
    out_str(dut, " (model input: ");
    out_u64(dut, dut->model != NULL ? dut->model->input_bytes : 0u);
    out_line(dut, " bytes)");
    for (i = 0; i < sizeof tail / sizeof tail[0]; ++i) {
        out_line(dut, tail[i]);
    }
    if (dut->model != NULL && dut->model->get_raw != NULL) {
        out_line(dut, raw_help);
    }
}

static void cmd_timestamp(edgeq_dut *dut, char **args, size_t argc) {
    (void)args;
    (void)argc;
    print_lap(dut, mark_time(dut));
}

static void db_load(edgeq_dut *dut, const char *tok) {
    long n;
    if (tok == NULL) {
        out_error(dut, "db load needs a byte count", "");
    } else if (!parse_arg(dut, tok, &n, "Invalid byte count: ")) {
        return;
    } else if (n <= 0) {
        out_error(dut, "Byte count must be >0", "");
    } else if ((uint64_t)n > (uint64_t)capacity(dut)) {
        out_str(dut, "e-[Byte count ");
        out_u64(dut, (uint64_t)n);
        out_str(dut, " exceeds the input buffer (");
        out_u64(dut, capacity(dut));
        out_line(dut, " bytes)]");
    } else {
        dut->load_expected = (size_t)n;
        dut->load_received = 0u;
        out_str(dut, "m-[Expecting ");
        out_u64(dut, (uint64_t)n);
        out_line(dut, " bytes]");
    }
}

/* Checks every digit before writing any byte, so a bad command changes nothing. */
static void db_hex(edgeq_dut *dut, const char *hex) {
    size_t len = strlen(hex), count = len / 2u, i;
    uint8_t *dst;
    if (dut->load_expected == 0u) {
        out_error(dut, "No db load in progress: send db load N first", "");
        return;
    }
    if (len % 2u != 0u) {
        out_error(dut, "Odd number of hex digits", "");
        return;
    }
    for (i = 0; i < len; ++i) {
        if (hex_value(hex[i]) < 0) {
            out_str(dut, "e-[Invalid hex digit: ");
            out_mem(dut, hex + i, 1u);
            out_line(dut, "]");
            return;
        }
    }
    if (count > dut->load_expected - dut->load_received) {
        out_str(dut, "e-[Too many bytes: ");
        out_u64(dut, count);
        out_str(dut, " sent, ");
        out_u64(dut, dut->load_expected - dut->load_received);
        out_line(dut, " left of the db load]");
        return;
    }
    dst = dut->model->input_buffer + dut->load_received;
    for (i = 0; i < count; ++i) {
        dst[i] = (uint8_t)(hex_value(hex[2u * i]) * 16 + hex_value(hex[2u * i + 1u]));
    }
    dut->load_received += count;
    if (dut->load_received == dut->load_expected) {
        out_line(dut, "m-load-done");
    }
}

/* The received bytes as m-buffer-xx-xx-... lines, 8 bytes per line. */
static void db_print(edgeq_dut *dut) {
    static const char digits[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < dut->load_received; ++i) {
        uint8_t b = dut->model->input_buffer[i];
        if (i % 8u == 0u) {
            out_str(dut, "m-buffer");
        }
        dut->num[0] = '-';
        dut->num[1] = digits[b >> 4];
        dut->num[2] = digits[b & 15u];
        out_mem(dut, dut->num, 3u);
        if (i % 8u == 7u || i + 1u == dut->load_received) {
            out_end(dut);
        }
    }
}

static void cmd_db(edgeq_dut *dut, char **args, size_t argc) {
    int load = argc > 1 && strcmp(args[1], "load") == 0;
    if (argc < 2) {
        out_error(dut, "db needs an argument: load N, print or HEX", "");
    } else if (argc > (load ? 3u : 2u)) {
        out_error(dut, "Too many arguments for db", "");
    } else if (load) {
        db_load(dut, argc > 2 ? args[2] : NULL);
    } else if (strcmp(args[1], "print") == 0) {
        db_print(dut);
    } else {
        db_hex(dut, args[1]);
    }
}

static int run_n(const edgeq_dut_model *m, long n) {
    long i;
    for (i = 0; i < n; ++i) {
        int rc = m->invoke(m->ctx);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static void infer_failed(edgeq_dut *dut, int rc) {
    out_str(dut, "e-[Inference failed: code ");
    out_int(dut, rc);
    out_line(dut, "]");
}

/* The timestamps are taken around the timed loop and printed after it, so
 * the time to send m-lap-us-T0 is not part of the measurement. */
static void run_infer(edgeq_dut *dut, long n, long w) {
    const edgeq_dut_model *m = dut->model;
    uint64_t t0, t1;
    int rc;
    dut->has_results = 0;
    if (m->set_input(m->ctx, m->input_buffer, dut->load_received) != 0) {
        out_error(dut, "Model rejected the input", "");
        return;
    }
    out_str(dut, "m-warmup-start-");
    out_int(dut, w);
    out_end(dut);
    rc = run_n(m, w);
    if (rc != 0) {
        infer_failed(dut, rc);
        return;
    }
    out_line(dut, "m-warmup-done");
    out_str(dut, "m-infer-start-");
    out_int(dut, n);
    out_end(dut);
#ifdef EDGEQ_PLATFORM_TIMER_SYNC
    edgeq_platform_timer_sync();
#endif
    t0 = mark_time(dut);
    rc = run_n(m, n);
    t1 = mark_time(dut);
    if (rc != 0) {
        infer_failed(dut, rc);
        return;
    }
    print_lap(dut, t0);
    print_lap(dut, t1);
    out_line(dut, "m-infer-done");
    dut->has_results = 1;
    print_results(dut);
}

/* The model and a complete db load are there, or an error is printed. */
static int infer_ready(edgeq_dut *dut) {
    if (!model_complete(dut->model)) {
        out_error(dut, "Model interface incomplete", "");
    } else if (dut->load_expected == 0u) {
        out_error(dut, "No input loaded: send db load N first", "");
    } else if (dut->load_received != dut->load_expected) {
        out_str(dut, "e-[Input incomplete: ");
        out_u64(dut, dut->load_received);
        out_str(dut, " of ");
        out_u64(dut, dut->load_expected);
        out_line(dut, " bytes loaded]");
    } else {
        return 1;
    }
    return 0;
}

static void cmd_infer(edgeq_dut *dut, char **args, size_t argc) {
    long n = 1, w = 10;
    if (argc > 1 && !parse_arg(dut, args[1], &n, "Invalid iteration count: ")) {
        return;
    }
    if (argc > 2 && !parse_arg(dut, args[2], &w, "Invalid warm-up count: ")) {
        return;
    }
    if (n <= 0) {
        out_error(dut, "Inference iterations must be >0", "");
    } else if (w < 0) {
        out_error(dut, "Warm-up iterations must be >=0", "");
    } else if (infer_ready(dut)) {
        run_infer(dut, n, w);
    }
}

static void cmd_results(edgeq_dut *dut, char **args, size_t argc) {
    (void)args;
    (void)argc;
    if (!model_complete(dut->model)) {
        out_error(dut, "Model interface incomplete", "");
    } else if (!dut->has_results) {
        out_error(dut, "No results: run infer first", "");
    } else {
        print_results(dut);
    }
}

/* The raw output bytes as m-raw-[HEX] lines, EDGEQ_DUT_RAW_LINE_BYTES bytes per line (an edgeq extension). */
static void cmd_raw(edgeq_dut *dut, char **args, size_t argc) {
    static const char digits[] = "0123456789abcdef";
    const edgeq_dut_model *m = dut->model;
    const uint8_t *data = NULL;
    size_t n, i;
    (void)args;
    (void)argc;
    if (!dut->has_results) {
        out_error(dut, "No results: run infer first", "");
        return;
    }
    n = m->get_raw(m->ctx, &data);
    for (i = 0; data != NULL && i < n; ++i) {
        if (i % EDGEQ_DUT_RAW_LINE_BYTES == 0u) {
            out_str(dut, "m-raw-[");
        }
        dut->num[0] = digits[data[i] >> 4];
        dut->num[1] = digits[data[i] & 15u];
        out_mem(dut, dut->num, 2u);
        if (i % EDGEQ_DUT_RAW_LINE_BYTES == EDGEQ_DUT_RAW_LINE_BYTES - 1u || i + 1u == n) {
            out_line(dut, "]");
        }
    }
}

/* ---- dispatch ---- */

typedef void (*edgeq_dut_handler)(edgeq_dut *dut, char **args, size_t argc);

static const struct edgeq_dut_command {
    const char *name;
    edgeq_dut_handler run;
    size_t max_args; /* tokens, the command word included */
} COMMANDS[] = {
    {"name", cmd_name, 1u},           {"profile", cmd_profile, 1u}, {"help", cmd_help, 1u},
    {"timestamp", cmd_timestamp, 1u}, {"db", cmd_db, 3u},           {"infer", cmd_infer, 3u},
    {"results", cmd_results, 1u},     {"raw", cmd_raw, 1u},
};

/* Split dut->cmd at spaces into dut->tok, in place. */
static void tokenize(edgeq_dut *dut) {
    size_t i = 0;
    dut->cmd[dut->cmd_len] = '\0';
    dut->ntok = 0u;
    dut->tok_overflow = 0;
    while (i < dut->cmd_len) {
        if (dut->cmd[i] == ' ') {
            dut->cmd[i++] = '\0';
        } else if (dut->ntok == EDGEQ_DUT_MAX_TOKENS) {
            dut->tok_overflow = 1;
            return;
        } else {
            dut->tok[dut->ntok++] = dut->cmd + i;
            while (i < dut->cmd_len && dut->cmd[i] != ' ') {
                ++i;
            }
        }
    }
}

static void dispatch(edgeq_dut *dut, char **args, size_t argc) {
    size_t i;
    for (i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; ++i) {
        if (strcmp(args[0], COMMANDS[i].name) == 0) {
            if (COMMANDS[i].run == cmd_raw && (dut->model == NULL || dut->model->get_raw == NULL)) {
                break; /* a model without get_raw: `raw` is unknown */
            }
            if (dut->tok_overflow || argc > COMMANDS[i].max_args) {
                out_error(dut, "Too many arguments for ", COMMANDS[i].name);
            } else {
                COMMANDS[i].run(dut, args, argc);
            }
            return;
        }
    }
    out_error(dut, "Unknown command: ", args[0]);
}

/* Run the received command; an energy-mode interface board may prefix it with "dut". */
static void run_command(edgeq_dut *dut) {
    char **args = dut->tok;
    size_t argc;
    if (dut->cmd_overflow) {
        out_error(dut, "Command too long: max 80 characters", "");
    } else {
        tokenize(dut);
        argc = dut->ntok;
        if (argc > 0u && strcmp(args[0], "dut") == 0) {
            ++args;
            --argc;
        }
        if (argc > 0u) {
            dispatch(dut, args, argc);
        }
    }
    out_line(dut, "m-ready");
    dut->cmd_len = 0u;
    dut->cmd_overflow = 0;
}

/* ---- public ---- */

void edgeq_dut_init(edgeq_dut *dut, const edgeq_dut_model *model, const char *dut_name, const char *firmware_version,
                    int energy_mode) {
    memset(dut, 0, sizeof *dut);
    dut->model = model;
    dut->dut_name = dut_name;
    dut->firmware_version = firmware_version;
    dut->energy_mode = energy_mode != 0;
    if (dut->energy_mode) {
        edgeq_platform_timestamp_pin(1);
    }
    out_line(dut, dut->energy_mode ? "m-timestamp-mode-energy" : "m-timestamp-mode-performance");
    print_lap(dut, mark_time(dut));
    out_line(dut, "m-init-done");
    out_line(dut, "m-ready");
}

void edgeq_dut_feed(edgeq_dut *dut, int ch) {
    if (ch == '%') {
        run_command(dut);
    } else if (ch < 0x20 || ch > 0x7E) {
        return; /* CR, LF, NUL, other control and non-ASCII bytes: line noise */
    } else if (dut->cmd_len < EDGEQ_DUT_CMD_MAX) {
        dut->cmd[dut->cmd_len++] = (char)ch;
    } else {
        dut->cmd_overflow = 1;
    }
}

void edgeq_dut_serve_forever(edgeq_dut *dut) {
    for (;;) {
        int ch = edgeq_platform_read_char();
        if (ch == EDGEQ_PLATFORM_EOF) {
            return;
        }
        edgeq_dut_feed(dut, ch);
    }
}
