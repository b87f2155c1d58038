/*
 * edgeq_cmsdk_uart.h -- part of edgeq; copied unchanged into generated Cortex-M firmware.
 *
 * Polled driver for the Arm CMSDK APB UART (the UARTs of the MPS2 and MPS3
 * FPGA images, and of QEMU's mps2-* and mps3-* machines): no interrupts, no
 * FIFO, one byte in each direction at a time.
 */
#ifndef EDGEQ_CMSDK_UART_H
#define EDGEQ_CMSDK_UART_H

#include <stdint.h>

/* Lowest baud divisor the CMSDK UART accepts (CMSDK TRM: BAUDDIV >= 16). */
#define EDGEQ_UART_MIN_BAUDDIV 16u

/* Enable transmitter and receiver at baud from a peripheral clock of pclk_hz
 * (divisor pclk_hz / baud, rounded to nearest, at least 16). Returns the divisor. */
uint32_t edgeq_uart_init(uintptr_t base, uint32_t pclk_hz, uint32_t baud);

/* Wait until the transmit buffer is free, then send one byte. */
void edgeq_uart_put(uintptr_t base, uint8_t byte);

/* The received byte (0..255) if one is waiting, else -1; clears a receive overrun. */
int edgeq_uart_get(uintptr_t base);

#endif /* EDGEQ_CMSDK_UART_H */
