/*
 * edgeq_platform_cortexm.c -- part of edgeq; copied unchanged into generated Cortex-M firmware.
 *
 * edgeq_platform.h for Cortex-M boards with a CMSDK APB UART (QEMU's mps2-*
 * and mps3-* machines, Arm MPS2/MPS3 FPGA boards): bytes are read and written
 * by polling the UART, and time comes from SysTick counting the CPU clock (CLKSOURCE=1), reloading
 * every millisecond (a 24-bit reload of clock / 1000 ticks), with the wraps
 * counted in its interrupt. Under QEMU -icount shift=0 one CPU-clock tick is a
 * fixed number of instructions, so edgeq_platform_micros() is an exact
 * instruction count, and edgeq_platform_timer_sync() (build with
 * -DEDGEQ_PLATFORM_TIMER_SYNC) starts timed runs on a tick: with
 * -icount sleep=off the same inference always measures the same.
 *
 * Waiting for a byte: when edgeq_board.h names the UART's receive interrupt
 * (EDGEQ_UART_RX_IRQ), an idle firmware sleeps in WFI until that interrupt
 * comes, with SysTick paused meanwhile (no timer event left: QEMU's CPU thread
 * then sleeps too, instead of emulating a busy loop; with -icount sleep=off a
 * running SysTick would wake it every virtual millisecond at full speed), so
 * edgeq_platform_micros() does not advance while the board waits for the host.
 * Interrupts are masked from the last check of the receive flag to the WFI, so
 * a byte arriving in between is never missed (WFI returns at once on a pending
 * interrupt). Without EDGEQ_UART_RX_IRQ, or with -DEDGEQ_UART_POLL, the
 * firmware polls the UART in a loop: it needs no interrupt at all.
 *
 * Emulated boards build the engine with -DEDGEQ_PROFILE_OPS: every kernel call
 * then runs between eq_op_begin() and eq_op_end(), two empty functions whose
 * only job is to be seen: edgeq's QEMU plugin counts the instructions executed
 * between them, per call (about six instructions per call for the hooks).
 *
 * Faults (HardFault, MemManage, BusFault, UsageFault, SecureFault) print one
 * line on the UART, "fault: HardFault pc=0x... lr=0x..." (plus CFSR and HFSR
 * on Armv7-M and Armv8-M Mainline), from the stacked frame, then spin: the
 * host reports a crash instead of a board that stopped answering.
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
#define SYST_CSR_ENABLE 0x1u

#if defined(EDGEQ_UART_RX_IRQ) && !defined(EDGEQ_UART_POLL)
#define EDGEQ_UART_SLEEP 1
/* NVIC interrupt set-enable registers, 32 interrupts each. */
#define NVIC_ISER(n) (*(volatile uint32_t *)(0xE000E100u + 4u * ((n) / 32u)))
#define SCB_ICSR_VECTACTIVE 0x1FFu
#endif
/* Ticks per SysTick period: one millisecond (SysTick's reload register has 24 bits). */
#define PERIOD_TICKS (EDGEQ_SYSTICK_CLOCK_HZ / 1000u)
typedef char edgeq_systick_period_fits_24_bits[(PERIOD_TICKS >= 2u && PERIOD_TICKS <= (1u << 24)) ? 1 : -1];

/* SysTick wraps since edgeq_platform_init(); each one is PERIOD_TICKS ticks. */
static volatile uint32_t systick_wraps;

#ifdef EDGEQ_PROFILE_OPS
void eq_op_begin(int call);
void eq_op_end(int call);
__attribute__((noinline)) void eq_op_begin(int call) {
    (void)call;
    __asm__ volatile("" ::: "memory");
}
__attribute__((noinline)) void eq_op_end(int call) {
    (void)call;
    __asm__ volatile("" ::: "memory");
}
#endif

void SysTick_Handler(void);

void SysTick_Handler(void) {
    systick_wraps = systick_wraps + 1u;
}

void edgeq_platform_init(void) {
    (void)edgeq_uart_init(EDGEQ_UART_BASE, EDGEQ_UART_CLOCK_HZ, EDGEQ_UART_BAUD);
#ifdef EDGEQ_UART_SLEEP
    edgeq_uart_enable_rx_interrupt(EDGEQ_UART_BASE);
    NVIC_ISER(EDGEQ_UART_RX_IRQ) = 1u << (EDGEQ_UART_RX_IRQ % 32u);
#endif
    systick_wraps = 0u;
    SYST_CSR = 0u;
    SYST_RVR = PERIOD_TICKS - 1u;
    SYST_CVR = 0u;
    SYST_CSR = SYST_CSR_ENABLE_TICKINT_CPUCLK;
}

