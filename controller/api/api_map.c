/*
 * api_map.c — HTTP request → uspctl command line (see api_map.h).
 */
#include "api_map.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(struct api_mapped *out, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct api_mapped *out, int status, const char *code, const char *fmt, ...)
{
	va_list ap;
	cJSON_Delete(out->cmd);
	out->cmd = NULL;
	out->status = status;
	snprintf(out->code, sizeof(out->code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(out->message, sizeof(out->message), fmt, ap);
	va_end(ap);
	return status;
}

int api_query_parse(const char *raw, char *buf, size_t cap, struct api_query *q, char *msg,
		    size_t msg_cap)
{
	size_t used = 0;
	memset(q, 0, sizeof(*q));
	if (!raw)
		return 0;
	while (*raw) {
		const char *amp = strchr(raw, '&');
		size_t len = amp ? (size_t)(amp - raw) : strlen(raw);
		if (len) {
			const char *eq = memchr(raw, '=', len);
			size_t nl = eq ? (size_t)(eq - raw) : len;
			if (q->n >= API_QUERY_MAX) {
				snprintf(msg, msg_cap, "more than %d query parameters",
					 API_QUERY_MAX);
				return -1;
			}
			long d = api_pct_decode(raw, nl, buf + used, cap - used, 1);
			if (d <= 0) {
				snprintf(msg, msg_cap,
					 "a query parameter name is empty, too long or "
					 "badly %%-escaped");
				return -1;
			}
			q->name[q->n] = buf + used;
			used += (size_t)d + 1;
			const char *v = eq ? eq + 1 : raw + len;
			size_t vl = eq ? len - nl - 1 : 0;
			d = api_pct_decode(v, vl, buf + used, cap - used, 1);
			if (d < 0) {
				snprintf(msg, msg_cap,
					 "query parameter '%.64s': value too long or "
					 "badly %%-escaped",
					 q->name[q->n]);
				return -1;
			}
			q->value[q->n++] = buf + used;
			used += (size_t)d + 1;
		}
		raw += len;
		if (*raw == '&')
			raw++;
	}
	return 0;
}

/* ---- query parameters ------------------------------------------------------ */

static const char *qget(const struct api_query *q, const char *name)
{
	for (size_t i = 0; i < q->n; i++)
		if (strcmp(q->name[i], name) == 0)
			return q->value[i];
	return NULL;
}

/* Every parameter is one the route takes, and only "path" repeats. */
static int check_query(const struct api_route *r, const struct api_query *q, struct api_mapped *out)
{
	for (size_t i = 0; i < q->n; i++) {
		if (!api_route_takes_query(r, q->name[i]))
			return fail(out, 400, "bad_query",
				    "unknown query parameter '%.64s' (%s takes: %s)", q->name[i],
				    r->pattern, *r->query ? r->query : "none");
		for (size_t j = 0; j < i; j++)
			if (strcmp(q->name[i], q->name[j]) == 0 && strcmp(q->name[i], "path") != 0)
				return fail(out, 400, "bad_query",
					    "query parameter '%.64s' given twice", q->name[i]);
	}
	return 0;
}

/* A whole number in [lo, hi]; -1 on anything else. */
static int whole(const char *s, double lo, double hi, double *v)
{
	char *end;
	if (!s || !*s)
		return -1;
	errno = 0;
	double d = strtod(s, &end);
	if (errno || *end || d < lo || d > hi || d != (double)(long long)d)
		return -1;
	*v = d;
	return 0;
}

/* Copy query parameter name into cmd as field (a number when numeric). */
static int q_number(const struct api_query *q, const char *name, const char *field, double lo,
		    double hi, cJSON *cmd, struct api_mapped *out)
{
	const char *s = qget(q, name);
	double v;
	if (!s)
		return 0;
	if (whole(s, lo, hi, &v) < 0)
		return fail(out, 400, "bad_query",
			    "query parameter '%s' wants a whole number "
			    "from %.0f to %.0f, got '%.32s'",
			    name, lo, hi, s);
	cJSON_AddNumberToObject(cmd, field, v);
	return 0;
}

static int q_string(const struct api_query *q, const char *name, const char *field, cJSON *cmd)
{
	const char *s = qget(q, name);
	if (s)
		cJSON_AddStringToObject(cmd, field, s);
	return 0;
}

/* The selector parameters as uspctl's "targets" object; NULL when none. */
static int q_selector(const struct api_query *q, cJSON **sel, struct api_mapped *out)
{
	static const char *const keys[] = { "tag", "model", "manufacturer", "software_version",
					    "eid" };
	*sel = NULL;
	cJSON *s = cJSON_CreateObject();
	int n = 0;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = qget(q, keys[i]);
		if (v) {
			cJSON_AddStringToObject(s, keys[i], v);
			n++;
		}
	}
	const char *on = qget(q, "online");
	if (on) {
		if (strcmp(on, "true") != 0 && strcmp(on, "false") != 0) {
			cJSON_Delete(s);
			return fail(out, 400, "bad_query",
				    "query parameter 'online' wants true or false");
		}
		cJSON_AddBoolToObject(s, "online", strcmp(on, "true") == 0);
		n++;
	}
	if (!n) {
		cJSON_Delete(s);
		return 0;
	}
	*sel = s;
	return 0;
}

static int page(const struct api_query *q, cJSON *cmd, struct api_mapped *out)
{
	if (q_number(q, "limit", "limit", 1, API_PAGE_MAX, cmd, out))
		return out->status;
	if (!qget(q, "limit"))
		cJSON_AddNumberToObject(cmd, "limit", API_PAGE_DEFAULT);
	return 0;
}

/* ---- body -------------------------------------------------------------------- */

static int parse_body(const struct api_route *r, const char *body, size_t len, cJSON **obj,
		      struct api_mapped *out)
{
	*obj = NULL;
	if (!r->body) {
		if (len)
			return fail(out, 400, "bad_field", "%s %s takes no request body",
				    api_method_name(r->method), r->pattern);
		return 0;
	}
	if (!len) {
		*obj = cJSON_CreateObject();
		return 0;
	}
	if (len > API_BODY_MAX)
		return fail(out, 413, "too_large", "the body is over %d bytes", API_BODY_MAX);
	const char *end = NULL;
	cJSON *j = cJSON_ParseWithLengthOpts(body, len, &end, 0);
	if (!j || !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return fail(out, 400, "malformed_json", "the body is not one JSON object");
	}
	for (const char *p = end; p && p < body + len; p++)
		if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') {
			cJSON_Delete(j);
			return fail(out, 400, "malformed_json",
				    "the body has text after its JSON object");
		}
	if (cJSON_GetObjectItemCaseSensitive(j, "op") ||
	    cJSON_GetObjectItemCaseSensitive(j, "id")) {
		int is_submit = r->kind == API_K_SUBMIT;
		if (!is_submit || cJSON_GetObjectItemCaseSensitive(j, "id")) {
			cJSON_Delete(j);
			return fail(
				out, 400, "bad_field",
				is_submit ? "the body has no \"id\": the answer's lines carry none"
					  : "the body has no \"op\" or \"id\": the route says "
					    "what runs");
		}
	}
	*obj = j;
	return 0;
}

