/*
 * test_store_restart.c — PostgreSQL restarted while the writer and the
 * feeder are busy: nothing queued is lost, both reconnect by themselves.
 * Runs its own private stack (deploy/local-stack.sh --dir
 * $USPC_TEST_WORK_DIR/stack) so the restart disturbs no other test.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "store_tasks.h"
#include "store_writer.h"
#include "test_store_common.h"

#define N_NOTIF 20000

static char stack_dir[900];
static char stack_script[900];

static int stack(const char *cmd)
{
	char line[2048];
	snprintf(line, sizeof(line), "'%s' %s --dir '%s' >/dev/null", stack_script, cmd, stack_dir);
	return system(line);
}

static void stop_stack(void)
{
	stack("stop");
}

/* Export the private stack's env file (USPC_DB, PGPASSFILE, ...). */
static void load_env(void)
{
	char path[1024], line[1024];
	snprintf(path, sizeof(path), "%s/env", stack_dir);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		char *kv = !strncmp(line, "export ", 7) ? line + 7 : line;
		char *eq = strchr(kv, '=');
		if (!eq)
			continue;
		*eq = '\0';
		setenv(kv, eq + 1, 1);
	}
	fclose(f);
}

struct producer {
	struct store_writer *w;
	int submitted, full, failed_rc; /* asserted on the test's thread */
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	struct uspc_err err = { 0 };
	char msg_id[32], path[64];
	for (int i = 0; i < N_NOTIF; i++) {
		snprintf(msg_id, sizeof(msg_id), "n-%d", i);
		snprintf(path, sizeof(path), "Device.Counter.%d", i % 100);
		struct store_notification n = { .eid = "rs::1",
						.msg_id = msg_id,
						.kind = "value_change",
						.path = path,
						.payload_json = "{\"value_change\":{}}" };
		int rc;
		while ((rc = store_writer_notification(p->w, &n, &err)) == STORE_E_FULL) {
			p->full++;
			tdb_sleep_ms(2); /* back-pressure: keep the op, retry */
		}
		if (rc < 0) {
			p->failed_rc = rc;
			return NULL;
		}
		p->submitted++;
		if (i % 1000 == 999)
			tdb_sleep_ms(100); /* spread the writes over the restart */
	}
	return NULL;
}

/* Everything the test starts, released by teardown even when an assertion
 * failed (cmocka runs teardown after a failure), so LeakSanitizer only
 * reports real leaks. */
