/*
 * edgeq_cmsdk_uart.c -- part of edgeq; copied unchanged into generated Cortex-M firmware.
 * Register map from the Arm CMSDK technical reference manual (APB UART).
 */
#include "edgeq_cmsdk_uart.h"

#define UART_DATA 0x00u      /* received / to-send byte */
#define UART_STATE 0x04u     /* bit 0 TX buffer full, bit 1 RX buffer full, bits 2/3 TX/RX overrun (write 1 to clear) */
#define UART_CTRL 0x08u      /* bit 0 TX enable, bit 1 RX enable, bit 2 TX interrupt, bit 3 RX interrupt */
#define UART_INTSTATUS 0x0Cu /* bit 0 TX interrupt, bit 1 RX interrupt (write 1 to clear) */
#define UART_BAUDDIV 0x10u   /* peripheral clock / baud rate, >= 16 */

#define STATE_TX_FULL 0x1u
#define STATE_RX_FULL 0x2u
#define STATE_RX_OVERRUN 0x8u
#define CTRL_TX_RX_ENABLE 0x3u
#define CTRL_RX_INTERRUPT 0x8u
#define INTSTATUS_RX 0x2u

static volatile uint32_t *reg(uintptr_t base, uint32_t offset) {
    return (volatile uint32_t *)(base + offset);
}

uint32_t edgeq_uart_init(uintptr_t base, uint32_t pclk_hz, uint32_t baud) {
    uint32_t div = baud > 0u ? (pclk_hz + baud / 2u) / baud : EDGEQ_UART_MIN_BAUDDIV;
    if (div < EDGEQ_UART_MIN_BAUDDIV) {
        div = EDGEQ_UART_MIN_BAUDDIV;
    }
    *reg(base, UART_CTRL) = 0u;
    *reg(base, UART_BAUDDIV) = div;
    *reg(base, UART_CTRL) = CTRL_TX_RX_ENABLE;
    return div;
}

void edgeq_uart_put(uintptr_t base, uint8_t byte) {
    while ((*reg(base, UART_STATE) & STATE_TX_FULL) != 0u) {
    }
    *reg(base, UART_DATA) = byte;
}

int edgeq_uart_get(uintptr_t base) {
    uint32_t state = *reg(base, UART_STATE);
    if ((state & STATE_RX_OVERRUN) != 0u) {
        *reg(base, UART_STATE) = STATE_RX_OVERRUN;
    }
    if ((state & STATE_RX_FULL) == 0u) {
        return -1;
    }
    return (int)(*reg(base, UART_DATA) & 0xFFu);
}

int edgeq_uart_rx_ready(uintptr_t base) {
    return (*reg(base, UART_STATE) & STATE_RX_FULL) != 0u;
}

void edgeq_uart_enable_rx_interrupt(uintptr_t base) {
    *reg(base, UART_INTSTATUS) = INTSTATUS_RX;
    *reg(base, UART_CTRL) = CTRL_TX_RX_ENABLE | CTRL_RX_INTERRUPT;
}

void edgeq_uart_clear_rx_interrupt(uintptr_t base) {
    *reg(base, UART_INTSTATUS) = INTSTATUS_RX;
}
