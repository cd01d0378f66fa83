/*
 * uspctl_cmd.c — parses and validates one uspctl input line into a struct
 * uspctl_cmd: common fields (id, op, targets, options), then per-op fields,
 * translating the friendly op fields ("paths", "params", "objects", "args")
 * into the USP request shape of docs/json.md and checking that the request
 * builds. Every USP path given is checked with usp_path_parse. Pure: no I/O;
 * any thread; the caller owns the struct.
 */
#include "uspctl_cmd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet_fw.h"
#include "fleet_spec.h"
#include "profile_spec.h"
#include "usp_json.h"
#include "usp_msg.h"
#include "usp_path.h"
#include "usp_record.h"
#include "usp_utf8.h"

struct op_row {
	const char *name;
	int usp;
	const char *usp_type;
};

static const struct op_row op_rows[] = {
#define USPCTL_OP_ROW_(op, name, usp, type) { name, usp, type },
	USPCTL_OPS(USPCTL_OP_ROW_)
#undef USPCTL_OP_ROW_
};

static const char *const error_names[] = {
#define USPCTL_E_NAME_(ident, name, text) name,
	USPCTL_ERRORS(USPCTL_E_NAME_)
#undef USPCTL_E_NAME_
};

const char *uspctl_error_name(int code)
{
	if (code <= USPCTL_E_BASE_ || code >= USPCTL_E_END_)
		return "internal_error";
	return error_names[code - USPCTL_E_BASE_ - 1];
}

const char *uspctl_op_name(enum uspctl_op op)
{
	return op < USPCTL_OP_COUNT_ ? op_rows[op].name : "unknown";
}

int uspctl_op_is_usp(enum uspctl_op op)
{
	return op < USPCTL_OP_COUNT_ && op_rows[op].usp;
}

int uspctl_op_is_campaign(enum uspctl_op op)
{
	return op >= USPCTL_OP_CAMPAIGN_CREATE && op <= USPCTL_OP_FLEET_VERSIONS;
}

int uspctl_op_is_profile(enum uspctl_op op)
{
	return op >= USPCTL_OP_PROFILE_PUT && op <= USPCTL_OP_PROFILE_VARS;
}

int uspctl_op_is_token(enum uspctl_op op)
{
	return op >= USPCTL_OP_TOKEN_CREATE && op <= USPCTL_OP_TOKEN_REVOKE;
}

void uspctl_cmd_init(struct uspctl_cmd *c)
{
	memset(c, 0, sizeof(*c));
	c->targets.online = -1;
	c->wait = -1;
	c->timeout_s = -1;
	c->expires_s = -1;
	c->wait_complete = -1;
	c->max_inflight = -1;
	c->after_id = -1;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void uspctl_cmd_fini(struct uspctl_cmd *c)
{
	struct uspctl_targets *t = &c->targets;
	free_strv(t->eids, t->n_eids);
	free(t->tag);
	free(t->model);
	free(t->manufacturer);
	free(t->software_version);
	free(t->eid_glob);
	cJSON_Delete(c->usp_args);
	free_strv(c->strings, c->n_strings);
	if (c->spec) {
		fleet_spec_fini(c->spec);
		free(c->spec);
	}
	free(c->campaign_name);
	free(c->dev_state);
	free(c->dev_reason);
	cJSON_Delete(c->line);
	free(c->profile);
	free(c->path_prefix);
	free(c->rej_sender);
	free(c->rej_reason);
	free(c->after);
	free(c->kind);
	free(c->task_state);
	free(c->task_op);
	free(c->batch);
	free(c->command_key);
	free(c->token_name);
	free(c->token_role);
	uspctl_cmd_init(c);
}

/* ---- small validated readers -------------------------------------------- */

static int field_allowed(const char *key, const char *const *allowed)
{
	static const char *const common[] = { "id",      "op",      "targets",      "wait",
					      "timeout", "expires", "max_inflight", NULL };
	for (const char *const *p = common; *p; p++)
		if (strcmp(*p, key) == 0)
			return 1;
	for (const char *const *p = allowed; p && *p; p++)
		if (strcmp(*p, key) == 0)
			return 1;
	return 0;
}

static int check_fields(const cJSON *root, const char *const *allowed, const char *op,
			struct uspc_err *err)
{
	for (const cJSON *f = root->child; f; f = f->next)
		if (!field_allowed(f->string, allowed))
			return uspc_err_set(err, USPCTL_E_BAD_FIELD,
					    "op '%s' does not take field '%.64s'", op, f->string);
	return 0;
}

/* TR-098's root: TR-069 devices of that data model name everything under
 * it (uspc-acs, docs/tr069.md). Such a path is checked as the same path
 * under "Device."; a USP agent refuses it with its own error. */
#define TR098_ROOT "InternetGatewayDevice."

static int check_path(const char *path, int want_kind, struct uspc_err *err)
{
	struct usp_path p;
	struct uspc_err perr;
	char as_device[USP_PATH_MAX_LEN + 1];
	const char *checked = path;
	if (!strncmp(path, TR098_ROOT, strlen(TR098_ROOT)) &&
	    strlen(path) - strlen(TR098_ROOT) + 7 <= USP_PATH_MAX_LEN) {
		snprintf(as_device, sizeof(as_device), "Device.%s", path + strlen(TR098_ROOT));
		checked = as_device;
	}
	int rc = usp_path_parse(checked, &p, &perr);
	if (rc < 0)
		return uspc_err_set(err, USPCTL_E_INVALID_PATH, "invalid path '%.200s': %s", path,
				    perr.msg);
	int kind = (int)p.kind;
	usp_path_fini(&p);
	if (want_kind >= 0 && kind != want_kind)
		return uspc_err_set(err, USPCTL_E_INVALID_PATH, "path '%.200s' is not a %s path",
				    path,
				    want_kind == USP_PATH_PARAM     ? "parameter"
				    : want_kind == USP_PATH_COMMAND ? "command"
								    : "object");
	return 0;
}

/* A string array (or a single string when allow_single) of valid USP paths. */
static int read_paths(const cJSON *j, const char *field, int want_kind, cJSON **out,
		      struct uspc_err *err)
{
	*out = NULL;
	if (cJSON_IsString(j)) {
		cJSON *arr = cJSON_CreateArray();
		cJSON_AddItemToArray(arr, cJSON_CreateString(j->valuestring));
		j = arr;
		*out = arr;
	} else if (!cJSON_IsArray(j)) {
		return uspc_err_set(err, USPCTL_E_BAD_FIELD,
				    "'%s' must be a path or an array of paths", field);
	} else {
		*out = cJSON_Duplicate(j, 1);
	}
	int n = cJSON_GetArraySize(*out);
	if (n == 0 || n > USPCTL_MAX_PATHS) {
		cJSON_Delete(*out);
		*out = NULL;
		return uspc_err_set(err, USPCTL_E_BAD_FIELD, "'%s' needs 1 to %d paths", field,
				    USPCTL_MAX_PATHS);
	}
	for (const cJSON *p = (*out)->child; p; p = p->next) {
		int rc = cJSON_IsString(p) ? check_path(p->valuestring, want_kind, err)
					   : uspc_err_set(err, USPCTL_E_BAD_FIELD,
							  "'%s' entries must be strings", field);
		if (rc < 0) {
			cJSON_Delete(*out);
			*out = NULL;
			return rc;
		}
	}
	return 0;
}

static int read_bool(const cJSON *root, const char *key, int *out, struct uspc_err *err)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, key);
	if (!j)
		return 0;
	if (!cJSON_IsBool(j))
		return uspc_err_set(err, USPCTL_E_BAD_FIELD, "'%s' must be true or false", key);
	*out = cJSON_IsTrue(j);
	return 1;
}

static int read_seconds(const cJSON *root, const char *key, double *out, struct uspc_err *err)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, key);
	if (!j)
		return 0;
	if (!cJSON_IsNumber(j) || !isfinite(j->valuedouble) || j->valuedouble <= 0 ||
	    j->valuedouble > 366.0 * 86400)
		return uspc_err_set(err, USPCTL_E_BAD_FIELD,
				    "'%s' must be a number of seconds between 0 and 31622400", key);
	*out = j->valuedouble;
	return 1;
}

static int read_max_inflight(const cJSON *root, long *out, struct uspc_err *err)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, "max_inflight");
	if (!j)
		return 0;
	if (!cJSON_IsNumber(j) || j->valuedouble < 1 || j->valuedouble > 1000000 ||
	    j->valuedouble != floor(j->valuedouble))
		return uspc_err_set(err, USPCTL_E_BAD_FIELD,
				    "'max_inflight' must be a whole number from 1 to 1000000");
	*out = (long)j->valuedouble;
	return 1;
}

