/* Vector table and reset handler for the arena benchmark firmware (QEMU mps2-an386, Cortex-M4F). */
#include <stdint.h>

extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[], __stack_top[];
extern void __libc_init_array(void);
int main(void);

void reset_handler(void) {
    uint32_t *src = __data_load, *dst = __data_start;
    while (dst < __data_end)
        *dst++ = *src++;
    for (dst = __bss_start; dst < __bss_end;)
        *dst++ = 0;
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20; /* FPU access */
    __asm volatile("dsb\n isb");
    __libc_init_array();
    main();
    for (;;) {
    }
}

/* A fault ends the run with "fault" on the semihosting console, so the host sees it at once. */
static void spin(void) {
    static const char text[] = "fault\n";
    register int r0 __asm__("r0") = 0x04;
    register const char *r1 __asm__("r1") = text;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    register int e0 __asm__("r0") = 0x18;
    register unsigned e1 __asm__("r1") = 0x20026u;
    __asm__ volatile("bkpt 0xab" : "+r"(e0) : "r"(e1) : "memory");
    for (;;) {
    }
}

__attribute__((section(".vectors"), used)) const void *vectors[16] = {
    __stack_top, reset_handler, spin, spin, spin, spin, spin, 0, 0, 0, 0, spin, spin, 0, spin, spin,
};

/* No crti/crtn with -nostartfiles: the hooks __libc_init_array calls. */
void _init(void) {
}
void _fini(void) {
}
