/*
 * test_store_writer.c — the writer thread against a real PostgreSQL: each op
 * kind lands in its table, ops are batched, duplicates and stale results are
 * ignored, a bad op is rejected alone, a full queue refuses with
 * STORE_E_FULL and recovers, nothing is dropped for a failure that is not
 * about the data (read-only database, statement timeout), and the commit
 * sequence (durable) never passes an op that is not committed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <poll.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "store_writer.h"
#include "test_store_common.h"

struct fx {
	struct tdb t;
	struct store_writer *w;
};

static int setup(void **state)
{
	static int n;
	char tag[16];
	struct fx *f = calloc(1, sizeof(*f));
	struct uspc_err err = { 0 };
	snprintf(tag, sizeof(tag), "w%d", n++);
	tdb_create(&f->t, tag);
	struct store_writer_opts o = { .conn = tdb_opts(&f->t), .node_id = "node-a" };
	if (store_writer_start(&o, &f->w, &err) < 0) {
		fprintf(stderr, "writer start: %s\n", err.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	store_writer_stop(f->w, 5000);
	tdb_drop(&f->t);
	free(f);
	return 0;
}

static void flush(struct fx *f)
{
	assert_int_equal(store_writer_flush(f->w, 10000), 0);
}

static void agent_state_and_device_info(void **state)
{
	struct fx *f = *state;
	struct uspc_err err = { 0 };
	struct store_agent_state on = { .eid = "os::1",
					.online = 1,
					.reply_topic = "usp/agent/1",
					.mqtt_version = 5,
					.usp_versions = "1.3,1.4",
					.at_us = 1700000000000000 };
	assert_int_equal(store_writer_agent_state(f->w, &on, &err), 0);
	/* A later online event without a topic keeps the topic (same batch or not). */
	struct store_agent_state again = { .eid = "os::1", .online = 1, .at_us = 1700000001000000 };
	assert_int_equal(store_writer_agent_state(f->w, &again, &err), 0);
	struct store_device_info d = { .eid = "os::1",
				       .manufacturer = "Acme",
				       .model_name = "X1",
				       .software_version = "1.0" };
	assert_int_equal(store_writer_device_info(f->w, &d, &err), 0);
	flush(f); /* earlier online events have sent their wake-up already */
	tdb_exec(f->t.c, "LISTEN uspc_task_new");
	struct store_device_info d2 = { .eid = "os::1", .software_version = "1.1", .onboarded = 1 };
	assert_int_equal(store_writer_device_info(f->w, &d2, &err), 0);
	flush(f);
	/* Onboarded (and online) agents wake the task feeders after the commit. */
	PGnotify *nt = tdb_wait_notify(f->t.c, 60000);
	assert_non_null(nt);
	assert_string_equal(nt->relname, "uspc_task_new");
	PQfreemem(nt);
	tdb_exec(f->t.c, "UNLISTEN *");
	assert_int_equal(tdb_int(f->t.c,
				 "SELECT count(*) FROM agents WHERE eid = 'os::1' AND online"
				 " AND reply_topic = 'usp/agent/1' AND mqtt_version = 5"
				 " AND usp_versions = '1.3,1.4' AND manufacturer = 'Acme'"
				 " AND model_name = 'X1' AND software_version = '1.1'"
				 " AND onboarded_at IS NOT NULL"
				 " AND last_seen = to_timestamp(1700000001)"),
			 1);
	/* Offline, then an OLDER online event arrives late: stays offline. */
	struct store_agent_state off = { .eid = "os::1", .online = 0, .at_us = 1700000005000000 };
	assert_int_equal(store_writer_agent_state(f->w, &off, &err), 0);
	flush(f);
	struct store_agent_state late = { .eid = "os::1", .online = 1, .at_us = 1700000004000000 };
	assert_int_equal(store_writer_agent_state(f->w, &late, &err), 0);
	flush(f);
	assert_int_equal(tdb_int(f->t.c, "SELECT online::int FROM agents WHERE eid = 'os::1'"), 0);
}

/* Two daemons: one sees an agent's DisconnectRecord, the other its next
 * connect record, and the connect is stored first. The connect starts a
 * new online run although the row still says online; the older offline,
 * stored after it, is ignored. Without new_session online_since stayed at
 * the previous session's start, and a campaign waiting for the agent to
 * come back after its reboot never saw it back. */
static void connect_record_starts_a_new_session(void **state)
{
	struct fx *f = *state;
	struct uspc_err err;
	struct store_agent_state on = { .eid = "ns::1", .online = 1, .at_us = 1700000000000000 };
	assert_int_equal(store_writer_agent_state(f->w, &on, &err), 0);
	flush(f);
	/* the reconnect, seen by daemon B, stored first */
	struct store_agent_state back = {
		.eid = "ns::1", .online = 1, .at_us = 1700000009000000, .new_session = 1
	};
	assert_int_equal(store_writer_agent_state(f->w, &back, &err), 0);
	flush(f);
	/* the disconnect before it, seen by daemon A, stored last */
	struct store_agent_state off = { .eid = "ns::1", .online = 0, .at_us = 1700000008000000 };
	assert_int_equal(store_writer_agent_state(f->w, &off, &err), 0);
	flush(f);
	assert_int_equal(tdb_int(f->t.c,
				 "SELECT count(*) FROM agents WHERE eid = 'ns::1' AND online"
				 " AND online_since = to_timestamp(1700000009)"),
			 1);
	/* any other online report (an answer, a Notify) keeps the run */
	struct store_agent_state alive = { .eid = "ns::1", .online = 1, .at_us = 1700000010000000 };
	assert_int_equal(store_writer_agent_state(f->w, &alive, &err), 0);
	flush(f);
	assert_int_equal(tdb_int(f->t.c,
				 "SELECT count(*) FROM agents WHERE eid = 'ns::1' AND online"
				 " AND online_since = to_timestamp(1700000009)"),
			 1);
}

/* Wait (bounded) until the writer has taken every queued op into the batch
 * it is writing: ops submitted afterwards share the next batch. */
static void wait_batch_taken(struct store_writer *w, size_t batch_ops)
{
	struct store_writer_stats st;
	for (int i = 0; i < 6000; i++) { /* 60 s: CI shares two cores */
		store_writer_stats(w, &st);
		if (st.batch_ops == batch_ops && st.queue_ops == 0)
			return;
		tdb_sleep_ms(10);
	}
	fail_msg("writer did not take its batch (batch %zu, queued %zu)", st.batch_ops,
		 st.queue_ops);
}

static void agent_state(struct fx *f, const char *eid, int online, int64_t at_us)
{
	struct uspc_err err = { 0 };
	struct store_agent_state a = { .eid = eid, .online = online, .at_us = at_us };
	assert_int_equal(store_writer_agent_state(f->w, &a, &err), 0);
}

