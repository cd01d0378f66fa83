/*
 * uspctl_run.c — the batch engine (see uspctl_run.h).
 *
 * Owns the run: the database connection (LISTEN uspc_task_done), the input
 * reader, the queue of commands whose tasks are not all inserted yet, and
 * the table of tasks in flight. Single-threaded.
 *
 * Flow: a line is read only while fewer than max_inflight tasks are in
 * flight and no earlier command still has tasks to insert, so memory stays
 * bounded whatever the input size. Results arrive by NOTIFY (a wake-up
 * carrying task ids); the task table is the truth and is polled every
 * poll_ms as a safety net. Invariant: every agent a command resolved to
 * gets exactly one result line — a result, an error, or a timeout.
 */
#include "uspctl_run.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "log.h"
#include "store_query.h"
#include "store_schema.h"
#include "uspctl_db.h"
#include "uspctl_internal.h"

#define INSERT_CHUNK 1000       /* tasks per INSERT statement */
#define QUERY_CHUNK 10000       /* task ids per status query */
#define WAKE_IDS 16384          /* task ids taken from notifications per wait */
#define TICK_MS 250             /* deadline / expiry checks */
#define INTERRUPT_GRACE_MS 2000 /* after SIGINT: for answers on their way */
#define COMPLETION_POLL_MS 500  /* operation_results while completions are awaited */
#define RECONNECT_FOR_MS 30000

/* The only process-wide state: set from a signal handler (uspctl) or from
 * another thread (uspc-api stopping), read by every run's loop: a relaxed
 * atomic, lock-free, so both are safe. */
static volatile sig_atomic_t interrupted;

void uspctl_run_interrupt(void)
{
	__atomic_store_n(&interrupted, 1, __ATOMIC_RELAXED);
}

int uspctl_interrupted(void)
{
	return __atomic_load_n(&interrupted, __ATOMIC_RELAXED) != 0;
}

void uspctl_opts_init(struct uspctl_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->wait = 1;
	o->timeout_s = USPCTL_DEFAULT_TIMEOUT_S;
	o->expires_s = -1;
	o->max_inflight = 10000;
	o->progress = -1;
	o->poll_ms = 2000;
	o->clock_offset_s = 0;
}

/* ---- database connection ------------------------------------------------- */

static int db_open(struct uspctl_run *r, struct uspc_err *err)
{
	if (r->o->conn) {
		r->db = r->o->conn;
		return store_query_listen_done(r->db, err);
	}
	struct store_conn_opts co = { .conninfo = r->o->db, .application_name = "uspctl" };
	int rc = store_conn_open(&co, &r->db, err);
	if (rc == 0)
		rc = store_query_listen_done(r->db, err);
	if (rc < 0 && r->db) {
		PQfinish(r->db);
		r->db = NULL;
	}
	return rc;
}

int uspctl_db_recover(struct uspctl_run *r, const struct uspc_err *err)
{
	if (r->fatal)
		return -1;
	if (r->db && PQstatus(r->db) == CONNECTION_OK && !store_err_is_transient(err))
		return -1; /* the statement itself failed: not worth a retry */
	if (r->o->conn) {  /* borrowed: its owner reconnects, not this run */
		r->fatal = 1;
		snprintf(r->fatal_msg, sizeof(r->fatal_msg), "database connection lost: %s",
			 err->msg);
		return -1;
	}
	log_warn("uspctl", "database connection lost (%s); reconnecting", err->msg);
	if (r->db)
		PQfinish(r->db);
	r->db = NULL;
	int64_t until = uspctl_now_ms() + RECONNECT_FOR_MS;
	int delay = 250;
	struct uspc_err e = { 0 };
	while (uspctl_now_ms() < until) {
		if (db_open(r, &e) == 0) {
			log_warn("uspctl", "database connection re-established");
			return 0;
		}
		struct timespec ts = { delay / 1000, (delay % 1000) * 1000000L };
		nanosleep(&ts, NULL);
		delay = delay < 4000 ? delay * 2 : 4000;
	}
	r->fatal = 1;
	snprintf(r->fatal_msg, sizeof(r->fatal_msg), "database unreachable for %d s: %s",
		 RECONNECT_FOR_MS / 1000, e.msg);
	return -1;
}

/* ---- jobs ------------------------------------------------------------------ */

static void job_free(struct uspctl_job *j)
{
	if (!j)
		return;
	store_strv_free(j->eids, j->n_eids);
	free(j->request_json);
	free(j->command_key);
	free(j);
}

/* One result of j was written; free j once all are written. */
static void job_result_done(struct uspctl_job *j)
{
	if (--j->open == 0 && j->next_eid == j->n_eids)
		job_free(j);
}

