/*
 * store_wop.h — internal to the store writer: one queued write operation
 * ("wop") and, per kind, the set-based SQL statement that writes any number
 * of them at once. Not part of the store's public API.
 */
#ifndef USPC_STORE_WOP_H
#define USPC_STORE_WOP_H

#include <stddef.h>
#include <stdint.h>

#include "store_sql.h"

enum wop_kind {
	WOP_AGENT,
	WOP_DEVINFO,
	WOP_SUB,
	WOP_SNAPSHOT,
	WOP_SNAPDEL,
	WOP_NOTIF,
	WOP_OPER,
	WOP_TASK,
	WOP_REJECT,
	WOP_KIND_COUNT
};

extern const char *const wop_kind_names[WOP_KIND_COUNT];

#define WOP_DEV_FIELDS 7

struct wop {
	struct wop *next;
	enum wop_kind kind;
	int64_t enq_ns; /* CLOCK_MONOTONIC at submit */
	int64_t at_us;
	size_t bytes;
	const char *eid;
	union {
		struct {
			int online, mqtt, new_session;
			const char *topic, *usp;
		} agent;
		struct {
			const char *f[WOP_DEV_FIELDS];
			int onboarded;
		} dev;
		struct {
			size_t n;
			const char **path, **value;
		} snap;
		struct {
			const char *pattern;
		} del;
		struct {
			const char *msg_id, *sub_id, *kind, *path, *payload;
		} notif;
		struct {
			int64_t id;
			int failed, unknown;
			uint32_t code;
			const char *msg_id, *result, *msg;
		} task;
		struct {
			const char *key, *obj, *cmd, *state, *output, *msg;
			uint32_t code;
		} oper;
		struct {
			const char *sub_id, *type, *refs, *inst;
			int enabled, removed;
		} sub;
		struct {
			const char *reason, *topic, *detail; /* eid: the sender */
			int64_t count, first_us;             /* at_us: the last */
			int max_rows, retention_s;
		} rej;
	} u;
};

/* Column buffers a statement may need. */
#define WOP_MAX_COLS 10

struct wop_sql {
	const char *sql; /* parameters $1..$cols are text arrays, one element per row */
	int cols;        /* 0: the kind runs one statement per op (wop_snapdel_sql) */
};
extern const struct wop_sql wop_sql[WOP_KIND_COUNT];

/* Before wop_sql[WOP_AGENT]: insert the agents not yet known. $1 and $2 are
 * that statement's $1 (eids) and $6 (µs) arrays. */
extern const char *const wop_agent_insert_sql;

/* DELETE for one snapshot prefix op: $1 eid, $2 LIKE pattern, $3 µs. */
extern const char *const wop_snapdel_sql;

/* After the agent and device-info statements of a batch, in the same
 * transaction: unpark the queued tasks of $1 (text array of eids), agents
 * that came online or finished onboarding (see sql/tasks_claim.sql for why
 * this order makes parking safe). */
extern const char *const wop_unpark_sql;
extern const char *const wop_unpark_campaigns_sql;
extern const char *const wop_profile_kick_sql; /* onboarded agents → profile_kicks */
/* After wop_sql[WOP_REJECT]: cut the rejections table to $1 rows and
 * drop those older than $2 s (NULL: no age limit). */
extern const char *const wop_reject_prune_sql;

/* Append op's row(s) to the column buffers c[0..cols); returns rows added.
 * Not for WOP_SNAPSHOT, whose ops are merged: wop_fill_snapshot. */
size_t wop_fill_row(struct store_buf *c, const struct wop *op);

/* Append the snapshot ops[0..n) as one row per (eid, object): c[0] eid,
 * c[1] object path, c[2] a JSON document {"Name": "value"} holding the
 * newest report of each parameter (the later op wins), c[3] the newest µs.
 * doc is scratch space. Returns the parameters merged; *failed = 1 when
 * out of memory or a buffer passed its cap. */
size_t wop_fill_snapshot(struct store_buf *c, struct store_buf *doc, struct wop *const *ops,
			 size_t n, int *failed);

#endif