static int read_string(const cJSON *root, const char *key, int required, const char **out,
		       struct uspc_err *err)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, key);
	*out = NULL;
	if (!j)
		return required ? uspc_err_set(err, USPCTL_E_BAD_FIELD, "missing field '%s'", key)
				: 0;
	if (!cJSON_IsString(j) || (required && !j->valuestring[0]))
		return uspc_err_set(err, USPCTL_E_BAD_FIELD, "'%s' must be a non-empty string",
				    key);
	*out = j->valuestring;
	return 1;
}

static int push_str(char ***v, size_t *n, const char *s)
{
	char **g = realloc(*v, (*n + 1) * sizeof(char *));
	if (!g)
		return USPC_E_NOMEM;
	*v = g;
	if (!(g[*n] = strdup(s)))
		return USPC_E_NOMEM;
	(*n)++;
	return 0;
}

/* A string, or an array of strings, into c->strings. */
static int read_string_list(const cJSON *root, const char *key, struct uspctl_cmd *c,
			    struct uspc_err *err)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, key);
	if (!j)
		return uspc_err_set(err, USPCTL_E_BAD_FIELD, "missing field '%s'", key);
	if (cJSON_IsString(j)) {
		if (push_str(&c->strings, &c->n_strings, j->valuestring) < 0)
			return uspc_err_set(err, USPCTL_E_INTERNAL, "out of memory");
		return 0;
	}
	if (!cJSON_IsArray(j) || cJSON_GetArraySize(j) == 0)
		return uspc_err_set(err, USPCTL_E_BAD_FIELD,
				    "'%s' must be a string or a non-empty array", key);
	for (const cJSON *e = j->child; e; e = e->next) {
		char num[32];
		const char *s = NULL;
		if (cJSON_IsString(e) && e->valuestring[0]) {
			s = e->valuestring;
		} else if (cJSON_IsNumber(e) && e->valuedouble >= 0 && e->valuedouble < 9e15) {
			snprintf(num, sizeof(num), "%.0f", e->valuedouble);
			s = num;
		} else {
			return uspc_err_set(err, USPCTL_E_BAD_FIELD,
					    "'%s' entries must be non-empty strings", key);
		}
		if (push_str(&c->strings, &c->n_strings, s) < 0)
			return uspc_err_set(err, USPCTL_E_INTERNAL, "out of memory");
	}
	return 0;
}

/* ---- targets ------------------------------------------------------------- */

static int eid_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > USP_EID_MAX_LEN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || s[i] == 0x7f)
			return 0;
	return 1;
}

static int read_selector(const cJSON *sel, struct uspctl_targets *t, struct uspc_err *err)
{
	static const char *const keys[] = { "tag", "model", "manufacturer", "software_version",
					    "eid" };
	char **slots[] = { &t->tag, &t->model, &t->manufacturer, &t->software_version,
			   &t->eid_glob };
	int any = 0;
	for (const cJSON *f = sel->child; f; f = f->next) {
		size_t k;
		if (strcmp(f->string, "all") == 0) {
			if (!cJSON_IsTrue(f))
				return uspc_err_set(err, USPCTL_E_BAD_TARGETS,
						    "'all' must be true");
			t->all = 1;
		} else if (strcmp(f->string, "online") == 0) {
			if (!cJSON_IsBool(f))
				return uspc_err_set(err, USPCTL_E_BAD_TARGETS,
						    "'online' must be a boolean");
			t->online = cJSON_IsTrue(f);
		} else {
			for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
				if (strcmp(f->string, keys[k]) == 0)
					break;
			if (k == sizeof(keys) / sizeof(keys[0]))
				return uspc_err_set(err, USPCTL_E_BAD_TARGETS,
						    "unknown selector key '%.64s'", f->string);
			if (!cJSON_IsString(f) || !f->valuestring[0] ||
			    strlen(f->valuestring) > 256)
				return uspc_err_set(err, USPCTL_E_BAD_TARGETS,
						    "selector '%s' must be a non-empty string",
						    keys[k]);
			free(*slots[k]);
			*slots[k] = strdup(f->valuestring);
		}
		any = 1;
	}
	if (!any)
		return uspc_err_set(err, USPCTL_E_BAD_TARGETS,
				    "empty selector: use {\"all\":true} to target every agent");
	return 0;
}

static int read_targets(const cJSON *root, struct uspctl_targets *t, struct uspc_err *err)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, "targets");
	if (!j)
		return 0;
	t->given = 1;
	if (cJSON_IsString(j)) {
		if (!eid_ok(j->valuestring))
			return uspc_err_set(err, USPCTL_E_BAD_TARGETS,
					    "invalid endpoint ID in 'targets'");
		if (push_str(&t->eids, &t->n_eids, j->valuestring) < 0)
			return uspc_err_set(err, USPCTL_E_INTERNAL, "out of memory");
		return 0;
	}
	if (cJSON_IsObject(j))
		return read_selector(j, t, err);
	if (!cJSON_IsArray(j) || cJSON_GetArraySize(j) == 0 ||
	    cJSON_GetArraySize(j) > USPCTL_MAX_EIDS)
		return uspc_err_set(
			err, USPCTL_E_BAD_TARGETS,
			"'targets' must be an endpoint ID, a non-empty array of them, or a selector object");
	for (const cJSON *e = j->child; e; e = e->next) {
		if (!cJSON_IsString(e) || !eid_ok(e->valuestring))
			return uspc_err_set(err, USPCTL_E_BAD_TARGETS,
					    "invalid endpoint ID in 'targets'");
		if (push_str(&t->eids, &t->n_eids, e->valuestring) < 0)
			return uspc_err_set(err, USPCTL_E_INTERNAL, "out of memory");
	}
	return 0;
}

/* ---- per-op translation into the USP request shape ----------------------- */

static int value_text(const cJSON *v, char *buf, size_t cap, const char **out)
{
	if (cJSON_IsString(v)) {
		*out = v->valuestring;
	} else if (cJSON_IsBool(v)) {
		*out = cJSON_IsTrue(v) ? "true" : "false";
	} else if (cJSON_IsNumber(v) && isfinite(v->valuedouble)) {
		if (v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 9e15)
			snprintf(buf, cap, "%.0f", v->valuedouble);
		else
			snprintf(buf, cap, "%.17g", v->valuedouble);
		*out = buf;
	} else {
		return -1;
	}
	return 0;
}

/* {"Name": value, ...} → [{"param":Name,"value":"v","required":req}, ...] */
static int param_settings(const cJSON *params, int required, cJSON *into, struct uspc_err *err)
{
	if (!cJSON_IsObject(params) || !params->child)
		return uspc_err_set(err, USPCTL_E_BAD_FIELD, "'params' must be a non-empty object");
	for (const cJSON *p = params->child; p; p = p->next) {
		char num[40];
		const char *val;
		if (value_text(p, num, sizeof(num), &val) < 0)
			return uspc_err_set(err, USPCTL_E_BAD_FIELD,
					    "value of '%.200s' must be a string, number or boolean",
					    p->string);
		cJSON *s = cJSON_CreateObject();
		cJSON_AddStringToObject(s, "param", p->string);
		cJSON_AddStringToObject(s, "value", val);
		if (required)
			cJSON_AddBoolToObject(s, "required", 1);
		cJSON_AddItemToArray(into, s);
	}
	return 0;
}

static cJSON *find_update_obj(cJSON *objs, const char *obj_path, size_t len)
{
	for (cJSON *o = objs->child; o; o = o->next) {
		const char *p = cJSON_GetObjectItemCaseSensitive(o, "obj_path")->valuestring;
		if (strlen(p) == len && strncmp(p, obj_path, len) == 0)
			return o;
	}
	cJSON *o = cJSON_CreateObject();
	char *copy = strndup(obj_path, len);
	cJSON_AddStringToObject(o, "obj_path", copy);
	free(copy);
	cJSON_AddItemToObject(o, "param_settings", cJSON_CreateArray());
	cJSON_AddItemToArray(objs, o);
	return o;
}

