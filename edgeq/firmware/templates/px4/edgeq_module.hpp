/*
 * edgeq_module.hpp -- part of edgeq; copied unchanged into generated PX4 modules.
 *
 * The PX4 half of the module: a work item that runs whenever the edgeq_input topic
 * is published, hands its float values to edgeq_px4_infer() (the portable half,
 * plain C: edgeq_px4_infer.c) and publishes edgeq_output after every inference.
 * EQ_EN (module.yaml) switches inference off and on at run time; the perf
 * counter "<module>: infer" records the time of every inference.
 *
 * ModuleBase: PX4 releases derive modules from ModuleBase<T>; newer PX4 trees
 * have a ModuleBase with a static Descriptor instead. CMakeLists.txt looks at
 * the tree's px4_platform_common/module.h and defines EDGEQ_PX4_MODULE_DESCRIPTOR
 * for the latter.
 */
#pragma once

#include <px4_platform_common/defines.h>
#include <px4_platform_common/module.h>
#include <px4_platform_common/module_params.h>
#include <px4_platform_common/px4_work_queue/ScheduledWorkItem.hpp>

#include <drivers/drv_hrt.h>
#include <perf/perf_counter.h>
#include <uORB/Publication.hpp>
#include <uORB/SubscriptionInterval.hpp>
#include <uORB/SubscriptionCallback.hpp>
#include <uORB/topics/edgeq_input.h>
#include <uORB/topics/edgeq_output.h>
#include <uORB/topics/parameter_update.h>

#include "edgeq_px4_infer.h"

class EdgeqModule;

#ifdef EDGEQ_PX4_MODULE_DESCRIPTOR
typedef ModuleBase EdgeqModuleBase;
#else
typedef ModuleBase<EdgeqModule> EdgeqModuleBase;
#endif

class EdgeqModule : public EdgeqModuleBase, public ModuleParams, public px4::ScheduledWorkItem {
  public:
    EdgeqModule();
    ~EdgeqModule() override;

#ifdef EDGEQ_PX4_MODULE_DESCRIPTOR
    static ModuleBase::Descriptor desc;
#endif

    /** @see ModuleBase */
    static int task_spawn(int argc, char *argv[]);

    /** @see ModuleBase */
    static int custom_command(int argc, char *argv[]);

    /** @see ModuleBase */
    static int print_usage(const char *reason = nullptr);

    /** @see ModuleBase */
    int print_status() override;

    /** Register the callback on edgeq_input; false when uORB refuses it. */
    bool init();

  private:
    void Run() override;
    void publish(const edgeq_px4_result &result, hrt_abstime input_timestamp, hrt_abstime elapsed_us);

    uORB::SubscriptionCallbackWorkItem _input_sub{this, ORB_ID(edgeq_input)};
    uORB::SubscriptionInterval _parameter_update_sub{ORB_ID(parameter_update), 1000000}; /* at most once a second */
    uORB::Publication<edgeq_output_s> _output_pub{ORB_ID(edgeq_output)};

    /* Members rather than locals: the messages can be larger than a work queue's stack allows. */
    edgeq_input_s _input{};
    edgeq_output_s _output{};
    edgeq_px4_result _result{};

    perf_counter_t _infer_perf;
    perf_counter_t _error_perf;
    uint32_t _inferences{0};

    DEFINE_PARAMETERS((ParamBool<px4::params::EQ_EN>)_param_eq_en)
};
