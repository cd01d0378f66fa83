/*
 * core_task.c — tasks claimed by the store's feeder: the stored JSON request
 * becomes a USP Msg (usp_json_build_request) with a fresh msg_id, is sent to
 * the agent and tracked; the answer (or Error, or timeout) becomes the task's
 * result through the writer. The snapshot follows what the agent reports:
 * Get values, Set's updated parameters, Add's new instance (unique keys and
 * the parameters the request set), Delete's removed instances; an
 * asynchronous Operate is recorded as an operation result.
 *
 * Budget: the feeder claims at most max_pending tasks for this daemon (we
 * report tasks_held); per agent at most max_pending_per_agent requests are
 * outstanding, further tasks wait in the agent's deferred FIFO.
 *
 * Core thread only. Invariant: every claimed task ends exactly once here —
 * a result handed to the writer — or is still held at exit (then it stays
 * 'sent' in the store and is re-queued by the lease / restart rules).
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core_internal.h"
#include "log.h"
#include "usp_json.h"

struct map_entry {
	ProtobufCMessage base;
	char *key;
	char *value;
};

static void task_done(struct core *c, struct store_task *t)
{
	store_task_free(t);
	c->tasks_held--;
	if (c->feeder)
		store_tasks_set_in_flight(c->feeder, c->tasks_held);
}

/* The request may or may not have been carried out: say so, never guess. */
static void task_unknown(struct core *c, struct store_task *t, const char *msg_id, const char *why)
{
	char text[300];
	snprintf(text, sizeof(text), "outcome unknown: %s", why);
	struct store_task_result r = {
		.task_id = t->id, .failed = 1, .unknown = 1, .msg_id = msg_id, .error_message = text
	};
	CORE_SUBMIT(c, "task_result", store_writer_task_result(c->writer, &r, &c->serr));
	c->ctr.tasks_unknown++;
	log_info(CORE_LOG, "task %lld (%s) for %s: %s", (long long)t->id, t->op, t->eid, text);
	task_done(c, t);
}

void core_task_fail(struct core *c, struct store_task *t, const char *msg_id, uint32_t code,
		    const char *why)
{
	struct store_task_result r = { .task_id = t->id,
				       .failed = 1,
				       .msg_id = msg_id,
				       .error_code = code,
				       .error_message = why };
	CORE_SUBMIT(c, "task_result", store_writer_task_result(c->writer, &r, &c->serr));
	c->ctr.tasks_failed++;
	log_debug(CORE_LOG, "task %lld for %s failed: %s", (long long)t->id, t->eid, why);
	task_done(c, t);
}

static void send_task(struct core *c, struct core_agent *a, struct store_task *t)
{
	struct uspc_err err = { 0 };
	Usp__Msg *msg = NULL;
	char id[72];
	cJSON *args = NULL;
	if (t->request_json && t->request_json[0]) {
		args = cJSON_ParseWithLength(t->request_json, strlen(t->request_json));
		if (!args) {
			core_task_fail(c, t, NULL, USP_ERR_INVALID_ARGUMENTS,
				       "request is not valid JSON");
			return;
		}
	}
	if (!strcmp(t->op, "set_attributes") || !strcmp(t->op, "get_attributes")) {
		cJSON_Delete(args);
		core_task_fail(c, t, NULL, USP_ERR_MESSAGE_NOT_SUPPORTED,
			       "notification attributes are TR-069's; a USP agent reports value "
			       "changes through a subscription (uspctl subscribe)");
		return;
	}
	core_next_msg_id(c, id, sizeof(id));
	if (usp_json_build_request(t->op, args, id, &msg, &err) != 0) {
		cJSON_Delete(args);
		core_task_fail(c, t, NULL, USP_ERR_INVALID_ARGUMENTS, err.msg);
		return;
	}
	cJSON_Delete(args);
	struct core_req *r = core_send_request(c, a, msg, CORE_REQ_TASK);
	usp_msg_free(msg);
	if (!r) {
		core_task_fail(c, t, NULL, 0, "could not send the request (see the daemon log)");
		return;
	}
	r->task_id = t->id;
	r->ctx = t;
}

static void defer(struct core *c, struct core_agent *a, struct store_task *t)
{
	struct core_deferred *d = calloc(1, sizeof(*d));
	if (!d) {
		core_task_fail(c, t, NULL, 0, "out of memory");
		return;
	}
	d->task = t;
	struct core_deferred **pp = (struct core_deferred **)&a->deferred;
	while (*pp)
		pp = &(*pp)->next;
	*pp = d;
	c->deferred++;
}

