/* Declaration-only stand-in for the uORB topic header PX4 generates from msg/ParameterUpdate.msg. */
#pragma once

#include <stdint.h>

#include <uORB/uORB.h>

struct parameter_update_s {
    uint64_t timestamp;
    uint32_t instance;
    uint32_t get_count;
    uint32_t set_count;
    uint32_t find_count;
    uint32_t export_count;
    uint16_t active;
    uint16_t changed;
    uint16_t custom_default;
};

ORB_DECLARE(parameter_update);
