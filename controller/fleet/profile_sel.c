/*
 * profile_sel.c — a provisioning profile's selector (profile_spec.h):
 * uspctl's selector keys plus "where" predicates on the snapshot, read in
 * the operator's form or the stored one, written in the stored (jsonb)
 * form of fleet_admin.h. Pure, any thread, no state. Every refusal is
 * USPCTL_E_BAD_TARGETS naming the selector's field.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile_spec_internal.h"
#include "usp_path.h"
#include "usp_utf8.h"

#define BADSEL(err, ...) uspc_err_set((err), USPCTL_E_BAD_TARGETS, __VA_ARGS__)
#define NOMEM(err) uspc_err_set((err), USPCTL_E_INTERNAL, "out of memory")
#define FIELD_MAX 64

static const cJSON *item(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* A shell glob (* ? and \ escapes) as a LIKE pattern with \ escapes: the
 * rules of store_glob_to_like (store_sql.h), which is not linked here
 * because the store library brings libpq. -1 for a lone trailing '\'. */
static int glob_to_like(const char *g, char *out, size_t cap)
{
	size_t o = 0;
	for (; *g; g++) {
		char c = *g, lit[3] = { 0 };
		const char *emit = lit;
		if (c == '*') {
			emit = "%";
		} else if (c == '?') {
			emit = "_";
		} else {
			if (c == '\\' && !*++g)
				return -1;
			c = *g;
			lit[0] = c;
			if (c == '%' || c == '_' || c == '\\') {
				lit[0] = '\\';
				lit[1] = c;
			}
		}
		size_t n = strlen(emit);
		if (o + n >= cap)
			return -1;
		memcpy(out + o, emit, n);
		o += n;
	}
	out[o] = '\0';
	return 0;
}

/* PATH == "VALUE" or PATH != "VALUE" (spaces around the operator). */
static int parse_where_text(const char *t, const char *field, struct prof_where *w,
			    struct uspc_err *err)
{
	const char *p = t, *ps;
	while (*p == ' ')
		p++;
	ps = p;
	while (*p && *p != ' ' && *p != '=' && *p != '!')
		p++;
	if (!(w->path = strndup(ps, (size_t)(p - ps))))
		return NOMEM(err);
	while (*p == ' ')
		p++;
	if ((p[0] != '=' && p[0] != '!') || p[1] != '=')
		return BADSEL(err, "%s: expected PATH == \"VALUE\" or PATH != \"VALUE\"", field);
	w->negate = p[0] == '!';
	p += 2;
	while (*p == ' ')
		p++;
	if (*p++ != '"')
		return BADSEL(err, "%s: the value must be in double quotes", field);
	if (!(w->value = malloc(strlen(p) + 1)))
		return NOMEM(err);
	size_t o = 0;
	for (; *p && *p != '"'; p++) {
		if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
			p++;
		else if (*p == '\\')
			return BADSEL(err, "%s: only \\\" and \\\\ are escapes in the value",
				      field);
		w->value[o++] = *p;
	}
	w->value[o] = '\0';
	if (*p++ != '"')
		return BADSEL(err, "%s: the value lacks its closing '\"'", field);
	while (*p == ' ')
		p++;
	if (*p)
		return BADSEL(err, "%s: text after the value's closing '\"'", field);
	return 0;
}

