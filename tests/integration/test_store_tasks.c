/*
 * test_store_tasks.c — the task feeder against a real PostgreSQL: two
 * feeders never hand out the same task, only online (and onboarded) agents
 * get tasks, the others' tasks are parked once and not walked again, a
 * claim never waits for an agent row being written, lost idempotent tasks
 * are re-queued by the lease or by a restart and fail after max_attempts
 * while the others end 'unknown', queued tasks expire, cancel, results
 * written by a
 * daemon that lost its lease are ignored, and claims reach tasks by key even
 * with statistics from an empty table.
 */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "store_query.h"
#include "store_tasks.h"
#include "store_writer.h"
#include "test_store_common.h"

/* n agents "ag::0".."ag::n-1", online and onboarded. */
static void make_agents(PGconn *c, int n, int online, int onboarded)
{
	char sql[512];
	snprintf(sql, sizeof(sql),
		 "INSERT INTO agents (eid, online, online_since, onboarded_at)"
		 " SELECT 'ag::' || i, %s, now() - interval '1 minute', %s"
		 " FROM generate_series(0, %d) i",
		 online ? "true" : "false", onboarded ? "now()" : "NULL", n - 1);
	tdb_exec(c, sql);
}

static void insert_tasks(PGconn *c, int agents, int per_agent, int64_t expires_ms, int64_t *ids)
{
	struct uspc_err err = { 0 };
	char **eids = calloc((size_t)(agents * per_agent), sizeof(char *));
	for (int i = 0; i < agents * per_agent; i++) {
		eids[i] = malloc(32);
		snprintf(eids[i], 32, "ag::%d", i % agents);
	}
	struct store_task_spec spec = { .op = "get",
					.batch_id = "b1",
					.expires_in_ms = expires_ms,
					.request_json =
						"{\"param_paths\":[\"Device.DeviceInfo.\"]}" };
	int rc = store_query_insert_tasks(c, (const char *const *)eids,
					  (size_t)(agents * per_agent), &spec, ids, &err);
	if (rc < 0)
		fprintf(stderr, "insert: %s\n", err.msg);
	assert_int_equal(rc, 0);
	store_strv_free(eids, (size_t)(agents * per_agent));
}

