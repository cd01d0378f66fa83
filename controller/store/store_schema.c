/*
 * store_schema.c — applies the embedded migrations (store_migrations[]).
 *
 * Owns: the schema_migrations table and the migration advisory lock.
 * Invariant: a database is either untouched or at a recorded version whose
 * every migration was applied in the same transaction that recorded it.
 * Any thread, on a connection it owns; the connection must not be inside a
 * transaction.
 */
#include "store_schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "store_conn.h"
#include "store_migrations.h"
#include "store_stmt.h"

/* pg_advisory_xact_lock key: "uspc" in ASCII plus a schema tag. */
#define MIGRATE_LOCK_KEY "7571706301"

int store_schema_latest(void)
{
	return store_migration_count > 0 ? store_migrations[store_migration_count - 1].version : 0;
}

/* PQexec for the migration scripts: several statements, static text. */
static int exec_script(PGconn *c, const char *sql, const char *name, struct uspc_err *err)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	int rc = 0;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
		const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
		if (!m)
			m = PQerrorMessage(c);
		rc = uspc_err_set(err, PQstatus(c) == CONNECTION_OK ? STORE_E_DB : STORE_E_CONN,
				  "%s: migration %s: %.*s", state ? state : "XX000", name,
				  (int)strcspn(m, "\n"), m);
	}
	PQclear(r);
	return rc;
}

static int read_version(PGconn *c, int *version, struct uspc_err *err)
{
	PGresult *r = NULL;
	int rc = store_exec(c, "SELECT coalesce(max(version), 0) FROM schema_migrations", 0, NULL,
			    &r, err);
	if (rc == 0)
		*version = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	return rc;
}

static int apply_pending(PGconn *c, int from, int *applied, struct uspc_err *err)
{
	for (int i = 0; i < store_migration_count; i++) {
		const struct store_migration *m = &store_migrations[i];
		if (m->version <= from)
			continue;
		int rc = exec_script(c, m->sql, m->name, err);
		if (rc < 0)
			return rc;
		char ver[16];
		snprintf(ver, sizeof(ver), "%d", m->version);
		const char *p[2] = { ver, m->name };
		rc = store_exec(c, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
				2, p, NULL, err);
		if (rc < 0)
			return rc;
		(*applied)++;
		log_info("store", "schema migration %d (%s) applied", m->version, m->name);
	}
	return 0;
}

int store_schema_migrate(PGconn *c, int *applied_out, struct uspc_err *err)
{
	int applied = 0, version = 0, rc;
	int in_tx = 0;

	rc = store_exec(c, "BEGIN", 0, NULL, NULL, err);
	if (rc < 0)
		goto out;
	in_tx = 1;
	rc = store_exec(c, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK_KEY ")", 0, NULL, NULL,
			err);
	if (rc < 0)
		goto out;
	/* Quiet the NOTICE "relation already exists, skipping". */
	rc = store_exec(c, "SET LOCAL client_min_messages = warning", 0, NULL, NULL, err);
	if (rc < 0)
		goto out;
	rc = store_exec(c, store_stmt_schema_create_table, 0, NULL, NULL, err);
	if (rc < 0)
		goto out;
	rc = read_version(c, &version, err);
	if (rc < 0)
		goto out;
	if (version > store_schema_latest()) {
		rc = uspc_err_set(err, STORE_E_SCHEMA,
				  "database schema is at version %d, this build knows up to %d: "
				  "upgrade uspc before using this database",
				  version, store_schema_latest());
		goto out;
	}
	rc = apply_pending(c, version, &applied, err);
	if (rc < 0)
		goto out;
	rc = store_exec(c, "COMMIT", 0, NULL, NULL, err);
	in_tx = 0;
	if (rc < 0)
		goto out;
	if (applied == 0)
		log_debug("store", "schema at version %d, nothing to apply", version);
out:
	if (in_tx && PQstatus(c) == CONNECTION_OK) {
		PGresult *r = PQexec(c, "ROLLBACK");
		PQclear(r);
	}
	if (applied_out)
		*applied_out = rc < 0 ? 0 : applied;
	return rc;
}

int store_schema_version(PGconn *c, int *version, struct uspc_err *err)
{
	PGresult *r = NULL;
	*version = 0;
	int rc = store_exec(c, "SELECT to_regclass('schema_migrations') IS NOT NULL", 0, NULL, &r,
			    err);
	if (rc < 0)
		return rc;
	int exists = PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	return exists ? read_version(c, version, err) : 0;
}

int store_schema_ready(const char *conninfo, const char *application_name, int wait_s,
		       struct uspc_err *err)
{
	int rc = STORE_E_CONN;
	for (int i = 0; i < (wait_s > 0 ? wait_s : 1); i++) {
		PGconn *c = NULL;
		struct store_conn_opts co = { .conninfo = conninfo,
					      .application_name = application_name };
		rc = store_conn_open(&co, &c, err);
		if (rc == 0)
			rc = store_schema_migrate(c, NULL, err);
		if (c)
			PQfinish(c);
		if (rc == 0 || rc == STORE_E_SCHEMA)
			return rc;
		if (i == 0)
			log_warn("store", "database not usable yet (%s); retrying for %d s",
				 err->msg, wait_s);
		if (i + 1 < wait_s)
			sleep(1);
	}
	return rc;
}
