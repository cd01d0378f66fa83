/* Unit tests for core_metrics_text: the /metrics text of a snapshot, checked
 * line by line and by the strict exposition-format checker
 * tests/support/check-metrics.py (run through python3); and the checker
 * itself refuses what the format forbids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "core_metrics_text.h"

#define CHECKER USPC_TEST_DATA_DIR "/support/check-metrics.py"

/* Run the checker (with --prefix uspc_) on text: its exit status. */
static int check_text(const char *text)
{
	FILE *p = popen("python3 " CHECKER " --prefix uspc_ >/dev/null 2>&1", "w");
	assert_non_null(p);
	fputs(text, p);
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void sample(struct core_metrics_snap *s)
{
	memset(s, 0, sizeof(*s));
	s->agents = 12;
	s->agents_online = 10;
	s->pending_requests = 3;
	s->store_lag_seconds = 0.25;
	s->mqtt_connected = 1;
	s->db_connected = 1;
	s->engine_running = 1;
	s->engine_db_connected = 1;
	s->start_time_seconds = 1767225600.5;
	s->uptime_seconds = 42.125;
	s->records_in = 1000;
	s->records_out = 999;
	s->tasks_done = 7;
	s->tasks_failed = 1;
	s->notifies = 200;
	s->profile_verdicts = 5;
	s->scrapes = 3;
	snprintf(s->version, sizeof(s->version), "1.2.3");
	core_metrics_add_reason(s, "record_undecodable", 2);
	core_metrics_add_reason(s, "unknown_response", 1);
}

static char *render(const struct core_metrics_snap *s)
{
	size_t n = core_metrics_render(s, NULL, 0);
	char *buf = malloc(n + 1);
	assert_non_null(buf);
	assert_int_equal(core_metrics_render(s, buf, n + 1), n);
	assert_int_equal(strlen(buf), n);
	return buf;
}

static void test_values(void **state)
{
	struct core_metrics_snap s;
	sample(&s);
	char *t = render(&s);
	const char *want[] = {
		"\nuspc_agents 12\n",
		"\nuspc_agents_online 10\n",
		"\nuspc_pending_requests 3\n",
		"\nuspc_store_lag_seconds 0.250\n",
		"\nuspc_mqtt_connected 1\n",
		"\nuspc_db_connected 1\n",
		"\nuspc_draining 0\n",
		"\nuspc_engine_db_connected 1\n",
		"\nuspc_start_time_seconds 1767225600.500\n",
		"\nuspc_uptime_seconds 42.125\n",
		"\nuspc_records_received_total 1000\n",
		"\nuspc_records_sent_total 999\n",
		"\nuspc_tasks_done_total 7\n",
		"\nuspc_tasks_failed_total 1\n",
		"\nuspc_notifications_total 200\n",
		"\nuspc_profile_verdicts_total 5\n",
		"\nuspc_metrics_scrapes_total 3\n",
		"\nuspc_rejected_records_total{reason=\"record_undecodable\"} 2\n",
		"\nuspc_rejected_records_total{reason=\"unknown_response\"} 1\n",
		"\nuspc_build_info{version=\"1.2.3\"} 1\n",
		"\n# TYPE uspc_tasks_done_total counter\n",
		"\n# TYPE uspc_agents gauge\n",
		"# HELP uspc_agents ",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(t, want[i]))
			fail_msg("missing: %s\n--- text:\n%s", want[i], t);
	assert_int_equal(t[strlen(t) - 1], '\n');
	assert_int_equal(check_text(t), 0);
	free(t);
}

/* A family with no samples yet (no rejection) and the engine off. */
static void test_empty(void **state)
{
	struct core_metrics_snap s;
	memset(&s, 0, sizeof(s));
	char *t = render(&s);
	assert_non_null(strstr(t, "# TYPE uspc_rejected_records_total counter\n"));
	assert_null(strstr(t, "uspc_rejected_records_total{"));
	assert_null(strstr(t, "engine_db_connected"));
	assert_non_null(strstr(t, "uspc_build_info{version=\"unknown\"} 1\n"));
	assert_non_null(strstr(t, "\nuspc_mqtt_connected 0\n"));
	assert_int_equal(check_text(t), 0);
	free(t);
}

static void test_label_escaping(void **state)
{
	struct core_metrics_snap s;
	sample(&s);
	core_metrics_add_reason(&s, "we\"ird\\na\nme", 4);
	snprintf(s.version, sizeof(s.version), "1.0\"x");
	char *t = render(&s);
	assert_non_null(
		strstr(t, "uspc_rejected_records_total{reason=\"we\\\"ird\\\\na\\nme\"} 4\n"));
	assert_non_null(strstr(t, "uspc_build_info{version=\"1.0\\\"x\"} 1\n"));
	assert_int_equal(check_text(t), 0);
	free(t);
}

/* snprintf-like: a short buffer gets a NUL-terminated prefix, the return
 * value is the whole length. */
static void test_truncation(void **state)
{
	struct core_metrics_snap s;
	sample(&s);
	char *full = render(&s);
	size_t n = strlen(full);
	char small[40];
	assert_int_equal(core_metrics_render(&s, small, sizeof(small)), n);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small, full, sizeof(small) - 1);
	char *exact = malloc(n);
	assert_int_equal(core_metrics_render(&s, exact, n), n);
	assert_int_equal(strlen(exact), n - 1);
	free(exact);
	free(full);
}

