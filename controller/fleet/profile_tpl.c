/*
 * profile_tpl.c — the value templates of a provisioning profile
 * (profile_spec.h): check them when a definition is read, list its
 * ${var:NAME}, expand them for one agent. Pure, any thread, no state.
 * A text is a run of tokens: a literal run, "$$" (a '$'), or "${NAME}";
 * a '$' followed by neither '$' nor '{' is itself.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile_spec_internal.h"

#define TPL_NAME_MAX 80 /* bytes between "${" and "}" */

static int is_alpha_(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

enum tpl_kind {
	TPL_LIT = -1,
	TPL_EID,
	TPL_SERIAL,
	TPL_OUI,
	TPL_MODEL,
	TPL_MANUFACTURER,
	TPL_PRODUCT_CLASS,
	TPL_SW_VERSION,
	TPL_TAG,
	TPL_VAR,
};

static const char *const tpl_fixed[] = {
	"eid", "serial", "oui", "model", "manufacturer", "product_class", "software_version"
};
#define TPL_KNOWN                                                                  \
	"${eid}, ${serial}, ${oui}, ${model}, ${manufacturer}, ${product_class}, " \
	"${software_version}, ${tag:NAME}, ${var:NAME}"

struct tpl_tok {
	enum tpl_kind kind;
	const char *arg; /* literal bytes, or the NAME of tag:/var: */
	size_t len;
	size_t adv; /* bytes of text the token spans */
};

/* A tag's prefix (the tag charset of store_tag_valid) or a variable name. */
static int tpl_arg_ok(const char *s, size_t n, size_t max, const char *extra)
{
	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!is_alpha_(s[i]) && !is_digit(s[i]) && !strchr(extra, s[i]))
			return 0;
	return 1;
}

/* The template inside "${" .. "}" (n bytes at name) into t. */
static int tpl_classify(const char *name, size_t n, struct tpl_tok *t)
{
	for (size_t i = 0; i < sizeof(tpl_fixed) / sizeof(tpl_fixed[0]); i++)
		if (strlen(tpl_fixed[i]) == n && memcmp(name, tpl_fixed[i], n) == 0) {
			t->kind = (enum tpl_kind)i;
			return 0;
		}
	t->arg = name + 4;
	t->len = n > 4 ? n - 4 : 0;
	if (n > 4 && memcmp(name, "tag:", 4) == 0 && tpl_arg_ok(t->arg, t->len, 64, ".:/+-")) {
		t->kind = TPL_TAG;
		return 0;
	}
	if (n > 4 && memcmp(name, "var:", 4) == 0 &&
	    tpl_arg_ok(t->arg, t->len, PROF_VAR_NAME_MAX, ".-")) {
		t->kind = TPL_VAR;
		return 0;
	}
	return -1;
}

