// API declarations for syntax checks of generated code (see tests/codegen/tflm_api/README.md).
#ifndef EDGEQ_TEST_TFLM_COMMON_API_H
#define EDGEQ_TEST_TFLM_COMMON_API_H
#include <cstddef>
#include <cstdint>
typedef enum TfLiteStatus { kTfLiteOk = 0, kTfLiteError = 1 } TfLiteStatus;
typedef enum { kTfLiteNoType = 0, kTfLiteFloat32 = 1, kTfLiteInt32 = 2, kTfLiteUInt8 = 3, kTfLiteInt16 = 7, kTfLiteInt8 = 9 } TfLiteType;
typedef struct { int size; int data[8]; } TfLiteIntArray;
typedef struct { float scale; int32_t zero_point; } TfLiteQuantizationParams;
typedef union { int32_t* i32; float* f; int16_t* i16; uint8_t* uint8; int8_t* int8; void* raw; } TfLitePtrUnion;
typedef struct TfLiteTensor {
  TfLiteType type;
  TfLitePtrUnion data;
  TfLiteIntArray* dims;
  TfLiteQuantizationParams params;
  size_t bytes;
} TfLiteTensor;
#endif
