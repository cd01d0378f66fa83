/*
 * test_store_schema.c — migrations against a real PostgreSQL: applied once,
 * idempotent, safe when several connections migrate at once, refused on a
 * newer schema; connection errors are reported without the password; the
 * store's sessions run READ COMMITTED whatever the database's default.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store_conn.h"
#include "store_migrations.h"
#include "store_schema.h"
#include "test_store_common.h"

static void migrate_twice_is_idempotent(void **state)
{
	struct tdb t;
	struct uspc_err err = { 0 };
	int applied = -1, version = -1;
	tdb_create(&t, "schema1"); /* applies everything once */
	assert_int_equal(store_schema_version(t.c, &version, &err), 0);
	assert_int_equal(version, store_schema_latest());
	assert_int_equal(store_schema_migrate(t.c, &applied, &err), 0);
	assert_int_equal(applied, 0);
	assert_int_equal(store_schema_migrate(t.c, &applied, &err), 0);
	assert_int_equal(applied, 0);
	assert_int_equal(tdb_int(t.c, "SELECT count(*) FROM schema_migrations"),
			 store_schema_latest());
	/* The tables the store needs exist. */
	assert_int_equal(tdb_int(t.c, "SELECT count(*) FROM pg_tables WHERE tablename IN ('agents',"
				      "'agent_subscriptions','snapshot_objects','notifications',"
				      "'tasks','operation_results','daemons')"),
			 7);
	assert_int_equal(tdb_int(t.c, "SELECT count(*) FROM pg_views WHERE viewname = 'snapshot'"),
			 1);
	tdb_drop(&t);
}

/* Migration 2 turns version 1's one row per parameter into one row per
 * object, keeping every value, and the view shows them as before. */
