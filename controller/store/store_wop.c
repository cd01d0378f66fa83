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

/* Rows are proposed in (eid, path) order, so two daemons writing the same
 * rows lock them in the same order (no deadlock). An UPDATE ... FROM join
 * for rows that exist was measured 20-30 % cheaper, but it locks rows in
 * the join's order; not taken.
 * A value equal to the stored one does not rewrite the row: it keeps its
 * updated_at (when that value was first reported) and costs no new row
 * version or WAL for the tuple. Measured on 27,000 rows of a 270,000-row
 * table (a fleet-wide Get of unchanged DeviceInfo): 104-111 ms instead of
 * 194-208 ms. Skipping such rows before the INSERT with a probe of the key
 * was cheaper still for repeats (69-83 ms) but made every new row 30 %
 * dearer (one more index descent), and every ValueChange is a change. */
static const char sql_snapshot[] =
	"WITH u AS (SELECT DISTINCT ON (eid, path) eid, path, value, us FROM unnest($1::text[],"
	"  $2::text[], $3::text[], $4::bigint[]) WITH ORDINALITY AS u(eid, path, value, us, ord)"
	"  ORDER BY eid, path, ord DESC),"
	" d AS (DELETE FROM snapshot s USING u WHERE u.value IS NULL AND s.eid = u.eid"
	"  AND s.path = u.path AND s.updated_at <= " EP(
		"u.us") ")"
			" INSERT INTO snapshot AS s (eid, path, value, updated_at)"
			" SELECT eid, path, value, " EP(
				"us") " FROM u WHERE value IS NOT NULL"
				      " ON CONFLICT (eid, path) DO UPDATE SET value = excluded.value,"
				      "  updated_at = excluded.updated_at WHERE s.updated_at <= excluded.updated_at"
				      "  AND s.value IS DISTINCT FROM excluded.value";

const char wop_snapdel_sql[] =
	"DELETE FROM snapshot WHERE eid = $1 AND path LIKE $2 AND updated_at <= " EP("$3::bigint");

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

/* Task results land only on tasks this node holds in 'sent'; finished ids
 * are announced in groups of 300 (well under NOTIFY's 8000-byte payload). */
static const char sql_task[] =
	"WITH u AS (SELECT DISTINCT ON (id) * FROM unnest($1::bigint[], $2::bool[], $3::text[],"
	"  $4::jsonb[], $5::bigint[], $6::text[], $7::bigint[])"
	"  WITH ORDINALITY AS u(id, failed, msg_id, result, code, msg, us, ord) ORDER BY id, ord),"
	" t AS (UPDATE tasks t SET state = CASE WHEN u.failed THEN 'failed' ELSE 'done' END,"
	"  msg_id = coalesce(u.msg_id, t.msg_id), result = u.result, error_code = u.code,"
	"  error_message = u.msg, finished_at = " EP(
		"u.us") "  FROM u WHERE t.id = u.id AND t.state = 'sent' AND t.claimed_by = $8 RETURNING t.id),"
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
	case WOP_SNAPSHOT:
		for (size_t i = 0; i < op->u.snap.n; i++) {
			store_arr_add(&c[0], op->eid);
			store_arr_add(&c[1], op->u.snap.path[i]);
			store_arr_add(&c[2], op->u.snap.value[i]);
			store_arr_add_i64(&c[3], op->at_us);
		}
		return op->u.snap.n;
	case WOP_NOTIF:
		store_arr_add(&c[0], op->eid);
		store_arr_add(&c[1], op->u.notif.msg_id);
		store_arr_add(&c[2], op->u.notif.sub_id);
		store_arr_add(&c[3], op->u.notif.kind);
		store_arr_add(&c[4], op->u.notif.path);
		store_arr_add(&c[5], op->u.notif.payload ? op->u.notif.payload : "{}");
		store_arr_add_i64(&c[6], op->at_us);
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
		return 1;
	default:
		return 0;
	}
}

const struct wop_sql wop_sql[WOP_KIND_COUNT] = {
	[WOP_AGENT] = { sql_agent, 6 },
	[WOP_DEVINFO] = { sql_devinfo, 10 },
	[WOP_SUB] = { sql_sub, 7 },
	[WOP_SNAPSHOT] = { sql_snapshot, 4 },
	[WOP_SNAPDEL] = { wop_snapdel_sql, 0 },
	[WOP_NOTIF] = { sql_notif, 7 },
	[WOP_OPER] = { sql_oper, 9 },
	[WOP_TASK] = { sql_task, 7 },
};
