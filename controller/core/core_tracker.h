/*
 * core_tracker.h — the request tracker: every request the core sent and is
 * waiting for, keyed by (agent, msg_id), ordered by deadline so timeouts
 * come out cheapest-first. It also keeps the per-agent outstanding count in
 * the registry entry in step (agent->pending).
 *
 * Core thread only. Bounded by max_pending (the caller checks
 * core_tracker_count() before sending; add refuses past the hard cap).
 */
#ifndef USPC_CORE_TRACKER_H
#define USPC_CORE_TRACKER_H

#include <stddef.h>
#include <stdint.h>

#include "core_registry.h"
#include "usp_msg.h"

enum core_req_kind {
	CORE_REQ_TASK,        /* a claimed task; task_id set */
	CORE_REQ_ONBOARD_GET, /* onboarding: DeviceInfo + subscriptions read */
	CORE_REQ_ONBOARD_ADD, /* onboarding: Add of missing subscriptions */
	CORE_REQ_PROBE,       /* GetSupportedProtocol after a broker restart */
};

struct core_req {
	struct core_agent *agent; /* borrowed: registry entries live as long as the tracker */
	char msg_id[USP_MSG_ID_MAX_LEN + 1];
	enum core_req_kind kind;
	Usp__Header__MsgType type; /* request type sent */
	int64_t task_id;
	int64_t sent_ms;
	int64_t deadline_ms;
	void *ctx; /* owner's data; the tracker never frees it */
	/* private */
	size_t heap_idx;
	struct core_req *hnext;
};

struct core_tracker;

struct core_tracker *core_tracker_new(size_t hard_cap);
/* Frees remaining entries (their ctx must be released by the caller first,
 * e.g. via core_tracker_pop_all). */
void core_tracker_free(struct core_tracker *t);

/*
 * Add a pending request. Copies msg_id (at most USP_MSG_ID_MAX_LEN bytes).
 * Returns the entry (owned by the tracker) or NULL when the hard cap is
 * reached, the key already exists, or memory runs out.
 */
struct core_req *core_tracker_add(struct core_tracker *t, struct core_agent *agent,
				  const char *msg_id, enum core_req_kind kind, int64_t deadline_ms);

/* Remove and return the entry for (agent, msg_id), or NULL if unknown.
 * The caller owns the returned entry: core_req_free(). */
struct core_req *core_tracker_take(struct core_tracker *t, struct core_agent *agent,
				   const char *msg_id);

/* The entry for (agent, msg_id), left in place, or NULL if unknown. */
struct core_req *core_tracker_find(struct core_tracker *t, const struct core_agent *agent,
				   const char *msg_id);

/* Up to cap of agent's entries (agent NULL: anyone's), left in place, into
 * out; returns how many.
 * Entries stay valid until they are taken or popped. */
size_t core_tracker_list_agent(const struct core_tracker *t, const struct core_agent *agent,
			       struct core_req **out, size_t cap);

/* Move an entry's deadline (it keeps its key). */
void core_tracker_set_deadline(struct core_tracker *t, struct core_req *r, int64_t deadline_ms);

/* Remove and return one entry whose deadline is <= now_ms, or NULL. */
struct core_req *core_tracker_pop_expired(struct core_tracker *t, int64_t now_ms);
/* Remove and return any entry (for shutdown), or NULL when empty. */
struct core_req *core_tracker_pop_any(struct core_tracker *t);

/* Earliest deadline, or -1 if empty. */
int64_t core_tracker_next_deadline(const struct core_tracker *t);
size_t core_tracker_count(const struct core_tracker *t);

void core_req_free(struct core_req *r);

#endif