static struct store_tasks *feeder(const struct tdb *t, const char *node, int lease_ms)
{
	struct uspc_err err = { 0 };
	struct store_tasks *f = NULL;
	struct store_tasks_opts o = { .conn = tdb_opts(t),
				      .node_id = node,
				      .poll_ms = 200,
				      .heartbeat_ms = 200,
				      .lease_ms = lease_ms,
				      .claim_batch = 50,
				      .max_in_flight = 100,
				      .require_onboarded = 1 };
	assert_int_equal(store_tasks_start(&o, &f, &err), 0);
	return f;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Generous bound for things that must happen: CI shares two cores with
 * builds. Waits return as soon as the condition holds. */
#define WAIT_MS 60000

/* Take up to max tasks within timeout_ms (as a core thread would); returns
 * as soon as max were taken. */
static int take(struct store_tasks *f, struct store_task **out, int max, int timeout_ms)
{
	int n = 0;
	for (int64_t end = now_ms() + timeout_ms; n < max && now_ms() < end;) {
		struct pollfd p = { .fd = store_tasks_fd(f), .events = POLLIN };
		poll(&p, 1, 20);
		struct store_task *t;
		while (n < max && store_tasks_next(f, &t) == 0)
			out[n++] = t;
	}
	return n;
}

/* Wait until the feeder has connected (and, on its first connection, done
 * its start-up re-queue), so that "nothing was claimed" means something. */
static void wait_connected(struct store_tasks *f)
{
	struct store_tasks_stats st;
	for (int64_t end = now_ms() + WAIT_MS; now_ms() < end; tdb_sleep_ms(10)) {
		store_tasks_stats(f, &st);
		if (st.connected)
			return;
	}
	fail_msg("task feeder did not connect within %d ms", WAIT_MS);
}

/* ---- two feeders, 1,000 tasks -------------------------------------------- */

#define NTASKS 1000

struct consumer {
	struct store_tasks *f;
	const struct tdb *t;
	const char *node;
	int *seen;    /* per task id - base, shared */
	int64_t base; /* the first task's id (ids start at their day's first id) */
	int *total;   /* tasks taken by both consumers, shared */
	pthread_mutex_t *mu;
	int got;
};

static void *consume(void *arg)
{
	struct consumer *c = arg;
	struct uspc_err err = { 0 };
	struct store_tasks *f = c->f;
	struct store_writer *w = NULL;
	struct store_writer_opts wo = { .conn = tdb_opts(c->t), .node_id = c->node };
	if (store_writer_start(&wo, &w, &err) < 0)
		return NULL; /* the main thread sees the missing tasks */
	/* Until every task was taken (by either consumer), bounded. A task
	 * handed out twice would show in `seen`, whenever it happens. */
	for (int64_t end = now_ms() + 3 * WAIT_MS; now_ms() < end;) {
		pthread_mutex_lock(c->mu);
		int all = *c->total >= NTASKS;
		pthread_mutex_unlock(c->mu);
		if (all)
			break;
		struct pollfd p = { .fd = store_tasks_fd(f), .events = POLLIN };
		if (poll(&p, 1, 50) <= 0)
			continue;
		struct store_task *t;
		while (store_tasks_next(f, &t) == 0) {
			pthread_mutex_lock(c->mu);
			c->seen[t->id - c->base]++;
			(*c->total)++;
			pthread_mutex_unlock(c->mu);
			c->got++;
			struct store_task_result r = { .task_id = t->id,
						       .msg_id = "m",
						       .result_json = "{}" };
			while (store_writer_task_result(w, &r, &err) == STORE_E_FULL)
				tdb_sleep_ms(1);
			store_task_free(t);
		}
		store_tasks_set_in_flight(f, 0);
	}
	store_writer_stop(w, WAIT_MS);
	return NULL;
}

static void two_feeders_never_share_a_task(void **state)
{
	struct tdb t;
	tdb_create(&t, "tk2");
	make_agents(t.c, 100, 1, 1);
	/* Both feeders are up before the tasks exist, so both compete for them. */
	struct store_tasks *fa = feeder(&t, "node-a", 15000), *fb = feeder(&t, "node-b", 15000);
	wait_connected(fa);
	wait_connected(fb);
	int64_t *ids = calloc(NTASKS, sizeof(*ids));
	insert_tasks(t.c, 100, NTASKS / 100, 0, ids);
	int64_t base = ids[0], span = ids[NTASKS - 1] - base;
	assert_true(span >= NTASKS - 1 && span < 10 * NTASKS);
	int *seen = calloc((size_t)span + 1, sizeof(int));
	int total = 0;
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	struct consumer a = { fa, &t, "node-a", seen, base, &total, &mu, 0 },
			b = { fb, &t, "node-b", seen, base, &total, &mu, 0 };
	pthread_t ta, tb;
	pthread_create(&ta, NULL, consume, &a);
	pthread_create(&tb, NULL, consume, &b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	store_tasks_stop(fa);
	store_tasks_stop(fb);
	for (int i = 0; i < NTASKS; i++)
		assert_int_equal(seen[ids[i] - base], 1);
	assert_int_equal(a.got + b.got, NTASKS);
	assert_true(a.got > 0 && b.got > 0); /* the work was shared */
	assert_int_equal(tdb_int(t.c, "SELECT count(*) FROM tasks WHERE state = 'done'"
				      " AND attempts = 1"),
			 NTASKS);
	fprintf(stderr, "feeder a took %d, feeder b took %d\n", a.got, b.got);
	free(seen);
	free(ids);
	tdb_drop(&t);
}

/* ---- who gets tasks ------------------------------------------------------ */

static struct store_writer *writer(const struct tdb *t, const char *node, int require_onboarded)
{
	struct uspc_err err = { 0 };
	struct store_writer *w = NULL;
	struct store_writer_opts o = { .conn = tdb_opts(t),
				       .node_id = node,
				       .tasks_require_onboarded = require_onboarded };
	assert_int_equal(store_writer_start(&o, &w, &err), 0);
	return w;
}

#define PARKED_SQL "SELECT count(*) FROM tasks WHERE state = 'queued' AND parked"

/* The agent's state changes go through the store writer, as the core
 * records them: the claim parks the tasks of an agent that is not ready,
 * and the writer unparks them when it records the agent onboarded, and,
 * unless it is told that tasks wait for onboarding (as the daemon tells
 * it), when it records the agent online. */
static void agent_becomes_ready(int writer_requires_onboarding)
{
	struct tdb t;
	struct uspc_err err = { 0 };
	struct store_task *got[16];
	tdb_create(&t, "tkon");
	make_agents(t.c, 1, 0, 0); /* ag::0 offline */
	insert_tasks(t.c, 1, 3, 0, NULL);
	struct store_tasks *f = feeder(&t, "node-o", 15000);
	struct store_writer *w = writer(&t, "node-o", writer_requires_onboarding);
	wait_connected(f);
	/* Negative checks: a wrong claim would show up within this time on any
	 * machine (the feeder claims right after connecting and on kick). */
	assert_int_equal(take(f, got, 16, 600), 0);
	assert_int_equal(tdb_wait_int(t.c, PARKED_SQL, 3, WAIT_MS), 3);
	/* Online but not onboarded since it came online: nothing claimed. A
	 * writer that unparks at online has the next claim walk them once more
	 * and park them again; one that knows tasks wait for onboarding leaves
	 * them parked. */
	struct store_agent_state on = { .eid = "ag::0", .online = 1 };
	assert_int_equal(store_writer_agent_state(w, &on, &err), 0);
	assert_int_equal(store_writer_flush(w, WAIT_MS), 0);
	assert_int_equal(take(f, got, 16, 600), 0);
	assert_int_equal(tdb_wait_int(t.c, PARKED_SQL, 3, WAIT_MS), 3);
	struct store_tasks_stats st;
	store_tasks_stats(f, &st);
	assert_int_equal(st.parked, writer_requires_onboarding ? 3 : 6);
	struct store_device_info dev = { .eid = "ag::0", .onboarded = 1 };
	assert_int_equal(store_writer_device_info(w, &dev, &err), 0);
	assert_int_equal(store_writer_flush(w, WAIT_MS), 0);
	int n = take(f, got, 3, WAIT_MS);
	assert_int_equal(n, 3);
	int64_t prev = 0;
	for (int i = 0; i < n; i++) {
		assert_string_equal(got[i]->eid, "ag::0");
		assert_string_equal(got[i]->op, "get");
		assert_non_null(strstr(got[i]->request_json, "Device.DeviceInfo."));
		assert_string_equal(got[i]->batch_id, "b1");
		assert_int_equal(got[i]->attempts, 1);
		assert_true(got[i]->id > prev); /* oldest first */
		prev = got[i]->id;
		store_task_free(got[i]);
	}
	assert_int_equal(tdb_int(t.c, "SELECT count(*) FROM tasks WHERE state = 'sent'"
				      " AND claimed_by = 'node-o' AND sent_at IS NOT NULL"
				      " AND NOT parked"),
			 3);
	store_writer_stop(w, WAIT_MS);
	store_tasks_stop(f);
	tdb_drop(&t);
}

static void only_online_onboarded_agents_get_tasks(void **state)
{
	agent_becomes_ready(0);
}

static void tasks_wait_parked_until_onboarding(void **state)
{
	agent_becomes_ready(1);
}

/* A counter of pg_stat_user_tables for `tasks`: seq_scan (whole-table
 * scans), idx_tup_fetch (live rows read through indexes). */
static long long tasks_counter(PGconn *c, const char *column)
{
	char sql[256];
	/* Backends publish their counters at most once a second. */
	tdb_sleep_ms(1500);
	tdb_exec(c, "SELECT pg_stat_clear_snapshot()");
	/* tasks is partitioned by day: its partitions hold the counters */
	snprintf(sql, sizeof(sql),
		 "SELECT sum(%s) FROM pg_stat_user_tables WHERE relid IN"
		 " (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'tasks'::regclass)",
		 column);
	return tdb_int(c, sql);
}

/* 400 queued tasks of offline agents sit ahead (lower ids) of the tasks of
 * an online agent. Each is parked once; after that, claims do not read
 * them: 20 rounds of claims read fewer than 400 rows of `tasks` (walking
 * the offline agents' tasks, as claims did before schema version 3, reads
 * 400 per claim: 8,000 or more). */
static void parked_tasks_are_not_walked_again(void **state)
{
	struct tdb t;
	struct store_task *got[64];
	enum { OFFLINE = 200, PER_AGENT = 2, ROUNDS = 20 };
	tdb_create(&t, "tkpark");
	make_agents(t.c, OFFLINE, 0, 0);
	insert_tasks(t.c, OFFLINE, PER_AGENT, 0, NULL);
	tdb_exec(t.c, "INSERT INTO agents (eid, online, online_since, onboarded_at)"
		      " VALUES ('on::0', true, now() - interval '1 minute', now())");
	const char *one_task = "INSERT INTO tasks (eid, op, request)"
			       " VALUES ('on::0', 'get', '{\"param_paths\":[\"Device.\"]}')";
	for (int i = 0; i < 10; i++)
		tdb_exec(t.c, one_task);
	struct store_tasks *f = feeder(&t, "node-k", 15000);
	assert_int_equal(take(f, got, 10, WAIT_MS), 10);
	for (int i = 0; i < 10; i++) {
		assert_string_equal(got[i]->eid, "on::0");
		store_task_free(got[i]);
	}
	store_tasks_set_in_flight(f, 0);
	assert_int_equal(tdb_wait_int(t.c, PARKED_SQL, OFFLINE * PER_AGENT, WAIT_MS),
			 OFFLINE * PER_AGENT);
	long long before = tasks_counter(t.c, "idx_tup_fetch");
	for (int i = 0; i < ROUNDS; i++) {
		tdb_exec(t.c, one_task);
		store_tasks_kick(f);
		assert_int_equal(take(f, got, 1, WAIT_MS), 1);
		store_task_free(got[0]);
		store_tasks_set_in_flight(f, 0);
	}
	long long read = tasks_counter(t.c, "idx_tup_fetch") - before;
	fprintf(stderr, "%d claim rounds read %lld rows of tasks\n", ROUNDS, read);
	assert_true(read >= ROUNDS); /* the counter works: each round read its task */
	assert_true(read < OFFLINE * PER_AGENT);
	struct store_tasks_stats st;
	store_tasks_stats(f, &st);
	assert_int_equal(st.parked, OFFLINE * PER_AGENT); /* each parked exactly once */
	store_tasks_stop(f);
	tdb_drop(&t);
}

/* Another session that has run `sql` in a transaction it keeps open (so it
 * holds the rows `sql` updated), like a store writer in the middle of a
 * batch. end_hold() commits it. */
static PGconn *hold_rows(const struct tdb *t, const char *sql)
{
	struct uspc_err err = { 0 };
	struct store_conn_opts o = tdb_opts(t);
	PGconn *c = NULL;
	assert_int_equal(store_conn_open(&o, &c, &err), 0);
	tdb_exec(c, "BEGIN");
	tdb_exec(c, sql);
	return c;
}

static void end_hold(PGconn *c)
{
	tdb_exec(c, "COMMIT");
	PQfinish(c);
}

/* The rows at the head of the queue (a whole claim batch and more) belong
 * to agents whose rows another transaction holds: a claim can neither send
 * nor park them. The tasks behind them are claimed anyway, in the same
 * round (the walk goes on after the rows it left), while the lock is held. */
static void claims_pass_tasks_of_agents_being_written(void **state)
{
	struct tdb t;
	struct store_task *got[16];
	tdb_create(&t, "tkpass");
	make_agents(t.c, 60, 0, 0);        /* ag::0..59 offline */
	insert_tasks(t.c, 60, 1, 0, NULL); /* one each, the lowest ids */
	tdb_exec(t.c, "INSERT INTO agents (eid, online, online_since, onboarded_at)"
		      " VALUES ('on::0', true, now() - interval '1 minute', now());"
		      "INSERT INTO tasks (eid, op, request) SELECT 'on::0', 'get',"
		      " '{\"param_paths\":[\"Device.\"]}' FROM generate_series(1, 5)");
	PGconn *wc = hold_rows(&t, "UPDATE agents SET last_seen = now() WHERE eid LIKE 'ag::%'");
	struct store_tasks *f = feeder(&t, "node-p", 15000); /* claims of 50 */
	int n = take(f, got, 5, 5000);
	assert_int_equal(n, 5);
	for (int i = 0; i < n; i++) {
		assert_string_equal(got[i]->eid, "on::0");
		store_task_free(got[i]);
	}
	assert_int_equal(tdb_int(t.c, PARKED_SQL), 0);
	end_hold(wc);
	/* Once the rows are free, the next round parks them (still offline). */
	assert_int_equal(tdb_wait_int(t.c, PARKED_SQL, 60, WAIT_MS), 60);
	store_tasks_stop(f);
	tdb_drop(&t);
}

/* A task left parked although its agent is ready (an unpark skipped a row
 * that another transaction held and then rolled back; or a daemon older
 * than schema version 3 released it with parked still set) is unparked by
 * the feeder's sweep (at its first maintenance round, then every 30 polls)
 * and claimed. */
static void parked_tasks_of_ready_agents_are_swept(void **state)
{
	struct tdb t;
	struct store_task *got[16];
	tdb_create(&t, "tksweep");
	make_agents(t.c, 2, 1, 1); /* ready */
	insert_tasks(t.c, 2, 2, 0, NULL);
	tdb_exec(t.c, "UPDATE tasks SET parked = true");
	struct store_tasks *f = feeder(&t, "node-w", 15000);
	int n = take(f, got, 4, WAIT_MS);
	assert_int_equal(n, 4);
	for (int i = 0; i < n; i++)
		store_task_free(got[i]);
	struct store_tasks_stats st;
	store_tasks_stats(f, &st);
	assert_int_equal(st.swept, 4);
	assert_int_equal(st.parked, 0);
	store_tasks_stop(f);
	tdb_drop(&t);
}

/* Parking a large backlog (an offline fleet's campaign) takes one claim
 * statement per batch; the feeder keeps heartbeating meanwhile, so other
 * daemons never take it for dead (lease) while it parks. With a 200 ms
 * heartbeat, the heartbeat row stays younger than 1.5 s throughout. Parking
 * 90,000 tasks in batches of 50 takes ~3.5 s here; measured: the oldest
 * heartbeat seen was 348 ms, and 3,547 ms when the claim loop did not stop
 * for the heartbeat. */
static void heartbeat_continues_while_parking(void **state)
{
	struct tdb t;
	enum { OFFLINE = 10000, PER_AGENT = 9 };
	tdb_create(&t, "tkhb");
	make_agents(t.c, OFFLINE, 0, 0);
	tdb_exec(t.c, "INSERT INTO tasks (eid, op, request) SELECT 'ag::' || (i % 10000), 'get',"
		      " '{\"param_paths\":[\"Device.\"]}' FROM generate_series(1, 90000) i");
	struct store_tasks *f = feeder(&t, "node-h", 15000);
	wait_connected(f);
	long long oldest_ms = 0, parked = 0;
	for (int64_t end = now_ms() + 3 * WAIT_MS; now_ms() < end; tdb_sleep_ms(50)) {
		long long age =
			tdb_int(t.c, "SELECT (extract(epoch FROM now() - heartbeat_at) * 1000)"
				     "::bigint FROM daemons WHERE node_id = 'node-h'");
		if (age > oldest_ms)
			oldest_ms = age;
		parked = tdb_int(t.c, PARKED_SQL);
		if (parked == OFFLINE * PER_AGENT)
			break;
	}
	fprintf(stderr, "parked %lld; oldest heartbeat seen %lld ms\n", parked, oldest_ms);
	assert_int_equal(parked, OFFLINE * PER_AGENT);
	assert_true(oldest_ms < 1500);
	store_tasks_stop(f);
	tdb_drop(&t);
}

/* A claim never waits for an agent row that a writer holds (it skips it
 * and parks nothing of that agent), and never strands a task: the agent
 * comes online in a transaction that holds its row while claims run, then
 * unparks as the writer does; its tasks are claimed. */
static void claim_skips_agents_being_written(void **state)
{
	struct tdb t;
	struct store_task *got[16];
	tdb_create(&t, "tkskip");
	make_agents(t.c, 2, 0, 0);        /* ag::0 offline, ag::1 offline */
	insert_tasks(t.c, 1, 3, 0, NULL); /* for ag::0 */
	PGconn *wc = hold_rows(&t, "UPDATE agents SET online = true, online_since = now(),"
				   " onboarded_at = now()"
				   " WHERE eid = 'ag::0'");
	struct store_tasks *f = feeder(&t, "node-s", 15000);
	wait_connected(f);
	/* Claims run (poll 200 ms) while the row is held: none parks ag::0's
	 * tasks, none waits: a task of ag::1, made ready meanwhile, is claimed. */
	tdb_exec(t.c, "UPDATE agents SET online = true, online_since = now() - interval '1 minute',"
		      " onboarded_at = now() WHERE eid = 'ag::1'");
	tdb_exec(t.c, "INSERT INTO tasks (eid, op, request)"
		      " VALUES ('ag::1', 'get', '{\"param_paths\":[\"Device.\"]}')");
	store_tasks_kick(f);
	assert_int_equal(take(f, got, 1, WAIT_MS), 1);
	assert_string_equal(got[0]->eid, "ag::1");
	store_task_free(got[0]);
	tdb_sleep_ms(600);
	assert_int_equal(tdb_int(t.c, PARKED_SQL), 0);
	tdb_exec(wc, "UPDATE tasks SET parked = false WHERE eid = 'ag::0' AND state = 'queued'"
		     " AND parked");
	end_hold(wc);
	store_tasks_kick(f);
	int n = take(f, got, 3, WAIT_MS);
	assert_int_equal(n, 3);
	for (int i = 0; i < n; i++) {
		assert_string_equal(got[i]->eid, "ag::0");
		store_task_free(got[i]);
	}
	store_tasks_stop(f);
	tdb_drop(&t);
}

static void in_flight_limit_throttles_claims(void **state)
{
	struct tdb t;
	struct store_task *got[64];
	tdb_create(&t, "tkfl");
	make_agents(t.c, 10, 1, 1);
	insert_tasks(t.c, 10, 5, 0, NULL);
	struct uspc_err err = { 0 };
	struct store_tasks *f = NULL;
	struct store_tasks_opts o = { .conn = tdb_opts(&t),
				      .node_id = "node-t",
				      .poll_ms = 100,
				      .max_in_flight = 8,
				      .claim_batch = 3,
				      .require_onboarded = 1 };
	assert_int_equal(store_tasks_start(&o, &f, &err), 0);
	int n = take(f, got, 8, WAIT_MS);
	assert_int_equal(n, 8);
	store_tasks_set_in_flight(f, 8); /* the core holds them all */
	/* No ninth claim, after several poll rounds. */
	assert_int_equal(take(f, got + n, 64 - n, 500), 0);
	assert_int_equal(tdb_int(t.c, "SELECT count(*) FROM tasks WHERE state = 'sent'"), 8);
	store_tasks_set_in_flight(f, 3); /* five finished */
	int more = take(f, got + n, 5, WAIT_MS);
	assert_int_equal(more, 5);
	assert_int_equal(take(f, got + n + more, 64 - n - more, 500), 0);
	assert_int_equal(tdb_int(t.c, "SELECT count(*) FROM tasks WHERE state = 'sent'"), 13);
	for (int i = 0; i < n + more; i++)
		store_task_free(got[i]);
	store_tasks_stop(f);
	tdb_drop(&t);
}

/* ---- plans that survive stale statistics ---------------------------------- */

/* The feeder starts on an empty `tasks` table, so its claim statement is
 * planned (and the plan cached) for a table of no rows. Then 3,000 tasks
 * arrive, before any ANALYZE. Every claim must still reach them by key: no
 * sequential scan of the table (seen in the bench: each claim of 200 read
 * all 10,000 rows). */
static void claims_reach_tasks_by_key_with_stale_statistics(void **state)
{
	struct tdb t;
	enum { AGENTS = 100, PER_AGENT = 30, N = AGENTS * PER_AGENT };
	tdb_create(&t, "tkplan");
	tdb_exec(t.c, "DO $$ DECLARE p regclass; BEGIN FOR p IN SELECT inhrelid FROM pg_inherits"
		      " WHERE inhparent = 'tasks'::regclass LOOP EXECUTE format('ALTER TABLE %s"
		      " SET (autovacuum_enabled = false)', p); END LOOP; END $$");
	make_agents(t.c, AGENTS, 1, 1);
	struct uspc_err err = { 0 };
	struct store_tasks *f = NULL;
	struct store_tasks_opts o = { .conn = tdb_opts(&t),
				      .node_id = "node-p",
				      .poll_ms = 20,
				      .max_in_flight = N,
				      .claim_batch = 100,
				      .require_onboarded = 1 };
	assert_int_equal(store_tasks_start(&o, &f, &err), 0);
	wait_connected(f);
	tdb_sleep_ms(500); /* claims of an empty table: the plan is cached */
	long long before = tasks_counter(t.c, "seq_scan");
	insert_tasks(t.c, AGENTS, PER_AGENT, 0, NULL);
	struct store_task **got = calloc(N, sizeof(*got));
	assert_non_null(got);
	int n = take(f, got, N, WAIT_MS);
	assert_int_equal(n, N);
	long long after = tasks_counter(t.c, "seq_scan");
	assert_int_equal(after - before, 0);
	for (int i = 0; i < n; i++)
		store_task_free(got[i]);
	free(got);
	store_tasks_stop(f);
	tdb_drop(&t);
}

/* ---- leases -------------------------------------------------------------- */

static void dead_daemon_tasks_are_requeued_once(void **state)
{
	struct tdb t;
	struct uspc_err err = { 0 };
	struct store_task *got[16];
	tdb_create(&t, "tkls");
	make_agents(t.c, 1, 1, 1);
	insert_tasks(t.c, 1, 4, 0, NULL);
	/* Daemon A claims the tasks, its core takes them, then A dies
	 * (heartbeat stops) without results. */
	struct store_tasks *a = feeder(&t, "node-a", 1000);
	assert_int_equal(take(a, got, 4, WAIT_MS), 4);
	int64_t lost_id = got[0]->id;
	for (int i = 0; i < 4; i++)
		store_task_free(got[i]);
	store_tasks_stop(a);
	/* Daemon B frees them after A's lease (1 s) and claims them again. */
	struct store_tasks *b = feeder(&t, "node-b", 1000);
	int n = take(b, got, 4, WAIT_MS);
	assert_int_equal(n, 4);
	for (int i = 0; i < n; i++) {
		assert_int_equal(got[i]->attempts, 2);
		store_task_free(got[i]);
	}
	struct store_tasks_stats st;
	store_tasks_stats(b, &st);
	assert_int_equal(st.requeued, 4);
	/* A late result from A (it was only partitioned) is ignored; B's lands. */
	struct store_writer *wa = NULL, *wb = NULL;
	struct store_writer_opts oa = { .conn = tdb_opts(&t), .node_id = "node-a" };
	struct store_writer_opts ob = { .conn = tdb_opts(&t), .node_id = "node-b" };
	assert_int_equal(store_writer_start(&oa, &wa, &err), 0);
	assert_int_equal(store_writer_start(&ob, &wb, &err), 0);
	struct store_task_result ra = { .task_id = lost_id,
					.failed = 1,
					.error_message = "from A" };
	struct store_task_result rb = { .task_id = lost_id, .result_json = "{\"from\":\"B\"}" };
	assert_int_equal(store_writer_task_result(wa, &ra, &err), 0);
	assert_int_equal(store_writer_flush(wa, WAIT_MS), 0);
	assert_int_equal(store_writer_task_result(wb, &rb, &err), 0);
	assert_int_equal(store_writer_flush(wb, WAIT_MS), 0);
	char sql[256];
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM tasks WHERE id = %lld AND state = 'done'"
		 " AND result->>'from' = 'B'",
		 (long long)lost_id);
	assert_int_equal(tdb_int(t.c, sql), 1);
	store_writer_stop(wa, 1000);
	store_writer_stop(wb, 1000);
	store_tasks_stop(b);
	tdb_drop(&t);
}

/* Wait until the feeder has run `rounds` more maintenance rounds (each one
 * expires a task we queue for an unknown agent, then checks the leases). */
static void wait_maintenance(PGconn *c, struct store_tasks *f, int rounds)
{
	struct store_tasks_stats st;
	store_tasks_stats(f, &st);
	uint64_t want = st.expired;
	for (int i = 0; i < rounds; i++) {
		tdb_exec(c, "INSERT INTO tasks (eid, op, request, expires_at)"
			    " VALUES ('nobody::1', 'get', '{}', now() - interval '1 second')");
		want++;
		for (int64_t end = now_ms() + WAIT_MS; now_ms() < end; tdb_sleep_ms(10)) {
			store_tasks_stats(f, &st);
			if (st.expired >= want)
				break;
		}
		assert_true(st.expired >= want);
	}
}

static void live_feeder_keeps_its_own_tasks(void **state)
{
	struct tdb t;
	struct store_task *got[4];
	tdb_create(&t, "tkown");
	make_agents(t.c, 1, 1, 1);
	insert_tasks(t.c, 1, 2, 0, NULL);
	/* Heartbeats far apart: between two of them its own row looks older
	 * than the 500 ms lease (as after a long stall of a loaded daemon). */
	struct uspc_err err = { 0 };
	struct store_tasks *f = NULL;
	struct store_tasks_opts o = { .conn = tdb_opts(&t),
				      .node_id = "node-k",
				      .poll_ms = 100,
				      .heartbeat_ms = 600000,
				      .lease_ms = 500 };
	assert_int_equal(store_tasks_start(&o, &f, &err), 0);
	assert_int_equal(take(f, got, 2, WAIT_MS), 2);
	tdb_exec(t.c, "UPDATE daemons SET heartbeat_at = now() - interval '1 hour'"
		      " WHERE node_id = 'node-k'");
	wait_maintenance(t.c, f, 2);
	struct store_tasks_stats st;
	store_tasks_stats(f, &st);
	assert_int_equal(st.requeued, 0);
	assert_int_equal(tdb_int(t.c, "SELECT count(*) FROM tasks WHERE state = 'sent'"
				      " AND claimed_by = 'node-k' AND attempts = 1"),
			 2);
	/* Another daemon does take them back: node-k's lease has run out. */
	struct store_tasks *g = feeder(&t, "node-g", 500);
	assert_int_equal(tdb_wait_int(t.c, "SELECT count(*) FROM tasks WHERE claimed_by = 'node-k'",
				      0, WAIT_MS),
			 0);
	store_task_free(got[0]);
	store_task_free(got[1]);
	store_tasks_stop(g);
	store_tasks_stop(f);
	tdb_drop(&t);
}

static void restarted_daemon_requeues_its_own_tasks(void **state)
{
	struct tdb t;
	struct store_task *got[16];
	tdb_create(&t, "tkrs");
	make_agents(t.c, 1, 1, 1);
	insert_tasks(t.c, 1, 2, 0, NULL);
	struct store_tasks *a = feeder(&t, "node-r", 60000);
	assert_int_equal(take(a, got, 2, WAIT_MS), 2);
	store_task_free(got[0]);
	store_task_free(got[1]);
	store_tasks_stop(a); /* "kill -9": the core's two tasks stay 'sent' */
	assert_int_equal(tdb_int(t.c, "SELECT count(*) FROM tasks WHERE state = 'sent'"), 2);
	/* Same node id again: no need to wait for the 60 s lease. */
	a = feeder(&t, "node-r", 60000);
	assert_int_equal(take(a, got, 2, WAIT_MS), 2);
	assert_int_equal(got[0]->attempts, 2);
	store_task_free(got[0]);
	store_task_free(got[1]);
	store_tasks_stop(a);
	/* Third run with max_attempts 2: the tasks fail instead of looping forever. */
	struct uspc_err err = { 0 };
	struct store_tasks_opts o = { .conn = tdb_opts(&t),
				      .node_id = "node-r",
				      .poll_ms = 200,
				      .max_attempts = 2,
				      .require_onboarded = 1 };
	assert_int_equal(store_tasks_start(&o, &a, &err), 0);
	wait_connected(a); /* its start-up re-queue has run */
	assert_int_equal(
		tdb_int(t.c,
			"SELECT count(*) FROM tasks WHERE state = 'failed'"
			" AND error_code = 7003 AND error_message LIKE 'daemon node-r restarted%'"
			" AND finished_at IS NOT NULL"),
		2);
	assert_int_equal(take(a, got, 16, 600), 0);
	store_tasks_stop(a);
	tdb_drop(&t);
}

/* ---- node lock --------------------------------------------------------------- */

/* A second daemon with a live daemon's node_id refuses to start, naming the
 * holder; once the first is gone it starts. After a reconnect the lock is
 * taken again, and a session of our own the server still holds is taken
 * over. */
static void duplicate_node_id_is_refused(void **state)
{
	struct tdb t;
	struct uspc_err err = { 0 };
	struct store_task *got[4];
	tdb_create(&t, "tknl");
	make_agents(t.c, 1, 1, 1);
	insert_tasks(t.c, 1, 2, 0, NULL);
	struct store_tasks *a = feeder(&t, "node-dup", 60000);
	assert_int_equal(take(a, got, 2, WAIT_MS), 2);
	struct store_tasks *b = NULL;
	struct store_tasks_opts o = { .conn = tdb_opts(&t), .node_id = "node-dup", .poll_ms = 200 };
	assert_int_equal(store_tasks_start(&o, &b, &err), STORE_E_BUSY);
	assert_null(b);
	assert_non_null(strstr(err.msg, "node-dup"));
	assert_non_null(strstr(err.msg, "uspc-feeder")); /* the holder's application_name */
	assert_non_null(strstr(err.msg, "pid "));
	/* The refused start took nothing back from the live daemon. */
	assert_int_equal(tdb_int(t.c, "SELECT count(*) FROM tasks WHERE state = 'sent'"
				      " AND claimed_by = 'node-dup' AND attempts = 1"),
			 2);
	/* Another node_id is not affected. */
	struct store_tasks_opts other = o;
	other.node_id = "node-other";
	assert_int_equal(store_tasks_start(&other, &b, &err), 0);
	store_tasks_stop(b);
	/* The lock survives a lost connection: the feeder takes it again, on
	 * a new backend (the terminated one may show its lock for a moment). */
	int old_pid = tdb_int(t.c, "SELECT pid FROM pg_stat_activity"
				   " WHERE application_name = 'uspc-feeder'"
				   " AND datname = current_database()");
	tdb_int(t.c, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
		     " WHERE application_name = 'uspc-feeder' AND datname = current_database()");
	char held_by_new[300];
	snprintf(held_by_new, sizeof(held_by_new),
		 "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity s"
		 " ON s.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted"
		 " AND s.application_name = 'uspc-feeder' AND s.pid <> %d",
		 old_pid);
	assert_int_equal(tdb_wait_int(t.c, held_by_new, 1, WAIT_MS), 1);
	assert_int_equal(store_tasks_start(&o, &b, &err), STORE_E_BUSY);
	store_task_free(got[0]);
	store_task_free(got[1]);
	store_tasks_stop(a);
	/* The first daemon stopped: the same node_id starts now. */
	assert_int_equal(store_tasks_start(&o, &b, &err), 0);
	wait_connected(b);
	store_tasks_stop(b);
	tdb_drop(&t);
}

/* ---- lost tasks that must not run twice ------------------------------------ */

/* One task per op for agent ag::0, in this order. */
static const char *const lost_ops[] = { "get",
					"set",
					"add",
					"delete",
					"get_instances",
					"operate",
					"get_supported_dm",
					"get_supported_protocol" };
#define N_LOST_OPS 8
#define N_LOST_IDEMPOTENT 4

static void insert_op_tasks(PGconn *c)
{
	struct uspc_err err = { 0 };
	const char *eid = "ag::0";
	for (int i = 0; i < N_LOST_OPS; i++) {
		struct store_task_spec spec = { .op = lost_ops[i], .request_json = "{}" };
		assert_int_equal(store_query_insert_tasks(c, &eid, 1, &spec, NULL, &err), 0);
	}
}

/* The ids in a uspc_task_done payload ("1,2,3") summed up, over every
 * notification that arrives within timeout_ms; the count of ids in *n. */
static int64_t done_ids_sum(PGconn *c, int want, int timeout_ms, int *n)
{
	int64_t sum = 0;
	*n = 0;
	for (int64_t end = now_ms() + timeout_ms; *n < want && now_ms() < end;) {
		PGnotify *nt = tdb_wait_notify(c, 200);
		if (!nt)
			continue;
		if (!strcmp(nt->relname, "uspc_task_done"))
			for (char *p = nt->extra; *p;) {
				sum += strtoll(p, &p, 10);
				(*n)++;
				if (*p == ',')
					p++;
				else
					break;
			}
		PQfreemem(nt);
	}
	return sum;
}

static void check_lost_tasks(PGconn *c, const char *node, const char *why)
{
	char sql[512];
	/* Idempotent ones: queued again (claimed again by the caller). */
	assert_int_equal(tdb_int(c, "SELECT count(*) FROM tasks WHERE state = 'unknown' AND op IN"
				    " ('get', 'get_instances', 'get_supported_dm',"
				    " 'get_supported_protocol')"),
			 0);
	/* The others: 'unknown', finished, saying why, still naming the daemon. */
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM tasks WHERE state = 'unknown'"
		 " AND op IN ('set', 'add', 'delete', 'operate') AND finished_at IS NOT NULL"
		 " AND error_code IS NULL AND claimed_by = '%s' AND sent_at IS NOT NULL"
		 " AND error_message LIKE 'outcome unknown: daemon %s %s%%'",
		 node, node, why);
	assert_int_equal(tdb_int(c, sql), N_LOST_OPS - N_LOST_IDEMPOTENT);
}