/* One "where" entry, string or stored object, into s->where[n_where]. */
static int parse_where_one(const cJSON *e, const char *field, struct prof_spec *s,
			   struct uspc_err *err)
{
	static const char *const wkeys[] = { "path", "op", "value", NULL };
	struct prof_where *w = &s->where[s->n_where++];
	char pre[FIELD_MAX];
	int rc;
	if (cJSON_IsString(e)) {
		if (strlen(e->valuestring) > PROF_VALUE_MAX + USP_PATH_MAX_LEN + 16 ||
		    !usp_utf8_valid(e->valuestring, strlen(e->valuestring)))
			return BADSEL(err, "%s: not valid UTF-8, or too long", field);
		if ((rc = parse_where_text(e->valuestring, field, w, err)) < 0)
			return rc;
	} else if (cJSON_IsObject(e)) {
		const cJSON *p = item(e, "path"), *op = item(e, "op"), *v = item(e, "value");
		snprintf(pre, sizeof(pre), "%s.", field);
		if ((rc = prof_only_keys(e, pre, wkeys, NULL, USPCTL_E_BAD_TARGETS, err)) < 0)
			return rc;
		if (!cJSON_IsString(p) || !cJSON_IsString(v) || !cJSON_IsString(op) ||
		    (strcmp(op->valuestring, "==") != 0 && strcmp(op->valuestring, "!=") != 0))
			return BADSEL(err,
				      "%s: must be {\"path\":..,\"op\":\"==\"|\"!=\","
				      "\"value\":..} (strings)",
				      field);
		w->negate = op->valuestring[0] == '!';
		if (!(w->path = strdup(p->valuestring)) || !(w->value = strdup(v->valuestring)))
			return NOMEM(err);
	} else {
		return BADSEL(err, "%s: must be a string PATH == \"VALUE\" or PATH != \"VALUE\"",
			      field);
	}
	if ((rc = prof_check_param_path(w->path, field, USPCTL_E_BAD_TARGETS, err)) < 0)
		return rc;
	if (strlen(w->value) > PROF_VALUE_MAX || !usp_utf8_valid(w->value, strlen(w->value)))
		return BADSEL(err, "%s: the value must be UTF-8 of at most %d bytes", field,
			      PROF_VALUE_MAX);
	return 0;
}

static int parse_where(const cJSON *j, struct prof_spec *s, cJSON *out, struct uspc_err *err)
{
	char field[32];
	cJSON *a;
	int rc;
	if (!cJSON_IsArray(j) || cJSON_GetArraySize(j) < 1 ||
	    cJSON_GetArraySize(j) > PROF_WHERE_MAX)
		return BADSEL(err,
			      "selector.where: must be an array of 1 to %d predicates such as "
			      "\"Device.DeviceInfo.ProductClass == \\\"HGW\\\"\"",
			      PROF_WHERE_MAX);
	if (!(a = cJSON_AddArrayToObject(out, "where")))
		return NOMEM(err);
	for (const cJSON *e = j->child; e; e = e->next) {
		snprintf(field, sizeof(field), "selector.where[%zu]", s->n_where + 1);
		if ((rc = parse_where_one(e, field, s, err)) < 0)
			return rc;
		const struct prof_where *w = &s->where[s->n_where - 1];
		cJSON *o = cJSON_CreateObject();
		if (!o || !cJSON_AddItemToArray(a, o) ||
		    !cJSON_AddStringToObject(o, "path", w->path) ||
		    !cJSON_AddStringToObject(o, "op", w->negate ? "!=" : "==") ||
		    !cJSON_AddStringToObject(o, "value", w->value))
			return NOMEM(err);
	}
	return 0;
}

static int parse_eids(const cJSON *j, cJSON *out, struct uspc_err *err)
{
	cJSON *a;
	if (!cJSON_IsArray(j) || cJSON_GetArraySize(j) < 1 || cJSON_GetArraySize(j) > PROF_EIDS_MAX)
		return BADSEL(err, "selector.eids: must be an array of 1 to %d endpoint IDs",
			      PROF_EIDS_MAX);
	if (!(a = cJSON_AddArrayToObject(out, "eids")))
		return NOMEM(err);
	size_t i = 0;
	for (const cJSON *e = j->child; e; e = e->next) {
		i++;
		if (!cJSON_IsString(e) || !prof_text_ok(e->valuestring, PROF_SEL_TEXT_MAX) ||
		    strchr(e->valuestring, ' '))
			return BADSEL(err,
				      "selector.eids[%zu]: must be an endpoint ID (1 to %d bytes, "
				      "no spaces)",
				      i, PROF_SEL_TEXT_MAX);
		cJSON *x = cJSON_CreateString(e->valuestring);
		if (!x || !cJSON_AddItemToArray(a, x)) {
			cJSON_Delete(x);
			return NOMEM(err);
		}
	}
	return 0;
}

