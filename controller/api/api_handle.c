/*
 * api_handle.c — one request's answer (see api_handle.h).
 *
 * Order of checks: route (404/405), authentication (401) and role (403)
 * for everything but /healthz and the console's files, the mapping of
 * path, query and body to a uspctl command (400/413/415), then the engine
 * on a pooled connection (503 when none is free within db_wait_ms).
 * Nothing is written to the database before every check has passed.
 */
#include "api_handle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "api_engine.h"
#include "api_map.h"
#include "api_metrics.h"
#include "api_reply.h"
#include "api_static.h"
#include "log.h"
#include "store_query.h"
#include "store_tokens.h"
#include "uspctl_cmd.h"

#define LOG_C "api"

extern const char api_openapi_json[]; /* generated from api_openapi.json */

void api_answer_error(struct api_answer *a, int status, const char *code, const char *message)
{
	free(a->body);
	a->status = status;
	a->body = api_error_body(code, message);
	a->len = a->body ? strlen(a->body) : 0;
	a->content_type = "application/json";
	a->no_cache = 1;
}

static void answer_json(struct api_answer *a, int status, char *body)
{
	free(a->body);
	a->status = status;
	a->body = body;
	a->len = body ? strlen(body) : 0;
	a->content_type = "application/json";
	a->no_cache = 1;
}

static int route_index(const struct api_route *r)
{
	if (!r)
		return API_METRIC_ROUTE_NONE;
	if (r->kind == API_K_STATIC)
		return API_METRIC_ROUTE_STATIC;
	return (int)(r - api_routes);
}

/* ---- database -------------------------------------------------------------------- */

struct lease {
	PGconn *db;
	int slot;
	int lost;
};

static int borrow(const struct api_ctx *ctx, struct lease *l, struct api_answer *a, int wait_ms)
{
	int busy = 0;
	struct uspc_err err = { 0 };
	l->lost = 0;
	l->db = store_pool_get(ctx->pool, wait_ms, &l->slot, &busy, &err);
	if (l->db)
		return 0;
	log_warn(LOG_C, "%s", err.msg);
	api_answer_error(a, 503, "unavailable",
			 busy ? "every database connection is busy; try again"
			      : "the database cannot be reached; try again");
	a->retry_after = busy ? 1 : 5;
	return -1;
}

static void give_back(const struct api_ctx *ctx, struct lease *l)
{
	if (l->db)
		store_pool_put(ctx->pool, l->slot, l->lost);
	l->db = NULL;
}

/* ---- authentication ------------------------------------------------------------------ */

/* 0 with who filled, else the answer is set (401/403/503). */
static int authenticate(const struct api_ctx *ctx, const struct api_request *rq,
			const struct api_route *r, struct lease *l, struct store_token_who *who,
			struct api_answer *a)
{
	const char *h = rq->authorization;
	if (!h || strncasecmp(h, "Bearer ", 7) != 0) {
		api_answer_error(a, 401, "unauthorized",
				 "this needs a token: Authorization: Bearer uspc_... (uspctl "
				 "token_create makes one)");
		a->unauthorized = 1;
		return -1;
	}
	const char *token = h + 7;
	while (*token == ' ')
		token++;
	if (!store_token_well_formed(token)) {
		api_answer_error(a, 401, "unauthorized", "the token is not a uspc token");
		a->unauthorized = 1;
		return -1;
	}
	if (borrow(ctx, l, a, ctx->db_wait_ms) < 0)
		return -1;
	struct uspc_err err = { 0 };
	int rc = store_token_check(l->db, token, who, &err);
	if (rc == STORE_E_NOTFOUND) {
		api_answer_error(a, 401, "unauthorized", "unknown, revoked or expired token");
		a->unauthorized = 1;
		return -1;
	}
	if (rc < 0) {
		l->lost = PQstatus(l->db) != CONNECTION_OK;
		log_warn(LOG_C, "token check: %s", err.msg);
		api_answer_error(a, 503, "unavailable",
				 "the token could not be checked; try again");
		a->retry_after = 1;
		return -1;
	}
	if ((int)who->role < (int)r->role) {
		char msg[160];
		snprintf(msg, sizeof(msg), "%s %s needs the %s role; token '%s' is %s",
			 api_method_name(r->method), r->pattern, api_role_name(r->role), who->name,
			 api_role_name((enum api_role)who->role));
		api_answer_error(a, 403, "forbidden", msg);
		return -1;
	}
	return 0;
}

