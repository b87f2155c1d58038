/* Runs every loop of loops.S twice (SHORT and LONG iterations), each between the hooks the cycle
 * plugin counts between, then exits through semihosting. */
#include <stdint.h>

#define SHORT 100u
#define LONG 1100u
typedef void (*loop_fn)(uint32_t iterations, uint32_t *buffer);
void loads(uint32_t, uint32_t *), chase(uint32_t, uint32_t *), doubles(uint32_t, uint32_t *);
void macs(uint32_t, uint32_t *), address(uint32_t, uint32_t *), stores(uint32_t, uint32_t *);
void branchy(uint32_t, uint32_t *), calls(uint32_t, uint32_t *);
void eq_op_begin(int call);
void eq_op_end(int call);
void reset(void);
static void semihost_exit(void);
extern uint32_t __stack_top;

__attribute__((noinline)) void eq_op_begin(int call) {
    (void)call;
    __asm__ volatile("" ::: "memory");
}
__attribute__((noinline)) void eq_op_end(int call) {
    (void)call;
    __asm__ volatile("" ::: "memory");
}

static uint32_t buffer[16] __attribute__((aligned(8)));
static const loop_fn loops[] = {loads, chase, doubles, macs, address, stores, branchy, calls};

void reset(void) {
    uint32_t i;
    buffer[0] = (uint32_t)(uintptr_t)buffer; /* chase: the buffer points at itself */
    for (i = 0; i < sizeof loops / sizeof loops[0]; ++i) {
        eq_op_begin((int)(2u * i));
        loops[i](SHORT, buffer);
        eq_op_end((int)(2u * i));
        eq_op_begin((int)(2u * i + 1u));
        loops[i](LONG, buffer);
        eq_op_end((int)(2u * i + 1u));
    }
    semihost_exit();
}

static void semihost_exit(void) {
    register uint32_t op __asm__("r0") = 0x18u;     /* SYS_EXIT */
    register uint32_t arg __asm__("r1") = 0x20026u; /* ADP_Stopped_ApplicationExit */
    __asm__ volatile("bkpt 0xab" : : "r"(op), "r"(arg) : "memory");
    for (;;) {
    }
}

__attribute__((section(".vectors"), used)) static const uintptr_t vectors[2] = {(uintptr_t)&__stack_top,
                                                                                (uintptr_t)reset};