/* Offline and back online inside ONE batch is a new session: online_since
 * moves to the new online event, so an earlier onboarding no longer counts
 * (the feeder must wait for the agent to be onboarded again). */
static void offline_online_in_one_batch_resets_online_since(void **state)
{
	struct fx *f = *state;
	struct uspc_err err = { 0 };
	const int64_t t0 = 1700000000000000;
	agent_state(f, "fl::1", 1, t0);
	agent_state(f, "fl::2", 1, t0);
	agent_state(f, "blk::1", 1, t0);
	flush(f);
	struct store_device_info d = { .eid = "fl::1", .onboarded = 1, .at_us = t0 + 1000000 };
	assert_int_equal(store_writer_device_info(f->w, &d, &err), 0);
	flush(f);
	assert_int_equal(tdb_int(f->t.c, "SELECT count(*) FROM agents WHERE eid = 'fl::1' AND"
					 " online AND onboarded_at >= online_since"),
			 1);
	/* Hold blk::1's row: the writer's next batch (blk::1 alone) waits on it,
	 * and everything submitted meanwhile is written together afterwards. */
	struct store_writer_stats before, after;
	store_writer_stats(f->w, &before);
	PGconn *blocker = PQconnectdb(f->t.conninfo);
	assert_int_equal(PQstatus(blocker), CONNECTION_OK);
	tdb_exec(blocker, "BEGIN");
	tdb_exec(blocker, "SELECT 1 FROM agents WHERE eid = 'blk::1' FOR UPDATE");
	agent_state(f, "blk::1", 1, t0 + 1);
	wait_batch_taken(f->w, 1);
	agent_state(f, "fl::1", 0, t0 + 2000000); /* offline ... */
	agent_state(f, "fl::1", 1, t0 + 3000000); /* ... and back: new session */
	agent_state(f, "fl::1", 1, t0 + 4000000); /* a later record, same session */
	agent_state(f, "fl::2", 1, t0 + 3000000); /* still online: session kept */
	agent_state(f, "fl::3", 1, t0 + 5000000); /* new agent, first event */
	agent_state(f, "fl::3", 1, t0 + 6000000);
	agent_state(f, "fl::4", 1, t0 + 5000000); /* online then offline */
	agent_state(f, "fl::4", 0, t0 + 6000000);
	store_writer_stats(f->w, &after);
	assert_int_equal(after.queue_ops, 8);
	tdb_exec(blocker, "COMMIT");
	PQfinish(blocker);
	flush(f);
	store_writer_stats(f->w, &after);
	assert_int_equal(after.batches, before.batches + 2); /* the 8 ops were one batch */
	assert_int_equal(after.ops_rejected, 0);
	assert_int_equal(tdb_int(f->t.c,
				 "SELECT count(*) FROM agents WHERE eid = 'fl::1' AND online"
				 " AND online_since = to_timestamp(1700000003)"
				 " AND state_at = to_timestamp(1700000004)"
				 " AND onboarded_at = to_timestamp(1700000001)"),
			 1);
	/* The feeder's claim condition no longer holds for fl::1. */
	assert_int_equal(tdb_int(f->t.c,
				 "SELECT count(*) FROM agents WHERE eid = 'fl::1'"
				 " AND onboarded_at >= coalesce(online_since, '-infinity')"),
			 0);
	assert_int_equal(tdb_int(f->t.c,
				 "SELECT count(*) FROM agents WHERE eid = 'fl::2' AND online"
				 " AND online_since = to_timestamp(1700000000)"),
			 1);
	assert_int_equal(tdb_int(f->t.c,
				 "SELECT count(*) FROM agents WHERE eid = 'fl::3' AND online"
				 " AND online_since = to_timestamp(1700000005)"
				 " AND first_seen = to_timestamp(1700000005)"
				 " AND last_seen = to_timestamp(1700000006)"),
			 1);
	assert_int_equal(tdb_int(f->t.c, "SELECT count(*) FROM agents WHERE eid = 'fl::4'"
					 " AND NOT online AND state_at = to_timestamp(1700000006)"),
			 1);
	/* Onboarded again after the new session started: tasks may run. */
	d.at_us = t0 + 7000000;
	assert_int_equal(store_writer_device_info(f->w, &d, &err), 0);
	flush(f);
	assert_int_equal(tdb_int(f->t.c, "SELECT count(*) FROM agents WHERE eid = 'fl::1'"
					 " AND onboarded_at >= online_since"),
			 1);
}

/* Rows of agent sn::1 in the view snapshot that match a condition. */
static long long snap_count(struct fx *f, const char *cond)
{
	char sql[512];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM snapshot WHERE eid = 'sn::1' AND %s",
		 cond);
	return tdb_int(f->t.c, sql);
}

static void snapshot_upsert_delete_prefix(void **state)
{
	struct fx *f = *state;
	struct uspc_err err = { 0 };
	struct store_snapshot_row rows[] = {
		{ "Device.DeviceInfo.SoftwareVersion", "1.0" },
		{ "Device.IP.Interface.1.Enable", "true" },
		{ "Device.IP.Interface.1.Name", "wan" },
		{ "Device.IP.Interface.10.Name", "lan" },
		{ "Device.IP.Interface.1.Stats.BytesSent", "7" },
		{ "Device.X_quote\"back\\slash", "va\"l\\ue,{}\n" },
		{ "Device.DeviceInfo.ProvisioningCode", "" },
	};
	assert_int_equal(store_writer_snapshot(f->w, "sn::1", rows, 7, 0, &err), 0);
	struct store_snapshot_row upd[] = { { "Device.DeviceInfo.SoftwareVersion", "2.0" } };
	assert_int_equal(store_writer_snapshot(f->w, "sn::1", upd, 1, 0, &err), 0);
	/* A missing value is refused, and nothing of the call is queued. */
	struct store_snapshot_row miss[] = { { "Device.DeviceInfo.ModelName", "M" },
					     { "Device.IP.Interface.10.Name", NULL } };
	assert_int_equal(store_writer_snapshot(f->w, "sn::1", miss, 2, 0, &err), STORE_E_ARG);
	assert_non_null(strstr(err.msg, "Device.IP.Interface.10.Name"));
	flush(f);
	/* Seen through the view: one row per parameter, 5 objects behind them. */
	assert_int_equal(tdb_int(f->t.c, "SELECT count(*) FROM snapshot WHERE eid = 'sn::1'"), 7);
	assert_int_equal(
		tdb_int(f->t.c, "SELECT count(*) FROM snapshot_objects WHERE eid = 'sn::1'"), 5);
	assert_int_equal(
		snap_count(f, "path = 'Device.DeviceInfo.SoftwareVersion' AND value = '2.0'"), 1);
	assert_int_equal(
		snap_count(f, "path = 'Device.DeviceInfo.ProvisioningCode' AND value = ''"), 1);
	assert_int_equal(snap_count(f, "path = 'Device.X_quote\"back\\slash'"
				       " AND value = 'va\"l\\ue,{}' || chr(10)"),
			 1);
	assert_int_equal(snap_count(f, "path = 'Device.DeviceInfo.ModelName'"), 0);
	/* Prefix delete removes Interface.1. and its Stats. but not Interface.10. */
	assert_int_equal(
		store_writer_snapshot_delete_prefix(f->w, "sn::1", "Device.IP.Interface.1.", &err),
		0);
	assert_int_equal(store_writer_snapshot_delete_prefix(f->w, "sn::1", "Device.IP", &err),
			 STORE_E_ARG);
	flush(f);
	assert_int_equal(tdb_int(f->t.c, "SELECT count(*) FROM snapshot WHERE eid = 'sn::1'"), 4);
	assert_int_equal(tdb_int(f->t.c, "SELECT count(*) FROM snapshot WHERE eid = 'sn::1'"
					 " AND path LIKE 'Device.IP.Interface.1.%'"),
			 0);
	/* Invalid UTF-8 from an agent is repaired, not refused. */
	struct store_snapshot_row bad[] = { { "Device.Bad", "a\xff\xfe"
							    "b" } };
	assert_int_equal(store_writer_snapshot(f->w, "sn::1", bad, 1, 0, &err), 0);
	flush(f);
	assert_int_equal(tdb_int(f->t.c, "SELECT count(*) FROM snapshot WHERE value = 'a??b'"), 1);
}

