/*
 * store_wop.c — how each kind of writer op becomes rows of one set-based
 * statement: the SQL per kind (unnest of array parameters, merged per key,
 * INSERT ... ON CONFLICT) and the code that turns an op into array
 * elements. Pure data and text building; called on the writer thread only.
 * Invariant: every statement is idempotent (replaying a batch whose commit
 * fate is unknown changes nothing), and keeps the newest event per key;
 * the one exception is wop_reject.sql, whose counts add up (a diagnostic:
 * a replay counts twice).
 * The statements are sql/wop_*.sql, embedded at build time (store_stmt.h).
 * In them, ('epoch'::timestamptz + (us) * interval '1 microsecond') turns
 * µs since the epoch into a timestamptz exactly, and (array_agg(c ORDER BY
 * ord DESC) FILTER (WHERE c IS NOT NULL))[1] is the newest non-NULL value of
 * column c among the grouped ops.
 */
#include "store_wop.h"
#include "store_stmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const wop_kind_names[WOP_KIND_COUNT] = {
	"agent_state",  "device_info", "subscription", "snapshot",  "snapshot_delete",
	"notification", "oper_result", "task_result",  "rejection",
};

const char *const wop_agent_insert_sql = store_stmt_wop_agent_insert;
const char *const wop_snapdel_sql = store_stmt_wop_snapdel;
const char *const wop_unpark_sql = store_stmt_wop_unpark;
const char *const wop_unpark_campaigns_sql = store_stmt_wop_unpark_campaigns;
const char *const wop_profile_kick_sql = store_stmt_wop_profile_kick;
const char *const wop_reject_prune_sql = store_stmt_wop_reject_prune;

static void col_bool(struct store_buf *b, int v)
{
	store_arr_add(b, v ? "t" : "f");
}

static void col_code(struct store_buf *b, uint32_t code)
{
	if (code)
		store_arr_add_i64(b, (int64_t)code);
	else
		store_arr_add(b, NULL);
}

/* Append op's row(s) to the column buffers; returns rows added. */
size_t wop_fill_row(struct store_buf *c, const struct wop *op)
{
	switch (op->kind) {
	case WOP_AGENT:
		store_arr_add(&c[0], op->eid);
		col_bool(&c[1], op->u.agent.online);
		store_arr_add(&c[2], op->u.agent.topic);
		if (op->u.agent.mqtt > 0)
			store_arr_add_i64(&c[3], op->u.agent.mqtt);
		else
			store_arr_add(&c[3], NULL);
		store_arr_add(&c[4], op->u.agent.usp);
		store_arr_add_i64(&c[5], op->at_us);
		col_bool(&c[6], op->u.agent.new_session);
		return 1;
	case WOP_DEVINFO:
		store_arr_add(&c[0], op->eid);
		for (int i = 0; i < WOP_DEV_FIELDS; i++)
			store_arr_add(&c[1 + i], op->u.dev.f[i]);
		col_bool(&c[8], op->u.dev.onboarded);
		store_arr_add_i64(&c[9], op->at_us);
		return 1;
	case WOP_SUB:
		store_arr_add(&c[0], op->eid);
		store_arr_add(&c[1], op->u.sub.sub_id);
		store_arr_add(&c[2], op->u.sub.type);
		store_arr_add(&c[3], op->u.sub.refs);
		store_arr_add(&c[4], op->u.sub.inst);
		col_bool(&c[5], op->u.sub.enabled);
		col_bool(&c[6], op->u.sub.removed);
		return 1;
	case WOP_NOTIF:
		store_arr_add(&c[0], op->eid);
		store_arr_add(&c[1], op->u.notif.msg_id);
		store_arr_add(&c[2], op->u.notif.sub_id);
		store_arr_add(&c[3], op->u.notif.kind);
		store_arr_add(&c[4], op->u.notif.path);
		store_arr_add(&c[5], op->u.notif.payload ? op->u.notif.payload : "{}");
		store_arr_add_i64(&c[6], op->at_us);
		col_bool(&c[7], op->u.task.unknown);
		return 1;
	case WOP_OPER:
		store_arr_add(&c[0], op->eid);
		store_arr_add(&c[1], op->u.oper.key);
		store_arr_add(&c[2], op->u.oper.obj);
		store_arr_add(&c[3], op->u.oper.cmd);
		store_arr_add(&c[4], op->u.oper.state);
		store_arr_add(&c[5], op->u.oper.output);
		col_code(&c[6], op->u.oper.code);
		store_arr_add(&c[7], op->u.oper.msg);
		store_arr_add_i64(&c[8], op->at_us);
		return 1;
	case WOP_TASK:
		store_arr_add_i64(&c[0], op->u.task.id);
		col_bool(&c[1], op->u.task.failed);
		store_arr_add(&c[2], op->u.task.msg_id);
		store_arr_add(&c[3], op->u.task.result);
		col_code(&c[4], op->u.task.code);
		store_arr_add(&c[5], op->u.task.msg);
		store_arr_add_i64(&c[6], op->at_us);
		col_bool(&c[7], op->u.task.unknown);
		return 1;
	case WOP_REJECT:
		store_arr_add(&c[0], op->eid);
		store_arr_add(&c[1], op->u.rej.reason);
		store_arr_add(&c[2], op->u.rej.topic);
		store_arr_add(&c[3], op->u.rej.detail);
		store_arr_add_i64(&c[4], op->u.rej.count);
		store_arr_add_i64(&c[5], op->u.rej.first_us);
		store_arr_add_i64(&c[6], op->at_us);
		return 1;
	default:
		return 0;
	}
}