/* ---- per route ------------------------------------------------------------- */

static const char *const usp_ops[] = { "get",
				       "set",
				       "add",
				       "delete",
				       "operate",
				       "get_supported_dm",
				       "get_instances",
				       "get_supported_protocol",
				       "subscribe",
				       "unsubscribe",
				       "set_attributes",
				       "get_attributes" };

static int map_submit(cJSON *cmd, struct api_mapped *out)
{
	const cJSON *op = cJSON_GetObjectItemCaseSensitive(cmd, "op");
	int ok = 0;
	for (size_t i = 0; cJSON_IsString(op) && i < sizeof(usp_ops) / sizeof(usp_ops[0]); i++)
		ok |= strcmp(op->valuestring, usp_ops[i]) == 0;
	if (!ok)
		return fail(out, 400, "unknown_op",
			    "\"op\" must be a device request: get, set, add, delete, operate, "
			    "get_supported_dm, get_instances, get_supported_protocol, subscribe, "
			    "unsubscribe, set_attributes, get_attributes (the other ops have "
			    "their own routes)");
	cJSON *w = cJSON_DetachItemFromObjectCaseSensitive(cmd, "wait");
	if (cJSON_GetObjectItemCaseSensitive(cmd, "timeout")) {
		cJSON_Delete(w);
		return fail(out, 400, "bad_field",
			    "\"timeout\" is uspctl's: give \"wait\" (seconds)");
	}
	double s = 0;
	if (w && (!cJSON_IsNumber(w) || w->valuedouble < 0 || w->valuedouble > API_WAIT_MAX_S ||
		  w->valuedouble != (double)(int)w->valuedouble)) {
		cJSON_Delete(w);
		return fail(out, 400, "bad_field", "\"wait\" wants whole seconds from 0 to %d",
			    API_WAIT_MAX_S);
	}
	if (w)
		s = w->valuedouble;
	cJSON_Delete(w);
	out->wait_s = (int)s;
	if (s > 0) {
		cJSON_AddTrueToObject(cmd, "wait");
		cJSON_AddNumberToObject(cmd, "timeout", s);
	} else {
		cJSON_AddFalseToObject(cmd, "wait");
	}
	return 0;
}

