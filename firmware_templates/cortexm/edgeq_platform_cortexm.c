/*
 * edgeq_platform_cortexm.c -- part of edgeq; copied unchanged into generated Cortex-M firmware.
 *
 * edgeq_platform.h for Cortex-M boards with a CMSDK APB UART (QEMU's mps2-*
 * and mps3-* machines, Arm MPS2/MPS3 FPGA boards): the serial link is polled,
 * and time comes from SysTick counting the CPU clock (CLKSOURCE=1), reloading
 * every millisecond (a 24-bit reload of clock / 1000 ticks), with the wraps
 * counted in its interrupt. Under QEMU -icount shift=0 one CPU-clock tick is a
 * fixed number of instructions, so edgeq_platform_micros() is an exact
 * instruction count, and edgeq_platform_timer_sync() (build with
 * -DEDGEQ_PLATFORM_TIMER_SYNC) starts timed runs on a tick: with
 * -icount sleep=off the same inference always measures the same.
 */
#include <stdint.h>

#include "edgeq_board.h"
#include "edgeq_cmsdk_uart.h"
#include "edgeq_platform.h"

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u) /* SysTick control and status */
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u) /* reload value */
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u) /* current value */
#define SCB_ICSR (*(volatile uint32_t *)0xE000ED04u) /* interrupt control and state */
#define SYST_CSR_ENABLE_TICKINT_CPUCLK 0x7u
#define ICSR_PENDSTSET (1u << 26)
/* Ticks per SysTick period: one millisecond (SysTick's reload register has 24 bits). */
#define PERIOD_TICKS (EDGEQ_SYSTICK_CLOCK_HZ / 1000u)
typedef char edgeq_systick_period_fits_24_bits[(PERIOD_TICKS >= 2u && PERIOD_TICKS <= (1u << 24)) ? 1 : -1];

/* SysTick wraps since edgeq_platform_init(); each one is PERIOD_TICKS ticks. */
static volatile uint32_t systick_wraps;

void SysTick_Handler(void);

void SysTick_Handler(void) {
    systick_wraps = systick_wraps + 1u;
}

void edgeq_platform_init(void) {
    (void)edgeq_uart_init(EDGEQ_UART_BASE, EDGEQ_UART_CLOCK_HZ, EDGEQ_UART_BAUD);
    systick_wraps = 0u;
    SYST_CSR = 0u;
    SYST_RVR = PERIOD_TICKS - 1u;
    SYST_CVR = 0u;
    SYST_CSR = SYST_CSR_ENABLE_TICKINT_CPUCLK;
}

int edgeq_platform_read_char(void) {
    int ch;
    do {
        ch = edgeq_uart_get(EDGEQ_UART_BASE);
    } while (ch < 0);
    return ch;
}

void edgeq_platform_write(const char *s, size_t n) {
    size_t i;
    for (i = 0; i < n; ++i) {
        edgeq_uart_put(EDGEQ_UART_BASE, (uint8_t)s[i]);
    }
}

/* CPU-clock ticks since init. The counter runs down from PERIOD_TICKS - 1 and
 * pends the interrupt when it reaches 0; a wrap whose interrupt has not run yet
 * (pending) is counted here, so the result never goes back. */
static uint64_t systick_ticks(void) {
    uint32_t primask, wraps, value;
    __asm volatile("mrs %0, primask" : "=r"(primask));
    __asm volatile("cpsid i" ::: "memory");
    wraps = systick_wraps;
    value = SYST_CVR;
    if ((SCB_ICSR & ICSR_PENDSTSET) != 0u) {
        wraps += 1u;
        value = SYST_CVR;
    }
    __asm volatile("msr primask, %0" ::"r"(primask) : "memory");
    return (uint64_t)wraps * PERIOD_TICKS + (value == 0u ? 0u : PERIOD_TICKS - value);
}

/* floor(ticks * 1e6 / clock) in integers, exact for every 64-bit tick count. */
uint64_t edgeq_platform_micros(void) {
    uint64_t ticks = systick_ticks();
    uint64_t whole = ticks / EDGEQ_SYSTICK_CLOCK_HZ;
    uint64_t rest = ticks % EDGEQ_SYSTICK_CLOCK_HZ;
    return whole * 1000000u + rest * 1000000u / EDGEQ_SYSTICK_CLOCK_HZ;
}

void edgeq_platform_timer_sync(void) {
    uint32_t start = systick_wraps;
    do {
        __asm volatile("wfi" ::: "memory"); /* woken by the SysTick interrupt: resume right after a tick */
    } while (systick_wraps == start);
}

void edgeq_platform_timestamp_pin(int level) {
    (void)level; /* no timestamp GPIO on the emulated boards */
}
