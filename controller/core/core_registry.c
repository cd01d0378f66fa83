/*
 * core_registry.c — the endpoint registry as a chained hash table keyed by
 * EID, grown by doubling when the load passes 1. An offline agent keeps its
 * entry (its reply topic survives a reconnect) until max_agents is reached;
 * then each new agent evicts an idle one, found by a bounded scan that
 * resumes where the last one stopped.
 *
 * Core thread only. Invariant: r->online equals the number of agents with
 * online != 0 (maintained by core_registry_set_online).
 */
#include "core_registry.h"

#include <stdlib.h>
#include <string.h>

#include "usp_err.h"

struct core_registry {
	struct core_agent **buckets;
	size_t n_buckets; /* power of two */
	size_t count;
	size_t online;
	size_t max_agents;
	size_t evict_cursor; /* bucket where the next eviction scan starts */
	uint64_t evicted;
};

/* Buckets an eviction scan visits at most before giving up. */
#define EVICT_SCAN_BUCKETS 4096

static const char *const onb_names[] = { "none", "running", "done", "failed" };

const char *core_onboard_state_name(enum core_onboard_state s)
{
	return (unsigned)s < sizeof(onb_names) / sizeof(onb_names[0]) ? onb_names[s] : "?";
}

uint64_t core_hash_str(const char *s, uint64_t h)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

struct core_registry *core_registry_new(size_t max_agents)
{
	struct core_registry *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->n_buckets = 1024;
	r->buckets = calloc(r->n_buckets, sizeof(*r->buckets));
	if (!r->buckets) {
		free(r);
		return NULL;
	}
	r->max_agents = max_agents ? max_agents : 1;
	return r;
}

static void agent_free(struct core_agent *a)
{
	free(a->eid);
	free(a->reply_topic);
	free(a);
}

void core_registry_free(struct core_registry *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_buckets; i++) {
		struct core_agent *a = r->buckets[i];
		while (a) {
			struct core_agent *next = a->hnext;
			agent_free(a);
			a = next;
		}
	}
	free(r->buckets);
	free(r);
}

struct core_agent *core_registry_find(struct core_registry *r, const char *eid)
{
	size_t b = core_hash_str(eid, CORE_HASH_SEED) & (r->n_buckets - 1);
	for (struct core_agent *a = r->buckets[b]; a; a = a->hnext)
		if (strcmp(a->eid, eid) == 0)
			return a;
	return NULL;
}

static void grow(struct core_registry *r)
{
	size_t n = r->n_buckets * 2;
	struct core_agent **nb = calloc(n, sizeof(*nb));
	if (!nb)
		return; /* keep the old table: longer chains, still correct */
	for (size_t i = 0; i < r->n_buckets; i++) {
		struct core_agent *a = r->buckets[i];
		while (a) {
			struct core_agent *next = a->hnext;
			size_t b = core_hash_str(a->eid, CORE_HASH_SEED) & (n - 1);
			a->hnext = nb[b];
			nb[b] = a;
			a = next;
		}
	}
	free(r->buckets);
	r->buckets = nb;
	r->n_buckets = n;
}

int core_agent_idle(const struct core_agent *a)
{
	return !a->online && a->pending == 0 && !a->deferred && !a->onboard_queued &&
	       !a->probe_queued && a->onboard != CORE_ONB_RUNNING;
}

static void unlink_agent(struct core_registry *r, struct core_agent **pp)
{
	struct core_agent *a = *pp;
	*pp = a->hnext;
	r->count--;
	agent_free(a);
}

int core_registry_remove(struct core_registry *r, struct core_agent *a)
{
	if (!core_agent_idle(a))
		return USPC_E_STATE;
	size_t b = core_hash_str(a->eid, CORE_HASH_SEED) & (r->n_buckets - 1);
	for (struct core_agent **pp = &r->buckets[b]; *pp; pp = &(*pp)->hnext)
		if (*pp == a) {
			unlink_agent(r, pp);
			return 0;
		}
	return USPC_E_NOTFOUND;
}

