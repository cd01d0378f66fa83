/*
 * store_writer.h — the batched writer: one thread with its own PostgreSQL
 * connection that persists what the core submits (inventory, snapshot,
 * notifications, task results, operation results, subscriptions, counts
 * of rejected records).
 *
 * Threads: store_writer_submit_*() and store_writer_stats() may be called
 * from any thread (normally the core thread); they never block on
 * PostgreSQL. start/stop/free belong to the thread that owns the writer.
 *
 * Guarantees:
 *  - Every submit copies its input (all pointers are borrowed) and either
 *    queues the op (0) or refuses it: STORE_E_FULL when the bounded queue is
 *    full (back-pressure: keep the op and submit it again later, e.g. on the
 *    next timer tick), STORE_E_ARG when it is invalid (caps, required
 *    fields), STORE_E_STOPPED after stop began. Nothing queued is dropped
 *    silently.
 *  - The thread drains up to batch_max ops and writes them in ONE
 *    transaction with set-based upserts (unnest of array parameters ... ON
 *    CONFLICT). Every op is idempotent (but store_writer_rejection's
 *    counts), so a batch whose commit fate is unknown is simply written
 *    again.
 *  - When PostgreSQL goes away, or fails for any reason that is not a
 *    property of the data (store_err_is_transient: read-only after a
 *    failover, statement timeout, serialization failure, deadlock, out of
 *    resources, shutdown, I/O error, lock not available), the batch is kept
 *    whole and written again with exponential back-off (with jitter); after
 *    a read-only, shutdown or I/O error the connection is replaced too
 *    (store_err_needs_reconnect). Queued ops wait.
 *  - Only when PostgreSQL rejects a batch for its content is it written
 *    again op by op; the op PostgreSQL refuses on its own (e.g. a value that
 *    is not valid JSON) is logged with its kind, agent and SQLSTATE and
 *    counted in ops_rejected; the rest of its batch is written.
 *  - Finished task ids are announced with NOTIFY uspc_task_done (payload:
 *    comma-separated ids, chunked under 8000 bytes) in the same transaction.
 *    A batch that marks an agent onboarded or online also sends NOTIFY
 *    uspc_task_new, so every feeder claims that agent's queued tasks as soon
 *    as the mark is committed (no need to wait for the next poll).
 *  - Task results only land on tasks in state 'sent' claimed by this
 *    node_id, so a task ends exactly once; a result that finds the task
 *    re-queued or finished elsewhere is counted in task_results_stale.
 *  - No callbacks: the core never waits for the writer.
 *
 * Strings from agents that are not valid UTF-8 are stored with each bad
 * byte replaced by '?'.
 */
#ifndef USPC_STORE_WRITER_H
#define USPC_STORE_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "store_conn.h"

/* The writer thread's name (top -H, ps -L, the bench harness). */
#define STORE_WRITER_THREAD_NAME "uspc-writer"

struct store_writer;

struct store_writer_opts {
	struct store_conn_opts conn; /* copied at start */
	const char *node_id;         /* required: this daemon's task-lease name */
	size_t queue_max_ops;        /* 0 → 65536 queued ops */
	size_t queue_max_bytes;      /* 0 → 256 MiB of queued op data */
	size_t batch_max_ops;        /* 0 → 1000 ops per transaction */
	int retry_min_ms;            /* 0 → 100: first reconnect delay */
	int retry_max_ms;            /* 0 → 5000: back-off cap */
	/* Set it as the task feeders' require_onboarded is set. 1: an agent
	 * that comes online is not ready until it has onboarded again, so only
	 * its onboarding unparks its queued tasks (unparking them at online
	 * would only have the next claim park them again). 0: coming online
	 * unparks them too. */
	int tasks_require_onboarded;
	/* > 0: the writer's connection runs with this statement_timeout (ms);
	 * 0: conn.statement_timeout_ms (0 there too: none). A batch that hits
	 * it is rolled back and written again whole (SQLSTATE 57014 is
	 * transient). The daemon uses 60000. */
	int statement_timeout_ms;
};

/*
 * Start the thread. The first connection is made by the thread itself, so
 * start succeeds even while PostgreSQL is down (ops queue until it is back).
 * Run store_schema_migrate() before starting (the writer does not migrate).
 */
int store_writer_start(const struct store_writer_opts *o, struct store_writer **out,
		       struct uspc_err *err);

/*
 * The kinds of op, for loss reports: 0 agent_state, 1 device_info,
 * 2 subscription, 3 snapshot, 4 snapshot_delete, 5 notification,
 * 6 oper_result, 7 task_result, 8 rejection (store_writer_kind_name).
 */
#define STORE_WRITER_KINDS 9
/* snake_case name of kind ("notification", ...); "?" when out of range. */
const char *store_writer_kind_name(unsigned kind);

