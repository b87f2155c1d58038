/*
 * zephyr.h -- the few Zephyr (3.4+) declarations edgeq_platform_zephyr.c uses, for a host syntax check.
 *
 * Not Zephyr: only the types, macros and signatures the board layer uses, as
 * the Zephyr API reference gives them (devicetree, device, UART interrupt and
 * polling API, GPIO dt-spec API, kernel semaphores and cycle counter), with
 * devicetree macros reduced to plain tokens. test_skeletons.py force-includes
 * it and makes the <zephyr/...> headers empty files.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct device {
    const char *name;
};
extern const struct device edgeq_stub_device;
bool device_is_ready(const struct device *dev);

#define DT_CHOSEN(prop) prop
#define DT_ALIAS(alias) alias
#define DT_HAS_CHOSEN(prop) 0
#ifndef EDGEQ_STUB_NODE_EXISTS
#define EDGEQ_STUB_NODE_EXISTS 1 /* -DEDGEQ_STUB_NODE_EXISTS=0: a devicetree without the alias */
#endif
#define DT_NODE_EXISTS(node) EDGEQ_STUB_NODE_EXISTS
#define DEVICE_DT_GET(node) (&edgeq_stub_device)

typedef void (*uart_irq_callback_user_data_t)(const struct device *dev, void *user_data);
struct uart_config {
    uint32_t baudrate;
    uint8_t parity;
    uint8_t stop_bits;
    uint8_t data_bits;
    uint8_t flow_ctrl;
};
int uart_irq_callback_user_data_set(const struct device *dev, uart_irq_callback_user_data_t cb, void *user_data);
void uart_irq_rx_enable(const struct device *dev);
int uart_irq_update(const struct device *dev);
int uart_irq_rx_ready(const struct device *dev);
int uart_fifo_read(const struct device *dev, uint8_t *rx_data, const int size);
void uart_poll_out(const struct device *dev, unsigned char out_char);
int uart_config_get(const struct device *dev, struct uart_config *cfg);
int uart_configure(const struct device *dev, const struct uart_config *cfg);

typedef uint8_t gpio_pin_t;
typedef uint16_t gpio_dt_flags_t;
typedef uint32_t gpio_flags_t;
struct gpio_dt_spec {
    const struct device *port;
    gpio_pin_t pin;
    gpio_dt_flags_t dt_flags;
};
#define GPIO_DT_SPEC_GET(node, prop)                                                                                   \
    { &edgeq_stub_device, 4, 0 }
#define GPIO_OUTPUT_ACTIVE ((gpio_flags_t)0x1e)
bool gpio_is_ready_dt(const struct gpio_dt_spec *spec);
int gpio_pin_configure_dt(const struct gpio_dt_spec *spec, gpio_flags_t extra_flags);
int gpio_pin_set_dt(const struct gpio_dt_spec *spec, int value);

typedef struct {
    int64_t ticks;
} k_timeout_t;
struct k_sem {
    unsigned int count;
    unsigned int limit;
};
#define K_SEM_DEFINE(name, initial_count, count_limit) struct k_sem name = {initial_count, count_limit}
k_timeout_t K_MSEC(int32_t ms);
int k_sem_take(struct k_sem *sem, k_timeout_t timeout);
void k_sem_give(struct k_sem *sem);
uint32_t k_cycle_get_32(void);
uint64_t k_cycle_get_64(void);
uint64_t k_cyc_to_us_floor64(uint64_t t);
