/*
 * test_core_log.c — the level-checked log macros of controller/util/log.h as
 * the daemon uses them: a macro whose level is off evaluates none of its
 * arguments, and the level may change (SIGHUP, any thread) while other
 * threads log. The second test reads the level through the macros while a
 * thread keeps changing it; built with -DUSPC_SANITIZE=thread it fails if
 * the macros' read is not an atomic access (a data race with
 * log_set_level's atomic store).
 *
 * Then the line itself (log_format): the UTC timestamp by default; under
 * journald the syslog priority <N> and no timestamp. And the journal's
 * detection: JOURNAL_STREAM names stderr's device and inode
 * (log_journal_stream_matches, then log_journal_detect on a real stderr).
 */
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

/* 2026-11-25T10:00:00.123Z */
static const struct timespec when = { 1795600800, 123456789 };

static void test_line_with_timestamp(void **state)
{
	(void)state;
	char line[256];
	size_t n = log_format(line, sizeof(line), 0, &when, LOG_LVL_INFO, "mtp", "connected to %s",
			      "mqtt://127.0.0.1:1883");
	assert_string_equal(
		line, "2026-11-25T10:00:00.123Z INFO  mtp: connected to mqtt://127.0.0.1:1883\n");
	assert_int_equal(n, strlen(line));
	log_format(line, sizeof(line), 0, &when, LOG_LVL_ERROR, "core", "x");
	assert_string_equal(line, "2026-11-25T10:00:00.123Z ERROR core: x\n");
	/* unchanged from before the journal format: a newline stays */
	log_format(line, sizeof(line), 0, &when, LOG_LVL_WARN, "store", "a\nb");
	assert_string_equal(line, "2026-11-25T10:00:00.123Z WARN  store: a\nb\n");
}

static void test_line_for_journal(void **state)
{
	(void)state;
	static const struct {
		enum log_level level;
		const char *want;
	} cases[] = {
		{ LOG_LVL_ERROR, "<3>ERROR core: n=7\n" },
		{ LOG_LVL_WARN, "<4>WARN  core: n=7\n" },
		{ LOG_LVL_INFO, "<6>INFO  core: n=7\n" },
		{ LOG_LVL_DEBUG, "<7>DEBUG core: n=7\n" },
		{ LOG_LVL_TRACE, "<7>TRACE core: n=7\n" },
	};
	char line[256];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n =
			log_format(line, sizeof(line), 1, &when, cases[i].level, "core", "n=%d", 7);
		assert_string_equal(line, cases[i].want);
		assert_int_equal(n, strlen(line));
	}
	/* no timestamp even without a clock value */
	log_format(line, sizeof(line), 1, NULL, LOG_LVL_INFO, "main", "stopped");
	assert_string_equal(line, "<6>INFO  main: stopped\n");
	/* one journal entry per call: an inner newline would start an entry
	 * at the default priority */
	log_format(line, sizeof(line), 1, NULL, LOG_LVL_ERROR, "store", "a\nb\n");
	assert_string_equal(line, "<3>ERROR store: a b \n");
}

static void test_line_cut_to_fit(void **state)
{
	(void)state;
	char line[24];
	memset(line, 'x', sizeof(line));
	size_t n = log_format(line, sizeof(line), 1, NULL, LOG_LVL_WARN, "core", "%s",
			      "a long message that does not fit");
	assert_int_equal(n, sizeof(line) - 1);
	assert_string_equal(line, "<4>WARN  core: a long \n");
	n = log_format(line, sizeof(line), 0, &when, LOG_LVL_WARN, "core", "abc");
	assert_int_equal(n, sizeof(line) - 1);
	assert_int_equal(line[n - 1], '\n');
	assert_int_equal(line[n], '\0');
	assert_memory_equal(line, "2026-11-25T10:00:00.12", n - 1);
	assert_int_equal(log_format(line, 2, 1, NULL, LOG_LVL_INFO, "core", "abc"), 1);
	assert_string_equal(line, "\n");
	assert_int_equal(log_format(line, 1, 1, NULL, LOG_LVL_INFO, "core", "abc"), 0);
}

static void test_journal_stream_value(void **state)
{
	(void)state;
	assert_true(log_journal_stream_matches("66306:1234", 66306, 1234));
	assert_true(log_journal_stream_matches("0:0", 0, 0));
	assert_true(log_journal_stream_matches("18446744073709551615:1", ULLONG_MAX, 1));
	assert_false(log_journal_stream_matches("66306:1234", 66306, 1235));
	assert_false(log_journal_stream_matches("66306:1234", 66307, 1234));
	assert_false(log_journal_stream_matches("1234:66306", 66306, 1234));
	static const char *const bad[] = {
		"",
		":",
		"66306",
		"66306:",
		"66306:1234:",
		":1234",
		"66306:1234x",
		"66306 :1234",
		" 66306:1234",
		"66306: 1234",
		"+66306:1234",
		"-66306:1234",
		"66306:-1234",
		"0x1:0x2",
		"18446744073709551616:1234", /* overflows 64 bits */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(log_journal_stream_matches(bad[i], 66306, 1234));
	assert_false(log_journal_stream_matches(NULL, 0, 0));
}

/* log_journal_detect and log_write on a real stderr (a temporary file):
 * the journal format only when JOURNAL_STREAM names that file. */
static void test_detect_and_write(void **state)
{
	(void)state;
	char path[] = "/tmp/test_core_log_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	int saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	char v[64];
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);

	unsetenv("JOURNAL_STREAM");
	int off_unset = log_journal_detect();
	setenv("JOURNAL_STREAM", "1:1", 1);
	int off_other = log_journal_detect();
	log_write(LOG_LVL_WARN, "test", "with time");
	setenv("JOURNAL_STREAM", v, 1);
	int on = log_journal_detect();
	log_write(LOG_LVL_WARN, "test", "for the journal");
	log_set_journal(0);
	unsetenv("JOURNAL_STREAM");

	dup2(saved, STDERR_FILENO);
	close(saved);
	char buf[256] = { 0 };
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	assert_false(off_unset);
	assert_false(off_other);
	assert_true(on);
	assert_true(n > 0);
	char *second = strchr(buf, '\n');
	assert_non_null(second);
	*second++ = '\0';
	assert_int_equal(strlen(buf), strlen("2026-11-25T10:00:00.123Z WARN  test: with time"));
	assert_non_null(strstr(buf, "Z WARN  test: with time"));
	assert_string_equal(second, "<4>WARN  test: for the journal\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_off_level_evaluates_nothing),
		cmocka_unit_test(test_level_change_while_logging),
		cmocka_unit_test(test_line_with_timestamp),
		cmocka_unit_test(test_line_for_journal),
		cmocka_unit_test(test_line_cut_to_fit),
		cmocka_unit_test(test_journal_stream_value),
		cmocka_unit_test(test_detect_and_write),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
