/* Unit tests for core_registry: lookup/insert, growth, cap, online count,
 * Notify duplicate cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core_registry.h"
#include "usp_err.h"

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
	struct core_agent *a = core_registry_get(r, "a", &created);
	struct core_agent *b = core_registry_get(r, "b", &created);
	assert_non_null(a);
	assert_non_null(b);
	/* Neither is idle: the cap holds. */
	core_registry_set_online(r, a, 1);
	b->pending = 1;
	assert_null(core_registry_get(r, "c", &created));
	assert_int_equal(created, 0);
	assert_non_null(core_registry_get(r, "a", &created)); /* existing still found */
	assert_int_equal(core_registry_count(r), 2);
	b->pending = 0;
	core_registry_free(r);
}

/* A full registry makes room by evicting an idle agent, never a busy one. */
static void test_evicts_idle(void **state)
{
	(void)state;
	struct core_registry *r = core_registry_new(3);
	int created;
	struct core_agent *on = core_registry_get(r, "online", &created);
	struct core_agent *queued = core_registry_get(r, "queued", &created);
	assert_non_null(core_registry_get(r, "idle", &created));
	core_registry_set_online(r, on, 1);
	queued->onboard_queued = 1;
	struct core_agent *n = core_registry_get(r, "new", &created);
	assert_non_null(n);
	assert_int_equal(created, 1);
	assert_int_equal(core_registry_count(r), 3);
	assert_int_equal(core_registry_evicted(r), 1);
	assert_null(core_registry_find(r, "idle"));
	assert_ptr_equal(core_registry_find(r, "online"), on);
	assert_ptr_equal(core_registry_find(r, "queued"), queued);
	/* Now nothing is idle but "new": it goes next, the others stay. */
	assert_non_null(core_registry_get(r, "newer", &created));
	assert_null(core_registry_find(r, "new"));
	n = core_registry_find(r, "newer");
	n->probe_queued = 1;
	assert_null(core_registry_get(r, "newest", &created));
	/* remove refuses a busy agent and takes an idle one */
	assert_int_equal(core_registry_remove(r, n), USPC_E_STATE);
	n->probe_queued = 0;
	assert_int_equal(core_registry_remove(r, n), 0);
	assert_null(core_registry_find(r, "newer"));
	assert_int_equal(core_registry_count(r), 2);
	queued->onboard_queued = 0;
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
	assert_int_equal(core_agent_set_topic(a, ""), USPC_E_INVAL);
	char big[CORE_TOPIC_MAX + 2];
	memset(big, 't', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(core_agent_set_topic(a, big), USPC_E_INVAL);
	assert_int_equal(core_agent_set_topic(a, "usp/agent/#"), USPC_E_INVAL);
	assert_int_equal(core_agent_set_topic(a, "usp/+/a"), USPC_E_INVAL);
	assert_string_equal(a->reply_topic, "usp/agent/a");
	core_registry_free(r);
}

/* A topic of the usual shape is kept in the entry; a longer one on the
 * heap; either replaces the other (ASan checks nothing leaks or overlaps). */
static void test_topic_room_and_heap(void **state)
{
	(void)state;
	struct core_registry *r = core_registry_new(10);
	struct core_agent *a = core_registry_get(r, "os::00D09E-1", NULL);
	assert_int_equal(core_agent_set_topic(a, "usp/agent/os::00D09E-1"), 0);
	const char *room = a->reply_topic;
	assert_ptr_equal(room, a->eid + strlen(a->eid) + 1);
	char lng[CORE_TOPIC_MAX + 1];
	memset(lng, 'x', sizeof(lng) - 1);
	lng[sizeof(lng) - 1] = '\0';
	assert_int_equal(core_agent_set_topic(a, lng), 0);
	assert_string_equal(a->reply_topic, lng);
	assert_ptr_not_equal(a->reply_topic, room);
	assert_string_equal(a->eid, "os::00D09E-1"); /* untouched */
	lng[100] = '\0';
	assert_int_equal(core_agent_set_topic(a, lng), 0); /* heap to heap */
	assert_string_equal(a->reply_topic, lng);
	assert_int_equal(core_agent_set_topic(a, "t/os::00D09E-1"), 0);
	assert_ptr_equal(a->reply_topic, room);
	assert_string_equal(a->reply_topic, "t/os::00D09E-1");
	assert_int_equal(core_agent_set_topic(a, lng), 0); /* freed by the registry */
	core_registry_free(r);
}

/* A removed entry's memory serves the next agent of the same size; an EID
 * over USP_EID_MAX_LEN is refused. */
static void test_pool_reuse(void **state)
{
	(void)state;
	struct core_registry *r = core_registry_new(10);
	struct core_agent *a = core_registry_get(r, "os::A1", NULL);
	char lng[CORE_TOPIC_MAX + 1];
	memset(lng, 'y', sizeof(lng) - 1);
	lng[sizeof(lng) - 1] = '\0';
	assert_int_equal(core_agent_set_topic(a, lng), 0); /* a heap topic, freed below */
	assert_int_equal(core_registry_remove(r, a), 0);
	struct core_agent *b = core_registry_get(r, "os::B2", NULL);
	assert_ptr_equal(b, a);
	assert_null(b->reply_topic);
	assert_int_equal(b->mqtt_v5, 1);
	assert_int_equal(b->pending, 0);
	assert_null(core_registry_find(r, "os::A1"));
	char eid[300];
	memset(eid, 'e', sizeof(eid) - 1);
	eid[sizeof(eid) - 1] = '\0';
	assert_null(core_registry_get(r, eid, NULL));
	eid[256] = '\0'; /* USP_EID_MAX_LEN */
	struct core_agent *c = core_registry_get(r, eid, NULL);
	assert_non_null(c);
	assert_string_equal(c->eid, eid);
	assert_int_equal(core_agent_set_topic(c, "p/"), 0);
	assert_string_equal(c->eid, eid);
	assert_int_equal(core_registry_count(r), 2);
	core_registry_free(r);
}

static void test_notify_dedup(void **state)
{
	(void)state;
	struct core_registry *r = core_registry_new(10);
	struct core_agent *a = core_registry_get(r, "a", NULL);
	struct core_agent *b = core_registry_get(r, "b", NULL);
	assert_int_equal(core_agent_notify_seen(a, "n-1", NULL), 0);
	assert_int_equal(core_agent_notify_seen(a, "n-1", NULL), 1);
	assert_int_equal(core_agent_notify_seen(b, "n-1", NULL), 0); /* per agent */
	char id[16];
	for (int i = 2; i < 2 + CORE_NOTIFY_DEDUP; i++) {
		snprintf(id, sizeof(id), "n-%d", i);
		assert_int_equal(core_agent_notify_seen(a, id, NULL), 0);
	}
	/* n-1 has been pushed out of the bounded cache */
	assert_int_equal(core_agent_notify_seen(a, "n-1", NULL), 0);
	snprintf(id, sizeof(id), "n-%d", 1 + CORE_NOTIFY_DEDUP);
	assert_int_equal(core_agent_notify_seen(a, id, NULL), 1);
	core_registry_free(r);
}

/* A retry needs no second NotifyResp while the first waits in the outbox;
 * once the outbox has handed that entry on (or the transport took the first
 * answer directly) the retry is answered again. */
static void test_notify_answer_waiting(void **state)
{
	(void)state;
	struct core_registry *r = core_registry_new(10);
	struct core_agent *a = core_registry_get(r, "a", NULL);
	unsigned slot = 99, again = 99;

	assert_int_equal(core_agent_notify_seen(a, "n-1", &slot), 0);
	assert_true(slot < CORE_NOTIFY_DEDUP);
	/* first answer queued as outbox entry 5; 3 entries handed on so far */
	core_agent_notify_answered(a, slot, 1, 5);
	assert_int_equal(core_agent_notify_seen(a, "n-1", &again), 1);
	assert_int_equal(again, slot);
	assert_int_equal(core_agent_notify_answer_waiting(a, slot, 3), 1);
	assert_int_equal(core_agent_notify_answer_waiting(a, slot, 4), 1);
	assert_int_equal(core_agent_notify_answer_waiting(a, slot, 5), 0); /* handed on */
	assert_int_equal(core_agent_notify_answer_waiting(a, slot, 9), 0);

	/* counters that wrapped past 2^32 compare the same way */
	core_agent_notify_answered(a, slot, 1, 2u);
	assert_int_equal(core_agent_notify_answer_waiting(a, slot, 0xfffffffeu), 1);
	assert_int_equal(core_agent_notify_answer_waiting(a, slot, 2u), 0);

	/* an answer the transport took directly never counts as waiting */
	core_agent_notify_answered(a, slot, 0, 0);
	assert_int_equal(core_agent_notify_answer_waiting(a, slot, 0), 0);

	/* another agent's entry is its own */
	struct core_agent *b = core_registry_get(r, "b", NULL);
	unsigned bslot = 99;
	assert_int_equal(core_agent_notify_seen(b, "n-1", &bslot), 0);
	assert_int_equal(core_agent_notify_answer_waiting(b, bslot, 0), 0);

	/* a slot reused by a new id forgets the old id's queued answer */
	core_agent_notify_answered(a, slot, 1, 100);
	char id[16];
	unsigned s2 = 99;
	for (int i = 2; i < 2 + CORE_NOTIFY_DEDUP; i++) {
		snprintf(id, sizeof(id), "n-%d", i);
		assert_int_equal(core_agent_notify_seen(a, id, &s2), 0);
	}
	assert_int_equal(s2, slot); /* the last one took n-1's slot */
	assert_int_equal(core_agent_notify_answer_waiting(a, s2, 0), 0);

	/* out-of-range slots are refused, not written */
	core_agent_notify_answered(a, CORE_NOTIFY_DEDUP, 1, 7);
	assert_int_equal(core_agent_notify_answer_waiting(a, CORE_NOTIFY_DEDUP, 0), 0);
	core_registry_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_find),
		cmocka_unit_test(test_growth_keeps_entries),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_evicts_idle),
		cmocka_unit_test(test_online_count),
		cmocka_unit_test(test_topic),
		cmocka_unit_test(test_notify_dedup),
		cmocka_unit_test(test_notify_answer_waiting),
		cmocka_unit_test(test_topic_room_and_heap),
		cmocka_unit_test(test_pool_reuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
