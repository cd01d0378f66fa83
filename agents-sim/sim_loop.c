/*
 * sim_loop.c — epoll + a binary min-heap of intrusive timers for one worker
 * process. Owns the epoll fd and the heap array, not the timers (they live
 * in their owners). Invariant: heap[i]->heap_idx == i for every armed timer
 * and heap[parent] fires no later than heap[child].
 */
#include "sim_loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 512

struct sim_loop {
	int epfd;
	sim_io_fn io;
	uint64_t now;
	struct sim_timer **heap;
	size_t n, cap;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct sim_loop *sim_loop_new(sim_io_fn io)
{
	struct sim_loop *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	l->io = io;
	l->now = mono_ms();
	return l;
}

void sim_loop_free(struct sim_loop *l)
{
	if (!l)
		return;
	close(l->epfd);
	free(l->heap);
	free(l);
}

uint64_t sim_loop_now(const struct sim_loop *l)
{
	return l->now;
}

void sim_loop_update_now(struct sim_loop *l)
{
	l->now = mono_ms();
}

static int ctl(struct sim_loop *l, int op, int fd, uint32_t events, void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };
	return epoll_ctl(l->epfd, op, fd, &ev);
}

int sim_loop_add(struct sim_loop *l, int fd, uint32_t events, void *ptr)
{
	return ctl(l, EPOLL_CTL_ADD, fd, events, ptr);
}

int sim_loop_mod(struct sim_loop *l, int fd, uint32_t events, void *ptr)
{
	return ctl(l, EPOLL_CTL_MOD, fd, events, ptr);
}

int sim_loop_del(struct sim_loop *l, int fd)
{
	return ctl(l, EPOLL_CTL_DEL, fd, 0, NULL);
}

void sim_timer_init(struct sim_timer *t, void (*cb)(struct sim_timer *t))
{
	t->when_ms = 0;
	t->heap_idx = SIZE_MAX;
	t->cb = cb;
}

int sim_timer_armed(const struct sim_timer *t)
{
	return t->heap_idx != SIZE_MAX;
}

static void place(struct sim_loop *l, size_t i, struct sim_timer *t)
{
	l->heap[i] = t;
	t->heap_idx = i;
}

static void sift_up(struct sim_loop *l, size_t i)
{
	struct sim_timer *t = l->heap[i];
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (l->heap[p]->when_ms <= t->when_ms)
			break;
		place(l, i, l->heap[p]);
		i = p;
	}
	place(l, i, t);
}

static void sift_down(struct sim_loop *l, size_t i)
{
	struct sim_timer *t = l->heap[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= l->n)
			break;
		if (c + 1 < l->n && l->heap[c + 1]->when_ms < l->heap[c]->when_ms)
			c++;
		if (l->heap[c]->when_ms >= t->when_ms)
			break;
		place(l, i, l->heap[c]);
		i = c;
	}
	place(l, i, t);
}

void sim_timer_cancel(struct sim_loop *l, struct sim_timer *t)
{
	size_t i = t->heap_idx;
	if (i == SIZE_MAX)
		return;
	t->heap_idx = SIZE_MAX;
	struct sim_timer *last = l->heap[--l->n];
	if (i == l->n)
		return;
	place(l, i, last);
	sift_down(l, i);
	sift_up(l, last->heap_idx);
}

int sim_timer_arm(struct sim_loop *l, struct sim_timer *t, uint64_t delay_ms)
{
	sim_timer_cancel(l, t);
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 1024;
		struct sim_timer **nh = realloc(l->heap, nc * sizeof(*nh));
		if (!nh)
			return -1;
		l->heap = nh;
		l->cap = nc;
	}
	t->when_ms = l->now + delay_ms;
	place(l, l->n++, t);
	sift_up(l, l->n - 1);
	return 0;
}

int sim_loop_run_once(struct sim_loop *l, int max_wait_ms)
{
	struct epoll_event evs[MAX_EVENTS];
	int wait = max_wait_ms;
	if (l->n) {
		uint64_t due = l->heap[0]->when_ms;
		uint64_t d = due > l->now ? due - l->now : 0;
		if (d < (uint64_t)wait)
			wait = (int)d;
	}
	int n = epoll_wait(l->epfd, evs, MAX_EVENTS, wait);
	if (n < 0 && errno != EINTR)
		return -1;
	l->now = mono_ms();
	for (int i = 0; i < n; i++)
		l->io(evs[i].data.ptr, evs[i].events);
	/* fire due timers; a callback may re-arm its own timer for later */
	size_t budget = l->n + 16;
	while (l->n && l->heap[0]->when_ms <= l->now && budget--) {
		struct sim_timer *t = l->heap[0];
		sim_timer_cancel(l, t);
		t->cb(t);
	}
	return 0;
}