/* ---- snapshot: one JSON document per object ------------------------------ */

struct snap_item {
	const char *eid, *path, *value;
	size_t obj_len; /* bytes of path up to and including its last '.' */
	size_t ord;     /* the op's place in the batch */
	int64_t us;
};

static size_t obj_len(const char *path)
{
	const char *dot = strrchr(path, '.');
	return dot ? (size_t)(dot - path) + 1 : 0;
}

/* Byte order, as the "C" collation of the key columns. */
static int cmp_bytes(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);
	return c ? c : (an > bn) - (an < bn);
}

static int same_object(const struct snap_item *a, const struct snap_item *b)
{
	return !strcmp(a->eid, b->eid) && !cmp_bytes(a->path, a->obj_len, b->path, b->obj_len);
}

/* eid, object, parameter name, then submission order. */
static int snap_item_cmp(const void *pa, const void *pb)
{
	const struct snap_item *a = pa, *b = pb;
	int c = strcmp(a->eid, b->eid);
	if (!c)
		c = cmp_bytes(a->path, a->obj_len, b->path, b->obj_len);
	if (!c)
		c = strcmp(a->path + a->obj_len, b->path + b->obj_len);
	if (!c)
		c = (a->ord > b->ord) - (a->ord < b->ord);
	return c;
}

size_t wop_fill_snapshot(struct store_buf *c, struct store_buf *doc, struct wop *const *ops,
			 size_t n, int *failed)
{
	size_t total = 0, k = 0;
	*failed = 0;
	for (size_t i = 0; i < n; i++)
		total += ops[i]->u.snap.n;
	struct snap_item *it = malloc((total ? total : 1) * sizeof(*it));
	if (!it) {
		*failed = 1;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < ops[i]->u.snap.n; j++) {
			const char *path = ops[i]->u.snap.path[j];
			it[k++] = (struct snap_item){ .eid = ops[i]->eid,
						      .path = path,
						      .value = ops[i]->u.snap.value[j],
						      .obj_len = obj_len(path),
						      .ord = i,
						      .us = ops[i]->at_us };
		}
	qsort(it, total, sizeof(*it), snap_item_cmp);
	for (size_t g = 0; g < total;) {
		size_t end = g + 1;
		while (end < total && same_object(&it[g], &it[end]))
			end++;
		int64_t us = it[g].us;
		store_buf_reset(doc);
		store_buf_add(doc, "{", 1);
		for (size_t x = g; x < end; x++) {
			const char *name = it[x].path + it[x].obj_len;
			if (it[x].us > us)
				us = it[x].us;
			if (x + 1 < end && !strcmp(name, it[x + 1].path + it[x + 1].obj_len))
				continue; /* a later report of the same parameter follows */
			if (doc->len > 1)
				store_buf_add(doc, ",", 1);
			store_json_str(doc, name);
			store_buf_add(doc, ":", 1);
			store_json_str(doc, it[x].value);
		}
		store_buf_add(doc, "}", 1);
		const char *text = store_buf_str(doc);
		if (!text) {
			*failed = 1;
			break;
		}
		store_arr_add(&c[0], it[g].eid);
		store_arr_addn(&c[1], it[g].path, it[g].obj_len);
		store_arr_add(&c[2], text);
		store_arr_add_i64(&c[3], us);
		g = end;
	}
	free(it);
	return total;
}

const struct wop_sql wop_sql[WOP_KIND_COUNT] = {
	[WOP_AGENT] = { store_stmt_wop_agent, 7 },
	[WOP_DEVINFO] = { store_stmt_wop_devinfo, 10 },
	[WOP_SUB] = { store_stmt_wop_sub, 7 },
	[WOP_SNAPSHOT] = { store_stmt_wop_snapshot, 4 },
	[WOP_SNAPDEL] = { store_stmt_wop_snapdel, 0 },
	[WOP_NOTIF] = { store_stmt_wop_notif, 7 },
	[WOP_OPER] = { store_stmt_wop_oper, 9 },
	[WOP_TASK] = { store_stmt_wop_task, 8 },
	[WOP_REJECT] = { store_stmt_wop_reject, 7 },
};
