/*
 * acs_session.c — CWMP sessions in progress on this node (see
 * acs_session.h). Owns the session table (a hash of struct session under
 * one mutex), each session's claimed tasks and RPC in flight, and the
 * reaper thread that ends idle and overlong sessions.
 */
#include "acs_session.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "acs_auth.h"
#include "acs_db.h"
#include "acs_map.h"
#include "log.h"
#include "store_pool.h"
#include "store_writer.h"
#include "usp_err.h"

#define LOG_C "acs"
#define BUCKETS 4096
#define POOL_WAIT_MS 5000
#define CLAIM_ROUNDS_MAX 50 /* claims per session: bounds one session's work */

struct session {
	struct session *next; /* hash chain */
	char sid[ACS_SID_LEN + 1];
	char eid[CWMP_EID_MAX];
	char model_key[2 * CWMP_MAX_STR + 2];
	int tr098; /* its Inform named InternetGatewayDevice. parameters */
	char peer[64];
	enum cwmp_ns ns;
	int64_t start_ms, last_ms;
	int busy;     /* a request of it is being handled */
	int acs_turn; /* the CPE sent its empty POST */
	int claims;   /* claim rounds so far */
	int requests; /* requests after the Inform: the CPE had InformResponse */
	int drained;  /* a claim found nothing */
	/* tasks claimed and not started yet */
	struct acs_db_task *tasks;
	size_t n_tasks, next_task;
	/* the task being run, and its RPC in flight */
	struct acs_run *run;
	int64_t run_id;
	int rpc_out;
	char rpc_id[48];
	unsigned rpc_seq;
};

/* The (model, path, type) triples already stored in cwmp_param_types, as
 * 64-bit hashes, so an Inform whose parameters' types are known costs no
 * statement. Bounded; when full, every report is written (as without it). */
#define TYPES_SEEN_MAX (1u << 20)
struct types_seen {
	pthread_mutex_t mu;
	uint64_t *slot; /* 0: empty */
	size_t n, cap;
};

