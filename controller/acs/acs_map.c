/*
 * acs_map.c — a uspc task as CWMP RPCs, and the CPE's answers as the
 * task's result (see acs_map.h). Owns one struct acs_run per task being
 * run in a session; knows nothing of HTTP, sessions or PostgreSQL.
 */
#include "acs_map.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "usp_err.h"
#include "usp_path.h"

#define FW_FILE_TYPE "1 Firmware Upgrade Image"
#define MAX_PATHS 1024   /* paths / parameters in one task */
#define MAX_LEAVES 20000 /* parameter names GetParameterNames may give one batch */

enum run_kind {
	K_GET,
	K_SET,
	K_ADD,
	K_DELETE,
	K_REBOOT,
	K_FACTORY_RESET,
	K_DOWNLOAD,
	K_SET_ATTRS,
	K_GET_ATTRS,
	K_GET_INSTANCES
};

/* What the RPC in flight was. */
enum step {
	S_NONE,
	S_GET,
	S_TYPES,
	S_SPV,
	S_ADD,
	S_DELETE,
	S_OPER,
	S_SPA,
	S_GPA,
	S_GPN,
	S_LEAF,
	S_INST
};

struct get_path {
	char *requested; /* as the operator wrote it */
	char *gpv_name;  /* what GetParameterValues asks for */
	int pattern;     /* 1: requested has '*' segments: filter the answer */
	/* requested holds search expressions ([Alias=="x"]): gpv_name is the
	 * table before the first one, the answer is filtered by evaluating
	 * them on its values (a get only) */
	struct usp_path *search;
};

struct set_param {
	char *obj;   /* object path of the param ("Device.WiFi.SSID.1.") */
	char *param; /* name within obj */
	char *name;  /* obj + param */
	char *value;
	char *type; /* NULL: not known yet */
};

struct acs_run {
	int64_t id;
	char key[24]; /* the task id as text: ParameterKey, default CommandKey */
	enum run_kind kind;
	enum step step;
	int done;
	struct acs_run_outcome out;

	/* get (get_instances: the object paths, first_level_only) */
	int first_level;
	struct get_path *paths;
	size_t n_paths, next_path, batch_from, batch_to;
	cJSON *get_results; /* array of req_path_results, built as answers come */
	/* a batch the CPE refused as a GetParameterValues of partial paths:
	 * its partial paths listed with GetParameterNames (next_gpn of the
	 * batch), every parameter name found (and the batch's full names)
	 * read in GetParameterValues of ACS_GPV_BATCH (next_leaf), the
	 * values kept in leaf_values until the batch is answered */
	int gpn_fallback, leaves_ready;
	size_t next_gpn;
	char **leaves;
	size_t n_leaves, next_leaf;
	struct cwmp_param_value *leaf_values;
	size_t n_leaf_values;

	/* set / add's parameters */
	struct set_param *sets;
	size_t n_sets;
	int types_asked; /* the GetParameterValues for missing types was sent */

	/* add */
	char *add_obj;
	char *instantiated;

	/* delete */
	char **dels;
	size_t n_dels, next_del;
	cJSON *del_results;

	/* set_attributes / get_attributes */
	struct cwmp_set_attr *attrs;
	size_t n_attrs;

	/* operate */
	char *command;
	char *command_key;
	struct cwmp_download dl;

	/* acs_run_set_tr098 moved Device. paths to ACS_TR098_ROOT: the result
	 * names them under Device. again */
	int tr098;

	/* RPC argument storage, rebuilt per RPC */
	char **rpc_names;
	struct cwmp_param_value *rpc_values;
};

static char *dup_s(const char *s)
{
	return strdup(s ? s : "");
}

static void set_fail(struct acs_run *r, uint32_t code, const char *fmt, ...)
{
	if (r->done)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->out.error_message, sizeof(r->out.error_message), fmt, ap);
	va_end(ap);
	r->out.failed = 1;
	r->out.error_code = code;
	free(r->out.result_json);
	r->out.result_json = NULL;
	r->done = 1;
}

/* Every string of j under ACS_TR098_ROOT back under Device. (names,
 * resolved paths, reference values alike). */
static void tr098_back(cJSON *j)
{
	static const size_t rl = sizeof(ACS_TR098_ROOT) - 1;
	for (cJSON *c = j; c; c = c->next) {
		if (cJSON_IsString(c) && !strncmp(c->valuestring, ACS_TR098_ROOT, rl)) {
			/* "Device." is shorter: moved within the string */
			memmove(c->valuestring + 7, c->valuestring + rl,
				strlen(c->valuestring + rl) + 1);
			memcpy(c->valuestring, "Device.", 7);
		}
		if (c->child)
			tr098_back(c->child);
	}
}

static void finish(struct acs_run *r, cJSON *result)
{
	if (r->done) {
		cJSON_Delete(result);
		return;
	}
	if (r->tr098 && result)
		tr098_back(result->child);
	r->out.result_json = result ? cJSON_PrintUnformatted(result) : NULL;
	cJSON_Delete(result);
	if (result && !r->out.result_json) {
		set_fail(r, USP_ERR_INTERNAL_ERROR, "out of memory");
		return;
	}
	r->done = 1;
}

/* ---- path helpers --------------------------------------------------- */

static int is_number(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

void acs_model_path(const char *path, char *buf, size_t len)
{
	size_t o = 0;
	const char *p = path;
	if (!len)
		return;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		const char *seg = p;
		size_t sn = n;
		if (is_number(p, n)) {
			seg = "{i}";
			sn = 3;
		}
		for (size_t i = 0; i < sn && o + 1 < len; i++)
			buf[o++] = seg[i];
		if (dot && o + 1 < len)
			buf[o++] = '.';
		p = dot ? dot + 1 : p + n;
	}
	buf[o] = '\0';
}

/* 1 when name (a full parameter name) matches pattern segment by segment,
 * '*' standing for any one instance; a pattern ending in '.' matches
 * everything under it. */
static int path_match(const char *pattern, const char *name)
{
	/* the roots may differ (Device. asked of a TR-098 device): compared
	 * from the second segment on */
	const char *p = strchr(pattern, '.'), *q = strchr(name, '.');
	if (!p || !q)
		return 0;
	p++;
	q++;
	for (;;) {
		if (!*p)
			return !*q;
		const char *pd = strchr(p, '.'), *qd = strchr(q, '.');
		size_t pn = pd ? (size_t)(pd - p) : strlen(p);
		size_t qn = qd ? (size_t)(qd - q) : strlen(q);
		if (!(pn == 1 && *p == '*' && qn > 0) && (pn != qn || memcmp(p, q, pn) != 0))
			return 0;
		if (!pd)
			return !qd;
		if (!pd[1])
			return qd != NULL; /* partial pattern: anything below */
		if (!qd)
			return 0;
		p = pd + 1;
		q = qd + 1;
	}
}

/* A path uspc can ask a CWMP device about: no search expressions, no
 * empty segments, no spaces. */
static int path_ok(const char *p)
{
	if (!*p || *p == '.' || strlen(p) > CWMP_MAX_STR)
		return 0;
	for (const char *c = p; *c; c++) {
		if (*c == '[' || *c == ']' || *c == ' ' || (unsigned char)*c < 0x20)
			return 0;
		if (*c == '.' && c[1] == '.')
			return 0;
	}
	return 1;
}

/* ---- building the run from the request -------------------------------- */

/* A get of a path with search expressions: the table before the first
 * one is read, the expressions are evaluated on what it holds. Only ==,
 * !=, <, >, <=, >= on the table's own parameters (usp_path.h); not for
 * get_attributes (attributes carry no values to evaluate). */
static int add_search_path(struct acs_run *r, const char *s, uint32_t *code, char *e, size_t el)
{
	struct get_path *g = &r->paths[r->n_paths];
	struct uspc_err perr = { 0 };
	const char *br = strchr(s, '[');
	if (r->kind != K_GET || strlen(s) > CWMP_MAX_STR) {
		*code = USP_ERR_INVALID_ARGUMENTS;
		snprintf(e, el,
			 "path '%.200s': search expressions are only for a get of a TR-069 "
			 "device",
			 s);
		return -1;
	}
	if (!(g->search = calloc(1, sizeof(*g->search)))) {
		*code = USP_ERR_INTERNAL_ERROR;
		snprintf(e, el, "out of memory");
		return -1;
	}
	if (usp_path_parse(s, g->search, &perr) < 0 || g->search->kind == USP_PATH_COMMAND ||
	    g->search->kind == USP_PATH_EVENT) {
		*code = USP_ERR_INVALID_PATH_SYNTAX;
		snprintf(e, el, "path '%.200s': %s", s,
			 perr.msg[0] ? perr.msg : "not a parameter or object path");
		usp_path_fini(g->search);
		free(g->search);
		g->search = NULL;
		return -1;
	}
	/* the table: the text before the first '[' or "*." */
	const char *star = strstr(s, ".*");
	size_t cut = (size_t)(br - s);
	if (star && (size_t)(star - s) + 1 < cut)
		cut = (size_t)(star - s) + 1;
	g->requested = strdup(s);
	g->gpv_name = strndup(s, cut);
	if (!g->requested || !g->gpv_name) {
		*code = USP_ERR_INTERNAL_ERROR;
		snprintf(e, el, "out of memory");
		return -1;
	}
	r->n_paths++;
	return 0;
}

