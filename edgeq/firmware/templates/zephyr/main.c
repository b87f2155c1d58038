/*
 * main.c -- part of edgeq; the entry point of Zephyr applications written by edgeq skeleton.
 *
 * main() serves the MLPerf Tiny protocol on the console UART (or the UART
 * chosen as edgeq,uart) for ever; see edgeq_platform_zephyr.c for the board layer.
 */
#include "edgeq_engine_glue.h"

/* 0: performance mode (m-lap-us timestamps). 1: MLPerf Tiny energy mode, timestamps as falling
 * edges on the GPIO aliased edgeq-timestamp in the devicetree (see README.md). */
#ifndef EDGEQ_ENERGY_MODE
#define EDGEQ_ENERGY_MODE 0
#endif

int main(void) {
    edgeq_engine_serve(EDGEQ_ENERGY_MODE);
    return 0;
}