/* A report that repeats the stored values leaves the object's row alone
 * (same tuple, same updated_at); a new value is merged over it; an older
 * report (another daemon's, delayed) only adds what the object lacks. */
static void snapshot_repeat_leaves_row(void **state)
{
	struct fx *f = *state;
	struct uspc_err err = { 0 };
	const int64_t t0 = 1700000000000000LL; /* µs since the epoch */
	struct store_snapshot_row v1[] = { { "Device.DeviceInfo.UpTime", "10" },
					   { "Device.DeviceInfo.ModelName", "M" } };
	assert_int_equal(store_writer_snapshot(f->w, "rp::1", v1, 2, t0, &err), 0);
	flush(f);
	const char *q_at = "SELECT (extract(epoch FROM updated_at) * 1000000)::bigint"
			   " FROM snapshot_objects WHERE eid = 'rp::1'";
	const char *q_tid = "SELECT ((ctid::text || xmin::text) <> coalesce(current_setting("
			    "'uspc_test.tid', true), ''))::int FROM snapshot_objects"
			    " WHERE eid = 'rp::1'";
	const char *q_val = "SELECT value FROM snapshot WHERE eid = 'rp::1'"
			    " AND path = 'Device.DeviceInfo.UpTime'";
	assert_int_equal(tdb_int(f->t.c, q_at), t0);
	tdb_exec(f->t.c, "SELECT set_config('uspc_test.tid', (SELECT ctid::text || xmin::text"
			 " FROM snapshot_objects WHERE eid = 'rp::1'), false)");
	/* The same values again, and a subset of them: no new row version. */
	assert_int_equal(store_writer_snapshot(f->w, "rp::1", v1, 2, t0 + 1000, &err), 0);
	assert_int_equal(store_writer_snapshot(f->w, "rp::1", v1, 1, t0 + 1100, &err), 0);
	flush(f);
	assert_int_equal(tdb_int(f->t.c, q_at), t0);
	assert_int_equal(tdb_int(f->t.c, q_tid), 0);
	struct store_snapshot_row v2 = { "Device.DeviceInfo.UpTime", "11" };
	assert_int_equal(store_writer_snapshot(f->w, "rp::1", &v2, 1, t0 + 2000, &err), 0);
	flush(f);
	assert_int_equal(tdb_int(f->t.c, q_at), t0 + 2000);
	assert_int_equal(tdb_int(f->t.c, q_tid), 1);
	assert_int_equal(tdb_int(f->t.c, q_val), 11);
	assert_int_equal(tdb_int(f->t.c,
				 "SELECT count(*) FROM snapshot WHERE eid = 'rp::1'"
				 " AND path = 'Device.DeviceInfo.ModelName' AND value = 'M'"),
			 1);
	/* Older than the object: UpTime stays 11, the new HardwareVersion lands. */
	struct store_snapshot_row old[] = { { "Device.DeviceInfo.UpTime", "9" },
					    { "Device.DeviceInfo.HardwareVersion", "H" } };
	assert_int_equal(store_writer_snapshot(f->w, "rp::1", old, 2, t0 + 1500, &err), 0);
	flush(f);
	assert_int_equal(tdb_int(f->t.c, q_val), 11);
	assert_int_equal(tdb_int(f->t.c, "SELECT count(*) FROM snapshot WHERE eid = 'rp::1'"), 3);
	assert_int_equal(tdb_int(f->t.c, q_at), t0 + 2000);
	/* An older report of nothing new does not rewrite the row. */
	tdb_exec(f->t.c, "SELECT set_config('uspc_test.tid', (SELECT ctid::text || xmin::text"
			 " FROM snapshot_objects WHERE eid = 'rp::1'), false)");
	assert_int_equal(store_writer_snapshot(f->w, "rp::1", old, 1, t0 + 1600, &err), 0);
	flush(f);
	assert_int_equal(tdb_int(f->t.c, q_tid), 0);
	assert_int_equal(tdb_int(f->t.c, q_val), 11);
}

static void notifications_stored_once(void **state)
{
	struct fx *f = *state;
	struct uspc_err err = { 0 };
	struct store_notification n = { .eid = "nt::1",
					.msg_id = "m-1",
					.subscription_id = "uspc-boot",
					.kind = "event",
					.path = "Device.Boot!",
					.payload_json = "{\"event\":{\"event_name\":\"Boot!\"}}" };
	for (int i = 0; i < 3; i++) /* retried Notify: same msg_id */
		assert_int_equal(store_writer_notification(f->w, &n, &err), 0);
	flush(f);
	n.msg_id = "m-2";
	n.kind = "value_change";
	n.path = "Device.DeviceInfo.SoftwareVersion";
	n.payload_json = NULL;
	assert_int_equal(store_writer_notification(f->w, &n, &err), 0);
	n.msg_id = "m-1"; /* retried again in a later batch */
	assert_int_equal(store_writer_notification(f->w, &n, &err), 0);
	n.kind = "bogus";
	assert_int_equal(store_writer_notification(f->w, &n, &err), STORE_E_ARG);
	flush(f);
	assert_int_equal(tdb_int(f->t.c, "SELECT count(*) FROM notifications WHERE eid = 'nt::1'"),
			 2);
	assert_int_equal(
		tdb_int(f->t.c,
			"SELECT count(*) FROM notifications WHERE msg_id = 'm-1'"
			" AND kind = 'event' AND payload->'event'->>'event_name' = 'Boot!'"),
		1);
	assert_int_equal(tdb_int(f->t.c, "SELECT count(*) FROM notifications WHERE msg_id = 'm-2'"
					 " AND payload = '{}'::jsonb"),
			 1);
}