static int add_get_path(struct acs_run *r, const char *s, uint32_t *code, char *e, size_t el)
{
	if (strchr(s, '['))
		return add_search_path(r, s, code, e, el);
	if (!path_ok(s)) {
		*code = USP_ERR_INVALID_ARGUMENTS;
		snprintf(e, el,
			 "path '%.200s' cannot be asked of a TR-069 device (search "
			 "expressions are not supported)",
			 s);
		return -1;
	}
	struct get_path *g = &r->paths[r->n_paths];
	g->requested = strdup(s);
	const char *star = strstr(s, ".*");
	if (star && (star[2] == '.' || star[2] == '\0')) {
		g->gpv_name = strndup(s, (size_t)(star - s) + 1);
		g->pattern = 1;
	} else {
		g->gpv_name = strdup(s);
	}
	if (!g->requested || !g->gpv_name) {
		*code = USP_ERR_INTERNAL_ERROR;
		snprintf(e, el, "out of memory");
		return -1;
	}
	r->n_paths++;
	return 0;
}

/* The request's list of 1 to MAX_PATHS paths (field key): room for them
 * in r->paths and the results array. The list, or NULL with the error. */
static const cJSON *paths_room(struct acs_run *r, const cJSON *req, const char *op, const char *key,
			       uint32_t *code, char *e, size_t el)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(req, key);
	size_t n = cJSON_IsArray(list) ? (size_t)cJSON_GetArraySize(list) : 0;
	if (!n || n > MAX_PATHS) {
		*code = USP_ERR_INVALID_ARGUMENTS;
		snprintf(e, el, "%s needs 1 to %d %s", op, MAX_PATHS, key);
		return NULL;
	}
	r->paths = calloc(n, sizeof(*r->paths));
	r->get_results = cJSON_CreateArray();
	if (!r->paths || !r->get_results) {
		*code = USP_ERR_INTERNAL_ERROR;
		snprintf(e, el, "out of memory");
		return NULL;
	}
	return list;
}

static int build_get(struct acs_run *r, const cJSON *req, uint32_t *code, char *e, size_t el)
{
	const cJSON *pp = paths_room(r, req, "get", "param_paths", code, e, el);
	if (!pp)
		return -1;
	const cJSON *it;
	cJSON_ArrayForEach(it, pp)
	{
		if (!cJSON_IsString(it)) {
			*code = USP_ERR_INVALID_ARGUMENTS;
			snprintf(e, el, "param_paths holds a non-string");
			return -1;
		}
		if (add_get_path(r, it->valuestring, code, e, el) < 0)
			return -1;
	}
	return 0;
}

static int push_set(struct acs_run *r, const char *obj, const char *param, const char *value)
{
	struct set_param *s = &r->sets[r->n_sets];
	size_t on = strlen(obj), pn = strlen(param);
	s->obj = strdup(obj);
	s->param = strdup(param);
	s->value = strdup(value);
	s->name = malloc(on + pn + 1);
	if (!s->obj || !s->param || !s->value || !s->name)
		return -1;
	memcpy(s->name, obj, on);
	memcpy(s->name + on, param, pn + 1);
	r->n_sets++;
	return 0;
}

/* param_settings of one object into r->sets. */
static int take_settings(struct acs_run *r, const char *obj, const cJSON *ps, uint32_t *code,
			 char *e, size_t el)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, ps)
	{
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(it, "param");
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, "value");
		if (!cJSON_IsString(p) || !*p->valuestring || strchr(p->valuestring, '.') ||
		    !cJSON_IsString(v)) {
			*code = USP_ERR_INVALID_ARGUMENTS;
			snprintf(e, el, "param_settings of %.200s needs param and value strings",
				 obj);
			return -1;
		}
		if (r->n_sets >= MAX_PATHS) {
			*code = USP_ERR_INVALID_ARGUMENTS;
			snprintf(e, el, "more than %d parameters", MAX_PATHS);
			return -1;
		}
		if (push_set(r, obj, p->valuestring, v->valuestring) < 0) {
			*code = USP_ERR_INTERNAL_ERROR;
			snprintf(e, el, "out of memory");
			return -1;
		}
	}
	return 0;
}

static int obj_ok(const char *obj)
{
	size_t n = strlen(obj);
	return n > 1 && obj[n - 1] == '.' && path_ok(obj) && !strchr(obj, '*');
}

static int build_set(struct acs_run *r, const cJSON *req, uint32_t *code, char *e, size_t el)
{
	const cJSON *uo = cJSON_GetObjectItemCaseSensitive(req, "update_objs");
	if (!cJSON_IsArray(uo) || !cJSON_GetArraySize(uo)) {
		*code = USP_ERR_INVALID_ARGUMENTS;
		snprintf(e, el, "set needs update_objs");
		return -1;
	}
	r->sets = calloc(MAX_PATHS, sizeof(*r->sets));
	if (!r->sets) {
		*code = USP_ERR_INTERNAL_ERROR;
		snprintf(e, el, "out of memory");
		return -1;
	}
	const cJSON *it;
	cJSON_ArrayForEach(it, uo)
	{
		const cJSON *op = cJSON_GetObjectItemCaseSensitive(it, "obj_path");
		if (!cJSON_IsString(op) || !obj_ok(op->valuestring)) {
			*code = USP_ERR_INVALID_ARGUMENTS;
			snprintf(e, el,
				 "obj_path '%.200s' cannot be set on a TR-069 device (one "
				 "object path ending in '.', no wildcard or search)",
				 cJSON_IsString(op) ? op->valuestring : "");
			return -1;
		}
		if (take_settings(r, op->valuestring,
				  cJSON_GetObjectItemCaseSensitive(it, "param_settings"), code, e,
				  el) < 0)
			return -1;
	}
	if (!r->n_sets) {
		*code = USP_ERR_INVALID_ARGUMENTS;
		snprintf(e, el, "set has no parameter to set");
		return -1;
	}
	return 0;
}

static int build_add(struct acs_run *r, const cJSON *req, uint32_t *code, char *e, size_t el)
{
	const cJSON *co = cJSON_GetObjectItemCaseSensitive(req, "create_objs");
	if (!cJSON_IsArray(co) || cJSON_GetArraySize(co) != 1) {
		*code = USP_ERR_INVALID_ARGUMENTS;
		snprintf(e, el, "add on a TR-069 device creates one object per task");
		return -1;
	}
	const cJSON *o = cJSON_GetArrayItem(co, 0);
	const cJSON *op = cJSON_GetObjectItemCaseSensitive(o, "obj_path");
	if (!cJSON_IsString(op) || !obj_ok(op->valuestring)) {
		*code = USP_ERR_INVALID_ARGUMENTS;
		snprintf(e, el, "add needs a table path ending in '.' (no wildcard or search)");
		return -1;
	}
	r->add_obj = strdup(op->valuestring);
	r->sets = calloc(MAX_PATHS, sizeof(*r->sets));
	if (!r->add_obj || !r->sets) {
		*code = USP_ERR_INTERNAL_ERROR;
		snprintf(e, el, "out of memory");
		return -1;
	}
	/* Settings are kept with the model form of the new instance's path
	 * ("<table>.{i}.") until AddObject names the instance. */
	char inst[CWMP_MAX_STR + 8];
	snprintf(inst, sizeof(inst), "%s{i}.", r->add_obj);
	return take_settings(r, inst, cJSON_GetObjectItemCaseSensitive(o, "param_settings"), code,
			     e, el);
}

/* get_instances: {"obj_paths": [...], "first_level_only"}: object paths
 * ending in '.', no wildcard or search. */
static int build_instances(struct acs_run *r, const cJSON *req, uint32_t *code, char *e, size_t el)
{
	const cJSON *op = paths_room(r, req, "get_instances", "obj_paths", code, e, el);
	if (!op)
		return -1;
	r->first_level = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "first_level_only"));
	*code = USP_ERR_INVALID_ARGUMENTS;
	const cJSON *it;
	cJSON_ArrayForEach(it, op)
	{
		const char *p = cJSON_IsString(it) ? it->valuestring : NULL;
		size_t len = p ? strlen(p) : 0;
		if (!p || !path_ok(p) || p[len - 1] != '.' || strstr(p, ".*")) {
			snprintf(e, el,
				 "obj_path '%.200s' cannot be listed on a TR-069 device (an object "
				 "path ending in '.', no wildcard or search)",
				 p ? p : "(not a string)");
			return -1;
		}
		struct get_path *g = &r->paths[r->n_paths++];
		if (!(g->requested = strdup(p)) || !(g->gpv_name = strdup(p))) {
			*code = USP_ERR_INTERNAL_ERROR;
			snprintf(e, el, "out of memory");
			return -1;
		}
	}
	return 0;
}

