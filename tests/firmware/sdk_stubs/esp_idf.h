/*
 * esp_idf.h -- the few ESP-IDF v5 declarations edgeq_platform_espidf.c uses, for a host syntax check.
 *
 * Not ESP-IDF: only the types and signatures the board layer calls, as the
 * ESP-IDF API reference gives them (UART driver, GPIO, esp_timer, esp_err).
 * test_skeletons.py force-includes it and makes the ESP-IDF headers empty files.
 */
#include <stddef.h>
#include <stdint.h>

typedef int esp_err_t;
#define ESP_OK 0
void edgeq_stub_check(esp_err_t rc);
#define ESP_ERROR_CHECK(x) edgeq_stub_check(x)

typedef uint32_t TickType_t;
#define portMAX_DELAY ((TickType_t)0xffffffffUL)
typedef void *QueueHandle_t;

typedef int uart_port_t;
#define UART_NUM_0 ((uart_port_t)0)
#define UART_NUM_1 ((uart_port_t)1)
typedef enum { UART_DATA_5_BITS, UART_DATA_6_BITS, UART_DATA_7_BITS, UART_DATA_8_BITS } uart_word_length_t;
typedef enum { UART_PARITY_DISABLE, UART_PARITY_EVEN = 2, UART_PARITY_ODD } uart_parity_t;
typedef enum { UART_STOP_BITS_1 = 1, UART_STOP_BITS_1_5, UART_STOP_BITS_2 } uart_stop_bits_t;
typedef enum { UART_HW_FLOWCTRL_DISABLE, UART_HW_FLOWCTRL_RTS, UART_HW_FLOWCTRL_CTS } uart_hw_flowcontrol_t;
typedef enum { UART_SCLK_DEFAULT = 4 } uart_sclk_t;
typedef struct {
    int baud_rate;
    uart_word_length_t data_bits;
    uart_parity_t parity;
    uart_stop_bits_t stop_bits;
    uart_hw_flowcontrol_t flow_ctrl;
    uint8_t rx_flow_ctrl_thresh;
    uart_sclk_t source_clk;
} uart_config_t;
esp_err_t uart_driver_install(uart_port_t uart_num, int rx_buffer_size, int tx_buffer_size, int queue_size,
                              QueueHandle_t *uart_queue, int intr_alloc_flags);
esp_err_t uart_param_config(uart_port_t uart_num, const uart_config_t *uart_config);
int uart_read_bytes(uart_port_t uart_num, void *buf, uint32_t length, TickType_t ticks_to_wait);
int uart_write_bytes(uart_port_t uart_num, const void *src, size_t size);

typedef enum { GPIO_NUM_0 = 0, GPIO_NUM_4 = 4 } gpio_num_t;
typedef enum { GPIO_MODE_INPUT = 1, GPIO_MODE_OUTPUT = 2 } gpio_mode_t;
esp_err_t gpio_reset_pin(gpio_num_t gpio_num);
esp_err_t gpio_set_direction(gpio_num_t gpio_num, gpio_mode_t mode);
esp_err_t gpio_set_level(gpio_num_t gpio_num, uint32_t level);

int64_t esp_timer_get_time(void);