static int64_t effective_ms(double cmd_s, double global_s)
{
	double s = cmd_s > 0 ? cmd_s : global_s;
	return (int64_t)(s * 1000.0 + 0.5);
}

/* Operate with wait_complete needs a command_key to match the
 * OperationComplete: take the given one or make a unique one. */
static int job_command_key(struct uspctl_run *r, struct uspctl_job *j, cJSON *args)
{
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(args, "command_key");
	if (cJSON_IsString(k) && k->valuestring[0]) {
		j->command_key = strdup(k->valuestring);
	} else {
		char key[160];
		snprintf(key, sizeof(key), "%s-%ld", r->run_id, j->line);
		cJSON_DeleteItemFromObjectCaseSensitive(args, "command_key");
		cJSON_AddStringToObject(args, "command_key", key);
		j->command_key = strdup(key);
	}
	return j->command_key ? 0 : -1;
}

static struct uspctl_job *job_new(struct uspctl_run *r, struct uspctl_cmd *c, long line)
{
	struct uspctl_job *j = calloc(1, sizeof(*j));
	if (!j)
		return NULL;
	snprintf(j->id, sizeof(j->id), "%s", c->id);
	j->line = line;
	snprintf(j->batch, sizeof(j->batch), "%s-%ld", r->run_id, line);
	j->usp_type = c->usp_type;
	j->wait = c->wait >= 0 ? c->wait : r->o->wait;
	j->wait_complete = c->op == USPCTL_OP_OPERATE && c->wait_complete > 0 && j->wait;
	j->timeout_ms = effective_ms(c->timeout_s, r->o->timeout_s);
	j->max_inflight = c->max_inflight > 0 && c->max_inflight < r->o->max_inflight
				  ? (size_t)c->max_inflight
				  : (size_t)r->o->max_inflight;
	if (c->expires_s > 0 || r->o->expires_s > 0)
		j->expires_ms = effective_ms(c->expires_s, r->o->expires_s);
	else
		j->expires_ms =
			j->wait ? j->timeout_ms : (int64_t)(USPCTL_DEFAULT_NOWAIT_EXPIRES_S * 1000);
	if ((j->wait_complete && job_command_key(r, j, c->usp_args) < 0) ||
	    !(j->request_json = cJSON_PrintUnformatted(c->usp_args))) {
		job_free(j);
		return NULL;
	}
	return j;
}

static void handle_usp(struct uspctl_run *r, struct uspctl_cmd *c, long line)
{
	char **eids = NULL;
	size_t n = 0;
	if (uspctl_resolve(r, c, line, &eids, &n) < 0)
		return;
	if (n == 0) {
		store_strv_free(eids, n);
		if (!c->targets.n_eids)
			uspctl_out_line_error(&r->out, c->id, line, USPCTL_E_NO_TARGETS,
					      "no agent matches the selector");
		return;
	}
	struct uspctl_job *j = job_new(r, c, line);
	if (!j) {
		store_strv_free(eids, n);
		uspctl_out_line_error(&r->out, c->id, line, USPCTL_E_INTERNAL, "out of memory");
		return;
	}
	j->eids = eids;
	j->n_eids = j->open = n;
	uspctl_out_expect(&r->out, n);
	if (r->q_tail)
		r->q_tail->next = j;
	else
		r->q_head = j;
	r->q_tail = j;
}

/* ---- input ----------------------------------------------------------------- */

struct reader {
	int fd;
	char *buf; /* the line being assembled, USPCTL_LINE_MAX + 1 bytes */
	size_t len;
	int too_long;
	char chunk[65536]; /* bytes read from fd, not yet consumed */
	size_t c_off, c_len;
	long line;
	int eof;
};

enum { LINE_EOF = -1, LINE_TOO_LONG = -2, LINE_NOT_YET = -3 };

static long line_done(struct reader *rd)
{
	long n = rd->too_long ? LINE_TOO_LONG : (long)rd->len;
	rd->buf[rd->len] = '\0';
	rd->line++;
	rd->len = 0;
	rd->too_long = 0;
	return n;
}

/* Take bytes from the chunk up to a newline. 1 when a line is complete. */
static int consume(struct reader *rd)
{
	const char *p = rd->chunk + rd->c_off;
	size_t avail = rd->c_len - rd->c_off;
	const char *nl = memchr(p, '\n', avail);
	size_t take = nl ? (size_t)(nl - p) : avail;
	size_t room = USPCTL_LINE_MAX - rd->len;
	if (take > room)
		rd->too_long = 1;
	memcpy(rd->buf + rd->len, p, take < room ? take : room);
	rd->len += take < room ? take : room;
	rd->c_off += take + (nl ? 1 : 0);
	return nl != NULL;
}

