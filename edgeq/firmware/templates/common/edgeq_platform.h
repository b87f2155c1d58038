/*
 * edgeq_platform.h -- part of edgeq; copied unchanged into generated firmware.
 *
 * The board interface the DUT protocol (edgeq_dut.c) needs: a serial link, a
 * microsecond timer and one GPIO. Each board (host, QEMU Cortex-M, real MCUs)
 * provides these functions in its own source file; this header only declares
 * them. None of them is called from an interrupt handler by edgeq.
 */
#ifndef EDGEQ_PLATFORM_H
#define EDGEQ_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* edgeq_platform_read_char(): nothing was read (timeout or a line error); the caller keeps reading. */
#define EDGEQ_PLATFORM_NO_CHAR (-1)
/* edgeq_platform_read_char(): the input is closed for good (end of stdin on a host build);
 * edgeq_dut_serve_forever() returns. Boards never return it. */
#define EDGEQ_PLATFORM_EOF (-2)

/* Bring up the serial link (115200 8N1 unless the board says otherwise), the
 * microsecond timer (its zero is "boot") and the timestamp pin as an output
 * (edgeq_dut_init() drives it high in energy mode). Called once, first. */
void edgeq_platform_init(void);

/* Wait for one received byte and return it (0..255); EDGEQ_PLATFORM_NO_CHAR
 * when nothing arrived or the link reported an error, EDGEQ_PLATFORM_EOF when
 * the input is closed for good. */
int edgeq_platform_read_char(void);

/* Send n bytes (not NUL-terminated; may contain no newline) and return when
 * they are handed to the transmitter. Lines are written in one or more calls. */
void edgeq_platform_write(const char *s, size_t n);

/* Microseconds since edgeq_platform_init(), from a timer of at least 1 kHz,
 * monotonic; wrapping is the board's business (64 bits do not wrap). */
uint64_t edgeq_platform_micros(void);

/* Drive the energy-mode timestamp GPIO: 0 = low, 1 = high. The power monitor
 * marks a timestamp at each falling edge. A no-op on boards without one. */
void edgeq_platform_timestamp_pin(int level);

#ifdef EDGEQ_PLATFORM_TIMER_SYNC
/* Optional, for builds that define EDGEQ_PLATFORM_TIMER_SYNC: wait for the
 * timer's next tick. The DUT calls it just before the first timestamp of
 * `infer`, so the timed runs start at a fixed phase of the microsecond clock
 * and, on a deterministic machine (QEMU -icount), the same runs always give
 * the same m-lap-us difference. */
void edgeq_platform_timer_sync(void);
#endif

#ifdef __cplusplus
}
#endif

#endif /* EDGEQ_PLATFORM_H */
