// Smallest TFLM arena for one model on the emulated Cortex-M4, found on the target itself.
//
// Built by scripts/bench_arena.py with the model array, a resolver of exactly
// its ops (ops.h) and either TFLM's reference kernels or CMSIS-NN. Given an
// arena size on the semihosting command line, tries that size once and prints
// `ok N` or `fail N`; without one, bisects in steps of 16 bytes for the
// smallest arena with which a fresh interpreter allocates and invokes the
// model (zero inputs) and prints `arena N`. Then exits QEMU. No heap, no
// stdio: semihosting calls directly.
#include <cstdint>
#include <cstring>
#include <new>

#include "bench_model_data.h"
#include "ops.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/schema/schema_generated.h"

namespace {
constexpr int kSysWrite0 = 0x04, kSysGetCmdline = 0x15, kSysExit = 0x18;
constexpr uintptr_t kApplicationExit = 0x20026;

int semihost(int op, uintptr_t arg) {
    register int r0 __asm__("r0") = op;
    register uintptr_t r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

// The arena size given on QEMU's semihosting command line ("arena N"), or 0 when there is none.
size_t size_from_cmdline() {
    static char text[64];
    struct {
        char *buffer;
        int length;
    } block = {text, sizeof text - 1};
    if (semihost(kSysGetCmdline, reinterpret_cast<uintptr_t>(&block)) != 0)
        return 0;
    size_t value = 0;
    for (const char *c = text; *c; ++c) {
        if (*c >= '0' && *c <= '9')
            value = value * 10 + static_cast<size_t>(*c - '0');
    }
    return value;
}

void report(const char *label, unsigned value) {
    char text[48];
    char digits[12];
    int n = 0;
    do {
        digits[n++] = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value);
    size_t len = std::strlen(label);
    std::memcpy(text, label, len);
    while (n)
        text[len++] = digits[--n];
    text[len++] = '\n';
    text[len] = 0;
    semihost(kSysWrite0, reinterpret_cast<uintptr_t>(text));
    semihost(kSysExit, kApplicationExit);
}

constexpr size_t kMaxArena = 1024 * 1024;
alignas(16) uint8_t arena[kMaxArena];
alignas(16) uint8_t interpreter_memory[sizeof(tflite::MicroInterpreter)];

bool runs_with(const tflite::Model *model, const bench_OpResolver &resolver, size_t size) {
    // Put the arena at the end of the buffer, as a static array of exactly `size` bytes would be.
    uint8_t *start = arena + kMaxArena - size;
    auto *interpreter = new (interpreter_memory) tflite::MicroInterpreter(model, resolver, start, size);
    bool ok = interpreter->AllocateTensors() == kTfLiteOk;
    if (ok) {
        for (size_t i = 0; i < interpreter->inputs_size(); ++i) {
            TfLiteTensor *input = interpreter->input(i);
            std::memset(input->data.raw, 0, input->bytes);
        }
        ok = interpreter->Invoke() == kTfLiteOk;
    }
    interpreter->~MicroInterpreter();
    return ok;
}
} // namespace

int main() {
    const tflite::Model *model = tflite::GetModel(bench_model_data);
    const bench_OpResolver resolver = bench_op_resolver();
    const size_t asked = size_from_cmdline();
    if (asked > 0 && asked <= kMaxArena) {
        // One try per run: a kernel that crashes near the limit ends only this run.
        report(runs_with(model, resolver, asked) ? "ok " : "fail ", static_cast<unsigned>(asked));
    }
    if (!runs_with(model, resolver, kMaxArena))
        report("error model does not run with ", kMaxArena);
    size_t low = 0, high = kMaxArena / 16; // in units of 16 bytes: low fails, high works
    while (high - low > 1) {
        const size_t mid = (low + high) / 2;
        if (runs_with(model, resolver, mid * 16))
            high = mid;
        else
            low = mid;
    }
    report("arena ", static_cast<unsigned>(high * 16));
    return 0;
}
