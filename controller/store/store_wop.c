/*
 * store_wop.c — how each kind of writer op becomes rows of one set-based
 * statement: the SQL per kind (unnest of array parameters, merged per key,
 * INSERT ... ON CONFLICT) and the code that turns an op into array
 * elements. Pure data and text building; called on the writer thread only.
 * Invariant: every statement is idempotent (replaying a batch whose commit
 * fate is unknown changes nothing), and keeps the newest event per key.
 */
#include "store_wop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const wop_kind_names[WOP_KIND_COUNT] = {
	"agent_state",     "device_info",  "subscription", "snapshot",
	"snapshot_delete", "notification", "oper_result",  "task_result",
};

/* µs since the epoch → timestamptz, exactly. */
#define EP(x) "('epoch'::timestamptz + (" x ") * interval '1 microsecond')"
/* Newest non-NULL value of column c among the grouped ops. */
#define LAST_NN(c) "(array_agg(" c " ORDER BY ord DESC) FILTER (WHERE " c " IS NOT NULL))[1]"

/*
 * Agent state in two statements (see wop_agent_insert_sql): the rows exist
 * once the INSERT has run, so this UPDATE can use everything computed per
 * agent from the batch, which ON CONFLICT's `excluded` row could not carry.
 * The batch's ops of one agent are applied in submission order (ord): the
 * final state wins, and online_since becomes the start of the final online
 * run when the agent was offline before it — stored offline, or an offline
 * op earlier in this batch (offline and back online within one batch is a
 * new session that must be onboarded again).
 */
static const char sql_agent[] =
	"WITH u AS (SELECT *, max(ord) FILTER (WHERE NOT online) OVER (PARTITION BY eid) AS off_ord"
	"  FROM unnest($1::text[], $2::bool[], $3::text[], $4::smallint[], $5::text[],"
	"  $6::bigint[]) WITH ORDINALITY AS u(eid, online, topic, mqtt, usp, us, ord)),"
	" g AS (SELECT eid, (array_agg(online ORDER BY ord DESC))[1] AS online,"
	"  " LAST_NN("topic") " AS topic, " LAST_NN("mqtt") " AS mqtt, " LAST_NN(
		"usp") " AS usp,"
		       "  (array_agg(us ORDER BY ord DESC))[1] AS at, max(us) AS last,"
		       "  bool_or(NOT online) AS went_off,"
		       "  min(us) FILTER (WHERE online AND ord > coalesce(off_ord, 0)) AS run_start"
		       "  FROM u GROUP BY eid)"
		       " UPDATE agents AS a SET online = g.online,"
		       "  online_since = CASE WHEN g.online AND (NOT a.online OR g.went_off) THEN " EP("g.run_start") "   WHEN g.online THEN coalesce(a.online_since, " EP(
			       "g.run_start") ")"
					      "   ELSE a.online_since END,"
					      "  state_at = " EP(
						      "g.at") ","
							      "  last_seen = greatest(a.last_seen, " EP(
								      "g.last") "),"
										"  reply_topic = coalesce(g.topic, a.reply_topic),"
										"  mqtt_version = coalesce(g.mqtt, a.mqtt_version),"
										"  usp_versions = coalesce(g.usp, a.usp_versions), updated_at = now()"
										" FROM g WHERE a.eid = g.eid AND (a.state_at IS NULL OR a.state_at <= " EP(
											"g.at") ")";

/* Through tasks_queued_eid: one index probe per agent, nothing without
 * queued tasks. Runs after the agents row was updated in this transaction,
 * as its own statement, so its snapshot holds every park committed by a
 * claim that had locked that row first. Rows another transaction holds are
 * skipped, not waited for (a cancel or an expiry is changing them, or
 * another unpark or the feeder's sweep is unparking them): waiting, in
 * eid order, could deadlock with a cancel going in id order. */
const char wop_unpark_sql[] =
	"UPDATE tasks SET parked = false WHERE id = ANY(ARRAY(SELECT id FROM tasks"
	" WHERE eid = ANY($1::text[]) AND state = 'queued' AND parked FOR UPDATE SKIP LOCKED))";

/* Runs first, as its own statement so that the UPDATE's snapshot sees rows
 * another daemon inserted concurrently (ON CONFLICT waits for them). */
const char wop_agent_insert_sql[] =
	"INSERT INTO agents (eid, first_seen)"
	" SELECT eid, " EP("min(us)") " FROM unnest($1::text[], $2::bigint[]) AS u(eid, us)"
				      " GROUP BY eid ORDER BY eid ON CONFLICT (eid) DO NOTHING";