/* A daemon killed while holding tasks restarts: its Gets are sent again,
 * its Set/Add/Delete/Operate end 'unknown' (they may have run on the agent)
 * and are announced on uspc_task_done. */
static void restart_ends_non_idempotent_tasks_unknown(void **state)
{
	struct tdb t;
	struct store_task *got[16];
	tdb_create(&t, "tkuk");
	make_agents(t.c, 1, 1, 1);
	insert_op_tasks(t.c);
	struct store_tasks *a = feeder(&t, "node-u", 60000);
	assert_int_equal(take(a, got, N_LOST_OPS, WAIT_MS), N_LOST_OPS);
	for (int i = 0; i < N_LOST_OPS; i++)
		store_task_free(got[i]);
	store_tasks_stop(a); /* "kill -9": the core's tasks stay 'sent' */
	assert_int_equal(tdb_int(t.c, "SELECT count(*) FROM tasks WHERE state = 'sent'"),
			 N_LOST_OPS);
	tdb_exec(t.c, "LISTEN uspc_task_done");
	a = feeder(&t, "node-u", 60000);
	int n = take(a, got, 16, 3000);
	assert_int_equal(n, N_LOST_IDEMPOTENT);
	for (int i = 0; i < n; i++) {
		assert_true(store_task_op_idempotent(got[i]->op));
		assert_int_equal(got[i]->attempts, 2);
		store_task_free(got[i]);
	}
	check_lost_tasks(t.c, "node-u", "restarted");
	int ids = 0;
	int64_t sum = done_ids_sum(t.c, N_LOST_OPS - N_LOST_IDEMPOTENT, WAIT_MS, &ids);
	assert_int_equal(ids, N_LOST_OPS - N_LOST_IDEMPOTENT);
	assert_int_equal(sum, tdb_int(t.c, "SELECT sum(id) FROM tasks WHERE state = 'unknown'"));
	struct store_tasks_stats st;
	store_tasks_stats(a, &st);
	assert_int_equal(st.requeued, N_LOST_IDEMPOTENT);
	assert_int_equal(st.lost_unknown, N_LOST_OPS - N_LOST_IDEMPOTENT);
	store_tasks_stop(a);
	tdb_drop(&t);
}

