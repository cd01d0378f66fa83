/*
 * uspctl_internal.h — state shared by uspctl's engine (uspctl_run.c) and
 * its fleet ops (uspctl_fleet.c). Not a public interface.
 */
#ifndef USPC_USPCTL_INTERNAL_H
#define USPC_USPCTL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

#include "store_query.h"
#include "uspctl_cmd.h"
#include "uspctl_out.h"
#include "uspctl_run.h"
#include "uspctl_track.h"

/* One USP command fanned out to its agents. */
struct uspctl_job {
	struct uspctl_job *next; /* insert queue */
	char id[USPCTL_ID_MAX + 1];
	long line;
	char batch[96];       /* tasks.batch_id of its tasks */
	const char *usp_type; /* static */
	char *request_json;
	char **eids;                   /* resolved, sorted, unique (owned) */
	size_t n_eids, next_eid;       /* next_eid: first not yet inserted */
	size_t open;                   /* results not yet written */
	size_t inflight, max_inflight; /* tasks inserted and tracked; its cap */
	int wait, wait_complete;
	char *command_key; /* operate + wait_complete */
	int64_t timeout_ms, expires_ms;
};

struct uspctl_run {
	const struct uspctl_opts *o;
	struct uspctl_out out;
	PGconn *db;
	char run_id[48];
	struct uspctl_track track;
	struct uspctl_job *q_head, *q_tail;
	int in_done;         /* end of input reached */
	int was_interrupted; /* interrupt_run() has run */
	int64_t next_completion_poll;
	int64_t *woke;       /* scratch: task ids from notifications */
	int64_t *insert_ids; /* scratch: ids of one INSERT chunk */
	int fatal;           /* database lost for good */
	char actor[160];     /* uspctl_actor's, made on first use */
	char fatal_msg[384];
};

/* A database call failed with err: reconnect when the connection is gone
 * (sets fatal when that fails). Returns 0 when the caller may retry, -1
 * when not (a yes/no answer: err already says what failed). */
int uspctl_db_recover(struct uspctl_run *r, const struct uspc_err *err);

/* Run call (a store function: sets rc and err) again once after a
 * reconnect. */
#define DB_RETRY(r, rc, err, call)                                           \
	do {                                                                 \
		for (int attempt_ = 0; attempt_ < 2; attempt_++) {           \
			(rc) = (call);                                       \
			if ((rc) == 0 || uspctl_db_recover((r), &(err)) < 0) \
				break;                                       \
		}                                                            \
	} while (0)

/*
 * Resolve a command's targets to EIDs (sorted, unique; *eids is the
 * caller's, store_strv_free). Explicit EIDs missing from the inventory get
 * an unknown_agent line each. Returns 0 (possibly with *n == 0), or after
 * printing a line error a negative code: the store's, or USPCTL_E_INTERNAL.
 */
int uspctl_resolve(struct uspctl_run *r, const struct uspctl_cmd *c, long line, char ***eids,
		   size_t *n);

/* A command's targets as the store's selector (the EIDs borrowed): every
 * agent when no targets were given. */
void uspctl_selector(const struct uspctl_targets *t, struct store_selector *sel);

/* Fleet ops (list_agents, show_agent, tag, untag, snapshot, task_status,
 * cancel, rejections; the reads and token ops below): answered from the
 * database, results printed. */
void uspctl_fleet(struct uspctl_run *r, const struct uspctl_cmd *c, long line);

/* Campaign ops (campaign_*, fleet_versions) through fleet_admin.h: one
 * result line each (campaign_devices, campaign_list and fleet_versions:
 * one per device, campaign or version), or one line error. */
void uspctl_campaign(struct uspctl_run *r, const struct uspctl_cmd *c, long line);

/* Who changes a campaign, profile or token in this run, as recorded: the
 * run's opts->actor, else "uspctl:<unix user>". */
const char *uspctl_actor(struct uspctl_run *r);

/* After a DATABASE error of a fleet_admin / profile_admin call: 1 when
 * the call is worth one more try (the connection was re-established, or
 * the failure was transient). */
int uspctl_admin_again(struct uspctl_run *r, int rc, const struct uspc_err *err);

/* Run call (which sets rc and err) once more after a reconnect. */
#define ADMIN(r, rc, err, call)                                     \
	do {                                                        \
		for (int attempt_ = 0; attempt_ < 2; attempt_++) {  \
			(rc) = (call);                              \
			if (!uspctl_admin_again((r), (rc), &(err))) \
				break;                              \
		}                                                   \
	} while (0)

/* Profile ops (profile_*) through profile_admin.h: one result line each
 * (profile_list, profile_history and profile_paths: one per item), or one
 * line error. */
void uspctl_profile(struct uspctl_run *r, const struct uspctl_cmd *c, long line);

/* The reads the HTTP API pages through (notifications, task_list,
 * operation_results, tag_list, fleet_summary): one line per row, with its
 * "agent" when it has one (fleet_summary: one line); nothing when no row
 * matches. Dispatched by uspctl_fleet. */
void uspctl_reads(struct uspctl_run *r, const struct uspctl_cmd *c, long line);

/* Token ops (token_create, token_list, token_revoke) through
 * store_tokens.h: one line each (token_list: one per token), or one line
 * error. Dispatched by uspctl_fleet. */
void uspctl_token(struct uspctl_run *r, const struct uspctl_cmd *c, long line);

/* 1 once SIGINT/SIGTERM asked the run (or --follow) to stop. */
int uspctl_interrupted(void);

#endif