/* ---- kinds ----------------------------------------------------------------------------- */

static void healthz(const struct api_ctx *ctx, struct api_answer *a)
{
	struct lease l = { 0 };
	if (borrow(ctx, &l, a, 1000) < 0) {
		answer_json(a, 503, strdup("{\"status\":\"unavailable\",\"database\":\"down\"}"));
		return;
	}
	PGresult *res = PQexec(l.db, "SELECT 1");
	int ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	PQclear(res);
	l.lost = !ok;
	give_back(ctx, &l);
	answer_json(a, ok ? 200 : 503,
		    strdup(ok ? "{\"status\":\"ok\",\"database\":\"up\"}"
			      : "{\"status\":\"unavailable\",\"database\":\"down\"}"));
}

static void metrics(const struct api_ctx *ctx, struct api_answer *a)
{
	struct store_pool_stats ps;
	size_t len = 0;
	store_pool_stats(ctx->pool, &ps);
	char *text = api_metrics_render(&ps, &len);
	if (!text) {
		api_answer_error(a, 500, "internal_error", "out of memory");
		return;
	}
	a->status = 200;
	a->body = text;
	a->len = len;
	a->content_type = "text/plain; version=0.0.4; charset=utf-8";
	a->no_cache = 1;
}

static void whoami(const struct store_token_who *who, struct api_answer *a)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "token_id", (double)who->id);
	cJSON_AddStringToObject(o, "name", who->name);
	cJSON_AddStringToObject(o, "role", api_role_name((enum api_role)who->role));
	answer_json(a, 200, cJSON_PrintUnformatted(o));
	cJSON_Delete(o);
}

static void console_file(const struct api_ctx *ctx, const struct api_request *rq,
			 struct api_answer *a)
{
	char rel[256];
	char decoded[API_PATH_MAX + 1];
	if (!ctx->console_dir || !*ctx->console_dir) {
		api_answer_error(a, 404, "not_found",
				 "this uspc-api serves no console (--console)");
		return;
	}
	if (api_pct_decode(rq->path, strlen(rq->path), decoded, sizeof(decoded), 0) < 0 ||
	    api_static_path(decoded, rel, sizeof(rel)) < 0) {
		api_answer_error(a, 404, "not_found", "no such file");
		return;
	}
	size_t size = 0;
	int fd = api_static_open(ctx->console_dir, rel, &size);
	if (fd < 0) {
		api_answer_error(a, 404, "not_found", "no such file");
		return;
	}
	a->status = 200;
	a->fd = fd;
	a->fd_size = size;
	a->content_type = api_static_type(rel);
	a->no_cache = 1; /* small files; a new version shows at once */
}

static void events(const struct api_ctx *ctx, const struct api_query *q, struct api_answer *a)
{
	const char *types = NULL, *agent = NULL;
	for (size_t i = 0; i < q->n; i++) {
		if (!strcmp(q->name[i], "types"))
			types = q->value[i];
		else if (!strcmp(q->name[i], "agent"))
			agent = q->value[i];
	}
	int mask = api_events_types(types);
	if (mask < 0) {
		api_answer_error(a, 400, "bad_query",
				 "'types' is a comma-separated list of task, notification, "
				 "campaign");
		return;
	}
	if (agent && (!*agent || strlen(agent) > 255)) {
		api_answer_error(a, 400, "bad_query", "'agent' wants an Endpoint ID");
		return;
	}
	struct api_sub *s = api_events_subscribe(ctx->events, mask, agent);
	if (!s) {
		api_answer_error(a, 503, "too_many_clients",
				 "too many event streams are open; try again later");
		a->retry_after = 5;
		return;
	}
	a->status = 200;
	a->sub = s;
	a->content_type = "text/event-stream; charset=utf-8";
	a->no_cache = 1;
}

