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
	int submitted, full;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	struct uspc_err err = { 0 };
	char msg_id[32], path[64];
	for (int i = 0; i < N_NOTIF; i++) {
		snprintf(msg_id, sizeof(msg_id), "n-%d", i);
		snprintf(path, sizeof(path), "Device.Counter.%d", i % 100);
		struct store_notification n = { .eid = "rs::1", .msg_id = msg_id,
						.kind = "value_change", .path = path,
						.payload_json = "{\"value_change\":{}}" };
		int rc;
		while ((rc = store_writer_notification(p->w, &n, &err)) == STORE_E_FULL) {
			p->full++;
			tdb_sleep_ms(2); /* back-pressure: keep the op, retry */
		}
		assert_int_equal(rc, 0);
		p->submitted++;
		if (i % 1000 == 999)
			tdb_sleep_ms(100); /* spread the writes over the restart */
	}
	return NULL;
}

static void db_restart_loses_nothing(void **state)
{
	const char *work = getenv("USPC_TEST_WORK_DIR");
	const char *script = getenv("USPC_LOCAL_STACK");
	assert_non_null(work);
	assert_non_null(script);
	snprintf(stack_dir, sizeof(stack_dir), "%s/stack", work);
	snprintf(stack_script, sizeof(stack_script), "%s", script);
	atexit(stop_stack);
	assert_int_equal(stack("start"), 0);
	load_env();

	struct tdb t;
	struct uspc_err err = { 0 };
	tdb_create_on(&t, "restart", getenv("USPC_DB"));
	tdb_exec(t.c, "INSERT INTO tasks (id, eid, op, request, state, claimed_by)"
		 " VALUES (7, 'rs::1', 'get', '{}', 'sent', 'node-r')");
	/* node-r is alive (its lease is fresh), so the feeder leaves task 7 alone. */
	tdb_exec(t.c, "INSERT INTO daemons (node_id) VALUES ('node-r')");
	struct store_writer *w = NULL;
	struct store_writer_opts wo = { .conn = tdb_opts(&t), .node_id = "node-r",
					.queue_max_ops = 4096, .retry_max_ms = 500 };
	assert_int_equal(store_writer_start(&wo, &w, &err), 0);
	struct store_tasks *f = NULL;
	struct store_tasks_opts fo = { .conn = tdb_opts(&t), .node_id = "node-f", .poll_ms = 200,
				       .heartbeat_ms = 200, .lease_ms = 60000, .retry_max_ms = 500 };
	assert_int_equal(store_tasks_start(&fo, &f, &err), 0);

	struct producer p = { .w = w };
	pthread_t th;
	pthread_create(&th, NULL, produce, &p);
	tdb_sleep_ms(700);
	PQfinish(t.c);
	t.c = NULL;
	assert_int_equal(stack("restart-db"), 0);
	/* A task result submitted right after the restart. */
	struct store_task_result r = { .task_id = 7, .result_json = "{\"ok\":true}" };
	int rc;
	while ((rc = store_writer_task_result(w, &r, &err)) == STORE_E_FULL)
		tdb_sleep_ms(2);
	assert_int_equal(rc, 0);
	pthread_join(th, NULL);
	assert_int_equal(store_writer_flush(w, 60000), 0);

	struct store_writer_stats ws;
	store_writer_stats(w, &ws);
	fprintf(stderr, "writer: %llu ops, %llu batches, %llu reconnects, %llu retries, %d full\n",
		(unsigned long long)ws.ops_written, (unsigned long long)ws.batches,
		(unsigned long long)ws.reconnects, (unsigned long long)ws.retries, p.full);
	assert_true(ws.reconnects >= 1);
	assert_int_equal(ws.ops_rejected, 0);
	struct store_conn_opts o = tdb_opts(&t);
	assert_int_equal(store_conn_open(&o, &t.c, &err), 0);
	assert_int_equal(tdb_int(t.c, "SELECT count(*) FROM notifications WHERE eid = 'rs::1'"),
			 N_NOTIF);
	assert_int_equal(tdb_int(t.c, "SELECT count(*) FROM tasks WHERE id = 7 AND state = 'done'"), 1);
	/* The feeder came back too: its heartbeat moves again. */
	assert_int_equal(tdb_wait_int(t.c, "SELECT count(*) FROM daemons WHERE node_id = 'node-f'"
				      " AND heartbeat_at > now() - interval '1 second'", 1, 5000), 1);
	struct store_tasks_stats fs;
	store_tasks_stats(f, &fs);
	assert_true(fs.reconnects >= 1);
	assert_true(fs.connected);
	store_tasks_stop(f);
	assert_int_equal(store_writer_stop(w, 5000), 0);
	tdb_drop(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(db_restart_loses_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