/*
 * Next line into rd->buf (NUL-terminated, no newline). Returns its length,
 * LINE_EOF at the end of input, LINE_TOO_LONG for a line over
 * USPCTL_LINE_MAX (skipped), or LINE_NOT_YET when !block and no whole line
 * is available without waiting.
 */
static long read_line(struct reader *rd, int block)
{
	for (;;) {
		if (rd->c_off < rd->c_len && consume(rd))
			return line_done(rd);
		if (rd->eof)
			return rd->len || rd->too_long ? line_done(rd) : LINE_EOF;
		if (!block) {
			struct pollfd pfd = { .fd = rd->fd, .events = POLLIN };
			if (poll(&pfd, 1, 0) <= 0)
				return LINE_NOT_YET;
		}
		ssize_t n = read(rd->fd, rd->chunk, sizeof(rd->chunk));
		if (n < 0 && errno == EINTR && uspctl_interrupted())
			return LINE_EOF;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			log_error("uspctl", "reading input: %s", strerror(errno));
		if (n <= 0) {
			rd->eof = 1;
			continue;
		}
		rd->c_off = 0;
		rd->c_len = (size_t)n;
	}
}

static int is_blank_or_comment(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '#')
			return 1;
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	}
	return 1;
}

static void handle_line(struct uspctl_run *r, struct reader *rd, long len)
{
	struct uspctl_cmd c;
	struct uspc_err err = { 0 };
	if (len == LINE_TOO_LONG) {
		r->out.commands++;
		uspctl_out_line_error(&r->out, NULL, rd->line, USPCTL_E_LINE_TOO_LONG,
				      "line longer than 1048576 bytes (skipped)");
		return;
	}
	if (is_blank_or_comment(rd->buf, (size_t)len))
		return;
	r->out.commands++;
	if (uspctl_cmd_parse(rd->buf, (size_t)len, &c, &err) < 0) {
		uspctl_out_line_error(&r->out, c.id, rd->line, err.code, err.msg);
		uspctl_cmd_fini(&c);
		return;
	}
	if (uspctl_op_is_usp(c.op))
		handle_usp(r, &c, rd->line);
	else if (uspctl_op_is_campaign(c.op))
		uspctl_campaign(r, &c, rd->line);
	else if (uspctl_op_is_profile(c.op))
		uspctl_profile(r, &c, rd->line);
	else
		uspctl_fleet(r, &c, rd->line);
	uspctl_cmd_fini(&c);
}

/* Read and handle lines while there is room; block for input only when
 * nothing is in flight (so results keep flowing to an interactive user). */
static void fill(struct uspctl_run *r, struct reader *rd)
{
	while (!r->fatal && !r->q_head && !r->in_done &&
	       uspctl_track_count(&r->track) < (size_t)r->o->max_inflight) {
		long len = read_line(rd, uspctl_track_count(&r->track) == 0);
		if (len == LINE_NOT_YET)
			break;
		if (len == LINE_EOF) {
			r->in_done = 1;
			break;
		}
		handle_line(r, rd, len);
	}
}

/* ---- inserting tasks --------------------------------------------------------- */

static void started(struct uspctl_run *r, struct uspctl_job *j, const char *eid, int64_t id,
		    int64_t now)
{
	if (!j->wait) {
		char batch[128];
		snprintf(batch, sizeof(batch), "{\"state\":\"queued\",\"batch\":\"%s\"}", j->batch);
		uspctl_out_ok(&r->out, j->id, eid, id, batch, NULL, NULL);
		job_result_done(j);
		return;
	}
	struct uspctl_pend p = { .task = id,
				 .job = j,
				 .eid = eid,
				 .deadline_ms = now + j->timeout_ms,
				 .expires_ms = j->expires_ms ? now + j->expires_ms : 0 };
	if (uspctl_track_add(&r->track, &p) < 0) {
		uspctl_out_fail(&r->out, j->id, eid, id, USPCTL_E_INTERNAL,
				"task table full (internal error)", 0, NULL, NULL);
		job_result_done(j);
		return;
	}
	j->inflight++;
}

/* After a lost connection: did the INSERT commit? (It is one statement, so
 * all of the chunk or none of it.) Returns 1 when adopted. */
static int adopt_chunk(struct uspctl_run *r, struct uspctl_job *j, size_t k, int64_t *ids)
{
	struct uspc_err err = { 0 };
	PGresult *res = NULL;
	const char *const *eids = (const char *const *)j->eids + j->next_eid;
	if (uspctl_db_adopt(r->db, j->batch, eids, k, &res, &err) < 0 ||
	    (size_t)PQntuples(res) != k) {
		PQclear(res);
		return 0;
	}
	for (size_t i = 0; i < k; i++) {
		const char *eid = PQgetvalue(res, (int)i, 1);
		for (size_t x = 0; x < k; x++)
			if (!strcmp(eids[x], eid))
				ids[x] = strtoll(PQgetvalue(res, (int)i, 0), NULL, 10);
	}
	PQclear(res);
	return 1;
}

