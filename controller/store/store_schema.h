/*
 * store_schema.h — versioned schema migrations (controller/store/migrations/
 * NNNN_*.sql, embedded at build time). docs/schema.md describes the tables.
 *
 * Callable from any thread on a connection it owns.
 */
#ifndef USPC_STORE_SCHEMA_H
#define USPC_STORE_SCHEMA_H

#include <libpq-fe.h>

#include "usp_err.h"

/* Highest migration version this build knows. */
int store_schema_latest(void);

/*
 * Bring the database to store_schema_latest(): in ONE transaction, under a
 * transaction-scoped advisory lock (so daemons and uspctl starting together
 * serialise here), create schema_migrations if needed and apply every
 * migration newer than the recorded version, recording each. Idempotent:
 * a second call applies nothing. *applied (may be NULL) gets the number of
 * migrations applied now. Fails with STORE_E_SCHEMA when the database
 * records a version newer than this build (an older binary must not touch
 * a newer schema); nothing is changed then.
 */
int store_schema_migrate(PGconn *c, int *applied, struct uspc_err *err);

/*
 * A daemon's start: connect to conninfo (as application_name) and
 * store_schema_migrate(), trying again every second for up to wait_s
 * seconds while the database cannot be reached or used (a warning is
 * logged at the first failure). 0, or the last error (STORE_E_SCHEMA at
 * once: a newer schema is not waited for).
 */
int store_schema_ready(const char *conninfo, const char *application_name, int wait_s,
		       struct uspc_err *err);

/* Current recorded version (0 when schema_migrations does not exist). */
int store_schema_version(PGconn *c, int *version, struct uspc_err *err);

#endif
