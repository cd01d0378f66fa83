/* Unit tests for core_registry: lookup/insert, growth, cap, online count,
 * Notify duplicate cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core_registry.h"

static void test_get_find(void **state)
{
	(void)state;
	struct core_registry *r = core_registry_new(100);
	int created = 0;
	struct core_agent *a = core_registry_get(r, "os::A", &created);
	assert_non_null(a);
	assert_int_equal(created, 1);
	assert_string_equal(a->eid, "os::A");
	assert_ptr_equal(core_registry_get(r, "os::A", &created), a);
	assert_int_equal(created, 0);
	assert_ptr_equal(core_registry_find(r, "os::A"), a);
	assert_null(core_registry_find(r, "os::B"));
	assert_int_equal(core_registry_count(r), 1);
	core_registry_free(r);
}

static void test_growth_keeps_entries(void **state)
{
	(void)state;
	struct core_registry *r = core_registry_new(100000);
	char eid[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(eid, sizeof(eid), "os::SIM%06d", i);
		assert_non_null(core_registry_get(r, eid, NULL));
	}
	assert_int_equal(core_registry_count(r), 5000);
	for (int i = 0; i < 5000; i++) {
		snprintf(eid, sizeof(eid), "os::SIM%06d", i);
		struct core_agent *a = core_registry_find(r, eid);
		assert_non_null(a);
		assert_string_equal(a->eid, eid);
	}
	core_registry_free(r);
}

static void test_cap(void **state)
{
	(void)state;
	struct core_registry *r = core_registry_new(2);
	int created;
	assert_non_null(core_registry_get(r, "a", &created));
	assert_non_null(core_registry_get(r, "b", &created));
	assert_null(core_registry_get(r, "c", &created));
	assert_int_equal(created, 0);
	assert_non_null(core_registry_get(r, "a", &created)); /* existing still found */
	core_registry_free(r);
}

static void test_online_count(void **state)
{
	(void)state;
	struct core_registry *r = core_registry_new(10);
	struct core_agent *a = core_registry_get(r, "a", NULL);
	struct core_agent *b = core_registry_get(r, "b", NULL);
	core_registry_set_online(r, a, 1);
	core_registry_set_online(r, a, 1);
	core_registry_set_online(r, b, 1);
	assert_int_equal(core_registry_online(r), 2);
	core_registry_set_online(r, a, 0);
	core_registry_set_online(r, a, 0);
	assert_int_equal(core_registry_online(r), 1);
	core_registry_free(r);
}

static void test_topic(void **state)
{
	(void)state;
	struct core_registry *r = core_registry_new(10);
	struct core_agent *a = core_registry_get(r, "a", NULL);
	assert_int_equal(core_agent_set_topic(a, "usp/agent/a"), 0);
	assert_string_equal(a->reply_topic, "usp/agent/a");
	assert_int_equal(core_agent_set_topic(a, ""), -1);
	char big[CORE_TOPIC_MAX + 2];
	memset(big, 't', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(core_agent_set_topic(a, big), -1);
	assert_string_equal(a->reply_topic, "usp/agent/a");
	core_registry_free(r);
}

static void test_notify_dedup(void **state)
{
	(void)state;
	struct core_registry *r = core_registry_new(10);
	struct core_agent *a = core_registry_get(r, "a", NULL);
	struct core_agent *b = core_registry_get(r, "b", NULL);
	assert_int_equal(core_agent_notify_seen(a, "n-1"), 0);
	assert_int_equal(core_agent_notify_seen(a, "n-1"), 1);
	assert_int_equal(core_agent_notify_seen(b, "n-1"), 0); /* per agent */
	char id[16];
	for (int i = 2; i < 2 + CORE_NOTIFY_DEDUP; i++) {
		snprintf(id, sizeof(id), "n-%d", i);
		assert_int_equal(core_agent_notify_seen(a, id), 0);
	}
	/* n-1 has been pushed out of the bounded cache */
	assert_int_equal(core_agent_notify_seen(a, "n-1"), 0);
	snprintf(id, sizeof(id), "n-%d", 1 + CORE_NOTIFY_DEDUP);
	assert_int_equal(core_agent_notify_seen(a, id), 1);
	core_registry_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_find), cmocka_unit_test(test_growth_keeps_entries),
		cmocka_unit_test(test_cap),      cmocka_unit_test(test_online_count),
		cmocka_unit_test(test_topic),    cmocka_unit_test(test_notify_dedup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
