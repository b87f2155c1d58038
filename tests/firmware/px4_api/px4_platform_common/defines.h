/* Declaration-only stand-in for PX4's px4_platform_common/defines.h: the return codes the module uses. */
#pragma once

#define PX4_OK 0
#define PX4_ERROR (-1)
