/* Unit tests for core_tracker: match by (agent, msg_id), duplicates,
 * deadline order, hard cap, per-agent pending counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core_tracker.h"

static void test_match_and_unknown(void **state)
{
	(void)state;
	struct core_registry *reg = core_registry_new(10);
	struct core_agent *a = core_registry_get(reg, "a", NULL);
	struct core_agent *b = core_registry_get(reg, "b", NULL);
	struct core_tracker *t = core_tracker_new(100);
	struct core_req *r = core_tracker_add(t, a, "m1", CORE_REQ_TASK, 1000);
	assert_non_null(r);
	r->task_id = 42;
	assert_int_equal(a->pending, 1);
	assert_null(core_tracker_add(t, a, "m1", CORE_REQ_TASK, 1000)); /* duplicate key */
	assert_null(core_tracker_take(t, b, "m1"));                     /* other agent */
	assert_null(core_tracker_take(t, a, "m2"));                     /* unknown id */
	struct core_req *got = core_tracker_take(t, a, "m1");
	assert_ptr_equal(got, r);
	assert_int_equal(got->task_id, 42);
	assert_int_equal(a->pending, 0);
	assert_null(core_tracker_take(t, a, "m1")); /* late duplicate */
	core_req_free(got);
	core_tracker_free(t);
	core_registry_free(reg);
}

static void test_deadline_order(void **state)
{
	(void)state;
	struct core_registry *reg = core_registry_new(10);
	struct core_agent *a = core_registry_get(reg, "a", NULL);
	struct core_tracker *t = core_tracker_new(1000);
	/* deadlines in scrambled order */
	int64_t dls[] = { 50, 10, 40, 30, 20, 60, 5 };
	char id[16];
	for (size_t i = 0; i < sizeof(dls) / sizeof(dls[0]); i++) {
		snprintf(id, sizeof(id), "m%zu", i);
		assert_non_null(core_tracker_add(t, a, id, CORE_REQ_TASK, dls[i]));
	}
	assert_int_equal(core_tracker_next_deadline(t), 5);
	/* remove one from the middle: order must survive */
	core_req_free(core_tracker_take(t, a, "m3")); /* deadline 30 */
	assert_null(core_tracker_pop_expired(t, 4));
	int64_t expect[] = { 5, 10, 20, 40 };
	for (size_t i = 0; i < 4; i++) {
		struct core_req *r = core_tracker_pop_expired(t, 45);
		assert_non_null(r);
		assert_int_equal(r->deadline_ms, expect[i]);
		core_req_free(r);
	}
	assert_null(core_tracker_pop_expired(t, 45));
	assert_int_equal(core_tracker_count(t), 2);
	assert_int_equal(a->pending, 2);
	core_tracker_free(t);
	core_registry_free(reg);
}

static void test_cap_and_long_id(void **state)
{
	(void)state;
	struct core_registry *reg = core_registry_new(10);
	struct core_agent *a = core_registry_get(reg, "a", NULL);
	struct core_tracker *t = core_tracker_new(2);
	assert_non_null(core_tracker_add(t, a, "1", CORE_REQ_TASK, 1));
	assert_non_null(core_tracker_add(t, a, "2", CORE_REQ_TASK, 1));
	assert_null(core_tracker_add(t, a, "3", CORE_REQ_TASK, 1));
	core_req_free(core_tracker_pop_any(t));
	char big[USP_MSG_ID_MAX_LEN + 2];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_null(core_tracker_add(t, a, big, CORE_REQ_TASK, 1));
	core_tracker_free(t);
	core_registry_free(reg);
}

static void test_many_random(void **state)
{
	(void)state;
	struct core_registry *reg = core_registry_new(100);
	struct core_agent *ag[4];
	for (int i = 0; i < 4; i++) {
		char e[8];
		snprintf(e, sizeof(e), "a%d", i);
		ag[i] = core_registry_get(reg, e, NULL);
	}
	struct core_tracker *t = core_tracker_new(100000);
	srand(7);
	char id[32];
	for (int i = 0; i < 20000; i++) {
		snprintf(id, sizeof(id), "id-%d", i);
		assert_non_null(core_tracker_add(t, ag[i % 4], id, CORE_REQ_TASK, rand() % 100000));
	}
	/* take every third by key, then pop the rest by deadline: nondecreasing */
	for (int i = 0; i < 20000; i += 3) {
		snprintf(id, sizeof(id), "id-%d", i);
		struct core_req *r = core_tracker_take(t, ag[i % 4], id);
		assert_non_null(r);
		core_req_free(r);
	}
	int64_t last = -1;
	size_t n = 0;
	struct core_req *r;
	while ((r = core_tracker_pop_expired(t, 1 << 30))) {
		assert_true(r->deadline_ms >= last);
		last = r->deadline_ms;
		core_req_free(r);
		n++;
	}
	assert_int_equal(n, 20000 - 6667);
	for (int i = 0; i < 4; i++)
		assert_int_equal(ag[i]->pending, 0);
	core_tracker_free(t);
	core_registry_free(reg);
}

/* find leaves the entry in place; list_agent returns one agent's entries
 * (or everyone's); set_deadline reorders the timeout heap. */
static void test_find_list_deadline(void **state)
{
	(void)state;
	struct core_registry *reg = core_registry_new(10);
	struct core_agent *a = core_registry_get(reg, "a", NULL);
	struct core_agent *b = core_registry_get(reg, "b", NULL);
	struct core_tracker *t = core_tracker_new(100);
	struct core_req *a1 = core_tracker_add(t, a, "m1", CORE_REQ_TASK, 1000);
	struct core_req *a2 = core_tracker_add(t, a, "m2", CORE_REQ_TASK, 2000);
	struct core_req *b1 = core_tracker_add(t, b, "m1", CORE_REQ_TASK, 3000);
	assert_ptr_equal(core_tracker_find(t, a, "m1"), a1);
	assert_ptr_equal(core_tracker_find(t, b, "m1"), b1);
	assert_null(core_tracker_find(t, b, "m2"));
	assert_int_equal(core_tracker_count(t), 3);
	struct core_req *list[4];
	size_t n = core_tracker_list_agent(t, a, list, 4);
	assert_int_equal(n, 2);
	assert_true((list[0] == a1 && list[1] == a2) || (list[0] == a2 && list[1] == a1));
	assert_int_equal(core_tracker_list_agent(t, NULL, list, 4), 3);
	assert_int_equal(core_tracker_list_agent(t, a, list, 1), 1);
	core_tracker_set_deadline(t, b1, 500);
	assert_int_equal(core_tracker_next_deadline(t), 500);
	assert_ptr_equal(core_tracker_pop_expired(t, 600), b1);
	core_req_free(b1);
	core_req_free(core_tracker_take(t, a, "m1"));
	core_req_free(core_tracker_take(t, a, "m2"));
	core_tracker_free(t);
	core_registry_free(reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_and_unknown),  cmocka_unit_test(test_deadline_order),
		cmocka_unit_test(test_cap_and_long_id),    cmocka_unit_test(test_many_random),
		cmocka_unit_test(test_find_list_deadline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