static const char sql_devinfo[] =
	"WITH u AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],"
	"  $5::text[], $6::text[], $7::text[], $8::text[], $9::bool[], $10::bigint[])"
	"  WITH ORDINALITY AS u(eid, f1, f2, f3, f4, f5, f6, f7, onboarded, us, ord)),"
	" g AS (SELECT eid, " LAST_NN("f1") " AS f1, " LAST_NN("f2") " AS f2, " LAST_NN("f3") " AS f3, " LAST_NN("f4") " AS f4, " LAST_NN("f5") " AS f5, " LAST_NN(
		"f6") " AS f6, " LAST_NN("f7") " AS f7, max(us) FILTER (WHERE onboarded) AS ob, min(us) AS first"
					       "  FROM u GROUP BY eid)"
					       " INSERT INTO agents AS a (eid, first_seen, manufacturer, model_name, serial_number,"
					       "  software_version, hardware_version, oui, product_class, onboarded_at)"
					       " SELECT eid, " EP("first") ", f1, f2, f3, f4, f5, f6, f7, " EP(
						       "ob") " FROM g ORDER BY eid"
							     " ON CONFLICT (eid) DO UPDATE SET"
							     "  manufacturer = coalesce(excluded.manufacturer, a.manufacturer),"
							     "  model_name = coalesce(excluded.model_name, a.model_name),"
							     "  serial_number = coalesce(excluded.serial_number, a.serial_number),"
							     "  software_version = coalesce(excluded.software_version, a.software_version),"
							     "  hardware_version = coalesce(excluded.hardware_version, a.hardware_version),"
							     "  oui = coalesce(excluded.oui, a.oui),"
							     "  product_class = coalesce(excluded.product_class, a.product_class),"
							     "  onboarded_at = greatest(a.onboarded_at, excluded.onboarded_at), updated_at = now()";

static const char sql_sub[] =
	"WITH u AS (SELECT DISTINCT ON (eid, sub_id) * FROM unnest($1::text[], $2::text[],"
	"  $3::text[], $4::text[], $5::text[], $6::bool[], $7::bool[])"
	"  WITH ORDINALITY AS u(eid, sub_id, typ, refs, inst, enabled, removed, ord)"
	"  ORDER BY eid, sub_id, ord DESC),"
	" d AS (DELETE FROM agent_subscriptions s USING u"
	"  WHERE u.removed AND s.eid = u.eid AND s.sub_id = u.sub_id)"
	" INSERT INTO agent_subscriptions AS s (eid, sub_id, notif_type, reference_list,"
	"  instance_path, enabled)"
	" SELECT eid, sub_id, typ, refs, inst, enabled FROM u WHERE NOT removed"
	" ON CONFLICT (eid, sub_id) DO UPDATE SET"
	"  notif_type = coalesce(excluded.notif_type, s.notif_type),"
	"  reference_list = coalesce(excluded.reference_list, s.reference_list),"
	"  instance_path = coalesce(excluded.instance_path, s.instance_path),"
	"  enabled = excluded.enabled, updated_at = now()";

/*
 * One row per (agent, object): wop_fill_snapshot merges a batch's
 * parameters into one JSON document per object, in (eid, obj) order so two
 * daemons writing the same rows lock them in the same order (no deadlock).
 * A report at least as new as the stored object is merged over it; an older
 * one (another daemon's, delayed) only adds the parameters the object lacks.
 * A report whose values the object already holds does not rewrite the row
 * (`updated_at` stays when those values were first reported). Measured on
 * 27,000 parameters (1,000 agents' Device.DeviceInfo., 4,000 objects) of a
 * 270,000-parameter table: first write 34-45 ms, new values 35 ms, repeated
 * values 20-26 ms; one row per parameter took 155-200, 194-208 and 104-111.
 */
static const char sql_snapshot[] =
	"INSERT INTO snapshot_objects AS s (eid, obj, params, updated_at)"
	" SELECT eid, obj, doc::jsonb, " EP(
		"us") " FROM unnest($1::text[], $2::text[],"
		      "  $3::text[], $4::bigint[]) AS u(eid, obj, doc, us)"
		      " ON CONFLICT (eid, obj) DO UPDATE SET"
		      "  params = CASE WHEN s.updated_at <= excluded.updated_at THEN s.params || excluded.params"
		      "   ELSE excluded.params || s.params END,"
		      "  updated_at = greatest(s.updated_at, excluded.updated_at)"
		      " WHERE NOT s.params @> excluded.params AND (s.updated_at <= excluded.updated_at"
		      "  OR NOT s.params ?& ARRAY(SELECT jsonb_object_keys(excluded.params)))";

