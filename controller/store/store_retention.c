/*
 * store_retention.c — the maintenance run and its thread
 * (store_retention.h). The partition work itself is SQL functions of
 * migration 10 (uspc_part_*); this file decides when and in which order
 * they run, one short transaction each, and logs what they did.
 *
 * Owns: the thread's connection, its statistics (under mu), the stop
 * eventfd.
 */
#include "store_retention.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "store_guard.h"
#include "store_stmt.h"

#define LOG_COMP "retention"
/* The first run waits this long after start, so a daemon's start-up
 * (migration, onboarding storm) comes first. */
#define FIRST_RUN_DELAY_MS 5000
#define STOP_JOIN_MS 2000
/* One maintenance at a time across all daemons: a session advisory lock
 * ("uspc" in ASCII and a tag, as the migration lock), released at the end
 * of the run or when the connection closes. */
#define RETENTION_LOCK_KEY "7571706302"

static const char *const table_names[STORE_RET_TABLES] = {
	[STORE_RET_NOTIFICATIONS] = "notifications",
	[STORE_RET_TASKS] = "tasks",
	[STORE_RET_PROFILE_HISTORY] = "profile_history",
	[STORE_RET_OPERATION_RESULTS] = "operation_results",
};

const char *store_retention_table_name(enum store_retention_table t)
{
	return (unsigned)t < STORE_RET_TABLES ? table_names[t] : "?";
}

int store_retention_policy_check(const struct store_retention_policy *p, struct uspc_err *err)
{
	for (int t = 0; t < STORE_RET_TABLES; t++)
		if (p->keep_days[t] < 0 || p->keep_days[t] > STORE_RETENTION_DAYS_MAX)
			return uspc_err_set(err, STORE_E_ARG,
					    "retention of %s: %d days is out of range (0 = keep "
					    "for ever, or 1..%d)",
					    table_names[t], p->keep_days[t],
					    STORE_RETENTION_DAYS_MAX);
	if (p->ahead_days < 1 || p->ahead_days > STORE_RETENTION_AHEAD_MAX)
		return uspc_err_set(err, STORE_E_ARG,
				    "partitions ahead: %d days is out of range (1..%d)",
				    p->ahead_days, STORE_RETENTION_AHEAD_MAX);
	if (p->lock_timeout_ms < 1 || p->lock_timeout_ms > 60000)
		return uspc_err_set(err, STORE_E_ARG,
				    "drop lock timeout: %d ms is out of range (1..60000)",
				    p->lock_timeout_ms);
	return 0;
}

/* ---- one run ------------------------------------------------------------------------- */

/* A step failed: the connection is gone (return it), or the statement
 * failed (log, count, go on: return 0). */
static int step_failed(int rc, const char *what, struct store_retention_report *rep,
		       struct uspc_err *err)
{
	if (rc == STORE_E_CONN || store_err_needs_reconnect(err))
		return rc;
	if (strncmp(store_err_sqlstate(err), "55P03", 5) == 0) {
		/* lock_not_available: a long query holds what this step needs */
		log_warn(LOG_COMP,
			 "%s: put off, a lock it needs stayed busy past the maintenance's "
			 "lock timeout (a long query?); the next run tries again",
			 what);
		rep->busy++;
		return 0;
	}
	log_error(LOG_COMP, "%s: %s", what, err->msg);
	rep->errors++;
	return 0;
}

static int64_t first_i64(PGresult *r)
{
	return PQntuples(r) > 0 && !PQgetisnull(r, 0, 0) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10)
							 : 0;
}