struct acs_sessions {
	struct acs *a;
	struct types_seen types;
	pthread_mutex_t mu;
	struct session *b[BUCKETS];
	pthread_t reaper;
	int reaper_on;
	pthread_mutex_t stop_mu;
	pthread_cond_t stop_cv;
	int stopping;
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned bucket(const char *sid)
{
	uint32_t h = 2166136261u;
	for (const char *p = sid; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h % BUCKETS;
}

void acs_reply_fini(struct acs_reply *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

static void reply_msg(struct acs_reply *out, const struct cwmp_msg *m)
{
	int err = 0;
	out->body = cwmp_build(m, &out->len, &err);
	out->status = out->body ? 200 : 500;
	if (!out->body)
		log_error(LOG_C, "cannot build %s: %s", cwmp_method_name(m->method),
			  cwmp_err_str(err));
}

void acs_reply_fault(struct acs_reply *out, enum cwmp_ns ns, const char *id, unsigned code,
		     const char *text)
{
	int err = 0;
	out->body = cwmp_build_fault(ns, id, code, text ? text : cwmp_fault_text(code), &out->len,
				     &err);
	/* SOAP 1.1 carries a Fault with status 500. */
	out->status = 500;
}

static void reply_status(struct acs_reply *out, int status)
{
	out->status = status;
	out->body = NULL;
	out->len = 0;
}

/* ---- the pool --------------------------------------------------------- */

static PGconn *borrow(struct acs *a, int *slot)
{
	int busy = 0;
	struct uspc_err err = { 0 };
	PGconn *c = store_pool_get(a->pool, POOL_WAIT_MS, slot, &busy, &err);
	if (!c) {
		ACS_COUNT(a, db_errors);
		log_warn(LOG_C, "no database connection: %s", err.msg);
	}
	return c;
}

static void give_back(struct acs *a, int slot, int rc)
{
	store_pool_put(a->pool, slot, rc == STORE_E_CONN);
}

/* ---- ending tasks and sessions ---------------------------------------- */

static void task_result(struct acs *a, int64_t id, int failed, int unknown, uint32_t code,
			const char *msg, const char *result_json, const char *msg_id)
{
	struct store_task_result r = { .task_id = id,
				       .failed = failed,
				       .unknown = unknown,
				       .msg_id = msg_id,
				       .result_json = result_json,
				       .error_code = code,
				       .error_message = msg };
	struct uspc_err err = { 0 };
	int rc = store_writer_task_result(a->writer, &r, &err);
	for (int i = 0; rc == STORE_E_FULL && i < 50; i++) {
		struct timespec ts = { 0, 20 * 1000000L };
		nanosleep(&ts, NULL);
		rc = store_writer_task_result(a->writer, &r, &err);
	}
	if (rc < 0)
		log_error(LOG_C, "task %" PRId64 ": result not stored: %s", id, err.msg);
	if (unknown)
		ACS_COUNT(a, tasks_unknown);
	else if (failed)
		ACS_COUNT(a, tasks_failed);
	else
		ACS_COUNT(a, tasks_done);
}

static uint64_t type_hash(const char *model, const char *path, const char *type)
{
	uint64_t h = 1469598103934665603ull;
	const char *parts[3] = { model, path, type };
	for (int i = 0; i < 3; i++) {
		for (const char *p = parts[i]; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ull;
		h = (h ^ 0xff) * 1099511628211ull;
	}
	return h ? h : 1;
}

/* 1 when every (model, paths[i], types[i]) is known. */
static int types_known(struct types_seen *t, const char *model, const char *const *paths,
		       const char *const *types, size_t n)
{
	int all = 1;
	pthread_mutex_lock(&t->mu);
	for (size_t i = 0; i < n && all && t->slot; i++) {
		uint64_t h = type_hash(model, paths[i], types[i]);
		size_t j = (size_t)(h % t->cap);
		while (t->slot[j] && t->slot[j] != h)
			j = (j + 1) % t->cap;
		all = t->slot[j] == h;
	}
	pthread_mutex_unlock(&t->mu);
	return all && t->slot;
}

static void types_remember(struct types_seen *t, const char *model, const char *const *paths,
			   const char *const *types, size_t n)
{
	pthread_mutex_lock(&t->mu);
	for (size_t i = 0; i < n && t->slot && t->n < TYPES_SEEN_MAX; i++) {
		uint64_t h = type_hash(model, paths[i], types[i]);
		size_t j = (size_t)(h % t->cap);
		while (t->slot[j] && t->slot[j] != h)
			j = (j + 1) % t->cap;
		if (!t->slot[j]) {
			t->slot[j] = h;
			t->n++;
		}
	}
	pthread_mutex_unlock(&t->mu);
}

/* Store the types of n values (paths in model form) unless all are known. */
static void put_types(struct acs *a, const struct session *s, PGconn *c, const char *const *paths,
		      const char *const *types, size_t n)
{
	struct uspc_err err = { 0 };
	struct types_seen *t = &a->sessions->types;
	if (!n || !c || types_known(t, s->model_key, paths, types, n))
		return;
	if (acs_db_types_put(c, s->model_key, paths, types, n, &err) < 0)
		log_warn(LOG_C, "%s: parameter types not stored: %s", s->eid, err.msg);
	else
		types_remember(t, s->model_key, paths, types, n);
}

/* Values the device reported (an Inform's parameters, a Get's answer, the
 * values a Set made): into the snapshot through the writer, and their
 * types per model (put_types). what names them in a log line. */
static void store_values(struct acs *a, const struct session *s, PGconn *c,
			 const struct cwmp_param_value *v, size_t nv, const char *what)
{
	if (!nv)
		return;
	struct store_snapshot_row *rows = calloc(nv, sizeof(*rows));
	const char **paths = calloc(nv, sizeof(*paths));
	const char **types = calloc(nv, sizeof(*types));
	char *mp = calloc(nv, CWMP_MAX_STR + 8);
	size_t n = 0;
	struct uspc_err err = { 0 };
	if (rows && paths && types && mp) {
		for (size_t i = 0; i < nv; i++) {
			if (!v[i].name || !*v[i].name)
				continue;
			rows[n].path = v[i].name;
			rows[n].value = v[i].value ? v[i].value : "";
			char *m = mp + n * (CWMP_MAX_STR + 8);
			acs_model_path(v[i].name, m, CWMP_MAX_STR + 8);
			paths[n] = m;
			types[n] = v[i].type ? v[i].type : "string";
			n++;
		}
		if (n && store_writer_snapshot(a->writer, s->eid, rows, n, 0, &err) < 0)
			log_warn(LOG_C, "%s: %s not stored: %s", s->eid, what, err.msg);
		put_types(a, s, c, paths, types, n);
	} else {
		log_warn(LOG_C, "%s: %s not stored: out of memory", s->eid, what);
	}
	free(rows);
	free(paths);
	free(types);
	free(mp);
}

/* Record what a finished run learned and its result. */
static void finish_run(struct acs *a, struct session *s, PGconn *c)
{
	const struct acs_run_outcome *o = acs_run_outcome(s->run);
	struct uspc_err err = { 0 };
	store_values(a, s, c, o->rows, o->n_rows, "values");
	for (size_t i = 0; i < o->n_deleted; i++)
		if (store_writer_snapshot_delete_prefix(a->writer, s->eid, o->deleted[i], &err) < 0)
			log_warn(LOG_C, "%s: snapshot delete not stored: %s", s->eid, err.msg);
	if (o->oper_requested && c &&
	    acs_db_oper_requested(c, s->eid, o->oper_command_key, o->oper_obj_path,
				  o->oper_command_name, o->oper_async_done, &err) < 0)
		log_warn(LOG_C, "%s: operation %s not recorded: %s", s->eid, o->oper_command_name,
			 err.msg);
	task_result(a, s->run_id, o->failed, 0, o->error_code, o->failed ? o->error_message : NULL,
		    o->result_json, s->rpc_id[0] ? s->rpc_id : NULL);
	if (o->failed)
		log_info(LOG_C, "%s: task %" PRId64 " failed: %s", s->eid, s->run_id,
			 o->error_message);
	acs_run_free(s->run);
	s->run = NULL;
	s->rpc_out = 0;
	s->rpc_id[0] = '\0';
}

/* End a session that did not reach its 204: the RPC in flight and the
 * unstarted tasks. */
static void abandon(struct acs *a, struct session *s, PGconn *c, const char *why)
{
	struct uspc_err err = { 0 };
	size_t left = s->n_tasks - s->next_task + (s->run ? 1 : 0);
	int64_t *ids = calloc(left + 1, sizeof(*ids));
	size_t n = 0;
	if (s->run) {
		if (!s->rpc_out || acs_run_idempotent(s->run)) {
			if (ids)
				ids[n++] = s->run_id;
		} else {
			char m[256];
			snprintf(m, sizeof(m),
				 "outcome unknown: %s before the CPE answered; not sent again",
				 why);
			task_result(a, s->run_id, 1, 1, 0, m, NULL, s->rpc_id);
		}
		acs_run_free(s->run);
		s->run = NULL;
	}
	for (size_t i = s->next_task; i < s->n_tasks && ids; i++)
		ids[n++] = s->tasks[i].id;
	if (c && n && acs_db_requeue(c, a->set.node_id, ids, n, &err) < 0)
		log_warn(LOG_C, "%s: %zu tasks not given back (the lease will): %s", s->eid, n,
			 err.msg);
	free(ids);
}

static void session_free(struct session *s)
{
	acs_run_free(s->run);
	acs_db_tasks_free(s->tasks, s->n_tasks);
	free(s);
}

/* Release the lease and free; c may be NULL (then the lease runs out). */
static void session_end(struct acs *a, struct session *s, PGconn *c, int completed, const char *why)
{
	struct uspc_err err = { 0 };
	if (!completed)
		abandon(a, s, c, why);
	if (c && acs_db_release(c, s->eid, s->sid, s->requests > 0, &err) < 0)
		log_warn(LOG_C, "%s: session lease not released (it ends by itself): %s", s->eid,
			 err.msg);
	if (completed)
		ACS_COUNT(a, sessions_completed);
	log_debug(LOG_C, "%s: session %s ended after %" PRId64 " ms (%s)", s->eid, s->sid,
		  mono_ms() - s->start_ms, why);
	atomic_fetch_sub(&a->n.sessions_active, 1);
	session_free(s);
}

static void unlink_session(struct acs_sessions *t, struct session *s)
{
	struct session **pp = &t->b[bucket(s->sid)];
	while (*pp && *pp != s)
		pp = &(*pp)->next;
	if (*pp)
		*pp = s->next;
}

/* ---- the ACS's turn --------------------------------------------------- */

static void type_found(void *arg, const char *path, const char *type)
{
	acs_run_set_type(arg, path, type);
}

/* Start the next claimed task: 1 with s->run set, 0 when none is left. */
static int start_task(struct acs *a, struct session *s, PGconn *c)
{
	while (s->next_task < s->n_tasks) {
		struct acs_db_task *t = &s->tasks[s->next_task++];
		uint32_t code = 0;
		char msg[256];
		struct acs_run *r =
			acs_run_new(t->id, t->op, t->request_json, &code, msg, sizeof(msg));
		if (!r) {
			task_result(a, t->id, 1, 0, code, msg, NULL, NULL);
			continue;
		}
		if (s->tr098)
			acs_run_set_tr098(r);
		size_t n = acs_run_type_names(r, NULL, 0);
		if (n && c) {
			/* the names in model form, each in its own slot of buf */
			const char **mp = calloc(n, sizeof(*mp));
			char *buf = calloc(n, CWMP_MAX_STR + 8);
			struct uspc_err err = { 0 };
			if (mp && buf) {
				acs_run_type_names(r, mp, n);
				for (size_t i = 0; i < n; i++) {
					char *m = buf + i * (CWMP_MAX_STR + 8);
					acs_model_path(mp[i], m, CWMP_MAX_STR + 8);
					mp[i] = m;
				}
				if (acs_db_types_get(c, s->model_key, mp, n, type_found, r, &err) <
				    0)
					log_warn(LOG_C, "%s: types not read (asking the CPE): %s",
						 s->eid, err.msg);
			}
			free(mp);
			free(buf);
		}
		s->run = r;
		s->run_id = t->id;
		return 1;
	}
	return 0;
}

/* The next RPC of this session into out, or 204 when there is none. */
static void acs_turn(struct acs *a, struct session *s, PGconn *c, struct acs_reply *out)
{
	for (;;) {
		if (s->run) {
			struct cwmp_msg m;
			if (acs_run_next(s->run, &m) == 1) {
				m.ns = s->ns;
				snprintf(s->rpc_id, sizeof(s->rpc_id), "uspc-%" PRId64 "-%u",
					 s->run_id, ++s->rpc_seq);
				m.header.id = s->rpc_id;
				m.header.hold_requests = -1;
				m.header.no_more_requests = -1;
				m.header.session_timeout = -1;
				reply_msg(out, &m);
				if (out->status != 200) {
					acs_run_fail(
						s->run, USP_ERR_INTERNAL_ERROR,
						"the request could not be built (a value is not "
						"valid XML text?)");
					acs_reply_fini(out);
					finish_run(a, s, c);
					continue;
				}
				s->rpc_out = 1;
				ACS_COUNT(a, rpcs_sent);
				return;
			}
			finish_run(a, s, c);
			continue;
		}
		if (start_task(a, s, c))
			continue;
		if (s->drained || s->claims >= CLAIM_ROUNDS_MAX || !c)
			break;
		acs_db_tasks_free(s->tasks, s->n_tasks);
		s->tasks = NULL;
		s->n_tasks = s->next_task = 0;
		struct uspc_err err = { 0 };
		s->claims++;
		if (acs_db_claim(c, s->eid, a->set.node_id, a->set.tasks_per_session, &s->tasks,
				 &s->n_tasks, &err) < 0) {
			ACS_COUNT(a, db_errors);
			log_warn(LOG_C, "%s: tasks not claimed: %s", s->eid, err.msg);
			break;
		}
		if (!s->n_tasks)
			s->drained = 1;
	}
	reply_status(out, 204);
}

/* ---- the CPE's requests ----------------------------------------------- */

static void answer_transfer(struct acs *a, struct session *s, PGconn *c, const struct cwmp_msg *m,
			    struct acs_reply *out)
{
	const struct cwmp_transfer_complete *t = &m->transfer;
	struct uspc_err err = { 0 };
	char msg_id[CWMP_MAX_STR + 80];
	snprintf(msg_id, sizeof(msg_id), "tc-%s-%s-%s", t->command_key ? t->command_key : "",
		 t->start_time ? t->start_time : "", t->complete_time ? t->complete_time : "");
	if (!c || acs_db_transfer_complete(c, s->eid, t->command_key ? t->command_key : "",
					   t->fault.code, t->fault.string, t->start_time,
					   t->complete_time, msg_id, &err) < 0) {
		/* Not stored: the CPE must send it again, so no response. */
		log_warn(LOG_C, "%s: TransferComplete not stored: %s", s->eid,
			 c ? err.msg : "no database connection");
		acs_reply_fault(out, s->ns, m->header.id, 8002, NULL);
		return;
	}
	ACS_COUNT(a, transfer_completes);
	log_info(LOG_C, "%s: TransferComplete %s: fault %u%s%s", s->eid,
		 t->command_key ? t->command_key : "", t->fault.code,
		 t->fault.string && *t->fault.string ? " " : "",
		 t->fault.string ? t->fault.string : "");
	struct cwmp_msg r = { .ns = s->ns,
			      .method = m->method == CWMP_M_TRANSFER_COMPLETE
						? CWMP_M_TRANSFER_COMPLETE_RESPONSE
						: CWMP_M_AUTONOMOUS_TRANSFER_COMPLETE_RESPONSE };
	r.header.id = m->header.id;
	r.header.hold_requests = r.header.no_more_requests = r.header.session_timeout = -1;
	reply_msg(out, &r);
}

static void answer_rpc_methods(struct session *s, const struct cwmp_msg *m, struct acs_reply *out)
{
	static char *methods[] = { "Inform", "GetRPCMethods", "TransferComplete",
				   "AutonomousTransferComplete" };
	struct cwmp_msg r = { .ns = s->ns, .method = CWMP_M_GET_RPC_METHODS_RESPONSE };
	r.header.id = m->header.id;
	r.header.hold_requests = r.header.no_more_requests = r.header.session_timeout = -1;
	r.methods = methods;
	r.n_methods = sizeof(methods) / sizeof(methods[0]);
	reply_msg(out, &r);
}

static int is_response(enum cwmp_method m)
{
	switch (m) {
	case CWMP_M_GET_PARAMETER_VALUES_RESPONSE:
	case CWMP_M_GET_PARAMETER_NAMES_RESPONSE:
	case CWMP_M_GET_PARAMETER_ATTRIBUTES_RESPONSE:
	case CWMP_M_SET_PARAMETER_VALUES_RESPONSE:
	case CWMP_M_SET_PARAMETER_ATTRIBUTES_RESPONSE:
	case CWMP_M_ADD_OBJECT_RESPONSE:
	case CWMP_M_DELETE_OBJECT_RESPONSE:
	case CWMP_M_REBOOT_RESPONSE:
	case CWMP_M_FACTORY_RESET_RESPONSE:
	case CWMP_M_DOWNLOAD_RESPONSE:
	case CWMP_M_GET_RPC_METHODS_RESPONSE:
	case CWMP_M_FAULT:
		return 1;
	default:
		return 0;
	}
}

/* One message of session s. Returns 1 when the session is over. */
static int handle(struct acs *a, struct session *s, const struct cwmp_msg *m, PGconn *c,
		  struct acs_reply *out)
{
	if (m->method == CWMP_M_FAULT)
		ACS_COUNT(a, cpe_faults);
	if (s->rpc_out) {
		if (m->method == CWMP_M_EMPTY || !is_response(m->method)) {
			log_warn(LOG_C, "%s: %s while task %" PRId64 " waits for an answer", s->eid,
				 m->method == CWMP_M_EMPTY ? "empty POST"
							   : cwmp_method_name(m->method),
				 s->run_id);
			ACS_COUNT(a, bad_requests);
			/* It may have run: a non-idempotent one ends unknown
			 * (session_end), a read goes back to the queue. */
			reply_status(out, 400);
			return -1;
		}
		if (m->header.id && strcmp(m->header.id, s->rpc_id) != 0)
			log_warn(LOG_C, "%s: answer carries cwmp:ID %s, expected %s (taken anyway)",
				 s->eid, m->header.id, s->rpc_id);
		s->rpc_out = 0;
		acs_run_answer(s->run, m);
		acs_turn(a, s, c, out);
		return out->status == 204;
	}
	switch (m->method) {
	case CWMP_M_EMPTY:
		s->acs_turn = 1;
		acs_turn(a, s, c, out);
		return out->status == 204;
	case CWMP_M_TRANSFER_COMPLETE:
	case CWMP_M_AUTONOMOUS_TRANSFER_COMPLETE:
		answer_transfer(a, s, c, m, out);
		return 0;
	case CWMP_M_GET_RPC_METHODS:
		answer_rpc_methods(s, m, out);
		return 0;
	case CWMP_M_INFORM:
		ACS_COUNT(a, bad_requests);
		acs_reply_fault(out, s->ns, m->header.id, 8003, "Inform inside a session");
		return 0;
	default:
		if (is_response(m->method)) {
			ACS_COUNT(a, bad_requests);
			log_warn(LOG_C, "%s: unexpected %s (no request outstanding)", s->eid,
				 cwmp_method_name(m->method));
			if (s->acs_turn) {
				acs_turn(a, s, c, out);
				return out->status == 204;
			}
			reply_status(out, 400);
			return 0;
		}
		acs_reply_fault(out, s->ns, m->header.id, 8000, NULL);
		return 0;
	}
}

int acs_session_request(struct acs *a, const char *sid, const char *body, size_t len,
			struct acs_reply *out)
{
	struct acs_sessions *t = a->sessions;
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&t->mu);
	struct session *s = t->b[bucket(sid)];
	while (s && strcmp(s->sid, sid) != 0)
		s = s->next;
	if (!s) {
		pthread_mutex_unlock(&t->mu);
		return 0;
	}
	if (s->busy) {
		pthread_mutex_unlock(&t->mu);
		ACS_COUNT(a, bad_requests);
		reply_status(out, 409);
		return 1;
	}
	s->busy = 1;
	s->requests++;
	pthread_mutex_unlock(&t->mu);

	struct cwmp_msg m;
	char why[200] = "";
	int rc = cwmp_parse(body, len, &m, why, sizeof(why));
	int over = 0;
	int slot = -1;
	PGconn *c = NULL;
	if (rc < 0) {
		ACS_COUNT(a, bad_requests);
		log_warn(LOG_C, "%s (%s): bad message ends the session: %s: %s", s->eid, s->peer,
			 cwmp_err_str(rc), why);
		reply_status(out, 400);
		over = -1;
	} else {
		if (m.method != CWMP_M_GET_RPC_METHODS)
			c = borrow(a, &slot);
		over = handle(a, s, &m, c, out);
		cwmp_msg_free(&m);
	}
	pthread_mutex_lock(&t->mu);
	s->busy = 0;
	s->last_ms = mono_ms();
	if (over)
		unlink_session(t, s);
	pthread_mutex_unlock(&t->mu);
	if (over) {
		if (!c && slot < 0)
			c = borrow(a, &slot);
		session_end(a, s, c, over > 0, over > 0 ? "done" : "protocol error");
		if (over < 0)
			ACS_COUNT(a, sessions_dropped);
	}
	if (c)
		give_back(a, slot, 0);
	return 1;
}

/* ---- the Inform ------------------------------------------------------- */

/* The value of the Inform parameter whose name ends with suffix. */
static const char *inform_param(const struct cwmp_inform *in, const char *suffix)
{
	size_t sl = strlen(suffix);
	for (size_t i = 0; i < in->n_params; i++) {
		const char *n = in->params[i].name;
		size_t nl = n ? strlen(n) : 0;
		if (nl >= sl && !strcmp(n + nl - sl, suffix) && (nl == sl || n[nl - sl - 1] == '.'))
			return in->params[i].value;
	}
	return NULL;
}

static void add_str(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
}

static char *info_json(const struct cwmp_msg *m)
{
	const struct cwmp_inform *in = &m->inform;
	static const char *const ver[] = { "1.0", "1.1", "1.2", "1.3", "1.4" };
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	add_str(o, "manufacturer", in->device_id.manufacturer);
	add_str(o, "oui", in->device_id.oui);
	add_str(o, "product_class", in->device_id.product_class);
	add_str(o, "serial_number", in->device_id.serial_number);
	add_str(o, "software_version", inform_param(in, "DeviceInfo.SoftwareVersion"));
	add_str(o, "hardware_version", inform_param(in, "DeviceInfo.HardwareVersion"));
	add_str(o, "provisioning_code", inform_param(in, "DeviceInfo.ProvisioningCode"));
	add_str(o, "conn_req_url", inform_param(in, "ManagementServer.ConnectionRequestURL"));
	add_str(o, "parameter_key", inform_param(in, "ManagementServer.ParameterKey"));
	const char *iv = inform_param(in, "ManagementServer.PeriodicInformInterval");
	char *end = NULL;
	long n = iv ? strtol(iv, &end, 10) : 0;
	if (iv && end != iv && !*end && n > 0 && n <= 31536000)
		cJSON_AddNumberToObject(o, "interval", (double)n);
	/* 1.4 devices may say so in the header; else the namespace says. */
	cJSON_AddStringToObject(o, "cwmp_version",
				m->header.use_cwmp_version && strlen(m->header.use_cwmp_version) < 8
					? m->header.use_cwmp_version
					: ver[m->ns]);
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

static char *events_json(const struct cwmp_inform *in)
{
	cJSON *a = cJSON_CreateArray();
	if (!a)
		return NULL;
	for (size_t i = 0; i < in->n_events; i++) {
		cJSON *e = cJSON_CreateObject();
		if (!e)
			break;
		cJSON_AddItemToArray(a, e);
		add_str(e, "code", in->events[i].code ? in->events[i].code : "");
		add_str(e, "command_key",
			in->events[i].command_key ? in->events[i].command_key : "");
	}
	char *s = cJSON_PrintUnformatted(a);
	cJSON_Delete(a);
	return s;
}

/* SHA-256 of the events (codes and keys, in order), hex: a retried
 * Inform carries the same events. */
static void events_hash(const struct cwmp_inform *in, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	memset(md, 0, sizeof(md));
	if (c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1) {
		for (size_t i = 0; i < in->n_events; i++) {
			const char *k = in->events[i].code ? in->events[i].code : "";
			const char *v = in->events[i].command_key ? in->events[i].command_key : "";
			EVP_DigestUpdate(c, k, strlen(k) + 1);
			EVP_DigestUpdate(c, v, strlen(v) + 1);
		}
		EVP_DigestFinal_ex(c, md, &n);
	}
	EVP_MD_CTX_free(c);
	acs_hex(md, sizeof(md), out);
}

static int new_sid(char sid[ACS_SID_LEN + 1])
{
	unsigned char r[ACS_SID_LEN / 2];
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -1;
	acs_hex(r, sizeof(r), sid);
	return 0;
}

static int retry_after(const struct acs *a)
{
	unsigned j = 0;
	if (getrandom(&j, sizeof(j), 0) != (ssize_t)sizeof(j))
		j = (unsigned)mono_ms();
	int base = a->set.retry_after_s;
	return base + (int)(j % (unsigned)(base + 1));
}

void acs_session_begin(struct acs *a, const struct cwmp_msg *inform, const char *eid,
		       const char *peer, struct acs_reply *out)
{
	memset(out, 0, sizeof(*out));
	ACS_COUNT(a, informs);
	if (atomic_fetch_add(&a->n.sessions_active, 1) >= a->set.max_sessions) {
		atomic_fetch_sub(&a->n.sessions_active, 1);
		ACS_COUNT(a, overload_503);
		reply_status(out, 503);
		out->retry_after_s = retry_after(a);
		out->close = 1;
		return;
	}
	struct session *s = calloc(1, sizeof(*s));
	char *info = info_json(inform), *events = events_json(&inform->inform);
	if (!s || !info || !events || new_sid(s->sid) < 0) {
		atomic_fetch_sub(&a->n.sessions_active, 1);
		free(s);
		free(info);
		free(events);
		reply_status(out, 500);
		return;
	}
	snprintf(s->eid, sizeof(s->eid), "%s", eid);
	snprintf(s->peer, sizeof(s->peer), "%s", peer);
	snprintf(s->model_key, sizeof(s->model_key), "%s-%s",
		 inform->inform.device_id.oui ? inform->inform.device_id.oui : "",
		 inform->inform.device_id.product_class ? inform->inform.device_id.product_class
							: "");
	s->ns = inform->ns;
	s->tr098 = 0;
	for (size_t i = 0; i < inform->inform.n_params && !s->tr098; i++)
		s->tr098 = inform->inform.params[i].name &&
			   !strncmp(inform->inform.params[i].name, ACS_TR098_ROOT,
				    strlen(ACS_TR098_ROOT));
	s->start_ms = s->last_ms = mono_ms();
	char hash[65], msg_id[ACS_SID_LEN + 8];
	events_hash(&inform->inform, hash);
	snprintf(msg_id, sizeof(msg_id), "cwmp-%s", s->sid);
	struct acs_inform_in in = { .eid = eid,
				    .node = a->set.node_id,
				    .session_id = s->sid,
				    .lease_s = a->set.session_max_s + 30,
				    .info_json = info,
				    .events_json = events,
				    .events_hash = hash,
				    .retry_count = inform->inform.retry_count,
				    .msg_id = msg_id };
	struct acs_inform_out io;
	struct uspc_err err = { 0 };
	int slot = -1;
	PGconn *c = borrow(a, &slot);
	int rc = c ? acs_db_inform(c, &in, &io, &err) : STORE_E_CONN;
	free(info);
	free(events);
	if (rc < 0 || !io.leased) {
		atomic_fetch_sub(&a->n.sessions_active, 1);
		if (c)
			give_back(a, slot, rc);
		if (rc < 0) {
			ACS_COUNT(a, db_errors);
			if (c)
				log_warn(LOG_C, "%s: Inform not stored: %s", eid, err.msg);
			/* Not stored: the CPE keeps its events and comes back. */
			reply_status(out, 503);
		} else {
			ACS_COUNT(a, lease_503);
			log_info(LOG_C, "%s: already in a session on node %s; asked to retry", eid,
				 io.holder);
			reply_status(out, 503);
		}
		out->retry_after_s = retry_after(a);
		free(s);
		return;
	}
	if (io.duplicate)
		ACS_COUNT(a, informs_duplicate);
	if (!io.cwmp || io.queued == 0)
		/* No task waits (one queued from now on waits for the next
		 * session, which a connection request opens), or a dual-stack
		 * device's USP agent owns the row and its tasks: this session
		 * claims nothing, which saves a statement per periodic Inform. */
		s->drained = 1;
	store_values(a, s, c, inform->inform.params, inform->inform.n_params, "Inform parameters");
	/* only a device behind NAT with STUN reports it (when it changes) */
	const char *udp =
		inform_param(&inform->inform, "ManagementServer.UDPConnectionRequestAddress");
	int urc = udp ? acs_db_udp_cr_address(c, eid, udp, &err) : 0;
	if (urc < 0) {
		ACS_COUNT(a, db_errors);
		log_warn(LOG_C, "%s: UDPConnectionRequestAddress not stored: %s", eid, err.msg);
	}
	give_back(a, slot, urc);
	ACS_COUNT(a, sessions_started);
	log_debug(LOG_C, "%s (%s): session %s, %zu events%s, %" PRId64 " tasks queued", eid, peer,
		  s->sid, inform->inform.n_events, io.duplicate ? " (re-sent)" : "", io.queued);

	struct cwmp_msg r = { .ns = s->ns, .method = CWMP_M_INFORM_RESPONSE, .max_envelopes = 1 };
	r.header.id = inform->header.id;
	r.header.hold_requests = r.header.no_more_requests = r.header.session_timeout = -1;
	reply_msg(out, &r);
	memcpy(out->sid, s->sid, sizeof(out->sid));
	struct acs_sessions *t = a->sessions;
	pthread_mutex_lock(&t->mu);
	unsigned b = bucket(s->sid);
	s->next = t->b[b];
	t->b[b] = s;
	pthread_mutex_unlock(&t->mu);
}

/* ---- the table and its reaper ------------------------------------------ */

struct acs_sessions *acs_sessions_new(struct acs *a)
{
	struct acs_sessions *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->a = a;
	t->types.cap = TYPES_SEEN_MAX * 2;
	t->types.slot = calloc(t->types.cap, sizeof(*t->types.slot)); /* NULL: no cache */
	pthread_mutex_init(&t->types.mu, NULL);
	pthread_mutex_init(&t->mu, NULL);
	pthread_mutex_init(&t->stop_mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->stop_cv, &ca);
	pthread_condattr_destroy(&ca);
	return t;
}

/* Unlink the sessions past their time (all with force) onto a list. */
static struct session *take_expired(struct acs_sessions *t, int force)
{
	struct acs *a = t->a;
	int64_t now = mono_ms();
	struct session *out = NULL;
	pthread_mutex_lock(&t->mu);
	for (unsigned i = 0; i < BUCKETS; i++) {
		struct session **pp = &t->b[i];
		while (*pp) {
			struct session *s = *pp;
			int idle = now - s->last_ms > (int64_t)a->set.session_idle_s * 1000;
			int old = now - s->start_ms > (int64_t)a->set.session_max_s * 1000;
			if (force || (!s->busy && (idle || old))) {
				*pp = s->next;
				s->next = out;
				out = s;
			} else {
				pp = &s->next;
			}
		}
	}
	pthread_mutex_unlock(&t->mu);
	return out;
}

static void end_list(struct acs_sessions *t, struct session *list, const char *why)
{
	struct acs *a = t->a;
	while (list) {
		struct session *s = list;
		list = s->next;
		int slot = -1;
		PGconn *c = borrow(a, &slot);
		log_info(LOG_C, "%s (%s): session %s ended: %s", s->eid, s->peer, s->sid, why);
		ACS_COUNT(a, sessions_timed_out);
		session_end(a, s, c, 0, why);
		if (c)
			give_back(a, slot, 0);
	}
}

static void *reaper_main(void *arg)
{
	struct acs_sessions *t = arg;
	pthread_setname_np(pthread_self(), "uspc-acs-reaper");
	pthread_mutex_lock(&t->stop_mu);
	while (!t->stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&t->stop_cv, &t->stop_mu, &ts);
		if (t->stopping)
			break;
		pthread_mutex_unlock(&t->stop_mu);
		end_list(t, take_expired(t, 0), "idle or too long (session timeout)");
		pthread_mutex_lock(&t->stop_mu);
	}
	pthread_mutex_unlock(&t->stop_mu);
	return NULL;
}

int acs_sessions_start(struct acs_sessions *t)
{
	if (pthread_create(&t->reaper, NULL, reaper_main, t) != 0)
		return -1;
	t->reaper_on = 1;
	return 0;
}

void acs_sessions_free(struct acs_sessions *t)
{
	if (!t)
		return;
	if (t->reaper_on) {
		pthread_mutex_lock(&t->stop_mu);
		t->stopping = 1;
		pthread_cond_signal(&t->stop_cv);
		pthread_mutex_unlock(&t->stop_mu);
		pthread_join(t->reaper, NULL);
	}
	end_list(t, take_expired(t, 1), "uspc-acs stopping");
	free(t->types.slot);
	pthread_mutex_destroy(&t->types.mu);
	pthread_mutex_destroy(&t->mu);
	pthread_mutex_destroy(&t->stop_mu);
	pthread_cond_destroy(&t->stop_cv);
	free(t);
}
