/*
 * arduino.h -- the few Arduino core declarations edgeq_platform_arduino.cpp uses, for a host syntax check.
 *
 * Not the Arduino API: only the names and signatures the board layer calls
 * (Arduino language reference), so g++ can check the file without a core.
 * test_skeletons.py force-includes it and makes <Arduino.h> an empty file.
 */
#include <stddef.h>
#include <stdint.h>

#define HIGH 0x1
#define LOW 0x0
#define OUTPUT 0x1

class StubSerial {
  public:
    void begin(unsigned long baud);
    int available();
    int read();
    size_t write(const uint8_t *buffer, size_t size);
    explicit operator bool();
};

extern StubSerial Serial;

unsigned long micros();
void pinMode(uint8_t pin, uint8_t mode);
void digitalWrite(uint8_t pin, uint8_t value);
