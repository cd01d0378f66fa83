/*
 * sim_hist.h — a fixed-size latency histogram with logarithmic buckets
 * (8 per power of two, about 9 % wide; exact below 8 µs; up to 2^32 µs,
 * ~71 min, larger values land in the last bucket). Counts are plain
 * uint64_t, so histograms of several workers merge (and one taken later
 * minus one taken earlier gives an interval) by adding (subtracting)
 * bucket by bucket. Used for the NotifyResp latency of the status line.
 * Pure functions; no state.
 */
#ifndef USPC_SIM_HIST_H
#define USPC_SIM_HIST_H

#include <stdint.h>

#define SIM_HIST_BUCKETS 240

/* Bucket of a value in µs. */
unsigned sim_hist_bucket(uint64_t us);
/* Smallest and largest value (µs) a bucket holds. */
uint64_t sim_hist_lower_us(unsigned b);
uint64_t sim_hist_upper_us(unsigned b);
/* Total count of h. */
uint64_t sim_hist_count(const uint64_t h[SIM_HIST_BUCKETS]);
/* The p-quantile (0 < p <= 1) of h as the midpoint of its bucket, in µs;
 * 0 if h is empty. */
uint64_t sim_hist_quantile_us(const uint64_t h[SIM_HIST_BUCKETS], double p);
/* The same in whole milliseconds (rounded; at least 1 when h is not empty,
 * so 0 means "no samples"). */
uint64_t sim_hist_quantile_ms(const uint64_t h[SIM_HIST_BUCKETS], double p);

#endif