static void start_task(struct core *c, struct store_task *t)
{
	struct core_agent *a = core_registry_get(c->reg, t->eid, NULL);
	if (!a) {
		core_task_fail(c, t, NULL, 0, "agent registry full (max_agents)");
		return;
	}
	if (t->reply_topic && t->reply_topic[0] && (!a->reply_topic || !a->online)) {
		(void)core_agent_set_topic(a, t->reply_topic);
		a->mqtt_v5 = t->mqtt_version != 4;
	}
	if (!a->reply_topic) {
		core_task_fail(c, t, NULL, 0, "the agent's reply topic is unknown");
		return;
	}
	if (a->pending >= c->cfg->max_pending_per_agent || a->deferred) {
		defer(c, a, t);
		return;
	}
	send_task(c, a, t);
}

void core_tasks_agent_slot(struct core *c, struct core_agent *a)
{
	while (a->deferred && a->pending < c->cfg->max_pending_per_agent) {
		struct core_deferred *d = a->deferred;
		a->deferred = d->next;
		c->deferred--;
		struct store_task *t = d->task;
		free(d);
		send_task(c, a, t);
	}
}

void core_tasks_free_deferred(struct core *c, struct core_agent *a)
{
	while (a->deferred) {
		struct core_deferred *d = a->deferred;
		a->deferred = d->next;
		c->deferred--;
		store_task_free(d->task);
		c->tasks_held--;
		free(d);
	}
}

struct release_walk {
	struct core *c;
	int64_t *ids;
	size_t n, cap;
};

static void collect_deferred(struct core_agent *a, void *arg)
{
	struct release_walk *w = arg;
	for (struct core_deferred *d = a->deferred; d; d = d->next)
		if (w->ids && w->n < w->cap)
			w->ids[w->n++] = d->task->id;
	core_tasks_free_deferred(w->c, a);
}

size_t core_tasks_release_deferred(struct core *c)
{
	size_t total = c->deferred;
	if (total == 0)
		return 0;
	struct release_walk w = { .c = c, .ids = calloc(total, sizeof(int64_t)), .cap = total };
	core_registry_foreach(c->reg, collect_deferred, &w);
	int rc = w.ids && c->feeder ? store_tasks_release(c->feeder, w.ids, w.n) : STORE_E_NOMEM;
	if (rc != 0)
		log_warn(CORE_LOG,
			 "%zu claimed task(s) never sent could not be given back (%s); "
			 "they are re-queued when this node restarts or its lease expires",
			 total, store_error_name(rc));
	if (c->feeder)
		store_tasks_set_in_flight(c->feeder, c->tasks_held);
	free(w.ids);
	return rc == 0 ? w.n : 0;
}

void core_tasks_pump(struct core *c)
{
	if (!c->feeder)
		return;
	struct store_task *t;
	while (core_accepting_work(c) && !c->stopping && store_tasks_next(c->feeder, &t) == 0) {
		c->tasks_held++;
		c->ctr.tasks_claimed++;
		start_task(c, t);
	}
	store_tasks_set_in_flight(c->feeder, c->tasks_held);
}

/* Snapshot rows built from a response: full path (owned) → value (borrowed
 * from the response or request, which outlive the submit). */
struct snap_rows {
	struct store_snapshot_row *rows;
	char **paths;
	size_t n, cap;
};

static void snap_add(struct snap_rows *s, const char *obj, const char *rel, const char *value)
{
	if (!obj || !rel || !value || s->n >= STORE_SNAPSHOT_MAX_ROWS)
		return;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct store_snapshot_row *r = realloc(s->rows, cap * sizeof(*r));
		if (r)
			s->rows = r;
		char **p = r ? realloc(s->paths, cap * sizeof(*p)) : NULL;
		if (!p)
			return;
		s->paths = p;
		s->cap = cap;
	}
	size_t len = strlen(obj) + strlen(rel) + 1;
	char *path = malloc(len);
	if (!path)
		return;
	snprintf(path, len, "%s%s", obj, rel);
	s->paths[s->n] = path;
	s->rows[s->n].path = path;
	s->rows[s->n].value = value;
	s->n++;
}

static void snap_submit(struct core *c, struct core_agent *a, struct snap_rows *s)
{
	if (s->n)
		CORE_SUBMIT(c, "snapshot",
			    store_writer_snapshot(c->writer, a->eid, s->rows, s->n, 0, &c->serr));
	for (size_t i = 0; i < s->n; i++)
		free(s->paths[i]);
	free(s->paths);
	free(s->rows);
}

/* Get values into the snapshot: resolved_path + relative name → value. */
static void get_to_snapshot(struct core *c, struct core_agent *a, const Usp__GetResp *gr)
{
	struct snap_rows s = { 0 };
	for (size_t i = 0; i < gr->n_req_path_results; i++) {
		const Usp__GetResp__RequestedPathResult *rpr = gr->req_path_results[i];
		for (size_t j = 0; rpr->err_code == 0 && j < rpr->n_resolved_path_results; j++) {
			const Usp__GetResp__ResolvedPathResult *res = rpr->resolved_path_results[j];
			for (size_t p = 0; p < res->n_result_params; p++) {
				const struct map_entry *e =
					(const struct map_entry *)res->result_params[p];
				snap_add(&s, res->resolved_path, e->key, e->value);
			}
		}
	}
	snap_submit(c, a, &s);
}

