/* Declaration-only stand-in for PX4's visibility.h (force-included with -include, as PX4's build does). */
#pragma once

#define __EXPORT __attribute__((visibility("default")))
#ifdef __cplusplus
#define __BEGIN_DECLS extern "C" {
#define __END_DECLS }
#else
#define __BEGIN_DECLS
#define __END_DECLS
#endif