/* Prefixes end with '.', so they select whole objects. */
const char wop_snapdel_sql[] =
	"DELETE FROM snapshot_objects WHERE eid = $1 AND obj LIKE $2 AND updated_at <= " EP(
		"$3::bigint");

static const char sql_notif[] =
	"INSERT INTO notifications (eid, msg_id, subscription_id, kind, path, payload, received_at)"
	" SELECT eid, msg_id, sub, kind, path, payload, " EP(
		"us") " FROM unnest($1::text[],"
		      "  $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::bigint[])"
		      "  AS u(eid, msg_id, sub, kind, path, payload, us)"
		      " ON CONFLICT (eid, msg_id) DO NOTHING";

/* Rows that reach a final state ('complete', 'failed') are announced with
 * NOTIFY uspc_oper_done, payload {"eid": ..., "command_key": ...} (one per
 * distinct pair; command_key left out when the payload would pass 7900
 * bytes), in the same transaction. */
static const char sql_oper[] =
	"WITH u AS (SELECT DISTINCT ON (eid, key, obj, cmd) * FROM unnest($1::text[], $2::text[],"
	"  $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::bigint[], $8::text[], $9::bigint[])"
	"  WITH ORDINALITY AS u(eid, key, obj, cmd, state, output, code, msg, us, ord)"
	"  ORDER BY eid, key, obj, cmd, (state <> 'requested') DESC, ord DESC),"
	" w AS (INSERT INTO operation_results AS o (eid, command_key, obj_path, command_name, state,"
	"  output, err_code, err_msg, updated_at)"
	" SELECT eid, key, obj, cmd, state, output, code, msg, " EP(
		"us") " FROM u"
		      " ON CONFLICT (eid, command_key, obj_path, command_name) DO UPDATE SET"
		      "  state = excluded.state, output = excluded.output, err_code = excluded.err_code,"
		      "  err_msg = excluded.err_msg, updated_at = excluded.updated_at"
		      " WHERE o.updated_at <= excluded.updated_at"
		      "  AND NOT (excluded.state = 'requested' AND o.state <> 'requested')"
		      " RETURNING o.eid, o.command_key, o.state)"
		      " SELECT count(pg_notify('uspc_oper_done', CASE WHEN octet_length(eid) +"
		      "  octet_length(command_key) < 7800 THEN json_build_object('eid', eid,"
		      "  'command_key', command_key)::text ELSE json_build_object('eid', eid)::text END))"
		      " FROM (SELECT DISTINCT eid, command_key FROM w WHERE state <> 'requested') d";

/* Task results land only on tasks this node holds in 'sent' ($9); finished
 * ids are announced in groups of 300 (well under NOTIFY's 8000-byte
 * payload). unknown wins over failed. */
static const char sql_task[] =
	"WITH u AS (SELECT DISTINCT ON (id) * FROM unnest($1::bigint[], $2::bool[], $3::text[],"
	"  $4::jsonb[], $5::bigint[], $6::text[], $7::bigint[], $8::bool[])"
	"  WITH ORDINALITY AS u(id, failed, msg_id, result, code, msg, us, unknown, ord)"
	"  ORDER BY id, ord),"
	" t AS (UPDATE tasks t SET state = CASE WHEN u.unknown THEN 'unknown'"
	"  WHEN u.failed THEN 'failed' ELSE 'done' END,"
	"  msg_id = coalesce(u.msg_id, t.msg_id), result = u.result, error_code = u.code,"
	"  error_message = u.msg, finished_at = " EP(
		"u.us") " FROM u"
			"  WHERE t.id = u.id AND t.state = 'sent' AND t.claimed_by = $9 RETURNING t.id),"
			" n AS (SELECT pg_notify('uspc_task_done', string_agg(id::text, ',')) FROM"
			"  (SELECT id, (row_number() OVER ()) / 300 AS grp FROM t) x GROUP BY grp)"
			" SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM t), (SELECT count(*) FROM n)";

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
	[WOP_AGENT] = { sql_agent, 6 },
	[WOP_DEVINFO] = { sql_devinfo, 10 },
	[WOP_SUB] = { sql_sub, 7 },
	[WOP_SNAPSHOT] = { sql_snapshot, 4 },
	[WOP_SNAPDEL] = { wop_snapdel_sql, 0 },
	[WOP_NOTIF] = { sql_notif, 7 },
	[WOP_OPER] = { sql_oper, 9 },
	[WOP_TASK] = { sql_task, 8 },
};
