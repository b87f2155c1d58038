/* Declaration-only stand-in for PX4's px4_platform_common/atomic.h. */
#pragma once

namespace px4 {

template <typename T> class atomic {
  public:
    atomic() = default;
    explicit atomic(T value);
    T load() const;
    void store(T value);
};

typedef atomic<bool> atomic_bool;

} // namespace px4