static int op_set(const cJSON *root, cJSON *args, struct uspc_err *err)
{
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(root, "params");
	int required = 1;
	int rc = read_bool(root, "required", &required, err);
	if (rc < 0)
		return rc;
	if (!cJSON_IsObject(params) || !params->child)
		return uspc_err_set(err, USPCTL_E_BAD_FIELD,
				    "'params' must be an object of full parameter paths to values");
	cJSON *objs = cJSON_AddArrayToObject(args, "update_objs");
	for (const cJSON *p = params->child; p; p = p->next) {
		if ((rc = check_path(p->string, USP_PATH_PARAM, err)) < 0)
			return rc;
		const char *dot = strrchr(p->string, '.');
		cJSON *o = find_update_obj(objs, p->string, (size_t)(dot - p->string) + 1);
		cJSON one = *p; /* a shallow view renamed to the relative name */
		cJSON wrap = { 0 };
		one.next = one.prev = NULL;
		one.string = (char *)dot + 1;
		wrap.type = cJSON_Object;
		wrap.child = &one;
		rc = param_settings(&wrap, required,
				    cJSON_GetObjectItemCaseSensitive(o, "param_settings"), err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int add_one_object(const cJSON *obj, int required, cJSON *into, struct uspc_err *err)
{
	const char *path;
	if (!cJSON_IsObject(obj) || read_string(obj, "path", 1, &path, err) < 0)
		return uspc_err_set(err, USPCTL_E_BAD_FIELD,
				    "each object needs a 'path' (a table path ending in '.')");
	int rc = check_path(path, USP_PATH_OBJECT, err);
	if (rc < 0)
		return rc;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToArray(into, o);
	cJSON_AddStringToObject(o, "obj_path", path);
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(obj, "params");
	for (const cJSON *f = obj->child; f; f = f->next)
		if (strcmp(f->string, "path") != 0 && strcmp(f->string, "params") != 0)
			return uspc_err_set(err, USPCTL_E_BAD_FIELD,
					    "object field '%.64s' is unknown", f->string);
	if (params)
		return param_settings(params, required, cJSON_AddArrayToObject(o, "param_settings"),
				      err);
	return 0;
}

static int op_add(const cJSON *root, cJSON *args, struct uspc_err *err)
{
	int required = 1;
	int rc = read_bool(root, "required", &required, err);
	if (rc < 0)
		return rc;
	cJSON *objs = cJSON_AddArrayToObject(args, "create_objs");
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "objects");
	if (list) {
		if (!cJSON_IsArray(list) || !list->child)
			return uspc_err_set(err, USPCTL_E_BAD_FIELD,
					    "'objects' must be a non-empty array");
		for (const cJSON *o = list->child; o; o = o->next)
			if ((rc = add_one_object(o, required, objs, err)) < 0)
				return rc;
		return 0;
	}
	cJSON *single = cJSON_CreateObject();
	const cJSON *path = cJSON_GetObjectItemCaseSensitive(root, "path");
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(root, "params");
	if (path)
		cJSON_AddItemToObject(single, "path", cJSON_Duplicate(path, 1));
	if (params)
		cJSON_AddItemToObject(single, "params", cJSON_Duplicate(params, 1));
	rc = add_one_object(single, required, objs, err);
	cJSON_Delete(single);
	return rc;
}

static int op_operate(const cJSON *root, cJSON *args, struct uspctl_cmd *c, struct uspc_err *err)
{
	const char *command, *key;
	int send_resp = 1, wait_complete = 0, rc;
	if ((rc = read_string(root, "command", 1, &command, err)) < 0 ||
	    (rc = check_path(command, USP_PATH_COMMAND, err)) < 0 ||
	    (rc = read_string(root, "command_key", 0, &key, err)) < 0 ||
	    (rc = read_bool(root, "send_resp", &send_resp, err)) < 0 ||
	    (rc = read_bool(root, "wait_complete", &wait_complete, err)) < 0)
		return rc;
	cJSON_AddStringToObject(args, "command", command);
	if (key)
		cJSON_AddStringToObject(args, "command_key", key);
	cJSON_AddBoolToObject(args, "send_resp", send_resp);
	c->wait_complete = wait_complete;
	const cJSON *in = cJSON_GetObjectItemCaseSensitive(root, "args");
	if (in) {
		if (!cJSON_IsObject(in))
			return uspc_err_set(err, USPCTL_E_BAD_FIELD, "'args' must be an object");
		cJSON *m = cJSON_AddObjectToObject(args, "input_args");
		for (const cJSON *a = in->child; a; a = a->next) {
			char num[40];
			const char *val;
			if (value_text(a, num, sizeof(num), &val) < 0)
				return uspc_err_set(
					err, USPCTL_E_BAD_FIELD,
					"argument '%.64s' must be a string, number or boolean",
					a->string);
			cJSON_AddStringToObject(m, a->string, val);
		}
	}
	return 0;
}

static int copy_flags(const cJSON *root, cJSON *args, const char *const *flags,
		      struct uspc_err *err)
{
	for (const char *const *f = flags; *f; f++) {
		int v = 0;
		int rc = read_bool(root, *f, &v, err);
		if (rc < 0)
			return rc;
		if (rc > 0)
			cJSON_AddBoolToObject(args, *f, v);
	}
	return 0;
}

static int paths_into(const cJSON *root, cJSON *args, const char *usp_field, int kind,
		      struct uspc_err *err)
{
	cJSON *paths;
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, "paths");
	if (!j)
		return uspc_err_set(err, USPCTL_E_BAD_FIELD, "missing field 'paths'");
	int rc = read_paths(j, "paths", kind, &paths, err);
	if (rc < 0)
		return rc;
	cJSON_AddItemToObject(args, usp_field, paths);
	return 0;
}

/* Supported-DM paths may use "{i}" for instance numbers. */
static int gsdm_paths(const cJSON *root, cJSON *args, struct uspc_err *err)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, "paths");
	if (!j)
		return uspc_err_set(err, USPCTL_E_BAD_FIELD, "missing field 'paths'");
	cJSON *list = cJSON_IsString(j)
			      ? cJSON_CreateStringArray((const char *const *)&j->valuestring, 1)
			      : cJSON_Duplicate(j, 1);
	cJSON_AddItemToObject(args, "obj_paths", list);
	if (!cJSON_IsArray(list) || !list->child || cJSON_GetArraySize(list) > USPCTL_MAX_PATHS)
		return uspc_err_set(err, USPCTL_E_BAD_FIELD, "'paths' needs 1 to %d paths",
				    USPCTL_MAX_PATHS);
	for (const cJSON *p = list->child; p; p = p->next) {
		if (!cJSON_IsString(p) || strlen(p->valuestring) > USP_PATH_MAX_LEN)
			return uspc_err_set(err, USPCTL_E_BAD_FIELD,
					    "'paths' entries must be paths");
		char buf[USP_PATH_MAX_LEN + 1], *w = buf;
		for (const char *r = p->valuestring; *r; r++) {
			if (strncmp(r, "{i}", 3) == 0) {
				*w++ = '1';
				r += 2;
			} else {
				*w++ = *r;
			}
		}
		*w = '\0';
		if (check_path(buf, -1, err) < 0)
			return uspc_err_set(err, USPCTL_E_INVALID_PATH, "invalid path '%.200s'",
					    p->valuestring);
	}
	return 0;
}

/* set_attributes (TR-069 devices: SetParameterAttributes): "attributes":
 * [{"path": P, "notification": 0..6, "access_list": [..]}]; a path ending
 * in '.' sets every parameter under it. */
