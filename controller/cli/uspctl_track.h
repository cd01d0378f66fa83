/*
 * uspctl_track.h — the batch tool's table of tasks in flight: task id →
 * entry, with O(1) insert, lookup and removal and a dense array for the
 * periodic sweeps (poll, deadlines). Bounded by the capacity given at init
 * (uspctl's --max-inflight).
 *
 * Single-threaded: one table belongs to one uspctl run.
 */
#ifndef USPC_USPCTL_TRACK_H
#define USPC_USPCTL_TRACK_H

#include <stddef.h>
#include <stdint.h>

#include "usp_err.h"

struct uspctl_job;

enum uspctl_phase {
	USPCTL_PHASE_TASK,     /* waiting for the task's final state */
	USPCTL_PHASE_COMPLETE, /* operate: OperateResp in, waiting for OperationComplete */
};

struct uspctl_pend {
	int64_t task;           /* task id (key) */
	struct uspctl_job *job; /* the command it belongs to (borrowed) */
	const char *eid;        /* borrowed from the job */
	int64_t deadline_ms;    /* monotonic: give up waiting at this time */
	int64_t expires_ms;     /* monotonic: the task's expiry, 0 = none */
	enum uspctl_phase phase;
	char *result; /* PHASE_COMPLETE: the OperateResp JSON (owned) */
	int expect;   /* PHASE_COMPLETE: completions to wait for */
};

struct uspctl_track {
	struct uspctl_pend *v; /* dense, n entries */
	size_t n, cap;
	uint32_t *slots; /* open addressing: index+1 into v, 0 = empty */
	size_t n_slots;  /* power of two, >= 2 * cap */
};

/* cap: most entries ever held at once (1..2^30). 0, USPC_E_INVAL for a cap
 * outside that, or USPC_E_NOMEM. */
int uspctl_track_init(struct uspctl_track *t, size_t cap);
/* Frees every entry's result too. */
void uspctl_track_fini(struct uspctl_track *t);

/* Add a copy of *p (the table owns p->result from now on). USPC_E_FULL when
 * full, USPC_E_EXISTS when the task id is already present. */
int uspctl_track_add(struct uspctl_track *t, const struct uspctl_pend *p);
/* The entry of a task, or NULL. Valid until the next add/remove. */
struct uspctl_pend *uspctl_track_find(struct uspctl_track *t, int64_t task);
/* Remove a task's entry (its result is freed). USPC_E_NOTFOUND if absent. Entries move
 * in the dense array: sweeps that remove must walk v from the end. */
int uspctl_track_remove(struct uspctl_track *t, int64_t task);

static inline size_t uspctl_track_count(const struct uspctl_track *t)
{
	return t->n;
}

#endif
