/*
 * main.c -- part of edgeq; the entry point of ESP-IDF projects written by edgeq skeleton.
 *
 * app_main() serves the MLPerf Tiny protocol on the UART for ever; the engine,
 * the protocol and the glue between them live in the component beside this
 * project's main/ (components/edgeq_NAME/).
 */
#include "edgeq_engine_glue.h"

/* 0: performance mode (m-lap-us timestamps). 1: MLPerf Tiny energy mode, timestamps as falling
 * edges on EDGEQ_TIMESTAMP_GPIO (define it, and EDGEQ_BAUD 9600, for the component; see README.md). */
#ifndef EDGEQ_ENERGY_MODE
#define EDGEQ_ENERGY_MODE 0
#endif

void app_main(void);

void app_main(void) {
    edgeq_engine_serve(EDGEQ_ENERGY_MODE);
}
