/*
 * store_writer.c — the batched writer thread (see store_writer.h).
 *
 * Owns: the op queue (a FIFO list under `mu`, capped in ops and bytes), the
 * writer thread and its PostgreSQL connection, the column buffers used to
 * build array parameters, and the stats.
 * Threads: submit/stats/flush from any thread; everything that touches the
 * connection runs on the writer thread only.
 * Invariants: an op is in exactly one place — the queue, the batch being
 * written, or freed after it was committed / rejected (logged) /
 * abandoned at stop (logged). `finished` only grows, and finished <=
 * submitted. `durable` <= finished counts the ops committed or rejected, a
 * prefix in submission order: it stops for good at the first abandoned
 * op. Every statement of a batch runs inside one transaction.
 */
#include "store_writer.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "store_guard.h"
#include "store_sql.h"
#include "store_wop.h"

#define LOG_COMP "store"

#define MAX_COLS WOP_MAX_COLS

_Static_assert(STORE_WRITER_KINDS == WOP_KIND_COUNT, "store_writer.h's kind count is stale");

struct store_writer {
	/* set at start, read-only afterwards */
	struct store_conn_opts conn_opts;
	char *conninfo, *password, *password_file, *node_id;
	size_t max_ops, max_bytes, batch_max;
	int retry_min_ms, retry_max_ms;
	int tasks_require_onboarded;
	pthread_t thread;

	pthread_mutex_t mu;  /* guards everything below */
	pthread_cond_t wake; /* queue non-empty, or stop */
	pthread_cond_t done; /* `finished` advanced */
	struct wop *head, *tail;
	size_t q_ops, q_bytes;
	size_t batch_ops;
	int64_t batch_oldest_ns;
	int stopping;
	int64_t drain_deadline_ns;
	uint64_t submitted, finished, abandoned;
	uint64_t lost_by_kind[WOP_KIND_COUNT]; /* abandoned ops per kind */
	_Atomic uint64_t durable;              /* written under mu, read without it */
	int commit_fd;                         /* eventfd: written when durable advances */
	struct store_writer_stats st;

	/* lets stop cut the connection the thread is blocked on */
	struct store_guard guard;