/* Partitions for today - 1 .. today + ahead and for rows waiting in DEFAULT. */
static int ensure_days(PGconn *c, const char *table, const char *today, const char *ahead,
		       struct store_retention_report *rep, struct uspc_err *err)
{
	PGresult *days = NULL;
	const char *p[3] = { table, today, ahead };
	int rc = store_exec(c, store_stmt_retention_days, 3, p, &days, err);
	if (rc < 0)
		return step_failed(rc, table, rep, err);
	for (int i = 0; rc == 0 && i < PQntuples(days); i++) {
		const char *day = PQgetvalue(days, i, 0);
		const char *q[2] = { table, day };
		PGresult *r = NULL;
		rc = store_exec(c, store_stmt_retention_ensure, 2, q, &r, err);
		if (rc < 0) {
			char what[128];
			snprintf(what, sizeof(what), "%s: creating the partition of %s", table,
				 day);
			rc = step_failed(rc, what, rep, err);
			continue;
		}
		int64_t moved = first_i64(r);
		PQclear(r);
		if (moved < 0)
			continue;
		rep->created++;
		rep->moved += moved;
		if (moved > 0)
			log_warn(LOG_COMP,
				 "%s: partition of %s created late: %" PRId64
				 " row(s) had waited in %s_default and were moved into it",
				 table, day, moved, table);
		else
			log_info(LOG_COMP, "%s: partition of %s created", table, day);
	}
	PQclear(days);
	return rc;
}

/* "YYYY-MM-DD" days before day (a "YYYY-MM-DD"), into out (16 bytes);
 * -1 if day does not parse. */
static int day_minus(const char *day, int days, char *out, size_t cap)
{
	struct tm tm = { 0 };
	const char *end = strptime(day, "%Y-%m-%d", &tm);
	if (!end || *end)
		return -1;
	time_t t = timegm(&tm) - (time_t)days * 86400;
	if (!gmtime_r(&t, &tm))
		return -1;
	return strftime(out, cap, "%Y-%m-%d", &tm) > 0 ? 0 : -1;
}

/* Drop the partitions of table wholly before cutoff. */
static int drop_old(PGconn *c, const char *table, const char *cutoff, int keep_days,
		    const char *lock_ms, struct store_retention_report *rep, struct uspc_err *err)
{
	PGresult *old = NULL;
	const char *p[2] = { table, cutoff };
	int rc = store_exec(c, store_stmt_retention_old, 2, p, &old, err);
	if (rc < 0)
		return step_failed(rc, table, rep, err);
	for (int i = 0; rc == 0 && i < PQntuples(old); i++) {
		const char *part = PQgetvalue(old, i, 0);
		const char *q[4] = { table, part, cutoff, lock_ms };
		PGresult *r = NULL;
		rc = store_exec(c, store_stmt_retention_drop, 4, q, &r, err);
		if (rc < 0) {
			char what[160];
			snprintf(what, sizeof(what), "%s: dropping %s", table, part);
			rc = step_failed(rc, what, rep, err);
			continue;
		}
		int dropped = PQntuples(r) > 0 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
		PQclear(r);
		if (dropped) {
			rep->dropped++;
			log_info(LOG_COMP, "%s: %s dropped (older than %d days)", table, part,
				 keep_days);
		} else {
			/* tasks: open ones remain (expired by this run, dropped by the next) */
			log_info(LOG_COMP, "%s: %s not dropped yet: it still holds open tasks",
				 table, part);
		}
	}
	PQclear(old);
	return rc;
}

static int expire_tasks(PGconn *c, const char *cutoff, struct store_retention_report *rep,
			struct uspc_err *err)
{
	PGresult *r = NULL;
	int rc = store_exec(c, store_stmt_retention_expire, 1, &cutoff, &r, err);
	if (rc < 0)
		return step_failed(rc, "tasks: expiring the open tasks of due days", rep, err);
	int64_t n = first_i64(r);
	PQclear(r);
	if (n > 0)
		log_warn(LOG_COMP,
			 "tasks: %" PRId64 " task(s) created before %s were still open and are "
			 "expired (retention_tasks_days)",
			 n, cutoff);
	rep->expired_tasks += n;
	return 0;
}

