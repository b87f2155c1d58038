// API declarations for syntax checks of generated code (see tests/codegen/tflm_api/README.md).
#ifndef EDGEQ_TEST_TFLM_SCHEMA_GENERATED_H
#define EDGEQ_TEST_TFLM_SCHEMA_GENERATED_H
#define TFLITE_SCHEMA_VERSION (3)
#endif
