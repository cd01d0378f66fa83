/*
 * test_core_log.c — the level-checked log macros of controller/util/log.h as
 * the daemon uses them: a macro whose level is off evaluates none of its
 * arguments, and the level may change (SIGHUP, any thread) while other
 * threads log. The second test reads the level through the macros while a
 * thread keeps changing it; built with -DUSPC_SANITIZE=thread it fails if
 * the macros' read is not an atomic access (a data race with
 * log_set_level's atomic store).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "log.h"

static int evaluated;

static int side_effect(void)
{
	return ++evaluated;
}

static void test_off_level_evaluates_nothing(void **state)
{
	(void)state;
	log_set_level(LOG_LVL_WARN);
	evaluated = 0;
	log_info("test", "%d", side_effect());
	log_debug("test", "%d", side_effect());
	log_trace("test", "%d", side_effect());
	assert_int_equal(evaluated, 0);
	assert_false(log_enabled(LOG_LVL_INFO));
	assert_true(log_enabled(LOG_LVL_WARN));
	log_set_level(LOG_LVL_INFO);
	log_info("test", "evaluated when on: %d", side_effect());
	assert_int_equal(evaluated, 1);
	assert_true(log_enabled(LOG_LVL_INFO));
	assert_false(log_enabled(LOG_LVL_DEBUG));
}

static atomic_int stop_flag;

static void *flip_levels(void *arg)
{
	(void)arg;
	for (unsigned i = 0; !atomic_load(&stop_flag); i++)
		log_set_level((i & 1) ? LOG_LVL_ERROR : LOG_LVL_WARN);
	return NULL;
}

static void test_level_change_while_logging(void **state)
{
	(void)state;
	pthread_t th;
	log_set_level(LOG_LVL_WARN);
	atomic_store(&stop_flag, 0);
	assert_int_equal(pthread_create(&th, NULL, flip_levels, NULL), 0);
	long seen_error = 0, seen_warn = 0, bad = 0;
	evaluated = 0;
	for (int i = 0; i < 200000; i++) {
		int warn_on = log_enabled(LOG_LVL_WARN);
		seen_warn += warn_on;
		seen_error += !warn_on;
		/* The level only ever moves between ERROR and WARN: info is
		 * never on, so this evaluates nothing. */
		log_info("test", "%d", side_effect());
		bad += log_enabled(LOG_LVL_INFO) || !log_enabled(LOG_LVL_ERROR);
	}
	atomic_store(&stop_flag, 1);
	pthread_join(th, NULL);
	assert_int_equal(bad, 0);
	assert_int_equal(evaluated, 0);
	assert_int_equal(seen_warn + seen_error, 200000);
	log_set_level(LOG_LVL_INFO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_off_level_evaluates_nothing),
		cmocka_unit_test(test_level_change_while_logging),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