	/* writer thread only */
	PGconn *db;
	struct store_prepared prep; /* statements prepared on db */
	int64_t down_since_ns;      /* 0 while connected */
	int ever_connected;
	int backoff_ms;
	unsigned rand_seed;
	struct wop **batch; /* batch_max */
	struct wop **by_kind[WOP_KIND_COUNT];
	size_t n_kind[WOP_KIND_COUNT];
	struct store_buf col[MAX_COLS];
	struct store_buf doc; /* one snapshot object's JSON (wop_fill_snapshot) */
};

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- op construction (caller's thread) ---------------------------------- */

static size_t slen(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

/* Copy s into the op's string area at *cur (UTF-8 repaired). */
static const char *pk(char **cur, const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	char *d = *cur;
	memcpy(d, s, n);
	store_utf8_repair(d, n - 1);
	*cur += n;
	return d;
}

/* One allocation: the op, `ptrs` pointer slots, then `strbytes` of strings. */
static struct wop *wop_new(enum wop_kind kind, size_t ptrs, size_t strbytes, char **cur)
{
	size_t size = sizeof(struct wop) + ptrs * sizeof(char *) + strbytes;
	struct wop *op = calloc(1, size);
	if (!op)
		return NULL;
	op->kind = kind;
	op->bytes = size;
	*cur = (char *)(op + 1) + ptrs * sizeof(char *);
	return op;
}

static int check_len(const char *what, const char *s, size_t max, int required,
		     struct uspc_err *err)
{
	if (!s)
		return required ? uspc_err_set(err, STORE_E_ARG, "%s is required", what) : 0;
	if (required && !*s)
		return uspc_err_set(err, STORE_E_ARG, "%s is empty", what);
	size_t n = strlen(s);
	if (n > max)
		return uspc_err_set(err, STORE_E_ARG, "%s is %zu bytes, limit %zu", what, n, max);
	return 0;
}

static int64_t at_or_now(int64_t at_us)
{
	return at_us ? at_us : store_now_us();
}

/* Queue op or free it; see store_writer.h for the codes. */
static int enqueue(struct store_writer *w, struct wop *op, struct uspc_err *err)
{
	int rc = 0;
	op->enq_ns = mono_ns();
	pthread_mutex_lock(&w->mu);
	if (w->stopping) {
		rc = uspc_err_set(err, STORE_E_STOPPED, "store writer is stopping");
	} else if (op->bytes > w->max_bytes) {
		rc = uspc_err_set(err, STORE_E_ARG, "%s op of %zu bytes exceeds the queue size %zu",
				  wop_kind_names[op->kind], op->bytes, w->max_bytes);
	} else if (w->q_ops + 1 > w->max_ops || w->q_bytes + op->bytes > w->max_bytes) {
		w->st.full++;
		rc = uspc_err_set(err, STORE_E_FULL, "store writer queue full (%zu ops, %zu bytes)",
				  w->q_ops, w->q_bytes);
	} else {
		if (w->tail)
			w->tail->next = op;
		else
			w->head = op;
		w->tail = op;
		w->q_ops++;
		w->q_bytes += op->bytes;
		w->submitted++;
		w->st.ops_submitted++;
		pthread_cond_signal(&w->wake);
		op = NULL;
	}
	pthread_mutex_unlock(&w->mu);
	free(op);
	return rc;
}

#define NOMEM(err) uspc_err_set(err, STORE_E_NOMEM, "out of memory queueing a store op")

int store_writer_agent_state(struct store_writer *w, const struct store_agent_state *a,
			     struct uspc_err *err)
{
	int rc;
	if ((rc = check_len("eid", a->eid, STORE_EID_MAX, 1, err)) < 0 ||
	    (rc = check_len("reply_topic", a->reply_topic, STORE_TOPIC_MAX, 0, err)) < 0 ||
	    (rc = check_len("usp_versions", a->usp_versions, STORE_NAME_MAX, 0, err)) < 0)
		return rc;
	char *cur;
	struct wop *op = wop_new(WOP_AGENT, 0,
				 slen(a->eid) + slen(a->reply_topic) + slen(a->usp_versions), &cur);
	if (!op)
		return NOMEM(err);
	op->eid = pk(&cur, a->eid);
	op->at_us = at_or_now(a->at_us);
	op->u.agent.online = a->online ? 1 : 0;
	op->u.agent.new_session = a->online && a->new_session ? 1 : 0;
	op->u.agent.mqtt = a->mqtt_version;
	op->u.agent.topic = pk(&cur, a->reply_topic);
	op->u.agent.usp = pk(&cur, a->usp_versions);
	return enqueue(w, op, err);
}

int store_writer_device_info(struct store_writer *w, const struct store_device_info *d,
			     struct uspc_err *err)
{
	const char *f[WOP_DEV_FIELDS] = { d->manufacturer,     d->model_name,
					  d->serial_number,    d->software_version,
					  d->hardware_version, d->oui,
					  d->product_class };
	int rc = check_len("eid", d->eid, STORE_EID_MAX, 1, err);
	size_t bytes = slen(d->eid);
	for (int i = 0; rc == 0 && i < WOP_DEV_FIELDS; i++) {
		rc = check_len("DeviceInfo field", f[i], STORE_NAME_MAX, 0, err);
		bytes += slen(f[i]);
	}
	if (rc < 0)
		return rc;
	char *cur;
	struct wop *op = wop_new(WOP_DEVINFO, 0, bytes, &cur);
	if (!op)
		return NOMEM(err);
	op->eid = pk(&cur, d->eid);
	op->at_us = at_or_now(d->at_us);
	for (int i = 0; i < WOP_DEV_FIELDS; i++)
		op->u.dev.f[i] = pk(&cur, f[i]);
	op->u.dev.onboarded = d->onboarded ? 1 : 0;
	return enqueue(w, op, err);
}

int store_writer_snapshot(struct store_writer *w, const char *eid,
			  const struct store_snapshot_row *rows, size_t n, int64_t at_us,
			  struct uspc_err *err)
{
	int rc = check_len("eid", eid, STORE_EID_MAX, 1, err);
	if (rc < 0)
		return rc;
	if (n == 0)
		return 0;
	if (!rows || n > STORE_SNAPSHOT_MAX_ROWS)
		return uspc_err_set(err, STORE_E_ARG, "snapshot of %zu rows (limit %d)", n,
				    STORE_SNAPSHOT_MAX_ROWS);
	size_t bytes = slen(eid);
	for (size_t i = 0; i < n; i++) {
		if ((rc = check_len("snapshot path", rows[i].path, STORE_PATH_MAX, 1, err)) < 0 ||
		    (rc = check_len("snapshot value", rows[i].value, STORE_VALUE_MAX, 0, err)) < 0)
			return rc;
		if (!rows[i].value)
			return uspc_err_set(err, STORE_E_ARG,
					    "snapshot value of %s is missing (parameters go with"
					    " their object: store_writer_snapshot_delete_prefix)",
					    rows[i].path);
		bytes += slen(rows[i].path) + slen(rows[i].value);
	}
	char *cur;
	struct wop *op = wop_new(WOP_SNAPSHOT, 2 * n, bytes, &cur);
	if (!op)
		return NOMEM(err);
	op->u.snap.path = (const char **)(op + 1);
	op->u.snap.value = op->u.snap.path + n;
	op->u.snap.n = n;
	op->eid = pk(&cur, eid);
	op->at_us = at_or_now(at_us);
	for (size_t i = 0; i < n; i++) {
		op->u.snap.path[i] = pk(&cur, rows[i].path);
		op->u.snap.value[i] = pk(&cur, rows[i].value);
	}
	return enqueue(w, op, err);
}

int store_writer_snapshot_delete_prefix(struct store_writer *w, const char *eid, const char *prefix,
					struct uspc_err *err)
{
	char pattern[2 * STORE_PATH_MAX + 2];
	int rc;
	if ((rc = check_len("eid", eid, STORE_EID_MAX, 1, err)) < 0 ||
	    (rc = check_len("prefix", prefix, STORE_PATH_MAX, 1, err)) < 0)
		return rc;
	if (prefix[strlen(prefix) - 1] != '.')
		return uspc_err_set(err, STORE_E_ARG,
				    "snapshot delete prefix must end with '.': %s", prefix);
	if (store_prefix_to_like(prefix, pattern, sizeof(pattern)) < 0)
		return uspc_err_set(err, STORE_E_ARG, "snapshot delete prefix too long");
	char *cur;
	struct wop *op = wop_new(WOP_SNAPDEL, 0, slen(eid) + slen(pattern), &cur);
	if (!op)
		return NOMEM(err);
	op->eid = pk(&cur, eid);
	op->at_us = store_now_us();
	op->u.del.pattern = pk(&cur, pattern);
	return enqueue(w, op, err);
}

static int notif_kind_valid(const char *k)
{
	static const char *const kinds[] = { "event",        "value_change",  "obj_creation",
					     "obj_deletion", "oper_complete", "on_board_req" };
	for (size_t i = 0; k && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(k, kinds[i]))
			return 1;
	return 0;
}

int store_writer_notification(struct store_writer *w, const struct store_notification *n,
			      struct uspc_err *err)
{
	int rc;
	if ((rc = check_len("eid", n->eid, STORE_EID_MAX, 1, err)) < 0 ||
	    (rc = check_len("msg_id", n->msg_id, STORE_NAME_MAX, 1, err)) < 0 ||
	    (rc = check_len("subscription_id", n->subscription_id, STORE_NAME_MAX, 0, err)) < 0 ||
	    (rc = check_len("path", n->path, STORE_PATH_MAX, 0, err)) < 0 ||
	    (rc = check_len("payload", n->payload_json, STORE_JSON_MAX, 0, err)) < 0)
		return rc;
	if (!notif_kind_valid(n->kind))
		return uspc_err_set(err, STORE_E_ARG, "unknown notification kind '%s'",
				    n->kind ? n->kind : "(null)");
	char *cur;
	struct wop *op = wop_new(WOP_NOTIF, 0,
				 slen(n->eid) + slen(n->msg_id) + slen(n->subscription_id) +
					 slen(n->kind) + slen(n->path) + slen(n->payload_json),
				 &cur);
	if (!op)
		return NOMEM(err);
	op->eid = pk(&cur, n->eid);
	op->at_us = at_or_now(n->received_at_us);
	op->u.notif.msg_id = pk(&cur, n->msg_id);
	op->u.notif.sub_id = pk(&cur, n->subscription_id);
	op->u.notif.kind = pk(&cur, n->kind);
	op->u.notif.path = pk(&cur, n->path);
	op->u.notif.payload = pk(&cur, n->payload_json);
	return enqueue(w, op, err);
}

int store_writer_task_result(struct store_writer *w, const struct store_task_result *r,
			     struct uspc_err *err)
{
	int rc;
	if (r->task_id <= 0)
		return uspc_err_set(err, STORE_E_ARG, "task id %" PRId64 " is invalid", r->task_id);
	if ((rc = check_len("msg_id", r->msg_id, STORE_NAME_MAX, 0, err)) < 0 ||
	    (rc = check_len("result", r->result_json, STORE_JSON_MAX, 0, err)) < 0 ||
	    (rc = check_len("error_message", r->error_message, STORE_VALUE_MAX, 0, err)) < 0)
		return rc;
	char *cur;
	struct wop *op = wop_new(
		WOP_TASK, 0, slen(r->msg_id) + slen(r->result_json) + slen(r->error_message), &cur);
	if (!op)
		return NOMEM(err);
	op->at_us = at_or_now(r->at_us);
	op->u.task.id = r->task_id;
	op->u.task.failed = r->failed ? 1 : 0;
	op->u.task.unknown = r->unknown ? 1 : 0;
	op->u.task.code = r->error_code;
	op->u.task.msg_id = pk(&cur, r->msg_id);
	op->u.task.result = pk(&cur, r->result_json);
	op->u.task.msg = pk(&cur, r->error_message);
	return enqueue(w, op, err);
}

int store_writer_oper_result(struct store_writer *w, const struct store_oper_result *r,
			     struct uspc_err *err)
{
	int rc;
	if ((rc = check_len("eid", r->eid, STORE_EID_MAX, 1, err)) < 0 ||
	    (rc = check_len("command_key", r->command_key, STORE_NAME_MAX, 0, err)) < 0 ||
	    (rc = check_len("obj_path", r->obj_path, STORE_PATH_MAX, 1, err)) < 0 ||
	    (rc = check_len("command_name", r->command_name, STORE_NAME_MAX, 1, err)) < 0 ||
	    (rc = check_len("output", r->output_json, STORE_JSON_MAX, 0, err)) < 0 ||
	    (rc = check_len("err_msg", r->err_msg, STORE_VALUE_MAX, 0, err)) < 0)
		return rc;
	if (!r->command_key)
		return uspc_err_set(err, STORE_E_ARG, "command_key is required");
	if (!r->state || (strcmp(r->state, "requested") && strcmp(r->state, "complete") &&
			  strcmp(r->state, "failed")))
		return uspc_err_set(err, STORE_E_ARG,
				    "operation state must be requested, complete "
				    "or failed");
	char *cur;
	struct wop *op = wop_new(WOP_OPER, 0,
				 slen(r->eid) + slen(r->command_key) + slen(r->obj_path) +
					 slen(r->command_name) + slen(r->state) +
					 slen(r->output_json) + slen(r->err_msg),
				 &cur);
	if (!op)
		return NOMEM(err);
	op->eid = pk(&cur, r->eid);
	op->at_us = at_or_now(r->at_us);
	op->u.oper.key = pk(&cur, r->command_key);
	op->u.oper.obj = pk(&cur, r->obj_path);
	op->u.oper.cmd = pk(&cur, r->command_name);
	op->u.oper.state = pk(&cur, r->state);
	op->u.oper.output = pk(&cur, r->output_json);
	op->u.oper.msg = pk(&cur, r->err_msg);
	op->u.oper.code = r->err_code;
	return enqueue(w, op, err);
}

int store_writer_subscription(struct store_writer *w, const struct store_subscription *s,
			      struct uspc_err *err)
{
	int rc;
	if ((rc = check_len("eid", s->eid, STORE_EID_MAX, 1, err)) < 0 ||
	    (rc = check_len("sub_id", s->sub_id, STORE_NAME_MAX, 1, err)) < 0 ||
	    (rc = check_len("notif_type", s->notif_type, STORE_NAME_MAX, 0, err)) < 0 ||
	    (rc = check_len("reference_list", s->reference_list, STORE_VALUE_MAX, 0, err)) < 0 ||
	    (rc = check_len("instance_path", s->instance_path, STORE_PATH_MAX, 0, err)) < 0)
		return rc;
	char *cur;
	struct wop *op = wop_new(WOP_SUB, 0,
				 slen(s->eid) + slen(s->sub_id) + slen(s->notif_type) +
					 slen(s->reference_list) + slen(s->instance_path),
				 &cur);
	if (!op)
		return NOMEM(err);
	op->eid = pk(&cur, s->eid);
	op->at_us = store_now_us();
	op->u.sub.sub_id = pk(&cur, s->sub_id);
	op->u.sub.type = pk(&cur, s->notif_type);
	op->u.sub.refs = pk(&cur, s->reference_list);
	op->u.sub.inst = pk(&cur, s->instance_path);
	op->u.sub.enabled = s->enabled ? 1 : 0;
	op->u.sub.removed = s->removed ? 1 : 0;
	return enqueue(w, op, err);
}

int store_writer_rejection(struct store_writer *w, const struct store_rejection *r,
			   struct uspc_err *err)
{
	int rc;
	if ((rc = check_len("sender", r->sender, STORE_EID_MAX, 1, err)) < 0 ||
	    (rc = check_len("reason", r->reason, STORE_NAME_MAX, 1, err)) < 0 ||
	    (rc = check_len("topic", r->topic, STORE_TOPIC_MAX, 0, err)) < 0 ||
	    (rc = check_len("detail", r->detail, STORE_VALUE_MAX, 0, err)) < 0)
		return rc;
	if (r->count < 1 || r->max_rows < 1 || r->retention_s < 0)
		return uspc_err_set(err, STORE_E_ARG,
				    "rejection needs count >= 1, max_rows >= 1, retention_s >= 0");
	char *cur;
	struct wop *op =
		wop_new(WOP_REJECT, 0,
			slen(r->sender) + slen(r->reason) + slen(r->topic) + slen(r->detail), &cur);
	if (!op)
		return NOMEM(err);
	op->eid = pk(&cur, r->sender);
	op->at_us = at_or_now(r->last_us);
	op->u.rej.reason = pk(&cur, r->reason);
	op->u.rej.topic = pk(&cur, r->topic);
	op->u.rej.detail = pk(&cur, r->detail);
	op->u.rej.count = r->count;
	op->u.rej.first_us = r->first_us ? r->first_us : op->at_us;
	op->u.rej.max_rows = r->max_rows;
	op->u.rej.retention_s = r->retention_s;
	return enqueue(w, op, err);
}

/* ---- writing one batch (writer thread) ---------------------------------- */

static int exec_snapdel(struct store_writer *w, struct wop **ops, size_t n, struct uspc_err *err)
{
	for (size_t i = 0; i < n; i++) {
		char us[24];
		snprintf(us, sizeof(us), "%" PRId64, ops[i]->at_us);
		const char *p[3] = { ops[i]->eid, ops[i]->u.del.pattern, us };
		int rc = store_exec_prepared(w->db, &w->prep, wop_snapdel_sql, 3, p, NULL, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Keep table rejections bounded, by the newest op's settings. */
static int prune_rejections(struct store_writer *w, const struct wop *newest, struct uspc_err *err)
{
	char rows[24], age[24];
	snprintf(rows, sizeof(rows), "%d", newest->u.rej.max_rows);
	snprintf(age, sizeof(age), "%d", newest->u.rej.retention_s);
	const char *p[2] = { rows, newest->u.rej.retention_s ? age : NULL };
	return store_exec_prepared(w->db, &w->prep, wop_reject_prune_sql, 2, p, NULL, err);
}

/* One set-based statement for all ops of one kind. */
static int exec_kind(struct store_writer *w, enum wop_kind k, size_t *rows, uint64_t *stale,
		     struct uspc_err *err)
{
	struct wop **ops = w->by_kind[k];
	size_t n = w->n_kind[k];
	if (k == WOP_SNAPDEL)
		return exec_snapdel(w, ops, n, err);
	int ncols = wop_sql[k].cols;
	const char *params[MAX_COLS + 1];
	for (int c = 0; c < ncols; c++) {
		store_buf_reset(&w->col[c]);
		store_arr_begin(&w->col[c]);
	}
	int failed = 0;
	if (k == WOP_SNAPSHOT)
		*rows += wop_fill_snapshot(w->col, &w->doc, ops, n, &failed);
	else
		for (size_t i = 0; i < n; i++)
			*rows += wop_fill_row(w->col, ops[i]);
	if (failed)
		return uspc_err_set(err, STORE_E_NOMEM, "%s batch of %zu ops too large",
				    wop_kind_names[k], n);
	for (int c = 0; c < ncols; c++) {
		store_arr_end(&w->col[c]);
		params[c] = store_buf_str(&w->col[c]);
		if (!params[c])
			return uspc_err_set(err, STORE_E_NOMEM, "%s batch of %zu ops too large",
					    wop_kind_names[k], n);
	}
	int np = ncols;
	if (k == WOP_TASK || k == WOP_REJECT)
		params[np++] = w->node_id;
	PGresult *r = NULL;
	if (k == WOP_AGENT) {
		const char *ins[2] = { params[0], params[5] };
		int rc = store_exec_prepared(w->db, &w->prep, wop_agent_insert_sql, 2, ins, NULL,
					     err);
		if (rc < 0)
			return rc;
	}
	int rc = store_exec_prepared(w->db, &w->prep, wop_sql[k].sql, np, params, &r, err);
	if (rc == 0 && k == WOP_TASK && PQntuples(r) == 1)
		*stale += (uint64_t)n - (uint64_t)atoll(PQgetvalue(r, 0, 1));
	PQclear(r);
	if (rc == 0 && k == WOP_REJECT)
		rc = prune_rejections(w, ops[n - 1], err);
	return rc;
}

static void rollback(struct store_writer *w)
{
	if (w->db && PQstatus(w->db) == CONNECTION_OK) {
		PGresult *r = PQexec(w->db, "ROLLBACK");
		PQclear(r);
	}
}

/* The agents of this batch that finished onboarding and, when
 * with_online, those that came online, as a text array in b (one element
 * per op; duplicates are harmless). Returns how many. */
static size_t batch_agents(struct store_writer *w, int with_online, struct store_buf *b)
{
	size_t n = 0;
	store_buf_reset(b);
	store_arr_begin(b);
	for (size_t i = 0; i < w->n_kind[WOP_DEVINFO]; i++)
		if (w->by_kind[WOP_DEVINFO][i]->u.dev.onboarded) {
			store_arr_add(b, w->by_kind[WOP_DEVINFO][i]->eid);
			n++;
		}
	for (size_t i = 0; i < w->n_kind[WOP_AGENT] && with_online; i++)
		if (w->by_kind[WOP_AGENT][i]->u.agent.online) {
			store_arr_add(b, w->by_kind[WOP_AGENT][i]->eid);
			n++;
		}
	store_arr_end(b);
	return n;
}

/* Agents that finished onboarding get a provisioning profile run. */
static int agents_onboarded(struct store_writer *w, struct uspc_err *err)
{
	if (batch_agents(w, 0, &w->col[0]) == 0)
		return 0;
	const char *eids = store_buf_str(&w->col[0]);
	if (!eids)
		return uspc_err_set(err, STORE_E_NOMEM, "agent batch too large");
	return store_exec_prepared(w->db, &w->prep, wop_profile_kick_sql, 1, &eids, NULL, err);
}

/* Agents became ready for tasks: unpark their queued tasks and wake every
 * feeder once this commits. */
static int agents_ready(struct store_writer *w, struct uspc_err *err)
{
	int rc = agents_onboarded(w, err);
	if (rc < 0)
		return rc;
	/* ready: onboarded, or (unless tasks_require_onboarded) online */
	if (batch_agents(w, !w->tasks_require_onboarded, &w->col[0]) == 0)
		return 0;
	const char *eids = store_buf_str(&w->col[0]);
	if (!eids)
		return uspc_err_set(err, STORE_E_NOMEM, "agent batch too large");
	rc = store_exec_prepared(w->db, &w->prep, wop_unpark_sql, 1, &eids, NULL, err);
	if (rc == 0)
		rc = store_exec_prepared(w->db, &w->prep, wop_unpark_campaigns_sql, 1, &eids, NULL,
					 err);
	if (rc == 0)
		rc = store_exec(w->db, "SELECT pg_notify('uspc_task_new', 'agent_ready')", 0, NULL,
				NULL, err);
	return rc;
}

/* Write ops[0..n) in one transaction. On success adds to *rows / *stale. */
static int write_ops(struct store_writer *w, struct wop **ops, size_t n, size_t *rows,
		     uint64_t *stale, struct uspc_err *err)
{
	size_t r = 0;
	uint64_t s = 0;
	memset(w->n_kind, 0, sizeof(w->n_kind));
	for (size_t i = 0; i < n; i++) {
		enum wop_kind k = ops[i]->kind;
		w->by_kind[k][w->n_kind[k]++] = ops[i];
	}
	int rc = store_exec(w->db, "BEGIN", 0, NULL, NULL, err);
	for (int k = 0; rc == 0 && k < WOP_KIND_COUNT; k++)
		if (w->n_kind[k])
			rc = exec_kind(w, (enum wop_kind)k, &r, &s, err);
	if (rc == 0)
		rc = agents_ready(w, err);
	if (rc == 0)
		rc = store_exec(w->db, "COMMIT", 0, NULL, NULL, err);
	if (rc < 0) {
		rollback(w);
		return rc;
	}
	*rows += r;
	*stale += s;
	return 0;
}

static void account(struct store_writer *w, size_t written, size_t rejected, size_t rows,
		    uint64_t stale, int batch)
{
	pthread_mutex_lock(&w->mu);
	w->st.ops_written += written;
	w->st.ops_rejected += rejected;
	w->st.rows_written += rows;
	w->st.task_results_stale += stale;
	w->st.batches += (uint64_t)batch;
	pthread_mutex_unlock(&w->mu);
}

/* Sleep up to ms on the wake condition; returns early when stopping. */
static void nap(struct store_writer *w, int ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&w->mu);
	if (!w->stopping)
		pthread_cond_timedwait(&w->wake, &w->mu, &ts);
	pthread_mutex_unlock(&w->mu);
}

static int giving_up(struct store_writer *w)
{
	pthread_mutex_lock(&w->mu);
	int r = w->stopping && mono_ns() >= w->drain_deadline_ns;
	pthread_mutex_unlock(&w->mu);
	return r;
}

/* Exponential back-off with jitter (50..100% of the current step). */
static void backoff(struct store_writer *w)
{
	int ms = w->backoff_ms / 2 +
		 (int)(rand_r(&w->rand_seed) % (unsigned)(w->backoff_ms / 2 + 1));
	nap(w, ms);
	w->backoff_ms = w->backoff_ms * 2 > w->retry_max_ms ? w->retry_max_ms : w->backoff_ms * 2;
}

static void set_connected(struct store_writer *w, int up)
{
	pthread_mutex_lock(&w->mu);
	w->st.connected = up;
	if (up && w->ever_connected)
		w->st.reconnects++;
	if (up)
		w->ever_connected = 1;
	pthread_mutex_unlock(&w->mu);
}

/* Close the connection (it is dead, or must not be reused). */
static void drop_conn(struct store_writer *w)
{
	if (!w->db)
		return;
	store_guard_clear(&w->guard);
	PQfinish(w->db);
	w->db = NULL;
	store_prepared_reset(&w->prep);
	set_connected(w, 0);
}

static int ensure_conn(struct store_writer *w)
{
	if (w->db && PQstatus(w->db) == CONNECTION_OK)
		return 0;
	drop_conn(w);
	if (!w->down_since_ns)
		w->down_since_ns = mono_ns();
	struct uspc_err err = { 0 };
	store_prepared_reset(&w->prep);
	int rc = store_conn_open(&w->conn_opts, &w->db, &err);
	if (rc < 0) {
		log_debug(LOG_COMP, "writer: connect failed: %s", err.msg);
		return rc;
	}
	store_guard_set(&w->guard, w->db);
	set_connected(w, 1);
	int64_t down_ms = (mono_ns() - w->down_since_ns) / 1000000;
	if (w->st.reconnects)
		log_info(LOG_COMP, "writer: database connection restored after %" PRId64 " ms",
			 down_ms);
	w->down_since_ns = 0;
	w->backoff_ms = w->retry_min_ms;
	return 0;
}

/* A failure that is not about the ops' content: keep them, back off and
 * write them again. Returns 1 to give up (stop past its drain deadline). */
static int wait_to_retry(struct store_writer *w, size_t n, const struct uspc_err *err, int *warned)
{
	if (!(*warned)++)
		log_warn(LOG_COMP, "writer: %zu ops waiting for the database: %s", n,
			 err->code ? err->msg : "cannot connect");
	/* A host that turned read-only (failover), shut down or failed I/O is
	 * left: a new connection may reach the new primary. */
	if (err->code && store_err_needs_reconnect(err))
		drop_conn(w);
	else if (w->db && PQstatus(w->db) != CONNECTION_OK)
		drop_conn(w);
	pthread_mutex_lock(&w->mu);
	w->st.retries++;
	pthread_mutex_unlock(&w->mu);
	if (giving_up(w))
		return 1;
	backoff(w);
	return 0;
}

/*
 * Write ops[0..n) until each is committed, or rejected by PostgreSQL for
 * its content, or abandoned at stop after the drain deadline. A failure
 * that is not about the data (store_err_is_transient) keeps the batch
 * whole and retries it; any other failure writes the ops one by one so
 * only the op PostgreSQL refuses is dropped. Returns how many ops from the
 * start are finished for good; the rest (n - returned) were abandoned.
 */
static size_t write_batch(struct store_writer *w, struct wop **ops, size_t n)
{
	int warned = 0;
	for (;;) {
		struct uspc_err err = { 0 };
		size_t rows = 0;
		uint64_t stale = 0;
		if (ensure_conn(w) == 0 && write_ops(w, ops, n, &rows, &stale, &err) == 0) {
			account(w, n, 0, rows, stale, 1);
			return n;
		}
		if (err.code == 0 || store_err_is_transient(&err)) {
			if (wait_to_retry(w, n, &err, &warned))
				return 0;
			continue;
		}
		if (n == 1) {
			log_error(LOG_COMP, "writer: %s op for %s rejected: %s",
				  wop_kind_names[ops[0]->kind],
				  ops[0]->eid ? ops[0]->eid : "(task)", err.msg);
			account(w, 0, 1, 0, 0, 0);
			return 1;
		}
		log_warn(LOG_COMP,
			 "writer: batch of %zu ops rejected (%s); writing them one by one", n,
			 err.msg);
		for (size_t i = 0; i < n; i++)
			if (write_batch(w, &ops[i], 1) == 0)
				return i;
		return n;
	}
}

/* ---- thread, start, stop ------------------------------------------------ */

/* Move up to batch_max ops from the queue into w->batch; 0 when stopping
 * with an empty queue. Called with mu held. */
static size_t take_batch(struct store_writer *w)
{
	size_t n = 0;
	while (n < w->batch_max && w->head) {
		struct wop *op = w->head;
		w->head = op->next;
		if (!w->head)
			w->tail = NULL;
		op->next = NULL;
		w->q_ops--;
		w->q_bytes -= op->bytes;
		w->batch[n++] = op;
	}
	w->batch_ops = n;
	w->batch_oldest_ns = n ? w->batch[0]->enq_ns : 0;
	return n;
}

/* The batch's ops [0..ok) are finished for good, [ok..n) abandoned. */
static void batch_done(struct store_writer *w, size_t n, size_t ok)
{
	pthread_mutex_lock(&w->mu);
	for (size_t i = ok; i < n; i++)
		w->lost_by_kind[w->batch[i]->kind]++;
	/* Once an op is abandoned no later op is durable: durable counts a
	 * prefix of the submission order. */
	int advanced = ok && w->abandoned == 0;
	if (advanced)
		atomic_store(&w->durable, atomic_load(&w->durable) + ok);
	w->finished += n;
	w->abandoned += n - ok;
	w->batch_ops = 0;
	w->batch_oldest_ns = 0;
	/* Signalled before the lock is released, so whoever sees this batch
	 * finished (store_writer_flush) also sees its wake-up already on the
	 * fd, never a late one that looks like a later advance. */
	if (advanced) {
		uint64_t one = 1;
		ssize_t r = write(w->commit_fd, &one, sizeof(one));
		(void)r; /* EAGAIN: the counter is already non-zero, the reader wakes anyway */
	}
	pthread_cond_broadcast(&w->done);
	pthread_mutex_unlock(&w->mu);
}

#define IDLE_CONNECT_MS 2000 /* an idle writer's connection attempts */

static void *writer_main(void *arg)
{
	struct store_writer *w = arg;
	(void)pthread_setname_np(pthread_self(), STORE_WRITER_THREAD_NAME);
	for (;;) {
		pthread_mutex_lock(&w->mu);
		while (!w->head && !w->stopping) {
			if (w->db) {
				pthread_cond_wait(&w->wake, &w->mu);
				continue;
			}
			/* Idle without a connection (at start, or after a batch lost
			 * it): connect now, and again every IDLE_CONNECT_MS while
			 * that fails, so that the daemon's readiness (/healthz, the
			 * stats line) shows the database before the first write. */
			pthread_mutex_unlock(&w->mu);
			int up = ensure_conn(w) == 0;
			pthread_mutex_lock(&w->mu);
			if (!up && !w->head && !w->stopping) {
				struct timespec until;
				clock_gettime(CLOCK_MONOTONIC, &until);
				until.tv_sec += IDLE_CONNECT_MS / 1000;
				pthread_cond_timedwait(&w->wake, &w->mu, &until);
			}
		}
		size_t n = take_batch(w);
		int lost_before = w->abandoned > 0;
		pthread_mutex_unlock(&w->mu);
		if (n == 0)
			break;
		batch_done(w, n, lost_before ? 0 : write_batch(w, w->batch, n));
		for (size_t i = 0; i < n; i++)
			free(w->batch[i]);
	}
	drop_conn(w);
	return NULL;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void writer_free(struct store_writer *w)
{
	if (!w)
		return;
	for (int c = 0; c < MAX_COLS; c++)
		store_buf_fini(&w->col[c]);
	store_buf_fini(&w->doc);
	for (int k = 0; k < WOP_KIND_COUNT; k++)
		free(w->by_kind[k]);
	free(w->batch);
	free(w->conninfo);
	if (w->password) {
		memset(w->password, 0, strlen(w->password));
		free(w->password);
	}
	free(w->password_file);
	free(w->node_id);
	if (w->commit_fd >= 0)
		close(w->commit_fd);
	store_guard_fini(&w->guard);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->wake);
	pthread_cond_destroy(&w->done);
	free(w);
}

static int writer_alloc(struct store_writer *w, const struct store_writer_opts *o)
{
	w->conninfo = dup_or_null(o->conn.conninfo);
	w->password = dup_or_null(o->conn.password);
	w->password_file = dup_or_null(o->conn.password_file);
	w->node_id = strdup(o->node_id);
	w->conn_opts = o->conn;
	w->conn_opts.conninfo = w->conninfo;
	w->conn_opts.password = w->password;
	w->conn_opts.password_file = w->password_file;
	w->conn_opts.application_name = "uspc-writer";
	w->conn_opts.keyed_access = 1;
	if (o->statement_timeout_ms > 0)
		w->conn_opts.statement_timeout_ms = o->statement_timeout_ms;
	w->batch = calloc(w->batch_max, sizeof(*w->batch));
	w->commit_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	int ok = w->node_id && w->batch && w->commit_fd >= 0 &&
		 (w->conninfo || !o->conn.conninfo) && (w->password || !o->conn.password) &&
		 (w->password_file || !o->conn.password_file);
	for (int k = 0; k < WOP_KIND_COUNT; k++) {
		w->by_kind[k] = calloc(w->batch_max, sizeof(*w->by_kind[k]));
		ok = ok && w->by_kind[k];
	}
	/* Caps, not allocations. Array escaping at most doubles the data; a
	 * snapshot document's JSON escaping (a control byte → 6 bytes) and then
	 * its array escaping at most multiply it by 7. Plus quotes and
	 * separators. */
	for (int c = 0; c < MAX_COLS; c++)
		store_buf_init(&w->col[c], 7 * w->max_bytes + 64 * w->batch_max + 4096);
	store_buf_init(&w->doc, 6 * w->max_bytes + 4096);
	return ok ? 0 : -1;
}

int store_writer_start(const struct store_writer_opts *o, struct store_writer **out,
		       struct uspc_err *err)
{
	*out = NULL;
	if (!o || !o->node_id || !*o->node_id || strlen(o->node_id) > STORE_NAME_MAX)
		return uspc_err_set(err, STORE_E_ARG,
				    "store writer: node_id is required (1..%d bytes)",
				    STORE_NAME_MAX);
	struct store_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return uspc_err_set(err, STORE_E_NOMEM, "store writer: out of memory");
	w->commit_fd = -1;
	pthread_mutex_init(&w->mu, NULL);
	store_guard_init(&w->guard);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->wake, &ca);
	pthread_cond_init(&w->done, &ca);
	pthread_condattr_destroy(&ca);
	w->max_ops = o->queue_max_ops ? o->queue_max_ops : 65536;
	w->max_bytes = o->queue_max_bytes ? o->queue_max_bytes : (size_t)256 << 20;
	w->batch_max = o->batch_max_ops ? o->batch_max_ops : 1000;
	w->retry_min_ms = o->retry_min_ms > 0 ? o->retry_min_ms : 100;
	w->retry_max_ms = o->retry_max_ms > 0 ? o->retry_max_ms : 5000;
	w->tasks_require_onboarded = o->tasks_require_onboarded ? 1 : 0;
	if (w->retry_max_ms < w->retry_min_ms)
		w->retry_max_ms = w->retry_min_ms;
	w->backoff_ms = w->retry_min_ms;
	w->rand_seed = (unsigned)mono_ns() ^ (unsigned)(uintptr_t)w;
	if (writer_alloc(w, o) < 0) {
		writer_free(w);
		return uspc_err_set(err, STORE_E_NOMEM, "store writer: out of memory");
	}
	int e = pthread_create(&w->thread, NULL, writer_main, w);
	if (e) {
		writer_free(w);
		return uspc_err_set(err, STORE_E_NOMEM, "store writer: cannot start thread: %s",
				    strerror(e));
	}
	*out = w;
	return 0;
}

const char *store_writer_kind_name(unsigned kind)
{
	return kind < WOP_KIND_COUNT ? wop_kind_names[kind] : "?";
}

/* "notification 12, task_result 1" for the kinds with a count. */
static void fmt_by_kind(const uint64_t *by_kind, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (unsigned k = 0; k < WOP_KIND_COUNT; k++) {
		if (!by_kind[k] || used >= len)
			continue;
		int m = snprintf(buf + used, len - used, "%s%s %" PRIu64, used ? ", " : "",
				 wop_kind_names[k], by_kind[k]);
		used += m > 0 ? (size_t)m : 0;
	}
}

size_t store_writer_stop_report(struct store_writer *w, int drain_ms,
				uint64_t lost_by_kind[STORE_WRITER_KINDS])
{
	if (lost_by_kind)
		memset(lost_by_kind, 0, STORE_WRITER_KINDS * sizeof(lost_by_kind[0]));
	if (!w)
		return 0;
	pthread_mutex_lock(&w->mu);
	w->stopping = 1;
	w->drain_deadline_ns = mono_ns() + (int64_t)(drain_ms > 0 ? drain_ms : 0) * 1000000;
	pthread_cond_broadcast(&w->wake);
	pthread_mutex_unlock(&w->mu);
	/* A frozen server trips no timeout: past the drain (and a second for
	 * the thread to notice), cut its connection so the thread gives up. */
	if (store_guard_join(&w->guard, w->thread, (drain_ms > 0 ? drain_ms : 0) + 1000))
		log_warn(LOG_COMP,
			 "writer: the database did not answer within the %d ms drain; "
			 "its connection was cut",
			 drain_ms);
	size_t lost = (size_t)w->abandoned;
	if (lost) {
		char kinds[512];
		fmt_by_kind(w->lost_by_kind, kinds, sizeof(kinds));
		log_error(LOG_COMP,
			  "writer: stopped with %zu ops NOT written (database unreachable "
			  "for the %d ms drain): %s",
			  lost, drain_ms, kinds);
	}
	if (lost_by_kind)
		memcpy(lost_by_kind, w->lost_by_kind, sizeof(w->lost_by_kind));
	writer_free(w);
	return lost;
}

size_t store_writer_stop(struct store_writer *w, int drain_ms)
{
	return store_writer_stop_report(w, drain_ms, NULL);
}

uint64_t store_writer_submitted(struct store_writer *w)
{
	pthread_mutex_lock(&w->mu);
	uint64_t n = w->submitted;
	pthread_mutex_unlock(&w->mu);
	return n;
}

uint64_t store_writer_durable(struct store_writer *w)
{
	return atomic_load(&w->durable);
}

int store_writer_commit_fd(const struct store_writer *w)
{
	return w->commit_fd;
}

int store_writer_flush(struct store_writer *w, int timeout_ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	int rc = 0;
	pthread_mutex_lock(&w->mu);
	uint64_t target = w->submitted;
	while (w->finished < target && rc == 0)
		if (pthread_cond_timedwait(&w->done, &w->mu, &ts) == ETIMEDOUT)
			rc = w->finished < target ? STORE_E_TIMEOUT : 0;
	pthread_mutex_unlock(&w->mu);
	return rc;
}

void store_writer_stats(struct store_writer *w, struct store_writer_stats *out)
{
	pthread_mutex_lock(&w->mu);
	*out = w->st;
	out->queue_ops = w->q_ops;
	out->queue_bytes = w->q_bytes;
	out->batch_ops = w->batch_ops;
	int64_t oldest = w->batch_oldest_ns ? w->batch_oldest_ns : (w->head ? w->head->enq_ns : 0);
	pthread_mutex_unlock(&w->mu);
	out->lag_ms = oldest ? (mono_ns() - oldest) / 1000000 : 0;
}