#define NOTIFICATION_MAX 6
#define ACCESS_LIST_MAX 16
static int op_set_attributes(const cJSON *root, cJSON *args, struct uspc_err *err)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "attributes");
	int n = cJSON_IsArray(list) ? cJSON_GetArraySize(list) : 0;
	if (n < 1 || n > USPCTL_MAX_PATHS)
		return uspc_err_set(err, USPCTL_E_BAD_FIELD,
				    "'attributes' must be an array of 1 to %d {\"path\", "
				    "\"notification\"} objects",
				    USPCTL_MAX_PATHS);
	cJSON *out = cJSON_AddArrayToObject(args, "attributes");
	const cJSON *it;
	cJSON_ArrayForEach(it, list)
	{
		static const char *const fields[] = { "path", "notification", "access_list", NULL };
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(it, "path");
		const cJSON *nf = cJSON_GetObjectItemCaseSensitive(it, "notification");
		const cJSON *al = cJSON_GetObjectItemCaseSensitive(it, "access_list");
		int rc;
		if (!cJSON_IsObject(it) || !cJSON_IsString(p))
			return uspc_err_set(err, USPCTL_E_BAD_FIELD,
					    "each of 'attributes' needs a \"path\"");
		if ((rc = check_fields(it, fields, "set_attributes", err)) < 0 ||
		    (rc = check_path(p->valuestring, -1, err)) < 0)
			return rc;
		if (!cJSON_IsNumber(nf) || nf->valuedouble < 0 ||
		    nf->valuedouble > NOTIFICATION_MAX || nf->valuedouble != floor(nf->valuedouble))
			return uspc_err_set(
				err, USPCTL_E_BAD_FIELD,
				"'notification' of %.200s must be 0 (off), 1 (passive), "
				"2 (active) or 3 to 6",
				p->valuestring);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddItemToArray(out, o);
		cJSON_AddStringToObject(o, "path", p->valuestring);
		cJSON_AddNumberToObject(o, "notification", nf->valuedouble);
		if (!al)
			continue;
		int an = cJSON_IsArray(al) ? cJSON_GetArraySize(al) : -1;
		if (an < 0 || an > ACCESS_LIST_MAX)
			return uspc_err_set(
				err, USPCTL_E_BAD_FIELD,
				"'access_list' of %.200s must be an array of at most %d "
				"names",
				p->valuestring, ACCESS_LIST_MAX);
		cJSON *acc = cJSON_AddArrayToObject(o, "access_list");
		const cJSON *e;
		cJSON_ArrayForEach(e, al)
		{
			if (!cJSON_IsString(e) || !*e->valuestring || strlen(e->valuestring) > 64)
				return uspc_err_set(
					err, USPCTL_E_BAD_FIELD,
					"'access_list' of %.200s holds a name that is not "
					"1 to 64 characters",
					p->valuestring);
			cJSON_AddItemToArray(acc, cJSON_CreateString(e->valuestring));
		}
	}
	return 0;
}

static int op_subscribe(const cJSON *root, cJSON *args, struct uspc_err *err)
{
	static const char *const types[] = { "ValueChange",    "ObjectCreation",
					     "ObjectDeletion", "OperationComplete",
					     "Event",          NULL };
	const char *sub_id, *type;
	int rc;
	if ((rc = read_string(root, "subscription_id", 1, &sub_id, err)) < 0 ||
	    (rc = read_string(root, "notif_type", 1, &type, err)) < 0)
		return rc;
	const char *const *t;
	for (t = types; *t && strcmp(*t, type) != 0; t++)
		;
	if (!*t)
		return uspc_err_set(
			err, USPCTL_E_BAD_FIELD,
			"'notif_type' must be ValueChange, ObjectCreation, ObjectDeletion, OperationComplete or Event");
	cJSON *refs;
	const cJSON *rl = cJSON_GetObjectItemCaseSensitive(root, "reference_list");
	if (!rl)
		return uspc_err_set(err, USPCTL_E_BAD_FIELD, "missing field 'reference_list'");
	if ((rc = read_paths(rl, "reference_list", -1, &refs, err)) < 0)
		return rc;
	size_t len = 0;
	for (cJSON *r = refs->child; r; r = r->next)
		len += strlen(r->valuestring) + 1;
	char *joined = calloc(1, len + 1);
	if (!joined) {
		cJSON_Delete(refs);
		return uspc_err_set(err, USPCTL_E_INTERNAL, "out of memory");
	}
	for (cJSON *r = refs->child; r; r = r->next) {
		if (joined[0])
			strcat(joined, ",");
		strcat(joined, r->valuestring);
	}
	cJSON_Delete(refs);
	int persistent = 1, retry = 1;
	if ((rc = read_bool(root, "persistent", &persistent, err)) < 0 ||
	    (rc = read_bool(root, "notif_retry", &retry, err)) < 0) {
		free(joined);
		return rc;
	}
	cJSON *params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, "Enable", "true");
	cJSON_AddStringToObject(params, "ID", sub_id);
	cJSON_AddStringToObject(params, "NotifType", type);
	cJSON_AddStringToObject(params, "ReferenceList", joined);
	cJSON_AddStringToObject(params, "Persistent", persistent ? "true" : "false");
	cJSON_AddStringToObject(params, "NotifRetry", retry ? "true" : "false");
	free(joined);
	cJSON *objs = cJSON_AddArrayToObject(args, "create_objs");
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToArray(objs, o);
	cJSON_AddStringToObject(o, "obj_path", "Device.LocalAgent.Subscription.");
	rc = param_settings(params, 1, cJSON_AddArrayToObject(o, "param_settings"), err);
	cJSON_Delete(params);
	return rc;
}

static int op_unsubscribe(const cJSON *root, cJSON *args, struct uspc_err *err)
{
	const char *sub_id;
	int rc = read_string(root, "subscription_id", 1, &sub_id, err);
	if (rc < 0)
		return rc;
	for (const char *p = sub_id; *p; p++)
		if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
			return uspc_err_set(
				err, USPCTL_E_BAD_FIELD,
				"'subscription_id' may not contain quotes, backslashes or control characters");
	char path[512];
	if (snprintf(path, sizeof(path), "Device.LocalAgent.Subscription.[ID==\"%s\"].", sub_id) >=
	    (int)sizeof(path))
		return uspc_err_set(err, USPCTL_E_BAD_FIELD, "'subscription_id' is too long");
	cJSON_AddTrueToObject(args, "allow_partial");
	cJSON *arr = cJSON_AddArrayToObject(args, "obj_paths");
	cJSON_AddItemToArray(arr, cJSON_CreateString(path));
	return 0;
}

/* ---- campaign ops ------------------------------------------------------------ */

#define CAMPAIGN_DEVICES_MAX 100000 /* FLEET_ADMIN_DEVICES_MAX */

/* Only id, op and the fields given (campaign ops take none of the common
 * options: nothing of theirs waits for agents). */
static int only_fields(const cJSON *root, const char *const *allowed, const char *op,
		       struct uspc_err *err)
{
	for (const cJSON *f = root->child; f; f = f->next) {
		int ok = !strcmp(f->string, "id") || !strcmp(f->string, "op");
		for (const char *const *p = allowed; !ok && *p; p++)
			ok = !strcmp(f->string, *p);
		if (!ok)
			return uspc_err_set(err, USPCTL_E_BAD_FIELD,
					    "op '%s' does not take field '%.64s'", op, f->string);
	}
	return 0;
}

static int read_int(const cJSON *root, const char *key, long lo, long hi, long *out,
		    struct uspc_err *err)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, key);
	if (!j)
		return 0;
	if (!cJSON_IsNumber(j) || !isfinite(j->valuedouble) ||
	    j->valuedouble != floor(j->valuedouble) || j->valuedouble < (double)lo ||
	    j->valuedouble > (double)hi)
		return uspc_err_set(err, USPCTL_E_BAD_FIELD,
				    "'%s' must be a whole number from %ld to %ld", key, lo, hi);
	*out = (long)j->valuedouble;
	return 1;
}

#define REJECTIONS_MAX 10000

/* rejections: sender (an exact sender or a glob), reason, since, limit. */
static int parse_rejections(const cJSON *root, struct uspctl_cmd *c, struct uspc_err *err)
{
	const char *sender, *reason;
	int rc;
	if ((rc = read_string(root, "sender", 0, &sender, err)) < 0 ||
	    (rc = read_string(root, "reason", 0, &reason, err)) < 0 ||
	    (rc = read_seconds(root, "since", &c->since_s, err)) < 0 ||
	    (rc = read_int(root, "limit", 1, REJECTIONS_MAX, &c->limit, err)) < 0)
		return rc;
	if (sender &&
	    (!sender[0] || strlen(sender) > 512 || !usp_utf8_valid(sender, strlen(sender))))
		return uspc_err_set(err, USPCTL_E_BAD_FIELD,
				    "'sender' must be a sender or a glob (* ? and \\ escapes) of 1 "
				    "to 512 bytes of UTF-8");
	size_t n = reason ? strlen(reason) : 0;
	for (size_t i = 0; reason && i < n; i++)
		if (!((reason[i] >= 'a' && reason[i] <= 'z') ||
		      (reason[i] >= '0' && reason[i] <= '9') || reason[i] == '_'))
			n = 0;
	if (reason && (n == 0 || n > 64))
		return uspc_err_set(
			err, USPCTL_E_BAD_FIELD,
			"'reason' must be a rejection reason such as record_wrong_to_id "
			"(1 to 64 of a-z 0-9 _)");
	if ((sender && !(c->rej_sender = strdup(sender))) ||
	    (reason && !(c->rej_reason = strdup(reason))))
		return uspc_err_set(err, USPCTL_E_INTERNAL, "out of memory");
	return 0;
}