/*
 * Stop accepting ops, let the thread write what is queued for at most
 * drain_ms, then join and free. Ops still unwritten after drain_ms (the
 * database stayed down) are abandoned, and logged as an error with their
 * count per kind. Returns the number of ops abandoned (0 on a clean
 * drain); lost_by_kind (may be NULL) gets that count per kind (indexes as
 * above). NULL w is a no-op (returns 0, zeroes lost_by_kind).
 */
size_t store_writer_stop_report(struct store_writer *w, int drain_ms,
				uint64_t lost_by_kind[STORE_WRITER_KINDS]);
/* store_writer_stop_report(w, drain_ms, NULL). */
size_t store_writer_stop(struct store_writer *w, int drain_ms);

/*
 * Commit sequence. Every op the writer accepts (a submit that returned 0)
 * gets the next sequence number, 1, 2, 3 ...
 *  - store_writer_submitted(): the number of ops accepted so far, i.e. the
 *    sequence number of the op the calling thread just submitted (when it
 *    is the only submitter, as the core is).
 *  - store_writer_durable(): every op with sequence <= this is finished
 *    for good: committed, or rejected by PostgreSQL for its content
 *    (ops_rejected; retrying it could never succeed). It only grows, never
 *    passes an op that is not committed, and advances in submission order;
 *    ops abandoned at stop never count (nor does anything after them).
 *  - store_writer_commit_fd(): an eventfd (non-blocking, close-on-exec)
 *    made readable whenever durable advances; drain it with
 *    read(fd, &u64, 8) and then read store_writer_durable(). Owned by the
 *    writer: valid until store_writer_stop*().
 * Any thread.
 */
uint64_t store_writer_submitted(struct store_writer *w);
uint64_t store_writer_durable(struct store_writer *w);
int store_writer_commit_fd(const struct store_writer *w);

/* Wait (up to timeout_ms) until every op submitted before this call is
 * committed. 0, or STORE_E_TIMEOUT. Any thread except the writer's. */
int store_writer_flush(struct store_writer *w, int timeout_ms);

/* ---- ops ---------------------------------------------------------------- */

/* Agent seen online / gone offline. Inserts the agent if unknown. */
struct store_agent_state {
	const char *eid;          /* required */
	int online;               /* 1 online, 0 offline */
	const char *reply_topic;  /* NULL: keep the stored one */
	int mqtt_version;         /* 5, 4 (3.1.1), 0: keep the stored one */
	const char *usp_versions; /* e.g. "1.3,1.4"; NULL: keep */
	int64_t at_us;            /* event time, epoch µs; 0 → now */
	/* online: the agent's connect record, a new MQTT session: its online
	 * run starts at at_us even while the stored row still says online
	 * (the offline that ended the previous session may have been seen by
	 * another daemon, and be stored after this, as an older state) */
	int new_session;
};
int store_writer_agent_state(struct store_writer *w, const struct store_agent_state *a,
			     struct uspc_err *err);

/* DeviceInfo fields (NULL = keep the stored value) and onboarding mark.
 * Inserts the agent if unknown (offline). */
struct store_device_info {
	const char *eid; /* required */
	const char *manufacturer;
	const char *model_name;
	const char *serial_number;
	const char *software_version;
	const char *hardware_version;
	const char *oui;
	const char *product_class;
	int onboarded; /* 1: set onboarded_at to at_us (tasks may now be claimed) */
	int64_t at_us; /* 0 → now */
};
int store_writer_device_info(struct store_writer *w, const struct store_device_info *d,
			     struct uspc_err *err);

/* Data-model snapshot: current value per (agent, parameter path), stored
 * per object (table snapshot_objects, view snapshot). Within a batch the
 * later call wins; across batches a report older than its stored object
 * (at_us) only adds the parameters the object lacks. A report of values the
 * object already holds leaves the row alone. */
struct store_snapshot_row {
	const char *path;  /* required, full parameter path */
	const char *value; /* required ("" is a value) */
};
#define STORE_SNAPSHOT_MAX_ROWS 100000 /* rows in one call */
int store_writer_snapshot(struct store_writer *w, const char *eid,
			  const struct store_snapshot_row *rows, size_t n, int64_t at_us,
			  struct uspc_err *err);
/* Delete every snapshot object of eid at or under an object path
 * (ObjectDeletion, Delete results) not newer than now. prefix must end
 * with '.'. */
int store_writer_snapshot_delete_prefix(struct store_writer *w, const char *eid, const char *prefix,
					struct uspc_err *err);

/* Notification log (append-only). Stored once per (eid, msg_id): a retried
 * Notify with the same msg_id is ignored. */