static int insert_chunk(struct uspctl_run *r, struct uspctl_job *j, size_t k, int64_t *ids)
{
	struct store_task_spec spec = { .op = j->usp_type,
					.request_json = j->request_json,
					.batch_id = j->batch,
					.expires_in_ms = j->expires_ms };
	const char *const *eids = (const char *const *)j->eids + j->next_eid;
	struct uspc_err err = { 0 };
	for (int attempt = 0; attempt < 3; attempt++) {
		if (store_query_insert_tasks(r->db, eids, k, &spec, ids, &err) == 0)
			return 0;
		if (uspctl_db_recover(r, &err) < 0)
			break;
		if (adopt_chunk(r, j, k, ids))
			return 0;
	}
	for (size_t i = 0; i < k; i++) {
		uspctl_out_fail(&r->out, j->id, eids[i], -1, USPCTL_E_DATABASE, err.msg, 0, NULL,
				NULL);
		job_result_done(j);
	}
	return USPCTL_E_DATABASE;
}

static void insert_pending(struct uspctl_run *r)
{
	int64_t *ids = r->insert_ids;
	while (r->q_head && !r->fatal) {
		struct uspctl_job *j = r->q_head;
		size_t room = (size_t)r->o->max_inflight - uspctl_track_count(&r->track);
		size_t k = j->n_eids - j->next_eid;
		if (j->max_inflight - j->inflight < room)
			room = j->max_inflight - j->inflight;
		if (room == 0)
			return;
		if (k > room)
			k = room;
		if (k > INSERT_CHUNK)
			k = INSERT_CHUNK;
		size_t first = j->next_eid;
		int ok = insert_chunk(r, j, k, ids) == 0;
		/* j may only be freed after next_eid has moved past the chunk */
		j->next_eid += k;
		int last = j->next_eid == j->n_eids;
		if (last) {
			r->q_head = j->next;
			if (!r->q_head)
				r->q_tail = NULL;
		}
		int64_t now = uspctl_now_ms();
		j->open++; /* hold j while its chunk is reported */
		for (size_t i = 0; ok && i < k; i++)
			started(r, j, j->eids[first + i], ids[i], now);
		job_result_done(j);
	}
}

/* ---- results ----------------------------------------------------------------- */

/* Operate results that name a Request object: completions still to come. */
static int async_count(const char *result_json)
{
	cJSON *j = cJSON_Parse(result_json ? result_json : "");
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "operation_results");
	int n = 0;
	for (const cJSON *e = list ? list->child : NULL; e; e = e->next)
		if (cJSON_GetObjectItemCaseSensitive(e, "req_obj_path"))
			n++;
	cJSON_Delete(j);
	return n;
}

static void finish(struct uspctl_run *r, struct uspctl_pend *p)
{
	struct uspctl_job *j = p->job;
	uspctl_track_remove(&r->track, p->task);
	j->inflight--;
	job_result_done(j);
}

static const char *col(PGresult *res, int row, int c)
{
	return PQgetisnull(res, row, c) ? NULL : PQgetvalue(res, row, c);
}

/* jsonb text ("a": 1, spaces) as compact JSON; NULL → "null". The caller
 * frees. Whitespace outside strings is removed in place (cJSON_Minify): the
 * text stays byte for byte what PostgreSQL printed, numbers included, and a
 * 1 KB result is not parsed into a tree and printed again (that was a third
 * of uspctl's CPU in a fan-out). */
static char *compact(const char *text)
{
	char *out = strdup(text ? text : "null");
	if (out)
		cJSON_Minify(out);
	return out;
}