struct fx {
	struct tdb t;
	int have_db;
	struct store_writer *w;
	struct store_tasks *f;
	struct producer p;
	pthread_t th;
	int th_running;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Bounded waits: generous limits, because CI shares two cores with builds. */
#define WAIT_MS 60000

static int feeder_connected(struct store_tasks *f)
{
	struct store_tasks_stats st;
	store_tasks_stats(f, &st);
	return st.connected;
}

static int writer_busy(struct store_writer *w)
{
	struct store_writer_stats st;
	store_writer_stats(w, &st);
	return st.connected && st.ops_written > 0;
}

static int setup(void **state)
{
	const char *work = getenv("USPC_TEST_WORK_DIR");
	const char *script = getenv("USPC_LOCAL_STACK");
	if (!work || !script) {
		fprintf(stderr,
			"USPC_TEST_WORK_DIR / USPC_LOCAL_STACK not set (run through ctest)\n");
		return -1;
	}
	snprintf(stack_dir, sizeof(stack_dir), "%s/stack", work);
	snprintf(stack_script, sizeof(stack_script), "%s", script);
	atexit(stop_stack); /* also when the program dies half-way */
	if (stack("start") != 0)
		return -1;
	load_env();
	struct fx *x = calloc(1, sizeof(*x));
	if (!x)
		return -1;
	tdb_create_on(&x->t, "restart", getenv("USPC_DB"));
	x->have_db = 1;
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;
	if (!x)
		return 0;
	if (x->th_running)
		pthread_join(x->th, NULL);
	store_tasks_stop(x->f);
	store_writer_stop(x->w, 5000);
	if (x->have_db)
		tdb_drop(&x->t);
	free(x);
	stop_stack();
	return 0;
}

static void db_restart_loses_nothing(void **state)
{
	struct fx *x = *state;
	struct tdb *t = &x->t;
	struct uspc_err err = { 0 };
	/* One daemon, node-r: its feeder and writer share the node id, as in
	 * uspc. The feeder connects first (its start-up re-queue of node-r's
	 * leftovers is done once it reports connected)... */
	struct store_tasks_opts fo = { .conn = tdb_opts(t),
				       .node_id = "node-r",
				       .poll_ms = 200,
				       .heartbeat_ms = 200,
				       .lease_ms = 60000,
				       .retry_max_ms = 500 };
	assert_int_equal(store_tasks_start(&fo, &x->f, &err), 0);
	for (int64_t end = now_ms() + WAIT_MS; !feeder_connected(x->f) && now_ms() < end;)
		tdb_sleep_ms(20);
	assert_true(feeder_connected(x->f));
	/* ... then its core holds task 7 (sent, claimed by node-r) across the
	 * restart. node-r's feeder keeps heartbeating, so nobody re-queues it. */
	tdb_exec(t->c, "INSERT INTO tasks (id, eid, op, request, state, claimed_by, attempts)"
		       " VALUES (7, 'rs::1', 'get', '{}', 'sent', 'node-r', 1)");
	struct store_writer_opts wo = {
		.conn = tdb_opts(t), .node_id = "node-r", .queue_max_ops = 4096, .retry_max_ms = 500
	};
	assert_int_equal(store_writer_start(&wo, &x->w, &err), 0);

	x->p.w = x->w;
	assert_int_equal(pthread_create(&x->th, NULL, produce, &x->p), 0);
	x->th_running = 1;
	/* Restart while the writer is connected and busy (not after a fixed
	 * delay: on a loaded machine it may not have connected yet). */
	for (int64_t end = now_ms() + WAIT_MS; !writer_busy(x->w) && now_ms() < end;)
		tdb_sleep_ms(20);
	assert_true(writer_busy(x->w));
	PQfinish(t->c);
	t->c = NULL;
	assert_int_equal(stack("restart-db"), 0);
	/* The task result, submitted right after the restart. */
	struct store_task_result r = { .task_id = 7, .result_json = "{\"ok\":true}" };
	int rc;
	while ((rc = store_writer_task_result(x->w, &r, &err)) == STORE_E_FULL)
		tdb_sleep_ms(2);
	assert_int_equal(rc, 0);
	pthread_join(x->th, NULL);
	x->th_running = 0;
	assert_int_equal(x->p.failed_rc, 0);
	assert_int_equal(x->p.submitted, N_NOTIF);
	assert_int_equal(store_writer_flush(x->w, WAIT_MS), 0);

	struct store_writer_stats ws;
	store_writer_stats(x->w, &ws);
	fprintf(stderr, "writer: %llu ops, %llu batches, %llu reconnects, %llu retries, %d full\n",
		(unsigned long long)ws.ops_written, (unsigned long long)ws.batches,
		(unsigned long long)ws.reconnects, (unsigned long long)ws.retries, x->p.full);
	assert_true(ws.reconnects >= 1);
	assert_int_equal(ws.ops_rejected, 0);
	assert_int_equal(ws.task_results_stale, 0);
	struct store_conn_opts o = tdb_opts(t);
	assert_int_equal(store_conn_open(&o, &t->c, &err), 0);
	assert_int_equal(tdb_int(t->c, "SELECT count(*) FROM notifications WHERE eid = 'rs::1'"),
			 N_NOTIF);
	assert_int_equal(tdb_int(t->c, "SELECT count(*) FROM tasks WHERE id = 7 AND state = 'done'"
				       " AND attempts = 1 AND result->>'ok' = 'true'"),
			 1);
	/* The feeder came back too: it heartbeats on the new server. */
	assert_int_equal(tdb_wait_int(t->c,
				      "SELECT count(*) FROM daemons WHERE node_id = 'node-r'"
				      " AND heartbeat_at > pg_postmaster_start_time()",
				      1, WAIT_MS),
			 1);
	struct store_tasks_stats fs;
	store_tasks_stats(x->f, &fs);
	assert_true(fs.reconnects >= 1);
	assert_true(fs.connected);
	assert_int_equal(fs.requeued, 0);
	assert_int_equal(fs.lost_failed, 0);
	store_tasks_stop(x->f);
	x->f = NULL;
	assert_int_equal(store_writer_stop(x->w, 5000), 0);
	x->w = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(db_restart_loses_nothing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
