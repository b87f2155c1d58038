/*
 * edgeq_module.cpp -- part of edgeq; copied unchanged into generated PX4 modules.
 *
 * See edgeq_module.hpp. CMakeLists.txt defines EDGEQ_PX4_MAIN, the module's entry
 * point (<module>_main), and EDGEQ_PX4_MODULE_DESCRIPTOR on PX4 trees whose
 * ModuleBase takes a Descriptor.
 */
#include "edgeq_module.hpp"

#include <string.h>

#include <px4_platform_common/log.h>

#ifndef EDGEQ_PX4_MAIN
#error "EDGEQ_PX4_MAIN (the module's entry point, <module>_main) is set by CMakeLists.txt"
#endif

/* The messages must have the sizes the engine needs (EdgeqInput.msg and EdgeqOutput.msg are
 * generated with them; an edited .msg fails here, not at run time). */
static_assert(sizeof(edgeq_input_s::values) == EDGEQ_PX4_INPUT_VALUES * sizeof(float),
              "EdgeqInput.msg values[] does not match the engine's input");
static_assert(sizeof(edgeq_output_s::values) == EDGEQ_PX4_OUTPUT_VALUES * sizeof(float),
              "EdgeqOutput.msg values[] does not match the engine's outputs");

#ifdef EDGEQ_PX4_MODULE_DESCRIPTOR
ModuleBase::Descriptor EdgeqModule::desc{task_spawn, custom_command, print_usage};
#endif

EdgeqModule::EdgeqModule()
    : ModuleParams(nullptr), ScheduledWorkItem(MODULE_NAME, px4::wq_configurations::lp_default),
      _infer_perf(perf_alloc(PC_ELAPSED, MODULE_NAME ": infer")),
      _error_perf(perf_alloc(PC_COUNT, MODULE_NAME ": errors")) {
}

EdgeqModule::~EdgeqModule() {
    perf_free(_infer_perf);
    perf_free(_error_perf);
}

bool EdgeqModule::init() {
    if (!_input_sub.registerCallback()) {
        PX4_ERR("callback registration on edgeq_input failed");
        return false;
    }
    return true;
}

void EdgeqModule::Run() {
    if (should_exit()) {
        _input_sub.unregisterCallback();
#ifdef EDGEQ_PX4_MODULE_DESCRIPTOR
        exit_and_cleanup(desc);
#else
        exit_and_cleanup();
#endif
        return;
    }
    if (_parameter_update_sub.updated()) {
        parameter_update_s update;
        _parameter_update_sub.copy(&update);
        updateParams();
    }
    if (!_input_sub.update(&_input) || !_param_eq_en.get()) {
        return;
    }
    const hrt_abstime start = hrt_absolute_time();
    const int status = edgeq_px4_infer(_input.values, EDGEQ_PX4_INPUT_VALUES, &_result);
    const hrt_abstime elapsed = hrt_absolute_time() - start;
    if (status != EDGEQ_PX4_OK) {
        perf_count(_error_perf);
        return;
    }
    perf_set_elapsed(_infer_perf, static_cast<int64_t>(elapsed));
    publish(_result, _input.timestamp, elapsed);
}

void EdgeqModule::publish(const edgeq_px4_result &result, hrt_abstime input_timestamp, hrt_abstime elapsed_us) {
    _output.timestamp_sample = input_timestamp;
    memcpy(_output.values, result.outputs, sizeof(_output.values));
    _output.top1 = result.top1;
    _output.inference_us = static_cast<uint32_t>(elapsed_us);
    _output.timestamp = hrt_absolute_time();
    _output_pub.publish(_output);
    _inferences++;
}

int EdgeqModule::task_spawn(int argc, char *argv[]) {
    (void)argc;
    (void)argv;
    EdgeqModule *instance = new EdgeqModule();
    if (instance == nullptr) {
        PX4_ERR("alloc failed");
        return PX4_ERROR;
    }
#ifdef EDGEQ_PX4_MODULE_DESCRIPTOR
    desc.object.store(instance);
    desc.task_id = task_id_is_work_queue;
#else
    _object.store(instance);
    _task_id = task_id_is_work_queue;
#endif
    if (instance->init()) {
        return PX4_OK;
    }
    delete instance;
#ifdef EDGEQ_PX4_MODULE_DESCRIPTOR
    desc.object.store(nullptr);
    desc.task_id = -1;
#else
    _object.store(nullptr);
    _task_id = -1;
#endif
    return PX4_ERROR;
}

int EdgeqModule::print_status() {
    PX4_INFO("inference %s, %u inferences published, %u input values, %u output values",
             _param_eq_en.get() ? "enabled (EQ_EN 1)" : "disabled (EQ_EN 0)", static_cast<unsigned>(_inferences),
             static_cast<unsigned>(EDGEQ_PX4_INPUT_VALUES), static_cast<unsigned>(EDGEQ_PX4_OUTPUT_VALUES));
    perf_print_counter(_infer_perf);
    perf_print_counter(_error_perf);
    return 0;
}

int EdgeqModule::custom_command(int argc, char *argv[]) {
    (void)argc;
    (void)argv;
    return print_usage("unknown command");
}

int EdgeqModule::print_usage(const char *reason) {
    if (reason != nullptr) {
        PX4_WARN("%s", reason);
    }
    PRINT_MODULE_DESCRIPTION(R"DESCR_STR(
### Description
Runs an edgeq compiled engine (int8 model, plain C, no interpreter) on every
edgeq_input message: its float values are quantized, the engine runs, and the
dequantized outputs, the top-1 index and the inference time are published as
edgeq_output. EQ_EN 0 stops inference without stopping the module.
)DESCR_STR");
    PRINT_MODULE_USAGE_NAME(MODULE_NAME, "system");
    PRINT_MODULE_USAGE_COMMAND("start");
    PRINT_MODULE_USAGE_DEFAULT_COMMANDS();
    return 0;
}

extern "C" __EXPORT int EDGEQ_PX4_MAIN(int argc, char *argv[]) {
#ifdef EDGEQ_PX4_MODULE_DESCRIPTOR
    return ModuleBase::main(EdgeqModule::desc, argc, argv);
#else
    return EdgeqModule::main(argc, argv);
#endif
}
