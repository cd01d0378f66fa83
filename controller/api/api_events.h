/*
 * api_events.h — the live side of uspc-api: one thread ("uspc-api-events")
 * that turns what the store announces into Server-Sent Events for every
 * open GET /api/v1/events, wakes requests waiting for a task, and
 * refreshes the fleet gauges of /metrics.
 *
 * Sources: LISTEN uspc_task_done (task ids, read back with task_status),
 * the notifications table read by id every second, campaign_list every
 * 2 s (only what changed is sent), fleet_summary every 15 s — all through
 * the uspctl engine (api_engine.h), so an event carries the same object
 * the matching list route returns. Each client has its own bounded queue
 * (API_EVENTS_QUEUE events, API_EVENTS_QUEUE_BYTES bytes): a slow reader
 * loses its oldest events and is told so ("lagged"); it never holds up
 * the thread or the other clients.
 */
#ifndef USPC_API_EVENTS_H
#define USPC_API_EVENTS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "store_pool.h"

#define API_EVENTS_QUEUE 1000
#define API_EVENTS_QUEUE_BYTES (1024 * 1024)
#define API_EVENTS_KEEPALIVE_S 15

enum {
	API_EV_TASK = 1,
	API_EV_NOTIFICATION = 2,
	API_EV_CAMPAIGN = 4,
	API_EV_ALL = 7,
};

struct api_events;
struct api_sub;

/* Start the thread (conninfo: its own LISTEN connection; queries go
 * through pool). NULL when the thread cannot start. */
struct api_events *api_events_start(const char *conninfo, struct store_pool *pool, int max_clients);
/* End every stream (their next read returns -1), wake every waiter, stop
 * the thread. Then stop the HTTP server (which frees the clients), then
 * api_events_free. */
void api_events_stop(struct api_events *h);
void api_events_free(struct api_events *h);

/* "task,notification" → mask; -1 for an unknown name. "" or NULL: all. */
int api_events_types(const char *list);

/* A new client: NULL when max_clients are open already or stopping. agent
 * NULL: every agent's events. */
struct api_sub *api_events_subscribe(struct api_events *h, int types, const char *agent);
/*
 * The client's next bytes of stream text, at most max, waiting up to the
 * keep-alive interval for an event (then a comment line). Returns the
 * number of bytes, or -1 when the stream ends (uspc-api is stopping).
 */
ssize_t api_sub_read(struct api_sub *s, char *buf, size_t max);
void api_sub_free(struct api_sub *s);

/* 1 once api_events_stop began. */
int api_events_stopping(struct api_events *h);
/* CLOCK_MONOTONIC ms of the thread's last turn (the watchdog's proof of
 * life: it turns at least every second while the database answers). */
int64_t api_events_alive_ms(struct api_events *h);

/* Task waiters: a number that changes whenever tasks have finished, and a
 * wait (up to ms) for it to differ from gen. */
uint64_t api_events_task_gen(struct api_events *h);
void api_events_wait_tasks(struct api_events *h, uint64_t gen, int ms);

#endif
