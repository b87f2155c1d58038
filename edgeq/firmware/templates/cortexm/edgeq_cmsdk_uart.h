/*
 * edgeq_cmsdk_uart.h -- part of edgeq; copied unchanged into generated Cortex-M firmware.
 *
 * Driver for the Arm CMSDK APB UART (the UARTs of the MPS2 and MPS3 FPGA
 * images, and of QEMU's mps2-* and mps3-* machines): no FIFO, one byte in each
 * direction at a time. Bytes are read and written by polling; the receive
 * interrupt, when enabled, only wakes a core that sleeps in WFI until a byte
 * arrives. The UART raises it once per received byte (the RX bit of INTSTATUS
 * stays set until written 1), so the interrupt handler clears it.
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

/* 1 if a received byte is waiting (not consumed), else 0. */
int edgeq_uart_rx_ready(uintptr_t base);

/* Raise the receive interrupt for every byte received from now on (TX and RX stay enabled). */
void edgeq_uart_enable_rx_interrupt(uintptr_t base);

/* Acknowledge the receive interrupt (INTSTATUS RX, write 1 to clear): the interrupt line drops. */
void edgeq_uart_clear_rx_interrupt(uintptr_t base);

#endif /* EDGEQ_CMSDK_UART_H */
