/*
 * core_registry.h — the endpoint registry: what the core knows about each
 * agent it has heard from (EID → reply topic, MQTT version, online state,
 * consecutive request timeouts, onboarding state, requests outstanding, and
 * a small cache of recent Notify msg_ids for duplicate detection).
 *
 * Owned by the core thread; not thread-safe. Bounded by max_agents: when it
 * is full, a new agent takes the place of an idle one (offline, nothing
 * outstanding, queued or deferred), so senders that stop talking cannot
 * fill it for good.
 */
#ifndef USPC_CORE_REGISTRY_H
#define USPC_CORE_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#define CORE_NOTIFY_DEDUP 8 /* recent Notify msg_ids remembered per agent */
#define CORE_TOPIC_MAX 512  /* longest reply topic we store */

enum core_onboard_state {
	CORE_ONB_NONE,    /* not started (or onboarding disabled) */
	CORE_ONB_RUNNING, /* Get / Add outstanding */
	CORE_ONB_DONE,    /* subscriptions verified */
	CORE_ONB_FAILED,  /* gave up until the next contact */
};
const char *core_onboard_state_name(enum core_onboard_state s);

/*
 * One agent. Entries live in the registry's own pool (core_registry.c), not
 * in malloc's heap: the struct and its EID are one piece, with room behind
 * the EID for a reply topic of the usual shape (a prefix and the EID). The
 * fields are packed because a fleet holds one of these per device.
 */
struct core_agent {
	struct core_agent *hnext; /* hash chain; free list of the pool */
	void *deferred;           /* core: tasks waiting for onboarding (opaque here) */
	char *reply_topic;     /* where requests go; NULL until known (in the room or malloc'd) */
	int64_t offline_at_ms; /* when it last went offline (core_now_ms) */
	uint64_t notify_ids[CORE_NOTIFY_DEDUP];      /* hashes of recent Notify msg_ids */
	uint32_t notify_resp_seq[CORE_NOTIFY_DEDUP]; /* outbox entry of its NotifyResp */
	uint32_t onboard_gen; /* bumped at each (re)start; stale answers are ignored */
	int pending;          /* requests outstanding (tracker entries) */
	int consecutive_timeouts;
	uint16_t topic_room;         /* bytes for a topic behind the EID (private) */
	uint8_t notify_resp_queued;  /* bit i: notify_resp_seq[i] is set */
	unsigned notify_next : 3;    /* next slot of notify_ids to overwrite */
	unsigned onboard : 2;        /* enum core_onboard_state */
	unsigned mqtt_v5 : 1;        /* 1: MQTT 5, 0: 3.1.1 */
	unsigned online : 1;         /* write through core_registry_set_online */
	unsigned onboard_queued : 1; /* waiting in the core's onboarding queue */
	unsigned probe_queued : 1;   /* waiting in the core's probe queue */
	char eid[];                  /* NUL-terminated, then topic_room bytes */
};

struct core_registry;

struct core_registry *core_registry_new(size_t max_agents);
/* Frees every agent; deferred lists must have been emptied by the owner. */
void core_registry_free(struct core_registry *r);

struct core_agent *core_registry_find(struct core_registry *r, const char *eid);
/* Find or add. When the registry holds max_agents, an idle agent (see
 * core_agent_idle) is evicted to make room. Returns NULL when none is idle,
 * when eid is longer than USP_EID_MAX_LEN or on allocation failure;
 * *created tells whether a was added. */
struct core_agent *core_registry_get(struct core_registry *r, const char *eid, int *created);
/* Replace the reply topic (copied; capped at CORE_TOPIC_MAX; no '+' or
 * '#'). 0, or USPC_E_INVAL / USPC_E_NOMEM (the old topic is kept). */
int core_agent_set_topic(struct core_agent *a, const char *topic);

/* Nothing refers to a: offline, no request outstanding, not in the core's
 * onboarding or probe queue, no deferred task. Only such an agent may be
 * evicted or removed. */
int core_agent_idle(const struct core_agent *a);
/* Remove an idle agent (e.g. one just added for a record that was then
 * rejected). Nothing is done on failure: USPC_E_STATE when a is not idle,
 * USPC_E_NOTFOUND when it is not in r. */
int core_registry_remove(struct core_registry *r, struct core_agent *a);
/* Agents evicted since start to make room. */
uint64_t core_registry_evicted(const struct core_registry *r);

size_t core_registry_count(const struct core_registry *r);
size_t core_registry_online(const struct core_registry *r);
/* Keep the online counter in step: use this instead of writing a->online. */
void core_registry_set_online(struct core_registry *r, struct core_agent *a, int online);

/*
 * Notify duplicate cache. Returns 1 if msg_id was seen recently for this
 * agent (a retry: do not process again), else records it and returns 0.
 * Either way *slot (may be NULL) is the id's slot, for the two calls below.
 * Keeps 64-bit hashes of the last CORE_NOTIFY_DEDUP ids.
 */
int core_agent_notify_seen(struct core_agent *a, const char *msg_id, unsigned *slot);
/*
 * Where the NotifyResp for the id in slot went: queued = 1 when it was given
 * answer ticket seq (the core numbers its answers from 1 in the order they
 * are made, wrapping at 2^32, and they leave the core in that order), 0
 * when there is none to wait for (not sent).
 */
void core_agent_notify_answered(struct core_agent *a, unsigned slot, int queued, uint32_t seq);
/*
 * 1 when the NotifyResp for the id in slot has not left the core yet, given
 * the number of answers that have (popped, same wrapping count): a retry
 * then needs no second answer, the first is on its way. Valid while fewer
 * than 2^31 answers wait.
 */
int core_agent_notify_answer_waiting(const struct core_agent *a, unsigned slot, uint32_t popped);

/* Visit every agent (no insertions or removals during the walk). */
void core_registry_foreach(struct core_registry *r, void (*fn)(struct core_agent *, void *),
			   void *arg);

/* FNV-1a 64, shared with the tracker. */
uint64_t core_hash_str(const char *s, uint64_t h);
#define CORE_HASH_SEED 1469598103934665603ull

#endif
