/*
 * edgeq_platform_espidf.c -- part of edgeq; copied unchanged into ESP-IDF projects.
 *
 * edgeq_platform.h on ESP-IDF (v5.x; ESP32, ESP32-S3, ESP32-C3, ...): the link
 * is UART EDGEQ_UART (default UART0, the port of the USB-UART bridge on
 * DevKit boards) through the UART driver, time is esp_timer_get_time(), and the
 * energy-mode timestamp pin is EDGEQ_TIMESTAMP_GPIO when it is defined.
 *
 * Nothing else may write to that UART while the DUT runs: sdkconfig.defaults
 * lowers the log level to errors and stops the idle-task watchdog, whose
 * warnings would land in the middle of a reply during long inferences.
 */
#include <stddef.h>
#include <stdint.h>

#include "driver/gpio.h"
#include "driver/uart.h"
#include "esp_err.h"
#include "esp_timer.h"
#include "freertos/FreeRTOS.h"

#include "edgeq_platform.h"

#ifndef EDGEQ_UART
#define EDGEQ_UART UART_NUM_0
#endif
#ifndef EDGEQ_BAUD
#define EDGEQ_BAUD 115200
#endif
/* Receive ring buffer of the driver: a few commands of 80 characters. */
#define EDGEQ_UART_RX_BUFFER 1024

static int64_t boot_us;

void edgeq_platform_init(void) {
    uart_config_t config = {
        .baud_rate = EDGEQ_BAUD,
        .data_bits = UART_DATA_8_BITS,
        .parity = UART_PARITY_DISABLE,
        .stop_bits = UART_STOP_BITS_1,
        .flow_ctrl = UART_HW_FLOWCTRL_DISABLE,
        .source_clk = UART_SCLK_DEFAULT,
    };
    /* No TX buffer: uart_write_bytes() returns once the bytes are in the hardware FIFO. */
    ESP_ERROR_CHECK(uart_driver_install(EDGEQ_UART, EDGEQ_UART_RX_BUFFER, 0, 0, NULL, 0));
    ESP_ERROR_CHECK(uart_param_config(EDGEQ_UART, &config));
#ifdef EDGEQ_TIMESTAMP_GPIO
    gpio_reset_pin((gpio_num_t)EDGEQ_TIMESTAMP_GPIO);
    gpio_set_direction((gpio_num_t)EDGEQ_TIMESTAMP_GPIO, GPIO_MODE_OUTPUT);
    gpio_set_level((gpio_num_t)EDGEQ_TIMESTAMP_GPIO, 1);
#endif
    boot_us = esp_timer_get_time();
}

/* Blocks (the task sleeps) until a byte arrives. */
int edgeq_platform_read_char(void) {
    uint8_t ch;
    return uart_read_bytes(EDGEQ_UART, &ch, 1, portMAX_DELAY) == 1 ? (int)ch : EDGEQ_PLATFORM_NO_CHAR;
}

void edgeq_platform_write(const char *s, size_t n) {
    uart_write_bytes(EDGEQ_UART, s, n);
}

uint64_t edgeq_platform_micros(void) {
    return (uint64_t)(esp_timer_get_time() - boot_us);
}

void edgeq_platform_timestamp_pin(int level) {
#ifdef EDGEQ_TIMESTAMP_GPIO
    gpio_set_level((gpio_num_t)EDGEQ_TIMESTAMP_GPIO, level ? 1u : 0u);
#else
    (void)level;
#endif
}
