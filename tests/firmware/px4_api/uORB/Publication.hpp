/* Declaration-only stand-in for PX4's uORB/Publication.hpp. */
#pragma once

#include <stdint.h>

#include <uORB/uORB.h>

namespace uORB {

template <typename T> class Publication {
  public:
    explicit Publication(const orb_metadata *meta);
    ~Publication();
    bool advertise();
    bool publish(const T &data);
};

} // namespace uORB
