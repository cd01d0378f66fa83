/*
 * test_cwmp_sim_events.c — a simulated CPE's pending Inform events across
 * delivered, failed and rebooted sessions, and the TR-069 session retry
 * wait (the specification's table with the default settings, the cap at
 * the tenth retry, a scaled base) and the Retry-After wait.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cwmp_sim_events.h"

static int has_key(const struct cwmp_sim_events *ev, enum cwmp_sim_ev e, const char *key)
{
	for (size_t i = 0; i < ev->n; i++)
		if (ev->v[i].kind == e && !strcmp(ev->v[i].key, key))
			return 1;
	return 0;
}

static void test_codes(void **state)
{
	(void)state;
	assert_string_equal(cwmp_sim_ev_code(CWMP_SIM_EV_BOOTSTRAP), "0 BOOTSTRAP");
	assert_string_equal(cwmp_sim_ev_code(CWMP_SIM_EV_BOOT), "1 BOOT");
	assert_string_equal(cwmp_sim_ev_code(CWMP_SIM_EV_PERIODIC), "2 PERIODIC");
	assert_string_equal(cwmp_sim_ev_code(CWMP_SIM_EV_VALUE_CHANGE), "4 VALUE CHANGE");
	assert_string_equal(cwmp_sim_ev_code(CWMP_SIM_EV_CONNECTION_REQUEST),
			    "6 CONNECTION REQUEST");
	assert_string_equal(cwmp_sim_ev_code(CWMP_SIM_EV_TRANSFER_COMPLETE), "7 TRANSFER COMPLETE");
	assert_string_equal(cwmp_sim_ev_code(CWMP_SIM_EV_M_REBOOT), "M Reboot");
	assert_string_equal(cwmp_sim_ev_code(CWMP_SIM_EV_M_DOWNLOAD), "M Download");
}

static void test_merge(void **state)
{
	struct cwmp_sim_events ev = { 0 };
	(void)state;
	assert_int_equal(cwmp_sim_events_add(&ev, CWMP_SIM_EV_BOOT, NULL), 0);
	assert_int_equal(cwmp_sim_events_add(&ev, CWMP_SIM_EV_BOOT, "ignored"), 0);
	assert_int_equal(cwmp_sim_events_add(&ev, CWMP_SIM_EV_M_REBOOT, "a"), 0);
	assert_int_equal(cwmp_sim_events_add(&ev, CWMP_SIM_EV_M_REBOOT, "a"), 0);
	assert_int_equal(cwmp_sim_events_add(&ev, CWMP_SIM_EV_M_REBOOT, "b"), 0);
	assert_int_equal(ev.n, 3); /* BOOT once, M Reboot once per key */
	assert_string_equal(ev.v[0].key, "");
	assert_true(has_key(&ev, CWMP_SIM_EV_M_REBOOT, "a"));
	assert_true(has_key(&ev, CWMP_SIM_EV_M_REBOOT, "b"));
	cwmp_sim_events_clear(&ev);
	assert_int_equal(ev.n, 0);
}

/* Delivered: only what the Inform carried goes; an event that came up
 * while the Inform was in flight stays for the next session. */
static void test_delivered(void **state)
{
	struct cwmp_sim_events ev = { 0 };
	(void)state;
	cwmp_sim_events_add(&ev, CWMP_SIM_EV_BOOTSTRAP, NULL);
	cwmp_sim_events_add(&ev, CWMP_SIM_EV_BOOT, NULL);
	assert_int_equal(cwmp_sim_events_mark_sent(&ev), 2);
	cwmp_sim_events_add(&ev, CWMP_SIM_EV_VALUE_CHANGE, NULL);
	cwmp_sim_events_delivered(&ev);
	assert_int_equal(ev.n, 1);
	assert_int_equal(ev.v[0].kind, CWMP_SIM_EV_VALUE_CHANGE);
	assert_false(ev.v[0].sent);
	cwmp_sim_events_clear(&ev);
}

/* A failed session keeps its events for the retry, except the connection
 * request, which is never retried; they accumulate with new ones. */
static void test_failed_session(void **state)
{
	struct cwmp_sim_events ev = { 0 };
	(void)state;
	cwmp_sim_events_add(&ev, CWMP_SIM_EV_BOOT, NULL);
	cwmp_sim_events_add(&ev, CWMP_SIM_EV_M_DOWNLOAD, "dl-1");
	cwmp_sim_events_add(&ev, CWMP_SIM_EV_TRANSFER_COMPLETE, NULL);
	cwmp_sim_events_add(&ev, CWMP_SIM_EV_CONNECTION_REQUEST, NULL);
	cwmp_sim_events_mark_sent(&ev);
	cwmp_sim_events_failed(&ev);
	assert_int_equal(ev.n, 3);
	assert_false(cwmp_sim_events_has(&ev, CWMP_SIM_EV_CONNECTION_REQUEST));
	for (size_t i = 0; i < ev.n; i++)
		assert_false(ev.v[i].sent);
	/* the retry carries them plus what came since */
	cwmp_sim_events_add(&ev, CWMP_SIM_EV_PERIODIC, NULL);
	cwmp_sim_events_add(&ev, CWMP_SIM_EV_BOOT, NULL);
	assert_int_equal(cwmp_sim_events_mark_sent(&ev), 4);
	cwmp_sim_events_failed(&ev); /* fails again */
	assert_int_equal(ev.n, 4);
	assert_true(has_key(&ev, CWMP_SIM_EV_M_DOWNLOAD, "dl-1"));
	cwmp_sim_events_mark_sent(&ev);
	cwmp_sim_events_delivered(&ev);
	assert_int_equal(ev.n, 0);
	cwmp_sim_events_clear(&ev);
}