/* Rejection counts add up per (sender, reason), within a batch and across
 * batches; the newest report's topic, detail and node win; the table is cut
 * to max_rows (newest last_at kept) and to retention_s. */
static void rejections_add_up_and_stay_bounded(void **state)
{
	struct fx *f = *state;
	struct uspc_err err = { 0 };
	const int64_t t0 = 1700000000000000;
	struct store_rejection r = { .sender = "rj::1",
				     .reason = "record_wrong_to_id",
				     .topic = "t/1",
				     .detail = "old",
				     .count = 3,
				     .first_us = t0,
				     .last_us = t0 + 1000000,
				     .max_rows = 100 };
	assert_int_equal(store_writer_rejection(f->w, &r, &err), 0);
	r.count = 4; /* the same key again, newer, maybe in the same batch */
	r.first_us = t0 + 2000000;
	r.last_us = t0 + 3000000;
	r.topic = NULL; /* keeps the stored topic */
	r.detail = "new";
	assert_int_equal(store_writer_rejection(f->w, &r, &err), 0);
	flush(f);
	r.count = 5; /* an older report in a later batch: counts, texts stay */
	r.first_us = t0 - 1000000;
	r.last_us = t0;
	r.topic = "t/older";
	r.detail = "older";
	assert_int_equal(store_writer_rejection(f->w, &r, &err), 0);
	flush(f);
	assert_int_equal(tdb_int(f->t.c, "SELECT count FROM rejections WHERE sender = 'rj::1'"),
			 12);
	assert_int_equal(
		tdb_int(f->t.c,
			"SELECT count(*) FROM rejections WHERE sender = 'rj::1' AND topic = 't/1'"
			" AND detail = 'new' AND node_id = 'node-a'"
			" AND first_at = to_timestamp(1699999999) AND last_at = to_timestamp(1700000003)"),
		1);
	/* bounds: 30 senders, max_rows 10 keeps the 10 newest; an old row goes */
	tdb_exec(f->t.c, "INSERT INTO rejections VALUES ('rj::old', 'x', NULL, NULL, 1,"
			 " now() - interval '2 days', now() - interval '2 days', 'n')");
	char who[32];
	for (int i = 0; i < 30; i++) {
		snprintf(who, sizeof(who), "rj::s%02d", i);
		struct store_rejection s = { .sender = who,
					     .reason = "identity_missing",
					     .count = 1,
					     .last_us = 0, /* now */
					     .max_rows = 10,
					     .retention_s = 86400 };
		assert_int_equal(store_writer_rejection(f->w, &s, &err), 0);
	}
	flush(f);
	assert_int_equal(tdb_int(f->t.c, "SELECT count(*) FROM rejections"), 10);
	assert_int_equal(
		tdb_int(f->t.c, "SELECT count(*) FROM rejections WHERE sender = 'rj::old'"), 0);
	/* arguments */
	r.count = 0;
	assert_int_equal(store_writer_rejection(f->w, &r, &err), STORE_E_ARG);
	r.count = 1;
	r.max_rows = 0;
	assert_int_equal(store_writer_rejection(f->w, &r, &err), STORE_E_ARG);
	r.max_rows = 1;
	r.sender = "";
	assert_int_equal(store_writer_rejection(f->w, &r, &err), STORE_E_ARG);
}

static void task_results_land_once_and_notify(void **state)
{
	struct fx *f = *state;
	struct uspc_err err = { 0 };
	tdb_exec(f->t.c, "INSERT INTO tasks (id, eid, op, request, state, claimed_by) VALUES"
			 " (1, 'tk::1', 'get', '{}', 'sent', 'node-a'),"
			 " (2, 'tk::1', 'get', '{}', 'sent', 'node-b')," /* another daemon's */
			 " (3, 'tk::1', 'get', '{}', 'queued', NULL)");  /* re-queued meanwhile */
	tdb_exec(f->t.c, "LISTEN uspc_task_done");
	struct store_task_result r = { .task_id = 1,
				       .msg_id = "req-1",
				       .result_json = "{\"type\":\"get_resp\"}" };
	assert_int_equal(store_writer_task_result(f->w, &r, &err), 0);
	struct store_task_result again = {
		.task_id = 1, .failed = 1, .error_code = 7003, .error_message = "late duplicate"
	};
	assert_int_equal(store_writer_task_result(f->w, &again, &err), 0);
	r.task_id = 2;
	assert_int_equal(store_writer_task_result(f->w, &r, &err), 0);
	r.task_id = 3;
	assert_int_equal(store_writer_task_result(f->w, &r, &err), 0);
	flush(f);
	assert_int_equal(tdb_int(f->t.c,
				 "SELECT count(*) FROM tasks WHERE id = 1 AND state = 'done'"
				 " AND msg_id = 'req-1' AND result->>'type' = 'get_resp'"
				 " AND finished_at IS NOT NULL AND error_code IS NULL"),
			 1);
	assert_int_equal(
		tdb_int(f->t.c, "SELECT count(*) FROM tasks WHERE id = 2 AND state = 'sent'"), 1);
	assert_int_equal(
		tdb_int(f->t.c, "SELECT count(*) FROM tasks WHERE id = 3 AND state = 'queued'"), 1);
	struct store_writer_stats st;
	store_writer_stats(f->w, &st);
	assert_int_equal(st.task_results_stale, 3); /* duplicate of 1, and 2, and 3 */
	/* NOTIFY uspc_task_done carried exactly task 1. */
	PGnotify *nt = tdb_wait_notify(f->t.c, 60000);
	assert_non_null(nt);
	assert_string_equal(nt->relname, "uspc_task_done");
	assert_string_equal(nt->extra, "1");
	PQfreemem(nt);
	assert_null(PQnotifies(f->t.c));
}

