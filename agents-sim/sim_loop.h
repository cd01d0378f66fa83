/*
 * sim_loop.h — a worker's event loop: one epoll set for the agents' MQTT
 * sockets and a heap of intrusive one-shot timers. Single-threaded: only
 * the worker process that created it touches it.
 */
#ifndef USPC_SIM_LOOP_H
#define USPC_SIM_LOOP_H

#include <stddef.h>
#include <stdint.h>

struct sim_loop;

/* Embedded in its owner; the owner finds itself back with container_of. */
struct sim_timer {
	uint64_t when_ms;
	size_t heap_idx; /* SIZE_MAX while not armed */
	void (*cb)(struct sim_timer *t);
};

/* Called for each ready fd with the pointer given at add time. */
typedef void (*sim_io_fn)(void *ptr, uint32_t events);

struct sim_loop *sim_loop_new(sim_io_fn io);
void sim_loop_free(struct sim_loop *l);

/* Monotonic milliseconds, cached per iteration. */
uint64_t sim_loop_now(const struct sim_loop *l);
void sim_loop_update_now(struct sim_loop *l);

int sim_loop_add(struct sim_loop *l, int fd, uint32_t events, void *ptr);
int sim_loop_mod(struct sim_loop *l, int fd, uint32_t events, void *ptr);
int sim_loop_del(struct sim_loop *l, int fd);

void sim_timer_init(struct sim_timer *t, void (*cb)(struct sim_timer *t));
/* (Re)arm to fire delay_ms from now. Returns 0 or -1 (no memory). */
int sim_timer_arm(struct sim_loop *l, struct sim_timer *t, uint64_t delay_ms);
void sim_timer_cancel(struct sim_loop *l, struct sim_timer *t);
int sim_timer_armed(const struct sim_timer *t);

/* Wait for I/O at most max_wait_ms (less if a timer is due), dispatch I/O,
 * then fire due timers. Returns 0, or -1 if epoll_wait failed (not EINTR). */
int sim_loop_run_once(struct sim_loop *l, int max_wait_ms);

#define sim_container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#endif