/* The eid glob ("eid", input form) or its LIKE pattern ("eid_like"). */
static int parse_eid_like(const cJSON *sel, cJSON *out, struct uspc_err *err)
{
	const cJSON *g = item(sel, "eid"), *l = item(sel, "eid_like");
	char like[2 * PROF_SEL_TEXT_MAX + 1];
	if (g && l)
		return BADSEL(err, "selector: give \"eid\" (a glob) or \"eid_like\", not both");
	if (g) {
		if (!cJSON_IsString(g) || !prof_text_ok(g->valuestring, PROF_SEL_TEXT_MAX) ||
		    glob_to_like(g->valuestring, like, sizeof(like)) < 0)
			return BADSEL(err,
				      "selector.eid: must be a glob of 1 to %d bytes (* ? and \\ "
				      "escapes, not ending in a lone \\)",
				      PROF_SEL_TEXT_MAX);
	} else if (l) {
		const char *p = cJSON_IsString(l) ? l->valuestring : "";
		int ok = prof_text_ok(p, sizeof(like) - 1);
		for (; ok && *p; p++)
			if (*p == '\\' && !*++p)
				ok = 0;
		if (!ok)
			return BADSEL(err,
				      "selector.eid_like: must be a LIKE pattern of 1 to %zu bytes "
				      "(\\ escapes)",
				      sizeof(like) - 1);
		snprintf(like, sizeof(like), "%s", l->valuestring);
	} else {
		return 0;
	}
	return cJSON_AddStringToObject(out, "eid_like", like) ? 0 : NOMEM(err);
}

int prof_sel_parse(const cJSON *sel, struct prof_spec *s, struct uspc_err *err)
{
	static const char *const keys[] = {
		"all", "tag",      "model", "manufacturer", "software_version",
		"eid", "eid_like", "eids",  "where",        NULL
	};
	static const char *const text_keys[] = { "tag", "model", "manufacturer",
						 "software_version" };
	int rc;
	if (!sel)
		return BADSEL(err, "selector: required (use {\"all\":true} to target every agent)");
	if (!cJSON_IsObject(sel))
		return BADSEL(err, "selector: must be an object such as {\"tag\":\"beta\"} or "
				   "{\"all\":true}");
	for (const cJSON *f = sel->child; f; f = f->next) {
		char b[PROF_SHOW_BUF];
		if (prof_name_in(f->string, keys) < 0)
			return BADSEL(err,
				      "selector.%s: unknown selector key (all, tag, model, "
				      "manufacturer, software_version, eid, eids, where)",
				      prof_show(f->string, b));
	}
	if ((rc = prof_only_keys(sel, "selector.", keys, NULL, USPCTL_E_BAD_TARGETS, err)) < 0)
		return rc;
	if (!sel->child)
		return BADSEL(err, "selector: empty: use {\"all\":true} to target every agent");
	if (!sel->child->next && item(sel, "where"))
		return BADSEL(err, "selector: \"where\" only narrows a selection: add "
				   "\"all\": true or another key");
	cJSON *out = s->selector = cJSON_CreateObject();
	if (!out)
		return NOMEM(err);
	if (item(sel, "eids") && (rc = parse_eids(item(sel, "eids"), out, err)) < 0)
		return rc;
	for (size_t k = 0; k < sizeof(text_keys) / sizeof(text_keys[0]); k++) {
		const cJSON *j = item(sel, text_keys[k]);
		if (!j)
			continue;
		if (!cJSON_IsString(j) || !prof_text_ok(j->valuestring, PROF_SEL_TEXT_MAX))
			return BADSEL(err,
				      "selector.%s: must be a non-empty string of at most %d "
				      "bytes",
				      text_keys[k], PROF_SEL_TEXT_MAX);
		if (!cJSON_AddStringToObject(out, text_keys[k], j->valuestring))
			return NOMEM(err);
	}
	if ((rc = parse_eid_like(sel, out, err)) < 0)
		return rc;
	if (item(sel, "all")) {
		if (!cJSON_IsTrue(item(sel, "all")))
			return BADSEL(err, "selector.all: must be true");
		if (!cJSON_AddTrueToObject(out, "all"))
			return NOMEM(err);
	}
	if (item(sel, "where") && (rc = parse_where(item(sel, "where"), s, out, err)) < 0)
		return rc;
	return 0;
}
