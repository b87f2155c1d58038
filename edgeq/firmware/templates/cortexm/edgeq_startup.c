/*
 * edgeq_startup.c -- part of edgeq; copied unchanged into generated Cortex-M firmware.
 *
 * The vector table and the reset handler: enable the FPU (and Helium, which
 * shares its access bits) when the build uses it, copy .data from its load
 * address, zero .bss, then call main(). Exceptions without a handler of their
 * own spin in edgeq_default_handler() so a debugger finds them (the platform
 * layer's fault handlers report faults on the UART first). Symbols come
 * from linker.ld (rendered per board). Plain C99 with GCC attributes.
 */
#include <stdint.h>

/* Linker script symbols: word-aligned section bounds and the initial stack pointer. */
extern uint32_t __edgeq_data_load[];
extern uint32_t __edgeq_data_start[];
extern uint32_t __edgeq_data_end[];
extern uint32_t __edgeq_bss_start[];
extern uint32_t __edgeq_bss_end[];
extern uint32_t __edgeq_stack_top[];

/* 48 external interrupt entries (IRQ 0..47), all to edgeq_irq_handler(): the platform layer
 * enables at most the UART's receive interrupt and tells it by the active vector number (ICSR). */
#define EDGEQ_X4(h) h, h, h, h
#define EDGEQ_X16(h) EDGEQ_X4(h), EDGEQ_X4(h), EDGEQ_X4(h), EDGEQ_X4(h)
#define EDGEQ_X48(h) EDGEQ_X16(h), EDGEQ_X16(h), EDGEQ_X16(h)
#define EDGEQ_EXTERNAL_IRQS 48

/* Coprocessor Access Control Register: CP10 and CP11 (FPU, MVE) full access in bits 20..23. */
#define EDGEQ_CPACR (*(volatile uint32_t *)0xE000ED88u)
#define EDGEQ_CPACR_CP10_CP11 (0xFu << 20)

int main(void);
void edgeq_reset_handler(void);
void edgeq_default_handler(void);
void NMI_Handler(void) __attribute__((weak, alias("edgeq_default_handler")));
void HardFault_Handler(void) __attribute__((weak, alias("edgeq_default_handler")));
void MemManage_Handler(void) __attribute__((weak, alias("edgeq_default_handler")));
void BusFault_Handler(void) __attribute__((weak, alias("edgeq_default_handler")));
void UsageFault_Handler(void) __attribute__((weak, alias("edgeq_default_handler")));
void SecureFault_Handler(void) __attribute__((weak, alias("edgeq_default_handler")));
void SVC_Handler(void) __attribute__((weak, alias("edgeq_default_handler")));
void DebugMon_Handler(void) __attribute__((weak, alias("edgeq_default_handler")));
void PendSV_Handler(void) __attribute__((weak, alias("edgeq_default_handler")));
void SysTick_Handler(void) __attribute__((weak, alias("edgeq_default_handler")));
void edgeq_irq_handler(void) __attribute__((weak, alias("edgeq_default_handler")));

typedef void (*edgeq_vector)(void);

/* Word 0 is the initial stack pointer, then the exception handlers from reset (Armv7-M / Armv8-M ARM). */
typedef struct edgeq_vector_table {
    uint32_t *stack_top;
    edgeq_vector handlers[15 + EDGEQ_EXTERNAL_IRQS];
} edgeq_vector_table;

__attribute__((section(".vectors"), used)) const edgeq_vector_table edgeq_vectors = {
    __edgeq_stack_top,
    {
        edgeq_reset_handler,
        NMI_Handler,
        HardFault_Handler,
        MemManage_Handler,
        BusFault_Handler,
        UsageFault_Handler,
        SecureFault_Handler,
        0,
        0,
        0,
        SVC_Handler,
        DebugMon_Handler,
        0,
        PendSV_Handler,
        SysTick_Handler,
        EDGEQ_X48(edgeq_irq_handler),
    },
};

void edgeq_default_handler(void) {
    for (;;) {
    }
}

/* The FPU is switched on first: from here on the compiler may use its registers. */
__attribute__((noreturn)) void edgeq_reset_handler(void) {
    uint32_t *src = __edgeq_data_load;
    uint32_t *dst;
#if defined(__ARM_FP) || defined(__ARM_FEATURE_MVE)
    EDGEQ_CPACR |= EDGEQ_CPACR_CP10_CP11;
    __asm volatile("dsb\n\tisb" ::: "memory");
#endif
    for (dst = __edgeq_data_start; dst < __edgeq_data_end; ++dst, ++src) {
        *dst = *src;
    }
    for (dst = __edgeq_bss_start; dst < __edgeq_bss_end; ++dst) {
        *dst = 0u;
    }
    (void)main();
    for (;;) {
    }
}
