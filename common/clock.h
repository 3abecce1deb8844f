/* SPDX-License-Identifier: Apache-2.0 */
/* The monotonic clock in nanoseconds, for the devices' timers, rate
 * limits and latencies and the event monitor's stamps; and a duration in
 * nanoseconds as the kernel's timespec, for their io_uring timeouts. */
#ifndef PHY_COMMON_CLOCK_H
#define PHY_COMMON_CLOCK_H

#include <stdint.h>
#include <time.h>

#include <linux/time_types.h>

static inline uint64_t phy_monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline struct __kernel_timespec phy_kernel_timespec(uint64_t ns)
{
	return (struct __kernel_timespec){
		.tv_sec = (long long)(ns / 1000000000u),
		.tv_nsec = (long long)(ns % 1000000000u),
	};
}

#endif