static int build_delete(struct acs_run *r, const cJSON *req, uint32_t *code, char *e, size_t el)
{
	const cJSON *ops = cJSON_GetObjectItemCaseSensitive(req, "obj_paths");
	size_t n = cJSON_IsArray(ops) ? (size_t)cJSON_GetArraySize(ops) : 0;
	if (!n || n > MAX_PATHS) {
		*code = USP_ERR_INVALID_ARGUMENTS;
		snprintf(e, el, "delete needs 1 to %d obj_paths", MAX_PATHS);
		return -1;
	}
	r->dels = calloc(n, sizeof(*r->dels));
	r->del_results = cJSON_CreateArray();
	if (!r->dels || !r->del_results) {
		*code = USP_ERR_INTERNAL_ERROR;
		snprintf(e, el, "out of memory");
		return -1;
	}
	const cJSON *it;
	cJSON_ArrayForEach(it, ops)
	{
		if (!cJSON_IsString(it) || !obj_ok(it->valuestring)) {
			*code = USP_ERR_INVALID_ARGUMENTS;
			snprintf(e, el,
				 "obj_path '%.200s' cannot be deleted on a TR-069 device "
				 "(an instance path ending in '.', no wildcard or search)",
				 cJSON_IsString(it) ? it->valuestring : "");
			return -1;
		}
		if (!(r->dels[r->n_dels++] = strdup(it->valuestring))) {
			*code = USP_ERR_INTERNAL_ERROR;
			snprintf(e, el, "out of memory");
			return -1;
		}
	}
	return 0;
}

/* set_attributes: {"attributes": [{"path", "notification", "access_list"}]},
 * as uspctl checked it; checked again here (the row could be anyone's). */
static int build_set_attrs(struct acs_run *r, const cJSON *req, uint32_t *code, char *e, size_t el)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(req, "attributes");
	size_t n = cJSON_IsArray(list) ? (size_t)cJSON_GetArraySize(list) : 0;
	if (!n || n > MAX_PATHS) {
		*code = USP_ERR_INVALID_ARGUMENTS;
		snprintf(e, el, "set_attributes needs 1 to %d attributes", MAX_PATHS);
		return -1;
	}
	r->attrs = calloc(n, sizeof(*r->attrs));
	if (!r->attrs)
		goto oom;
	const cJSON *it;
	cJSON_ArrayForEach(it, list)
	{
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(it, "path");
		const cJSON *nf = cJSON_GetObjectItemCaseSensitive(it, "notification");
		const cJSON *al = cJSON_GetObjectItemCaseSensitive(it, "access_list");
		if (!cJSON_IsString(p) || !path_ok(p->valuestring) || strchr(p->valuestring, '*') ||
		    !cJSON_IsNumber(nf) || nf->valuedouble < 0 || nf->valuedouble > 6 ||
		    (al && !cJSON_IsArray(al))) {
			*code = USP_ERR_INVALID_ARGUMENTS;
			snprintf(e, el,
				 "an attribute needs a path (no wildcard or search) and a "
				 "notification from 0 to 6");
			return -1;
		}
		struct cwmp_set_attr *a = &r->attrs[r->n_attrs++];
		if (!(a->name = strdup(p->valuestring)))
			goto oom;
		a->notification_change = 1;
		a->notification = (int)nf->valuedouble;
		if (!al)
			continue;
		a->access_list_change = 1;
		size_t an = (size_t)cJSON_GetArraySize(al);
		a->access_list = calloc(an ? an : 1, sizeof(char *));
		if (!a->access_list)
			goto oom;
		const cJSON *x;
		cJSON_ArrayForEach(x, al)
		{
			if (!cJSON_IsString(x)) {
				*code = USP_ERR_INVALID_ARGUMENTS;
				snprintf(e, el, "an access_list holds a non-string");
				return -1;
			}
			if (!(a->access_list[a->n_access_list++] = strdup(x->valuestring)))
				goto oom;
		}
	}
	return 0;
oom:
	*code = USP_ERR_INTERNAL_ERROR;
	snprintf(e, el, "out of memory");
	return -1;
}

/* "<root>.DeviceInfo.FirmwareImage.<n>.Download()", n an instance number. */
static int firmware_download(const char *cmd)
{
	static const char *const roots[] = { "Device.", "InternetGatewayDevice." };
	for (size_t i = 0; i < 2; i++) {
		size_t rn = strlen(roots[i]);
		const char *p = cmd + rn;
		if (strncmp(cmd, roots[i], rn) != 0 ||
		    strncmp(p, "DeviceInfo.FirmwareImage.", 25) != 0)
			continue;
		p += 25;
		size_t digits = strspn(p, "0123456789");
		return digits > 0 && *p != '0' && !strcmp(p + digits, ".Download()");
	}
	return 0;
}

/* "<root>.Name()" with root Device or InternetGatewayDevice. */
static int root_command(const char *cmd, const char *name)
{
	const char *dot = strchr(cmd, '.');
	if (!dot || strcmp(dot + 1, name) != 0)
		return 0;
	size_t n = (size_t)(dot - cmd);
	return (n == 6 && !memcmp(cmd, "Device", 6)) ||
	       (n == 21 && !memcmp(cmd, "InternetGatewayDevice", 21));
}

static const char *arg_str(const cJSON *args, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int build_operate(struct acs_run *r, const cJSON *req, uint32_t *code, char *e, size_t el)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(req, "command");
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(req, "command_key");
	const cJSON *args = cJSON_GetObjectItemCaseSensitive(req, "input_args");
	if (!cJSON_IsString(c)) {
		*code = USP_ERR_INVALID_ARGUMENTS;
		snprintf(e, el, "operate needs a command");
		return -1;
	}
	const char *cmd = c->valuestring;
	r->command = strdup(cmd);
	r->command_key = strdup(cJSON_IsString(k) && *k->valuestring ? k->valuestring : r->key);
	if (!r->command || !r->command_key) {
		*code = USP_ERR_INTERNAL_ERROR;
		snprintf(e, el, "out of memory");
		return -1;
	}
	if (strlen(r->command_key) > 32) {
		*code = USP_ERR_INVALID_ARGUMENTS;
		snprintf(e, el, "a TR-069 CommandKey has at most 32 characters");
		return -1;
	}
	if (root_command(cmd, "Reboot()")) {
		r->kind = K_REBOOT;
		return 0;
	}
	if (root_command(cmd, "FactoryReset()")) {
		r->kind = K_FACTORY_RESET;
		return 0;
	}
	if (firmware_download(cmd)) {
		const char *url = arg_str(args, "URL");
		if (!url || !*url || strlen(url) > 256) {
			*code = USP_ERR_INVALID_ARGUMENTS;
			snprintf(e, el, "Download() needs a URL of 1 to 256 characters");
			return -1;
		}
		const char *size = arg_str(args, "FileSize");
		char *end = NULL;
		unsigned long long fs = size ? strtoull(size, &end, 10) : 0;
		/* CWMP's FileSize is an unsignedInt */
		if (size && (*size < '0' || *size > '9' || *end || fs > 4294967295ull)) {
			*code = USP_ERR_INVALID_ARGUMENTS;
			snprintf(e, el,
				 "Download() FileSize must be a whole number from 0 to "
				 "4294967295");
			return -1;
		}
		r->kind = K_DOWNLOAD;
		r->dl.command_key = r->command_key;
		r->dl.file_type = FW_FILE_TYPE;
		r->dl.url = strdup(url);
		r->dl.username = dup_s(arg_str(args, "Username"));
		r->dl.password = dup_s(arg_str(args, "Password"));
		r->dl.target_file_name = dup_s(arg_str(args, "TargetFileName"));
		r->dl.success_url = "";
		r->dl.failure_url = "";
		r->dl.file_size = fs;
		if (!r->dl.url || !r->dl.username || !r->dl.password || !r->dl.target_file_name) {
			*code = USP_ERR_INTERNAL_ERROR;
			snprintf(e, el, "out of memory");
			return -1;
		}
		return 0;
	}
	*code = USP_ERR_MESSAGE_NOT_SUPPORTED;
	snprintf(e, el,
		 "command %.200s has no TR-069 method (Reboot(), FactoryReset() and "
		 "DeviceInfo.FirmwareImage.{i}.Download() do)",
		 cmd);
	return -1;
}