/* Evict the first idle agent of a bounded scan. 0, or -1 when none found. */
static int evict_one(struct core_registry *r)
{
	for (size_t i = 0; i < EVICT_SCAN_BUCKETS && i < r->n_buckets; i++) {
		size_t b = (r->evict_cursor + i) & (r->n_buckets - 1);
		for (struct core_agent **pp = &r->buckets[b]; *pp; pp = &(*pp)->hnext)
			if (core_agent_idle(*pp)) {
				unlink_agent(r, pp);
				r->evict_cursor = b + 1;
				r->evicted++;
				return 0;
			}
	}
	r->evict_cursor += EVICT_SCAN_BUCKETS;
	return -1;
}

uint64_t core_registry_evicted(const struct core_registry *r)
{
	return r->evicted;
}

struct core_agent *core_registry_get(struct core_registry *r, const char *eid, int *created)
{
	if (created)
		*created = 0;
	struct core_agent *a = core_registry_find(r, eid);
	if (a || (r->count >= r->max_agents && evict_one(r) != 0))
		return a;
	a = calloc(1, sizeof(*a));
	if (!a || !(a->eid = strdup(eid))) {
		free(a);
		return NULL;
	}
	a->mqtt_v5 = 1;
	if (r->count + 1 > r->n_buckets)
		grow(r);
	size_t b = core_hash_str(eid, CORE_HASH_SEED) & (r->n_buckets - 1);
	a->hnext = r->buckets[b];
	r->buckets[b] = a;
	r->count++;
	if (created)
		*created = 1;
	return a;
}

int core_agent_set_topic(struct core_agent *a, const char *topic)
{
	/* A wildcard is never a topic one can publish to (the transport would
	 * refuse every answer): the agent's MQTTConnectRecord is rejected. */
	if (!topic || !topic[0] || strlen(topic) > CORE_TOPIC_MAX || strpbrk(topic, "+#"))
		return USPC_E_INVAL;
	if (a->reply_topic && strcmp(a->reply_topic, topic) == 0)
		return 0;
	char *dup = strdup(topic);
	if (!dup)
		return USPC_E_NOMEM;
	free(a->reply_topic);
	a->reply_topic = dup;
	return 0;
}

size_t core_registry_count(const struct core_registry *r)
{
	return r->count;
}

size_t core_registry_online(const struct core_registry *r)
{
	return r->online;
}

void core_registry_set_online(struct core_registry *r, struct core_agent *a, int online)
{
	online = online ? 1 : 0;
	if (a->online == online)
		return;
	a->online = online;
	if (online)
		r->online++;
	else
		r->online--;
}

_Static_assert(CORE_NOTIFY_DEDUP <= 8, "notify_resp_queued is an 8-bit set");

int core_agent_notify_seen(struct core_agent *a, const char *msg_id, unsigned *slot)
{
	/* 0 marks an empty slot, so map a (vanishingly unlikely) 0 hash to 1. */
	uint64_t h = core_hash_str(msg_id, CORE_HASH_SEED ^ 0x9e3779b97f4a7c15ull);
	if (h == 0)
		h = 1;
	for (unsigned i = 0; i < CORE_NOTIFY_DEDUP; i++)
		if (a->notify_ids[i] == h) {
			if (slot)
				*slot = i;
			return 1;
		}
	unsigned i = a->notify_next;
	a->notify_ids[i] = h;
	a->notify_resp_queued &= (uint8_t) ~(1u << i);
	a->notify_next = (i + 1) % CORE_NOTIFY_DEDUP;
	if (slot)
		*slot = i;
	return 0;
}

void core_agent_notify_answered(struct core_agent *a, unsigned slot, int queued, uint32_t seq)
{
	if (slot >= CORE_NOTIFY_DEDUP)
		return;
	if (queued) {
		a->notify_resp_seq[slot] = seq;
		a->notify_resp_queued |= (uint8_t)(1u << slot);
	} else {
		a->notify_resp_queued &= (uint8_t) ~(1u << slot);
	}
}

int core_agent_notify_answer_waiting(const struct core_agent *a, unsigned slot, uint32_t popped)
{
	if (slot >= CORE_NOTIFY_DEDUP || !(a->notify_resp_queued & (1u << slot)))
		return 0;
	/* Entry seq is still queued while popped has not reached it. */
	return (int32_t)(a->notify_resp_seq[slot] - popped) > 0;
}

void core_registry_foreach(struct core_registry *r, void (*fn)(struct core_agent *, void *),
			   void *arg)
{
	for (size_t i = 0; i < r->n_buckets; i++)
		for (struct core_agent *a = r->buckets[i]; a; a = a->hnext)
			fn(a, arg);
}
