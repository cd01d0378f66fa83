/*
 * test_sim_hist.c — the simulator's log-bucket latency histogram: bucket
 * bounds are contiguous and about 9 % wide, quantiles land in the right
 * bucket, empty means 0, merged/interval histograms are plain sums and
 * differences.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sim_hist.h"

static void test_buckets(void **state)
{
	(void)state;
	for (uint64_t v = 0; v < 8; v++)
		assert_int_equal(sim_hist_bucket(v), v);
	for (unsigned b = 0; b + 1 < SIM_HIST_BUCKETS; b++) {
		uint64_t lo = sim_hist_lower_us(b), hi = sim_hist_upper_us(b);
		assert_true(lo <= hi);
		assert_int_equal(sim_hist_bucket(lo), b);
		assert_int_equal(sim_hist_bucket(hi), b);
		assert_int_equal(sim_hist_lower_us(b + 1), hi + 1);
		if (b >= 8) /* at most 1/8 of the value wide */
			assert_true((hi - lo + 1) * 8 <= lo);
	}
	assert_int_equal(sim_hist_bucket(UINT64_MAX), SIM_HIST_BUCKETS - 1);
	assert_int_equal(sim_hist_bucket(1030), sim_hist_bucket(1150));
	assert_int_not_equal(sim_hist_bucket(1030), sim_hist_bucket(1200));
}

static void test_quantiles(void **state)
{
	uint64_t h[SIM_HIST_BUCKETS], later[SIM_HIST_BUCKETS];
	(void)state;
	memset(h, 0, sizeof(h));
	assert_int_equal(sim_hist_quantile_ms(h, 0.5), 0);
	assert_int_equal(sim_hist_quantile_us(h, 0.99), 0);
	/* 98 samples of 2 ms, 2 of 40 ms */
	h[sim_hist_bucket(2000)] += 98;
	h[sim_hist_bucket(40000)] += 2;
	assert_int_equal(sim_hist_count(h), 100);
	assert_int_equal(sim_hist_quantile_ms(h, 0.50), 2);
	assert_int_equal(sim_hist_quantile_ms(h, 0.98), 2);
	uint64_t p99 = sim_hist_quantile_ms(h, 0.99);
	assert_true(p99 >= 37 && p99 <= 43);
	/* sub-millisecond latencies still report 1 (0 = no samples) */
	memset(h, 0, sizeof(h));
	h[sim_hist_bucket(120)]++;
	assert_int_equal(sim_hist_quantile_ms(h, 0.5), 1);
	assert_true(sim_hist_quantile_us(h, 0.5) >= 112 && sim_hist_quantile_us(h, 0.5) <= 127);
	/* an interval = later minus earlier, bucket by bucket */
	memcpy(later, h, sizeof(h));
	later[sim_hist_bucket(9000)] += 3;
	for (unsigned b = 0; b < SIM_HIST_BUCKETS; b++)
		later[b] -= h[b];
	assert_int_equal(sim_hist_count(later), 3);
	uint64_t p50 = sim_hist_quantile_ms(later, 0.5);
	assert_true(p50 >= 8 && p50 <= 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buckets),
		cmocka_unit_test(test_quantiles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