static void oper_results_and_subscriptions(void **state)
{
	struct fx *f = *state;
	struct uspc_err err = { 0 };
	struct store_oper_result o = { .eid = "op::1",
				       .command_key = "k1",
				       .obj_path = "Device.IP.Diagnostics.",
				       .command_name = "IPPing()",
				       .state = "complete",
				       .output_json = "{\"AverageResponseTime\":\"3\"}",
				       .at_us = 1700000002000000 };
	assert_int_equal(store_writer_oper_result(f->w, &o, &err), 0);
	/* OperateResp processed after the completion: must not regress the state. */
	o.state = "requested";
	o.output_json = NULL;
	o.at_us = 1700000003000000;
	assert_int_equal(store_writer_oper_result(f->w, &o, &err), 0);
	o.state = "weird";
	assert_int_equal(store_writer_oper_result(f->w, &o, &err), STORE_E_ARG);
	struct store_subscription s = { .eid = "op::1",
					.sub_id = "uspc-boot",
					.notif_type = "Event",
					.reference_list = "Device.Boot!",
					.instance_path = "Device.LocalAgent.Subscription.1.",
					.enabled = 1 };
	assert_int_equal(store_writer_subscription(f->w, &s, &err), 0);
	s.sub_id = "uspc-vc";
	assert_int_equal(store_writer_subscription(f->w, &s, &err), 0);
	flush(f);
	assert_int_equal(
		tdb_int(f->t.c, "SELECT count(*) FROM operation_results WHERE eid = 'op::1'"
				" AND state = 'complete' AND output->>'AverageResponseTime' = '3'"),
		1);
	assert_int_equal(
		tdb_int(f->t.c, "SELECT count(*) FROM agent_subscriptions WHERE eid = 'op::1'"), 2);
	s.removed = 1;
	assert_int_equal(store_writer_subscription(f->w, &s, &err), 0);
	flush(f);
	assert_int_equal(tdb_int(f->t.c,
				 "SELECT count(*) FROM agent_subscriptions WHERE eid = 'op::1'"
				 " AND sub_id = 'uspc-boot' AND reference_list = 'Device.Boot!'"),
			 1);
	assert_int_equal(
		tdb_int(f->t.c, "SELECT count(*) FROM agent_subscriptions WHERE eid = 'op::1'"), 1);
}

/* Notifications are partitioned by UTC day and unique per day (schema
 * version 10): a retry received in the first hour of the next day is
 * still found in the day before; one received later in that day is a
 * second row (docs/retention.md). */
static void notification_retry_after_midnight_stored_once(void **state)
{
	struct fx *f = *state;
	struct uspc_err err = { 0 };
	const int64_t day_us = 86400LL * 1000000;
	int64_t midnight = (store_now_us() / day_us) * day_us; /* today, 00:00 UTC */
	struct store_notification n = { .eid = "nt::midnight",
					.msg_id = "m-late",
					.subscription_id = "uspc-boot",
					.kind = "event",
					.path = "Device.Boot!",
					.received_at_us = midnight - 1000000 }; /* 23:59:59 */
	assert_int_equal(store_writer_notification(f->w, &n, &err), 0);
	flush(f);
	n.received_at_us = midnight + 30 * 1000000LL; /* retried at 00:00:30 */
	assert_int_equal(store_writer_notification(f->w, &n, &err), 0);
	flush(f);
	assert_int_equal(
		tdb_int(f->t.c, "SELECT count(*) FROM notifications WHERE eid = 'nt::midnight'"),
		1);
	assert_int_equal(tdb_int(f->t.c, "SELECT count(*) FROM notifications WHERE eid ="
					 " 'nt::midnight' AND day = uspc_utc_day(now()) - 1"),
			 1);
	n.received_at_us = midnight + 2 * 3600 * 1000000LL; /* 02:00: past the hour */
	assert_int_equal(store_writer_notification(f->w, &n, &err), 0);
	flush(f);
	assert_int_equal(
		tdb_int(f->t.c, "SELECT count(*) FROM notifications WHERE eid = 'nt::midnight'"),
		2);
}

/* operation_results is partitioned by the day of a command's first write
 * (schema version 11): its OperationComplete, days later, updates that
 * row where it is instead of adding a second one in its own day. */
static void oper_result_of_an_earlier_day_is_updated_in_place(void **state)
{
	struct fx *f = *state;
	struct uspc_err err = { 0 };
	const int64_t day_us = 86400LL * 1000000;
	struct store_oper_result o = { .eid = "op::days",
				       .command_key = "k-days",
				       .obj_path = "Device.IP.Diagnostics.",
				       .command_name = "IPPing()",
				       .state = "requested",
				       .at_us = store_now_us() - 2 * day_us };
	assert_int_equal(store_writer_oper_result(f->w, &o, &err), 0);
	flush(f);
	o.state = "complete";
	o.output_json = "{\"SuccessCount\":\"3\"}";
	o.at_us = store_now_us();
	assert_int_equal(store_writer_oper_result(f->w, &o, &err), 0);
	flush(f);
	assert_int_equal(
		tdb_int(f->t.c, "SELECT count(*) FROM operation_results WHERE eid = 'op::days'"),
		1);
	assert_int_equal(
		tdb_int(f->t.c,
			"SELECT count(*) FROM operation_results WHERE eid ="
			" 'op::days' AND state = 'complete' AND day = uspc_utc_day(now()) - 2"
			" AND output->>'SuccessCount' = '3'"),
		1);
	/* a late OperateResp does not take it back to 'requested' */
	o.state = "requested";
	o.output_json = NULL;
	o.at_us = store_now_us();
	assert_int_equal(store_writer_oper_result(f->w, &o, &err), 0);
	flush(f);
	assert_int_equal(tdb_int(f->t.c, "SELECT count(*) FROM operation_results WHERE eid ="
					 " 'op::days' AND state = 'complete'"),
			 1);
}

static void ops_are_batched(void **state)
{
	struct fx *f = *state;
	struct uspc_err err = { 0 };
	const int n = 20000;
	char path[64], val[16];
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "Device.Bench.%d", i);
		snprintf(val, sizeof(val), "%d", i);
		struct store_snapshot_row row = { path, val };
		int rc;
		while ((rc = store_writer_snapshot(f->w, "bt::1", &row, 1, 0, &err)) ==
		       STORE_E_FULL)
			tdb_sleep_ms(1);
		assert_int_equal(rc, 0);
	}
	flush(f);
	struct store_writer_stats st;
	store_writer_stats(f->w, &st);
	assert_int_equal(tdb_int(f->t.c, "SELECT count(*) FROM snapshot WHERE eid = 'bt::1'"), n);
	assert_true(st.ops_written >= (uint64_t)n);
	assert_true(st.batches < (uint64_t)n / 10); /* batching happened */
	assert_int_equal(st.queue_ops, 0);
	assert_int_equal(st.lag_ms, 0);
}