/* A task id from the path: digits only. */
static int task_param(const char *p, cJSON *cmd, struct api_mapped *out)
{
	double v;
	if (whole(p, 1, 9e15, &v) < 0 || strspn(p, "0123456789") != strlen(p))
		return fail(out, 404, "unknown_task", "'%.64s' is not a task id", p);
	cJSON *a = cJSON_AddArrayToObject(cmd, "tasks");
	cJSON_AddItemToArray(a, cJSON_CreateNumber(v));
	return 0;
}

/* A campaign or token reference: an id when all digits, else a name. */
static void ref_param(const char *p, const char *id_field, const char *name_field, cJSON *cmd)
{
	double v;
	if (strspn(p, "0123456789") == strlen(p) && whole(p, 1, 9e15, &v) == 0)
		cJSON_AddNumberToObject(cmd, id_field, v);
	else
		cJSON_AddStringToObject(cmd, name_field, p);
}

static int map_fields(const struct api_match *m, const struct api_query *q, cJSON *cmd,
		      struct api_mapped *out)
{
	const struct api_route *r = m->route;
	const char *op = r->op;
	const char *p0 = m->n_params > 0 ? m->params[0] : NULL;
	const char *p1 = m->n_params > 1 ? m->params[1] : NULL;
	int agent_route = strncmp(r->pattern, "/api/v1/agents/{eid}", 20) == 0;
	if (agent_route)
		cJSON_AddStringToObject(cmd, "targets", p0);
	else if (qget(q, "agent") && strcmp(op, "profile_history") != 0)
		cJSON_AddStringToObject(cmd, "targets", qget(q, "agent"));

	if (!strcmp(op, "list_agents") || !strcmp(op, "fleet_versions")) {
		cJSON *sel;
		if (q_selector(q, &sel, out))
			return out->status;
		if (sel)
			cJSON_AddItemToObject(cmd, "targets", sel);
		else if (!strcmp(op, "list_agents"))
			cJSON_AddItemToObject(cmd, "targets", cJSON_CreateRaw("{\"all\":true}"));
		if (!strcmp(op, "list_agents")) {
			if (page(q, cmd, out))
				return out->status;
			q_string(q, "after", "after", cmd);
		}
	} else if (!strcmp(op, "snapshot") || !strcmp(op, "profile_paths")) {
		if (!strcmp(op, "snapshot")) {
			cJSON *paths = NULL;
			for (size_t i = 0; i < q->n; i++)
				if (!strcmp(q->name[i], "path")) {
					if (!paths)
						paths = cJSON_AddArrayToObject(cmd, "paths");
					cJSON_AddItemToArray(paths,
							     cJSON_CreateString(q->value[i]));
				}
		} else {
			int n = 0;
			for (size_t i = 0; i < q->n; i++)
				n += !strcmp(q->name[i], "path");
			if (n > 1)
				return fail(out, 400, "bad_query",
					    "profile-paths takes one 'path'");
			q_string(q, "path", "path", cmd);
		}
	} else if (!strcmp(op, "notifications")) {
		q_string(q, "kind", "kind", cmd);
		q_string(q, "path", "path", cmd);
		if (q_number(q, "since", "since", 1, 366.0 * 86400, cmd, out) ||
		    q_number(q, "until", "until", 1, 366.0 * 86400, cmd, out) ||
		    q_number(q, "before", "before", 1, 9e15, cmd, out) || page(q, cmd, out))
			return out->status;
	} else if (!strcmp(op, "task_list")) {
		q_string(q, "state", "state", cmd);
		q_string(q, "op", "task_op", cmd); /* "op" names the uspctl op */
		q_string(q, "batch", "batch", cmd);
		if (q_number(q, "before", "before", 1, 9e15, cmd, out) || page(q, cmd, out))
			return out->status;
	} else if (!strcmp(op, "operation_results")) {
		q_string(q, "command_key", "command_key", cmd);
		if (page(q, cmd, out))
			return out->status;
	} else if (!strcmp(op, "rejections")) {
		q_string(q, "sender", "sender", cmd);
		q_string(q, "reason", "reason", cmd);
		if (q_number(q, "since", "since", 1, 366.0 * 86400, cmd, out) || page(q, cmd, out))
			return out->status;
	} else if (!strcmp(op, "untag")) {
		cJSON_AddStringToObject(cmd, "tags", p1);
	} else if (!strcmp(op, "task_status") || !strcmp(op, "cancel")) {
		if (task_param(p0, cmd, out))
			return out->status;
		if (r->kind == API_K_TASK && qget(q, "wait")) {
			double w;
			if (whole(qget(q, "wait"), 0, API_WAIT_MAX_S, &w) < 0)
				return fail(
					out, 400, "bad_query",
					"query parameter 'wait' wants whole seconds from 0 to %d",
					API_WAIT_MAX_S);
			out->wait_s = (int)w;
		}
	} else if (!strncmp(op, "campaign_", 9) && p0) {
		ref_param(p0, "campaign", "campaign", cmd);
		if (!strcmp(op, "campaign_devices")) {
			q_string(q, "state", "state", cmd);
			if (q_number(q, "wave", "wave", 1, 1000, cmd, out) || page(q, cmd, out))
				return out->status;
		}
	} else if (!strncmp(op, "profile_", 8) && p0) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(cmd, "name");
		if (name && (!cJSON_IsString(name) || strcmp(name->valuestring, p0) != 0))
			return fail(out, 400, "bad_field",
				    "the body's \"name\" is not the profile's name in the path");
		if (!name)
			cJSON_AddStringToObject(cmd, "name", p0);
		if (!strcmp(op, "profile_history")) {
			if (!qget(q, "agent"))
				return fail(out, 400, "bad_query",
					    "profile history wants 'agent' (an Endpoint ID)");
			cJSON_AddStringToObject(cmd, "targets", qget(q, "agent"));
			if (page(q, cmd, out))
				return out->status;
		}
	} else if (!strcmp(op, "token_revoke")) {
		ref_param(p0, "token_id", "name", cmd);
	}
	return 0;
}