/* ---- reads: list_agents paging, notifications, task_list, operation_results ---- */

#define READS_MAX 10000     /* lines of one read command (the default is 100) */
#define COMMAND_KEY_MAX 256 /* STORE_NAME_MAX: what the daemon stores */

/* Keep a copy of s (NULL: nothing given) in *slot. */
static int keep(char **slot, const char *s, struct uspc_err *err)
{
	if (s && !(*slot = strdup(s)))
		return uspc_err_set(err, USPCTL_E_INTERNAL, "out of memory");
	return 0;
}

/* An optional string of min_len to max bytes of UTF-8, kept in *slot. */
static int read_text(const cJSON *root, const char *key, size_t min_len, size_t max, char **slot,
		     struct uspc_err *err)
{
	const char *s;
	int rc = read_string(root, key, 0, &s, err);
	if (rc <= 0)
		return rc;
	size_t n = strlen(s);
	if (n < min_len || n > max || !usp_utf8_valid(s, n))
		return uspc_err_set(err, USPCTL_E_BAD_FIELD,
				    "'%s' must be a string of %zu to %zu bytes of UTF-8", key,
				    min_len, max);
	return keep(slot, s, err);
}

/* An optional string that must be one of names (what: them, for the
 * message), kept in *slot. */
static int read_name(const cJSON *root, const char *key, const char *const *names, const char *what,
		     char **slot, struct uspc_err *err)
{
	const char *s;
	int rc = read_string(root, key, 0, &s, err);
	if (rc <= 0)
		return rc;
	for (const char *const *n = names; *n; n++)
		if (!strcmp(*n, s))
			return keep(slot, s, err);
	return uspc_err_set(err, USPCTL_E_BAD_FIELD, "'%s' must be %s", key, what);
}

/* An optional id: a whole number from min (0 or 1) in a bigserial's
 * range, as JSON numbers carry it exactly. */
static int read_id64(const cJSON *root, const char *key, int min, int64_t *out,
		     struct uspc_err *err)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, key);
	if (!j)
		return 0;
	if (!cJSON_IsNumber(j) || !isfinite(j->valuedouble) ||
	    j->valuedouble != floor(j->valuedouble) || j->valuedouble < min ||
	    j->valuedouble >= 9e15)
		return uspc_err_set(err, USPCTL_E_BAD_FIELD,
				    "'%s' must be an id (a whole number from %d)", key, min);
	*out = (int64_t)j->valuedouble;
	return 1;
}

/* list_agents: limit (a page of at most that many agents) and after (the
 * last Endpoint ID of the previous page). */
static int parse_list_agents(const cJSON *root, struct uspctl_cmd *c, struct uspc_err *err)
{
	const char *after;
	int rc;
	if ((rc = read_int(root, "limit", 1, READS_MAX, &c->limit, err)) < 0 ||
	    (rc = read_string(root, "after", 0, &after, err)) < 0)
		return rc;
	if (after && (!eid_ok(after) || !usp_utf8_valid(after, strlen(after))))
		return uspc_err_set(err, USPCTL_E_BAD_FIELD,
				    "'after' must be an Endpoint ID (1 to %d bytes of UTF-8 "
				    "without spaces or control characters)",
				    USP_EID_MAX_LEN);
	return keep(&c->after, after, err);
}

/* notifications: kind, path (a prefix), since / until (seconds ago),
 * before / after (ids), limit. */
static int parse_notifications(const cJSON *root, struct uspctl_cmd *c, struct uspc_err *err)
{
	static const char *const kinds[] = { "event",
					     "value_change",
					     "obj_creation",
					     "obj_deletion",
					     "oper_complete",
					     "on_board_req",
					     NULL };
	int rc;
	if ((rc = read_name(root, "kind", kinds,
			    "a notification kind: event, value_change, obj_creation, "
			    "obj_deletion, oper_complete or on_board_req",
			    &c->kind, err)) < 0 ||
	    (rc = read_text(root, "path", 1, 4096, &c->path_prefix, err)) < 0 ||
	    (rc = read_seconds(root, "since", &c->since_s, err)) < 0 ||
	    (rc = read_seconds(root, "until", &c->until_s, err)) < 0 ||
	    (rc = read_id64(root, "before", 1, &c->before, err)) < 0 ||
	    (rc = read_id64(root, "after", 0, &c->after_id, err)) < 0 ||
	    (rc = read_int(root, "limit", 1, READS_MAX, &c->limit, err)) < 0)
		return rc;
	if (c->since_s > 0 && c->until_s >= c->since_s)
		return uspc_err_set(err, USPCTL_E_BAD_FIELD,
				    "'until' must be fewer seconds ago than 'since'");
	return 0;
}

/* task_list: state, task_op (a USP request type, as tasks.op holds it),
 * batch, before (a task id), limit. */
static int parse_task_list(const cJSON *root, struct uspctl_cmd *c, struct uspc_err *err)
{
	static const char *const states[] = { "queued",  "sent",     "done",    "failed",
					      "expired", "canceled", "unknown", NULL };
	const char *op;
	int rc;
	if ((rc = read_name(root, "state", states,
			    "a task state: queued, sent, done, failed, expired, canceled or "
			    "unknown",
			    &c->task_state, err)) < 0 ||
	    (rc = read_string(root, "task_op", 0, &op, err)) < 0 ||
	    (rc = read_text(root, "batch", 1, 256, &c->batch, err)) < 0 ||
	    (rc = read_id64(root, "before", 1, &c->before, err)) < 0 ||
	    (rc = read_int(root, "limit", 1, READS_MAX, &c->limit, err)) < 0)
		return rc;
	for (size_t i = 0; op && i < USPCTL_OP_COUNT_; i++)
		if (op_rows[i].usp && !strcmp(op_rows[i].usp_type, op))
			return keep(&c->task_op, op, err);
	if (op)
		return uspc_err_set(err, USPCTL_E_BAD_FIELD,
				    "'task_op' must be a request type: get, set, add, delete, "
				    "operate, get_supported_dm, get_instances, "
				    "get_supported_protocol, set_attributes or get_attributes");
	return 0;
}

/* operation_results: command_key ("" finds results without one), limit. */
static int parse_operation_results(const cJSON *root, struct uspctl_cmd *c, struct uspc_err *err)
{
	int rc;
	if ((rc = read_text(root, "command_key", 0, COMMAND_KEY_MAX, &c->command_key, err)) < 0 ||
	    (rc = read_int(root, "limit", 1, READS_MAX, &c->limit, err)) < 0)
		return rc;
	return 0;
}

/* ---- token ops ------------------------------------------------------------------ */

#define TOKEN_NAME_MAX 64                     /* STORE_TOKEN_NAME_MAX */
#define TOKEN_EXPIRES_MAX (10L * 365 * 86400) /* STORE_TOKEN_EXPIRES_MAX */

static int token_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > TOKEN_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return 0;
	return 1;
}

/* token_create {name, role, expires}, token_list {}, token_revoke
 * {token_id | name}; none takes the common options. */
static int parse_token(const cJSON *root, struct uspctl_cmd *c, struct uspc_err *err)
{
	static const char *const create[] = { "name", "role", "expires", NULL };
	static const char *const revoke[] = { "token_id", "name", NULL };
	static const char *const none[] = { NULL };
	static const char *const roles[] = { "viewer", "operator", "admin", NULL };
	const char *op = uspctl_op_name(c->op);
	const char *name = NULL;
	switch (c->op) {
	case USPCTL_OP_TOKEN_CREATE:
		if (only_fields(root, create, op, err) < 0 ||
		    read_string(root, "name", 1, &name, err) < 0 ||
		    read_int(root, "expires", 1, TOKEN_EXPIRES_MAX, &c->token_expires_s, err) < 0)
			return err->code;
		if (!cJSON_GetObjectItemCaseSensitive(root, "role"))
			return uspc_err_set(err, USPCTL_E_BAD_FIELD,
					    "missing field 'role' (viewer, operator or admin)");
		if (read_name(root, "role", roles, "viewer, operator or admin", &c->token_role,
			      err) < 0)
			return err->code;
		break;
	case USPCTL_OP_TOKEN_REVOKE:
		if (only_fields(root, revoke, op, err) < 0 ||
		    read_id64(root, "token_id", 1, &c->token_id, err) < 0 ||
		    read_string(root, "name", 0, &name, err) < 0)
			return err->code;
		if (!c->token_id == !name)
			return uspc_err_set(err, USPCTL_E_BAD_FIELD,
					    "op 'token_revoke' takes one of 'token_id' and 'name'");
		break;
	default:
		return only_fields(root, none, op, err);
	}
	if (name && !token_name_ok(name))
		return uspc_err_set(err, USPCTL_E_BAD_FIELD,
				    "'name' must be a token name: 1 to %d characters of A-Z a-z "
				    "0-9 _ . -",
				    TOKEN_NAME_MAX);
	return keep(&c->token_name, name, err);
}