static void bad_op_is_rejected_alone(void **state)
{
	struct fx *f = *state;
	struct uspc_err err = { 0 };
	/* Hold the notifications table so the following ops share one batch. */
	PGconn *blocker = PQconnectdb(f->t.conninfo);
	assert_int_equal(PQstatus(blocker), CONNECTION_OK);
	tdb_exec(blocker, "BEGIN");
	tdb_exec(blocker, "LOCK TABLE notifications IN ACCESS EXCLUSIVE MODE");
	struct store_notification ok = {
		.eid = "bd::1", .msg_id = "ok-0", .kind = "event", .payload_json = "{}"
	};
	assert_int_equal(store_writer_notification(f->w, &ok, &err), 0); /* batch 1, blocks */
	wait_batch_taken(f->w, 1);
	char id[16];
	for (int i = 1; i <= 5; i++) {
		snprintf(id, sizeof(id), "ok-%d", i);
		ok.msg_id = id;
		ok.payload_json = i == 3 ? "{not json" : "{}";
		assert_int_equal(store_writer_notification(f->w, &ok, &err), 0);
	}
	tdb_exec(blocker, "COMMIT");
	PQfinish(blocker);
	flush(f);
	struct store_writer_stats st;
	store_writer_stats(f->w, &st);
	assert_int_equal(st.ops_rejected, 1);
	assert_int_equal(tdb_int(f->t.c, "SELECT count(*) FROM notifications WHERE eid = 'bd::1'"),
			 5);
	assert_int_equal(
		tdb_int(f->t.c, "SELECT count(*) FROM notifications WHERE msg_id = 'ok-3'"), 0);
}

static void full_queue_pushes_back_then_recovers(void **state)
{
	struct tdb t;
	struct uspc_err err = { 0 };
	struct store_writer *w = NULL;
	tdb_create(&t, "wfull");
	struct store_writer_opts o = {
		.conn = tdb_opts(&t), .node_id = "n", .queue_max_ops = 4, .batch_max_ops = 2
	};
	assert_int_equal(store_writer_start(&o, &w, &err), 0);
	PGconn *blocker = PQconnectdb(t.conninfo);
	tdb_exec(blocker, "BEGIN");
	tdb_exec(blocker, "LOCK TABLE snapshot IN ACCESS EXCLUSIVE MODE");
	struct store_snapshot_row row = { "Device.X", "1" };
	/* The first batch (2 ops) blocks on the lock, then 4 more fill the queue. */
	int accepted = 0, rc = 0;
	char eid[16];
	for (int i = 0; i < 50 && rc != STORE_E_FULL; i++) {
		snprintf(eid, sizeof(eid), "f::%d", i);
		rc = store_writer_snapshot(w, eid, &row, 1, 0, &err);
		if (rc == 0)
			accepted++;
		tdb_sleep_ms(20);
	}
	assert_int_equal(rc, STORE_E_FULL);
	assert_true(accepted >= 4 && accepted <= 6);
	struct store_writer_stats st;
	store_writer_stats(w, &st);
	tdb_sleep_ms(150);
	store_writer_stats(w, &st);
	assert_int_equal(st.full, 1);
	assert_int_equal(st.queue_ops, 4);
	assert_true(st.lag_ms >= 100);
	tdb_exec(blocker, "COMMIT");
	PQfinish(blocker);
	/* The refused op is retried by its owner and lands. */
	assert_int_equal(store_writer_flush(w, 10000), 0);
	assert_int_equal(store_writer_snapshot(w, eid, &row, 1, 0, &err), 0);
	assert_int_equal(store_writer_stop(w, 5000), 0);
	assert_int_equal(tdb_int(t.c, "SELECT count(*) FROM snapshot"), accepted + 1);
	tdb_drop(&t);
}

static void limits_are_enforced(void **state)
{
	struct fx *f = *state;
	struct uspc_err err = { 0 };
	char *big = malloc(STORE_VALUE_MAX + 2);
	memset(big, 'v', STORE_VALUE_MAX + 1);
	big[STORE_VALUE_MAX + 1] = '\0';
	struct store_snapshot_row row = { "Device.Big", big };
	assert_int_equal(store_writer_snapshot(f->w, "lm::1", &row, 1, 0, &err), STORE_E_ARG);
	assert_non_null(strstr(err.msg, "snapshot value"));
	free(big);
	struct store_agent_state a = { .eid = "" };
	assert_int_equal(store_writer_agent_state(f->w, &a, &err), STORE_E_ARG);
	struct store_task_result r = { .task_id = 0 };
	assert_int_equal(store_writer_task_result(f->w, &r, &err), STORE_E_ARG);
}

/* ---- failures that are not about the data ------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Submit notification "m<i>" of eid, waiting while the queue is full. */
static void submit_notif(struct store_writer *w, const char *eid, long i)
{
	struct uspc_err err = { 0 };
	char id[32];
	snprintf(id, sizeof(id), "m%ld", i);
	struct store_notification n = { .eid = eid,
					.msg_id = id,
					.kind = "value_change",
					.path = "Device.X",
					.payload_json = "{}" };
	for (int tries = 0; tries < 12000; tries++) { /* 60 s */
		int rc = store_writer_notification(w, &n, &err);
		if (rc == 0)
			return;
		assert_int_equal(rc, STORE_E_FULL);
		tdb_sleep_ms(5);
	}
	fail_msg("writer queue stayed full for 60 s");
}

/* Terminate the writer's backend(s) in this test's database. */
static void kill_writer_backend(PGconn *c)
{
	tdb_int(c, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
		   " WHERE application_name = 'uspc-writer' AND datname = current_database()");
}

/* ALTER DATABASE on the test database, from the server's main database
 * (a session cannot disallow connections to its own database). */
static void alter_tdb(const struct tdb *t, const char *what)
{
	struct uspc_err err = { 0 };
	struct store_conn_opts o = { .conninfo = t->admin };
	PGconn *admin = NULL;
	char sql[256];
	if (store_conn_open(&o, &admin, &err) < 0)
		fail_msg("connect to %s: %s", t->admin, err.msg);
	snprintf(sql, sizeof(sql), "ALTER DATABASE %s %s", t->name, what);
	tdb_exec(admin, sql);
	PQfinish(admin);
}

static void alter_db(struct fx *f, const char *what)
{
	alter_tdb(&f->t, what);
}

