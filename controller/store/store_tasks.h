/*
 * store_tasks.h — the task feeder: one thread with its own PostgreSQL
 * connection that claims queued tasks for this daemon and hands them to the
 * core thread through a bounded queue and an eventfd.
 *
 * The thread LISTENs on uspc_task_new and also polls every poll_ms (safety
 * net). A claim is one statement: tasks in state 'queued' whose not_before
 * has passed, not expired, for agents that are online (and, with
 * require_onboarded, onboarded since they last came online), oldest first,
 * locked with FOR UPDATE SKIP LOCKED so several daemons never claim the same
 * row; they become state='sent', claimed_by=node_id, attempts+1. Queued
 * tasks the claim finds for agents that are not ready are parked (still
 * 'queued'; no claim walks them again) until the store writer records
 * their agent online or onboarded and unparks them (schema version 3); a
 * sweep every 30 polls unparks any whose agent is ready anyway.
 *
 * Leases: the thread upserts this node's heartbeat in `daemons` every
 * heartbeat_ms. Any feeder takes back 'sent' tasks whose daemon's heartbeat
 * is older than lease_ms (or that has no row) — never its own node's, since
 * it is alive — and at start a feeder takes back the 'sent' tasks of its
 * own node_id (it crashed before finishing them). Such a task may or may
 * not have reached its agent. An idempotent one (STORE_TASK_IDEMPOTENT_OPS)
 * is re-queued, or ends 'failed' once attempted max_attempts times; any
 * other ends 'unknown' (error_message "outcome unknown: ...", finished_at
 * set): a Set, Add, Delete or Operate is never sent twice by the store.
 * Queued tasks past expires_at end 'expired'. Every task that ends is
 * announced with NOTIFY uspc_task_done. A task stays with its daemon only
 * while that daemon's feeder heartbeats; a result arriving after the task
 * was taken back is ignored as stale (store_writer_task_result), so the
 * task's end state is written exactly once.
 *
 * Throttle: the feeder claims only while (tasks the core holds, as reported
 * by store_tasks_set_in_flight) + (tasks waiting in the hand-off queue) <
 * max_in_flight.
 *
 * Threads: store_tasks_fd/next/set_in_flight/kick/stats may be called from
 * the core thread (next() from one thread only); start/stop from the owner.
 */
#ifndef USPC_STORE_TASKS_H
#define USPC_STORE_TASKS_H

#include <stddef.h>
#include <stdint.h>

#include "store_conn.h"

struct store_tasks;

#define STORE_TASKS_MAX_IN_FLIGHT 1000000 /* largest max_in_flight accepted */
/* The feeder thread's name (top -H, ps -L, the bench harness). */
#define STORE_TASKS_THREAD_NAME "uspc-feeder"

/* tasks.op values of requests that are safe to send twice (they change
 * nothing on the agent): a lost task of these is re-queued; any other op
 * (set, add, delete, operate) that may have reached the agent ends
 * 'unknown' instead. One list for C and SQL. */
#define STORE_TASK_IDEMPOTENT_OPS \
	"get", "get_instances", "get_supported_dm", "get_supported_protocol", "get_attributes"
#define STORE_TASK_IDEMPOTENT_OPS_SQL \
	"'get', 'get_instances', 'get_supported_dm', 'get_supported_protocol', 'get_attributes'"
/* 1 if op (a tasks.op value) is in STORE_TASK_IDEMPOTENT_OPS. */
int store_task_op_idempotent(const char *op);

/* A claimed task, owned by the caller of store_tasks_next (store_task_free). */
struct store_task {
	int64_t id;
	char *eid;
	char *op;              /* USP request type name: "get", "set", "operate", ... */
	char *request_json;    /* the request's fields object (docs/json.md) */
	char *batch_id;        /* NULL when the task has none */
	int attempts;          /* including this one */
	int64_t expires_at_us; /* 0 when the task never expires */
	/* The agent's reply topic and MQTT version from the inventory (agents
	 * row) at claim time, so a daemon that never saw the agent's connect
	 * record (shared subscription) can still reach it. NULL / 0 if unknown.
	 * (Added for the core.) */
	char *reply_topic;
	int mqtt_version; /* 5, 4 (3.1.1) or 0 */
};
void store_task_free(struct store_task *t);

struct store_tasks_opts {
	struct store_conn_opts conn; /* copied at start */
	const char *node_id;         /* required; same as the writer's */
	int max_in_flight;           /* 0 → 1000 tasks held by the core + queued */
	int claim_batch;             /* 0 → 200 tasks per claim statement */
	int poll_ms;                 /* 0 → 2000: claim/expire/lease poll */
	int heartbeat_ms;            /* 0 → 5000 */
	int lease_ms;                /* 0 → 15000: heartbeat age that frees a daemon's tasks */
	int max_attempts;            /* 0 → 3: claims before a lost task fails */
	int require_onboarded;       /* 1: claim only for agents onboarded since online */
	int profile_gate;            /* 1: and, but for the profile engine's, since provisioned */
	int retry_max_ms;            /* 0 → 5000: reconnect back-off cap */
	/* > 0: the feeder's connection runs with this statement_timeout (ms);
	 * 0: conn.statement_timeout_ms (0 there too: none). */
	int statement_timeout_ms;
	/* 1: claim nothing; heartbeat, take back lost tasks and expire queued
	 * ones only. uspc-acs runs its feeder so: it claims a device's tasks
	 * itself, inside that device's session, and needs the lease so that
	 * its 'sent' tasks stay its own while it lives. */
	int claim_none;
};

