/* Declaration-only stand-in for PX4's drivers/drv_hrt.h: the microsecond clock. */
#pragma once

#include <stdint.h>

typedef uint64_t hrt_abstime;

__BEGIN_DECLS
__EXPORT hrt_abstime hrt_absolute_time(void);
__EXPORT hrt_abstime hrt_elapsed_time(const hrt_abstime *then);
__END_DECLS
