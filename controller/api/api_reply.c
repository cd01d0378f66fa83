/*
 * api_reply.c — result lines → HTTP answer (see api_reply.h).
 */
#include "api_reply.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *code;
	int status;
} code_status[] = {
	{ "malformed_json", 400 },
	{ "line_too_long", 413 },
	{ "bad_field", 400 },
	{ "bad_query", 400 },
	{ "unknown_op", 400 },
	{ "invalid_path", 400 },
	{ "bad_targets", 400 },
	{ "no_targets", 400 },
	{ "unknown_agent", 404 },
	{ "unknown_task", 404 },
	{ "unknown_campaign", 404 },
	{ "unknown_profile", 404 },
	{ "unknown_token", 404 },
	{ "not_found", 404 },
	{ "campaign_exists", 409 },
	{ "campaign_conflict", 409 },
	{ "campaign_state", 409 },
	{ "profile_conflict", 409 },
	{ "token_exists", 409 },
	{ "not_cancelable", 409 },
	{ "too_large", 413 },
	{ "headers_too_large", 431 },
	{ "unauthorized", 401 },
	{ "forbidden", 403 },
	{ "method_not_allowed", 405 },
	{ "unsupported_media_type", 415 },
	{ "unavailable", 503 },
	{ "too_many_clients", 503 },
	{ "timeout", 504 },
	{ "internal_error", 500 },
	{ "database_error", 500 },
};

int api_status_of_code(const char *code)
{
	for (size_t i = 0; code && i < sizeof(code_status) / sizeof(code_status[0]); i++)
		if (strcmp(code, code_status[i].code) == 0)
			return code_status[i].status;
	return 500;
}

char *api_error_body(const char *code, const char *message)
{
	cJSON *o = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(o, "error");
	cJSON_AddStringToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", message ? message : "");
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

/* An error line → {"error": {...}} and its status. */
static int error_reply(const cJSON *line, char **body)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(line, "error");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "error", cJSON_Duplicate(e, 1));
	const cJSON *agent = cJSON_GetObjectItemCaseSensitive(line, "agent");
	const cJSON *result = cJSON_GetObjectItemCaseSensitive(line, "result");
	if (agent)
		cJSON_AddItemToObject(o, "agent", cJSON_Duplicate(agent, 0));
	if (result)
		cJSON_AddItemToObject(o, "result", cJSON_Duplicate(result, 1));
	*body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return api_status_of_code(cJSON_IsString(code) ? code->valuestring : NULL);
}

static int is_ok(const cJSON *line)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(line, "ok"));
}

static const char *code_of(const cJSON *line)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(line, "error"), "code");
	return cJSON_IsString(c) ? c->valuestring : "";
}

static int one(const struct api_route *r, const cJSON *lines, char **body)
{
	const cJSON *line = lines ? lines->child : NULL;
	if (!line) {
		*body = api_error_body("internal_error", "the engine gave no answer");
		return 500;
	}
	if (!is_ok(line))
		return error_reply(line, body);
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(line, "result");
	*body = res ? cJSON_PrintUnformatted(res) : cJSON_PrintUnformatted(line);
	int created = r->method == API_POST && (!strcmp(r->op ? r->op : "", "campaign_create") ||
						!strcmp(r->op ? r->op : "", "token_create"));
	return created ? 201 : 200;
}

static int list(const struct api_route *r, const cJSON *lines, int limit, char **body)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *items = cJSON_AddArrayToObject(o, "items");
	const cJSON *last = NULL;
	for (const cJSON *l = lines ? lines->child : NULL; l; l = l->next) {
		if (!is_ok(l)) {
			/* A selector matching nothing is an empty page. */
			if (!strcmp(code_of(l), "no_targets"))
				continue;
			cJSON_Delete(o);
			return error_reply(l, body);
		}
		const cJSON *res = cJSON_GetObjectItemCaseSensitive(l, "result");
		cJSON_AddItemToArray(items, cJSON_Duplicate(res ? res : l, 1));
		last = res;
	}
	const cJSON *cur =
		r->cursor && last ? cJSON_GetObjectItemCaseSensitive(last, r->cursor) : NULL;
	int n = cJSON_GetArraySize(items);
	if (cur && limit > 0 && n >= limit) {
		if (cJSON_IsString(cur))
			cJSON_AddStringToObject(o, "next", cur->valuestring);
		else if (cJSON_IsNumber(cur)) {
			char b[32];
			snprintf(b, sizeof(b), "%.0f", cur->valuedouble);
			cJSON_AddStringToObject(o, "next", b);
		} else
			cJSON_AddNullToObject(o, "next");
	} else {
		cJSON_AddNullToObject(o, "next");
	}
	*body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return 200;
}

static int submit(const cJSON *lines, int waited, char **body)
{
	for (const cJSON *l = lines ? lines->child : NULL; l; l = l->next)
		if (!is_ok(l) && !cJSON_GetObjectItemCaseSensitive(l, "agent"))
			return error_reply(l, body); /* the line could not run */
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "results", cJSON_Duplicate(lines, 1));
	*body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return waited ? 200 : 202;
}

int api_reply_from_lines(const struct api_route *r, const cJSON *lines, int limit, int waited,
			 char **body)
{
	switch (r->kind) {
	case API_K_LIST:
		return list(r, lines, limit, body);
	case API_K_SUBMIT:
		return submit(lines, waited, body);
	default:
		return one(r, lines, body);
	}
}