/* "campaign": an id (a positive integer) or a name (a string). */
static int read_campaign(const cJSON *root, struct uspctl_cmd *c, struct uspc_err *err)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, "campaign");
	if (!j)
		return uspc_err_set(err, USPCTL_E_BAD_FIELD,
				    "missing field 'campaign' (a campaign id or name)");
	if (cJSON_IsNumber(j) && isfinite(j->valuedouble) &&
	    j->valuedouble == floor(j->valuedouble) && j->valuedouble >= 1 &&
	    j->valuedouble < 9e15) {
		c->campaign_id = (int64_t)j->valuedouble;
		return 0;
	}
	if (cJSON_IsString(j) && j->valuestring[0] && strlen(j->valuestring) <= FLEET_NAME_MAX &&
	    usp_utf8_valid(j->valuestring, strlen(j->valuestring))) {
		if (!(c->campaign_name = strdup(j->valuestring)))
			return uspc_err_set(err, USPCTL_E_INTERNAL, "out of memory");
		return 0;
	}
	return uspc_err_set(err, USPCTL_E_BAD_FIELD,
			    "'campaign' must be a campaign id (a positive integer) or a name");
}

static int read_device_filters(const cJSON *root, struct uspctl_cmd *c, struct uspc_err *err)
{
	const char *state, *reason;
	long wave = 0, limit = 0;
	enum fleet_dev_state st;
	int rc;
	if ((rc = read_string(root, "state", 0, &state, err)) < 0 ||
	    (rc = read_string(root, "reason", 0, &reason, err)) < 0 ||
	    (rc = read_int(root, "wave", 1, FLEET_WAVES_MAX, &wave, err)) < 0 ||
	    (rc = read_int(root, "limit", 1, CAMPAIGN_DEVICES_MAX, &limit, err)) < 0)
		return rc;
	if (state && fleet_dev_state_parse(state, &st) < 0)
		return uspc_err_set(err, USPCTL_E_BAD_FIELD,
				    "'state' must be a device state: pending, downloading, "
				    "downloaded, activating, rebooting, verifying, succeeded, "
				    "failed, timed_out, skipped or canceled");
	if (reason &&
	    (!reason[0] || strlen(reason) > 128 || !usp_utf8_valid(reason, strlen(reason))))
		return uspc_err_set(err, USPCTL_E_BAD_FIELD,
				    "'reason' must be a string of 1 to 128 characters");
	if ((state && !(c->dev_state = strdup(state))) ||
	    (reason && !(c->dev_reason = strdup(reason))))
		return uspc_err_set(err, USPCTL_E_INTERNAL, "out of memory");
	c->dev_wave = (int)wave;
	c->dev_limit = limit;
	return 0;
}

/* campaign_create / campaign_plan: the definition's fields at the top
 * level of the line, beside id, op and targets. */
static int read_definition(const cJSON *root, struct uspctl_cmd *c, struct uspc_err *err)
{
	static const char *const ignore[] = { "id", "op", "targets", NULL };
	if (read_targets(root, &c->targets, err) < 0)
		return err->code;
	if (!c->targets.given)
		return uspc_err_set(err, USPCTL_E_BAD_TARGETS, "op '%s' needs 'targets'",
				    uspctl_op_name(c->op));
	if (c->targets.online >= 0)
		return uspc_err_set(err, USPCTL_E_BAD_TARGETS,
				    "a campaign's targets do not take 'online': offline devices "
				    "are targets too and wait in their wave");
	if (!(c->spec = malloc(sizeof(*c->spec))))
		return uspc_err_set(err, USPCTL_E_INTERNAL, "out of memory");
	fleet_spec_init(c->spec);
	return fleet_spec_parse(root, ignore, c->spec, err);
}

static int parse_campaign(const cJSON *root, struct uspctl_cmd *c, struct uspc_err *err)
{
	static const char *const ref[] = { "campaign", NULL };
	static const char *const devices[] = {
		"campaign", "state", "reason", "wave", "limit", NULL
	};
	static const char *const versions[] = { "targets", NULL };
	static const char *const none[] = { NULL };
	const char *op = uspctl_op_name(c->op);
	switch (c->op) {
	case USPCTL_OP_CAMPAIGN_CREATE:
	case USPCTL_OP_CAMPAIGN_PLAN:
		return read_definition(root, c, err);
	case USPCTL_OP_CAMPAIGN_LIST:
		return only_fields(root, none, op, err);
	case USPCTL_OP_FLEET_VERSIONS:
		if (only_fields(root, versions, op, err) < 0 ||
		    read_targets(root, &c->targets, err) < 0)
			return err->code;
		return 0;
	case USPCTL_OP_CAMPAIGN_DEVICES:
		if (only_fields(root, devices, op, err) < 0 || read_campaign(root, c, err) < 0 ||
		    read_device_filters(root, c, err) < 0)
			return err->code;
		return 0;
	default:
		if (only_fields(root, ref, op, err) < 0 || read_campaign(root, c, err) < 0)
			return err->code;
		return 0;
	}
}

/* ---- profile ops ------------------------------------------------------------- */

static int read_flag(const cJSON *root, const char *key, int *out, struct uspc_err *err)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, key);
	if (!j)
		return 0;
	if (!cJSON_IsBool(j))
		return uspc_err_set(err, USPCTL_E_BAD_FIELD, "'%s' must be true or false", key);
	*out = cJSON_IsTrue(j);
	return 0;
}

/* "name": a profile's name (the definition parser checks it further for
 * profile_put / profile_plan). */
static int read_profile_name(const cJSON *root, struct uspctl_cmd *c, struct uspc_err *err)
{
	const char *name;
	int rc = read_string(root, "name", 1, &name, err);
	if (rc < 0)
		return rc;
	if (!name[0] || strlen(name) > PROF_NAME_MAX)
		return uspc_err_set(err, USPCTL_E_BAD_FIELD,
				    "'name' must be a profile name of 1 to %d characters",
				    PROF_NAME_MAX);
	if (!(c->profile = strdup(name)))
		return uspc_err_set(err, USPCTL_E_INTERNAL, "out of memory");
	return 0;
}