static int run_locked(PGconn *c, const struct store_retention_policy *p,
		      struct store_retention_report *rep, struct uspc_err *err)
{
	char offset[24], ahead[16], lock_ms[16], today[16];
	snprintf(offset, sizeof(offset), "%" PRId64, p->clock_offset_s);
	snprintf(ahead, sizeof(ahead), "%d", p->ahead_days);
	snprintf(lock_ms, sizeof(lock_ms), "%d", p->lock_timeout_ms);
	PGresult *r = NULL;
	const char *po = offset;
	int rc = store_exec(c, store_stmt_retention_today, 1, &po, &r, err);
	if (rc < 0)
		return step_failed(rc, "maintenance: the day not read", rep, err);
	snprintf(today, sizeof(today), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	const char *pt = today;
	rc = store_exec(c, "SELECT uspc_part_advance_ids($1::date)", 1, &pt, NULL, err);
	if (rc < 0 && (rc = step_failed(rc, "id sequences not advanced", rep, err)) < 0)
		return rc;
	for (int t = 0; t < STORE_RET_TABLES; t++)
		if ((rc = ensure_days(c, table_names[t], today, ahead, rep, err)) < 0)
			return rc;
	for (int t = 0; t < STORE_RET_TABLES; t++) {
		if (p->keep_days[t] == 0)
			continue;
		char cutoff[16];
		if (day_minus(today, p->keep_days[t], cutoff, sizeof(cutoff)) < 0) {
			log_error(LOG_COMP, "maintenance: the day '%s' did not parse", today);
			rep->errors++;
			return 0;
		}
		if (t == STORE_RET_TASKS && (rc = expire_tasks(c, cutoff, rep, err)) < 0)
			return rc;
		if ((rc = drop_old(c, table_names[t], cutoff, p->keep_days[t], lock_ms, rep, err)) <
		    0)
			return rc;
	}
	return rc;
}

int store_retention_run(PGconn *c, const struct store_retention_policy *p,
			struct store_retention_report *rep, struct uspc_err *err)
{
	memset(rep, 0, sizeof(*rep));
	int rc = store_retention_policy_check(p, err);
	if (rc < 0)
		return rc;
	PGresult *r = NULL;
	rc = store_exec(c, "SELECT pg_try_advisory_lock(" RETENTION_LOCK_KEY ")", 0, NULL, &r, err);
	if (rc < 0)
		return rc;
	int got = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (!got) {
		rep->locked_out = 1;
		return 0;
	}
	/* Every statement of the run waits at most lock_timeout_ms for a lock:
	 * while it waits, others queue behind it (a DROP or an ATTACH behind a
	 * long report would hold up every writer or reader of the table). */
	char lt[48];
	snprintf(lt, sizeof(lt), "SET lock_timeout = %d", p->lock_timeout_ms);
	rc = store_exec(c, lt, 0, NULL, NULL, err);
	if (rc == 0)
		rc = run_locked(c, p, rep, err);
	if (rc == 0)
		rc = store_exec(c, "RESET lock_timeout", 0, NULL, NULL, err);
	if (rc == 0 || PQstatus(c) == CONNECTION_OK) {
		struct uspc_err e2 = { 0 };
		int urc = store_exec(c, "SELECT pg_advisory_unlock(" RETENTION_LOCK_KEY ")", 0,
				     NULL, NULL, &e2);
		if (rc == 0 && urc < 0) {
			*err = e2;
			rc = urc;
		}
	}
	return rc;
}

/* ---- the thread ---------------------------------------------------------------------- */

struct store_retention {
	struct store_retention_opts o;
	pthread_t thread;
	int stop_fd;
	struct store_guard guard;
	PGconn *db;
	pthread_mutex_t mu;
	struct store_retention_stats st;
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep up to ms; 1 when told to stop. */
static int nap(struct store_retention *r, int64_t ms)
{
	struct pollfd p = { .fd = r->stop_fd, .events = POLLIN };
	return poll(&p, 1, ms > 0 ? (int)(ms > 600000 ? 600000 : ms) : 0) > 0;
}

static void disconnect(struct store_retention *r)
{
	if (!r->db)
		return;
	store_guard_clear(&r->guard);
	PQfinish(r->db);
	r->db = NULL;
}

/* Add a run's report to the statistics. ran: it held the lock and ended;
 * failed: it (or the connection before it) failed. */
static void account(struct store_retention *r, const struct store_retention_report *rep, int ran,
		    int failed)
{
	pthread_mutex_lock(&r->mu);
	if (rep->locked_out)
		r->st.locked_out++;
	if (ran) {
		r->st.runs++;
		r->st.last_run_s = (int64_t)time(NULL);
	}
	r->st.created += (uint64_t)rep->created;
	r->st.dropped += (uint64_t)rep->dropped;
	r->st.busy += (uint64_t)rep->busy;
	r->st.moved += (uint64_t)rep->moved;
	r->st.expired_tasks += (uint64_t)rep->expired_tasks;
	r->st.errors += (uint64_t)rep->errors + (failed ? 1 : 0);
	pthread_mutex_unlock(&r->mu);
}

static void one_run(struct store_retention *r)
{
	struct uspc_err err = { 0 };
	if (!r->db) {
		if (store_conn_open(&r->o.conn, &r->db, &err) < 0) {
			log_warn(LOG_COMP, "maintenance skipped: database not reachable: %s",
				 err.msg);
			struct store_retention_report none = { 0 };
			account(r, &none, 0, 1);
			return;
		}
		store_guard_set(&r->guard, r->db);
	}
	struct store_retention_report rep;
	int64_t t0 = mono_ms();
	int rc = store_retention_run(r->db, &r->o.policy, &rep, &err);
	if (rc < 0) {
		log_warn(LOG_COMP, "maintenance run failed: %s", err.msg);
		disconnect(r);
	} else if (rep.locked_out) {
		log_debug(LOG_COMP, "maintenance: another daemon is running it");
	} else {
		int quiet = rep.created + rep.dropped + rep.busy + rep.moved + rep.expired_tasks +
				    rep.errors ==
			    0;
		log_write(quiet ? LOG_LVL_DEBUG : LOG_LVL_INFO, LOG_COMP,
			  "maintenance done in %" PRId64 " ms: %" PRId64
			  " partition(s) created, %" PRId64 " dropped, %" PRId64
			  " put off (busy), %" PRId64 " row(s) moved, %" PRId64
			  " task(s) expired, %" PRId64 " error(s)",
			  mono_ms() - t0, rep.created, rep.dropped, rep.busy, rep.moved,
			  rep.expired_tasks, rep.errors);
	}
	account(r, &rep, rc == 0 && !rep.locked_out, rc < 0);
}

static void *retention_main(void *arg)
{
	struct store_retention *r = arg;
	(void)pthread_setname_np(pthread_self(), "uspc-retention");
	int64_t next = mono_ms() + FIRST_RUN_DELAY_MS;
	for (;;) {
		if (nap(r, next - mono_ms()))
			break;
		if (mono_ms() < next)
			continue;
		one_run(r);
		next = mono_ms() + (int64_t)r->o.interval_s * 1000;
	}
	disconnect(r);
	return NULL;
}

int store_retention_start(const struct store_retention_opts *o, struct store_retention **out,
			  struct uspc_err *err)
{
	*out = NULL;
	if (o->interval_s < 1)
		return uspc_err_set(err, STORE_E_ARG, "maintenance interval must be >= 1 s");
	int rc = store_retention_policy_check(&o->policy, err);
	if (rc < 0)
		return rc;
	struct store_retention *r = calloc(1, sizeof(*r));
	if (!r)
		return uspc_err_set(err, STORE_E_NOMEM, "out of memory");
	r->o = *o;
	r->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->stop_fd < 0) {
		free(r);
		return uspc_err_set(err, STORE_E_NOMEM, "eventfd: %s", strerror(errno));
	}
	pthread_mutex_init(&r->mu, NULL);
	store_guard_init(&r->guard);
	int e = pthread_create(&r->thread, NULL, retention_main, r);
	if (e != 0) {
		store_guard_fini(&r->guard);
		pthread_mutex_destroy(&r->mu);
		close(r->stop_fd);
		free(r);
		return uspc_err_set(err, STORE_E_NOMEM, "pthread_create: %s", strerror(e));
	}
	*out = r;
	return 0;
}

void store_retention_stop(struct store_retention *r)
{
	if (!r)
		return;
	uint64_t one = 1;
	ssize_t w = write(r->stop_fd, &one, sizeof(one));
	(void)w;
	store_guard_join(&r->guard, r->thread, STOP_JOIN_MS);
	store_guard_fini(&r->guard);
	pthread_mutex_destroy(&r->mu);
	close(r->stop_fd);
	free(r);
}

void store_retention_stats(struct store_retention *r, struct store_retention_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	*out = r->st;
	pthread_mutex_unlock(&r->mu);
}
