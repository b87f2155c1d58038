// API declarations for syntax checks of generated code (see tests/codegen/tflm_api/README.md).
#ifndef EDGEQ_TEST_TFLM_SYSTEM_SETUP_H
#define EDGEQ_TEST_TFLM_SYSTEM_SETUP_H
namespace tflite {
void InitializeTarget();
}
#endif
