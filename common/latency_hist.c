// SPDX-License-Identifier: Apache-2.0
/*
 * Buckets: floor(log2(ns)) picks the power of two, the next two bits
 * below the leading one pick a quarter of it (as HdrHistogram does with
 * more bits), so the index is cheap to compute and bounds the error of
 * a quantile to the bucket's width.
 */
#include "common/latency_hist.h"

unsigned latency_hist_bucket(uint64_t ns)
{
	if (ns < 4)
		return (unsigned)ns;
	unsigned k = 63u - (unsigned)__builtin_clzll(ns);
	unsigned i = 4 * (k - 1) + (unsigned)((ns >> (k - 2)) & 3);
	return i < LATENCY_HIST_BUCKETS ? i : LATENCY_HIST_BUCKETS - 1;
}

uint64_t latency_hist_bucket_low(unsigned i)
{
	if (i < 4)
		return i;
	unsigned k = i / 4 + 1;
	return (uint64_t)(4 + i % 4) << (k - 2);
}

void latency_hist_add(struct latency_hist *h, uint64_t ns)
{
	h->count++;
	h->sum_ns += ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
	h->buckets[latency_hist_bucket(ns)]++;
}

void latency_hist_merge(struct latency_hist *into,
			const struct latency_hist *from)
{
	into->count += from->count;
	into->sum_ns += from->sum_ns;
	if (from->max_ns > into->max_ns)
		into->max_ns = from->max_ns;
	for (unsigned i = 0; i < LATENCY_HIST_BUCKETS; i++)
		into->buckets[i] += from->buckets[i];
}

uint64_t latency_hist_quantile(const struct latency_hist *h, double q)
{
	if (!h->count)
		return 0;
	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	/* The rank of the sample wanted, 1-based: at least the first. */
	double rank = q * (double)h->count;
	if (rank < 1)
		rank = 1;
	if (rank >= (double)h->count) /* the last sample: known exactly */
		return h->max_ns;
	uint64_t below = 0;
	for (unsigned i = 0; i < LATENCY_HIST_BUCKETS; i++) {
		uint64_t n = h->buckets[i];
		if (!n || (double)(below + n) < rank) {
			below += n;
			continue;
		}
		uint64_t lo = latency_hist_bucket_low(i);
		uint64_t hi = i + 1 < LATENCY_HIST_BUCKETS
				      ? latency_hist_bucket_low(i + 1)
				      : h->max_ns + 1;
		/* Samples spread evenly over [lo, hi): the first at lo, the
		 * rank-th of them after it. */
		double at = (double)lo + (double)(hi - lo) *
						 (rank - (double)below - 1) /
						 (double)n;
		uint64_t v = (uint64_t)at;
		return v < h->max_ns ? v : h->max_ns;
	}
	return h->max_ns;
}
