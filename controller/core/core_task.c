/*
 * core_task.c — tasks claimed by the store's feeder: the stored JSON request
 * becomes a USP Msg (usp_json_build_request) with a fresh msg_id, is sent to
 * the agent and tracked; the answer (or Error, or timeout) becomes the task's
 * result through the writer, with the Get values also written to the
 * snapshot and asynchronous Operate requests recorded as operation results.
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

void core_task_fail(struct core *c, struct store_task *t, const char *msg_id, uint32_t code,
		    const char *why)
{
	struct store_task_result r = { .task_id = t->id, .failed = 1, .msg_id = msg_id,
				       .error_code = code, .error_message = why };
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
			core_task_fail(c, t, NULL, USP_ERR_INVALID_ARGUMENTS, "request is not valid JSON");
			return;
		}
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
		log_warn(CORE_LOG, "%zu claimed task(s) never sent could not be given back (%s); "
			 "they are re-queued when this node restarts or its lease expires", total,
			 store_error_name(rc));
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
	while (core_accepting(c) && !c->stopping && store_tasks_next(c->feeder, &t) == 0) {
		c->tasks_held++;
		c->ctr.tasks_claimed++;
		start_task(c, t);
	}
	store_tasks_set_in_flight(c->feeder, c->tasks_held);
}

/* Get values into the snapshot: resolved_path + relative name → value. */
static void get_to_snapshot(struct core *c, struct core_agent *a, const Usp__GetResp *gr)
{
	size_t n = 0, k = 0;
	for (size_t i = 0; i < gr->n_req_path_results; i++)
		for (size_t j = 0; j < gr->req_path_results[i]->n_resolved_path_results; j++)
			n += gr->req_path_results[i]->resolved_path_results[j]->n_result_params;
	if (n == 0 || n > STORE_SNAPSHOT_MAX_ROWS)
		return;
	struct store_snapshot_row *rows = calloc(n, sizeof(*rows));
	char **paths = calloc(n, sizeof(*paths));
	for (size_t i = 0; rows && paths && i < gr->n_req_path_results; i++) {
		const Usp__GetResp__RequestedPathResult *rpr = gr->req_path_results[i];
		for (size_t j = 0; rpr->err_code == 0 && j < rpr->n_resolved_path_results; j++) {
			const Usp__GetResp__ResolvedPathResult *res = rpr->resolved_path_results[j];
			for (size_t p = 0; p < res->n_result_params; p++) {
				const struct map_entry *e = (const struct map_entry *)res->result_params[p];
				size_t len = strlen(res->resolved_path) + strlen(e->key) + 1;
				if (!(paths[k] = malloc(len)))
					goto out;
				snprintf(paths[k], len, "%s%s", res->resolved_path, e->key);
				rows[k].path = paths[k];
				rows[k].value = e->value;
				k++;
			}
		}
	}
out:
	if (k)
		CORE_SUBMIT(c, "snapshot", store_writer_snapshot(c->writer, a->eid, rows, k, 0, &c->serr));
	for (size_t i = 0; paths && i < k; i++)
		free(paths[i]);
	free(paths);
	free(rows);
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
		if (r->operation_resp_case != USP__OPERATE_RESP__OPERATION_RESULT__OPERATION_RESP_REQ_OBJ_PATH)
			continue;
		const char *dot = strrchr(r->executed_command, '.');
		if (!dot)
			continue;
		char obj[1024];
		snprintf(obj, sizeof(obj), "%.*s", (int)(dot - r->executed_command + 1),
			 r->executed_command);
		struct store_oper_result o = { .eid = a->eid, .command_key = key, .obj_path = obj,
					       .command_name = dot + 1, .state = "requested" };
		CORE_SUBMIT(c, "oper_result", store_writer_oper_result(c->writer, &o, &c->serr));
	}
	cJSON_Delete(req);
}

void core_task_response(struct core *c, struct core_req *req, const Usp__Msg *msg)
{
	struct store_task *t = req->ctx;
	if (!msg) {
		char why[96];
		snprintf(why, sizeof(why), "timeout: no answer within %d ms", c->cfg->request_timeout_ms);
		core_task_fail(c, t, req->msg_id, 0, why);
		return;
	}
	Usp__Header__MsgType type = usp_msg_type(msg);
	cJSON *j = usp_json_from_msg_payload(msg);
	char *json = j ? cJSON_PrintUnformatted(j) : NULL;
	cJSON_Delete(j);
	struct store_task_result r = { .task_id = t->id, .msg_id = req->msg_id, .result_json = json };
	if (type == USP__HEADER__MSG_TYPE__ERROR) {
		r.failed = 1;
		r.error_code = msg->body->error->err_code;
		r.error_message = msg->body->error->err_msg;
	} else if (type == USP__HEADER__MSG_TYPE__GET_RESP) {
		get_to_snapshot(c, req->agent, msg->body->response->get_resp);
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