/* Another daemon takes over the tasks of one whose lease expired: the same
 * split, and a late result of the dead daemon changes nothing. */
static void lease_expiry_ends_non_idempotent_tasks_unknown(void **state)
{
	struct tdb t;
	struct uspc_err err = { 0 };
	struct store_task *got[16];
	tdb_create(&t, "tkul");
	make_agents(t.c, 1, 1, 1);
	insert_op_tasks(t.c);
	struct store_tasks *a = feeder(&t, "node-a", 1000);
	assert_int_equal(take(a, got, N_LOST_OPS, WAIT_MS), N_LOST_OPS);
	int64_t set_id = 0;
	for (int i = 0; i < N_LOST_OPS; i++) {
		if (!strcmp(got[i]->op, "set"))
			set_id = got[i]->id;
		store_task_free(got[i]);
	}
	store_tasks_stop(a);
	struct store_tasks *b = feeder(&t, "node-b", 1000);
	int n = take(b, got, N_LOST_IDEMPOTENT, WAIT_MS);
	assert_int_equal(n, N_LOST_IDEMPOTENT);
	for (int i = 0; i < n; i++) {
		assert_true(store_task_op_idempotent(got[i]->op));
		store_task_free(got[i]);
	}
	check_lost_tasks(t.c, "node-a", "stopped heartbeating (its lease expired)");
	assert_int_equal(take(b, got, 16, 500), 0);
	/* node-a was only partitioned: its late answer to the Set is ignored. */
	struct store_writer *wa = NULL;
	struct store_writer_opts oa = { .conn = tdb_opts(&t), .node_id = "node-a" };
	assert_int_equal(store_writer_start(&oa, &wa, &err), 0);
	struct store_task_result ra = { .task_id = set_id, .result_json = "{}" };
	assert_int_equal(store_writer_task_result(wa, &ra, &err), 0);
	assert_int_equal(store_writer_flush(wa, WAIT_MS), 0);
	struct store_writer_stats ws;
	store_writer_stats(wa, &ws);
	assert_int_equal(ws.task_results_stale, 1);
	char sql[128];
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM tasks WHERE id = %lld AND state = 'unknown'",
		 (long long)set_id);
	assert_int_equal(tdb_int(t.c, sql), 1);
	store_writer_stop(wa, 1000);
	store_tasks_stop(b);
	tdb_drop(&t);
}

