/*
 * sim_hist.c — log-bucket latency histogram (see sim_hist.h). Bucket b < 8
 * holds exactly b µs; above, value v with e = floor(log2 v) >= 3 goes to
 * 8 + 8 (e - 3) + the three bits below the leading one.
 */
#include "sim_hist.h"

#include <math.h>

unsigned sim_hist_bucket(uint64_t us)
{
	if (us < 8)
		return (unsigned)us;
	unsigned e = 63u - (unsigned)__builtin_clzll(us);
	unsigned b = 8u + 8u * (e - 3u) + (unsigned)((us >> (e - 3u)) & 7u);
	return b < SIM_HIST_BUCKETS ? b : SIM_HIST_BUCKETS - 1;
}

uint64_t sim_hist_lower_us(unsigned b)
{
	if (b < 8)
		return b;
	unsigned e = (b - 8u) / 8u + 3u, sub = (b - 8u) % 8u;
	return (uint64_t)(8u + sub) << (e - 3u);
}

uint64_t sim_hist_upper_us(unsigned b)
{
	if (b < 8)
		return b;
	if (b >= SIM_HIST_BUCKETS - 1)
		return UINT64_MAX;
	return sim_hist_lower_us(b + 1) - 1;
}

uint64_t sim_hist_count(const uint64_t h[SIM_HIST_BUCKETS])
{
	uint64_t n = 0;
	for (unsigned b = 0; b < SIM_HIST_BUCKETS; b++)
		n += h[b];
	return n;
}

uint64_t sim_hist_quantile_us(const uint64_t h[SIM_HIST_BUCKETS], double p)
{
	uint64_t n = sim_hist_count(h), seen = 0;
	if (n == 0)
		return 0;
	uint64_t rank = (uint64_t)ceil(p * (double)n);
	if (rank < 1)
		rank = 1;
	for (unsigned b = 0; b < SIM_HIST_BUCKETS; b++) {
		seen += h[b];
		if (seen >= rank) {
			uint64_t lo = sim_hist_lower_us(b);
			uint64_t hi = b >= SIM_HIST_BUCKETS - 1 ? lo : sim_hist_upper_us(b);
			return lo + (hi - lo) / 2;
		}
	}
	return sim_hist_lower_us(SIM_HIST_BUCKETS - 1);
}

uint64_t sim_hist_quantile_ms(const uint64_t h[SIM_HIST_BUCKETS], double p)
{
	if (sim_hist_count(h) == 0)
		return 0;
	uint64_t ms = (sim_hist_quantile_us(h, p) + 500) / 1000;
	return ms ? ms : 1;
}