static int setup_fast_retry(void **state)
{
	static int n;
	char tag[16];
	struct fx *f = calloc(1, sizeof(*f));
	struct uspc_err err = { 0 };
	snprintf(tag, sizeof(tag), "wr%d", n++);
	tdb_create(&f->t, tag);
	struct store_writer_opts o = { .conn = tdb_opts(&f->t),
				       .node_id = "node-a",
				       .retry_max_ms = 300,
				       .queue_max_ops = 200000,
				       .batch_max_ops = 100,
				       .statement_timeout_ms = 250 };
	if (store_writer_start(&o, &f->w, &err) < 0) {
		fprintf(stderr, "writer start: %s\n", err.msg);
		return -1;
	}
	*state = f;
	return 0;
}

/*
 * A failover as the writer sees it: the database turns read-only
 * (default_transaction_read_only for new sessions) and the writer's session
 * is terminated, again every second for 10 s, under a stream of ops. Every
 * statement in that time fails with 25006 (or the connection is gone); the
 * writer must keep every op, open new connections (an old session would
 * stay read-only for ever) and commit them all once the database is
 * writable again. Before SQLSTATE 25006 counted as transient, each batch
 * was split and every op in it rejected.
 */
static void read_only_database_loses_nothing(void **state)
{
	struct fx *f = *state;
	struct store_writer_stats st;
	long sent = 0;
	int64_t start = now_ms(), ro_at = start + 1000, rw_at = start + 11000, end = start + 13000,
		next_kill = ro_at;
	int ro = 0;
	for (int64_t t = now_ms(); t < end; t = now_ms()) {
		if (!ro && t >= ro_at) {
			alter_db(f, "SET default_transaction_read_only = on");
			ro = 1;
		}
		if (ro == 1 && t >= next_kill) {
			kill_writer_backend(f->t.c);
			next_kill = t + 1000;
		}
		if (ro == 1 && t >= rw_at) {
			alter_db(f, "RESET default_transaction_read_only");
			ro = 2;
		}
		submit_notif(f->w, "ro::1", sent++);
		if (sent % 10 == 0) {
			struct store_snapshot_row row = { "Device.Count", "x" };
			struct uspc_err err = { 0 };
			int rc;
			while ((rc = store_writer_snapshot(f->w, "ro::1", &row, 1, 0, &err)) ==
			       STORE_E_FULL)
				tdb_sleep_ms(5);
			assert_int_equal(rc, 0);
		}
		tdb_sleep_ms(5);
	}
	assert_int_equal(store_writer_flush(f->w, 60000), 0);
	store_writer_stats(f->w, &st);
	assert_int_equal(st.ops_rejected, 0);
	assert_int_equal(st.ops_written, st.ops_submitted);
	assert_true(st.retries > 0);
	assert_true(st.reconnects >= 2);
	assert_int_equal(tdb_int(f->t.c, "SELECT count(*) FROM notifications WHERE eid = 'ro::1'"),
			 sent);
	assert_int_equal(store_writer_durable(f->w), store_writer_submitted(f->w));
}

/*
 * A statement timeout under load: another session holds the row of agent
 * lk::1 for 2 s (as an operator's long transaction would), the writer runs
 * with statement_timeout 250 ms, and ops keep coming. Every batch with
 * lk::1's state times out (57014) until the lock goes; the batch must be
 * kept whole and retried, not split with lk::1's op dropped (as it was
 * while 57014 was taken for a property of the data).
 */
static void statement_timeout_loses_nothing(void **state)
{
	struct fx *f = *state;
	struct uspc_err err = { 0 };
	struct store_writer_stats st;
	const int64_t t0 = 1700000000000000;
	agent_state(f, "lk::1", 0, t0);
	flush(f);
	PGconn *blocker = PQconnectdb(f->t.conninfo);
	assert_int_equal(PQstatus(blocker), CONNECTION_OK);
	tdb_exec(blocker, "BEGIN");
	tdb_exec(blocker, "SELECT 1 FROM agents WHERE eid = 'lk::1' FOR UPDATE");
	struct store_agent_state on = { .eid = "lk::1", .online = 1, .at_us = t0 + 1000000 };
	assert_int_equal(store_writer_agent_state(f->w, &on, &err), 0);
	long sent = 0;
	int64_t start = now_ms();
	int locked = 1;
	while (now_ms() < start + 3000) {
		if (locked && now_ms() >= start + 2000) {
			tdb_exec(blocker, "COMMIT");
			locked = 0;
		}
		submit_notif(f->w, "lk::2", sent++);
		tdb_sleep_ms(5);
	}
	PQfinish(blocker);
	assert_int_equal(store_writer_flush(f->w, 30000), 0);
	store_writer_stats(f->w, &st);
	assert_int_equal(st.ops_rejected, 0);
	assert_true(st.retries > 0); /* the lock did make statements time out */
	assert_int_equal(st.ops_written, st.ops_submitted);
	assert_int_equal(tdb_int(f->t.c, "SELECT online::int FROM agents WHERE eid = 'lk::1'"), 1);
	assert_int_equal(tdb_int(f->t.c, "SELECT count(*) FROM notifications WHERE eid = 'lk::2'"),
			 sent);
}

/* ---- commit sequence ------------------------------------------------------ */

/* Ops "m1".."m<durable>" (notifications numbered by their sequence) are all
 * committed: durable never runs ahead of the database. */
static void check_durable_committed(struct fx *f, uint64_t durable)
{
	char sql[256];
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM notifications WHERE eid = 'dq::1'"
		 " AND substr(msg_id, 2)::bigint <= %llu",
		 (unsigned long long)durable);
	assert_int_equal(tdb_int(f->t.c, sql), (long long)durable);
}

static int fd_readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

static void durable_never_passes_an_uncommitted_op(void **state)
{
	struct fx *f = *state;
	int fd = store_writer_commit_fd(f->w);
	uint64_t v;
	assert_true(fd >= 0);
	assert_int_equal(store_writer_submitted(f->w), 0);
	assert_int_equal(store_writer_durable(f->w), 0);
	for (long i = 1; i <= 5; i++) {
		submit_notif(f->w, "dq::1", i);
		assert_int_equal(store_writer_submitted(f->w), (uint64_t)i);
	}
	flush(f);
	assert_int_equal(store_writer_durable(f->w), 5);
	assert_true(fd_readable(fd, 0));
	assert_int_equal(read(fd, &v, sizeof(v)), sizeof(v));
	assert_int_equal(read(fd, &v, sizeof(v)), -1); /* drained, non-blocking */
	assert_int_equal(errno, EAGAIN);
	check_durable_committed(f, 5);

	/* The database refuses the writer: nothing becomes durable. */
	alter_db(f, "WITH ALLOW_CONNECTIONS false");
	kill_writer_backend(f->t.c);
	for (long i = 6; i <= 40; i++)
		submit_notif(f->w, "dq::1", i);
	assert_int_equal(store_writer_submitted(f->w), 40);
	tdb_sleep_ms(1500);
	assert_int_equal(store_writer_durable(f->w), 5);
	assert_false(fd_readable(fd, 0));
	check_durable_committed(f, 5);
	assert_int_equal(tdb_int(f->t.c, "SELECT count(*) FROM notifications"), 5);

	/* Back: durable advances to every op, and says so on the fd. */
	alter_db(f, "WITH ALLOW_CONNECTIONS true");
	uint64_t d = 5;
	int64_t until = now_ms() + 60000;
	while (d < 40 && now_ms() < until) {
		if (!fd_readable(fd, 1000))
			continue;
		assert_int_equal(read(fd, &v, sizeof(v)), sizeof(v));
		uint64_t nd = store_writer_durable(f->w);
		assert_true(nd > d); /* readable only when it advanced */
		d = nd;
		check_durable_committed(f, d);
	}
	assert_int_equal(d, 40);
	struct store_writer_stats st;
	store_writer_stats(f->w, &st);
	assert_int_equal(st.ops_rejected, 0);
}

