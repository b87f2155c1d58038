// API declarations for syntax checks of generated code (see tests/codegen/tflm_api/README.md).
#ifndef EDGEQ_TEST_TFLM_MICRO_MUTABLE_OP_RESOLVER_H
#define EDGEQ_TEST_TFLM_MICRO_MUTABLE_OP_RESOLVER_H
#include "tensorflow/lite/micro/common_api.h"
namespace tflite {
class MicroOpResolver {
 public:
  virtual ~MicroOpResolver() {}
};
template <unsigned int tOpCount>
class MicroMutableOpResolver : public MicroOpResolver {
 public:
#define EDGEQ_TEST_ADD(name) TfLiteStatus name() { return kTfLiteOk; }
#include "tensorflow/lite/micro/resolver_methods.inc"
#undef EDGEQ_TEST_ADD
};
}  // namespace tflite
#endif
