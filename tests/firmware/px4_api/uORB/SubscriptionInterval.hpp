/* Declaration-only stand-in for PX4's uORB/SubscriptionInterval.hpp. */
#pragma once

#include <stdint.h>

#include <drivers/drv_hrt.h>
#include <uORB/Subscription.hpp>

namespace uORB {

class SubscriptionInterval {
  public:
    SubscriptionInterval(const orb_metadata *meta, uint32_t interval_us = 0, uint8_t instance = 0);
    bool updated();
    bool update(void *dst);
    bool copy(void *dst);
    void set_interval_us(uint32_t interval);
};

} // namespace uORB
