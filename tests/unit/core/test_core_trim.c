/* Unit tests for core_trim: one trim per burst, at its first calm window;
 * no trim without a burst or while the traffic stays up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core_trim.h"

/* Feed one window of n records; returns core_trim_due at its end. */
static int window(struct core_trim *t, int64_t *now, uint64_t *count, uint64_t n)
{
	*count += n;
	*now += CORE_TRIM_WINDOW_MS;
	return core_trim_due(t, *now, *count);
}

static void test_one_trim_per_burst(void **state)
{
	(void)state;
	struct core_trim t = { 0 };
	int64_t now = 1000;
	uint64_t count = 0;
	assert_int_equal(core_trim_due(&t, now, count), 0); /* starts the first window */
	assert_int_equal(core_trim_due(&t, now + 10, count + 5000), 0); /* mid-window */
	count += 5000;
	now += CORE_TRIM_WINDOW_MS;
	assert_int_equal(core_trim_due(&t, now, count), 0);  /* the burst itself */
	assert_int_equal(window(&t, &now, &count, 8000), 0); /* still busy */
	assert_int_equal(window(&t, &now, &count, 1000), 0); /* 1/8 of the peak: not calm */
	assert_int_equal(window(&t, &now, &count, 700), 1);  /* under a tenth: trim */
	for (int i = 0; i < 5; i++)
		assert_int_equal(window(&t, &now, &count, i % 2 ? 0 : 50), 0); /* calm: once */
	assert_int_equal(window(&t, &now, &count, 3000), 0);                   /* a new burst */
	assert_int_equal(window(&t, &now, &count, 0), 1);
}

static void test_no_burst_no_trim(void **state)
{
	(void)state;
	struct core_trim t = { 0 };
	int64_t now = 0;
	uint64_t count = 0;
	core_trim_due(&t, now, count);
	/* small traffic going up and down never counts as a burst */
	for (int i = 0; i < 20; i++)
		assert_int_equal(window(&t, &now, &count, (uint64_t)(i % 2 ? 900 : 0)), 0);
	/* steady heavy traffic is never calm */
	for (int i = 0; i < 20; i++)
		assert_int_equal(window(&t, &now, &count, 4000 + (uint64_t)i * 10), 0);
}

static void test_trim_heap_runs(void **state)
{
	(void)state;
	(void)core_trim_heap(); /* nothing to check but that it returns */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_trim_per_burst),
		cmocka_unit_test(test_no_burst_no_trim),
		cmocka_unit_test(test_trim_heap_runs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