static int parse_profile(const cJSON *root, struct uspctl_cmd *c, struct uspc_err *err)
{
	static const char *const put[] = { NULL }; /* checked by the definition parser */
	static const char *const named[] = { "name", NULL };
	static const char *const reconcile[] = { "name", "targets", "write_only", "reset_contested",
						 NULL };
	static const char *const history[] = { "targets", "name", "limit", NULL };
	static const char *const paths[] = { "targets", "path", NULL };
	static const char *const vars[] = { "targets", "vars", NULL };
	static const char *const none[] = { NULL };
	const char *op = uspctl_op_name(c->op);
	const char *path = NULL;
	long sample = -1, limit = 0;
	double timeout = -1;
	(void)put;
	if (!(c->line = cJSON_Duplicate(root, 1)))
		return uspc_err_set(err, USPCTL_E_INTERNAL, "out of memory");
	switch (c->op) {
	case USPCTL_OP_PROFILE_PUT:
	case USPCTL_OP_PROFILE_PLAN:
		if (read_flag(root, "allow_empty", &c->allow_empty, err) < 0 ||
		    read_int(root, "sample", 0, 50 /* PROFILE_PLAN_SAMPLE_MAX */, &sample, err) <
			    0 ||
		    read_seconds(root, "timeout", &timeout, err) < 0)
			return err->code;
		if (c->op == USPCTL_OP_PROFILE_PUT &&
		    (cJSON_GetObjectItemCaseSensitive(root, "sample") ||
		     cJSON_GetObjectItemCaseSensitive(root, "timeout")))
			return uspc_err_set(err, USPCTL_E_BAD_FIELD,
					    "op 'profile_put' does not take 'sample' or 'timeout'");
		c->sample = sample;
		c->timeout_s = timeout;
		return 0;
	case USPCTL_OP_PROFILE_LIST:
		return only_fields(root, none, op, err);
	case USPCTL_OP_PROFILE_STATUS:
	case USPCTL_OP_PROFILE_DELETE:
		if (only_fields(root, named, op, err) < 0 || read_profile_name(root, c, err) < 0)
			return err->code;
		return 0;
	case USPCTL_OP_PROFILE_RECONCILE:
		if (only_fields(root, reconcile, op, err) < 0 ||
		    read_profile_name(root, c, err) < 0 ||
		    read_targets(root, &c->targets, err) < 0 ||
		    read_flag(root, "write_only", &c->write_only, err) < 0 ||
		    read_flag(root, "reset_contested", &c->reset_contested, err) < 0)
			return err->code;
		return 0;
	case USPCTL_OP_PROFILE_HISTORY:
		if (only_fields(root, history, op, err) < 0 ||
		    read_targets(root, &c->targets, err) < 0 ||
		    read_int(root, "limit", 1, 10000 /* PROFILE_HISTORY_MAX */, &limit, err) < 0)
			return err->code;
		if (cJSON_GetObjectItemCaseSensitive(root, "name") &&
		    read_profile_name(root, c, err) < 0)
			return err->code;
		c->limit = limit;
		break;
	case USPCTL_OP_PROFILE_PATHS:
		if (only_fields(root, paths, op, err) < 0 ||
		    read_targets(root, &c->targets, err) < 0 ||
		    read_string(root, "path", 0, &path, err) < 0)
			return err->code;
		if (path && (strlen(path) > 4096 || !usp_utf8_valid(path, strlen(path))))
			return uspc_err_set(err, USPCTL_E_BAD_FIELD,
					    "'path' must be a path prefix of at most 4096 bytes");
		if (path && !(c->path_prefix = strdup(path)))
			return uspc_err_set(err, USPCTL_E_INTERNAL, "out of memory");
		break;
	case USPCTL_OP_PROFILE_VARS: {
		if (only_fields(root, vars, op, err) < 0 ||
		    read_targets(root, &c->targets, err) < 0)
			return err->code;
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "vars");
		if (!cJSON_IsObject(v))
			return uspc_err_set(err, USPCTL_E_BAD_FIELD,
					    "'vars' must be an object of variable names and string "
					    "values");
		if (c->targets.n_eids != 1)
			return uspc_err_set(err, USPCTL_E_BAD_TARGETS,
					    "op 'profile_vars' takes one Endpoint ID in 'targets'");
		break;
	}
	default:
		return uspc_err_set(err, USPCTL_E_UNKNOWN_OP, "op is not a profile op");
	}
	if (!c->targets.given)
		return uspc_err_set(err, USPCTL_E_BAD_TARGETS, "op '%s' needs 'targets'", op);
	return 0;
}

/* Fields each op takes besides the common ones. */
static const char *const *op_fields(enum uspctl_op op)
{
	static const char *const get[] = { "paths", "max_depth", NULL };
	static const char *const set[] = { "params", "allow_partial", "required", NULL };
	static const char *const add[] = { "objects",       "path",     "params",
					   "allow_partial", "required", NULL };
	static const char *const del[] = { "paths", "allow_partial", NULL };
	static const char *const operate[] = { "command",   "command_key",   "args",
					       "send_resp", "wait_complete", NULL };
	static const char *const gsdm[] = { "paths",
					    "first_level_only",
					    "return_commands",
					    "return_events",
					    "return_params",
					    "return_unique_key_sets",
					    NULL };
	static const char *const gi[] = { "paths", "first_level_only", NULL };
	static const char *const gsp[] = { "versions", NULL };
	static const char *const sub[] = { "subscription_id", "notif_type",  "reference_list",
					   "persistent",      "notif_retry", NULL };
	static const char *const unsub[] = { "subscription_id", NULL };
	static const char *const tags[] = { "tags", NULL };
	static const char *const snap[] = { "paths", NULL };
	static const char *const tasks[] = { "tasks", NULL };
	static const char *const rejections[] = { "sender", "reason", "since", "limit", NULL };
	static const char *const agents[] = { "limit", "after", NULL };
	static const char *const notifications[] = { "kind",   "path",  "since", "until",
						     "before", "after", "limit", NULL };
	static const char *const task_list[] = { "state",  "task_op", "batch",
						 "before", "limit",   NULL };
	static const char *const op_results[] = { "command_key", "limit", NULL };
	static const char *const set_attr[] = { "attributes", NULL };
	static const char *const get_attr[] = { "paths", NULL };
	static const char *const none[] = { NULL };
	switch (op) {
	case USPCTL_OP_GET:
		return get;
	case USPCTL_OP_SET:
		return set;
	case USPCTL_OP_ADD:
		return add;
	case USPCTL_OP_DELETE:
		return del;
	case USPCTL_OP_OPERATE:
		return operate;
	case USPCTL_OP_GET_SUPPORTED_DM:
		return gsdm;
	case USPCTL_OP_GET_INSTANCES:
		return gi;
	case USPCTL_OP_GET_SUPPORTED_PROTOCOL:
		return gsp;
	case USPCTL_OP_SET_ATTRIBUTES:
		return set_attr;
	case USPCTL_OP_GET_ATTRIBUTES:
		return get_attr;
	case USPCTL_OP_SUBSCRIBE:
		return sub;
	case USPCTL_OP_UNSUBSCRIBE:
		return unsub;
	case USPCTL_OP_TAG:
	case USPCTL_OP_UNTAG:
		return tags;
	case USPCTL_OP_SNAPSHOT:
		return snap;
	case USPCTL_OP_TASK_STATUS:
	case USPCTL_OP_CANCEL:
		return tasks;
	case USPCTL_OP_REJECTIONS:
		return rejections;
	case USPCTL_OP_LIST_AGENTS:
		return agents;
	case USPCTL_OP_NOTIFICATIONS:
		return notifications;
	case USPCTL_OP_TASK_LIST:
		return task_list;
	case USPCTL_OP_OPERATION_RESULTS:
		return op_results;
	default:
		return none;
	}
}

static int build_usp_args(const cJSON *root, struct uspctl_cmd *c, struct uspc_err *err)
{
	static const char *const gsdm_flags[] = { "first_level_only",       "return_commands",
						  "return_events",          "return_params",
						  "return_unique_key_sets", NULL };
	static const char *const partial[] = { "allow_partial", NULL };
	static const char *const first_level[] = { "first_level_only", NULL };
	cJSON *args = cJSON_CreateObject();
	int rc;
	c->usp_args = args;
	switch (c->op) {
	case USPCTL_OP_GET: {
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "max_depth");
		if (d && (!cJSON_IsNumber(d) || d->valuedouble < 0 || d->valuedouble > 1000 ||
			  d->valuedouble != floor(d->valuedouble)))
			return uspc_err_set(err, USPCTL_E_BAD_FIELD,
					    "'max_depth' must be a whole number from 0 to 1000");
		if (d)
			cJSON_AddNumberToObject(args, "max_depth", d->valuedouble);
		return paths_into(root, args, "param_paths", -1, err);
	}
	case USPCTL_OP_SET:
		rc = copy_flags(root, args, partial, err);
		return rc < 0 ? rc : op_set(root, args, err);
	case USPCTL_OP_ADD:
		rc = copy_flags(root, args, partial, err);
		return rc < 0 ? rc : op_add(root, args, err);
	case USPCTL_OP_DELETE:
		rc = copy_flags(root, args, partial, err);
		return rc < 0 ? rc : paths_into(root, args, "obj_paths", USP_PATH_OBJECT, err);
	case USPCTL_OP_OPERATE:
		return op_operate(root, args, c, err);
	case USPCTL_OP_GET_SUPPORTED_DM:
		rc = copy_flags(root, args, gsdm_flags, err);
		return rc < 0 ? rc : gsdm_paths(root, args, err);
	case USPCTL_OP_GET_INSTANCES:
		rc = copy_flags(root, args, first_level, err);
		return rc < 0 ? rc : paths_into(root, args, "obj_paths", USP_PATH_OBJECT, err);
	case USPCTL_OP_GET_SUPPORTED_PROTOCOL: {
		const char *v;
		if ((rc = read_string(root, "versions", 0, &v, err)) < 0)
			return rc;
		cJSON_AddStringToObject(args, "controller_supported_protocol_versions",
					v ? v : "1.0,1.1,1.2,1.3,1.4");
		return 0;
	}
	case USPCTL_OP_SUBSCRIBE:
		return op_subscribe(root, args, err);
	case USPCTL_OP_UNSUBSCRIBE:
		return op_unsubscribe(root, args, err);
	case USPCTL_OP_SET_ATTRIBUTES:
		return op_set_attributes(root, args, err);
	case USPCTL_OP_GET_ATTRIBUTES:
		return paths_into(root, args, "param_paths", -1, err);
	default:
		return uspc_err_set(err, USPCTL_E_INTERNAL, "op '%s' has no USP request",
				    uspctl_op_name(c->op));
	}
}