/* A task row in a final state (or, with at_deadline, in any state). */
static void handle_task_row(struct uspctl_run *r, PGresult *res, int row, int at_deadline)
{
	int64_t id = strtoll(PQgetvalue(res, row, USPCTL_DB_T_ID), NULL, 10);
	struct uspctl_pend *p = uspctl_track_find(&r->track, id);
	if (!p || p->phase != USPCTL_PHASE_TASK)
		return;
	const char *state = PQgetvalue(res, row, USPCTL_DB_T_STATE);
	char *result = compact(col(res, row, USPCTL_DB_T_RESULT));
	const char *msg = col(res, row, USPCTL_DB_T_ERROR_MESSAGE);
	const char *code_s = col(res, row, USPCTL_DB_T_ERROR_CODE);
	uint32_t code = code_s ? (uint32_t)strtoul(code_s, NULL, 10) : 0;
	struct uspctl_job *j = p->job;
	char why[256];
	if (!strcmp(state, "done")) {
		int n = j->wait_complete ? async_count(result) : 0;
		if (n > 0 && !at_deadline && result) {
			p->result = result; /* the table owns it now */
			p->phase = USPCTL_PHASE_COMPLETE;
			p->expect = n;
			return;
		}
		if (n > 0)
			uspctl_out_fail(&r->out, j->id, p->eid, id, USPCTL_E_TIMEOUT,
					"no OperationComplete before the timeout", 0, "result",
					result);
		else
			uspctl_out_ok(&r->out, j->id, p->eid, id, result ? result : "null", NULL,
				      NULL);
		free(result);
		result = NULL;
	} else if (!strcmp(state, "failed")) {
		/* a USP Error's param_errs say which parameter failed and why */
		int has = result && strcmp(result, "null") != 0;
		uspctl_out_fail(&r->out, j->id, p->eid, id,
				code ? USPCTL_E_USP_ERROR : USPCTL_E_TASK_FAILED, msg, code,
				has ? "result" : NULL, has ? result : NULL);
	} else if (!strcmp(state, "expired")) {
		uspctl_out_fail(&r->out, j->id, p->eid, id, USPCTL_E_EXPIRED, msg, 0, NULL, NULL);
	} else if (!strcmp(state, "canceled")) {
		uspctl_out_fail(&r->out, j->id, p->eid, id, USPCTL_E_CANCELED,
				msg ? msg : "the task was canceled", 0, NULL, NULL);
	} else if (!strcmp(state, "unknown")) {
		/* sent, maybe run by the agent, answer lost: never sent again */
		uspctl_out_fail(&r->out, j->id, p->eid, id, USPCTL_E_OUTCOME_UNKNOWN,
				msg ? msg : "outcome unknown", 0, NULL, NULL);
	} else if (at_deadline) {
		const char *exp = col(res, row, USPCTL_DB_T_EXPIRES_AT);
		if (!strcmp(state, "queued"))
			snprintf(
				why, sizeof(why),
				"no result within %.1f s: task still queued (agent offline or no daemon running); it expires at %s",
				(double)j->timeout_ms / 1000, exp ? exp : "never");
		else
			snprintf(why, sizeof(why),
				 "no result within %.1f s: task %s to the agent, answer not in yet",
				 (double)j->timeout_ms / 1000, state);
		uspctl_out_fail(&r->out, j->id, p->eid, id, USPCTL_E_TIMEOUT, why, 0, NULL, NULL);
	} else {
		free(result);
		return;
	}
	free(result);
	finish(r, p);
}

/* Query the tasks among ids (chunked) and hand each row over. */
static void query_tasks(struct uspctl_run *r, const int64_t *ids, size_t n, int at_deadline)
{
	for (size_t off = 0; off < n && !r->fatal;) {
		size_t k = n - off < QUERY_CHUNK ? n - off : QUERY_CHUNK;
		struct uspc_err err = { 0 };
		PGresult *res = NULL;
		if (uspctl_db_tasks(r->db, ids + off, k, !at_deadline, &res, &err) < 0) {
			if (uspctl_db_recover(r, &err) == 0)
				continue;
			if (!r->fatal)
				log_error("uspctl", "reading task states: %s", err.msg);
			return;
		}
		for (int i = 0; i < PQntuples(res); i++)
			handle_task_row(r, res, i, at_deadline);
		PQclear(res);
		off += k;
	}
}

/* ---- OperationComplete ---------------------------------------------------------- */

/* One completion row as {"obj_path","command_name","state","output_args"|"err_code","err_msg"}. */
static cJSON *completion_json(PGresult *res, int i)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "obj_path", PQgetvalue(res, i, USPCTL_DB_C_OBJ_PATH));
	cJSON_AddStringToObject(o, "command_name", PQgetvalue(res, i, USPCTL_DB_C_COMMAND_NAME));
	cJSON_AddStringToObject(o, "state", PQgetvalue(res, i, USPCTL_DB_C_STATE));
	const char *out = col(res, i, USPCTL_DB_C_OUTPUT);
	cJSON *args = out ? cJSON_Parse(out) : NULL;
	cJSON_AddItemToObject(o, "output_args", args ? args : cJSON_CreateObject());
	const char *code = col(res, i, USPCTL_DB_C_ERR_CODE);
	if (code && strcmp(code, "0") != 0)
		cJSON_AddNumberToObject(o, "err_code", strtod(code, NULL));
	const char *msg = col(res, i, USPCTL_DB_C_ERR_MSG);
	if (msg && msg[0])
		cJSON_AddStringToObject(o, "err_msg", msg);
	return o;
}

