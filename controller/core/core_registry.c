/*
 * core_registry.c — the endpoint registry as a chained hash table keyed by
 * EID, grown by doubling when the load passes 1. An offline agent keeps its
 * entry (its reply topic survives a reconnect) until max_agents is reached;
 * then each new agent evicts an idle one, found by a bounded scan that
 * resumes where the last one stopped.
 *
 * Entries come from a pool of POOL_BLOCK-byte blocks mapped for the
 * registry alone, carved in order and recycled through free lists by size.
 * Why not malloc: agents arrive in storms, while the core and the writer
 * allocate and free far more short-lived memory (records, rows, requests).
 * Entries malloc'd in between pin nearly every page of the heap once the
 * storm is over — measured at 10,000 agents, ~7 MB of free heap stayed
 * resident that way, more than twice the entries themselves. In their own
 * blocks they stay dense, and the heap shrinks back after a storm.
 * An entry holds its EID and, behind it, room for a reply topic made of a
 * prefix of up to TOPIC_PREFIX_ROOM - 1 bytes and the EID (the usual shape,
 * e.g. usp/agent/<eid>); a longer topic is malloc'd.
 *
 * Core thread only. Invariants: r->online equals the number of agents with
 * online != 0 (maintained by core_registry_set_online); a->reply_topic is
 * NULL, the room behind a->eid, or a malloc'd string (agent_topic_heap).
 */
#include "core_registry.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "usp_err.h"
#include "usp_record.h"

#define POOL_BLOCK (1u << 20) /* bytes mapped at a time; pages count when used */
#define TOPIC_PREFIX_ROOM 24  /* topic room = EID length + this */
#define ENTRY_ALIGN 8
#define ENTRY_MAX                                                                           \
	(offsetof(struct core_agent, eid) + 2 * (USP_EID_MAX_LEN + 1) + TOPIC_PREFIX_ROOM + \
	 ENTRY_ALIGN)
#define SIZE_CLASSES (ENTRY_MAX / ENTRY_ALIGN + 1)

_Static_assert(ENTRY_MAX < POOL_BLOCK / 8, "entries are small beside a block");
_Static_assert(USP_EID_MAX_LEN + TOPIC_PREFIX_ROOM <= UINT16_MAX, "topic_room is 16 bits");

/* Blocks are linked through their first bytes. */
struct pool_block {
	struct pool_block *next;
};

struct core_registry {
	struct core_agent **buckets;
	size_t n_buckets; /* power of two */
	size_t count;
	size_t online;
	size_t max_agents;
	size_t evict_cursor; /* bucket where the next eviction scan starts */
	uint64_t evicted;
	/* the entry pool */
	struct pool_block *blocks;
	char *carve; /* next unused byte of the newest block */
	size_t carve_left;
	struct core_agent *free_by_size[SIZE_CLASSES]; /* by size / ENTRY_ALIGN */
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

/* ---- the entry pool ------------------------------------------------------ */

static size_t entry_size(size_t eid_len)
{
	size_t n = offsetof(struct core_agent, eid) + eid_len + 1 + eid_len + TOPIC_PREFIX_ROOM;
	return (n + ENTRY_ALIGN - 1) & ~(size_t)(ENTRY_ALIGN - 1);
}

/* A zeroed entry of size bytes (entry_size), or NULL. */
static struct core_agent *pool_get(struct core_registry *r, size_t size)
{
	struct core_agent **fl = &r->free_by_size[size / ENTRY_ALIGN];
	struct core_agent *a = *fl;
	if (a) {
		*fl = a->hnext;
	} else {
		if (r->carve_left < size) {
			/* mmap, not malloc: a block must never sit inside malloc's
			 * heap, where it would pin the pages around it. */
			void *m = mmap(NULL, POOL_BLOCK, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (m == MAP_FAILED)
				return NULL;
			struct pool_block *b = m;
			b->next = r->blocks;
			r->blocks = b;
			r->carve = (char *)m + ENTRY_ALIGN;
			r->carve_left = POOL_BLOCK - ENTRY_ALIGN;
		}
		a = (struct core_agent *)(void *)r->carve;
		r->carve += size;
		r->carve_left -= size;
	}
	memset(a, 0, size);
	return a;
}

static size_t agent_size(const struct core_agent *a)
{
	return entry_size(strlen(a->eid));
}

static char *agent_topic_room(struct core_agent *a)
{
	return a->eid + strlen(a->eid) + 1;
}

static int agent_topic_heap(struct core_agent *a)
{
	return a->reply_topic && a->reply_topic != agent_topic_room(a);
}

static void agent_free(struct core_registry *r, struct core_agent *a)
{
	if (agent_topic_heap(a))
		free(a->reply_topic);
	struct core_agent **fl = &r->free_by_size[agent_size(a) / ENTRY_ALIGN];
	a->hnext = *fl;
	*fl = a;
}

void core_registry_free(struct core_registry *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_buckets; i++)
		for (struct core_agent *a = r->buckets[i]; a; a = a->hnext)
			if (agent_topic_heap(a))
				free(a->reply_topic);
	while (r->blocks) {
		struct pool_block *next = r->blocks->next;
		munmap(r->blocks, POOL_BLOCK);
		r->blocks = next;
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
	agent_free(r, a);
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
	size_t len = strlen(eid);
	if (len > USP_EID_MAX_LEN || !(a = pool_get(r, entry_size(len))))
		return NULL;
	memcpy(a->eid, eid, len + 1);
	a->topic_room = (uint16_t)(len + TOPIC_PREFIX_ROOM);
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
	size_t len = strlen(topic);
	char *room = agent_topic_room(a);
	if (len < a->topic_room) {
		if (agent_topic_heap(a))
			free(a->reply_topic);
		memcpy(room, topic, len + 1);
		a->reply_topic = room;
		return 0;
	}
	char *dup = strdup(topic);
	if (!dup)
		return USPC_E_NOMEM;
	if (agent_topic_heap(a))
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