#ifdef EDGEQ_UART_SLEEP
void edgeq_irq_handler(void);

/* Every external interrupt enters here (edgeq_startup.c); only the UART's receive interrupt is enabled.
 * Acknowledging it is all there is to do: the byte stays in the UART for edgeq_platform_read_char(). */
void edgeq_irq_handler(void) {
    if ((SCB_ICSR & SCB_ICSR_VECTACTIVE) == 16u + EDGEQ_UART_RX_IRQ) {
        edgeq_uart_clear_rx_interrupt(EDGEQ_UART_BASE);
        return;
    }
    for (;;) { /* an interrupt nobody enabled: stop here, where a debugger finds it */
    }
}

/* Sleep until the UART has a byte. SysTick is paused while asleep, so that no timer event is left. */
static void sleep_until_byte(void) {
    __asm volatile("cpsid i" ::: "memory");
    if (!edgeq_uart_rx_ready(EDGEQ_UART_BASE)) {
        SYST_CSR = SYST_CSR_ENABLE_TICKINT_CPUCLK & ~SYST_CSR_ENABLE;
        __asm volatile("dsb\n\twfi" ::: "memory");
        SYST_CSR = SYST_CSR_ENABLE_TICKINT_CPUCLK;
    }
    __asm volatile("cpsie i" ::: "memory"); /* the receive interrupt is acknowledged here */
}
#endif

int edgeq_platform_read_char(void) {
    int ch;
    for (;;) {
        ch = edgeq_uart_get(EDGEQ_UART_BASE);
        if (ch >= 0) {
            return ch;
        }
#ifdef EDGEQ_UART_SLEEP
        sleep_until_byte();
#endif
    }
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

/* ---- fault report ---- */

#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_8M_MAIN__) ||                          \
    defined(__ARM_ARCH_8_1M_MAIN__)
#define EDGEQ_HAS_CFSR 1
#define SCB_CFSR (*(volatile uint32_t *)0xE000ED28u) /* configurable fault status */
#define SCB_HFSR (*(volatile uint32_t *)0xE000ED2Cu) /* HardFault status */
#endif

void HardFault_Handler(void);
void MemManage_Handler(void);
void BusFault_Handler(void);
void UsageFault_Handler(void);
void SecureFault_Handler(void);
void edgeq_fault_report(const uint32_t *frame, uint32_t exception);

static void fault_text(const char *s) {
    while (*s != '\0') {
        edgeq_uart_put(EDGEQ_UART_BASE, (uint8_t)*s++);
    }
}

static void fault_hex(const char *label, uint32_t value) {
    static const char digits[] = "0123456789abcdef";
    char text[11];
    int i;
    text[0] = '0';
    text[1] = 'x';
    for (i = 0; i < 8; ++i) {
        text[2 + i] = digits[(value >> (28 - 4 * i)) & 0xFu];
    }
    text[10] = '\0';
    fault_text(label);
    fault_text(text);
}

static const char *fault_name(uint32_t exception) {
    static const char *const names[] = {"HardFault", "MemManage", "BusFault", "UsageFault", "SecureFault"};
    return exception >= 3u && exception <= 7u ? names[exception - 3u] : "exception";
}

/* frame: the registers the core stacked on entry (r0-r3, r12, lr, pc, xpsr); exception: IPSR. */
void edgeq_fault_report(const uint32_t *frame, uint32_t exception) {
    fault_text("\r\nfault: ");
    fault_text(fault_name(exception));
    fault_hex(" pc=", frame[6]);
    fault_hex(" lr=", frame[5]);
#ifdef EDGEQ_HAS_CFSR
    fault_hex(" cfsr=", SCB_CFSR);
    fault_hex(" hfsr=", SCB_HFSR);
#endif
    fault_text("\r\n");
    for (;;) {
    }
}

/* Hands the stacked frame (on MSP or PSP, by bit 2 of EXC_RETURN) and IPSR to edgeq_fault_report(). */
__attribute__((naked)) void HardFault_Handler(void) {
    __asm volatile("movs r0, #4\n\t"
                   "mov r1, lr\n\t"
                   "tst r0, r1\n\t"
                   "beq 1f\n\t"
                   "mrs r0, psp\n\t"
                   "b 2f\n"
                   "1:\n\t"
                   "mrs r0, msp\n"
                   "2:\n\t"
                   "mrs r1, ipsr\n\t"
                   "bl edgeq_fault_report\n\t");
}

void MemManage_Handler(void) __attribute__((alias("HardFault_Handler")));
void BusFault_Handler(void) __attribute__((alias("HardFault_Handler")));
void UsageFault_Handler(void) __attribute__((alias("HardFault_Handler")));
void SecureFault_Handler(void) __attribute__((alias("HardFault_Handler")));