static const char *campaign_action(const char *a)
{
	if (!strcmp(a, "pause"))
		return "campaign_pause";
	if (!strcmp(a, "resume"))
		return "campaign_resume";
	if (!strcmp(a, "abort"))
		return "campaign_abort";
	if (!strcmp(a, "retry_failed"))
		return "campaign_retry_failed";
	return NULL;
}

int api_map_request(const struct api_match *m, const struct api_query *q, const char *body,
		    size_t body_len, struct api_mapped *out)
{
	memset(out, 0, sizeof(*out));
	const struct api_route *r = m->route;
	if (!r)
		return fail(out, 404, "not_found", "no such route");
	if (check_query(r, q, out))
		return out->status;
	cJSON *cmd = NULL;
	if (parse_body(r, body, body_len, &cmd, out))
		return out->status;
	if (!cmd)
		cmd = cJSON_CreateObject();
	out->cmd = cmd;
	/* uspctl wants an id on most ops; the answer drops it again. */
	cJSON_AddStringToObject(cmd, "id", "api");
	if (r->kind == API_K_SUBMIT)
		return map_submit(cmd, out) ? out->status : 0;
	const char *op = r->op;
	struct api_route tmp;
	if (!op && strstr(r->pattern, "{action}")) {
		if (!(op = campaign_action(m->params[1])))
			return fail(
				out, 404, "not_found",
				"no campaign action '%.64s' (pause, resume, abort, retry_failed)",
				m->params[1]);
		tmp = *r;
		tmp.op = op;
		struct api_match mm = *m;
		mm.route = &tmp;
		mm.n_params = 1;
		cJSON_AddStringToObject(cmd, "op", op);
		return map_fields(&mm, q, cmd, out) ? out->status : 0;
	}
	if (!op)
		return fail(out, 500, "internal_error", "route %s runs no op", r->pattern);
	cJSON_AddStringToObject(cmd, "op", op);
	if (!strcmp(op, "tag")) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(cmd, "tags");
		if (!t || cJSON_GetArraySize(cmd) != 3) /* tags, id, op */
			return fail(out, 400, "bad_field",
				    "the body is {\"tags\": [...]}, nothing else");
	}
	return map_fields(m, q, cmd, out) ? out->status : 0;
}

void api_mapped_fini(struct api_mapped *out)
{
	cJSON_Delete(out->cmd);
	out->cmd = NULL;
}
