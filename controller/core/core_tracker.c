/*
 * core_tracker.c — pending requests in two structures over the same
 * entries: a chained hash table on (agent pointer, msg_id) for response
 * matching, and a binary min-heap on deadline for timeouts. Each entry
 * knows its heap slot so a matched response removes it in O(log n).
 *
 * Core thread only. Invariants: every entry is in both structures exactly
 * once; entry->agent->pending counts the agent's entries.
 */
#include "core_tracker.h"

#include <stdlib.h>
#include <string.h>

struct core_tracker {
	struct core_req **buckets;
	size_t n_buckets;
	struct core_req **heap;
	size_t count;
	size_t heap_cap;
	size_t hard_cap;
};

static uint64_t key_hash(const struct core_agent *a, const char *msg_id)
{
	uint64_t h = CORE_HASH_SEED ^ (uint64_t)(uintptr_t)a;
	h *= 1099511628211ull;
	return core_hash_str(msg_id, h);
}

struct core_tracker *core_tracker_new(size_t hard_cap)
{
	struct core_tracker *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->hard_cap = hard_cap ? hard_cap : 1;
	t->n_buckets = 1024;
	while (t->n_buckets < t->hard_cap && t->n_buckets < (1u << 22))
		t->n_buckets <<= 1;
	t->buckets = calloc(t->n_buckets, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		return NULL;
	}
	return t;
}

void core_req_free(struct core_req *r)
{
	free(r);
}

void core_tracker_free(struct core_tracker *t)
{
	if (!t)
		return;
	struct core_req *r;
	while ((r = core_tracker_pop_any(t)))
		core_req_free(r);
	free(t->buckets);
	free(t->heap);
	free(t);
}

static int64_t dl(const struct core_tracker *t, size_t i)
{
	return t->heap[i]->deadline_ms;
}

static void heap_swap(struct core_tracker *t, size_t i, size_t j)
{
	struct core_req *x = t->heap[i];
	t->heap[i] = t->heap[j];
	t->heap[j] = x;
	t->heap[i]->heap_idx = i;
	t->heap[j]->heap_idx = j;
}

static void sift_up(struct core_tracker *t, size_t i)
{
	while (i > 0 && dl(t, (i - 1) / 2) > dl(t, i)) {
		heap_swap(t, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void sift_down(struct core_tracker *t, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < t->count && dl(t, l) < dl(t, m))
			m = l;
		if (r < t->count && dl(t, r) < dl(t, m))
			m = r;
		if (m == i)
			return;
		heap_swap(t, i, m);
		i = m;
	}
}

static struct core_req **chain_of(struct core_tracker *t, const struct core_agent *a,
				  const char *msg_id)
{
	return &t->buckets[key_hash(a, msg_id) & (t->n_buckets - 1)];
}

struct core_req *core_tracker_add(struct core_tracker *t, struct core_agent *agent,
				  const char *msg_id, enum core_req_kind kind, int64_t deadline_ms)
{
	if (t->count >= t->hard_cap || strlen(msg_id) > USP_MSG_ID_MAX_LEN)
		return NULL;
	struct core_req **chain = chain_of(t, agent, msg_id);
	for (struct core_req *e = *chain; e; e = e->hnext)
		if (e->agent == agent && strcmp(e->msg_id, msg_id) == 0)
			return NULL;
	if (t->count == t->heap_cap) {
		size_t cap = t->heap_cap ? t->heap_cap * 2 : 256;
		struct core_req **nh = realloc(t->heap, cap * sizeof(*nh));
		if (!nh)
			return NULL;
		t->heap = nh;
		t->heap_cap = cap;
	}
	struct core_req *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->agent = agent;
	strcpy(r->msg_id, msg_id);
	r->kind = kind;
	r->deadline_ms = deadline_ms;
	r->task_id = -1;
	r->hnext = *chain;
	*chain = r;
	r->heap_idx = t->count;
	t->heap[t->count++] = r;
	sift_up(t, r->heap_idx);
	agent->pending++;
	return r;
}

/* Unlink r from both structures. */
static void unlink_req(struct core_tracker *t, struct core_req *r)
{
	struct core_req **pp = chain_of(t, r->agent, r->msg_id);
	while (*pp && *pp != r)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = r->hnext;
	size_t i = r->heap_idx, last = --t->count;
	if (i != last) {
		heap_swap(t, i, last);
		sift_down(t, i);
		sift_up(t, i);
	}
	r->hnext = NULL;
	r->agent->pending--;
}

struct core_req *core_tracker_find(struct core_tracker *t, const struct core_agent *agent,
				   const char *msg_id)
{
	for (struct core_req *e = *chain_of(t, agent, msg_id); e; e = e->hnext)
		if (e->agent == agent && strcmp(e->msg_id, msg_id) == 0)
			return e;
	return NULL;
}

size_t core_tracker_list_agent(const struct core_tracker *t, const struct core_agent *agent,
			       struct core_req **out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < t->count && n < cap; i++)
		if (!agent || t->heap[i]->agent == agent)
			out[n++] = t->heap[i];
	return n;
}

void core_tracker_set_deadline(struct core_tracker *t, struct core_req *r, int64_t deadline_ms)
{
	r->deadline_ms = deadline_ms;
	sift_down(t, r->heap_idx);
	sift_up(t, r->heap_idx);
}

struct core_req *core_tracker_take(struct core_tracker *t, struct core_agent *agent,
				   const char *msg_id)
{
	for (struct core_req *e = *chain_of(t, agent, msg_id); e; e = e->hnext) {
		if (e->agent == agent && strcmp(e->msg_id, msg_id) == 0) {
			unlink_req(t, e);
			return e;
		}
	}
	return NULL;
}

struct core_req *core_tracker_pop_expired(struct core_tracker *t, int64_t now_ms)
{
	if (t->count == 0 || t->heap[0]->deadline_ms > now_ms)
		return NULL;
	struct core_req *r = t->heap[0];
	unlink_req(t, r);
	return r;
}

struct core_req *core_tracker_pop_any(struct core_tracker *t)
{
	if (t->count == 0)
		return NULL;
	struct core_req *r = t->heap[t->count - 1];
	unlink_req(t, r);
	return r;
}

int64_t core_tracker_next_deadline(const struct core_tracker *t)
{
	return t->count ? t->heap[0]->deadline_ms : -1;
}

size_t core_tracker_count(const struct core_tracker *t)
{
	return t->count;
}
