/*
 * uspctl_track.c — tasks in flight for one uspctl run (see uspctl_track.h).
 *
 * Owns the dense entry array and an open-addressing index over it (linear
 * probing, backward-shift deletion, so no tombstones). Single-threaded.
 * Invariants: every entry in v[0..n) has exactly one slot pointing at it;
 * n <= cap; n_slots >= 2 * cap keeps probe chains short.
 */
#include "uspctl_track.h"

#include <stdlib.h>
#include <string.h>

static size_t hash_id(int64_t id, size_t mask)
{
	uint64_t x = (uint64_t)id;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)x & mask;
}

int uspctl_track_init(struct uspctl_track *t, size_t cap)
{
	memset(t, 0, sizeof(*t));
	if (cap == 0 || cap > (1u << 30))
		return USPC_E_INVAL;
	size_t ns = 16;
	while (ns < 2 * cap)
		ns <<= 1;
	t->v = calloc(cap, sizeof(*t->v));
	t->slots = calloc(ns, sizeof(*t->slots));
	if (!t->v || !t->slots) {
		uspctl_track_fini(t);
		return USPC_E_NOMEM;
	}
	t->cap = cap;
	t->n_slots = ns;
	return 0;
}

void uspctl_track_fini(struct uspctl_track *t)
{
	for (size_t i = 0; t->v && i < t->n; i++)
		free(t->v[i].result);
	free(t->v);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

/* Slot holding task id, or the empty slot where it would go. */
static size_t probe(const struct uspctl_track *t, int64_t id)
{
	size_t mask = t->n_slots - 1;
	size_t s = hash_id(id, mask);
	while (t->slots[s] && t->v[t->slots[s] - 1].task != id)
		s = (s + 1) & mask;
	return s;
}

int uspctl_track_add(struct uspctl_track *t, const struct uspctl_pend *p)
{
	if (t->n >= t->cap)
		return USPC_E_FULL;
	size_t s = probe(t, p->task);
	if (t->slots[s])
		return USPC_E_EXISTS;
	t->v[t->n] = *p;
	t->slots[s] = (uint32_t)(t->n + 1);
	t->n++;
	return 0;
}

struct uspctl_pend *uspctl_track_find(struct uspctl_track *t, int64_t task)
{
	if (!t->n_slots)
		return NULL;
	size_t s = probe(t, task);
	return t->slots[s] ? &t->v[t->slots[s] - 1] : NULL;
}

/* Empty slot s and shift later members of its probe chain back. */
static void slot_delete(struct uspctl_track *t, size_t s)
{
	size_t mask = t->n_slots - 1;
	size_t j = s;
	t->slots[s] = 0;
	for (;;) {
		j = (j + 1) & mask;
		if (!t->slots[j])
			return;
		size_t home = hash_id(t->v[t->slots[j] - 1].task, mask);
		/* j's entry may move to s when home is not cyclically in (s, j] */
		int stays = (s <= j) ? (home > s && home <= j) : (home > s || home <= j);
		if (stays)
			continue;
		t->slots[s] = t->slots[j];
		t->slots[j] = 0;
		s = j;
	}
}

int uspctl_track_remove(struct uspctl_track *t, int64_t task)
{
	if (!t->n_slots)
		return USPC_E_NOTFOUND;
	size_t s = probe(t, task);
	if (!t->slots[s])
		return USPC_E_NOTFOUND;
	size_t idx = t->slots[s] - 1;
	free(t->v[idx].result);
	slot_delete(t, s);
	size_t last = t->n - 1;
	if (idx != last) {
		t->v[idx] = t->v[last];
		size_t ls = probe(t, t->v[idx].task);
		t->slots[ls] = (uint32_t)(idx + 1);
	}
	t->n--;
	return 0;
}
