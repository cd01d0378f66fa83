/*
 * test_store_common.c — a private database per test (see header).
 */
#include "test_store_common.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store_schema.h"

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "test setup: %s: %s\n", what, detail);
	exit(1);
}

/* conninfo for database db on the server of base (URI or key=value). */
static void with_dbname(const char *base, const char *db, char *out, size_t len)
{
	if (!strncmp(base, "postgresql://", 13) || !strncmp(base, "postgres://", 11)) {
		const char *host = strstr(base, "://") + 3;
		const char *slash = strchr(host, '/');
		const char *query = strchr(host, '?');
		size_t hostlen = slash   ? (size_t)(slash - base)
				 : query ? (size_t)(query - base)
					 : strlen(base);
		snprintf(out, len, "%.*s/%s%s", (int)hostlen, base, db, query ? query : "");
	} else {
		snprintf(out, len, "%s dbname=%s", base, db);
	}
}

void tdb_create_on(struct tdb *t, const char *tag, const char *server)
{
	struct uspc_err err = { 0 };
	PGconn *admin = NULL;
	memset(t, 0, sizeof(*t));
	if (!server)
		die("USPC_DB", "not set (run through ctest / with-stack.sh)");
	snprintf(t->admin, sizeof(t->admin), "%s", server);
	snprintf(t->name, sizeof(t->name), "uspc_t_%s_%d", tag, (int)getpid());
	struct store_conn_opts o = { .conninfo = server };
	if (store_conn_open(&o, &admin, &err) < 0)
		die("connect", err.msg);
	char sql[256];
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", t->name);
	tdb_exec(admin, sql);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", t->name);
	tdb_exec(admin, sql);
	PQfinish(admin);
	with_dbname(server, t->name, t->conninfo, sizeof(t->conninfo));
	o.conninfo = t->conninfo;
	if (store_conn_open(&o, &t->c, &err) < 0)
		die("connect to test database", err.msg);
	if (store_schema_migrate(t->c, NULL, &err) < 0)
		die("migrate", err.msg);
}

void tdb_create(struct tdb *t, const char *tag)
{
	tdb_create_on(t, tag, getenv("USPC_DB"));
}

void tdb_drop(struct tdb *t)
{
	struct uspc_err err = { 0 };
	PGconn *admin = NULL;
	if (t->c)
		PQfinish(t->c);
	t->c = NULL;
	struct store_conn_opts o = { .conninfo = t->admin };
	if (store_conn_open(&o, &admin, &err) < 0) {
		fprintf(stderr, "test teardown: %s\n", err.msg);
		return;
	}
	char sql[256];
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", t->name);
	tdb_exec(admin, sql);
	PQfinish(admin);
}

long long tdb_int(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	long long v = -1;
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
		v = atoll(PQgetvalue(r, 0, 0));
	else if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fprintf(stderr, "query failed: %s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	return v;
}

void tdb_exec(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		fprintf(stderr, "statement failed: %s: %s", sql, PQerrorMessage(c));
		exit(1);
	}
	PQclear(r);
}

struct store_conn_opts tdb_opts(const struct tdb *t)
{
	struct store_conn_opts o = { .conninfo = t->conninfo };
	return o;
}

void tdb_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

long long tdb_wait_int(PGconn *c, const char *sql, long long want, int timeout_ms)
{
	long long v = -1;
	for (int waited = 0; waited <= timeout_ms; waited += 50) {
		v = tdb_int(c, sql);
		if (v == want)
			break;
		tdb_sleep_ms(50);
	}
	return v;
}

PGnotify *tdb_wait_notify(PGconn *c, int timeout_ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t end = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + timeout_ms;
	for (;;) {
		PQconsumeInput(c);
		PGnotify *n = PQnotifies(c);
		if (n)
			return n;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		int64_t left = end - ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
		if (left <= 0)
			return NULL;
		struct pollfd p = { .fd = PQsocket(c), .events = POLLIN };
		poll(&p, 1, left > 100 ? 100 : (int)left);
	}
}
