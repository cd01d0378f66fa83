/*
 * profile_spec.c — parse, validate and normalise a provisioning profile's
 * definition (profile_spec.h), write it back as JSON, and list the paths
 * it writes and the variables it reads. The selector is profile_sel.c's,
 * the value templates profile_tpl.c's. Pure: no I/O, no globals, any
 * thread; owns nothing between calls.
 *
 * Invariants of a parsed spec (profile_run.c relies on them):
 *   - "set" names are parameter paths without wildcard or search; tables
 *     end in a name and '.'; commands end in "()"; none holds a template;
 *   - every value's text is UTF-8 of at most PROF_VALUE_MAX bytes whose
 *     templates are all known names;
 *   - key and match values hold no '"', '\' nor %22/%25, so that
 *     "<table>[K==\"v\"]." written verbatim is a valid search path that
 *     means v;
 *   - every path of prof_spec_paths parses with usp_path_parse (a
 *     notification's once PROF_ATTR_SUFFIX is cut), there are at most
 *     PROF_PATHS_MAX, and the parameter paths (those not ending in '.')
 *     are distinct;
 *   - notification values are PROF_V_NUMBER "0".."6".
 * Messages name the field as "steps[2].ensure_instance.table: ..." with
 * 1-based step numbers, and show untrusted text cut and made printable.
 */
#include "profile_spec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile_spec_internal.h"
#include "usp_path.h"
#include "usp_utf8.h"

#define BAD(err, ...) uspc_err_set((err), USPCTL_E_BAD_FIELD, __VA_ARGS__)
#define BADPATH(err, ...) uspc_err_set((err), USPCTL_E_INVALID_PATH, __VA_ARGS__)
#define NOMEM(err) uspc_err_set((err), USPCTL_E_INTERNAL, "out of memory")

#define PRE_MAX 64 /* "steps[64].ensure_instance." */

void prof_spec_init(struct prof_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->mode = PROF_ENFORCE;
	s->triggers = PROF_T_DEFAULT;
}

static void free_params(struct prof_param *p, size_t n)
{
	for (size_t i = 0; p && i < n; i++) {
		free(p[i].name);
		free(p[i].v.text);
	}
	free(p);
}

void prof_spec_fini(struct prof_spec *s)
{
	for (size_t i = 0; s->steps && i < s->n_steps; i++) {
		struct prof_step *st = &s->steps[i];
		free(st->table);
		free(st->command);
		free_params(st->keys, st->n_keys);
		free_params(st->params, st->n_params);
		free_params(st->args, st->n_args);
	}
	free(s->steps);
	for (size_t i = 0; i < s->n_where; i++) {
		free(s->where[i].path);
		free(s->where[i].value);
	}
	cJSON_Delete(s->selector);
	prof_spec_init(s);
}

/* ---- small readers -------------------------------------------------------- */

/* s for a message: at most PROF_SHOW_MAX bytes cut at a character boundary,
 * what is not printable UTF-8 as '?', "..." when cut. */
const char *prof_show(const char *s, char buf[PROF_SHOW_BUF])
{
	size_t o = 0, len = strlen(s);
	for (size_t i = 0; i < len;) {
		size_t n = usp_utf8_seq((const unsigned char *)s + i, len - i);
		unsigned char c = (unsigned char)s[i];
		if (o + (n ? n : 1) > PROF_SHOW_MAX) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (n == 0 || (n == 1 && (c < 0x20 || c == 0x7f))) {
			buf[o++] = '?';
			i += n ? n : 1;
		} else {
			memcpy(buf + o, s + i, n);
			o += n;
			i += n;
		}
	}
	buf[o] = '\0';
	return buf;
}

