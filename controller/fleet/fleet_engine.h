/*
 * fleet_engine.h — the campaign engine: a thread of the uspc daemon, with
 * its own PostgreSQL connection, that advances every unsettled campaign a
 * step at a time (docs/campaigns.md). Any number of daemons run one; a
 * campaign's row lock (FOR UPDATE SKIP LOCKED) lets one advance it at a
 * time, and each advance is one transaction, so a daemon may die at any
 * moment without losing or repeating a device step.
 */
#ifndef USPC_FLEET_ENGINE_H
#define USPC_FLEET_ENGINE_H

#include <stdint.h>

#include "store_conn.h"
#include "usp_err.h"

struct fleet_engine_opts {
	struct store_conn_opts conn;
	const char *node_id;            /* shown in campaign events; borrowed */
	int poll_ms;                    /* a pass over the campaigns at least this often */
	int64_t clock_offset_s;         /* added to the clock windows are read with (tests) */
	int devices_per_pass;           /* devices one campaign's pass advances at most */
	int campaigns;                  /* run campaigns */
	int profiles;                   /* run provisioning profiles */
	int profile_max_inflight;       /* runs under way, all engines */
	int profile_scope_s;            /* a profile's scope is walked at least this often */
	int profile_contest_count;      /* Sets of one path ... */
	int profile_contest_window_s;   /* ... within this make it contested */
	const char *profile_stamp_path; /* "" none; borrowed */
	int profile_gate;               /* open agents.provisioned_at after each run */
};

struct fleet_engine_stats {
	uint64_t passes, advanced, started, tasks, db_errors;
	uint64_t profile_started, profile_steps, profile_verdicts, profile_interrupted;
	int connected;
};

struct fleet_engine;

/* Start the thread (it connects, and reconnects, by itself). */
int fleet_engine_start(const struct fleet_engine_opts *o, struct fleet_engine **out,
		       struct uspc_err *err);
/* Ask the thread to stop after its pass in progress; returns at once
 * (any thread). NULL is a no-op. */
void fleet_engine_request_stop(struct fleet_engine *e);
/* Stop and join: waits up to 200 ms for the pass in progress, then cuts
 * its connection (the pass's transaction rolls back; a connection attempt
 * in progress gives up within 3 s). Call fleet_engine_request_stop early
 * and this late. NULL is a no-op. */
void fleet_engine_stop(struct fleet_engine *e);
void fleet_engine_stats(struct fleet_engine *e, struct fleet_engine_stats *out);

#endif