/*
 * Start the feeder. It first takes this node_id's lock: a session-level
 * PostgreSQL advisory lock held by the feeder's connection for as long as
 * it lives. When another live session holds it (another daemon runs with
 * this node_id) start fails with STORE_E_BUSY and err names the holder
 * (pid, application_name, client address, connection time from
 * pg_stat_activity). While the database is unreachable start still
 * succeeds, and the thread takes the lock when it connects. After every
 * reconnect the thread takes the lock again before it touches a task;
 * while another session holds it, it claims nothing, sends no heartbeat and
 * logs an error (an earlier session of its own that the server has not
 * yet seen die, e.g. after a partition, is terminated and the lock taken
 * over). Returns 0, STORE_E_BUSY, STORE_E_ARG, STORE_E_NOMEM, or
 * STORE_E_DB when the lock statement itself failed.
 */
int store_tasks_start(const struct store_tasks_opts *o, struct store_tasks **out,
		      struct uspc_err *err);

/* Stop and join; tasks still in the hand-off queue and ids passed to
 * store_tasks_release() are released back to 'queued' (best effort, one
 * statement; the lease covers a failure) and freed. NULL is a no-op. */
void store_tasks_stop(struct store_tasks *f);

/* eventfd, readable when tasks are waiting (poll/epoll for EPOLLIN). */
int store_tasks_fd(const struct store_tasks *f);

/* Take the next claimed task: 0 and *out (the caller's), or STORE_E_NOTFOUND
 * when the queue is empty (the eventfd is then reset). A task taken counts
 * as in flight at once (no over-claim between next() and the core's next
 * store_tasks_set_in_flight()). */
int store_tasks_next(struct store_tasks *f, struct store_task **out);

/* The core reports how many claimed tasks it still holds (not yet given to
 * the writer as results); this replaces the count next() keeps. */
void store_tasks_set_in_flight(struct store_tasks *f, int n);

/* Change max_in_flight while running (e.g. on SIGHUP); n in
 * 1..STORE_TASKS_MAX_IN_FLIGHT. Lowering it only stops further claims.
 * 0, STORE_E_ARG, or STORE_E_NOMEM (the old limit stays). Core thread. (Added
 * for the core.) */
int store_tasks_set_max_in_flight(struct store_tasks *f, int n);

/* Claim nothing more from now on (a claim statement already running still
 * hands its tasks over); for a stop that first gives tasks back, so they
 * are not claimed again in between. Any thread. (Added for the core.) */
void store_tasks_pause(struct store_tasks *f);

/* Give back tasks taken with store_tasks_next() that were never sent to
 * their agent (e.g. still waiting for a per-agent slot at stop): the feeder
 * thread puts them back to 'queued' (claimed_by NULL, attempts - 1) in one
 * statement, soon or at the latest in store_tasks_stop(); unless the feeder
 * is paused, they may then be claimed again. Only tasks still
 * 'sent' by this node are touched. The ids are copied; the caller still
 * frees its store_task structs and lowers its in-flight count. 0,
 * STORE_E_ARG, or STORE_E_NOMEM (then the lease re-queues them). A failed
 * statement is logged and left to the lease. Any thread. (Added for the
 * core.) */
int store_tasks_release(struct store_tasks *f, const int64_t *ids, size_t n);

/* Claim now instead of at the next poll (e.g. an agent just finished
 * onboarding). Cheap; any thread. */
void store_tasks_kick(struct store_tasks *f);

struct store_tasks_stats {
	size_t queued;         /* claimed, waiting for the core */
	uint64_t claimed;      /* tasks claimed by this feeder */
	uint64_t claims;       /* claim statements that returned rows */
	uint64_t parked;       /* queued tasks parked: their agent was not ready */
	uint64_t swept;        /* parked tasks of ready agents the sweep unparked */
	uint64_t requeued;     /* lost tasks put back to 'queued' (any daemon's) */
	uint64_t released;     /* unsent tasks given back (store_tasks_release, stop) */
	uint64_t lost_failed;  /* lost tasks failed after max_attempts */
	uint64_t lost_unknown; /* lost non-idempotent tasks ended 'unknown' */
	uint64_t expired;      /* queued tasks marked 'expired' */
	uint64_t notifies;     /* uspc_task_new notifications received */
	uint64_t reconnects;
	int connected;
};
void store_tasks_stats(struct store_tasks *f, struct store_tasks_stats *out);

#endif