/* 1..max bytes of UTF-8 without control characters. */
int prof_text_ok(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max || !usp_utf8_valid(s, n))
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static int is_alpha_(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Every key of obj is in keys or ignore, and none is there twice. */
int prof_only_keys(const cJSON *obj, const char *pre, const char *const *keys,
		   const char *const *ignore, int code, struct uspc_err *err)
{
	char b[PROF_SHOW_BUF];
	for (const cJSON *f = obj->child; f; f = f->next) {
		int known = 0;
		for (size_t k = 0; keys[k] && !known; k++)
			known = strcmp(f->string, keys[k]) == 0;
		for (size_t k = 0; ignore && ignore[k] && !known; k++)
			known = strcmp(f->string, ignore[k]) == 0;
		if (!known)
			return uspc_err_set(err, code, "%s%s: unknown field", pre,
					    prof_show(f->string, b));
		for (const cJSON *g = f->next; g; g = g->next)
			if (strcmp(f->string, g->string) == 0)
				return uspc_err_set(err, code, "%s%s: given twice", pre,
						    prof_show(f->string, b));
	}
	return 0;
}

static const cJSON *item(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* An integer lo..hi, or absent (out untouched). */
static int get_int(const cJSON *obj, const char *key, const char *pre, int64_t lo, int64_t hi,
		   int64_t *out, struct uspc_err *err)
{
	const cJSON *j = item(obj, key);
	if (!j)
		return 0;
	double v = j->valuedouble;
	if (!cJSON_IsNumber(j) || !isfinite(v) || v != floor(v) || v < (double)lo || v > (double)hi)
		return BAD(err, "%s%s: must be an integer from %lld to %lld", pre, key,
			   (long long)lo, (long long)hi);
	*out = (int64_t)v;
	return 0;
}

static int get_bool(const cJSON *obj, const char *key, const char *pre, int *out,
		    struct uspc_err *err)
{
	const cJSON *j = item(obj, key);
	if (!j)
		return 0;
	if (!cJSON_IsBool(j))
		return BAD(err, "%s%s: must be true or false", pre, key);
	*out = cJSON_IsTrue(j);
	return 0;
}

/* Index of s in names (NULL-terminated), or -1. */
int prof_name_in(const char *s, const char *const *names)
{
	for (int i = 0; names[i]; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

/* Index of j's string in names, or -1. */
static int pick(const cJSON *j, const char *const *names)
{
	return cJSON_IsString(j) ? prof_name_in(j->valuestring, names) : -1;
}

/* ---- values and names ------------------------------------------------------ */

/* VALUE at pre+name into v (see profile_spec.h). */
static int parse_value(const cJSON *j, const char *pre, const char *name, struct prof_value *v,
		       struct uspc_err *err)
{
	static const char *const vkeys[] = { "value", "write_only", NULL };
	char b[PROF_SHOW_BUF], num[40], why[200], at[PRE_MAX + PROF_SHOW_BUF];
	const char *text;
	const cJSON *x = j;
	int rc;
	snprintf(at, sizeof(at), "%s%s", pre, prof_show(name, b));
	if (cJSON_IsObject(j)) {
		char sub[sizeof(at) + 1];
		snprintf(sub, sizeof(sub), "%s.", at);
		if ((rc = prof_only_keys(j, sub, vkeys, NULL, USPCTL_E_BAD_FIELD, err)) < 0 ||
		    (rc = get_bool(j, "write_only", sub, &v->write_only, err)) < 0)
			return rc;
		if (!(x = item(j, "value")))
			return BAD(err,
				   "%s: an object value needs \"value\": "
				   "{\"value\":..,\"write_only\":true}",
				   at);
	}
	if (cJSON_IsString(x)) {
		size_t n = strlen(x->valuestring);
		if (n > PROF_VALUE_MAX)
			return BAD(err, "%s: longer than %d bytes", at, PROF_VALUE_MAX);
		if (!usp_utf8_valid(x->valuestring, n))
			return BAD(err, "%s: not valid UTF-8", at);
		if ((rc = prof_tpl_check(x->valuestring, why, sizeof(why))) < 0)
			return BAD(err, "%s: %s", at, why);
		v->type = PROF_V_STRING;
		v->has_template = rc;
		text = x->valuestring;
	} else if (cJSON_IsBool(x)) {
		v->type = PROF_V_BOOL;
		text = cJSON_IsTrue(x) ? "true" : "false";
	} else if (cJSON_IsNumber(x) && isfinite(x->valuedouble)) {
		prof_num_text(x->valuedouble, num, sizeof(num));
		v->type = PROF_V_NUMBER;
		text = num;
	} else {
		return BAD(err,
			   "%s: must be a string, number or boolean, or "
			   "{\"value\":..,\"write_only\":true}",
			   at);
	}
	if (!(v->text = strdup(text)))
		return NOMEM(err);
	return 0;
}

/* A name relative to a row: segments [A-Za-z_][A-Za-z0-9_-]* joined by
 * '.', the first and last a name; with inst, instance numbers between. */
static int rel_name_ok(const char *s, int inst)
{
	size_t len = strlen(s);
	if (len == 0 || len > 256)
		return 0;
	for (const char *p = s;;) {
		const char *seg = p;
		if (is_alpha_(*p)) {
			while (is_alpha_(*p) || is_digit(*p) || *p == '-')
				p++;
		} else if (inst && p != s && *p >= '1' && *p <= '9') {
			while (is_digit(*p))
				p++;
			if (p - seg > 10 || strtoull(seg, NULL, 10) > UINT32_MAX || !*p)
				return 0; /* too large, or last */
		} else {
			return 0;
		}
		if (!*p)
			return 1;
		if (*p++ != '.')
			return 0;
	}
}

/* A full parameter path without wildcard or search. */
int prof_check_param_path(const char *t, const char *field, int code, struct uspc_err *err)
{
	char b[PROF_SHOW_BUF];
	struct usp_path p;
	struct uspc_err perr = { 0 };
	int rc = 0;
	if (strstr(t, "${"))
		return uspc_err_set(err, code, "%s: '%s': templates are only for values, not paths",
				    field, prof_show(t, b));
	if (usp_path_parse(t, &p, &perr) < 0)
		return uspc_err_set(err, code, "%s: '%s' is not a valid path: %s", field,
				    prof_show(t, b), perr.msg);
	if (p.kind == USP_PATH_OBJECT)
		rc = uspc_err_set(err, code, "%s: '%s' ends in '.': name a parameter", field,
				  prof_show(t, b));
	else if (p.kind != USP_PATH_PARAM)
		rc = uspc_err_set(err, code, "%s: '%s' is a command or event, not a parameter",
				  field, prof_show(t, b));
	else if (p.is_search)
		rc = uspc_err_set(err, code,
				  "%s: '%s' has a wildcard or search expression: name one "
				  "parameter",
				  field, prof_show(t, b));
	usp_path_fini(&p);
	return rc;
}

/* An object path naming one table: a name and '.' at its end. */
static int check_table(const char *t, const char *field, struct uspc_err *err)
{
	char b[PROF_SHOW_BUF];
	struct usp_path p;
	struct uspc_err perr = { 0 };
	int rc = 0;
	if (strstr(t, "${"))
		return BADPATH(err, "%s: '%s': templates are only for values, not table names",
			       field, prof_show(t, b));
	if (usp_path_parse(t, &p, &perr) < 0)
		return BADPATH(err, "%s: '%s' is not a valid path: %s", field, prof_show(t, b),
			       perr.msg);
	if (p.kind != USP_PATH_OBJECT)
		rc = BADPATH(err, "%s: '%s' must end in '.'", field, prof_show(t, b));
	else if (p.is_search)
		rc = BADPATH(err, "%s: '%s' has a wildcard or search expression: name one table",
			     field, prof_show(t, b));
	else if (p.n_segs < 2)
		rc = BADPATH(err, "%s: 'Device.' is the root, not a table", field);
	else if (p.segs[p.n_segs - 1].kind != USP_SEG_NAME)
		rc = BADPATH(err,
			     "%s: '%s' ends in an instance number: name the table (e.g. "
			     "'Device.WiFi.SSID.'), the keys find the row",
			     field, prof_show(t, b));
	usp_path_fini(&p);
	return rc;
}

/* A table path from obj[key] (required) into *out. */
static int get_table(const cJSON *obj, const char *pre, char **out, struct uspc_err *err)
{
	char field[PRE_MAX + 8];
	const cJSON *j = item(obj, "table");
	int rc;
	snprintf(field, sizeof(field), "%stable", pre);
	if (!j)
		return BAD(err, "%s: required (e.g. \"Device.WiFi.SSID.\")", field);
	if (!cJSON_IsString(j))
		return BAD(err, "%s: must be a string", field);
	if ((rc = check_table(j->valuestring, field, err)) < 0)
		return rc;
	return (*out = strdup(j->valuestring)) ? 0 : NOMEM(err);
}

/* What the names of a parameter object are. */
enum name_rule {
	NAME_PATH, /* "set": full parameter paths */
	NAME_REL,  /* keys, match, params: relative, no instance numbers */
	NAME_ARG,  /* operate args: relative, instance numbers allowed */
};

/* A key or match value must read the same inside "..." of a search path. */
static int key_value_ok(const char *v)
{
	for (const char *p = v; *p; p++)
		if (*p == '"' || *p == '\\' ||
		    (p[0] == '%' && p[1] == '2' && (p[2] == '2' || p[2] == '5')))
			return 0;
	return 1;
}

/* {NAME: VALUE, ...} with lo..hi entries at field (e.g.
 * "steps[1].ensure_instance.keys") into *out, counted in *n. */
static int parse_params(const cJSON *obj, const char *field, enum name_rule rule, size_t lo,
			size_t hi, int is_key, struct prof_param **out, size_t *n,
			struct uspc_err *err)
{
	char b[PROF_SHOW_BUF], pre[PRE_MAX + 2];
	int rc;
	if (!cJSON_IsObject(obj))
		return BAD(err, "%s: must be an object {NAME: VALUE, ...}", field);
	size_t count = (size_t)cJSON_GetArraySize(obj);
	if (count < lo || count > hi)
		return BAD(err, "%s: must have %zu to %zu entries (has %zu)", field, lo, hi, count);
	if (count && !(*out = calloc(count, sizeof(**out))))
		return NOMEM(err);
	snprintf(pre, sizeof(pre), "%s.", field);
	for (const cJSON *e = obj->child; e; e = e->next) {
		const char *name = e->string;
		for (const cJSON *g = obj->child; g != e; g = g->next)
			if (strcmp(g->string, name) == 0)
				return BAD(err, "%s: '%s' given twice", field, prof_show(name, b));
		if (rule == NAME_PATH) {
			if ((rc = prof_check_param_path(name, field, USPCTL_E_INVALID_PATH, err)) <
			    0)
				return rc;
		} else if (strstr(name, "${")) {
			return BADPATH(err, "%s: '%s': templates are only for values, not names",
				       field, prof_show(name, b));
		} else if (!rel_name_ok(name, rule == NAME_ARG)) {
			return BADPATH(err, "%s: '%s' is not a name relative to the %s (e.g. %s)",
				       field, prof_show(name, b),
				       rule == NAME_ARG ? "command" : "row",
				       rule == NAME_ARG ? "Cause or TimeWindow.1.Start"
							: "SSID or Security.KeyPassphrase");
		}
		struct prof_param *p = &(*out)[(*n)++];
		if (!(p->name = strdup(name)))
			return NOMEM(err);
		if ((rc = parse_value(e, pre, name, &p->v, err)) < 0)
			return rc;
		if (is_key && !key_value_ok(p->v.text))
			return BAD(err,
				   "%s%s: a key value cannot hold '\"', '\\' or %%22/%%25 (the row "
				   "is found with a USP search expression)",
				   pre, prof_show(name, b));
	}
	return 0;
}

/* The search path "<table>[K1==\"v1\"&&...].<param>" of a row's param. */
static char *search_path(const struct prof_step *st, const char *param)
{
	size_t len = strlen(st->table) + 3 + strlen(param) + 1, o = 0;
	for (size_t k = 0; k < st->n_keys; k++)
		len += strlen(st->keys[k].name) + 6 + strlen(st->keys[k].v.text);
	char *p = malloc(len);
	if (!p)
		return NULL;
#define PUT(s)                          \
	do {                            \
		size_t n_ = strlen(s);  \
		memcpy(p + o, (s), n_); \
		o += n_;                \
	} while (0)
	PUT(st->table);
	PUT("[");
	for (size_t k = 0; k < st->n_keys; k++) {
		if (k)
			PUT("&&");
		PUT(st->keys[k].name);
		PUT("==\"");
		PUT(st->keys[k].v.text);
		PUT("\"");
	}
	PUT("].");
	PUT(param);
#undef PUT
	p[o] = '\0';
	return p;
}

/* ---- steps ------------------------------------------------------------------ */

static int parse_set(const cJSON *j, const char *pre, struct prof_step *st, struct uspc_err *err)
{
	char field[PRE_MAX];
	snprintf(field, sizeof(field), "%.*s", (int)strlen(pre) - 1, pre);
	return parse_params(j, field, NAME_PATH, 1, PROF_PARAMS_MAX, 0, &st->params, &st->n_params,
			    err);
}

/* Every search path of an ensure_instance is a valid USP path (its
 * length and segment count are bounded). */
static int check_row_paths(const struct prof_step *st, const char *pre, struct uspc_err *err)
{
	char b[PROF_SHOW_BUF];
	for (size_t i = 0; i < st->n_params; i++) {
		struct usp_path up;
		struct uspc_err perr = { 0 };
		for (size_t k = 0; k < st->n_keys; k++)
			if (strcmp(st->params[i].name, st->keys[k].name) == 0)
				return BAD(err, "%sparams.%s: is also a key", pre,
					   prof_show(st->params[i].name, b));
		char *p = search_path(st, st->params[i].name);
		if (!p)
			return NOMEM(err);
		int rc = usp_path_parse(p, &up, &perr);
		usp_path_fini(&up);
		free(p);
		if (rc < 0)
			return BADPATH(err, "%sparams.%s: its search path is not a valid path: %s",
				       pre, prof_show(st->params[i].name, b), perr.msg);
	}
	return 0;
}

static int parse_ensure_instance(const cJSON *j, const char *pre, struct prof_step *st,
				 struct uspc_err *err)
{
	static const char *const keys[] = { "table", "keys", "params", NULL };
	char field[PRE_MAX + 8];
	int rc;
	if ((rc = prof_only_keys(j, pre, keys, NULL, USPCTL_E_BAD_FIELD, err)) < 0 ||
	    (rc = get_table(j, pre, &st->table, err)) < 0)
		return rc;
	snprintf(field, sizeof(field), "%skeys", pre);
	if (!item(j, "keys"))
		return BAD(err,
			   "%s: required: the unique keys that find the row, e.g. "
			   "{\"Alias\":\"guest\"}",
			   field);
	if ((rc = parse_params(item(j, "keys"), field, NAME_REL, 1, PROF_KEYS_MAX, 1, &st->keys,
			       &st->n_keys, err)) < 0)
		return rc;
	snprintf(field, sizeof(field), "%sparams", pre);
	if (item(j, "params") &&
	    (rc = parse_params(item(j, "params"), field, NAME_REL, 0, PROF_PARAMS_MAX, 0,
			       &st->params, &st->n_params, err)) < 0)
		return rc;
	return check_row_paths(st, pre, err);
}

static int parse_ensure_absent(const cJSON *j, const char *pre, struct prof_step *st,
			       struct uspc_err *err)
{
	static const char *const keys[] = { "table", "match", NULL };
	char field[PRE_MAX + 8];
	int rc;
	if ((rc = prof_only_keys(j, pre, keys, NULL, USPCTL_E_BAD_FIELD, err)) < 0 ||
	    (rc = get_table(j, pre, &st->table, err)) < 0)
		return rc;
	snprintf(field, sizeof(field), "%smatch", pre);
	if (!item(j, "match"))
		return BAD(err,
			   "%s: required: the values that find the rows to delete, e.g. "
			   "{\"Description\":\"telnet\"}",
			   field);
	return parse_params(item(j, "match"), field, NAME_REL, 1, PROF_KEYS_MAX, 1, &st->keys,
			    &st->n_keys, err);
}

static int parse_ensure_count(const cJSON *j, const char *pre, struct prof_step *st,
			      struct uspc_err *err)
{
	static const char *const keys[] = { "table", "min", "max", NULL };
	int rc;
	if ((rc = prof_only_keys(j, pre, keys, NULL, USPCTL_E_BAD_FIELD, err)) < 0 ||
	    (rc = get_table(j, pre, &st->table, err)) < 0)
		return rc;
	if (!item(j, "min") && !item(j, "max"))
		return BAD(err, "%.*s: give \"min\", \"max\" or both", (int)strlen(pre) - 1, pre);
	st->min = 0;
	st->max = PROF_COUNT_MAX;
	if ((rc = get_int(j, "min", pre, 0, PROF_COUNT_MAX, &st->min, err)) < 0 ||
	    (rc = get_int(j, "max", pre, 0, PROF_COUNT_MAX, &st->max, err)) < 0)
		return rc;
	if (st->max < st->min)
		return BAD(err, "%smax: %lld is less than min (%lld)", pre, (long long)st->max,
			   (long long)st->min);
	return 0;
}

static const char *const notif_types[] = { "ValueChange",       "ObjectCreation", "ObjectDeletion",
					   "OperationComplete", "Event",          NULL };
/* The Subscription row's parameters, in the order they are stored. */
static const char *const sub_params[] = { "NotifType", "ReferenceList", "Enable", "Persistent",
					  "NotifRetry" };
#define SUB_TABLE "Device.LocalAgent.Subscription."

/* A ReferenceList: comma-separated paths (wildcards and search allowed). */
static int check_reference_list(const char *t, const char *field, struct uspc_err *err)
{
	char b[PROF_SHOW_BUF], one[USP_PATH_MAX_LEN + 1];
	if (!prof_text_ok(t, 1024))
		return BAD(err, "%s: must be 1 to 1024 bytes of UTF-8 without control characters",
			   field);
	if (strstr(t, "${"))
		return BADPATH(err, "%s: templates are only for values, not paths", field);
	for (const char *p = t;;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		struct usp_path path;
		struct uspc_err perr = { 0 };
		while (n && *p == ' ')
			p++, n--;
		while (n && p[n - 1] == ' ')
			n--;
		snprintf(one, sizeof(one), "%.*s", (int)n, p);
		if (usp_path_parse(one, &path, &perr) < 0)
			return BADPATH(err, "%s: '%s' is not a valid path: %s", field,
				       prof_show(one, b), perr.msg);
		usp_path_fini(&path);
		if (!end)
			return 0;
		p = end + 1;
	}
}

static int add_sub_param(struct prof_step *st, const char *name, enum prof_vtype type,
			 const char *text, struct uspc_err *err)
{
	struct prof_param *p = &st->params[st->n_params++];
	p->v.type = type;
	if (!(p->name = strdup(name)) || !(p->v.text = strdup(text)))
		return NOMEM(err);
	return 0;
}

static int parse_subscribe(const cJSON *j, const char *pre, struct prof_step *st,
			   struct uspc_err *err)
{
	static const char *const keys[] = { "id",     "notif_type", "reference_list",
					    "enable", "persistent", "notif_retry",
					    NULL };
	const cJSON *id = item(j, "id"), *nt = item(j, "notif_type");
	const cJSON *rl = item(j, "reference_list");
	int flags[3] = { 1, 1, 0 }; /* enable, persistent, notif_retry */
	char field[PRE_MAX + 16];
	int rc;
	if ((rc = prof_only_keys(j, pre, keys, NULL, USPCTL_E_BAD_FIELD, err)) < 0 ||
	    (rc = get_bool(j, "enable", pre, &flags[0], err)) < 0 ||
	    (rc = get_bool(j, "persistent", pre, &flags[1], err)) < 0 ||
	    (rc = get_bool(j, "notif_retry", pre, &flags[2], err)) < 0)
		return rc;
	int idok =
		cJSON_IsString(id) && strlen(id->valuestring) >= 1 && strlen(id->valuestring) <= 64;
	for (const char *p = idok ? id->valuestring : ""; *p; p++)
		if (!is_alpha_(*p) && !is_digit(*p) && !strchr(".:-", *p))
			idok = 0;
	if (!idok)
		return BAD(err, "%sid: required: 1 to 64 characters of [A-Za-z0-9_.:-]", pre);
	if (pick(nt, notif_types) < 0)
		return BAD(err,
			   "%snotif_type: must be ValueChange, ObjectCreation, "
			   "ObjectDeletion, OperationComplete or Event",
			   pre);
	snprintf(field, sizeof(field), "%sreference_list", pre);
	if (!cJSON_IsString(rl))
		return BAD(err,
			   "%s: required: the paths to watch, e.g. "
			   "\"Device.WiFi.SSID.*.SSID\"",
			   field);
	if ((rc = check_reference_list(rl->valuestring, field, err)) < 0)
		return rc;
	if (!(st->table = strdup(SUB_TABLE)) || !(st->keys = calloc(1, sizeof(*st->keys))) ||
	    !(st->params = calloc(5, sizeof(*st->params))))
		return NOMEM(err);
	st->n_keys = 1;
	if (!(st->keys[0].name = strdup("ID")) || !(st->keys[0].v.text = strdup(id->valuestring)))
		return NOMEM(err);
	if ((rc = add_sub_param(st, sub_params[0], PROF_V_STRING, nt->valuestring, err)) < 0 ||
	    (rc = add_sub_param(st, sub_params[1], PROF_V_STRING, rl->valuestring, err)) < 0)
		return rc;
	for (int i = 0; i < 3; i++)
		if ((rc = add_sub_param(st, sub_params[2 + i], PROF_V_BOOL,
					flags[i] ? "true" : "false", err)) < 0)
			return rc;
	return 0;
}

static const char *const once_names[] = { "version", "boot", "firmware", NULL };

static int parse_operate(const cJSON *j, const char *pre, struct prof_step *st,
			 struct uspc_err *err)
{
	static const char *const keys[] = { "command", "args", "once_per", NULL };
	const cJSON *c = item(j, "command"), *once = item(j, "once_per");
	char field[PRE_MAX + 8], b[PROF_SHOW_BUF];
	struct usp_path p;
	struct uspc_err perr = { 0 };
	int rc;
	if ((rc = prof_only_keys(j, pre, keys, NULL, USPCTL_E_BAD_FIELD, err)) < 0)
		return rc;
	if (!cJSON_IsString(c))
		return BAD(err, "%scommand: required: a command path, e.g. \"Device.Reboot()\"",
			   pre);
	const char *t = c->valuestring;
	size_t n = strlen(t);
	if (strstr(t, "${"))
		return BADPATH(err, "%scommand: templates are only for values, not paths", pre);
	if (n < 2 || strcmp(t + n - 2, "()") != 0)
		return BADPATH(err, "%scommand: '%s' must end in \"()\"", pre, prof_show(t, b));
	if (usp_path_parse(t, &p, &perr) < 0)
		return BADPATH(err, "%scommand: '%s' is not a valid path: %s", pre, prof_show(t, b),
			       perr.msg);
	rc = p.is_search ? BADPATH(err,
				   "%scommand: '%s' has a wildcard or search expression: name "
				   "one command",
				   pre, prof_show(t, b))
			 : 0;
	usp_path_fini(&p);
	if (rc < 0)
		return rc;
	if (!(st->command = strdup(t)))
		return NOMEM(err);
	if (once && (rc = pick(once, once_names)) < 0)
		return BAD(err, "%sonce_per: must be \"version\", \"boot\" or \"firmware\"", pre);
	st->once_per = once ? (enum prof_once)rc : PROF_ONCE_VERSION;
	snprintf(field, sizeof(field), "%sargs", pre);
	if (item(j, "args"))
		return parse_params(item(j, "args"), field, NAME_ARG, 0, PROF_ARGS_MAX, 0,
				    &st->args, &st->n_args, err);
	return 0;
}

/* TR-069 notification attribute values (0..6); the first three by name. */
static const char *const notification_names[] = { "off", "passive", "active", NULL };

/* {"Device.X.Y": "off" | "passive" | "active" | 0..6, ...}: parameter
 * paths as for "set", each value kept as its number. */
static int parse_notification(const cJSON *j, const char *pre, struct prof_step *st,
			      struct uspc_err *err)
{
	char field[PRE_MAX], b[PROF_SHOW_BUF];
	int rc;
	snprintf(field, sizeof(field), "%.*s", (int)strlen(pre) - 1, pre);
	size_t count = (size_t)cJSON_GetArraySize(j);
	if (count < 1 || count > PROF_PARAMS_MAX)
		return BAD(err, "%s: must have 1 to %d entries (has %zu)", field, PROF_PARAMS_MAX,
			   count);
	if (!(st->params = calloc(count, sizeof(*st->params))))
		return NOMEM(err);
	for (const cJSON *e = j->child; e; e = e->next) {
		for (const cJSON *g = j->child; g != e; g = g->next)
			if (strcmp(g->string, e->string) == 0)
				return BAD(err, "%s: '%s' given twice", field,
					   prof_show(e->string, b));
		if ((rc = prof_check_param_path(e->string, field, USPCTL_E_INVALID_PATH, err)) < 0)
			return rc;
		int n = cJSON_IsString(e) ? pick(e, notification_names) : -1;
		if (cJSON_IsNumber(e) && e->valuedouble >= 0 && e->valuedouble <= 6 &&
		    e->valuedouble == (double)(int)e->valuedouble)
			n = (int)e->valuedouble;
		if (n < 0)
			return BAD(err,
				   "%s.%s: must be \"off\", \"passive\", \"active\" or a "
				   "TR-069 notification value 0 to 6",
				   field, prof_show(e->string, b));
		struct prof_param *p = &st->params[st->n_params++];
		char num[2] = { (char)('0' + n), '\0' };
		p->v.type = PROF_V_NUMBER;
		if (!(p->name = strdup(e->string)) || !(p->v.text = strdup(num)))
			return NOMEM(err);
	}
	return 0;
}

static const struct {
	const char *name;
	enum prof_step_kind kind;
	int (*parse)(const cJSON *, const char *, struct prof_step *, struct uspc_err *);
} step_kinds[] = {
	{ "set", PROF_STEP_SET, parse_set },
	{ "ensure_instance", PROF_STEP_ENSURE_INSTANCE, parse_ensure_instance },
	{ "ensure_absent", PROF_STEP_ENSURE_ABSENT, parse_ensure_absent },
	{ "ensure_count", PROF_STEP_ENSURE_COUNT, parse_ensure_count },
	{ "subscribe", PROF_STEP_SUBSCRIBE, parse_subscribe },
	{ "operate", PROF_STEP_OPERATE, parse_operate },
	{ "notification", PROF_STEP_NOTIFICATION, parse_notification },
};
#define N_KINDS (sizeof(step_kinds) / sizeof(step_kinds[0]))
#define KIND_LIST \
	"set, ensure_instance, ensure_absent, ensure_count, subscribe, operate or notification"

static int parse_step(const cJSON *j, size_t num, struct prof_step *st, struct uspc_err *err)
{
	char pre[PRE_MAX], b[PROF_SHOW_BUF];
	size_t k;
	if (!cJSON_IsObject(j) || !j->child || j->child->next)
		return BAD(err, "steps[%zu]: must be an object with one key: %s", num, KIND_LIST);
	for (k = 0; k < N_KINDS; k++)
		if (strcmp(j->child->string, step_kinds[k].name) == 0)
			break;
	if (k == N_KINDS)
		return BAD(err, "steps[%zu].%s: unknown step kind (%s)", num,
			   prof_show(j->child->string, b), KIND_LIST);
	st->kind = step_kinds[k].kind;
	snprintf(pre, sizeof(pre), "steps[%zu].%s.", num, step_kinds[k].name);
	if (st->kind != PROF_STEP_SET && !cJSON_IsObject(j->child))
		return BAD(err, "steps[%zu].%s: must be an object", num, step_kinds[k].name);
	return step_kinds[k].parse(j->child, pre, st, err);
}

/* ---- paths and variables ----------------------------------------------------- */

struct path_ent {
	char *path;
	size_t step; /* 0-based */
};

struct path_list {
	struct path_ent *v;
	size_t n, cap;
};

static int path_push(struct path_list *l, char *p, size_t step)
{
	if (!p)
		return USPC_E_NOMEM;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct path_ent *v = realloc(l->v, cap * sizeof(*v));
		if (!v) {
			free(p);
			return USPC_E_NOMEM;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (struct path_ent){ p, step };
	return 0;
}

static void path_list_free(struct path_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].path);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int collect_paths(const struct prof_spec *s, struct path_list *l)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < s->n_steps; i++) {
		const struct prof_step *st = &s->steps[i];
		switch (st->kind) {
		case PROF_STEP_SET:
			for (size_t k = 0; rc == 0 && k < st->n_params; k++)
				rc = path_push(l, strdup(st->params[k].name), i);
			break;
		case PROF_STEP_ENSURE_INSTANCE:
		case PROF_STEP_SUBSCRIBE:
			for (size_t k = 0; rc == 0 && k < st->n_params; k++)
				rc = path_push(l, search_path(st, st->params[k].name), i);
			break;
		case PROF_STEP_ENSURE_ABSENT:
		case PROF_STEP_ENSURE_COUNT:
			rc = path_push(l, strdup(st->table), i);
			break;
		case PROF_STEP_NOTIFICATION:
			for (size_t k = 0; rc == 0 && k < st->n_params; k++)
				rc = path_push(l, prof_attr_key(st->params[k].name), i);
			break;
		case PROF_STEP_OPERATE:
			break;
		}
	}
	return rc;
}

char *prof_attr_key(const char *path)
{
	size_t n = strlen(path);
	char *k = malloc(n + sizeof(PROF_ATTR_SUFFIX));
	if (k) {
		memcpy(k, path, n);
		memcpy(k + n, PROF_ATTR_SUFFIX, sizeof(PROF_ATTR_SUFFIX));
	}
	return k;
}

int prof_spec_paths(const struct prof_spec *s, char ***out, size_t *n)
{
	struct path_list l = { 0 };
	*out = NULL;
	*n = 0;
	int rc = collect_paths(s, &l);
	char **v = rc == 0 ? calloc(l.n ? l.n : 1, sizeof(*v)) : NULL;
	if (!v) {
		path_list_free(&l);
		return USPC_E_NOMEM;
	}
	for (size_t i = 0; i < l.n; i++)
		v[i] = l.v[i].path;
	*out = v;
	*n = l.n;
	free(l.v);
	return 0;
}

static int ent_cmp(const void *a, const void *b)
{
	const struct path_ent *x = a, *y = b;
	int c = strcmp(x->path, y->path);
	return c ? c : (x->step > y->step) - (x->step < y->step);
}

/* At most PROF_PATHS_MAX paths, no parameter path written twice. */
static int check_paths(const struct prof_spec *s, struct uspc_err *err)
{
	struct path_list l = { 0 };
	char b[PROF_SHOW_BUF];
	size_t count = 0;
	for (size_t i = 0; i < s->n_steps; i++) /* count first: build no more than the cap */
		count += s->steps[i].kind == PROF_STEP_ENSURE_ABSENT ||
					 s->steps[i].kind == PROF_STEP_ENSURE_COUNT
				 ? 1
				 : s->steps[i].n_params;
	if (count > PROF_PATHS_MAX)
		return BAD(err, "steps: the profile names %zu paths, more than %d", count,
			   PROF_PATHS_MAX);
	int rc = collect_paths(s, &l);
	if (rc < 0) {
		rc = NOMEM(err);
	} else {
		if (l.n > 1) /* a profile of operate steps only names no path: l.v is NULL */
			qsort(l.v, l.n, sizeof(*l.v), ent_cmp);
		for (size_t i = 1; i < l.n && rc == 0; i++) {
			const char *p = l.v[i].path;
			if (p[strlen(p) - 1] != '.' && strcmp(p, l.v[i - 1].path) == 0)
				rc = BAD(err, "steps[%zu]: '%s' is already written by steps[%zu]",
					 l.v[i].step + 1, prof_show(p, b), l.v[i - 1].step + 1);
		}
	}
	path_list_free(&l);
	return rc;
}

int prof_spec_vars(const struct prof_spec *s, char ***out, size_t *n)
{
	char **v = NULL;
	size_t cnt = 0, cap = 0;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < s->n_steps; i++) {
		const struct prof_step *st = &s->steps[i];
		const struct prof_param *lists[] = { st->keys, st->params, st->args };
		const size_t sizes[] = { st->n_keys, st->n_params, st->n_args };
		for (size_t l = 0; l < 3; l++)
			for (size_t k = 0; rc == 0 && k < sizes[l]; k++)
				if (lists[l][k].v.has_template)
					rc = prof_tpl_add_vars(lists[l][k].v.text, &v, &cnt, &cap);
	}
	if (rc == 0 && !v && !(v = calloc(1, sizeof(*v))))
		rc = USPC_E_NOMEM;
	if (rc < 0) {
		for (size_t i = 0; i < cnt; i++)
			free(v[i]);
		free(v);
		v = NULL;
		cnt = 0;
	}
	*out = v;
	*n = cnt;
	return rc;
}

/* ---- the definition ------------------------------------------------------------ */

static const char *const mode_names[] = { "enforce", "audit", "once", NULL };
static const char *const trigger_names[] = { "onboarding", "boot",  "firmware", "scope",
					     "version",    "drift", NULL };
#define TRIGGER_LIST "onboarding, boot, firmware, scope, version or drift"

static int parse_name(const cJSON *j, struct prof_spec *s, struct uspc_err *err)
{
	const char *p = cJSON_IsString(j) ? j->valuestring : "";
	size_t n = strlen(p);
	int ok = n >= 1 && n <= PROF_NAME_MAX && (is_digit(p[0]) || (p[0] >= 'a' && p[0] <= 'z'));
	for (size_t i = 0; ok && i < n; i++)
		ok = is_digit(p[i]) || (p[i] >= 'a' && p[i] <= 'z') || strchr("_.-", p[i]);
	if (!ok)
		return BAD(err,
			   "name: %s1 to %d characters of [a-z0-9_.-], starting with a "
			   "letter or digit",
			   j ? "must be " : "required: ", PROF_NAME_MAX);
	memcpy(s->name, p, n + 1);
	return 0;
}

static int parse_triggers(const cJSON *obj, struct prof_spec *s, struct uspc_err *err)
{
	const cJSON *j = item(obj, "triggers");
	char b[PROF_SHOW_BUF];
	if (!j)
		return 0;
	if (!cJSON_IsArray(j) || !j->child)
		return BAD(err, "triggers: must be a non-empty array of " TRIGGER_LIST);
	s->triggers = 0;
	for (const cJSON *e = j->child; e; e = e->next) {
		int k = pick(e, trigger_names);
		if (k < 0)
			return BAD(err, "triggers: unknown trigger '%s' (" TRIGGER_LIST ")",
				   cJSON_IsString(e) ? prof_show(e->valuestring, b)
						     : "(not a string)");
		s->triggers |= 1u << k;
	}
	return 0;
}

static int parse_drift(const cJSON *obj, struct prof_spec *s, struct uspc_err *err)
{
	static const char *const keys[] = { "every_s", "jitter_s", NULL };
	const cJSON *j = item(obj, "drift_check");
	int rc;
	if (!(s->triggers & PROF_T_DRIFT)) {
		if (j)
			return BAD(err, "drift_check: only with the \"drift\" trigger");
		return 0;
	}
	if (!j)
		return BAD(err, "drift_check: required by the \"drift\" trigger: "
				"{\"every_s\":86400,\"jitter_s\":3600}");
	if (!cJSON_IsObject(j))
		return BAD(err, "drift_check: must be an object {\"every_s\":..,\"jitter_s\":..}");
	if ((rc = prof_only_keys(j, "drift_check.", keys, NULL, USPCTL_E_BAD_FIELD, err)) < 0)
		return rc;
	if (!item(j, "every_s"))
		return BAD(err, "drift_check.every_s: required");
	if ((rc = get_int(j, "every_s", "drift_check.", 1, 31536000, &s->drift_every_s, err)) < 0 ||
	    (rc = get_int(j, "jitter_s", "drift_check.", 0, s->drift_every_s, &s->drift_jitter_s,
			  err)) < 0)
		return rc;
	return 0;
}

static int parse_steps(const cJSON *j, struct prof_spec *s, struct uspc_err *err)
{
	int rc;
	if (!cJSON_IsArray(j) || cJSON_GetArraySize(j) < 1 ||
	    cJSON_GetArraySize(j) > PROF_STEPS_MAX)
		return BAD(err, "steps: %san array of 1 to %d steps",
			   j ? "must be " : "required: ", PROF_STEPS_MAX);
	if (!(s->steps = calloc((size_t)cJSON_GetArraySize(j), sizeof(*s->steps))))
		return NOMEM(err);
	for (const cJSON *e = j->child; e; e = e->next) {
		struct prof_step *st = &s->steps[s->n_steps++];
		if ((rc = parse_step(e, s->n_steps, st, err)) < 0)
			return rc;
	}
	return 0;
}

int prof_spec_parse(const cJSON *obj, const char *const *ignore, struct prof_spec *s,
		    struct uspc_err *err)
{
	static const char *const keys[] = { "name",     "selector",    "priority", "mode",
					    "triggers", "drift_check", "steps",    NULL };
	const cJSON *j;
	char **vars = NULL;
	size_t n_vars = 0;
	int rc;
	if (!cJSON_IsObject(obj))
		return BAD(err, "a profile definition must be a JSON object");
	if ((rc = prof_only_keys(obj, "", keys, ignore, USPCTL_E_BAD_FIELD, err)) < 0 ||
	    (rc = parse_name(item(obj, "name"), s, err)) < 0 ||
	    (rc = prof_sel_parse(item(obj, "selector"), s, err)) < 0)
		return rc;
	if (!item(obj, "priority"))
		return BAD(err, "priority: required: an integer from 0 to %d (higher wins a path)",
			   PROF_PRIORITY_MAX);
	if ((rc = get_int(obj, "priority", "", 0, PROF_PRIORITY_MAX, &s->priority, err)) < 0)
		return rc;
	if ((j = item(obj, "mode")) != NULL) {
		if ((rc = pick(j, mode_names)) < 0)
			return BAD(err, "mode: must be \"enforce\", \"audit\" or \"once\"");
		s->mode = (enum prof_mode)rc;
	}
	if ((rc = parse_triggers(obj, s, err)) < 0 || (rc = parse_drift(obj, s, err)) < 0 ||
	    (rc = parse_steps(item(obj, "steps"), s, err)) < 0 || (rc = check_paths(s, err)) < 0)
		return rc;
	if (prof_spec_vars(s, &vars, &n_vars) < 0)
		return NOMEM(err);
	for (size_t i = 0; i < n_vars; i++)
		free(vars[i]);
	free(vars);
	if (n_vars > PROF_VARS_MAX)
		return BAD(err, "steps: %zu distinct ${var:NAME}, more than %d", n_vars,
			   PROF_VARS_MAX);
	return 0;
}

/* ---- output ---------------------------------------------------------------------- */

static cJSON *value_json(const struct prof_value *v)
{
	cJSON *x = v->type == PROF_V_BOOL     ? cJSON_CreateBool(strcmp(v->text, "true") == 0)
		   : v->type == PROF_V_NUMBER ? cJSON_CreateNumber(strtod(v->text, NULL))
					      : cJSON_CreateString(v->text);
	if (!x || !v->write_only)
		return x;
	cJSON *o = cJSON_CreateObject();
	if (!o || !cJSON_AddItemToObject(o, "value", x) ||
	    !cJSON_AddTrueToObject(o, "write_only")) {
		if (!o || !cJSON_GetObjectItemCaseSensitive(o, "value"))
			cJSON_Delete(x);
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* {NAME: VALUE, ...} added to o as key; 0 or -1. */
static int params_json(cJSON *o, const char *key, const struct prof_param *p, size_t n)
{
	cJSON *m = cJSON_AddObjectToObject(o, key);
	for (size_t i = 0; m && i < n; i++) {
		cJSON *x = value_json(&p[i].v);
		if (!x || !cJSON_AddItemToObject(m, p[i].name, x)) {
			cJSON_Delete(x);
			return -1;
		}
	}
	return m ? 0 : -1;
}

/* The subscribe step back in its input form. */
static int subscribe_json(cJSON *o, const struct prof_step *st)
{
	static const char *const out_names[] = { "notif_type", "reference_list", "enable",
						 "persistent", "notif_retry" };
	if (st->n_keys < 1 || !cJSON_AddStringToObject(o, "id", st->keys[0].v.text))
		return -1;
	for (size_t i = 0; i < st->n_params && i < 5; i++) {
		cJSON *x = value_json(&st->params[i].v);
		if (!x || !cJSON_AddItemToObject(o, out_names[i], x)) {
			cJSON_Delete(x);
			return -1;
		}
	}
	return 0;
}

static cJSON *step_json(const struct prof_step *st)
{
	cJSON *o = cJSON_CreateObject(), *b = NULL;
	int rc = -1;
	size_t k;
	for (k = 0; k < N_KINDS && step_kinds[k].kind != st->kind; k++)
		;
	if (!o || k == N_KINDS)
		goto out;
	if (st->kind == PROF_STEP_SET || st->kind == PROF_STEP_NOTIFICATION) {
		rc = params_json(o, step_kinds[k].name, st->params, st->n_params);
		goto out;
	}
	if (!(b = cJSON_AddObjectToObject(o, step_kinds[k].name)))
		goto out;
	switch (st->kind) {
	case PROF_STEP_ENSURE_INSTANCE:
		rc = cJSON_AddStringToObject(b, "table", st->table) &&
				     params_json(b, "keys", st->keys, st->n_keys) == 0 &&
				     params_json(b, "params", st->params, st->n_params) == 0
			     ? 0
			     : -1;
		break;
	case PROF_STEP_ENSURE_ABSENT:
		rc = cJSON_AddStringToObject(b, "table", st->table) &&
				     params_json(b, "match", st->keys, st->n_keys) == 0
			     ? 0
			     : -1;
		break;
	case PROF_STEP_ENSURE_COUNT:
		rc = cJSON_AddStringToObject(b, "table", st->table) &&
				     cJSON_AddNumberToObject(b, "min", (double)st->min) &&
				     cJSON_AddNumberToObject(b, "max", (double)st->max)
			     ? 0
			     : -1;
		break;
	case PROF_STEP_SUBSCRIBE:
		rc = subscribe_json(b, st);
		break;
	case PROF_STEP_OPERATE:
		rc = cJSON_AddStringToObject(b, "command", st->command) &&
				     params_json(b, "args", st->args, st->n_args) == 0 &&
				     cJSON_AddStringToObject(b, "once_per",
							     once_names[st->once_per])
			     ? 0
			     : -1;
		break;
	case PROF_STEP_SET:
	case PROF_STEP_NOTIFICATION:
		break;
	}
out:
	if (rc < 0) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

cJSON *prof_spec_to_json(const struct prof_spec *s)
{
	cJSON *o = cJSON_CreateObject(), *a, *x;
	if (!o || !cJSON_AddStringToObject(o, "name", s->name))
		goto fail;
	if (!(x = s->selector ? cJSON_Duplicate(s->selector, 1) : cJSON_CreateObject()) ||
	    !cJSON_AddItemToObject(o, "selector", x)) {
		cJSON_Delete(x);
		goto fail;
	}
	if (!cJSON_AddNumberToObject(o, "priority", (double)s->priority) ||
	    !cJSON_AddStringToObject(o, "mode", mode_names[s->mode]) ||
	    !(a = cJSON_AddArrayToObject(o, "triggers")))
		goto fail;
	for (int k = 0; trigger_names[k]; k++)
		if ((s->triggers & (1u << k)) &&
		    !cJSON_AddItemToArray(a, cJSON_CreateString(trigger_names[k])))
			goto fail;
	if (s->triggers & PROF_T_DRIFT) {
		if (!(x = cJSON_AddObjectToObject(o, "drift_check")) ||
		    !cJSON_AddNumberToObject(x, "every_s", (double)s->drift_every_s) ||
		    !cJSON_AddNumberToObject(x, "jitter_s", (double)s->drift_jitter_s))
			goto fail;
	}
	if (!(a = cJSON_AddArrayToObject(o, "steps")))
		goto fail;
	for (size_t i = 0; i < s->n_steps; i++) {
		cJSON *st = step_json(&s->steps[i]);
		if (!st || !cJSON_AddItemToArray(a, st)) {
			cJSON_Delete(st);
			goto fail;
		}
	}
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}
