/* Declaration-only stand-in for PX4's uORB/uORB.h: topic metadata and ORB_ID(). */
#pragma once

#include <stdint.h>

struct orb_metadata {
    const char *o_name;
    const uint16_t o_size;
    const uint16_t o_size_no_padding;
    uint32_t message_hash;
    uint16_t o_id;
    uint8_t o_queue;
};

typedef const struct orb_metadata *orb_id_t;

#define ORB_ID(_name) &__orb_##_name
#define ORB_DECLARE(_name) extern "C" const struct orb_metadata __orb_##_name __EXPORT