struct acs_run *acs_run_new(int64_t id, const char *op, const char *request_json, uint32_t *code,
			    char *errbuf, size_t errlen)
{
	struct acs_run *r = calloc(1, sizeof(*r));
	cJSON *req = request_json ? cJSON_Parse(request_json) : NULL;
	if (!r || !req) {
		*code = r ? USP_ERR_INVALID_ARGUMENTS : USP_ERR_INTERNAL_ERROR;
		snprintf(errbuf, errlen, r ? "the task's request is not JSON" : "out of memory");
		cJSON_Delete(req);
		free(r);
		return NULL;
	}
	r->id = id;
	snprintf(r->key, sizeof(r->key), "%" PRId64, id);
	int rc;
	if (!strcmp(op, "get")) {
		r->kind = K_GET;
		rc = build_get(r, req, code, errbuf, errlen);
	} else if (!strcmp(op, "set")) {
		r->kind = K_SET;
		rc = build_set(r, req, code, errbuf, errlen);
	} else if (!strcmp(op, "add")) {
		r->kind = K_ADD;
		rc = build_add(r, req, code, errbuf, errlen);
	} else if (!strcmp(op, "delete")) {
		r->kind = K_DELETE;
		rc = build_delete(r, req, code, errbuf, errlen);
	} else if (!strcmp(op, "operate")) {
		rc = build_operate(r, req, code, errbuf, errlen);
	} else if (!strcmp(op, "set_attributes")) {
		r->kind = K_SET_ATTRS;
		rc = build_set_attrs(r, req, code, errbuf, errlen);
	} else if (!strcmp(op, "get_instances")) {
		r->kind = K_GET_INSTANCES;
		rc = build_instances(r, req, code, errbuf, errlen);
	} else if (!strcmp(op, "get_attributes")) {
		/* the same paths as a get; answered from GetParameterAttributes */
		r->kind = K_GET_ATTRS;
		rc = build_get(r, req, code, errbuf, errlen);
	} else {
		*code = USP_ERR_MESSAGE_NOT_SUPPORTED;
		snprintf(errbuf, errlen,
			 "%s has no TR-069 equivalent (get, set, add, delete, operate, "
			 "get_instances, set_attributes and get_attributes do)",
			 op);
		rc = -1;
	}
	cJSON_Delete(req);
	if (rc < 0) {
		acs_run_free(r);
		return NULL;
	}
	return r;
}

/* *p under Device. moved under ACS_TR098_ROOT (a new string): 1 moved,
 * 0 not under Device., -1 out of memory. */
static int to_tr098(char **p)
{
	if (!*p || strncmp(*p, "Device.", 7) != 0)
		return 0;
	size_t n = strlen(*p + 7);
	char *m = malloc(sizeof(ACS_TR098_ROOT) + n);
	if (!m)
		return -1;
	memcpy(m, ACS_TR098_ROOT, sizeof(ACS_TR098_ROOT) - 1);
	memcpy(m + sizeof(ACS_TR098_ROOT) - 1, *p + 7, n + 1);
	free(*p);
	*p = m;
	return 1;
}

void acs_run_set_tr098(struct acs_run *r)
{
	int moved = 0, rc = 0;
#define MOVE(x)                          \
	do {                             \
		int m_ = to_tr098(&(x)); \
		if (m_ < 0)              \
			rc = -1;         \
		moved |= m_ > 0;         \
	} while (0)
	for (size_t i = 0; i < r->n_paths; i++)
		MOVE(r->paths[i].gpv_name);
	for (size_t i = 0; i < r->n_sets; i++) {
		MOVE(r->sets[i].obj);
		MOVE(r->sets[i].name);
	}
	MOVE(r->add_obj);
	for (size_t i = 0; i < r->n_dels; i++)
		MOVE(r->dels[i]);
	for (size_t i = 0; i < r->n_attrs; i++)
		MOVE(r->attrs[i].name);
#undef MOVE
	r->tr098 = moved;
	if (rc < 0)
		set_fail(r, USP_ERR_INTERNAL_ERROR, "out of memory");
}

/* Forget a GetParameterNames fallback's names and values. */
static void leaves_clear(struct acs_run *r)
{
	for (size_t i = 0; i < r->n_leaves; i++)
		free(r->leaves[i]);
	free(r->leaves);
	for (size_t i = 0; i < r->n_leaf_values; i++) {
		free(r->leaf_values[i].name);
		free(r->leaf_values[i].value);
		free(r->leaf_values[i].type);
	}
	free(r->leaf_values);
	r->leaves = NULL;
	r->leaf_values = NULL;
	r->n_leaves = r->next_leaf = r->n_leaf_values = 0;
	r->gpn_fallback = r->leaves_ready = 0;
	r->next_gpn = 0;
}

void acs_run_free(struct acs_run *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_paths; i++) {
		free(r->paths[i].requested);
		free(r->paths[i].gpv_name);
		if (r->paths[i].search)
			usp_path_fini(r->paths[i].search);
		free(r->paths[i].search);
	}
	free(r->paths);
	cJSON_Delete(r->get_results);
	leaves_clear(r);
	for (size_t i = 0; i < r->n_sets; i++) {
		free(r->sets[i].obj);
		free(r->sets[i].param);
		free(r->sets[i].name);
		free(r->sets[i].value);
		free(r->sets[i].type);
	}
	free(r->sets);
	free(r->add_obj);
	free(r->instantiated);
	for (size_t i = 0; i < r->n_dels; i++)
		free(r->dels[i]);
	free(r->dels);
	cJSON_Delete(r->del_results);
	for (size_t i = 0; i < r->n_attrs; i++) {
		free(r->attrs[i].name);
		for (size_t j = 0; j < r->attrs[i].n_access_list; j++)
			free(r->attrs[i].access_list[j]);
		free(r->attrs[i].access_list);
	}
	free(r->attrs);
	free(r->command);
	free(r->command_key);
	free(r->dl.url);
	free(r->dl.username);
	free(r->dl.password);
	free(r->dl.target_file_name);
	free(r->rpc_names);
	free(r->rpc_values);
	free(r->out.result_json);
	for (size_t i = 0; i < r->out.n_rows; i++) {
		free(r->out.rows[i].name);
		free(r->out.rows[i].value);
		free(r->out.rows[i].type);
	}
	free(r->out.rows);
	for (size_t i = 0; i < r->out.n_deleted; i++)
		free(r->out.deleted[i]);
	free(r->out.deleted);
	free(r);
}

int acs_run_idempotent(const struct acs_run *r)
{
	return r->kind == K_GET || r->kind == K_GET_ATTRS || r->kind == K_GET_INSTANCES;
}

size_t acs_run_type_names(const struct acs_run *r, const char **names, size_t cap)
{
	for (size_t i = 0; i < r->n_sets && i < cap; i++)
		names[i] = r->sets[i].name;
	return r->n_sets;
}

void acs_run_set_type(struct acs_run *r, const char *name, const char *type)
{
	char a[CWMP_MAX_STR + 8], b[CWMP_MAX_STR + 8];
	acs_model_path(name, a, sizeof(a));
	for (size_t i = 0; i < r->n_sets; i++) {
		acs_model_path(r->sets[i].name, b, sizeof(b));
		if (!r->sets[i].type && !strcmp(a, b))
			r->sets[i].type = strdup(type);
	}
}

int acs_run_done(const struct acs_run *r)
{
	return r->done;
}

const struct acs_run_outcome *acs_run_outcome(const struct acs_run *r)
{
	return &r->out;
}

void acs_run_fail(struct acs_run *r, uint32_t code, const char *msg)
{
	set_fail(r, code, "%s", msg);
}

/* ---- answers ---------------------------------------------------------- */

/* Append a copy of v (a name required) to *arr of *n: 0, or -1 out of
 * memory. */
static int keep_value(struct cwmp_param_value **arr, size_t *n, const struct cwmp_param_value *v)
{
	struct cwmp_param_value *grown = realloc(*arr, (*n + 1) * sizeof(**arr));
	if (!grown)
		return -1;
	*arr = grown;
	struct cwmp_param_value *d = &grown[*n];
	d->name = strdup(v->name);
	d->value = dup_s(v->value);
	d->type = v->type ? strdup(v->type) : NULL;
	if (!d->name || !d->value || (v->type && !d->type)) {
		free(d->name);
		free(d->value);
		free(d->type);
		return -1;
	}
	(*n)++;
	return 0;
}

static int add_row(struct acs_run *r, const struct cwmp_param_value *v)
{
	return keep_value(&r->out.rows, &r->out.n_rows, v);
}

/* The CPE's answer as a USP Error's result (docs/json.md): err_code and
 * err_msg as the task's, param_errs from a 9003's per-parameter faults.
 * NULL when out of memory (the task still fails with its code). */
