/*
 * store_retention.h — the database's maintenance: the daily partitions of
 * the time-ordered tables (notifications, tasks, profile_history, schema
 * migration 10; operation_results, migration 11) are created ahead and
 * dropped once older than their retention (docs/retention.md).
 *
 * Every daemon runs the thread; a run starts only under a session advisory
 * lock, so one daemon at a time does the work and any daemon can. A run is
 * a series of short transactions, each of which either happens whole or
 * not at all: a daemon killed in the middle leaves a consistent database
 * and the next run (by any daemon) goes on from there.
 *
 * store_retention_run() is the run itself, on a connection the caller owns
 * (the thread, tests). The thread owns its connection and its statistics
 * (under a mutex); nothing else.
 */
#ifndef USPC_STORE_RETENTION_H
#define USPC_STORE_RETENTION_H

#include <stdint.h>
#include <libpq-fe.h>

#include "store_conn.h"
#include "usp_err.h"

enum store_retention_table {
	STORE_RET_NOTIFICATIONS,
	STORE_RET_TASKS,
	STORE_RET_PROFILE_HISTORY,
	STORE_RET_OPERATION_RESULTS,
	STORE_RET_TABLES
};

/* "notifications", "tasks", ... */
const char *store_retention_table_name(enum store_retention_table t);

#define STORE_RETENTION_DAYS_MAX 3650 /* ten years: past that, say 0 (keep) */
#define STORE_RETENTION_AHEAD_MAX 60

struct store_retention_policy {
	int keep_days[STORE_RET_TABLES]; /* 0: keep for ever; else 1..DAYS_MAX */
	int ahead_days;                  /* partitions created ahead of today, 1..AHEAD_MAX */
	int64_t clock_offset_s;          /* tests: "today" is read this far off the clock */
	int lock_timeout_ms;             /* each statement of a run waits at most this for a lock */
};

/* What one run did. */
struct store_retention_report {
	int locked_out;        /* another session held the maintenance: nothing done */
	int64_t created;       /* partitions created */
	int64_t moved;         /* rows moved from DEFAULT partitions into their day's */
	int64_t dropped;       /* partitions dropped */
	int64_t busy;          /* steps put off: a lock stayed busy past lock_timeout_ms */
	int64_t expired_tasks; /* open tasks expired because their day was due */
	int64_t errors;        /* steps that failed (logged; the run went on) */
};

/* Check a policy; 0, or USPC_E_CONFIG-like STORE_E_ARG with err naming
 * the field and its range. */
int store_retention_policy_check(const struct store_retention_policy *p, struct uspc_err *err);

/*
 * One maintenance run on c (autocommit, not in a transaction; the caller
 * owns c). Takes the maintenance lock or, when another session holds it,
 * returns 0 with rep->locked_out set. Each step is its own transaction;
 * a failing step is logged and counted in rep->errors and the run goes on
 * with the next. Returns a negative STORE_E_* only when the connection is
 * unusable (err says why); rep holds what was done until then.
 */
int store_retention_run(PGconn *c, const struct store_retention_policy *p,
			struct store_retention_report *rep, struct uspc_err *err);

struct store_retention_opts {
	struct store_conn_opts conn;
	struct store_retention_policy policy;
	int interval_s; /* a run soon after start, then one every interval_s (> 0) */
};

struct store_retention_stats {
	uint64_t runs; /* runs that held the lock and ended */
	uint64_t locked_out;
	uint64_t created, dropped, busy, moved, expired_tasks;
	uint64_t errors;    /* failed steps and failed runs */
	int64_t last_run_s; /* CLOCK_REALTIME of the last run that held the lock, 0: none */
};

struct store_retention;

int store_retention_start(const struct store_retention_opts *o, struct store_retention **out,
			  struct uspc_err *err);
/* Stop and join (a run in progress ends at its current statement; past
 * 2 s its connection is cut). NULL is a no-op. */
void store_retention_stop(struct store_retention *r);
void store_retention_stats(struct store_retention *r, struct store_retention_stats *out);

#endif