/* Rows [from, to) are the completions of task p: print once all are in. */
static void handle_completions(struct uspctl_run *r, struct uspctl_pend *p, PGresult *res, int from,
			       int to)
{
	if (to - from < p->expect)
		return;
	cJSON *arr = cJSON_CreateArray();
	int failed = -1;
	for (int i = from; i < to; i++) {
		cJSON_AddItemToArray(arr, completion_json(res, i));
		if (failed < 0 && strcmp(PQgetvalue(res, i, USPCTL_DB_C_STATE), "failed") == 0)
			failed = i;
	}
	char *text = cJSON_PrintUnformatted(arr);
	cJSON_Delete(arr);
	struct uspctl_job *j = p->job;
	if (failed < 0) {
		uspctl_out_ok(&r->out, j->id, p->eid, p->task, p->result, "completions", text);
	} else {
		const char *code = col(res, failed, USPCTL_DB_C_ERR_CODE);
		const char *msg = col(res, failed, USPCTL_DB_C_ERR_MSG);
		uspctl_out_fail(&r->out, j->id, p->eid, p->task, USPCTL_E_USP_ERROR,
				msg && msg[0] ? msg : "command failed",
				code ? (uint32_t)strtoul(code, NULL, 10) : 0, "completions", text);
	}
	cJSON_free(text);
	finish(r, p);
}

static void poll_completions(struct uspctl_run *r)
{
	size_t n = 0, cap = uspctl_track_count(&r->track);
	int64_t *ids = malloc((cap ? cap : 1) * sizeof(*ids));
	const char **eids = malloc((cap ? cap : 1) * sizeof(*eids));
	const char **keys = malloc((cap ? cap : 1) * sizeof(*keys));
	PGresult *res = NULL;
	struct uspc_err err = { 0 };
	if (!ids || !eids || !keys)
		goto out;
	for (size_t i = 0; i < cap && n < USPCTL_DB_MAX_IDS; i++) {
		const struct uspctl_pend *p = &r->track.v[i];
		if (p->phase != USPCTL_PHASE_COMPLETE)
			continue;
		ids[n] = p->task;
		eids[n] = p->eid;
		keys[n++] = p->job->command_key;
	}
	if (n == 0)
		goto out;
	if (uspctl_db_completions(r->db, ids, eids, keys, n, &res, &err) < 0) {
		if (uspctl_db_recover(r, &err) < 0 && !r->fatal)
			log_error("uspctl", "reading operation results: %s", err.msg);
		goto out;
	}
	for (int i = 0, rows = PQntuples(res); i < rows;) {
		int64_t task = strtoll(PQgetvalue(res, i, USPCTL_DB_C_TASK), NULL, 10);
		int k = i;
		while (k < rows && strtoll(PQgetvalue(res, k, USPCTL_DB_C_TASK), NULL, 10) == task)
			k++;
		struct uspctl_pend *p = uspctl_track_find(&r->track, task);
		if (p && p->phase == USPCTL_PHASE_COMPLETE)
			handle_completions(r, p, res, i, k);
		i = k;
	}
out:
	PQclear(res);
	free(ids);
	free(eids);
	free(keys);
}

/* ---- sweeps ------------------------------------------------------------------------ */

enum sweep { SWEEP_ALL, SWEEP_EXPIRED, SWEEP_DEADLINE };

/* Task ids of entries in PHASE_TASK matching the sweep (the caller frees). */
static size_t collect(struct uspctl_run *r, enum sweep what, int64_t now, int64_t **out)
{
	size_t n = 0, cap = uspctl_track_count(&r->track);
	*out = malloc((cap ? cap : 1) * sizeof(**out));
	for (size_t i = 0; *out && i < cap; i++) {
		const struct uspctl_pend *p = &r->track.v[i];
		int due = what == SWEEP_ALL ||
			  (what == SWEEP_EXPIRED && p->expires_ms && p->expires_ms <= now) ||
			  (what == SWEEP_DEADLINE && p->deadline_ms <= now);
		if (due && (p->phase == USPCTL_PHASE_TASK || what == SWEEP_DEADLINE))
			(*out)[n++] = p->task;
	}
	return n;
}

/* Tasks past their deadline: report what they are doing and stop waiting. */
static void sweep_deadlines(struct uspctl_run *r, int64_t now)
{
	int64_t *ids;
	size_t n = collect(r, SWEEP_DEADLINE, now, &ids);
	if (n) {
		poll_completions(r); /* a last look before giving up */
		query_tasks(r, ids, n, 1);
		/* whatever is left (a COMPLETE-phase entry, or a row we could not
		 * read) times out here */
		for (size_t i = 0; i < n; i++) {
			struct uspctl_pend *p = uspctl_track_find(&r->track, ids[i]);
			if (!p)
				continue;
			struct uspctl_job *j = p->job;
			if (p->phase == USPCTL_PHASE_COMPLETE)
				uspctl_out_fail(
					&r->out, j->id, p->eid, p->task, USPCTL_E_TIMEOUT,
					"the agent accepted the command; no OperationComplete before the timeout",
					0, "result", p->result);
			else
				uspctl_out_fail(
					&r->out, j->id, p->eid, p->task, USPCTL_E_TIMEOUT,
					"no result before the timeout (task state unreadable)", 0,
					NULL, NULL);
			finish(r, p);
		}
	}
	free(ids);
}

