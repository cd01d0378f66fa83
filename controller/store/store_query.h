/*
 * store_query.h — synchronous queries for uspctl and the core: insert tasks,
 * resolve target selectors, inventory listing, tags, snapshot reads, task
 * status, cancel, and waiting for finished tasks (LISTEN uspc_task_done).
 *
 * Every function runs on a connection the calling thread owns (blocking).
 * JSON results are new cJSON trees owned by the caller (cJSON_Delete).
 * Times in JSON are ISO-8601 UTC strings; absent values are omitted.
 */
#ifndef USPC_STORE_QUERY_H
#define USPC_STORE_QUERY_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "store_conn.h"

#define STORE_QUERY_MAX_EIDS 1000000 /* agents one selector may resolve to */
#define STORE_QUERY_MAX_IDS 100000   /* task ids in one status/cancel call */

/* Task states, in one list so names and values stay in step. 'unknown'
 * (schema version 4): a non-idempotent request that may have reached the
 * agent but whose outcome was lost; never sent again (store_tasks.h). */
#define STORE_TASK_STATES(X)    \
	X(QUEUED, "queued")     \
	X(SENT, "sent")         \
	X(DONE, "done")         \
	X(FAILED, "failed")     \
	X(EXPIRED, "expired")   \
	X(CANCELED, "canceled") \
	X(UNKNOWN, "unknown")
enum store_task_state {
#define STORE_TS_ENUM_(ident, name) STORE_TASK_##ident,
	STORE_TASK_STATES(STORE_TS_ENUM_)
#undef STORE_TS_ENUM_
		STORE_TASK_STATE_COUNT_
};
const char *store_task_state_name(enum store_task_state s); /* "?" when out of range */
/* -1 for an unknown name. */
int store_task_state_from_name(const char *name);
/* done, failed, expired, canceled, unknown. */
int store_task_state_is_final(enum store_task_state s);

/*
 * Target selector. Fields left NULL / -1 do not filter; the given ones are
 * AND-combined. With eids given, the result is those EIDs that exist in the
 * inventory (further filtered by the other fields). With nothing given and
 * all == 0 the selector matches nothing (STORE_E_ARG): "all" must be said.
 */
struct store_selector {
	int all;
	const char *const *eids;
	size_t n_eids;
	const char *tag;   /* agents carrying this tag */
	const char *model; /* model_name equal */
	const char *manufacturer;
	const char *software_version;
	const char *eid_glob; /* shell glob on the EID: * ? and \ escapes */
	int online;           /* -1 any, 0 offline, 1 online */
};
void store_selector_init(struct store_selector *s); /* all 0 / NULL, online -1 */

/* Resolve to EIDs (sorted). *eids_out is a new array of new strings
 * (store_strv_free). More than max (0 → STORE_QUERY_MAX_EIDS) matches is
 * STORE_E_ARG with the count in err. */
int store_query_resolve(PGconn *c, const struct store_selector *sel, size_t max, char ***eids_out,
			size_t *n_out, struct uspc_err *err);
void store_strv_free(char **v, size_t n);

/* A task to insert, one per agent. */
struct store_task_spec {
	const char *op;           /* required: USP request type ("get", "set", ...) */
	const char *request_json; /* required: the request fields object */
	const char *batch_id;     /* NULL or a caller's id grouping the tasks */
	int64_t expires_in_ms;    /* 0 → never expires */
	int64_t not_before_in_ms; /* 0 → may run now */
};

/*
 * Insert one task per EID in one statement and transaction, then NOTIFY
 * uspc_task_new (delivered at commit). ids_out (n entries, may be NULL)
 * gets each task's id, in the order of eids. EIDs need not exist in the
 * inventory yet (the task waits until the agent appears and comes online).
 */
int store_query_insert_tasks(PGconn *c, const char *const *eids, size_t n,
			     const struct store_task_spec *spec, int64_t *ids_out,
			     struct uspc_err *err);

/* Agents as a JSON array of objects (eid, online, last_seen, first_seen,
 * reply_topic, mqtt_version, usp_versions, DeviceInfo fields, tags,
 * onboarded_at), sorted by eid, at most max (0 → STORE_QUERY_MAX_EIDS). */
int store_query_agents(PGconn *c, const struct store_selector *sel, size_t max, cJSON **out,
		       struct uspc_err *err);

/* A page of store_query_agents (keyset paging): the agents sel matches
 * whose eid sorts after `after` in byte order (NULL: from the first), at
 * most limit of them (1..STORE_QUERY_MAX_EIDS), never an error for more.
 * limit 0: every one, as store_query_agents (more than
 * STORE_QUERY_MAX_EIDS is STORE_E_ARG). */
int store_query_agents_page(PGconn *c, const struct store_selector *sel, const char *after,
			    size_t limit, cJSON **out, struct uspc_err *err);

/* One agent with its subscriptions ("subscriptions": [...]) and task
 * counts by state ("tasks": {"queued": n, ...}). STORE_E_NOTFOUND if unknown. */
int store_query_agent_show(PGconn *c, const char *eid, cJSON **out, struct uspc_err *err);

/* Add (add=1) or remove (add=0) a tag on the selected agents; *changed
 * (may be NULL) gets the number of agents whose tags changed. Tags: 1..256
 * bytes of [A-Za-z0-9_.:-]. */
int store_query_tag(PGconn *c, const struct store_selector *sel, const char *tag, int add,
		    size_t *changed, struct uspc_err *err);

/* Snapshot rows of eid whose path starts with prefix (NULL or "" → all) as a
 * JSON object {"path": {"value": v, "updated_at": t}, ...}, at most max rows
 * (0 → 100000; more is STORE_E_ARG). */
int store_query_snapshot(PGconn *c, const char *eid, const char *prefix, size_t max, cJSON **out,
			 struct uspc_err *err);

/* Tasks by id as a JSON array of objects (id, eid, op, state, attempts,
 * batch_id, created_at, claimed_by, sent_at, finished_at, msg_id, result,
 * error_code, error_message), in the order of ids; unknown ids are absent. */
int store_query_task_status(PGconn *c, const int64_t *ids, size_t n, cJSON **out,
			    struct uspc_err *err);

/* Every task of a batch, ordered by id, in the same shape. */
int store_query_batch_status(PGconn *c, const char *batch_id, cJSON **out, struct uspc_err *err);

/* Cancel queued tasks (by ids, or all of batch_id when ids is NULL):
 * queued → canceled, NOTIFY uspc_task_done. Tasks in any other state are
 * left alone. *canceled (may be NULL) gets the count. */
int store_query_cancel(PGconn *c, const int64_t *ids, size_t n, const char *batch_id,
		       size_t *canceled, struct uspc_err *err);

/* LISTEN uspc_task_done on c (once per connection, before inserting tasks so
 * no completion is missed). */
int store_query_listen_done(PGconn *c, struct uspc_err *err);

/*
 * Wait up to timeout_ms for uspc_task_done notifications and collect the
 * task ids they carry into ids (capacity cap; extra ids are dropped from
 * this call but the caller should re-check status by query anyway — the
 * notification is a wake-up, the table is the truth). Returns 0 with *n set
 * (possibly 0 on timeout), or STORE_E_CONN when the connection dropped
 * (reconnect, LISTEN again, and re-read status: notifications sent while
 * disconnected are not replayed).
 */
int store_query_wait_done(PGconn *c, int timeout_ms, int64_t *ids, size_t cap, size_t *n,
			  struct uspc_err *err);

#endif