/* Run the command; lines or the answer set. */
static cJSON *engine(const struct api_ctx *ctx, struct lease *l, const cJSON *cmd,
		     const char *actor, struct api_answer *a)
{
	cJSON *lines = NULL;
	char msg[256];
	if (!l->db && borrow(ctx, l, a, ctx->db_wait_ms) < 0)
		return NULL;
	if (api_engine_run(l->db, cmd, actor, &lines, &l->lost, msg, sizeof(msg)) < 0) {
		log_warn(LOG_C, "engine: %s", msg);
		if (l->lost) {
			api_answer_error(a, 503, "unavailable", "the database connection was lost");
			a->retry_after = 1;
		} else {
			api_answer_error(a, 500, "internal_error", msg);
		}
		return NULL;
	}
	return lines;
}

/* A waiting submission may target at most API_WAIT_AGENTS agents. */
static int check_wait_targets(struct lease *l, const cJSON *cmd, struct api_answer *a)
{
	char *text = cJSON_PrintUnformatted(cmd);
	struct uspctl_cmd c;
	struct uspc_err err = { 0 };
	uspctl_cmd_init(&c);
	int rc = text ? uspctl_cmd_parse(text, strlen(text), &c, &err) : -1;
	cJSON_free(text);
	if (rc < 0) { /* the engine reports the same error with its code */
		uspctl_cmd_fini(&c);
		return 0;
	}
	size_t n = c.targets.n_eids;
	if (!n) {
		struct store_selector sel;
		store_selector_init(&sel);
		sel.all = c.targets.all;
		sel.tag = c.targets.tag;
		sel.model = c.targets.model;
		sel.manufacturer = c.targets.manufacturer;
		sel.software_version = c.targets.software_version;
		sel.eid_glob = c.targets.eid_glob;
		sel.online = c.targets.online;
		char **eids = NULL;
		rc = store_query_resolve(l->db, &sel, API_WAIT_AGENTS, &eids, &n, &err);
		store_strv_free(eids, n);
		if (rc == STORE_E_ARG)
			n = API_WAIT_AGENTS + 1;
	}
	uspctl_cmd_fini(&c);
	if (n > API_WAIT_AGENTS) {
		char msg[200];
		snprintf(msg, sizeof(msg),
			 "a request that waits targets at most %d agents: give \"wait\": 0 and "
			 "follow its tasks (GET /api/v1/tasks?batch=..., or the event stream)",
			 API_WAIT_AGENTS);
		api_answer_error(a, 400, "bad_targets", msg);
		return -1;
	}
	return 0;
}

static int is_final(const cJSON *lines)
{
	const cJSON *l = lines ? lines->child : NULL;
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(l, "result"), "state");
	if (!cJSON_IsString(st))
		return 1; /* an error line: nothing to wait for */
	return strcmp(st->valuestring, "queued") != 0 && strcmp(st->valuestring, "sent") != 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void run_op(const struct api_ctx *ctx, const struct api_match *m, const struct api_query *q,
		   const struct api_request *rq, const struct store_token_who *who, struct lease *l,
		   struct api_answer *a)
{
	struct api_mapped mp;
	char actor[96];
	snprintf(actor, sizeof(actor), "api:%s", who->name);
	const struct api_route *r = m->route;
	if (r->body && rq->len && rq->content_type &&
	    strncasecmp(rq->content_type, "application/json", 16) != 0) {
		api_answer_error(a, 415, "unsupported_media_type",
				 "the body must be application/json");
		return;
	}
	if (api_map_request(m, q, rq->body, rq->len, &mp)) {
		api_answer_error(a, mp.status, mp.code, mp.message);
		return;
	}
	const cJSON *lim = cJSON_GetObjectItemCaseSensitive(mp.cmd, "limit");
	int limit = cJSON_IsNumber(lim) ? (int)lim->valuedouble : 0;
	cJSON *lines = NULL;
	int counted = 0;
	if (r->kind == API_K_SUBMIT && mp.wait_s > 0) {
		/* A waiting submission holds its connection for the whole wait:
		 * at most max_waiting at once, so that reads are never starved. */
		if (__atomic_add_fetch(ctx->waiting, 1, __ATOMIC_RELAXED) > ctx->max_waiting) {
			__atomic_sub_fetch(ctx->waiting, 1, __ATOMIC_RELAXED);
			char msg[160];
			snprintf(msg, sizeof(msg),
				 "%d requests are waiting for agents already (the most at once); "
				 "try again, or submit with \"wait\": 0",
				 ctx->max_waiting);
			api_answer_error(a, 503, "unavailable", msg);
			a->retry_after = 2;
			goto out;
		}
		counted = 1;
		if (!l->db && borrow(ctx, l, a, ctx->db_wait_ms) < 0)
			goto out;
		if (check_wait_targets(l, mp.cmd, a) < 0)
			goto out;
	}
	if (r->kind == API_K_TASK && mp.wait_s > 0) {
		/* Read the task; until it is final, wait for finished tasks
		 * (the events thread's LISTEN) and read it again. The
		 * connection is not held while waiting. */
		int64_t until = now_ms() + (int64_t)mp.wait_s * 1000;
		for (;;) {
			uint64_t gen = api_events_task_gen(ctx->events);
			if (!(lines = engine(ctx, l, mp.cmd, actor, a)))
				goto out;
			int64_t left = until - now_ms();
			if (is_final(lines) || left <= 0 || api_events_stopping(ctx->events))
				break;
			give_back(ctx, l);
			cJSON_Delete(lines);
			lines = NULL;
			api_events_wait_tasks(ctx->events, gen, left < 1000 ? (int)left : 1000);
		}
	} else if (!(lines = engine(ctx, l, mp.cmd, actor, a))) {
		goto out;
	}
	char *body = NULL;
	int status = api_reply_from_lines(r, lines, limit, mp.wait_s > 0, &body);
	if (!body)
		api_answer_error(a, 500, "internal_error", "out of memory");
	else
		answer_json(a, status, body);
out:
	if (counted)
		__atomic_sub_fetch(ctx->waiting, 1, __ATOMIC_RELAXED);
	cJSON_Delete(lines);
	api_mapped_fini(&mp);
}

