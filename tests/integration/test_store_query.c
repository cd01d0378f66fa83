/*
 * test_store_query.c — store_query against a real PostgreSQL: selectors
 * (each field and their AND), tags, inventory JSON and its pages, agent details,
 * snapshot reads, task insert/status, the agents to probe at start-up.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store_query.h"
#include "store_reconcile.h"
#include "test_store_common.h"

static struct tdb t;

static int setup(void **state)
{
	tdb_create(&t, "query");
	tdb_exec(
		t.c,
		"INSERT INTO agents (eid, online, model_name, manufacturer, software_version, tags)"
		" VALUES ('os::acme-1', true, 'X1', 'Acme', '1.0', '{lab}'),"
		" ('os::acme-2', false, 'X1', 'Acme', '2.0', '{lab,eu}'),"
		" ('os::acme-3', true, 'X2', 'Acme', '2.0', '{}'),"
		" ('proto::other_1', true, 'Z', 'Other', '2.0', '{eu}'),"
		" ('proto::other%1', false, 'Z', 'Other', '1.0', '{}')");
	tdb_exec(t.c, "INSERT INTO snapshot_objects (eid, obj, params, updated_at) VALUES"
		      " ('os::acme-1', 'Device.DeviceInfo.',"
		      "  '{\"ModelName\": \"X1\", \"SoftwareVersion\": \"1.0\"}', now()),"
		      " ('os::acme-1', 'Device.IP.Interface.1.', '{\"Name\": \"wan\"}', now()),"
		      " ('os::acme-1', 'Device.IP.', '{\"Interface_x\": \"no\"}', now())");
	tdb_exec(t.c, "INSERT INTO agent_subscriptions (eid, sub_id, notif_type, reference_list)"
		      " VALUES ('os::acme-1', 'uspc-boot', 'Event', 'Device.Boot!')");
	return 0;
}

static int teardown(void **state)
{
	tdb_drop(&t);
	return 0;
}

/* Resolve and join the EIDs with ',' into buf. */
static int resolve(const struct store_selector *s, char *buf, size_t len)
{
	struct uspc_err err = { 0 };
	char **v = NULL;
	size_t n = 0;
	int rc = store_query_resolve(t.c, s, 0, &v, &n, &err);
	buf[0] = '\0';
	for (size_t i = 0; rc == 0 && i < n; i++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", i ? "," : "", v[i]);
	store_strv_free(v, n);
	return rc;
}

static void selectors_filter_and_combine(void **state)
{
	struct store_selector s;
	char buf[512];
	store_selector_init(&s);
	assert_int_equal(resolve(&s, buf, sizeof(buf)), STORE_E_ARG); /* empty: refused */
	s.all = 1;
	assert_int_equal(resolve(&s, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "os::acme-1,os::acme-2,os::acme-3,proto::other%1,proto::other_1");
	store_selector_init(&s);
	s.tag = "lab";
	assert_int_equal(resolve(&s, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "os::acme-1,os::acme-2");
	s.online = 1; /* AND */
	assert_int_equal(resolve(&s, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "os::acme-1");
	store_selector_init(&s);
	s.model = "X1";
	s.software_version = "2.0";
	assert_int_equal(resolve(&s, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "os::acme-2");
	store_selector_init(&s);
	s.manufacturer = "Other";
	s.online = 0;
	assert_int_equal(resolve(&s, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "proto::other%1");
}

static void eid_glob_and_lists(void **state)
{
	struct store_selector s;
	char buf[512];
	store_selector_init(&s);
	s.eid_glob = "os::acme-?";
	assert_int_equal(resolve(&s, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "os::acme-1,os::acme-2,os::acme-3");
	/* % and _ are literal in a glob; \* escapes. */
	s.eid_glob = "proto::other%*";
	assert_int_equal(resolve(&s, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "proto::other%1");
	s.eid_glob = "*_1";
	assert_int_equal(resolve(&s, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "proto::other_1");
	store_selector_init(&s);
	const char *eids[] = { "os::acme-3", "unknown::x", "os::acme-1" };
	s.eids = eids;
	s.n_eids = 3;
	assert_int_equal(resolve(&s, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "os::acme-1,os::acme-3"); /* known ones, sorted */
	s.online = 0;
	assert_int_equal(resolve(&s, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	/* More matches than allowed is an error, not a silent cut. */
	struct uspc_err err = { 0 };
	char **v = NULL;
	size_t n = 0;
	store_selector_init(&s);
	s.all = 1;
	assert_int_equal(store_query_resolve(t.c, &s, 2, &v, &n, &err), STORE_E_ARG);
	assert_null(v);
}

/* The EIDs of a page of agents, joined with ','. */
static int page(const struct store_selector *s, const char *after, size_t limit, char *buf,
		size_t len)
{
	struct uspc_err err = { 0 };
	cJSON *arr = NULL;
	int rc = store_query_agents_page(t.c, s, after, limit, &arr, &err);
	buf[0] = '\0';
	for (const cJSON *a = arr ? arr->child : NULL; a; a = a->next)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", buf[0] ? "," : "",
			 cJSON_GetObjectItemCaseSensitive(a, "eid")->valuestring);
	cJSON_Delete(arr);
	return rc;
}

/* Keyset paging by eid in byte order ('%' sorts before '_'), with the
 * selector's filters; a limit cuts, never fails; no limit keeps the cap. */
static void agents_page_by_eid(void **state)
{
	struct store_selector s;
	char buf[512];
	store_selector_init(&s);
	s.all = 1;
	assert_int_equal(page(&s, NULL, 2, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "os::acme-1,os::acme-2");
	assert_int_equal(page(&s, "os::acme-2", 2, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "os::acme-3,proto::other%1");
	assert_int_equal(page(&s, "proto::other%1", 2, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "proto::other_1");
	assert_int_equal(page(&s, "proto::other_1", 2, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	/* after need not be an agent */
	assert_int_equal(page(&s, "os::b", 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "proto::other%1,proto::other_1");
	s.all = 0;
	s.online = 1;
	assert_int_equal(page(&s, "os::acme-1", 1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "os::acme-3");
	assert_int_equal(page(&s, "", 1, buf, sizeof(buf)), STORE_E_ARG);
	/* store_query_agents is page(NULL, 0): more than max is an error */
	cJSON *arr = NULL;
	struct uspc_err err = { 0 };
	store_selector_init(&s);
	s.all = 1;
	assert_int_equal(store_query_agents(t.c, &s, 2, &arr, &err), STORE_E_ARG);
	assert_null(arr);
}

static void tag_and_untag(void **state)
{
	struct uspc_err err = { 0 };
	struct store_selector s;
	size_t changed = 0;
	store_selector_init(&s);
	s.model = "X1";
	assert_int_equal(store_query_tag(t.c, &s, "eu", 1, &changed, &err), 0);
	assert_int_equal(changed, 1); /* acme-2 already had it */
	assert_int_equal(store_query_tag(t.c, &s, "eu", 1, &changed, &err), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(tdb_int(t.c, "SELECT count(*) FROM agents WHERE tags @> '{eu}'"), 3);
	assert_int_equal(store_query_tag(t.c, &s, "eu", 0, &changed, &err), 0);
	assert_int_equal(changed, 2);
	assert_int_equal(store_query_tag(t.c, &s, "bad tag", 1, &changed, &err), STORE_E_ARG);
	assert_int_equal(tdb_int(t.c, "SELECT count(*) FROM agents WHERE tags @> '{eu}'"), 1);
}

static void agents_json_and_show(void **state)
{
	struct uspc_err err = { 0 };
	struct store_selector s;
	cJSON *j = NULL;
	store_selector_init(&s);
	s.manufacturer = "Acme";
	assert_int_equal(store_query_agents(t.c, &s, 0, &j, &err), 0);
	assert_int_equal(cJSON_GetArraySize(j), 3);
	cJSON *a0 = cJSON_GetArrayItem(j, 0);
	assert_string_equal(cJSON_GetObjectItem(a0, "eid")->valuestring, "os::acme-1");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(a0, "online")));
	assert_string_equal(cJSON_GetObjectItem(a0, "model_name")->valuestring, "X1");
	assert_null(cJSON_GetObjectItem(a0, "serial_number")); /* NULLs omitted */
	cJSON_Delete(j);
	assert_int_equal(store_query_agents(t.c, &s, 2, &j, &err), STORE_E_ARG);
	assert_int_equal(store_query_agent_show(t.c, "os::acme-1", &j, &err), 0);
	cJSON *subs = cJSON_GetObjectItem(j, "subscriptions");
	assert_int_equal(cJSON_GetArraySize(subs), 1);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(subs, 0), "sub_id")->valuestring,
			    "uspc-boot");
	assert_string_equal(cJSON_GetObjectItem(j, "eid")->valuestring, "os::acme-1");
	cJSON_Delete(j);
	assert_int_equal(store_query_agent_show(t.c, "nobody", &j, &err), STORE_E_NOTFOUND);
	assert_null(j);
}

static void snapshot_reads_by_prefix(void **state)
{
	struct uspc_err err = { 0 };
	cJSON *j = NULL;
	assert_int_equal(store_query_snapshot(t.c, "os::acme-1", "Device.DeviceInfo.", 0, &j, &err),
			 0);
	assert_int_equal(cJSON_GetArraySize(j), 2);
	cJSON *v = cJSON_GetObjectItem(j, "Device.DeviceInfo.SoftwareVersion");
	assert_string_equal(cJSON_GetObjectItem(v, "value")->valuestring, "1.0");
	assert_non_null(cJSON_GetObjectItem(v, "updated_at"));
	cJSON_Delete(j);
	/* '_' in a prefix is literal: Interface_x is not under "Device.IP.Interface." */
	assert_int_equal(
		store_query_snapshot(t.c, "os::acme-1", "Device.IP.Interface.", 0, &j, &err), 0);
	assert_int_equal(cJSON_GetArraySize(j), 1);
	cJSON_Delete(j);
	assert_int_equal(store_query_snapshot(t.c, "os::acme-1", NULL, 3, &j, &err), STORE_E_ARG);
	assert_int_equal(store_query_snapshot(t.c, "os::acme-1", NULL, 4, &j, &err), 0);
	assert_int_equal(cJSON_GetArraySize(j), 4);
	cJSON_Delete(j);
}

static void tasks_insert_in_order_and_status(void **state)
{
	struct uspc_err err = { 0 };
	const char *eids[] = { "os::acme-3", "os::acme-1", "never::seen" };
	int64_t ids[3] = { 0 };
	struct store_task_spec spec = { .op = "get",
					.batch_id = "qb",
					.request_json = "{\"param_paths\":[\"Device.\"]}",
					.expires_in_ms = 60000 };
	tdb_exec(t.c, "LISTEN uspc_task_new");
	assert_int_equal(store_query_insert_tasks(t.c, eids, 3, &spec, ids, &err), 0);
	PGnotify *nt = tdb_wait_notify(t.c, 60000);
	assert_non_null(nt);
	assert_string_equal(nt->relname, "uspc_task_new");
	PQfreemem(nt);
	cJSON *j = NULL;
	/* A daemon parked the second one (its agent is not ready). */
	char park[96];
	snprintf(park, sizeof(park), "UPDATE tasks SET parked = true WHERE id = %lld",
		 (long long)ids[1]);
	tdb_exec(t.c, park);
	assert_int_equal(store_query_task_status(t.c, ids, 3, &j, &err), 0);
	assert_int_equal(cJSON_GetArraySize(j), 3);
	for (int i = 0; i < 3; i++) {
		cJSON *o = cJSON_GetArrayItem(j, i);
		if (i == 1)
			assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "parked")));
		else
			assert_null(cJSON_GetObjectItem(o, "parked"));
		assert_int_equal((int64_t)cJSON_GetObjectItem(o, "id")->valuedouble, ids[i]);
		assert_string_equal(cJSON_GetObjectItem(o, "eid")->valuestring, eids[i]);
		assert_string_equal(cJSON_GetObjectItem(o, "state")->valuestring, "queued");
		assert_non_null(cJSON_GetObjectItem(o, "expires_at"));
		assert_string_equal(
			cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "request"),
							       "param_paths"),
					   0)
				->valuestring,
			"Device.");
	}
	cJSON_Delete(j);
	assert_int_equal(store_query_batch_status(t.c, "qb", &j, &err), 0);
	assert_int_equal(cJSON_GetArraySize(j), 3);
	cJSON_Delete(j);
	spec.request_json = "[1,2]";
	assert_int_equal(store_query_insert_tasks(t.c, eids, 3, &spec, ids, &err), STORE_E_ARG);
	spec.request_json = "{}";
	spec.op = "Get; DROP TABLE tasks";
	assert_int_equal(store_query_insert_tasks(t.c, eids, 3, &spec, ids, &err), STORE_E_ARG);
	assert_int_equal(tdb_int(t.c, "SELECT count(*) FROM tasks"), 3);
	assert_int_equal(store_task_state_from_name("expired"), STORE_TASK_EXPIRED);
	assert_string_equal(store_task_state_name(STORE_TASK_CANCELED), "canceled");
	assert_true(store_task_state_is_final(STORE_TASK_DONE));
	assert_false(store_task_state_is_final(STORE_TASK_SENT));
	assert_int_equal(store_task_state_from_name("unknown"), STORE_TASK_UNKNOWN);
	assert_true(store_task_state_is_final(STORE_TASK_UNKNOWN));
	assert_string_equal(store_task_state_name(STORE_TASK_STATE_COUNT_), "?");
}

/* Agents online in the inventory with a reply topic but not onboarded
 * since they came online (their connect record may have died with a
 * crashed daemon), oldest first, bounded. */
static void agents_to_probe(void **state)
{
	struct tdb p;
	struct uspc_err err = { 0 };
	struct store_agent_ref *r = NULL;
	size_t n = 99;
	tdb_create(&p, "probe");
	assert_int_equal(store_agents_to_probe(p.c, 10, &r, &n, &err), 0);
	assert_null(r);
	assert_int_equal(n, 0);
	tdb_exec(
		p.c,
		"INSERT INTO agents (eid, online, online_since, onboarded_at, reply_topic,"
		" mqtt_version) VALUES"
		/* never onboarded */
		" ('pr::new', true, now() - interval '2 minutes', NULL, 'usp/agent/new', 5),"
		/* onboarded in an earlier session only */
		" ('pr::again', true, now() - interval '3 minutes', now() - interval '1 hour',"
		"  'usp/agent/again', 4),"
		/* onboarded since it came online */
		" ('pr::ok', true, now() - interval '5 minutes', now(), 'usp/agent/ok', 5),"
		/* offline */
		" ('pr::off', false, now() - interval '5 minutes', NULL, 'usp/agent/off', 5),"
		/* no reply topic: cannot be reached */
		" ('pr::notopic', true, now() - interval '5 minutes', NULL, NULL, 5),"
		" ('pr::empty', true, now() - interval '5 minutes', NULL, '', 5),"
		/* version unknown */
		" ('pr::nover', true, now() - interval '1 minute', NULL, 'usp/agent/nover', NULL)");
	assert_int_equal(store_agents_to_probe(p.c, 10, &r, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(r[0].eid, "pr::again");
	assert_string_equal(r[0].reply_topic, "usp/agent/again");
	assert_int_equal(r[0].mqtt_version, 4);
	assert_string_equal(r[1].eid, "pr::new");
	assert_int_equal(r[1].mqtt_version, 5);
	assert_string_equal(r[2].eid, "pr::nover");
	assert_int_equal(r[2].mqtt_version, 0);
	store_agent_refs_free(r, n);
	assert_int_equal(store_agents_to_probe(p.c, 2, &r, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(r[1].eid, "pr::new");
	store_agent_refs_free(r, n);
	store_agent_refs_free(NULL, 0);
	tdb_drop(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(selectors_filter_and_combine),
		cmocka_unit_test(eid_glob_and_lists),
		cmocka_unit_test(agents_page_by_eid),
		cmocka_unit_test(tag_and_untag),
		cmocka_unit_test(agents_json_and_show),
		cmocka_unit_test(snapshot_reads_by_prefix),
		cmocka_unit_test(tasks_insert_in_order_and_status),
		cmocka_unit_test(agents_to_probe),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