/* The core ends a task 'unknown' through store_task_result.unknown. */
static void core_ends_a_task_unknown(void **state)
{
	struct tdb t;
	struct uspc_err err = { 0 };
	struct store_writer *w = NULL;
	tdb_create(&t, "tkuw");
	tdb_exec(t.c, "INSERT INTO tasks (id, eid, op, request, state, claimed_by) VALUES"
		      " (1, 'uw::1', 'set', '{}', 'sent', 'node-w'),"
		      " (2, 'uw::1', 'get', '{}', 'sent', 'node-w')");
	struct store_writer_opts o = { .conn = tdb_opts(&t), .node_id = "node-w" };
	assert_int_equal(store_writer_start(&o, &w, &err), 0);
	struct store_task_result r1 = {
		.task_id = 1,
		.failed = 1,
		.unknown = 1,
		.msg_id = "m-1",
		.error_message = "outcome unknown: the agent reconnected without a session"
	};
	struct store_task_result r2 = { .task_id = 2, .failed = 1, .error_message = "x" };
	assert_int_equal(store_writer_task_result(w, &r1, &err), 0);
	assert_int_equal(store_writer_task_result(w, &r2, &err), 0);
	assert_int_equal(store_writer_flush(w, WAIT_MS), 0);
	assert_int_equal(tdb_int(t.c,
				 "SELECT count(*) FROM tasks WHERE id = 1 AND state = 'unknown'"
				 " AND msg_id = 'm-1' AND finished_at IS NOT NULL"
				 " AND error_message LIKE 'outcome unknown: %'"),
			 1);
	assert_int_equal(
		tdb_int(t.c, "SELECT count(*) FROM tasks WHERE id = 2 AND state = 'failed'"), 1);
	store_writer_stop(w, 1000);
	tdb_drop(&t);
}