static void test_add_reason(void **state)
{
	struct core_metrics_snap s;
	memset(&s, 0, sizeof(s));
	assert_int_equal(core_metrics_add_reason(&s, "a", 1), 0);
	assert_int_equal(core_metrics_add_reason(&s, "a", 2), 0);
	assert_int_equal(s.n_reasons, 1);
	assert_int_equal(s.reasons[0].count, 3);
	char name[16];
	for (int i = 1; i < CORE_METRICS_REASONS_MAX; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		assert_int_equal(core_metrics_add_reason(&s, name, 1), 0);
	}
	assert_int_equal(core_metrics_add_reason(&s, "one_too_many", 1), -1);
	assert_int_equal(core_metrics_add_reason(&s, "r5", 1), 0);
	char *t = render(&s);
	assert_int_equal(check_text(t), 0);
	free(t);
}

/* The checker is strict: each of these breaks one rule. */
static void test_checker_refuses(void **state)
{
	const char *ok = "# HELP uspc_x_total X.\n# TYPE uspc_x_total counter\nuspc_x_total 1\n";
	assert_int_equal(check_text(ok), 0);
	const char *bad[] = {
		"",
		"# HELP uspc_x_total X.\n# TYPE uspc_x_total counter\nuspc_x_total 1",
		"# TYPE uspc_x_total counter\nuspc_x_total 1\n",
		"# HELP uspc_x_total X.\nuspc_x_total 1\n",
		"uspc_x_total 1\n# HELP uspc_x_total X.\n# TYPE uspc_x_total counter\n",
		"# HELP uspc_x X.\n# TYPE uspc_x counter\nuspc_x 1\n",
		"# HELP uspc_x_total X.\n# TYPE uspc_x_total counter\nuspc_x_total -1\n",
		"# HELP uspc_x X.\n# TYPE uspc_x gauge\nuspc_x 1\nuspc_x 2\n",
		"# HELP uspc_x X.\n# TYPE uspc_x gauge\nuspc_x{a=\"1\"} 1\nuspc_x{a=\"1\"} 2\n",
		"# HELP uspc_x X.\n# TYPE uspc_x gauge\nuspc_x{a=\"b\\q\"} 1\n",
		"# HELP uspc_x X.\n# TYPE uspc_x gauge\nuspc_x{a=b} 1\n",
		"# HELP uspc_x X.\n# TYPE uspc_x gauge\nuspc_x{a=\"1\",a=\"2\"} 1\n",
		"# HELP uspc_x X.\n# TYPE uspc_x gauge\nuspc_x one\n",
		"# HELP uspc_x X.\n# TYPE uspc_x gauge\nuspc_x 1_000\n",
		"# HELP uspc_x X.\n# TYPE uspc_x gauge\n\nuspc_x 1\n",
		"# HELP uspc_x X.\n# TYPE uspc_x gauge\n0uspc 1\n",
		"# HELP uspc_x X.\n# TYPE uspc_x gauge\n# HELP uspc_y Y.\n# TYPE uspc_y gauge\n"
		"uspc_y 1\nuspc_x 1\n",
		"# HELP uspc_x X.\n# TYPE uspc_x gauge\n# TYPE uspc_x gauge\nuspc_x 1\n",
		"# HELP uspc_x X.\n# TYPE uspc_x meter\nuspc_x 1\n",
		"# HELP other_x X.\n# TYPE other_x gauge\nother_x 1\n",
		"# HELP uspc_x X \\q.\n# TYPE uspc_x gauge\nuspc_x 1\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (check_text(bad[i]) != 1)
			fail_msg("the checker accepted case %zu:\n%s", i, bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),         cmocka_unit_test(test_empty),
		cmocka_unit_test(test_label_escaping), cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_add_reason),     cmocka_unit_test(test_checker_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
