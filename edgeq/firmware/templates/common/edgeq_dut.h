/*
 * edgeq_dut.h -- part of edgeq; copied unchanged into generated firmware.
 *
 * The MLPerf Tiny / EEMBC device-under-test (DUT) serial protocol, written
 * once and shared by every firmware edgeq generates (TFLM projects, the
 * compiled engine on QEMU and real boards). It knows nothing about TFLM or the compiled
 * engine: it reaches the model through edgeq_dut_model and the board through
 * edgeq_platform.h.
 *
 * One edgeq extension: `raw%` prints the output tensor bytes of the last
 * inference as m-raw-[HEX] lines (32 bytes each), for byte-exact checks by the
 * host, when the model provides get_raw; otherwise `raw` is an unknown command.
 *
 * Plain C99 (also compiles as C++): no malloc, no printf, no recursion; all
 * state lives in the caller's edgeq_dut (make it static: about 600 bytes).
 *
 * Usage:
 *     static uint8_t db[64];
 *     static edgeq_dut_model model = {"kws01", 490, db, sizeof db, set_input, invoke, get_results, 0, NULL, get_raw};
 *     static edgeq_dut dut;
 *     edgeq_platform_init();
 *     edgeq_dut_init(&dut, &model, "edgeq", "edgeq-0.1.0", 0);
 *     edgeq_dut_serve_forever(&dut);
 */
#ifndef EDGEQ_DUT_H
#define EDGEQ_DUT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Longest command the DUT accepts, '%' excluded (the protocol's limit). */
#define EDGEQ_DUT_CMD_MAX 80
/* Most tokens in one command ("dut infer N W" has four). */
#define EDGEQ_DUT_MAX_TOKENS 4
/* The two sizes below may be overridden with -D, identically for every file that includes this header. */
/* Most output values one m-results line reports; more are cut off. */
#ifndef EDGEQ_DUT_MAX_RESULTS
#define EDGEQ_DUT_MAX_RESULTS 64
#endif
/* Output is collected in a buffer of this size and written per line or when full. */
#ifndef EDGEQ_DUT_OUT_BUF
#define EDGEQ_DUT_OUT_BUF 96
#endif
/* Bytes per m-raw-[HEX] line of the `raw` command (64 hex digits). */
#define EDGEQ_DUT_RAW_LINE_BYTES 32
/* Buffer size edgeq_dut_format_float() needs: sign, 39 digits, ".000", NUL. */
#define EDGEQ_DUT_FLOAT_CHARS 48

/* The model as the protocol sees it. All pointers must stay valid while the DUT runs. */
typedef struct edgeq_dut_model {
    /* Reported by `profile` as m-model-[ID]: "ic01", "kws01", "vww01", "ad01" or the generated model's name. */
    const char *model_id;
    /* Bytes of the model's input tensor; shown by `help`. A `db load N` may be smaller or larger:
     * set_input() receives the loaded length and decides. */
    size_t input_bytes;
    /* The `db` buffer (static, owned by the caller) and its size; `db load N` needs 1 <= N <= input_capacity. */
    uint8_t *input_buffer;
    size_t input_capacity;
    /* Copy len loaded bytes into the input tensor; 0 = ok, anything else rejects the input. */
    int (*set_input)(void *ctx, const uint8_t *data, size_t len);
    /* Run one inference; 0 = ok, anything else is reported as an error code. */
    int (*invoke)(void *ctx);
    /* Write at most max_out dequantized outputs of the last inference to out and return how many.
     * With results_are_mse set it writes one value: the mean squared error between the
     * dequantized output and the float (dequantized) input. */
    size_t (*get_results)(void *ctx, float *out, size_t max_out);
    /* Anomaly detection (ad01): get_results() reports one value, the MSE; only out[0] is printed. */
    int results_are_mse;
    /* Passed unchanged to the functions. */
    void *ctx;
    /* Optional (NULL: the `raw` command is unknown). Point *data at the raw output tensor bytes of the
     * last inference (all outputs concatenated, in order) and return how many; `raw` prints them as
     * m-raw-[HEX] lines of at most EDGEQ_DUT_RAW_LINE_BYTES bytes, for byte-exact checks by the host. */
    size_t (*get_raw)(void *ctx, const uint8_t **data);
} edgeq_dut_model;

/* Protocol state. Fields are private: set them only through edgeq_dut_init(). */
typedef struct edgeq_dut {
    const edgeq_dut_model *model;
    const char *dut_name;
    const char *firmware_version;
    int energy_mode;
    char cmd[EDGEQ_DUT_CMD_MAX + 1]; /* the command being received, NUL-terminated when run */
    size_t cmd_len;
    int cmd_overflow;                /* more than EDGEQ_DUT_CMD_MAX characters before the '%' */
    char *tok[EDGEQ_DUT_MAX_TOKENS]; /* the command's space-separated tokens, inside cmd */
    size_t ntok;
    int tok_overflow;     /* more than EDGEQ_DUT_MAX_TOKENS tokens */
    size_t load_expected; /* N of the last accepted `db load N`; 0 = nothing loaded */
    size_t load_received; /* bytes of it received so far */
    int has_results;      /* the last `infer` completed */
    float results[EDGEQ_DUT_MAX_RESULTS];
    char num[EDGEQ_DUT_FLOAT_CHARS]; /* scratch for one formatted number */
    char out[EDGEQ_DUT_OUT_BUF];
    size_t out_len;
} edgeq_dut;

/* Reset dut and print the boot banner: m-timestamp-mode-performance (energy_mode 0) or
 * m-timestamp-mode-energy, a timestamp (m-lap-us-N; in energy mode a falling edge on the
 * timestamp pin instead), m-init-done, m-ready. Call edgeq_platform_init() first. */
void edgeq_dut_init(edgeq_dut *dut, const edgeq_dut_model *model, const char *dut_name, const char *firmware_version,
                    int energy_mode);

/* Consume one received character (0..255; negative values are ignored). '%' runs the
 * command; CR, LF and bytes outside printable ASCII are dropped. */
void edgeq_dut_feed(edgeq_dut *dut, int ch);

/* Read characters with edgeq_platform_read_char() and feed them, until it returns
 * EDGEQ_PLATFORM_EOF (host builds only; boards never return). */
void edgeq_dut_serve_forever(edgeq_dut *dut);

/* Format v exactly as printf("%0.3f") does (the exact binary value rounded to nearest,
 * exact ties to even: 0.0625 -> "0.062"; "nan", "inf", "-inf") into out, NUL-terminated. Returns the length, or 0 (out
 * untouched) when cap < EDGEQ_DUT_FLOAT_CHARS. */
size_t edgeq_dut_format_float(float v, char *out, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* EDGEQ_DUT_H */