/* Printable ASCII of s[0..n) for a message, '?' for anything else. */
static const char *ascii(const char *s, size_t n, char buf[PROF_SHOW_BUF])
{
	size_t o = 0;
	for (size_t i = 0; i < n && o < PROF_SHOW_MAX; i++)
		buf[o++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[o] = '\0';
	return buf;
}

/* The token that starts at p (*p != 0): 0, or -1 with why. */
static int tpl_next(const char *p, struct tpl_tok *t, char *why, size_t why_cap)
{
	char b[PROF_SHOW_BUF];
	memset(t, 0, sizeof(*t));
	t->kind = TPL_LIT;
	if (p[0] == '$' && p[1] == '$') {
		t->arg = p;
		t->len = 1;
		t->adv = 2;
		return 0;
	}
	if (p[0] == '$' && p[1] == '{') {
		size_t n = 0;
		while (p[2 + n] && p[2 + n] != '}' && n <= TPL_NAME_MAX)
			n++;
		if (!p[2 + n]) {
			snprintf(why, why_cap, "unterminated template '${%s' (no '}')",
				 ascii(p + 2, n < 32 ? n : 32, b));
			return -1;
		}
		if (p[2 + n] != '}' || tpl_classify(p + 2, n, t) < 0) {
			snprintf(why, why_cap, "unknown template '${%s}' (known: %s; $$ for '$')",
				 ascii(p + 2, n, b), TPL_KNOWN);
			return -1;
		}
		t->adv = n + 3;
		return 0;
	}
	/* a literal run up to the next '$' (a lone '$' is itself) */
	size_t n = p[0] == '$' ? 1 : 0;
	while (p[n] && p[n] != '$')
		n++;
	t->arg = p;
	t->len = t->adv = n;
	return 0;
}

/* 1 when text needs expanding (a template or "$$"), 0 when it reads as
 * is, -1 (why) when a template is bad. */
int prof_tpl_check(const char *text, char *why, size_t why_cap)
{
	struct tpl_tok t;
	int any = 0;
	for (const char *p = text; *p; p += t.adv) {
		if (tpl_next(p, &t, why, why_cap) < 0)
			return -1;
		any |= t.kind != TPL_LIT || t.adv != t.len;
	}
	return any;
}

/* The agent's value of template t (not a literal): 0, or -1 with why. */
static int tpl_value(const struct tpl_tok *t, const struct prof_tpl_ctx *c, char *num,
		     size_t num_cap, const char **out, char *why, size_t why_cap)
{
	char b[PROF_SHOW_BUF];
	if (t->kind == TPL_TAG) {
		for (size_t i = 0; c && c->tags && i < c->n_tags; i++) {
			const char *g = c->tags[i];
			if (g && strncmp(g, t->arg, t->len) == 0 && g[t->len] == ':') {
				*out = g + t->len + 1;
				return 0;
			}
		}
		snprintf(why, why_cap, "${tag:%s}: no tag %s:... on this agent",
			 ascii(t->arg, t->len, b), b);
		return -1;
	}
	if (t->kind == TPL_VAR) {
		char name[PROF_VAR_NAME_MAX + 1];
		snprintf(name, sizeof(name), "%.*s", (int)t->len, t->arg);
		const cJSON *v = c && cJSON_IsObject(c->vars)
					 ? cJSON_GetObjectItemCaseSensitive(c->vars, name)
					 : NULL;
		if (cJSON_IsString(v)) {
			*out = v->valuestring;
		} else if (cJSON_IsBool(v)) {
			*out = cJSON_IsTrue(v) ? "true" : "false";
		} else if (cJSON_IsNumber(v) && isfinite(v->valuedouble)) {
			prof_num_text(v->valuedouble, num, num_cap);
			*out = num;
		} else {
			snprintf(why, why_cap, "${var:%s}: no such variable for this agent", name);
			return -1;
		}
		return 0;
	}
	const char *const fixed[] = { c ? c->eid : NULL,
				      c ? c->serial : NULL,
				      c ? c->oui : NULL,
				      c ? c->model : NULL,
				      c ? c->manufacturer : NULL,
				      c ? c->product_class : NULL,
				      c ? c->software_version : NULL };
	*out = fixed[t->kind];
	if (!*out || !**out) {
		snprintf(why, why_cap, "${%s}: this agent has no %s in the inventory",
			 tpl_fixed[t->kind], tpl_fixed[t->kind]);
		return -1;
	}
	return 0;
}

int prof_tpl_expand(const char *text, const struct prof_tpl_ctx *ctx, char *out, size_t cap,
		    char *why, size_t why_cap)
{
	char dummy[8], num[40];
	size_t o = 0, limit;
	struct tpl_tok t;
	if (!why || why_cap == 0) {
		why = dummy;
		why_cap = sizeof(dummy);
	}
	why[0] = '\0';
	if (!out || cap == 0) {
		snprintf(why, why_cap, "no room for the result");
		return -1;
	}
	out[0] = '\0';
	limit = cap - 1 < PROF_VALUE_MAX ? cap - 1 : PROF_VALUE_MAX;
	for (const char *p = text ? text : ""; *p; p += t.adv) {
		const char *v;
		size_t n;
		if (tpl_next(p, &t, why, why_cap) < 0)
			goto fail;
		if (t.kind == TPL_LIT) {
			v = t.arg;
			n = t.len;
		} else {
			if (tpl_value(&t, ctx, num, sizeof(num), &v, why, why_cap) < 0)
				goto fail;
			n = strlen(v);
		}
		if (n > limit - o) {
			snprintf(why, why_cap,
				 "the value is longer than %zu bytes once its templates are "
				 "expanded",
				 limit);
			goto fail;
		}
		memcpy(out + o, v, n);
		o += n;
	}
	out[o] = '\0';
	return 0;
fail:
	out[0] = '\0';
	return -1;
}

/* The distinct ${var:NAME} of text appended to *v (n of cap). */
int prof_tpl_add_vars(const char *text, char ***v, size_t *n, size_t *cap)
{
	struct tpl_tok t;
	char why[8];
	for (const char *p = text; *p; p += t.adv) {
		if (tpl_next(p, &t, why, sizeof(why)) < 0)
			return 0; /* not reached for a parsed spec */
		if (t.kind != TPL_VAR)
			continue;
		size_t i;
		for (i = 0; i < *n; i++)
			if (strlen((*v)[i]) == t.len && memcmp((*v)[i], t.arg, t.len) == 0)
				break;
		if (i < *n)
			continue;
		if (*n == *cap) {
			size_t c = *cap ? *cap * 2 : 8;
			char **g = realloc(*v, c * sizeof(*g));
			if (!g)
				return USPC_E_NOMEM;
			*v = g;
			*cap = c;
		}
		if (!((*v)[*n] = strndup(t.arg, t.len)))
			return USPC_E_NOMEM;
		(*n)++;
	}
	return 0;
}

void prof_num_text(double d, char *out, size_t cap)
{
	if (d == 0)
		d = 0.0; /* no "-0" */
	if (d == floor(d) && fabs(d) < 9e15) {
		snprintf(out, cap, "%.0f", d);
		return;
	}
	/* the shortest text that reads back to d: 0.1, not 0.10000000000000001 */
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(out, cap, "%.*g", prec, d);
		if (strtod(out, NULL) == d)
			return;
	}
}