static void snapshot_rows_become_objects(void **state)
{
	struct tdb t;
	struct uspc_err err = { 0 };
	int applied = -1;
	tdb_create(&t, "schema4");
	tdb_exec(t.c, "DROP SCHEMA public CASCADE");
	tdb_exec(t.c, "CREATE SCHEMA public");
	tdb_exec(t.c, store_migrations[0].sql);
	tdb_exec(t.c, "CREATE TABLE schema_migrations (version integer PRIMARY KEY,"
		      " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
	tdb_exec(t.c, "INSERT INTO schema_migrations (version, name) VALUES (1, '0001_init')");
	tdb_exec(t.c, "INSERT INTO snapshot (eid, path, value, updated_at) VALUES"
		      " ('m::1', 'Device.DeviceInfo.ModelName', 'X1', '2026-01-01Z'),"
		      " ('m::1', 'Device.DeviceInfo.SoftwareVersion', '1.0', '2026-01-02Z'),"
		      " ('m::1', 'Device.IP.Interface.1.Name', 'w\"a\\n', '2026-01-01Z'),"
		      " ('m::2', 'Device.DeviceInfo.ModelName', '', '2026-01-03Z'),"
		      " ('m::2', 'NoDot', 'x', '2026-01-03Z')");
	int rc = store_schema_migrate(t.c, &applied, &err);
	if (rc != 0)
		fprintf(stderr, "migrate: %s\n", err.msg);
	assert_int_equal(rc, 0);
	assert_int_equal(applied, store_schema_latest() - 1);
	assert_int_equal(tdb_int(t.c, "SELECT count(*) FROM snapshot_objects"), 4);
	assert_int_equal(tdb_int(t.c, "SELECT count(*) FROM snapshot"), 5);
	assert_int_equal(tdb_int(t.c, "SELECT count(*) FROM snapshot WHERE eid = 'm::1' AND"
				      " path = 'Device.IP.Interface.1.Name' AND value = 'w\"a\\n'"),
			 1);
	assert_int_equal(tdb_int(t.c, "SELECT count(*) FROM snapshot WHERE eid = 'm::2' AND"
				      " path = 'NoDot' AND value = 'x'"),
			 1);
	/* An object carries its newest parameter's time. */
	assert_int_equal(tdb_int(t.c,
				 "SELECT count(*) FROM snapshot_objects WHERE eid = 'm::1'"
				 " AND obj = 'Device.DeviceInfo.' AND updated_at = '2026-01-02Z'"),
			 1);
	tdb_drop(&t);
}

static void fresh_database_reports_version_zero(void **state)
{
	struct tdb t;
	struct uspc_err err = { 0 };
	int version = -1, applied = -1;
	tdb_create(&t, "schema0");
	tdb_exec(t.c, "DROP TABLE schema_migrations");
	assert_int_equal(store_schema_version(t.c, &version, &err), 0);
	assert_int_equal(version, 0);
	/* With the record gone, migration 1 would run again and fail on the
	 * existing tables: the transaction rolls back and reports it. */
	assert_true(store_schema_migrate(t.c, &applied, &err) < 0);
	assert_int_equal(err.code, STORE_E_DB);
	assert_non_null(strstr(err.msg, "already exists"));
	/* ... and its CREATE TABLE schema_migrations was rolled back too. */
	assert_int_equal(tdb_int(t.c, "SELECT (to_regclass('schema_migrations') IS NULL)::int"), 1);
	tdb_drop(&t);
}

static void newer_schema_is_refused(void **state)
{
	struct tdb t;
	struct uspc_err err = { 0 };
	tdb_create(&t, "schema2");
	tdb_exec(t.c, "INSERT INTO schema_migrations (version, name) VALUES (9999, 'future')");
	assert_int_equal(store_schema_migrate(t.c, NULL, &err), STORE_E_SCHEMA);
	assert_non_null(strstr(err.msg, "9999"));
	/* Nothing was changed and the connection is usable (no open transaction). */
	assert_int_equal(tdb_int(t.c, "SELECT count(*) FROM schema_migrations"),
			 store_schema_latest() + 1);
	tdb_drop(&t);
}

struct racer {
	const char *conninfo;
	int rc, applied;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	struct uspc_err err = { 0 };
	PGconn *c = NULL;
	struct store_conn_opts o = { .conninfo = r->conninfo };
	r->rc = store_conn_open(&o, &c, &err);
	if (r->rc == 0)
		r->rc = store_schema_migrate(c, &r->applied, &err);
	PQfinish(c);
	return NULL;
}

static void concurrent_migrations_serialise(void **state)
{
	struct tdb t;
	tdb_create(&t, "schema3");
	/* Start from an empty database again, then let 4 connections race. */
	tdb_exec(t.c, "DROP SCHEMA public CASCADE");
	tdb_exec(t.c, "CREATE SCHEMA public");
	pthread_t th[4];
	struct racer r[4];
	for (int i = 0; i < 4; i++) {
		r[i] = (struct racer){ .conninfo = t.conninfo, .rc = -1, .applied = -1 };
		pthread_create(&th[i], NULL, race, &r[i]);
	}
	int total = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(r[i].rc, 0);
		total += r[i].applied;
	}
	assert_int_equal(total, store_schema_latest()); /* each migration applied once */
	tdb_drop(&t);
}

/* The claim and the writer's unpark rely on READ COMMITTED (a snapshot
 * per statement): a database whose default is REPEATABLE READ must not
 * change that for the store's sessions. */
static void sessions_run_read_committed(void **state)
{
	struct tdb t;
	struct uspc_err err = { 0 };
	PGconn *c = NULL;
	char sql[256];
	tdb_create(&t, "schemarc");
	snprintf(sql, sizeof(sql),
		 "ALTER DATABASE %s SET default_transaction_isolation = 'repeatable read'", t.name);
	tdb_exec(t.c, sql);
	struct store_conn_opts o = tdb_opts(&t);
	PGconn *plain = PQconnectdb(t.conninfo);
	assert_int_equal(PQstatus(plain), CONNECTION_OK);
	assert_int_equal(tdb_int(plain, "SELECT (current_setting('transaction_isolation')"
					" = 'repeatable read')::int"),
			 1); /* the setting took effect for a new session */
	PQfinish(plain);
	assert_int_equal(store_conn_open(&o, &c, &err), 0);
	assert_int_equal(tdb_int(c, "SELECT (current_setting('transaction_isolation')"
				    " = 'read committed')::int"),
			 1);
	PQfinish(c);
	tdb_drop(&t);
}

/* The value libpq uses for a connection option of c ("" when unset). */
static void conn_option(PGconn *c, const char *key, char *out, size_t len)
{
	PQconninfoOption *opts = PQconninfo(c);
	out[0] = '\0';
	for (PQconninfoOption *p = opts; p && p->keyword; p++)
		if (!strcmp(p->keyword, key) && p->val)
			snprintf(out, len, "%s", p->val);
	PQconninfoFree(opts);
}

