/* Declaration-only stand-in for PX4's WorkItem.hpp, ScheduledWorkItem.hpp and the work queue configurations. */
#pragma once

#include <stdint.h>

namespace px4 {

struct wq_config_t {
    const char *name;
    uint16_t stacksize;
    int8_t relative_priority;
};

/* PX4 defines these with their stack sizes and priorities (WorkQueueManager.hpp); only the names matter here. */
namespace wq_configurations {
extern const wq_config_t lp_default;
extern const wq_config_t nav_and_controllers;
} // namespace wq_configurations

class WorkItem {
  public:
    WorkItem() = delete;
    WorkItem(const WorkItem &) = delete;
    WorkItem &operator=(const WorkItem &) = delete;
    virtual ~WorkItem();

    void ScheduleNow();
    const char *ItemName() const;

  protected:
    explicit WorkItem(const char *name, const wq_config_t &config);
    void ScheduleClear();
    virtual void Run() = 0;
};

class ScheduledWorkItem : public WorkItem {
  public:
    void ScheduleDelayed(uint32_t delay_us);
    void ScheduleOnInterval(uint32_t interval_us, uint32_t delay_us = 0);
    void ScheduleClear();

  protected:
    ScheduledWorkItem(const char *name, const wq_config_t &config);
    ~ScheduledWorkItem() override;

  private:
    void Run() override = 0;
};

} // namespace px4
