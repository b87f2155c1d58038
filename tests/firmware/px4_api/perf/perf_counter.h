/* Declaration-only stand-in for PX4's perf/perf_counter.h (src/lib/perf). */
#pragma once

#include <stdint.h>

enum perf_counter_type { PC_COUNT, PC_ELAPSED, PC_INTERVAL };

struct perf_ctr_header;
typedef struct perf_ctr_header *perf_counter_t;

__BEGIN_DECLS
__EXPORT perf_counter_t perf_alloc(enum perf_counter_type type, const char *name);
__EXPORT void perf_free(perf_counter_t handle);
__EXPORT void perf_count(perf_counter_t handle);
__EXPORT void perf_begin(perf_counter_t handle);
__EXPORT void perf_end(perf_counter_t handle);
__EXPORT void perf_set_elapsed(perf_counter_t handle, int64_t elapsed);
__EXPORT void perf_print_counter(perf_counter_t handle);
__END_DECLS