/* A CR that is not part of the failed Inform (it came later) survives. */
static void test_unsent_cr_survives(void **state)
{
	struct cwmp_sim_events ev = { 0 };
	(void)state;
	cwmp_sim_events_add(&ev, CWMP_SIM_EV_PERIODIC, NULL);
	cwmp_sim_events_mark_sent(&ev);
	cwmp_sim_events_add(&ev, CWMP_SIM_EV_CONNECTION_REQUEST, NULL);
	cwmp_sim_events_failed(&ev);
	assert_int_equal(ev.n, 2);
	assert_true(cwmp_sim_events_has(&ev, CWMP_SIM_EV_CONNECTION_REQUEST));
	cwmp_sim_events_clear(&ev);
}

static void test_reboot_drops(void **state)
{
	struct cwmp_sim_events ev = { 0 };
	(void)state;
	cwmp_sim_events_add(&ev, CWMP_SIM_EV_PERIODIC, NULL);
	cwmp_sim_events_add(&ev, CWMP_SIM_EV_VALUE_CHANGE, NULL);
	cwmp_sim_events_add(&ev, CWMP_SIM_EV_CONNECTION_REQUEST, NULL);
	cwmp_sim_events_add(&ev, CWMP_SIM_EV_M_REBOOT, "k");
	cwmp_sim_events_add(&ev, CWMP_SIM_EV_BOOTSTRAP, NULL);
	cwmp_sim_events_mark_sent(&ev);
	cwmp_sim_events_reboot(&ev);
	assert_int_equal(ev.n, 2);
	assert_true(has_key(&ev, CWMP_SIM_EV_M_REBOOT, "k"));
	assert_true(cwmp_sim_events_has(&ev, CWMP_SIM_EV_BOOTSTRAP));
	assert_false(ev.v[0].sent);
	cwmp_sim_events_clear(&ev);
}

/* Full: the oldest keyed event gives way, never BOOT. */
static void test_cap(void **state)
{
	struct cwmp_sim_events ev = { 0 };
	char key[16];
	(void)state;
	cwmp_sim_events_add(&ev, CWMP_SIM_EV_BOOT, NULL);
	for (int i = 0; i < CWMP_SIM_MAX_EVENTS + 5; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(cwmp_sim_events_add(&ev, CWMP_SIM_EV_M_REBOOT, key), 0);
	}
	assert_int_equal(ev.n, CWMP_SIM_MAX_EVENTS);
	assert_true(cwmp_sim_events_has(&ev, CWMP_SIM_EV_BOOT));
	assert_false(has_key(&ev, CWMP_SIM_EV_M_REBOOT, "k0"));
	snprintf(key, sizeof(key), "k%d", CWMP_SIM_MAX_EVENTS + 4);
	assert_true(has_key(&ev, CWMP_SIM_EV_M_REBOOT, key));
	cwmp_sim_events_clear(&ev);
}

/* TR-069's table with the defaults (m = 5 s, k = 2000). */
static void test_retry_table(void **state)
{
	static const double want[][2] = { { 5, 10 },      { 10, 20 },     { 20, 40 },
					  { 40, 80 },     { 80, 160 },    { 160, 320 },
					  { 320, 640 },   { 640, 1280 },  { 1280, 2560 },
					  { 2560, 5120 }, { 2560, 5120 }, { 2560, 5120 } };
	(void)state;
	for (unsigned n = 1; n <= 12; n++) {
		double lo, hi;
		cwmp_sim_retry_range(n, 5, 2000, &lo, &hi);
		assert_true(lo == want[n - 1][0]);
		assert_true(hi == want[n - 1][1]);
	}
	assert_true(cwmp_sim_retry_wait(1, 5, 2000, 0) == 5);
	assert_true(cwmp_sim_retry_wait(1, 5, 2000, 0.5) == 7.5);
	assert_true(cwmp_sim_retry_wait(100, 5, 2000, 0.999) < 5120);
	assert_true(cwmp_sim_retry_wait(100, 5, 2000, 0.999) >= 2560);
}

static void test_retry_scaled(void **state)
{
	double lo, hi;
	(void)state;
	cwmp_sim_retry_range(3, 0.1, 2000, &lo, &hi); /* a test's --retry-base 0.1 */
	assert_true(lo > 0.399 && lo < 0.401);
	assert_true(hi > 0.799 && hi < 0.801);
	cwmp_sim_retry_range(2, 10, 1500, &lo, &hi); /* a multiplier of 1.5 */
	assert_true(lo == 15 && hi == 22.5);
	cwmp_sim_retry_range(0, 5, 2000, &lo, &hi); /* 0 is read as the first retry */
	assert_true(lo == 5 && hi == 10);
}

static void test_retry_after(void **state)
{
	(void)state;
	assert_true(cwmp_sim_retry_after_wait(60, 0) == 60);
	assert_true(cwmp_sim_retry_after_wait(60, 0.999) < 75);
	assert_true(cwmp_sim_retry_after_wait(60, 0.999) > 74);
	assert_true(cwmp_sim_retry_after_wait(1, 0.5) == 1.5); /* at least 1 s of jitter */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codes),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_delivered),
		cmocka_unit_test(test_failed_session),
		cmocka_unit_test(test_unsent_cr_survives),
		cmocka_unit_test(test_reboot_drops),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_retry_table),
		cmocka_unit_test(test_retry_scaled),
		cmocka_unit_test(test_retry_after),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
