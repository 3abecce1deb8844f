/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A latency histogram for device counters: count, sum and maximum, and
 * logarithmic buckets (four to each power of two, so a bucket is at most
 * 25% wide) from which quantiles are estimated. Fixed size, no
 * allocation; the caller does the locking.
 */
#ifndef PHY_COMMON_LATENCY_HIST_H
#define PHY_COMMON_LATENCY_HIST_H

#include <stdint.h>

/* Bucket i < 4 holds i ns; above, bucket 4 * (k - 1) + s holds
 * [(4 + s) << (k - 2), (5 + s) << (k - 2)) for 2^k <= ns < 2^(k+1). The
 * last bucket also takes everything longer (from 2^33 ns, 8.6 s). */
#define LATENCY_HIST_BUCKETS 128

struct latency_hist {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t max_ns;
	uint64_t buckets[LATENCY_HIST_BUCKETS];
};

void latency_hist_add(struct latency_hist *h, uint64_t ns);
/* Adds everything `from` counted to `into`. */
void latency_hist_merge(struct latency_hist *into,
			const struct latency_hist *from);
unsigned latency_hist_bucket(uint64_t ns);
/* The smallest latency bucket i holds. */
uint64_t latency_hist_bucket_low(unsigned i);
/*
 * The latency below which a fraction q (0..1) of the samples lie,
 * interpolated inside its bucket and never above the maximum; 0 when
 * nothing was counted.
 */
uint64_t latency_hist_quantile(const struct latency_hist *h, double q);

#endif