static void sweep_expired(struct uspctl_run *r, int64_t now)
{
	int64_t *ids;
	size_t n = collect(r, SWEEP_EXPIRED, now, &ids);
	for (size_t off = 0; off < n && !r->fatal;) {
		size_t k = n - off < QUERY_CHUNK ? n - off : QUERY_CHUNK;
		struct uspc_err err = { 0 };
		if (uspctl_db_expire(r->db, ids + off, k, NULL, &err) < 0 &&
		    uspctl_db_recover(r, &err) == 0)
			continue;
		off += k;
	}
	if (n)
		query_tasks(r, ids, n, 0);
	for (size_t i = 0; i < n; i++) {
		struct uspctl_pend *p = uspctl_track_find(&r->track, ids[i]);
		if (p)
			p->expires_ms = 0; /* claimed before it expired: wait for the result */
	}
	free(ids);
}

static void poll_all(struct uspctl_run *r)
{
	int64_t *ids;
	size_t n = collect(r, SWEEP_ALL, 0, &ids);
	if (n)
		query_tasks(r, ids, n, 0);
	free(ids);
}

/* ---- waiting ------------------------------------------------------------------------ */

/* OperationComplete results come without a NOTIFY: look for them more
 * often than the safety-net poll, while any are awaited. */
static void maybe_poll_completions(struct uspctl_run *r, int64_t now)
{
	if (now < r->next_completion_poll)
		return;
	r->next_completion_poll =
		now + (r->o->poll_ms < COMPLETION_POLL_MS ? r->o->poll_ms : COMPLETION_POLL_MS);
	for (size_t i = 0; i < uspctl_track_count(&r->track); i++)
		if (r->track.v[i].phase == USPCTL_PHASE_COMPLETE) {
			poll_completions(r);
			return;
		}
}

