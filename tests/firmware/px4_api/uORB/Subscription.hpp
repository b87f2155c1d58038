/* Declaration-only stand-in for PX4's uORB/Subscription.hpp. */
#pragma once

#include <stdint.h>

#include <uORB/uORB.h>

namespace uORB {

class Subscription {
  public:
    Subscription(const orb_metadata *meta, uint8_t instance = 0);
    ~Subscription();
    bool updated();
    bool update(void *dst);
    bool copy(void *dst);
    bool advertised();
};

} // namespace uORB
