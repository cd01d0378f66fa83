/*
 * test_core_status.c — systemd's STATUS= line (core_status_format): the
 * numbers of the stats line in one short line, "draining: " first once a
 * stop signal came; the largest numbers fit CORE_STATUS_MAX; a smaller
 * buffer cuts the line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core_status.h"

static void test_running(void **state)
{
	(void)state;
	struct core_status s = { .agents = 100,
				 .online = 98,
				 .pending = 3,
				 .done = 1234,
				 .failed = 2,
				 .db_up = 1,
				 .mqtt_up = 1 };
	char buf[160];
	size_t n = core_status_format(&s, buf, sizeof(buf));
	assert_string_equal(
		buf, "agents 100 online 98, pending 3, tasks done 1234 failed 2, db up, mqtt up");
	assert_int_equal(n, strlen(buf));
	s.db_up = 0;
	s.mqtt_up = 0;
	core_status_format(&s, buf, sizeof(buf));
	assert_string_equal(
		buf,
		"agents 100 online 98, pending 3, tasks done 1234 failed 2, db down, mqtt down");
}

static void test_draining(void **state)
{
	(void)state;
	struct core_status s = { .pending = 7, .db_up = 1, .mqtt_up = 1, .draining = 1 };
	char buf[160];
	core_status_format(&s, buf, sizeof(buf));
	assert_string_equal(
		buf,
		"draining: agents 0 online 0, pending 7, tasks done 0 failed 0, db up, mqtt up");
}

static void test_largest_fits(void **state)
{
	(void)state;
	struct core_status s = { .agents = SIZE_MAX,
				 .online = SIZE_MAX,
				 .pending = SIZE_MAX,
				 .done = UINT64_MAX,
				 .failed = UINT64_MAX,
				 .draining = 1 };
	char buf[CORE_STATUS_MAX];
	size_t n = core_status_format(&s, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	assert_true(n < sizeof(buf) - 1);
	assert_null(strchr(buf, '\n'));
}

static void test_cut_to_fit(void **state)
{
	(void)state;
	struct core_status s = { .agents = 100, .online = 98 };
	char buf[16];
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(core_status_format(&s, buf, sizeof(buf)), 15);
	assert_string_equal(buf, "agents 100 onli");
	assert_int_equal(core_status_format(&s, buf, 1), 0);
	assert_string_equal(buf, "");
	assert_int_equal(core_status_format(&s, buf, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_running),
		cmocka_unit_test(test_draining),
		cmocka_unit_test(test_largest_fits),
		cmocka_unit_test(test_cut_to_fit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
