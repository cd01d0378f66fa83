/*
 * store_conn.c — opening PostgreSQL connections and running statements.
 *
 * Owns: the store's error names, reading the database password (argument,
 * environment or file; never logged, wiped after use), PQexecParams error
 * mapping. Holds no state: any thread, on connections it owns.
 */
#include "store_conn.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "redact.h"

#define STR2_(x) #x
#define STR_(x) STR2_(x)

/* Server NOTICEs go to the debug log, never straight to stderr. */
static void notice_to_log(void *arg, const char *message)
{
	(void)arg;
	log_debug("store", "server notice: %.*s", (int)strcspn(message, "\n"), message);
}

static const char *const error_names[] = {
#define STORE_E_NAME_(ident, name, text) name,
	STORE_ERRORS(STORE_E_NAME_)
#undef STORE_E_NAME_
};

const char *store_error_name(int code)
{
	if (code <= STORE_E_BASE_ || code >= STORE_E_END_)
		return "unknown";
	return error_names[code - STORE_E_BASE_ - 1];
}

/* Wipe a secret so it does not linger in freed memory. */
static void wipe(char *s, size_t n)
{
	volatile char *p = s;
	while (n--)
		*p++ = 0;
}

/* First line of a password file into buf. */
static int read_password_file(const char *path, char *buf, size_t len, struct uspc_err *err)
{
	int rc = 0;
	FILE *f = fopen(path, "re");
	if (!f)
		return uspc_err_set(err, STORE_E_ARG, "database password file %s: %s", path,
				    strerror(errno));
	size_t n = fread(buf, 1, len - 1, f);
	if (ferror(f)) {
		rc = uspc_err_set(err, STORE_E_ARG, "database password file %s: read error", path);
		goto out;
	}
	if (n == len - 1 && fgetc(f) != EOF) {
		rc = uspc_err_set(err, STORE_E_ARG,
				  "database password file %s: longer than %zu bytes", path,
				  len - 1);
		goto out;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
out:
	fclose(f);
	return rc;
}

/* Resolve the password per store_conn_opts; buf[0] == 0 means "let libpq decide". */
static int resolve_password(const struct store_conn_opts *o, char *buf, size_t len,
			    struct uspc_err *err)
{
	buf[0] = '\0';
	const char *pw = o->password ? o->password : getenv("USPC_DB_PASSWORD");
	if (pw) {
		if (strlen(pw) >= len)
			return uspc_err_set(err, STORE_E_ARG,
					    "database password longer than %zu bytes", len - 1);
		memcpy(buf, pw, strlen(pw) + 1);
		return 0;
	}
	const char *file = getenv("USPC_DB_PASSWORD_FILE");
	if (!file || !*file)
		file = o->password_file;
	if (file && *file)
		return read_password_file(file, buf, len, err);
	return 0;
}

int store_conn_open(const struct store_conn_opts *o, PGconn **out, struct uspc_err *err)
{
	static const struct store_conn_opts none;
	char pw[STORE_PASSWORD_MAX + 1];
	char timeout[16];
	PGconn *c = NULL;
	int rc;

	*out = NULL;
	if (!o)
		o = &none;
	rc = resolve_password(o, pw, sizeof(pw), err);
	if (rc < 0)
		return rc;
	const char *conninfo = o->conninfo ? o->conninfo : getenv("USPC_DB");
	snprintf(timeout, sizeof(timeout), "%d",
		 o->connect_timeout_s > 0 ? o->connect_timeout_s : 10);
	/* Keys are processed in order and a later one wins: the TCP settings
	 * come before the conninfo (dbname, expanded) so an operator's
	 * conninfo may tune them; what follows it is ours. */
	const char *keys[11], *vals[11];
	int k = 0;
	keys[k] = "keepalives", vals[k++] = "1";
	keys[k] = "keepalives_idle", vals[k++] = STR_(STORE_CONN_KEEPALIVES_IDLE_S);
	keys[k] = "keepalives_interval", vals[k++] = STR_(STORE_CONN_KEEPALIVES_INTERVAL_S);
	keys[k] = "keepalives_count", vals[k++] = STR_(STORE_CONN_KEEPALIVES_COUNT);
	keys[k] = "tcp_user_timeout", vals[k++] = STR_(STORE_CONN_TCP_USER_TIMEOUT_MS);
	if (conninfo && *conninfo)
		keys[k] = "dbname", vals[k++] = conninfo;
	/* else libpq defaults (PG* environment) */
	keys[k] = "application_name",
	vals[k++] = o->application_name ? o->application_name : "uspc";
	keys[k] = "connect_timeout", vals[k++] = timeout;
	if (pw[0])
		keys[k] = "password", vals[k++] = pw;
	keys[k] = NULL, vals[k] = NULL;

	c = PQconnectdbParams(keys, vals, 1);
	wipe(pw, sizeof(pw));
	if (!c) {
		rc = uspc_err_set(err, STORE_E_NOMEM,
				  "out of memory opening a database connection");
		goto out;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		char where[256];
		uspc_redact(conninfo ? conninfo : "(libpq defaults)", where, sizeof(where));
		const char *m = PQerrorMessage(c);
		rc = uspc_err_set(err, STORE_E_CONN, "database %s: %.*s", where,
				  (int)strcspn(m, "\n"), m);
		goto out;
	}
	PQsetNoticeProcessor(c, notice_to_log, NULL);
	rc = store_exec(c, "SET TIME ZONE 'UTC'", 0, NULL, NULL, err);
	/* Every statement is written for READ COMMITTED (a new snapshot per
	 * statement; row locks re-check the newest row), whatever the
	 * database's or role's default (see sql/tasks_claim.sql). */
	if (rc == 0)
		rc = store_exec(c, "SET default_transaction_isolation = 'read committed'", 0, NULL,
				NULL, err);
	if (rc == 0 && o->keyed_access)
		rc = store_exec(c, "SET enable_seqscan = off", 0, NULL, NULL, err);
	/* Keyed statements gain nothing from JIT compilation, and their cost
	 * estimates (high with seqscan off, or over a large table) reach
	 * jit_above_cost: the feeder's sweep with 300,000 parked tasks on a
	 * million agents spent 1.0 s of its 1.45 s compiling. */
	if (rc == 0 && o->keyed_access)
		rc = store_exec(c, "SET jit = off", 0, NULL, NULL, err);
	if (rc == 0 && o->statement_timeout_ms > 0) {
		char ms[16];
		snprintf(ms, sizeof(ms), "%d", o->statement_timeout_ms);
		const char *p[1] = { ms };
		rc = store_exec(c, "SELECT set_config('statement_timeout', $1, false)", 1, p, NULL,
				err);
	}
	if (rc < 0)
		goto out;
	*out = c;
	c = NULL;
out:
	if (c)
		PQfinish(c);
	return rc;
}

/* Check r (consumed): 0 with *res set (or r cleared), or the error. */
static int exec_result(PGconn *c, PGresult *r, PGresult **res, struct uspc_err *err)
{
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
		if (res)
			*res = r;
		else
			PQclear(r);
		return 0;
	}
	int rc;
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (!m)
		m = PQerrorMessage(c);
	int mlen = (int)strcspn(m, "\n");
	if (PQstatus(c) != CONNECTION_OK)
		rc = uspc_err_set(err, STORE_E_CONN, "%s: connection lost: %.*s",
				  state ? state : "08006", mlen, m);
	else
		rc = uspc_err_set(err, STORE_E_DB, "%s: %.*s", state ? state : "XX000", mlen, m);
	PQclear(r);
	return rc;
}