static void wait_round(struct uspctl_run *r, int64_t *next_poll)
{
	int64_t *woke = r->woke;
	size_t n = 0;
	struct uspc_err err = { 0 };
	fflush(r->out.out);
	uspctl_out_progress(&r->out, 0);
	int64_t now = uspctl_now_ms();
	int t = *next_poll - now < TICK_MS ? (int)(*next_poll - now) : TICK_MS;
	if (store_query_wait_done(r->db, t > 0 ? t : 0, woke, WAKE_IDS, &n, &err) < 0) {
		if (uspctl_db_recover(r, &err) < 0)
			return;
		*next_poll = 0; /* notifications were lost: poll now */
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (uspctl_track_find(&r->track, woke[i]))
			woke[k++] = woke[i];
	if (k)
		query_tasks(r, woke, k, 0);
	now = uspctl_now_ms();
	if (now >= *next_poll) {
		poll_all(r);
		*next_poll = now + r->o->poll_ms;
	}
	maybe_poll_completions(r, now);
	sweep_expired(r, now);
	sweep_deadlines(r, now);
}

/* ---- interruption ------------------------------------------------------------------- */

/* Commands whose tasks are not all created: the rest are not created. */
static void drop_queue(struct uspctl_run *r, int code, const char *why)
{
	while (r->q_head) {
		struct uspctl_job *j = r->q_head;
		r->q_head = j->next;
		size_t first = j->next_eid;
		j->next_eid = j->n_eids;
		j->open++;
		for (size_t i = first; i < j->n_eids; i++) {
			uspctl_out_fail(&r->out, j->id, j->eids[i], -1, code, why, 0, NULL, NULL);
			j->open--;
		}
		job_result_done(j);
	}
	r->q_tail = NULL;
}

/* First SIGINT/SIGTERM: stop reading, cancel what was not sent, and give
 * answers already on their way a short grace period. */
static void interrupt_run(struct uspctl_run *r)
{
	int64_t *ids;
	int64_t now = uspctl_now_ms();
	r->in_done = 1;
	r->was_interrupted = 1;
	log_warn("uspctl",
		 "interrupted: canceling tasks not sent yet (interrupt again to quit at once)");
	drop_queue(r, USPCTL_E_CANCELED, "interrupted before its task was created");
	size_t n = collect(r, SWEEP_ALL, now, &ids);
	for (size_t off = 0; off < n && !r->fatal;) {
		size_t k = n - off < QUERY_CHUNK ? n - off : QUERY_CHUNK;
		struct uspc_err err = { 0 };
		if (store_query_cancel(r->db, ids + off, k, NULL, NULL, &err) < 0 &&
		    uspctl_db_recover(r, &err) == 0)
			continue;
		off += k;
	}
	free(ids);
	for (size_t i = 0; i < uspctl_track_count(&r->track); i++)
		if (r->track.v[i].deadline_ms > now + INTERRUPT_GRACE_MS)
			r->track.v[i].deadline_ms = now + INTERRUPT_GRACE_MS;
}

/* ---- the run ------------------------------------------------------------------------ */

static int run_start(struct uspctl_run *r, const struct uspctl_opts *o, FILE *out, FILE *errf)
{
	struct uspc_err err = { 0 };
	int rc;
	memset(r, 0, sizeof(*r));
	r->o = o;
	uspctl_out_init(&r->out, out, errf, o->quiet, o->progress);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(r->run_id, sizeof(r->run_id), "uspctl-%llx-%x",
		 (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000,
		 (unsigned)getpid());
	r->woke = malloc(WAKE_IDS * sizeof(*r->woke));
	r->insert_ids = malloc(INSERT_CHUNK * sizeof(*r->insert_ids));
	if (!r->woke || !r->insert_ids ||
	    uspctl_track_init(&r->track, (size_t)o->max_inflight) < 0) {
		fprintf(errf, "uspctl: out of memory for %ld tasks in flight\n", o->max_inflight);
		return USPC_E_NOMEM;
	}
	if ((rc = db_open(r, &err)) < 0) {
		fprintf(errf, "uspctl: cannot use the database: %s\n", err.msg);
		return rc;
	}
	if (!o->conn && (rc = store_schema_migrate(r->db, NULL, &err)) < 0) {
		fprintf(errf, "uspctl: database schema: %s\n", err.msg);
		return rc;
	}
	return 0;
}

/* A borrowed connection goes back as it came: listening to nothing, no
 * notification left unread, no transaction open. */
static void give_back(PGconn *db)
{
	PGresult *res = PQexec(db, "UNLISTEN *");
	PQclear(res);
	PGnotify *n;
	PQconsumeInput(db);
	while ((n = PQnotifies(db)))
		PQfreemem(n);
}

/* The database is gone for good: everything still open fails. */
static void fail_all(struct uspctl_run *r)
{
	while (uspctl_track_count(&r->track)) {
		struct uspctl_pend *p = &r->track.v[r->track.n - 1];
		uspctl_out_fail(&r->out, p->job->id, p->eid, p->task, USPCTL_E_DATABASE,
				r->fatal_msg, 0, NULL, NULL);
		finish(r, p);
	}
	drop_queue(r, USPCTL_E_DATABASE, r->fatal_msg);
}

int uspctl_run(const struct uspctl_opts *o, int in_fd, FILE *out, FILE *errf)
{
	struct uspctl_run r;
	struct reader *rd = calloc(1, sizeof(*rd));
	int status = USPCTL_EXIT_USAGE;
	if (!rd || !(rd->buf = malloc(USPCTL_LINE_MAX + 1))) {
		fprintf(errf, "uspctl: out of memory\n");
		if (rd)
			free(rd);
		return status;
	}
	rd->fd = in_fd;
	if (run_start(&r, o, out, errf) < 0)
		goto out;
	int64_t next_poll = uspctl_now_ms() + o->poll_ms;
	while (!r.fatal && !r.out.write_error) {
		if (uspctl_interrupted() && !r.was_interrupted)
			interrupt_run(&r);
		fill(&r, rd);
		insert_pending(&r);
		if (r.in_done && !r.q_head && uspctl_track_count(&r.track) == 0)
			break;
		if (uspctl_track_count(&r.track) || r.q_head)
			wait_round(&r, &next_poll);
	}
	if (r.fatal) {
		fprintf(errf, "uspctl: %s\n", r.fatal_msg);
		fail_all(&r);
	}
	uspctl_out_summary(&r.out);
	if (r.out.write_error)
		fprintf(errf, "uspctl: writing results failed\n");
	status = r.fatal || r.out.write_error ? USPCTL_EXIT_USAGE
		 : r.out.failed               ? USPCTL_EXIT_FAILED
					      : USPCTL_EXIT_OK;
out:
	fail_all(&r);
	uspctl_track_fini(&r.track);
	if (r.db && o->conn)
		give_back(r.db);
	else if (r.db)
		PQfinish(r.db);
	free(r.woke);
	free(r.insert_ids);
	free(rd->buf);
	free(rd);
	return status;
}