static void unstarted_tasks_are_released_at_stop(void **state)
{
	struct tdb t;
	tdb_create(&t, "tkrl");
	make_agents(t.c, 1, 1, 1);
	insert_tasks(t.c, 1, 3, 0, NULL);
	struct store_tasks *a = feeder(&t, "node-s", 60000);
	/* Wait until the feeder has claimed them, but never take them. */
	assert_int_equal(
		tdb_wait_int(t.c, "SELECT count(*) FROM tasks WHERE state = 'sent'", 3, WAIT_MS),
		3);
	store_tasks_stop(a);
	assert_int_equal(tdb_int(t.c, "SELECT count(*) FROM tasks WHERE state = 'queued'"
				      " AND attempts = 0 AND claimed_by IS NULL"),
			 3);
	tdb_drop(&t);
}

/* ---- expiry and cancel ----------------------------------------------------- */

static void queued_tasks_expire_and_notify(void **state)
{
	struct tdb t;
	struct uspc_err err = { 0 };
	int64_t ids[2];
	tdb_create(&t, "tkex");
	make_agents(t.c, 1, 0, 0); /* offline: the tasks wait */
	PGconn *l = NULL;
	struct store_conn_opts o = tdb_opts(&t);
	assert_int_equal(store_conn_open(&o, &l, &err), 0);
	assert_int_equal(store_query_listen_done(l, &err), 0);
	insert_tasks(t.c, 1, 1, 300, &ids[0]);
	insert_tasks(t.c, 1, 1, 0, &ids[1]); /* never expires */
	struct store_tasks *f = feeder(&t, "node-e", 15000);
	int64_t done[8];
	size_t n = 0;
	for (int64_t end = now_ms() + WAIT_MS; n == 0 && now_ms() < end;)
		assert_int_equal(store_query_wait_done(l, 100, done, 8, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(done[0], ids[0]);
	cJSON *j = NULL;
	assert_int_equal(store_query_task_status(t.c, ids, 2, &j, &err), 0);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(j, 0), "state")->valuestring,
			    "expired");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(j, 1), "state")->valuestring,
			    "queued");
	cJSON_Delete(j);
	/* The feeder counts after its commit, so its counter may trail the
	 * NOTIFY we just read by a moment. */
	struct store_tasks_stats st;
	for (int64_t end = now_ms() + WAIT_MS; now_ms() < end; tdb_sleep_ms(10)) {
		store_tasks_stats(f, &st);
		if (st.expired >= 1)
			break;
	}
	assert_int_equal(st.expired, 1);
	/* Cancel the other one: canceled, announced; a second cancel changes nothing. */
	size_t canceled = 0;
	assert_int_equal(store_query_cancel(t.c, &ids[1], 1, NULL, &canceled, &err), 0);
	assert_int_equal(canceled, 1);
	assert_int_equal(store_query_cancel(t.c, NULL, 0, "b1", &canceled, &err), 0);
	assert_int_equal(canceled, 0);
	n = 0;
	for (int64_t end = now_ms() + WAIT_MS; n == 0 && now_ms() < end;)
		assert_int_equal(store_query_wait_done(l, 100, done, 8, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(done[0], ids[1]);
	PQfinish(l);
	store_tasks_stop(f);
	tdb_drop(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(two_feeders_never_share_a_task),
		cmocka_unit_test(only_online_onboarded_agents_get_tasks),
		cmocka_unit_test(tasks_wait_parked_until_onboarding),
		cmocka_unit_test(in_flight_limit_throttles_claims),
		cmocka_unit_test(claims_reach_tasks_by_key_with_stale_statistics),
		cmocka_unit_test(parked_tasks_are_not_walked_again),
		cmocka_unit_test(claim_skips_agents_being_written),
		cmocka_unit_test(heartbeat_continues_while_parking),
		cmocka_unit_test(claims_pass_tasks_of_agents_being_written),
		cmocka_unit_test(parked_tasks_of_ready_agents_are_swept),
		cmocka_unit_test(dead_daemon_tasks_are_requeued_once),
		cmocka_unit_test(live_feeder_keeps_its_own_tasks),
		cmocka_unit_test(restarted_daemon_requeues_its_own_tasks),
		cmocka_unit_test(unstarted_tasks_are_released_at_stop),
		cmocka_unit_test(restart_ends_non_idempotent_tasks_unknown),
		cmocka_unit_test(lease_expiry_ends_non_idempotent_tasks_unknown),
		cmocka_unit_test(core_ends_a_task_unknown),
		cmocka_unit_test(duplicate_node_id_is_refused),
		cmocka_unit_test(queued_tasks_expire_and_notify),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
