/*
 * test_store_common.h — helpers shared by the store's integration tests:
 * a private database per test (created on the server named by $USPC_DB,
 * dropped at the end), migrated, plus small SQL helpers.
 */
#ifndef USPC_TEST_STORE_COMMON_H
#define USPC_TEST_STORE_COMMON_H

#include <stdint.h>
#include <libpq-fe.h>

#include "store_conn.h"

struct tdb {
	char name[64];       /* database name */
	char conninfo[1024]; /* conninfo of the test database */
	char admin[1024];    /* conninfo of the server's main database */
	PGconn *c;           /* a connection to the test database */
};

/* Create and migrate a fresh database named after tag; aborts the test
 * program (exit 1, message) when the server is unreachable. */
void tdb_create(struct tdb *t, const char *tag);
void tdb_create_on(struct tdb *t, const char *tag, const char *server_conninfo);
/* Drop it (FORCE), close connections. */
void tdb_drop(struct tdb *t);

/* SELECT returning one integer (first row, first column); -1 on error. */
long long tdb_int(PGconn *c, const char *sql);
/* Run a statement; aborts on error. */
void tdb_exec(PGconn *c, const char *sql);
/* Options for a writer/feeder/query connection to the test database. */
struct store_conn_opts tdb_opts(const struct tdb *t);
/* Sleep ms milliseconds. */
void tdb_sleep_ms(int ms);
/* Poll until `sql` returns want (or timeout_ms passes); returns the last value. */
long long tdb_wait_int(PGconn *c, const char *sql, long long want, int timeout_ms);

/* Wait (up to timeout_ms) for the next NOTIFY on c, which LISTENs; the
 * caller PQfreemem()s it. NULL on timeout. Notifications reach a listener
 * asynchronously after the sender's commit, so never expect one at once. */
PGnotify *tdb_wait_notify(PGconn *c, int timeout_ms);

#endif
