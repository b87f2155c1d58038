/* Declaration-only stand-in for PX4's uORB/SubscriptionCallback.hpp. */
#pragma once

#include <stdint.h>

#include <px4_platform_common/px4_work_queue/ScheduledWorkItem.hpp>
#include <uORB/SubscriptionInterval.hpp>

namespace uORB {

class SubscriptionCallback : public SubscriptionInterval {
  public:
    SubscriptionCallback(const orb_metadata *meta, uint32_t interval_us = 0, uint8_t instance = 0);
    virtual ~SubscriptionCallback();
    bool registerCallback();
    void unregisterCallback();
    virtual void call(unsigned generation) = 0;
};

class SubscriptionCallbackWorkItem : public SubscriptionCallback {
  public:
    SubscriptionCallbackWorkItem(px4::WorkItem *work_item, const orb_metadata *meta, uint8_t instance = 0);
    ~SubscriptionCallbackWorkItem() override;
    void call(unsigned generation) override;
    void set_required_updates(uint8_t required_updates);
};

} // namespace uORB