static int read_id(const cJSON *root, struct uspctl_cmd *c, struct uspc_err *err)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "id");
	if (!id)
		return uspc_err_set(err, USPCTL_E_BAD_FIELD, "missing field 'id'");
	if (cJSON_IsNumber(id) && id->valuedouble == floor(id->valuedouble) &&
	    fabs(id->valuedouble) < 9e15) {
		snprintf(c->id, sizeof(c->id), "%.0f", id->valuedouble);
		return 0;
	}
	if (!cJSON_IsString(id) || !id->valuestring[0] || strlen(id->valuestring) > USPCTL_ID_MAX)
		return uspc_err_set(
			err, USPCTL_E_BAD_FIELD,
			"'id' must be a non-empty string of at most %d bytes or an integer",
			USPCTL_ID_MAX);
	snprintf(c->id, sizeof(c->id), "%s", id->valuestring);
	return 0;
}

static int read_op(const cJSON *root, struct uspctl_cmd *c, struct uspc_err *err)
{
	const cJSON *op = cJSON_GetObjectItemCaseSensitive(root, "op");
	if (!cJSON_IsString(op))
		return uspc_err_set(err, USPCTL_E_UNKNOWN_OP, "missing or non-string field 'op'");
	for (int i = 0; i < USPCTL_OP_COUNT_; i++) {
		if (strcmp(op_rows[i].name, op->valuestring) == 0) {
			c->op = (enum uspctl_op)i;
			c->usp_type = op_rows[i].usp_type;
			return 0;
		}
	}
	return uspc_err_set(err, USPCTL_E_UNKNOWN_OP, "unknown op '%.64s'", op->valuestring);
}

static int needs_targets(enum uspctl_op op)
{
	return uspctl_op_is_usp(op) || op == USPCTL_OP_SHOW_AGENT || op == USPCTL_OP_TAG ||
	       op == USPCTL_OP_UNTAG || op == USPCTL_OP_SNAPSHOT;
}

/* Fleet ops whose targets are optional (default: every agent). */
static int may_target(enum uspctl_op op)
{
	return op == USPCTL_OP_LIST_AGENTS || op == USPCTL_OP_NOTIFICATIONS ||
	       op == USPCTL_OP_TASK_LIST || op == USPCTL_OP_OPERATION_RESULTS;
}

static int parse_fields(const cJSON *root, struct uspctl_cmd *c, struct uspc_err *err)
{
	struct uspc_err id_err = { 0 };
	int id_rc = read_id(root, c, &id_err);
	int op_rc = read_op(root, c, err);
	/* "id" is optional for the campaign, profile and token ops (one line
	 * each, no agents) */
	if (id_rc < 0 && (op_rc < 0 ||
			  !(uspctl_op_is_campaign(c->op) || uspctl_op_is_profile(c->op) ||
			    uspctl_op_is_token(c->op)) ||
			  cJSON_GetObjectItemCaseSensitive(root, "id"))) {
		*err = id_err;
		return err->code;
	}
	if (op_rc < 0)
		return op_rc;
	if (uspctl_op_is_campaign(c->op)) {
		int rc = parse_campaign(root, c, err);
		return rc < 0 ? (err->code < 0 ? err->code : rc) : 0;
	}
	if (uspctl_op_is_profile(c->op)) {
		int rc = parse_profile(root, c, err);
		return rc < 0 ? (err->code < 0 ? err->code : rc) : 0;
	}
	if (uspctl_op_is_token(c->op)) {
		int rc = parse_token(root, c, err);
		return rc < 0 ? (err->code < 0 ? err->code : rc) : 0;
	}
	if (check_fields(root, op_fields(c->op), uspctl_op_name(c->op), err) < 0 ||
	    read_targets(root, &c->targets, err) < 0 ||
	    read_bool(root, "wait", &c->wait, err) < 0 ||
	    read_seconds(root, "timeout", &c->timeout_s, err) < 0 ||
	    read_seconds(root, "expires", &c->expires_s, err) < 0 ||
	    read_max_inflight(root, &c->max_inflight, err) < 0)
		return err->code;
	if (needs_targets(c->op) && !c->targets.given)
		return uspc_err_set(err, USPCTL_E_BAD_TARGETS, "op '%s' needs 'targets'",
				    uspctl_op_name(c->op));
	if (!needs_targets(c->op) && !may_target(c->op) && c->targets.given)
		return uspc_err_set(err, USPCTL_E_BAD_FIELD, "op '%s' does not take 'targets'",
				    uspctl_op_name(c->op));
	switch (c->op) {
	case USPCTL_OP_TAG:
	case USPCTL_OP_UNTAG:
		return read_string_list(root, "tags", c, err) < 0 ? err->code : 0;
	case USPCTL_OP_TASK_STATUS:
	case USPCTL_OP_CANCEL:
		return read_string_list(root, "tasks", c, err) < 0 ? err->code : 0;
	case USPCTL_OP_SNAPSHOT:
		if (cJSON_GetObjectItemCaseSensitive(root, "paths") &&
		    read_string_list(root, "paths", c, err) < 0)
			return err->code;
		return 0;
	case USPCTL_OP_REJECTIONS:
		return parse_rejections(root, c, err) < 0 ? err->code : 0;
	case USPCTL_OP_LIST_AGENTS:
		return parse_list_agents(root, c, err) < 0 ? err->code : 0;
	case USPCTL_OP_NOTIFICATIONS:
		return parse_notifications(root, c, err) < 0 ? err->code : 0;
	case USPCTL_OP_TASK_LIST:
		return parse_task_list(root, c, err) < 0 ? err->code : 0;
	case USPCTL_OP_OPERATION_RESULTS:
		return parse_operation_results(root, c, err) < 0 ? err->code : 0;
	default:
		break;
	}
	if (!uspctl_op_is_usp(c->op))
		return 0;
	if (build_usp_args(root, c, err) < 0)
		return err->code < 0 ? err->code : USPCTL_E_BAD_FIELD;
	/* TR-069 requests have no USP message to check them against. */
	if (c->op == USPCTL_OP_SET_ATTRIBUTES || c->op == USPCTL_OP_GET_ATTRIBUTES)
		return 0;
	Usp__Msg *msg = NULL;
	struct uspc_err jerr;
	if (usp_json_build_request(c->usp_type, c->usp_args, "validate", &msg, &jerr) < 0)
		return uspc_err_set(err, USPCTL_E_BAD_FIELD, "request does not build: %s",
				    jerr.msg);
	usp_msg_free(msg);
	return 0;
}

int uspctl_cmd_parse(const char *line, size_t len, struct uspctl_cmd *c, struct uspc_err *err)
{
	struct uspc_err local;
	if (!err)
		err = &local;
	uspc_err_clear(err);
	uspctl_cmd_init(c);
	if (len > USPCTL_LINE_MAX)
		return uspc_err_set(err, USPCTL_E_LINE_TOO_LONG, "line longer than %d bytes",
				    USPCTL_LINE_MAX);
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(line, len, &end, 0);
	if (!root)
		return uspc_err_set(err, USPCTL_E_MALFORMED_JSON, "malformed JSON near byte %ld",
				    (long)((end ? end : cJSON_GetErrorPtr()) - line));
	for (const char *p = end; p && p < line + len; p++) {
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
			cJSON_Delete(root);
			return uspc_err_set(err, USPCTL_E_MALFORMED_JSON,
					    "trailing text after the JSON object at byte %ld",
					    (long)(p - line));
		}
	}
	int rc = 0;
	if (!cJSON_IsObject(root))
		rc = uspc_err_set(err, USPCTL_E_MALFORMED_JSON, "a command must be a JSON object");
	else
		rc = parse_fields(root, c, err);
	cJSON_Delete(root);
	if (rc < 0) {
		char id[sizeof(c->id)];
		memcpy(id, c->id, sizeof(id));
		uspctl_cmd_fini(c);
		memcpy(c->id, id, sizeof(id));
	}
	return rc;
}
