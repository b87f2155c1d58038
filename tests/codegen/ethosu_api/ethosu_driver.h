/*
 * ethosu_driver.h -- a declaration-only stand-in for the public header of Arm's
 * ethos-u-core-driver, written by edgeq for its tests from the driver's documented API.
 *
 * It declares what edgeq_npu_platform.c calls or overrides, with the driver's
 * signatures, so a generated platform file that misspells a name or passes the wrong
 * arguments fails to compile. Nothing here is implemented; nothing is linked.
 *
 * EDGEQ_ETHOSU_CACHE_API selects the cache-maintenance hooks' signature: 1 as in the
 * released drivers (a pointer and a byte count), 2 as in drivers whose hooks take the
 * arrays of base addresses and sizes.
 */
#ifndef ETHOSU_DRIVER_H
#define ETHOSU_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The driver's handle. Its members are the driver's business; this stand-in only gives
 * it a size so that a generated file can declare one. */
struct ethosu_driver {
    unsigned char opaque[128];
};

int ethosu_init(struct ethosu_driver *drv, void *const base_address, const void *fast_memory,
                const size_t fast_memory_size, uint32_t secure_enable, uint32_t privilege_enable);

void ethosu_irq_handler(struct ethosu_driver *drv);

#ifndef EDGEQ_ETHOSU_CACHE_API
#define EDGEQ_ETHOSU_CACHE_API 1
#endif
#if EDGEQ_ETHOSU_CACHE_API == 1
void ethosu_flush_dcache(uint32_t *p, size_t bytes);
void ethosu_invalidate_dcache(uint32_t *p, size_t bytes);
#else
void ethosu_flush_dcache(const uint64_t *base_addr, const size_t *base_addr_size, int num_base_addr);
void ethosu_invalidate_dcache(const uint64_t *base_addr, const size_t *base_addr_size, int num_base_addr);
#endif

#ifdef __cplusplus
}
#endif

#endif /* ETHOSU_DRIVER_H */
