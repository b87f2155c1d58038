// TFLM's log and clock hooks for the arena benchmark firmware: logs are dropped
// (the bisection makes TFLM refuse on purpose), time is not used.
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>

extern "C" void DebugLog(const char *format, va_list args) {
    (void)format;
    (void)args;
}

extern "C" int DebugVsnprintf(char *buffer, size_t buf_size, const char *format, va_list vlist) {
    return vsnprintf(buffer, buf_size, format, vlist);
}

namespace tflite {
uint32_t ticks_per_second() {
    return 0;
}
uint32_t GetCurrentTimeTicks() {
    return 0;
}
void InitializeTarget() {
}
} // namespace tflite
