/* Declaration-only stand-in for PX4's px4_platform_common/log.h: printf-checked log macros. */
#pragma once

__BEGIN_DECLS
__EXPORT void px4_api_stub_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__END_DECLS

#define PX4_INFO(...) px4_api_stub_log(__VA_ARGS__)
#define PX4_WARN(...) px4_api_stub_log(__VA_ARGS__)
#define PX4_ERR(...) px4_api_stub_log(__VA_ARGS__)