void api_handle(const struct api_ctx *ctx, const struct api_request *rq, struct api_answer *a)
{
	struct api_match m;
	struct api_query q;
	char qbuf[8192], msg[200];
	struct lease l = { 0 };
	memset(a, 0, sizeof(*a));
	a->fd = -1;
	a->metric_route = API_METRIC_ROUTE_NONE;
	if (api_route_match(rq->method, rq->path, &m) != 0) {
		if (m.status == 405) {
			api_answer_error(a, 405, "method_not_allowed",
					 "this path takes other methods");
			snprintf(a->allow, sizeof(a->allow), "%s", m.allow);
		} else {
			api_answer_error(a, 404, "not_found",
					 "no such route (see /api/v1/openapi.json)");
		}
		return;
	}
	const struct api_route *r = m.route;
	a->metric_route = route_index(r);
	if (r->kind == API_K_STATIC) {
		console_file(ctx, rq, a);
		return;
	}
	if (r->kind == API_K_HEALTHZ) {
		healthz(ctx, a);
		return;
	}
	if (rq->query && strlen(rq->query) >= sizeof(qbuf) / 2) {
		api_answer_error(a, 400, "bad_query", "the query string is too long");
		return;
	}
	if (api_query_parse(rq->query, qbuf, sizeof(qbuf), &q, msg, sizeof(msg)) < 0) {
		api_answer_error(a, 400, "bad_query", msg);
		return;
	}
	struct store_token_who who;
	memset(&who, 0, sizeof(who));
	if (authenticate(ctx, rq, r, &l, &who, a) < 0)
		goto out;
	switch (r->kind) {
	case API_K_METRICS:
		give_back(ctx, &l);
		metrics(ctx, a);
		break;
	case API_K_OPENAPI:
		answer_json(a, 200, strdup(api_openapi_json));
		break;
	case API_K_WHOAMI:
		whoami(&who, a);
		break;
	case API_K_EVENTS:
		give_back(ctx, &l);
		for (size_t i = 0; i < q.n; i++)
			if (!api_route_takes_query(r, q.name[i])) {
				api_answer_error(a, 400, "bad_query",
						 "/api/v1/events takes: types agent");
				goto out;
			}
		events(ctx, &q, a);
		break;
	default:
		run_op(ctx, &m, &q, rq, &who, &l, a);
		break;
	}
out:
	give_back(ctx, &l);
}