/* Set succeeded: every updated parameter, affected_path + name → value. */
static void set_to_snapshot(struct core *c, struct core_agent *a, const Usp__SetResp *sr)
{
	struct snap_rows s = { 0 };
	for (size_t i = 0; i < sr->n_updated_obj_results; i++) {
		const Usp__SetResp__UpdatedObjectResult__OperationStatus *st =
			sr->updated_obj_results[i]->oper_status;
		if (!st ||
		    st->oper_status_case !=
			    USP__SET_RESP__UPDATED_OBJECT_RESULT__OPERATION_STATUS__OPER_STATUS_OPER_SUCCESS)
			continue;
		for (size_t j = 0; j < st->oper_success->n_updated_inst_results; j++) {
			const Usp__SetResp__UpdatedInstanceResult *ir =
				st->oper_success->updated_inst_results[j];
			for (size_t p = 0; p < ir->n_updated_params; p++)
				snap_add(&s, ir->affected_path, ir->updated_params[p]->key,
					 ir->updated_params[p]->value);
		}
	}
	snap_submit(c, a, &s);
}

/* Delete succeeded: drop the snapshot rows under every deleted instance. */
static void delete_to_snapshot(struct core *c, struct core_agent *a, const Usp__DeleteResp *dr)
{
	for (size_t i = 0; i < dr->n_deleted_obj_results; i++) {
		const Usp__DeleteResp__DeletedObjectResult__OperationStatus *st =
			dr->deleted_obj_results[i]->oper_status;
		if (!st ||
		    st->oper_status_case !=
			    USP__DELETE_RESP__DELETED_OBJECT_RESULT__OPERATION_STATUS__OPER_STATUS_OPER_SUCCESS)
			continue;
		for (size_t j = 0; j < st->oper_success->n_affected_paths; j++) {
			const char *p = st->oper_success->affected_paths[j];
			size_t len = p ? strlen(p) : 0;
			if (len < 2 || p[len - 1] != '.')
				continue;
			CORE_SUBMIT(c, "snapshot_delete",
				    store_writer_snapshot_delete_prefix(c->writer, a->eid, p,
									&c->serr));
		}
	}
}

/* True when param is named in the Add's param_errs (it was not set). */
static int
add_param_failed(const Usp__AddResp__CreatedObjectResult__OperationStatus__OperationSuccess *ok,
		 const char *param)
{
	for (size_t i = 0; i < ok->n_param_errs; i++)
		if (ok->param_errs[i]->param && strcmp(ok->param_errs[i]->param, param) == 0)
			return 1;
	return 0;
}

/* The request's create_objs entry for result i (same index and obj_path). */
static const cJSON *add_request_obj(const cJSON *objs, size_t i, const char *requested)
{
	const cJSON *o = cJSON_GetArrayItem(objs, (int)i);
	const cJSON *path = o ? cJSON_GetObjectItemCaseSensitive(o, "obj_path") : NULL;
	if (cJSON_IsString(path) && requested && strcmp(path->valuestring, requested) == 0)
		return o;
	return NULL;
}

/* Add succeeded: the new instance's unique keys (from the response) and the
 * parameters the request set on it, under instantiated_path. */
static void add_to_snapshot(struct core *c, struct core_agent *a, const struct store_task *t,
			    const Usp__AddResp *ar)
{
	struct snap_rows s = { 0 };
	cJSON *req = cJSON_Parse(t->request_json ? t->request_json : "{}");
	const cJSON *objs = req ? cJSON_GetObjectItemCaseSensitive(req, "create_objs") : NULL;
	for (size_t i = 0; i < ar->n_created_obj_results; i++) {
		const Usp__AddResp__CreatedObjectResult *res = ar->created_obj_results[i];
		if (!res->oper_status ||
		    res->oper_status->oper_status_case !=
			    USP__ADD_RESP__CREATED_OBJECT_RESULT__OPERATION_STATUS__OPER_STATUS_OPER_SUCCESS)
			continue;
		const Usp__AddResp__CreatedObjectResult__OperationStatus__OperationSuccess *ok =
			res->oper_status->oper_success;
		const char *inst = ok->instantiated_path;
		for (size_t k = 0; k < ok->n_unique_keys; k++)
			snap_add(&s, inst, ok->unique_keys[k]->key, ok->unique_keys[k]->value);
		const cJSON *o = add_request_obj(objs, i, res->requested_path);
		const cJSON *ps = o ? cJSON_GetObjectItemCaseSensitive(o, "param_settings") : NULL;
		const cJSON *p;
		cJSON_ArrayForEach(p, ps)
		{
			const cJSON *name = cJSON_GetObjectItemCaseSensitive(p, "param");
			const cJSON *val = cJSON_GetObjectItemCaseSensitive(p, "value");
			if (cJSON_IsString(name) && cJSON_IsString(val) &&
			    !add_param_failed(ok, name->valuestring))
				snap_add(&s, inst, name->valuestring, val->valuestring);
		}
	}
	snap_submit(c, a, &s);
	cJSON_Delete(req);
}