static char *fault_result(const struct acs_run *r, const struct cwmp_fault *f)
{
	cJSON *o = cJSON_CreateObject(), *pe = o ? cJSON_AddArrayToObject(o, "param_errs") : NULL;
	int ok = pe && cJSON_AddStringToObject(o, "type", "error") &&
		 cJSON_AddNumberToObject(o, "err_code", r->out.error_code) &&
		 cJSON_AddStringToObject(o, "err_msg", r->out.error_message);
	for (size_t i = 0; ok && i < f->n_spv; i++) {
		const struct cwmp_spv_fault *s = &f->spv[i];
		const char *t = cwmp_fault_text(s->code);
		cJSON *e = cJSON_CreateObject();
		ok = e && cJSON_AddItemToArray(pe, e) &&
		     cJSON_AddStringToObject(e, "param_path", s->name ? s->name : "") &&
		     cJSON_AddNumberToObject(e, "err_code", s->code) &&
		     cJSON_AddStringToObject(e, "err_msg",
					     s->string && *s->string ? s->string
					     : t                     ? t
								     : "vendor fault");
	}
	if (ok && r->tr098)
		tr098_back(o->child);
	char *out = ok ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	return out;
}

/* The CPE's fault as the task's error: the first per-parameter fault of
 * a 9003 when there is one (it says which parameter). */
static void fail_fault(struct acs_run *r, const struct cwmp_fault *f, const char *what)
{
	if (f->n_spv) {
		const struct cwmp_spv_fault *s = &f->spv[0];
		const char *t = cwmp_fault_text(s->code);
		set_fail(r, s->code, "%s: CWMP fault %u (%s) on %.200s%s%.100s", what, s->code,
			 t ? t : "vendor fault", s->name ? s->name : "?",
			 s->string && *s->string ? ": " : "", s->string ? s->string : "");
	} else {
		const char *t = cwmp_fault_text(f->code);
		set_fail(r, f->code, "%s: CWMP fault %u (%s)%s%.150s", what, f->code,
			 t ? t : "vendor fault", f->string && *f->string ? ": " : "",
			 f->string ? f->string : "");
	}
}

/* Add name=value under its object in a resolved_path_results array. */
static int add_resolved(cJSON *resolved, const char *name, const char *value)
{
	const char *dot = strrchr(name, '.');
	if (!dot)
		return 0;
	size_t on = (size_t)(dot - name) + 1;
	cJSON *entry = NULL, *it;
	cJSON_ArrayForEach(it, resolved)
	{
		const cJSON *rp = cJSON_GetObjectItemCaseSensitive(it, "resolved_path");
		if (cJSON_IsString(rp) && strlen(rp->valuestring) == on &&
		    !memcmp(rp->valuestring, name, on)) {
			entry = it;
			break;
		}
	}
	if (!entry) {
		char obj[CWMP_MAX_STR + 2];
		snprintf(obj, sizeof(obj), "%.*s", (int)on, name);
		entry = cJSON_CreateObject();
		if (!entry || !cJSON_AddStringToObject(entry, "resolved_path", obj) ||
		    !cJSON_AddObjectToObject(entry, "result_params")) {
			cJSON_Delete(entry);
			return -1;
		}
		cJSON_AddItemToArray(resolved, entry);
	}
	cJSON *params = cJSON_GetObjectItemCaseSensitive(entry, "result_params");
	cJSON_DeleteItemFromObjectCaseSensitive(params, dot + 1);
	return cJSON_AddStringToObject(params, dot + 1, value ? value : "") ? 0 : -1;
}

/* The values of one answer sorted by name, to evaluate search
 * expressions with. */
struct vindex {
	const struct cwmp_param_value **v;
	size_t n;
};

static int cmp_value_names(const void *a, const void *b)
{
	const struct cwmp_param_value *x = *(const struct cwmp_param_value *const *)a;
	const struct cwmp_param_value *y = *(const struct cwmp_param_value *const *)b;
	return strcmp(x->name, y->name);
}

/* 0, or -1 out of memory. Values without a name are left out. */
static int vindex_build(struct vindex *x, const struct cwmp_msg *in)
{
	x->n = 0;
	x->v = calloc(in->n_values ? in->n_values : 1, sizeof(*x->v));
	if (!x->v)
		return -1;
	for (size_t i = 0; i < in->n_values; i++)
		if (in->values[i].name)
			x->v[x->n++] = &in->values[i];
	if (x->n > 1)
		qsort(x->v, x->n, sizeof(*x->v), cmp_value_names);
	return 0;
}

