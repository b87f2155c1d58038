/*
 * edgeq_platform_zephyr.c -- part of edgeq; copied unchanged into Zephyr applications.
 *
 * edgeq_platform.h on Zephyr (3.4 or later; nRF5340-DK, nRF52840-DK, NUCLEO
 * boards, any board whose console is a UART):
 * - link: the UART chosen as `edgeq,uart` in the devicetree, else the console
 *   UART (`zephyr,console`). Received bytes go from the UART interrupt into a
 *   ring buffer; read_char() sleeps on a semaphore until one is there. Bytes
 *   are sent with uart_poll_out(). Define EDGEQ_BAUD to change the baud rate
 *   at run time (otherwise the devicetree's current-speed, usually 115200).
 * - time: the kernel cycle counter (k_cycle_get_64(), or k_cycle_get_32()
 *   widened to 64 bits), in microseconds with k_cyc_to_us_floor64(). Its
 *   resolution is the system timer's: the CPU clock on SysTick boards, 30.5 us
 *   on nRF boards (32768 Hz RTC).
 * - timestamp pin: the GPIO aliased `edgeq-timestamp`, if the devicetree has it.
 * prj.conf keeps printk, logging and the boot banner off: nothing else may
 * write to the UART while the DUT runs.
 */
#include <stddef.h>
#include <stdint.h>

#include <zephyr/device.h>
#include <zephyr/devicetree.h>
#include <zephyr/drivers/gpio.h>
#include <zephyr/drivers/uart.h>
#include <zephyr/kernel.h>

#include "edgeq_platform.h"

#if DT_HAS_CHOSEN(edgeq_uart)
#define EDGEQ_UART_NODE DT_CHOSEN(edgeq_uart)
#else
#define EDGEQ_UART_NODE DT_CHOSEN(zephyr_console)
#endif

#if DT_NODE_EXISTS(DT_ALIAS(edgeq_timestamp))
#define EDGEQ_HAVE_TIMESTAMP_PIN 1
static const struct gpio_dt_spec timestamp_pin = GPIO_DT_SPEC_GET(DT_ALIAS(edgeq_timestamp), gpios);
#endif

/* Received bytes (a power of two; hosts send one command of at most 80 characters at a time). */
#define RX_RING_BYTES 256u
/* While waiting for input, read the cycle counter at least this often, so a 32-bit counter's wraps are seen. */
#define IDLE_POLL_MS 1000

static const struct device *const uart = DEVICE_DT_GET(EDGEQ_UART_NODE);
/* Single producer (the UART interrupt advances rx_head), single consumer (read_char advances rx_tail). */
static volatile uint8_t rx_ring[RX_RING_BYTES];
static volatile uint32_t rx_head;
static volatile uint32_t rx_tail;
static K_SEM_DEFINE(rx_ready, 0, 1);
static uint64_t boot_cycles;

static void uart_isr(const struct device *dev, void *user_data) {
    uint8_t buf[16];
    int n, i;
    (void)user_data;
    if (uart_irq_update(dev) < 0) {
        return;
    }
    while (uart_irq_rx_ready(dev) > 0) {
        n = uart_fifo_read(dev, buf, (int)sizeof buf);
        if (n <= 0) {
            break;
        }
        for (i = 0; i < n; ++i) {
            if (rx_head - rx_tail < RX_RING_BYTES) { /* a full ring drops bytes: the host overran the DUT */
                rx_ring[rx_head % RX_RING_BYTES] = buf[i];
                rx_head = rx_head + 1u;
            }
        }
        k_sem_give(&rx_ready);
    }
}

static uint64_t cycles64(void) {
#ifdef CONFIG_TIMER_HAS_64BIT_CYCLE_COUNTER
    return k_cycle_get_64();
#else
    static uint32_t last;
    static uint64_t wraps;
    uint32_t now = k_cycle_get_32();
    if (now < last) {
        wraps += (uint64_t)1 << 32;
    }
    last = now;
    return wraps | now;
#endif
}

static void set_baud(void) {
#ifdef EDGEQ_BAUD
    struct uart_config config;
    if (uart_config_get(uart, &config) == 0) {
        config.baudrate = EDGEQ_BAUD;
        (void)uart_configure(uart, &config);
    }
#endif
}

void edgeq_platform_init(void) {
    boot_cycles = cycles64();
    if (!device_is_ready(uart)) {
        return; /* nothing to talk over: read_char() waits for ever */
    }
    set_baud();
    (void)uart_irq_callback_user_data_set(uart, uart_isr, NULL);
    uart_irq_rx_enable(uart);
#ifdef EDGEQ_HAVE_TIMESTAMP_PIN
    if (gpio_is_ready_dt(&timestamp_pin)) {
        (void)gpio_pin_configure_dt(&timestamp_pin, GPIO_OUTPUT_ACTIVE);
    }
#endif
}

int edgeq_platform_read_char(void) {
    int ch;
    while (rx_tail == rx_head) {
        (void)k_sem_take(&rx_ready, K_MSEC(IDLE_POLL_MS));
        (void)cycles64();
    }
    ch = rx_ring[rx_tail % RX_RING_BYTES];
    rx_tail = rx_tail + 1u;
    return ch;
}

void edgeq_platform_write(const char *s, size_t n) {
    size_t i;
    for (i = 0; i < n; ++i) {
        uart_poll_out(uart, (unsigned char)s[i]);
    }
}

uint64_t edgeq_platform_micros(void) {
    return k_cyc_to_us_floor64(cycles64() - boot_cycles);
}

void edgeq_platform_timestamp_pin(int level) {
#ifdef EDGEQ_HAVE_TIMESTAMP_PIN
    (void)gpio_pin_set_dt(&timestamp_pin, level ? 1 : 0);
#else
    (void)level;
#endif
}
