/*
 * skeleton_host.c -- the board layer of the skeletons (edgeq skeleton) on the host, for tests.
 *
 * edgeq_platform.h over stdin/stdout (the tests put a pty there, like a board's
 * USB serial port), linked with a skeleton's portable sources (engine, protocol,
 * glue) in place of its SDK's platform file. The skeleton's own entry point
 * runs unchanged: Zephyr's main(); ESP-IDF's app_main(), called by the main()
 * below when built with -DEDGEQ_HOST_APP_MAIN; Arduino's setup()/loop(), called
 * by skeleton_host_arduino.cpp, which stops when edgeq_host_input_closed is set.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <time.h>

#include "edgeq_platform.h"

/* Set once stdin is at its end (read_char() returned EDGEQ_PLATFORM_EOF). */
int edgeq_host_input_closed;

static struct timespec boot_time;

void edgeq_platform_init(void) {
    clock_gettime(CLOCK_MONOTONIC, &boot_time);
}

int edgeq_platform_read_char(void) {
    int c = getchar();
    if (c == EOF) {
        edgeq_host_input_closed = 1;
        return EDGEQ_PLATFORM_EOF;
    }
    return c;
}

void edgeq_platform_write(const char *s, size_t n) {
    fwrite(s, 1, n, stdout);
    fflush(stdout);
}

uint64_t edgeq_platform_micros(void) {
    struct timespec now;
    int64_t ns;
    clock_gettime(CLOCK_MONOTONIC, &now);
    ns = (int64_t)(now.tv_sec - boot_time.tv_sec) * 1000000000 + (now.tv_nsec - boot_time.tv_nsec);
    return (uint64_t)(ns / 1000);
}

void edgeq_platform_timestamp_pin(int level) {
    (void)level;
}

#ifdef EDGEQ_HOST_APP_MAIN
void app_main(void);

int main(void) {
    app_main();
    return 0;
}
#endif
