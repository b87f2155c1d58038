/*
 * edgeq_engine_glue.h -- part of edgeq; copied unchanged into generated firmware.
 *
 * A compiled engine (edgeq generate --format engine) as the DUT protocol sees
 * it. edgeq_engine_glue.c is rendered for each engine and is the same for every
 * firmware edgeq writes (bare-metal Cortex-M, Arduino, ESP-IDF, Zephyr): the
 * `db` buffer takes the raw input tensor bytes (all inputs concatenated, in
 * order), `infer` copies them into the engine's input tensor(s) and runs it,
 * `results` prints the outputs dequantized (or one MSE value for autoencoders)
 * and `raw` prints the output tensor bytes as they are.
 *
 * A firmware's entry point is then one of:
 *     edgeq_engine_serve(0);                       (main(), app_main(): never returns on a board)
 *     edgeq_platform_init(); edgeq_engine_dut_init(&dut, 0);   then edgeq_dut_feed() per character
 */
#ifndef EDGEQ_ENGINE_GLUE_H
#define EDGEQ_ENGINE_GLUE_H

#include "edgeq_dut.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The DUT name `name%` reports. */
#define EDGEQ_ENGINE_DUT_NAME "edgeq-engine"

/* The engine behind the protocol (static; valid for the whole run). */
const edgeq_dut_model *edgeq_engine_model(void);

/* edgeq_dut_init() with the engine, the DUT name and the firmware version
 * (`profile%`: edgeq-VERSION); energy_mode 0 = performance mode. Prints the boot
 * banner, so call edgeq_platform_init() first. */
void edgeq_engine_dut_init(edgeq_dut *dut, int energy_mode);

/* A whole firmware main(): edgeq_platform_init(), edgeq_engine_dut_init() on a
 * static edgeq_dut and edgeq_dut_serve_forever(). Returns only when the input
 * is closed for good (EDGEQ_PLATFORM_EOF, host builds). */
void edgeq_engine_serve(int energy_mode);

#ifdef __cplusplus
}
#endif

#endif /* EDGEQ_ENGINE_GLUE_H */