static const char *vindex_get(const struct vindex *x, const char *name)
{
	size_t lo = 0, hi = x->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(x->v[mid]->name, name);
		if (!c)
			return x->v[mid]->value ? x->v[mid]->value : "";
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* name resolves the search path p: segment by segment, a name equal, an
 * instance number equal, '*' any instance, [conds] an instance whose
 * parameters (read in the same answer) satisfy every condition; an object
 * path then takes everything under it, a parameter path nothing more. */
static int search_match(const struct usp_path *p, const char *name, const struct vindex *x)
{
	/* from the second segment on: the roots may differ (Device. asked of
	 * a TR-098 device) */
	const char *q = strchr(name, '.');
	char buf[2 * CWMP_MAX_STR + 2];
	if (!q)
		return 0;
	q++;
	for (size_t i = 1; i < p->n_segs; i++) {
		const struct usp_path_seg *sg = &p->segs[i];
		const char *dot = strchr(q, '.');
		size_t qn = dot ? (size_t)(dot - q) : strlen(q);
		char *end;
		unsigned long num = 0;
		if (sg->kind != USP_SEG_NAME) {
			if (!qn || *q < '1' || *q > '9')
				return 0;
			num = strtoul(q, &end, 10);
			if ((size_t)(end - q) != qn)
				return 0;
		}
		switch (sg->kind) {
		case USP_SEG_NAME:
			if (strlen(sg->name) != qn || memcmp(sg->name, q, qn) != 0)
				return 0;
			break;
		case USP_SEG_INSTANCE:
			if (num != sg->instance)
				return 0;
			break;
		case USP_SEG_WILDCARD:
			break;
		case USP_SEG_EXPR:
			if (!dot)
				return 0;
			for (size_t c = 0; c < sg->n_conds; c++) {
				size_t pre = (size_t)(dot - name) + 1;
				if (pre + strlen(sg->conds[c].param) >= sizeof(buf))
					return 0;
				memcpy(buf, name, pre);
				strcpy(buf + pre, sg->conds[c].param);
				if (!usp_path_cond_match(&sg->conds[c], vindex_get(x, buf)))
					return 0;
			}
			break;
		}
		if (!dot)
			return i + 1 == p->n_segs && p->kind == USP_PATH_PARAM;
		q = dot + 1;
	}
	/* the path's segments are all matched: an object takes what is below */
	return p->kind == USP_PATH_OBJECT && *q;
}

static int name_under(const struct get_path *g, const char *name)
{
	if (g->pattern)
		return path_match(g->requested, name);
	size_t n = strlen(g->gpv_name);
	if (n && g->gpv_name[n - 1] == '.')
		return !strncmp(name, g->gpv_name, n);
	return !strcmp(name, g->gpv_name);
}

static void answer_get(struct acs_run *r, const struct cwmp_msg *in)
{
	struct vindex x = { 0 };
	for (size_t i = 0; i < in->n_values; i++)
		if (add_row(r, &in->values[i]) < 0) {
			set_fail(r, USP_ERR_INTERNAL_ERROR, "out of memory");
			return;
		}
	for (size_t p = r->batch_from; p < r->batch_to && !x.v; p++)
		if (r->paths[p].search && vindex_build(&x, in) < 0) {
			set_fail(r, USP_ERR_INTERNAL_ERROR, "out of memory");
			return;
		}
	for (size_t p = r->batch_from; p < r->batch_to; p++) {
		const struct get_path *g = &r->paths[p];
		cJSON *one = cJSON_CreateObject();
		cJSON *resolved = one ? cJSON_AddArrayToObject(one, "resolved_path_results") : NULL;
		if (!resolved || !cJSON_AddStringToObject(one, "requested_path", g->requested)) {
			cJSON_Delete(one);
			set_fail(r, USP_ERR_INTERNAL_ERROR, "out of memory");
			return;
		}
		for (size_t i = 0; i < in->n_values; i++)
			if (in->values[i].name &&
			    (g->search ? search_match(g->search, in->values[i].name, &x)
				       : name_under(g, in->values[i].name)) &&
			    add_resolved(resolved, in->values[i].name, in->values[i].value) < 0) {
				cJSON_Delete(one);
				free(x.v);
				set_fail(r, USP_ERR_INTERNAL_ERROR, "out of memory");
				return;
			}
		cJSON_AddItemToArray(r->get_results, one);
	}
	free(x.v);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A name for the fallback's GetParameterValues: 0, or -1 with the run
 * failed (too many, out of memory). */
static int add_leaf(struct acs_run *r, const char *name)
{
	if (r->n_leaves >= MAX_LEAVES) {
		set_fail(r, USP_ERR_RESOURCES_EXCEEDED,
			 "GetParameterNames gave more than %d parameters for one batch of "
			 "paths: ask for narrower paths",
			 MAX_LEAVES);
		return -1;
	}
	char **n = realloc(r->leaves, (r->n_leaves + 1) * sizeof(*n));
	if (n)
		r->leaves = n;
	if (!n || !(r->leaves[r->n_leaves] = strdup(name))) {
		set_fail(r, USP_ERR_INTERNAL_ERROR, "out of memory");
		return -1;
	}
	r->n_leaves++;
	return 0;
}

static int next_get(struct acs_run *r, struct cwmp_msg *out);

/* The fallback's next RPC: a GetParameterNames of the batch's next
 * partial path (its full names are kept as they are), then
 * GetParameterValues of every name found, ACS_GPV_BATCH at a time; at the
 * end the batch is answered from those values as from one
 * GetParameterValues of its paths, and the next batch goes on. */
static int next_fallback(struct acs_run *r, struct cwmp_msg *out)
{
	while (r->batch_from + r->next_gpn < r->batch_to) {
		size_t at = r->batch_from + r->next_gpn++;
		const struct get_path *g = &r->paths[at];
		size_t n = strlen(g->gpv_name);
		int seen = 0;
		for (size_t p = r->batch_from; p < at && !seen; p++)
			seen = !strcmp(r->paths[p].gpv_name, g->gpv_name);
		if (seen)
			continue;
		if (g->gpv_name[n - 1] != '.') {
			if (add_leaf(r, g->gpv_name) < 0)
				return 0;
			continue;
		}
		out->method = CWMP_M_GET_PARAMETER_NAMES;
		out->parameter_path = g->gpv_name;
		out->next_level = 0;
		r->step = S_GPN;
		return 1;
	}
	if (!r->leaves_ready) {
		/* paths that overlap list some names twice: read each once */
		if (r->n_leaves > 1)
			qsort(r->leaves, r->n_leaves, sizeof(*r->leaves), cmp_names);
		size_t k = 0;
		for (size_t i = 0; i < r->n_leaves; i++) {
			if (k && !strcmp(r->leaves[k - 1], r->leaves[i]))
				free(r->leaves[i]);
			else
				r->leaves[k++] = r->leaves[i];
		}
		r->n_leaves = k;
		r->leaves_ready = 1;
	}
	if (r->next_leaf < r->n_leaves) {
		size_t n = r->n_leaves - r->next_leaf;
		if (n > ACS_GPV_BATCH)
			n = ACS_GPV_BATCH;
		out->method = CWMP_M_GET_PARAMETER_VALUES;
		out->names = &r->leaves[r->next_leaf];
		out->n_names = n;
		r->next_leaf += n;
		r->step = S_LEAF;
		return 1;
	}
	struct cwmp_msg all = { .values = r->leaf_values, .n_values = r->n_leaf_values };
	answer_get(r, &all);
	leaves_clear(r);
	return r->done ? 0 : next_get(r, out);
}

/* A CPE that refuses GetParameterValues of a partial path (some answer
 * 9002, 9003 or 9005 to any name that is not a parameter) is asked for
 * the names under it instead: the batch in flight has a partial path and
 * the fault names no parameter. */
static int gpn_helps(const struct acs_run *r, const struct cwmp_fault *f)
{
	if (r->kind != K_GET || r->step != S_GET || r->gpn_fallback || f->n_spv ||
	    (f->code != 9002 && f->code != 9003 && f->code != 9005))
		return 0;
	for (size_t p = r->batch_from; p < r->batch_to; p++) {
		size_t n = strlen(r->paths[p].gpv_name);
		if (n && r->paths[p].gpv_name[n - 1] == '.')
			return 1;
	}
	return 0;
}

static void learn_types(struct acs_run *r, const struct cwmp_msg *in)
{
	for (size_t i = 0; i < in->n_values; i++) {
		if (!in->values[i].name)
			continue;
		acs_run_set_type(r, in->values[i].name,
				 in->values[i].type ? in->values[i].type : "string");
		if (add_row(r, &in->values[i]) < 0) {
			set_fail(r, USP_ERR_INTERNAL_ERROR, "out of memory");
			return;
		}
	}
}

static void set_done(struct acs_run *r, int status)
{
	/* The values set are now the device's. */
	for (size_t i = 0; i < r->n_sets; i++) {
		struct cwmp_param_value v = { r->sets[i].name, r->sets[i].value, r->sets[i].type };
		if (add_row(r, &v) < 0) {
			set_fail(r, USP_ERR_INTERNAL_ERROR, "out of memory");
			return;
		}
	}
	cJSON *res = cJSON_CreateObject();
	if (!res)
		goto oom;
	if (r->kind == K_ADD) {
		cJSON_AddStringToObject(res, "type", "add_resp");
		cJSON *arr = cJSON_AddArrayToObject(res, "created_obj_results");
		cJSON *o = cJSON_CreateObject();
		cJSON_AddItemToArray(arr, o);
		cJSON_AddStringToObject(o, "requested_path", r->add_obj);
		cJSON *st = cJSON_AddObjectToObject(o, "oper_status");
		cJSON *ok = cJSON_AddObjectToObject(st, "oper_success");
		cJSON_AddStringToObject(ok, "instantiated_path", r->instantiated);
	} else {
		cJSON_AddStringToObject(res, "type", "set_resp");
		cJSON *arr = cJSON_AddArrayToObject(res, "updated_obj_results");
		for (size_t i = 0; i < r->n_sets; i++) {
			cJSON *o = NULL, *it;
			cJSON_ArrayForEach(it, arr)
			{
				const cJSON *rp =
					cJSON_GetObjectItemCaseSensitive(it, "requested_path");
				if (!strcmp(rp->valuestring, r->sets[i].obj))
					o = it;
			}
			if (!o) {
				o = cJSON_CreateObject();
				cJSON_AddItemToArray(arr, o);
				cJSON_AddStringToObject(o, "requested_path", r->sets[i].obj);
				cJSON *st = cJSON_AddObjectToObject(o, "oper_status");
				cJSON *ok = cJSON_AddObjectToObject(st, "oper_success");
				cJSON *ui = cJSON_AddArrayToObject(ok, "updated_inst_results");
				cJSON *u = cJSON_CreateObject();
				cJSON_AddItemToArray(ui, u);
				cJSON_AddStringToObject(u, "affected_path", r->sets[i].obj);
				cJSON_AddObjectToObject(u, "updated_params");
			}
			cJSON *u = cJSON_GetArrayItem(
				cJSON_GetObjectItemCaseSensitive(
					cJSON_GetObjectItemCaseSensitive(
						cJSON_GetObjectItemCaseSensitive(o, "oper_status"),
						"oper_success"),
					"updated_inst_results"),
				0);
			cJSON_AddStringToObject(
				cJSON_GetObjectItemCaseSensitive(u, "updated_params"),
				r->sets[i].param, r->sets[i].value);
		}
	}
	/* Status 1: applied only after the CPE reboots or the session ends. */
	cJSON_AddNumberToObject(res, "cwmp_status", status);
	finish(r, res);
	return;
oom:
	set_fail(r, USP_ERR_INTERNAL_ERROR, "out of memory");
}

static void answer_add(struct acs_run *r, const struct cwmp_msg *in)
{
	char inst[CWMP_MAX_STR + 16];
	snprintf(inst, sizeof(inst), "%s%u.", r->add_obj, in->instance_number);
	r->instantiated = strdup(inst);
	if (!r->instantiated) {
		set_fail(r, USP_ERR_INTERNAL_ERROR, "out of memory");
		return;
	}
	/* The settings now name the new instance. */
	size_t tn = strlen(r->add_obj) + 4; /* "<table>{i}." */
	for (size_t i = 0; i < r->n_sets; i++) {
		struct set_param *s = &r->sets[i];
		char *obj = strdup(inst);
		size_t nl = strlen(inst) + strlen(s->param) + 1;
		char *name = malloc(nl);
		if (!obj || !name || strlen(s->obj) != tn) {
			free(obj);
			free(name);
			set_fail(r, USP_ERR_INTERNAL_ERROR, "out of memory");
			return;
		}
		snprintf(name, nl, "%s%s", inst, s->param);
		free(s->obj);
		free(s->name);
		s->obj = obj;
		s->name = name;
	}
	if (!r->n_sets)
		set_done(r, in->status);
}

static cJSON *oper_result(const struct acs_run *r, const char *obj)
{
	cJSON *res = cJSON_CreateObject();
	cJSON *arr = res ? cJSON_AddArrayToObject(res, "operation_results") : NULL;
	cJSON *o = cJSON_CreateObject();
	if (!arr || !o) {
		cJSON_Delete(o);
		cJSON_Delete(res);
		return NULL;
	}
	cJSON_AddStringToObject(res, "type", "operate_resp");
	cJSON_AddItemToArray(arr, o);
	cJSON_AddStringToObject(o, "executed_command", r->command);
	cJSON_AddStringToObject(o, "req_obj_path", obj);
	cJSON_AddStringToObject(o, "command_key", r->command_key);
	return res;
}

static void answer_oper(struct acs_run *r, const struct cwmp_msg *in)
{
	/* The command's object and name: "Device." + "Reboot()". */
	const char *cmd = r->command;
	const char *last = cmd + strlen(cmd);
	while (last > cmd && last[-1] != '.')
		last--;
	snprintf(r->out.oper_obj_path, sizeof(r->out.oper_obj_path), "%.*s", (int)(last - cmd),
		 cmd);
	snprintf(r->out.oper_command_name, sizeof(r->out.oper_command_name), "%s", last);
	snprintf(r->out.oper_command_key, sizeof(r->out.oper_command_key), "%s", r->command_key);
	r->out.oper_requested = 1;
	r->out.oper_async_done = r->kind == K_DOWNLOAD && in->status == 0;
	cJSON *res = oper_result(r, r->out.oper_obj_path);
	if (!res) {
		set_fail(r, USP_ERR_INTERNAL_ERROR, "out of memory");
		return;
	}
	finish(r, res);
}

static void answer_spa(struct acs_run *r)
{
	cJSON *res = cJSON_CreateObject();
	cJSON *arr = res ? cJSON_AddArrayToObject(res, "attributes") : NULL;
	if (!arr) {
		cJSON_Delete(res);
		set_fail(r, USP_ERR_INTERNAL_ERROR, "out of memory");
		return;
	}
	cJSON_AddStringToObject(res, "type", "set_attributes_resp");
	for (size_t i = 0; i < r->n_attrs; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddItemToArray(arr, o);
		cJSON_AddStringToObject(o, "path", r->attrs[i].name);
		cJSON_AddNumberToObject(o, "notification", r->attrs[i].notification);
	}
	finish(r, res);
}

/* A GetParameterAttributesResponse: the attributes of the names under the
 * batch's paths (as a get filters values). */
static void answer_gpa(struct acs_run *r, const struct cwmp_msg *in)
{
	for (size_t p = r->batch_from; p < r->batch_to; p++) {
		const struct get_path *g = &r->paths[p];
		cJSON *one = cJSON_CreateObject();
		cJSON *arr = one ? cJSON_AddArrayToObject(one, "attributes") : NULL;
		if (!arr || !cJSON_AddStringToObject(one, "requested_path", g->requested)) {
			cJSON_Delete(one);
			set_fail(r, USP_ERR_INTERNAL_ERROR, "out of memory");
			return;
		}
		for (size_t i = 0; i < in->n_attrs; i++) {
			const struct cwmp_param_attr *a = &in->attrs[i];
			if (!a->name || !name_under(g, a->name))
				continue;
			cJSON *o = cJSON_CreateObject();
			cJSON_AddItemToArray(arr, o);
			cJSON_AddStringToObject(o, "path", a->name);
			cJSON_AddNumberToObject(o, "notification", a->notification);
			cJSON *acc = cJSON_AddArrayToObject(o, "access_list");
			for (size_t j = 0; j < a->n_access_list; j++)
				cJSON_AddItemToArray(acc, cJSON_CreateString(a->access_list[j]));
		}
		cJSON_AddItemToArray(r->get_results, one);
	}
}

/* An instance: an object name below the requested path whose last
 * segment is an instance number ("Device.WiFi.SSID.2."). */
static int is_instance_below(const char *name, const char *under)
{
	size_t n = strlen(name), u = strlen(under);
	if (n <= u + 1 || name[n - 1] != '.' || strncmp(name, under, u) != 0)
		return 0;
	size_t i = n - 1;
	while (i > u && name[i - 1] >= '0' && name[i - 1] <= '9')
		i--;
	return i < n - 1 && name[i - 1] == '.' && name[i] != '0';
}

static void answer_instances(struct acs_run *r, const struct cwmp_msg *in)
{
	const struct get_path *g = &r->paths[r->next_path - 1];
	const char *under = g->gpv_name; /* the name the CPE was asked */
	cJSON *one = cJSON_CreateObject();
	cJSON *insts = one ? cJSON_AddArrayToObject(one, "curr_insts") : NULL;
	if (!insts || !cJSON_AddStringToObject(one, "requested_path", g->requested)) {
		cJSON_Delete(one);
		set_fail(r, USP_ERR_INTERNAL_ERROR, "out of memory");
		return;
	}
	for (size_t i = 0; i < in->n_infos; i++) {
		const char *name = in->infos[i].name;
		if (!name || !is_instance_below(name, under))
			continue;
		cJSON *o = cJSON_CreateObject();
		if (!o)
			goto oom;
		cJSON_AddItemToArray(insts, o);
		/* CWMP names no unique keys: the map stays empty */
		if (!cJSON_AddStringToObject(o, "instantiated_obj_path", name) ||
		    !cJSON_AddObjectToObject(o, "unique_keys"))
			goto oom;
	}
	cJSON_AddItemToArray(r->get_results, one);
	return;
oom:
	cJSON_Delete(one);
	set_fail(r, USP_ERR_INTERNAL_ERROR, "out of memory");
}

static enum cwmp_method expected(const struct acs_run *r)
{
	switch (r->step) {
	case S_GET:
	case S_TYPES:
		return CWMP_M_GET_PARAMETER_VALUES_RESPONSE;
	case S_SPV:
		return CWMP_M_SET_PARAMETER_VALUES_RESPONSE;
	case S_ADD:
		return CWMP_M_ADD_OBJECT_RESPONSE;
	case S_DELETE:
		return CWMP_M_DELETE_OBJECT_RESPONSE;
	case S_SPA:
		return CWMP_M_SET_PARAMETER_ATTRIBUTES_RESPONSE;
	case S_GPA:
		return CWMP_M_GET_PARAMETER_ATTRIBUTES_RESPONSE;
	case S_GPN:
	case S_INST:
		return CWMP_M_GET_PARAMETER_NAMES_RESPONSE;
	case S_LEAF:
		return CWMP_M_GET_PARAMETER_VALUES_RESPONSE;
	case S_OPER:
		return r->kind == K_REBOOT          ? CWMP_M_REBOOT_RESPONSE
		       : r->kind == K_FACTORY_RESET ? CWMP_M_FACTORY_RESET_RESPONSE
						    : CWMP_M_DOWNLOAD_RESPONSE;
	default:
		return CWMP_M_COUNT;
	}
}

void acs_run_answer(struct acs_run *r, const struct cwmp_msg *in)
{
	if (r->done)
		return;
	/* by enum step */
	static const char *const what[] = { "",
					    "GetParameterValues",
					    "GetParameterValues",
					    "SetParameterValues",
					    "AddObject",
					    "DeleteObject",
					    "the command",
					    "SetParameterAttributes",
					    "GetParameterAttributes",
					    "GetParameterNames",
					    "GetParameterValues",
					    "GetParameterNames" };
	if (in->method == CWMP_M_FAULT && gpn_helps(r, &in->fault)) {
		r->gpn_fallback = 1;
		r->next_gpn = 0;
		r->step = S_NONE;
		return;
	}
	if (in->method == CWMP_M_FAULT) {
		if (r->step == S_SPV && r->kind == K_ADD)
			fail_fault(r, &in->fault,
				   r->instantiated ? r->instantiated : "the new object");
		else
			fail_fault(r, &in->fault, what[r->step]);
		if (r->kind == K_ADD && r->instantiated) {
			char m[sizeof(r->out.error_message) + CWMP_MAX_STR + 32];
			snprintf(m, sizeof(m), "AddObject created %s, then %s", r->instantiated,
				 r->out.error_message);
			snprintf(r->out.error_message, sizeof(r->out.error_message), "%.255s", m);
		}
		/* the result holds the fault as a USP Error does, so that a
		 * profile run or a client reads a TR-069 device's refusal as it
		 * reads a USP agent's */
		r->out.result_json = fault_result(r, &in->fault);
		return;
	}
	if (in->method != expected(r)) {
		set_fail(r, USP_ERR_INTERNAL_ERROR, "the CPE answered %s to %s",
			 in->method == CWMP_M_EMPTY ? "an empty message"
						    : cwmp_method_name(in->method),
			 what[r->step]);
		return;
	}
	switch (r->step) {
	case S_GET:
		answer_get(r, in);
		break;
	case S_TYPES:
		learn_types(r, in);
		break;
	case S_SPV:
		set_done(r, in->status);
		break;
	case S_ADD:
		answer_add(r, in);
		break;
	case S_DELETE: {
		const char *p = r->dels[r->next_del - 1];
		cJSON *o = cJSON_CreateObject();
		cJSON *st = o ? cJSON_AddObjectToObject(o, "oper_status") : NULL;
		cJSON *ok = st ? cJSON_AddObjectToObject(st, "oper_success") : NULL;
		cJSON *ap = ok ? cJSON_AddArrayToObject(ok, "affected_paths") : NULL;
		char **nd = realloc(r->out.deleted, (r->out.n_deleted + 1) * sizeof(char *));
		if (nd)
			r->out.deleted = nd;
		if (!ap || !nd || !cJSON_AddStringToObject(o, "requested_path", p) ||
		    !(nd[r->out.n_deleted] = strdup(p))) {
			cJSON_Delete(o);
			set_fail(r, USP_ERR_INTERNAL_ERROR, "out of memory");
			break;
		}
		r->out.n_deleted++;
		cJSON_AddItemToArray(ap, cJSON_CreateString(p));
		cJSON_AddItemToArray(r->del_results, o);
		break;
	}
	case S_OPER:
		answer_oper(r, in);
		break;
	case S_SPA:
		answer_spa(r);
		break;
	case S_GPA:
		answer_gpa(r, in);
		break;
	case S_GPN:
		for (size_t i = 0; i < in->n_infos; i++) {
			const char *name = in->infos[i].name;
			size_t n = name ? strlen(name) : 0;
			if (n && name[n - 1] != '.' && add_leaf(r, name) < 0)
				break;
		}
		break;
	case S_INST:
		answer_instances(r, in);
		break;
	case S_LEAF:
		for (size_t i = 0; i < in->n_values; i++)
			if (in->values[i].name &&
			    keep_value(&r->leaf_values, &r->n_leaf_values, &in->values[i]) < 0) {
				set_fail(r, USP_ERR_INTERNAL_ERROR, "out of memory");
				break;
			}
		break;
	default:
		set_fail(r, USP_ERR_INTERNAL_ERROR, "an answer with no request outstanding");
	}
	r->step = S_NONE;
}

/* ---- next RPC --------------------------------------------------------- */

/* get_instances: one GetParameterNames per object path (NextLevel =
 * first_level_only), then the result. */
static int next_instances(struct acs_run *r, struct cwmp_msg *out)
{
	if (r->next_path >= r->n_paths) {
		cJSON *res = cJSON_CreateObject();
		if (!res || !cJSON_AddStringToObject(res, "type", "get_instances_resp")) {
			cJSON_Delete(res);
			set_fail(r, USP_ERR_INTERNAL_ERROR, "out of memory");
			return 0;
		}
		cJSON_AddItemToObject(res, "req_path_results", r->get_results);
		r->get_results = NULL;
		finish(r, res);
		return 0;
	}
	out->method = CWMP_M_GET_PARAMETER_NAMES;
	out->parameter_path = r->paths[r->next_path++].gpv_name;
	out->next_level = r->first_level;
	r->step = S_INST;
	return 1;
}

static int next_get(struct acs_run *r, struct cwmp_msg *out)
{
	if (r->gpn_fallback)
		return next_fallback(r, out);
	if (r->next_path >= r->n_paths) {
		cJSON *res = cJSON_CreateObject();
		if (!res) {
			set_fail(r, USP_ERR_INTERNAL_ERROR, "out of memory");
			return 0;
		}
		cJSON_AddStringToObject(
			res, "type", r->kind == K_GET_ATTRS ? "get_attributes_resp" : "get_resp");
		cJSON_AddItemToObject(res, "req_path_results", r->get_results);
		r->get_results = NULL;
		finish(r, res);
		return 0;
	}
	r->batch_from = r->next_path;
	r->batch_to = r->next_path + ACS_GPV_BATCH;
	if (r->batch_to > r->n_paths)
		r->batch_to = r->n_paths;
	r->next_path = r->batch_to;
	free(r->rpc_names);
	r->rpc_names = calloc(r->batch_to - r->batch_from, sizeof(char *));
	if (!r->rpc_names) {
		set_fail(r, USP_ERR_INTERNAL_ERROR, "out of memory");
		return 0;
	}
	size_t n = 0;
	for (size_t i = r->batch_from; i < r->batch_to; i++) {
		/* one GPV name per distinct gpv_name of the batch */
		int seen = 0;
		for (size_t j = 0; j < n; j++)
			seen |= !strcmp(r->rpc_names[j], r->paths[i].gpv_name);
		if (!seen)
			r->rpc_names[n++] = r->paths[i].gpv_name;
	}
	out->method = r->kind == K_GET_ATTRS ? CWMP_M_GET_PARAMETER_ATTRIBUTES
					     : CWMP_M_GET_PARAMETER_VALUES;
	out->names = r->rpc_names;
	out->n_names = n;
	r->step = r->kind == K_GET_ATTRS ? S_GPA : S_GET;
	return 1;
}

/* GPV of the parameters whose type is unknown, else SPV. */
static int next_set(struct acs_run *r, struct cwmp_msg *out)
{
	size_t missing = 0;
	free(r->rpc_names);
	r->rpc_names = calloc(r->n_sets, sizeof(char *));
	free(r->rpc_values);
	r->rpc_values = calloc(r->n_sets, sizeof(*r->rpc_values));
	if (!r->rpc_names || !r->rpc_values) {
		set_fail(r, USP_ERR_INTERNAL_ERROR, "out of memory");
		return 0;
	}
	for (size_t i = 0; i < r->n_sets; i++)
		if (!r->sets[i].type)
			r->rpc_names[missing++] = r->sets[i].name;
	if (missing && !r->types_asked) {
		r->types_asked = 1;
		out->method = CWMP_M_GET_PARAMETER_VALUES;
		out->names = r->rpc_names;
		out->n_names = missing;
		r->step = S_TYPES;
		return 1;
	}
	for (size_t i = 0; i < r->n_sets; i++) {
		if (!r->sets[i].type) {
			/* The CPE did not list it: it does not have it. */
			if (r->instantiated)
				set_fail(r, 9005,
					 "AddObject created %.200s, then %.200s is not a parameter "
					 "of the device",
					 r->instantiated, r->sets[i].name);
			else
				set_fail(r, 9005,
					 "SetParameterValues: %.200s is not a parameter of the "
					 "device",
					 r->sets[i].name);
			return 0;
		}
		r->rpc_values[i].name = r->sets[i].name;
		r->rpc_values[i].value = r->sets[i].value;
		r->rpc_values[i].type = r->sets[i].type;
	}
	out->method = CWMP_M_SET_PARAMETER_VALUES;
	out->values = r->rpc_values;
	out->n_values = r->n_sets;
	out->parameter_key = r->key;
	r->step = S_SPV;
	return 1;
}

int acs_run_next(struct acs_run *r, struct cwmp_msg *out)
{
	memset(out, 0, sizeof(*out));
	if (r->done)
		return 0;
	switch (r->kind) {
	case K_GET:
	case K_GET_ATTRS:
		return next_get(r, out);
	case K_GET_INSTANCES:
		return next_instances(r, out);
	case K_SET_ATTRS:
		if (r->step == S_NONE && !r->out.result_json) {
			out->method = CWMP_M_SET_PARAMETER_ATTRIBUTES;
			out->set_attrs = r->attrs;
			out->n_set_attrs = r->n_attrs;
			r->step = S_SPA;
			return 1;
		}
		return 0;
	case K_SET:
		return next_set(r, out);
	case K_ADD:
		if (!r->instantiated) {
			out->method = CWMP_M_ADD_OBJECT;
			out->object_name = r->add_obj;
			out->parameter_key = r->key;
			r->step = S_ADD;
			return 1;
		}
		return next_set(r, out);
	case K_DELETE:
		if (r->next_del >= r->n_dels) {
			cJSON *res = cJSON_CreateObject();
			if (!res) {
				set_fail(r, USP_ERR_INTERNAL_ERROR, "out of memory");
				return 0;
			}
			cJSON_AddStringToObject(res, "type", "delete_resp");
			cJSON_AddItemToObject(res, "deleted_obj_results", r->del_results);
			r->del_results = NULL;
			finish(r, res);
			return 0;
		}
		out->method = CWMP_M_DELETE_OBJECT;
		out->object_name = r->dels[r->next_del++];
		out->parameter_key = r->key;
		r->step = S_DELETE;
		return 1;
	case K_REBOOT:
		out->method = CWMP_M_REBOOT;
		out->command_key = r->command_key;
		r->step = S_OPER;
		return 1;
	case K_FACTORY_RESET:
		out->method = CWMP_M_FACTORY_RESET;
		r->step = S_OPER;
		return 1;
	case K_DOWNLOAD:
		out->method = CWMP_M_DOWNLOAD;
		out->download = r->dl;
		r->step = S_OPER;
		return 1;
	}
	return 0;
}