/* Every connection notices a dead peer within seconds (keepalives, TCP
 * user timeout), and statement_timeout_ms bounds a statement; its 57014 is
 * a transient failure. */
static void connections_have_keepalives_and_statement_timeout(void **state)
{
	struct tdb t;
	struct uspc_err err = { 0 };
	PGconn *c = NULL;
	char v[64];
	tdb_create(&t, "schemaka");
	struct store_conn_opts o = tdb_opts(&t);
	o.statement_timeout_ms = 300;
	assert_int_equal(store_conn_open(&o, &c, &err), 0);
	conn_option(c, "keepalives", v, sizeof(v));
	assert_string_equal(v, "1");
	conn_option(c, "keepalives_idle", v, sizeof(v));
	assert_string_equal(v, "10");
	conn_option(c, "keepalives_interval", v, sizeof(v));
	assert_string_equal(v, "3");
	conn_option(c, "keepalives_count", v, sizeof(v));
	assert_string_equal(v, "3");
	conn_option(c, "tcp_user_timeout", v, sizeof(v));
	assert_string_equal(v, "15000");
	assert_int_equal(tdb_int(c, "SELECT (current_setting('statement_timeout') = '300ms')::int"),
			 1);
	assert_int_equal(store_exec(c, "SELECT pg_sleep(2)", 0, NULL, NULL, &err), STORE_E_DB);
	assert_string_equal(store_err_sqlstate(&err), err.msg);
	assert_memory_equal(err.msg, "57014", 5);
	assert_true(store_err_is_transient(&err));
	assert_false(store_err_needs_reconnect(&err));
	PQfinish(c);
	/* Without statement_timeout_ms the server's default stays. */
	o.statement_timeout_ms = 0;
	assert_int_equal(store_conn_open(&o, &c, &err), 0);
	assert_int_equal(tdb_int(c, "SELECT (current_setting('statement_timeout') = '0')::int"), 1);
	assert_int_equal(tdb_int(c, "SELECT (current_setting('jit') = 'on')::int"), 1);
	PQfinish(c);
	/* A keyed connection (the writer's, the feeder's) plans without
	 * sequential scans and without JIT compilation. */
	o.keyed_access = 1;
	assert_int_equal(store_conn_open(&o, &c, &err), 0);
	assert_int_equal(tdb_int(c, "SELECT (current_setting('enable_seqscan') = 'off')::int"), 1);
	assert_int_equal(tdb_int(c, "SELECT (current_setting('jit') = 'off')::int"), 1);
	PQfinish(c);
	tdb_drop(&t);
}

static void bad_password_file_is_reported(void **state)
{
	struct uspc_err err = { 0 };
	PGconn *c = NULL;
	struct store_conn_opts o = { .conninfo = getenv("USPC_DB"),
				     .password_file = "/nonexistent/uspc-pw" };
	unsetenv("USPC_DB_PASSWORD");
	unsetenv("USPC_DB_PASSWORD_FILE");
	assert_int_equal(store_conn_open(&o, &c, &err), STORE_E_ARG);
	assert_null(c);
	assert_non_null(strstr(err.msg, "/nonexistent/uspc-pw"));
}

static void wrong_password_fails_without_leaking_it(void **state)
{
	struct uspc_err err = { 0 };
	PGconn *c = NULL;
	struct store_conn_opts o = { .conninfo = getenv("USPC_DB"),
				     .password = "sekrit-Zq9-not-the-password" };
	assert_int_equal(store_conn_open(&o, &c, &err), STORE_E_CONN);
	assert_null(c);
	assert_null(strstr(err.msg, "sekrit-Zq9"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(migrate_twice_is_idempotent),
		cmocka_unit_test(fresh_database_reports_version_zero),
		cmocka_unit_test(newer_schema_is_refused),
		cmocka_unit_test(concurrent_migrations_serialise),
		cmocka_unit_test(snapshot_rows_become_objects),
		cmocka_unit_test(sessions_run_read_committed),
		cmocka_unit_test(connections_have_keepalives_and_statement_timeout),
		cmocka_unit_test(bad_password_file_is_reported),
		cmocka_unit_test(wrong_password_fails_without_leaking_it),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