/* An op PostgreSQL rejects for its content is finished for good: durable
 * passes it (it could never be written), in order. */
static void durable_passes_rejected_ops(void **state)
{
	struct fx *f = *state;
	struct uspc_err err = { 0 };
	submit_notif(f->w, "dq::1", 1);
	struct store_notification bad = {
		.eid = "dq::1", .msg_id = "m2", .kind = "event", .payload_json = "{not json"
	};
	assert_int_equal(store_writer_notification(f->w, &bad, &err), 0);
	submit_notif(f->w, "dq::1", 3);
	flush(f);
	assert_int_equal(store_writer_durable(f->w), 3);
	struct store_writer_stats st;
	store_writer_stats(f->w, &st);
	assert_int_equal(st.ops_rejected, 1);
	assert_int_equal(tdb_int(f->t.c, "SELECT count(*) FROM notifications"), 2);
}

/* Stopping while the database refuses the writer: the loss is reported by
 * kind, and nothing abandoned counts as durable. */
static void stop_reports_lost_ops_by_kind(void **state)
{
	struct tdb t;
	struct uspc_err err = { 0 };
	struct store_writer *w = NULL;
	uint64_t lost[STORE_WRITER_KINDS];
	tdb_create(&t, "wlost");
	struct store_writer_opts o = { .conn = tdb_opts(&t), .node_id = "n", .retry_max_ms = 200 };
	assert_int_equal(store_writer_start(&o, &w, &err), 0);
	struct store_agent_state a = { .eid = "ls::1", .online = 1 };
	assert_int_equal(store_writer_agent_state(w, &a, &err), 0);
	assert_int_equal(store_writer_flush(w, 10000), 0);
	alter_tdb(&t, "WITH ALLOW_CONNECTIONS false");
	kill_writer_backend(t.c);
	for (long i = 0; i < 3; i++)
		submit_notif(w, "ls::1", i);
	a.online = 0;
	assert_int_equal(store_writer_agent_state(w, &a, &err), 0);
	assert_int_equal(store_writer_agent_state(w, &a, &err), 0);
	struct store_snapshot_row row = { "Device.X", "1" };
	assert_int_equal(store_writer_snapshot(w, "ls::1", &row, 1, 0, &err), 0);
	assert_int_equal(store_writer_submitted(w), 7);
	tdb_sleep_ms(300);
	assert_int_equal(store_writer_durable(w), 1);
	assert_int_equal(store_writer_stop_report(w, 300, lost), 6);
	uint64_t total = 0;
	for (unsigned k = 0; k < STORE_WRITER_KINDS; k++) {
		const char *name = store_writer_kind_name(k);
		uint64_t want = !strcmp(name, "notification")  ? 3
				: !strcmp(name, "agent_state") ? 2
				: !strcmp(name, "snapshot")    ? 1
							       : 0;
		if (lost[k] != want)
			fail_msg("%s: lost %llu, want %llu", name, (unsigned long long)lost[k],
				 (unsigned long long)want);
		total += lost[k];
	}
	assert_int_equal(total, 6);
	assert_string_equal(store_writer_kind_name(STORE_WRITER_KINDS), "?");
	assert_string_equal(store_writer_kind_name(7), "task_result");
	alter_tdb(&t, "WITH ALLOW_CONNECTIONS true");
	/* A clean stop reports nothing. */
	assert_int_equal(store_writer_start(&o, &w, &err), 0);
	assert_int_equal(store_writer_agent_state(w, &a, &err), 0);
	memset(lost, 0xff, sizeof(lost));
	assert_int_equal(store_writer_stop_report(w, 10000, lost), 0);
	for (unsigned k = 0; k < STORE_WRITER_KINDS; k++)
		assert_int_equal(lost[k], 0);
	tdb_drop(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(agent_state_and_device_info, setup, teardown),
		cmocka_unit_test_setup_teardown(connect_record_starts_a_new_session, setup,
						teardown),
		cmocka_unit_test_setup_teardown(rejections_add_up_and_stay_bounded, setup,
						teardown),
		cmocka_unit_test_setup_teardown(offline_online_in_one_batch_resets_online_since,
						setup, teardown),
		cmocka_unit_test_setup_teardown(snapshot_upsert_delete_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(snapshot_repeat_leaves_row, setup, teardown),
		cmocka_unit_test_setup_teardown(notifications_stored_once, setup, teardown),
		cmocka_unit_test_setup_teardown(task_results_land_once_and_notify, setup, teardown),
		cmocka_unit_test_setup_teardown(oper_results_and_subscriptions, setup, teardown),
		cmocka_unit_test_setup_teardown(notification_retry_after_midnight_stored_once,
						setup, teardown),
		cmocka_unit_test_setup_teardown(oper_result_of_an_earlier_day_is_updated_in_place,
						setup, teardown),
		cmocka_unit_test_setup_teardown(ops_are_batched, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_op_is_rejected_alone, setup, teardown),
		cmocka_unit_test(full_queue_pushes_back_then_recovers),
		cmocka_unit_test_setup_teardown(limits_are_enforced, setup, teardown),
		cmocka_unit_test_setup_teardown(read_only_database_loses_nothing, setup_fast_retry,
						teardown),
		cmocka_unit_test_setup_teardown(statement_timeout_loses_nothing, setup_fast_retry,
						teardown),
		cmocka_unit_test_setup_teardown(durable_never_passes_an_uncommitted_op,
						setup_fast_retry, teardown),
		cmocka_unit_test_setup_teardown(durable_passes_rejected_ops, setup, teardown),
		cmocka_unit_test(stop_reports_lost_ops_by_kind),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
