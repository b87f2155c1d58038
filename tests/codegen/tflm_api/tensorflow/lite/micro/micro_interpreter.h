// API declarations for syntax checks of generated code (see tests/codegen/tflm_api/README.md).
#ifndef EDGEQ_TEST_TFLM_MICRO_INTERPRETER_H
#define EDGEQ_TEST_TFLM_MICRO_INTERPRETER_H
#include "tensorflow/lite/micro/common_api.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
namespace tflite {
struct Model {
  uint32_t version() const;
};
const Model* GetModel(const void* buf);
class MicroInterpreter {
 public:
  MicroInterpreter(const Model* model, const MicroOpResolver& op_resolver, uint8_t* tensor_arena, size_t tensor_arena_size);
  TfLiteStatus AllocateTensors();
  TfLiteStatus Invoke();
  TfLiteTensor* input(size_t index);
  TfLiteTensor* output(size_t index);
};
}  // namespace tflite
#endif
