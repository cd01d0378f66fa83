/*
 * store_conn.h — PostgreSQL connections for uspc: open from a conninfo/URI
 * (default $USPC_DB), password from the caller, the environment or a file
 * (never argv, never logged), the store's error codes, and PQexecParams
 * helpers that put PostgreSQL's error text into a caller's struct uspc_err.
 *
 * Any thread may call these functions on a connection it owns; a PGconn is
 * never shared between threads.
 */
#ifndef USPC_STORE_CONN_H
#define USPC_STORE_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

#include "usp_err.h"

/* Store error codes: STORE_E_* (STORE_ERRORS in usp_err.h), negative;
 * struct uspc_err.code carries them. */

/* "db", "conn", "full", ... for counters and logs; "unknown" otherwise. */
const char *store_error_name(int code);

/* Hard caps on what the store accepts (documented in docs/schema.md). */
#define STORE_EID_MAX 256                 /* endpoint ID bytes */
#define STORE_PATH_MAX 4096               /* data-model path bytes */
#define STORE_VALUE_MAX (64 * 1024)       /* one parameter value */
#define STORE_JSON_MAX (16 * 1024 * 1024) /* one JSON document (request/result/payload) */
#define STORE_NAME_MAX 256                /* tags, ids, topics' short fields */
#define STORE_TOPIC_MAX 1024              /* MQTT reply topic */
#define STORE_PASSWORD_MAX 1024           /* password file contents */

struct store_conn_opts {
	/* conninfo "host=... dbname=..." or "postgresql://..." URI; NULL → $USPC_DB
	 * (and when that is unset too, libpq's own PG* environment defaults). */
	const char *conninfo;
	/* Password (borrowed, never logged). NULL → $USPC_DB_PASSWORD, else the
	 * first line of the file named by $USPC_DB_PASSWORD_FILE or password_file,
	 * else whatever conninfo / PGPASSWORD / ~/.pgpass give libpq. */
	const char *password;
	const char *password_file;
	const char *application_name; /* shown in pg_stat_activity; NULL → "uspc" */
	int connect_timeout_s;        /* 0 → 10 */
	/* 1: every statement this connection runs reaches its rows by key (the
	 * daemon's writer and feeder), so the session plans without sequential
	 * scans whatever the statistics say. Statistics taken while a table was
	 * nearly empty (a fresh install; the minute before autovacuum's next
	 * ANALYZE after a fleet onboards or a campaign is queued) made the
	 * planner scan all of `tasks` in every claim: a claim of 200 tasks read
	 * all 10,000 queued ones, and a fan-out to 10,000 agents spent 3.0 s of
	 * database time in claims instead of 0.8-1.0 s. */
	int keyed_access; /* ... and JIT compilation off (it only costs them) */
	/* > 0: SET statement_timeout to this many milliseconds after connecting
	 * (a statement that runs longer fails with SQLSTATE 57014, which
	 * store_err_is_transient() counts as transient). 0: none (the server's
	 * default). */
	int statement_timeout_ms;
};

/* TCP settings every connection gets, so a dead peer or a partition is
 * noticed within seconds instead of the kernel's ~15 minutes: keepalive
 * probes after 10 s idle, every 3 s, 3 lost probes drop the connection;
 * data unacknowledged for 15 s drops it too. A conninfo that names any of
 * these keys overrides it. */
#define STORE_CONN_KEEPALIVES_IDLE_S 10
#define STORE_CONN_KEEPALIVES_INTERVAL_S 3
#define STORE_CONN_KEEPALIVES_COUNT 3
#define STORE_CONN_TCP_USER_TIMEOUT_MS 15000

/*
 * Open a connection (blocking) with the keepalive and TCP user timeout
 * settings above. Sets the session time zone to UTC (and enable_seqscan off
 * with keyed_access, statement_timeout with statement_timeout_ms).
 * On success *out is the caller's (PQfinish). On failure returns
 * STORE_E_CONN / STORE_E_ARG, *out is NULL and err says why (without the
 * password).
 */
int store_conn_open(const struct store_conn_opts *o, PGconn **out, struct uspc_err *err);

/*
 * PQexecParams(sql, n text params) and check the result: TUPLES_OK or
 * COMMAND_OK is success (*res, if res is non-NULL, is the caller's:
 * PQclear; with res NULL it is cleared here). On failure returns
 * STORE_E_CONN when the connection is gone (PQstatus bad), else STORE_E_DB
 * with "SQLSTATE: message" in err; *res is NULL.
 */
int store_exec(PGconn *c, const char *sql, int n, const char *const *params, PGresult **res,
	       struct uspc_err *err);

/*
 * Statements prepared on one connection, known by the address of their
 * text (a static string). Planning a batched statement costs about as much
 * as running a small batch of it (measured at 2,000 notifications/s: 600 ms
 * of planning to 1,000 ms of execution), so the hot statements are prepared
 * once per connection. The owner resets the cache whenever it replaces the
 * connection.
 */
#define STORE_MAX_PREPARED 16
struct store_prepared {
	const char *sql[STORE_MAX_PREPARED];
	int n;
};
void store_prepared_reset(struct store_prepared *p);
/* store_exec through a prepared statement: sql is prepared on c the first
 * time (named "uspc_p<i>"), then executed with PQexecPrepared. sql must
 * outlive the cache. Same results and errors as store_exec; when the cache
 * is full it is store_exec. */
int store_exec_prepared(PGconn *c, struct store_prepared *p, const char *sql, int n,
			const char *const *params, PGresult **res, struct uspc_err *err);

/* SQLSTATE of the last failure recorded by store_exec in err ("" if none). */
const char *store_err_sqlstate(const struct uspc_err *err);

/* True for failures that are not a property of the data, worth retrying on
 * the same or a new connection: STORE_E_CONN, and SQLSTATE class 08
 * (connection), 25006 (read-only transaction: a failover made the host a
 * standby), class 40 (serialization failure 40001, deadlock 40P01), class 53
 * (insufficient resources), 57014 (statement timeout or cancel), 57P0x
 * (admin shutdown, crash, cannot connect now), class 58 (system / I/O
 * error) and 55P03 (lock not available). Anything else that PostgreSQL
 * reports is about the statement's content. */
int store_err_is_transient(const struct uspc_err *err);

/* True for transient failures after which the connection should be dropped
 * and opened again rather than reused: STORE_E_CONN, 25006 (the host became
 * read-only; a multi-host conninfo may reach the new primary), 57P0x and
 * class 58. */
int store_err_needs_reconnect(const struct uspc_err *err);

/* Microseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t store_now_us(void);
/* Format a Unix-epoch microsecond time as "2026-11-25 10:00:00.123456+00";
 * buf needs 40 bytes. */
void store_fmt_time(int64_t us, char *buf, size_t len);

#endif
