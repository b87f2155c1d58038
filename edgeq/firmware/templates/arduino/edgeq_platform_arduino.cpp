/*
 * edgeq_platform_arduino.cpp -- part of edgeq; copied unchanged into Arduino sketches (src/).
 *
 * edgeq_platform.h on the Arduino core API, for 32-bit boards (Nano 33 BLE
 * Sense, Nano RP2040 Connect, Portenta, ESP32-S3 with the Arduino core, ...):
 * the link is `Serial` (the USB CDC port on native-USB boards, the USB-UART
 * bridge elsewhere), time is micros() widened to 64 bits, and the energy-mode
 * timestamp pin is EDGEQ_TIMESTAMP_PIN when the sketch defines one.
 *
 * read_char() does not wait: it returns EDGEQ_PLATFORM_NO_CHAR when nothing has
 * arrived, so loop() stays short and the core can run its own housekeeping.
 */
#include <Arduino.h>

#include "edgeq_platform.h"

#ifndef EDGEQ_BAUD
#define EDGEQ_BAUD 115200
#endif
/* An output pin number, or -1 for none. Define it (for example with
 * --build-property "compiler.cpp.extra_flags=-DEDGEQ_TIMESTAMP_PIN=2") to use energy mode. */
#ifndef EDGEQ_TIMESTAMP_PIN
#define EDGEQ_TIMESTAMP_PIN -1
#endif

/* micros() widened to 64 bits: the last 32-bit reading and the wraps seen so far.
 * micros() wraps every 71.6 minutes; read_char() calls micros64() on every poll,
 * so no wrap goes unseen while the sketch runs. */
static uint32_t last_micros = 0u;
static uint32_t micros_wraps = 0u;
static uint32_t boot_micros = 0u;

static uint64_t micros64(void) {
    uint32_t now = (uint32_t)micros();
    if (now < last_micros) {
        ++micros_wraps;
    }
    last_micros = now;
    return ((uint64_t)micros_wraps << 32) | now;
}

extern "C" void edgeq_platform_init(void) {
    Serial.begin(EDGEQ_BAUD);
    while (!Serial) {
        /* native USB: wait for the host to open the port, so it sees the boot banner */
    }
#if EDGEQ_TIMESTAMP_PIN >= 0
    pinMode(EDGEQ_TIMESTAMP_PIN, OUTPUT);
    digitalWrite(EDGEQ_TIMESTAMP_PIN, HIGH);
#endif
    last_micros = (uint32_t)micros();
    micros_wraps = 0u;
    boot_micros = last_micros;
}

extern "C" int edgeq_platform_read_char(void) {
    (void)micros64();
    if (Serial.available() <= 0) {
        return EDGEQ_PLATFORM_NO_CHAR;
    }
    int ch = Serial.read();
    return ch < 0 ? EDGEQ_PLATFORM_NO_CHAR : ch;
}

extern "C" void edgeq_platform_write(const char *s, size_t n) {
    Serial.write(reinterpret_cast<const uint8_t *>(s), n);
}

extern "C" uint64_t edgeq_platform_micros(void) {
    return micros64() - boot_micros;
}

extern "C" void edgeq_platform_timestamp_pin(int level) {
#if EDGEQ_TIMESTAMP_PIN >= 0
    digitalWrite(EDGEQ_TIMESTAMP_PIN, level ? HIGH : LOW);
#else
    (void)level;
#endif
}
