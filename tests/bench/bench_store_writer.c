/*
 * bench_store_writer.c — rows/s of the store writer (batched, set-based
 * upserts in one transaction per batch) against single-row autocommit
 * statements, for snapshot upserts and notification appends.
 *
 *   USPC_DB=postgresql://... bench_store_writer [scale]
 *
 * Creates and drops its own database on the server named by USPC_DB.
 * scale (default 1) multiplies the row counts (bounded to 1..20).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_writer.h"
#include "test_store_common.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(const char *what, long rows, double secs)
{
	printf("%-46s %9ld rows %8.2f s %10.0f rows/s\n", what, rows, secs, (double)rows / secs);
	fflush(stdout);
}

static struct store_writer *writer(const struct tdb *t)
{
	struct uspc_err err = { 0 };
	struct store_writer *w = NULL;
	struct store_writer_opts o = { .conn = tdb_opts(t), .node_id = "bench" };
	if (store_writer_start(&o, &w, &err) < 0) {
		fprintf(stderr, "writer: %s\n", err.msg);
		exit(1);
	}
	return w;
}

static void finish(struct store_writer *w)
{
	if (store_writer_flush(w, 600000) < 0) {
		fprintf(stderr, "flush timed out\n");
		exit(1);
	}
}

/* ops of `per_op` rows each, over 1000 agents; each op brings new values,
 * or with `same` the value "same" every time (a repeat once stored). */
static void bench_snapshot_batched(const struct tdb *t, long ops, int per_op, int same,
				   const char *label)
{
	struct store_writer *w = writer(t);
	struct store_snapshot_row *rows = calloc((size_t)per_op, sizeof(*rows));
	char(*paths)[48] = calloc((size_t)per_op, 48);
	char eid[32], val[32];
	struct uspc_err err = { 0 };
	for (int i = 0; i < per_op; i++) {
		snprintf(paths[i], 48, "Device.Bench.Param.%d", i);
		rows[i].path = paths[i];
		rows[i].value = val;
	}
	double t0 = now_s();
	for (long i = 0; i < ops; i++) {
		snprintf(eid, sizeof(eid), "bench::%ld", i % 1000);
		if (same)
			snprintf(val, sizeof(val), "same");
		else
			snprintf(val, sizeof(val), "%ld", i);
		while (store_writer_snapshot(w, eid, rows, (size_t)per_op, 0, &err) ==
		       STORE_E_FULL) {
			struct timespec ts = { 0, 1000000 };
			nanosleep(&ts, NULL);
		}
	}
	finish(w);
	report(label, ops * per_op, now_s() - t0);
	store_writer_stop(w, 1000);
	free(rows);
	free(paths);
}

static void bench_notif_batched(const struct tdb *t, long n)
{
	struct store_writer *w = writer(t);
	char eid[32], msg_id[32];
	struct uspc_err err = { 0 };
	double t0 = now_s();
	for (long i = 0; i < n; i++) {
		snprintf(eid, sizeof(eid), "bench::%ld", i % 1000);
		snprintf(msg_id, sizeof(msg_id), "b-%ld", i);
		struct store_notification nt = { .eid = eid,
						 .msg_id = msg_id,
						 .kind = "value_change",
						 .path = "Device.DeviceInfo.UpTime",
						 .payload_json =
							 "{\"value_change\":{\"param_path\":"
							 "\"Device.DeviceInfo.UpTime\","
							 "\"param_value\":\"42\"}}" };
		while (store_writer_notification(w, &nt, &err) == STORE_E_FULL) {
			struct timespec ts = { 0, 1000000 };
			nanosleep(&ts, NULL);
		}
	}
	finish(w);
	report("notification append, writer batches", n, now_s() - t0);
	store_writer_stop(w, 1000);
}

/* The naive way: one statement per row, each its own transaction. */
static void bench_single(const struct tdb *t, long n, int notif)
{
	char eid[32], a[48], b[32];
	double t0 = now_s();
	for (long i = 0; i < n; i++) {
		snprintf(eid, sizeof(eid), "single::%ld", i % 1000);
		snprintf(a, sizeof(a), notif ? "s-%ld" : "Device.Single.%ld", i);
		snprintf(b, sizeof(b), "%ld", i);
		const char *p[3] = { eid, a, b };
		PGresult *r = PQexecParams(
			t->c,
			notif ? "INSERT INTO notifications (eid, msg_id, kind, payload, received_at)"
				" VALUES ($1, $2, 'value_change', jsonb_build_object('v', $3::text),"
				" now()) ON CONFLICT (eid, msg_id, day) DO NOTHING"
			      : "INSERT INTO snapshot (eid, path, value, updated_at)"
				" VALUES ($1, $2, $3, now()) ON CONFLICT (eid, path) DO UPDATE"
				" SET value = excluded.value, updated_at = excluded.updated_at",
			3, NULL, p, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			fprintf(stderr, "insert: %s", PQerrorMessage(t->c));
			exit(1);
		}
		PQclear(r);
	}
	report(notif ? "notification append, single-row autocommit"
		     : "snapshot upsert, single-row autocommit",
	       n, now_s() - t0);
}

int main(int argc, char **argv)
{
	int scale = argc > 1 ? atoi(argv[1]) : 1;
	if (scale < 1 || scale > 20)
		scale = 1;
	struct tdb t;
	tdb_create(&t, "bench");
	bench_single(&t, 2000L * scale, 0);
	bench_single(&t, 2000L * scale, 1);
	bench_snapshot_batched(&t, 2000L * scale, 100, 0, "snapshot insert, writer (100 rows/op)");
	bench_snapshot_batched(&t, 2000L * scale, 100, 0, "snapshot update, writer (100 rows/op)");
	/* One op per agent: every row changes to "same"; then only repeats. */
	bench_snapshot_batched(&t, 1000L, 100, 1,
			       "snapshot update to one value, writer (100 rows/op)");
	bench_snapshot_batched(&t, 2000L * scale, 100, 1,
			       "snapshot repeat of the stored value, writer (100 rows/op)");
	bench_snapshot_batched(&t, 100000L * scale, 1, 0, "snapshot upsert, writer (1 row/op)");
	bench_notif_batched(&t, 100000L * scale);
	tdb_drop(&t);
	return 0;
}