struct store_notification {
	const char *eid;             /* required */
	const char *msg_id;          /* required */
	const char *subscription_id; /* NULL or "" for OnBoardRequest */
	const char *kind;            /* required: "event", "value_change",
				      * "obj_creation", "obj_deletion",
				      * "oper_complete", "on_board_req" */
	const char *path;            /* event: obj_path+event_name ("Device.Boot!");
				      * value_change: param_path; obj_*: obj_path;
				      * oper_complete: obj_path+command_name */
	const char *payload_json;    /* the Notify as JSON text (usp_json); NULL → {} */
	int64_t received_at_us;      /* 0 → now */
};
int store_writer_notification(struct store_writer *w, const struct store_notification *n,
			      struct uspc_err *err);

/* Final state of a task this node claimed. */
struct store_task_result {
	int64_t task_id; /* required */
	int failed;      /* 0 → state 'done', 1 → 'failed' */
	/* 1 → state 'unknown' (whatever failed says): the request may have run
	 * on the agent but its outcome was lost (e.g. a non-idempotent request
	 * outstanding when the agent's MQTT session was lost), so it is not
	 * sent again. error_message should start "outcome unknown: " and say
	 * why. */
	int unknown;
	const char *msg_id;      /* msg_id used on the wire (NULL if never sent) */
	const char *result_json; /* response as JSON text; NULL → NULL */
	uint32_t error_code;     /* USP error code (7xxx) or 0 */
	const char *error_message;
	int64_t at_us; /* 0 → now */
};
int store_writer_task_result(struct store_writer *w, const struct store_task_result *r,
			     struct uspc_err *err);

/* Asynchronous command state keyed by (eid, command_key, obj_path,
 * command_name): "requested" when OperateResp named a request object,
 * "complete" / "failed" from Notify.OperationComplete. */
struct store_oper_result {
	const char *eid;          /* required */
	const char *command_key;  /* required ("" allowed) */
	const char *obj_path;     /* required */
	const char *command_name; /* required, e.g. "IPPing()" */
	const char *state;        /* required: "requested", "complete", "failed" */
	const char *output_json;  /* output args object; NULL → NULL */
	uint32_t err_code;
	const char *err_msg;
	int64_t at_us; /* 0 → now */
};
int store_writer_oper_result(struct store_writer *w, const struct store_oper_result *r,
			     struct uspc_err *err);

/* A subscription row the controller knows exists on the agent (upsert by
 * (eid, sub_id)); removed = 1 deletes it. */
struct store_subscription {
	const char *eid;            /* required */
	const char *sub_id;         /* required: Subscription.ID */
	const char *notif_type;     /* "Event", "ValueChange", ... */
	const char *reference_list; /* comma-separated, as on the agent */
	const char *instance_path;  /* "Device.LocalAgent.Subscription.3." or NULL */
	int enabled;
	int removed;
};
int store_writer_subscription(struct store_writer *w, const struct store_subscription *s,
			      struct uspc_err *err);

/* Rejected records of one (sender, reason), as counted by the core since
 * its last flush: added to the row of table rejections (count adds up,
 * first_at / last_at widen, topic, detail and node_id follow the newest).
 * The writer then cuts the table to max_rows rows (the newest by last_at)
 * and drops rows older than retention_s (0: no age limit); the newest
 * op's values of a batch apply. Not idempotent, unlike the other ops: a
 * batch written again after a commit of unknown fate counts its
 * rejections twice. The caller cleans the peer's text (core_rej_clean). */
struct store_rejection {
	const char *sender;        /* required, 1..STORE_EID_MAX bytes */
	const char *reason;        /* required, up to STORE_NAME_MAX bytes */
	const char *topic;         /* NULL: keep the stored one */
	const char *detail;        /* NULL: keep the stored one */
	int64_t count;             /* >= 1 */
	int64_t first_us, last_us; /* epoch µs; 0 → now */
	int max_rows;              /* >= 1 */
	int retention_s;           /* >= 0 */
};
int store_writer_rejection(struct store_writer *w, const struct store_rejection *r,
			   struct uspc_err *err);

/* ---- stats -------------------------------------------------------------- */

struct store_writer_stats {
	size_t queue_ops; /* ops waiting (not yet taken into a batch) */
	size_t queue_bytes;
	size_t batch_ops; /* ops in the batch being written */
	uint64_t ops_submitted;
	uint64_t ops_written;        /* committed */
	uint64_t ops_rejected;       /* refused by PostgreSQL on their own (logged) */
	uint64_t rows_written;       /* snapshot/notification/... rows in committed ops */
	uint64_t batches;            /* committed transactions */
	uint64_t full;               /* submits refused with STORE_E_FULL */
	uint64_t reconnects;         /* successful reconnects after a loss */
	uint64_t retries;            /* batches written again after a transient failure */
	uint64_t task_results_stale; /* task results that found the task not ours/sent */
	int64_t lag_ms;              /* age of the oldest op not yet committed; 0 if none */
	int connected;               /* 1 while the writer holds a working connection */
};
void store_writer_stats(struct store_writer *w, struct store_writer_stats *out);

#endif