/* Async Operate accepted: remember it as "requested" until OperationComplete. */
static void operate_requested(struct core *c, struct core_agent *a, const struct store_task *t,
			      const Usp__OperateResp *orp)
{
	cJSON *req = cJSON_Parse(t->request_json ? t->request_json : "{}");
	const cJSON *ck = req ? cJSON_GetObjectItemCaseSensitive(req, "command_key") : NULL;
	const char *key = cJSON_IsString(ck) ? ck->valuestring : "";
	for (size_t i = 0; i < orp->n_operation_results; i++) {
		const Usp__OperateResp__OperationResult *r = orp->operation_results[i];
		if (r->operation_resp_case !=
		    USP__OPERATE_RESP__OPERATION_RESULT__OPERATION_RESP_REQ_OBJ_PATH)
			continue;
		const char *dot = strrchr(r->executed_command, '.');
		if (!dot)
			continue;
		char obj[1024];
		snprintf(obj, sizeof(obj), "%.*s", (int)(dot - r->executed_command + 1),
			 r->executed_command);
		struct store_oper_result o = { .eid = a->eid,
					       .command_key = key,
					       .obj_path = obj,
					       .command_name = dot + 1,
					       .state = "requested" };
		CORE_SUBMIT(c, "oper_result", store_writer_oper_result(c->writer, &o, &c->serr));
	}
	cJSON_Delete(req);
}

void core_task_request_lost(struct core *c, struct core_req *req, const char *why)
{
	struct store_task *t = req->ctx;
	struct core_agent *a = req->agent;
	if (!store_task_op_idempotent(t->op)) {
		task_unknown(c, t, req->msg_id, why);
		core_req_free(req);
		return;
	}
	log_debug(CORE_LOG, "task %lld (%s) for %s sent again: %s", (long long)t->id, t->op, a->eid,
		  why);
	c->ctr.requests_resent++;
	core_req_free(req);
	send_task(c, a, t);
}

void core_task_response(struct core *c, struct core_req *req, const Usp__Msg *msg)
{
	struct store_task *t = req->ctx;
	if (!msg) {
		char why[160];
		if (!store_task_op_idempotent(t->op)) {
			snprintf(why, sizeof(why),
				 "no answer within %d ms; the agent may have carried it out",
				 c->cfg->request_timeout_ms);
			task_unknown(c, t, req->msg_id, why);
			return;
		}
		snprintf(why, sizeof(why), "timeout: no answer within %d ms",
			 c->cfg->request_timeout_ms);
		core_task_fail(c, t, req->msg_id, 0, why);
		return;
	}
	Usp__Header__MsgType type = usp_msg_type(msg);
	cJSON *j = usp_json_from_msg_payload(msg);
	char *json = j ? cJSON_PrintUnformatted(j) : NULL;
	cJSON_Delete(j);
	struct store_task_result r = { .task_id = t->id,
				       .msg_id = req->msg_id,
				       .result_json = json };
	if (type == USP__HEADER__MSG_TYPE__ERROR) {
		r.failed = 1;
		r.error_code = msg->body->error->err_code;
		r.error_message = msg->body->error->err_msg;
	} else if (type == USP__HEADER__MSG_TYPE__GET_RESP) {
		get_to_snapshot(c, req->agent, msg->body->response->get_resp);
	} else if (type == USP__HEADER__MSG_TYPE__SET_RESP) {
		set_to_snapshot(c, req->agent, msg->body->response->set_resp);
	} else if (type == USP__HEADER__MSG_TYPE__ADD_RESP) {
		add_to_snapshot(c, req->agent, t, msg->body->response->add_resp);
	} else if (type == USP__HEADER__MSG_TYPE__DELETE_RESP) {
		delete_to_snapshot(c, req->agent, msg->body->response->delete_resp);
	} else if (type == USP__HEADER__MSG_TYPE__OPERATE_RESP) {
		operate_requested(c, req->agent, t, msg->body->response->operate_resp);
	}
	CORE_SUBMIT(c, "task_result", store_writer_task_result(c->writer, &r, &c->serr));
	free(json);
	if (r.failed)
		c->ctr.tasks_failed++;
	else
		c->ctr.tasks_done++;
	task_done(c, t);
}
