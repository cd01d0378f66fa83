/*
 * uspctl_run.h — the batch engine of uspctl: read JSON command lines,
 * resolve their targets against the inventory, insert one task per agent
 * into PostgreSQL, wait for the results (LISTEN uspc_task_done plus a poll)
 * and print one result line per agent (uspctl_out.h). Fleet ops answer from
 * the database directly. docs/uspctl.md is the user-facing contract.
 *
 * Single-threaded; one run at a time per struct.
 */
#ifndef USPC_USPCTL_RUN_H
#define USPC_USPCTL_RUN_H

#include <stdint.h>
#include <stdio.h>

/* Exit statuses (documented in docs/uspctl.md). */
#define USPCTL_EXIT_OK 0
#define USPCTL_EXIT_FAILED 1 /* at least one command or agent failed */
#define USPCTL_EXIT_USAGE 2  /* bad flags, or the database could not be used */

#define USPCTL_MAX_INFLIGHT_LIMIT 1000000
#define USPCTL_DEFAULT_TIMEOUT_S 60.0
#define USPCTL_DEFAULT_NOWAIT_EXPIRES_S 3600.0

struct uspctl_opts {
	const char *db;    /* conninfo / URI; NULL → $USPC_DB */
	int wait;          /* 1: wait for results (default); 0: --no-wait */
	double timeout_s;  /* how long to wait for each task's result */
	double expires_s;  /* <= 0: the timeout when waiting, else 1 h */
	long max_inflight; /* tasks inserted and not yet answered */
	int quiet;         /* no summary, no progress, errors only on stderr */
	int progress;      /* -1 auto (stderr is a terminal), 0 off, 1 on */
	int poll_ms;       /* safety-net poll of the task table */

	/* campaign windows: seconds added to the clock (USPC_CLOCK_OFFSET_S) */
	int64_t clock_offset_s;

	/* A connection to borrow instead of opening one from db (uspc-api's
	 * pool): its schema is already migrated; the run LISTENs on it and
	 * UNLISTENs at its end, never reconnects (a lost connection ends the
	 * run with database_error) and never closes it. NULL: open one. */
	struct pg_conn *conn;
	/* Who changes campaigns, profiles and tokens in this run, as their
	 * events and rows record it ("api:<token name>"); NULL:
	 * "uspctl:<unix user>". */
	const char *actor;
};

void uspctl_opts_init(struct uspctl_opts *o);

/* Ask the running batch to stop (async-signal-safe; for a SIGINT/SIGTERM
 * handler): no more input is read, tasks not yet sent are canceled, and
 * results already on their way get 2 more seconds. */
void uspctl_run_interrupt(void);

/* Run one batch read from in_fd; results to out, progress/summary/
 * diagnostics to errf. Returns USPCTL_EXIT_*. */
int uspctl_run(const struct uspctl_opts *o, int in_fd, FILE *out, FILE *errf);

/*
 * --follow: print campaign's progress on errf every second (rewritten in
 * place on a terminal, else a line every 10 s) until it is finished or
 * aborted with nothing in flight, then its campaign_status as a result
 * line on out ({"id":"follow","ok":true,"result":{...}}).
 * campaign is an id or a name. Returns USPCTL_EXIT_OK when it finished
 * without failed or timed-out devices, USPCTL_EXIT_FAILED when it was
 * aborted, any device failed, or an interrupt stopped the following (the
 * campaign is left alone), USPCTL_EXIT_USAGE on database errors.
 */
int uspctl_follow(const struct uspctl_opts *o, const char *campaign, FILE *out, FILE *errf);

#endif