int store_exec(PGconn *c, const char *sql, int n, const char *const *params, PGresult **res,
	       struct uspc_err *err)
{
	if (res)
		*res = NULL;
	if (!c)
		return uspc_err_set(err, STORE_E_CONN, "no database connection");
	return exec_result(c, PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0), res, err);
}

void store_prepared_reset(struct store_prepared *p)
{
	memset(p, 0, sizeof(*p));
}

int store_exec_prepared(PGconn *c, struct store_prepared *p, const char *sql, int n,
			const char *const *params, PGresult **res, struct uspc_err *err)
{
	char name[24];
	int i;

	if (res)
		*res = NULL;
	if (!c)
		return uspc_err_set(err, STORE_E_CONN, "no database connection");
	for (i = 0; i < p->n && p->sql[i] != sql; i++)
		;
	if (i == STORE_MAX_PREPARED)
		return store_exec(c, sql, n, params, res, err);
	snprintf(name, sizeof(name), "uspc_p%d", i);
	if (i == p->n) {
		int rc = exec_result(c, PQprepare(c, name, sql, n, NULL), NULL, err);
		if (rc < 0)
			return rc;
		p->sql[p->n++] = sql;
	}
	return exec_result(c, PQexecPrepared(c, name, n, params, NULL, NULL, 0), res, err);
}

const char *store_err_sqlstate(const struct uspc_err *err)
{
	static const char none[] = "";
	if (!err || (err->code != STORE_E_DB && err->code != STORE_E_CONN))
		return none;
	for (int i = 0; i < 5; i++)
		if (!isalnum((unsigned char)err->msg[i]))
			return none;
	return err->msg[5] == ':' ? err->msg : none;
}

static int state_is(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

int store_err_is_transient(const struct uspc_err *err)
{
	if (!err)
		return 0;
	if (err->code == STORE_E_CONN)
		return 1;
	if (err->code != STORE_E_DB)
		return 0;
	const char *s = store_err_sqlstate(err);
	if (!*s)
		return 0;
	return state_is(s, "08") || state_is(s, "25006") || state_is(s, "40") ||
	       state_is(s, "53") || state_is(s, "57014") || state_is(s, "57P") ||
	       state_is(s, "58") || state_is(s, "55P03");
}

int store_err_needs_reconnect(const struct uspc_err *err)
{
	if (!err)
		return 0;
	if (err->code == STORE_E_CONN)
		return 1;
	if (err->code != STORE_E_DB)
		return 0;
	const char *s = store_err_sqlstate(err);
	return *s && (state_is(s, "25006") || state_is(s, "57P") || state_is(s, "58"));
}

int64_t store_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void store_fmt_time(int64_t us, char *buf, size_t len)
{
	time_t s = (time_t)(us / 1000000);
	long frac = (long)(us % 1000000);
	if (frac < 0) {
		frac += 1000000;
		s--;
	}
	struct tm tm;
	gmtime_r(&s, &tm);
	snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d.%06ld+00", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}
