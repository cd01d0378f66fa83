/*
 * profile_run_work.c — the work object of a profile run (profile_run.h,
 * profile_run_internal.h): the small helpers every part of the run uses,
 * the SHA-256 behind write-only hashes and the run's stamp, the writing of
 * the work (put, push, verdict marks, the history log), each profile's
 * per-agent state (its start, contested paths, Set times, what is kept)
 * and the full check of a work object that comes back from the engine,
 * read as untrusted.
 *
 * Called from one thread at a time; no globals.
 */
#include "profile_run_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "usp_utf8.h"

/* ---- small helpers ------------------------------------------------------------ */

static const char *const outcome_names[] = { "compliant", "drifted", "failed", "not_applicable",
					     "contested" };
#define N_OUTCOMES (sizeof(outcome_names) / sizeof(outcome_names[0]))

const char *prun_outcome_name(enum prun_outcome o)
{
	return (unsigned)o < N_OUTCOMES ? outcome_names[o] : "unknown";
}

int prun_outcome_parse(const char *s)
{
	for (size_t i = 0; s && i < N_OUTCOMES; i++)
		if (strcmp(s, outcome_names[i]) == 0)
			return (int)i;
	return -1;
}

int prun_err_permanent(int64_t code)
{
	switch (code) {
	case 7010:
	case 7011:
	case 7012:
	case 7013:
	case 7016:
	case 7017:
	case 7018:
	case 7019:
	case 7021: /* a required parameter failed: an Add's answer cannot say which */
	case 7025:
	case 9000: /* CWMP: method not supported */
	case 9003: /* invalid arguments (a SetParameterValues fault names the parameter) */
	case 9005:
	case 9006:
	case 9007:
	case 9008:
	case 9009: /* notification request rejected */
	case 7026:
	case 7027:
		return 1;
	default:
		return 0;
	}
}

const cJSON *prun_get(const cJSON *o, const char *key)
{
	return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

const char *prun_str_of(const cJSON *o, const char *key)
{
	const cJSON *j = prun_get(o, key);
	return cJSON_IsString(j) ? j->valuestring : NULL;
}

const cJSON *prun_arr_of(const cJSON *o, const char *key)
{
	const cJSON *j = prun_get(o, key);
	return cJSON_IsArray(j) ? j : NULL;
}

const cJSON *prun_obj_of(const cJSON *o, const char *key)
{
	const cJSON *j = prun_get(o, key);
	return cJSON_IsObject(j) ? j : NULL;
}

/* err_code of a failure member: a number (0 when absent or odd). */
int64_t prun_code_of(const cJSON *o)
{
	const cJSON *c = prun_get(o, "err_code");
	if (!cJSON_IsNumber(c) || !(c->valuedouble >= 0 && c->valuedouble < 1e9))
		return 0;
	return (int64_t)c->valuedouble;
}

static int is_int(const cJSON *j, double lo, double hi)
{
	return cJSON_IsNumber(j) && j->valuedouble >= lo && j->valuedouble <= hi &&
	       j->valuedouble == (double)(int64_t)j->valuedouble;
}

/* Copy src into dst, cut to at most size - 1 bytes of valid UTF-8. */
void prun_copy(char *dst, size_t size, const char *src)
{
	size_t n = src ? strnlen(src, size - 1) : 0;
	n = n ? usp_utf8_valid_prefix(src, n) : 0;
	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

void prun_fmt(char *dst, size_t size, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	vsnprintf(dst, size, f, ap);
	va_end(ap);
	dst[usp_utf8_valid_prefix(dst, strlen(dst))] = '\0';
}

/* "Device.Time.NTPServer1": the object path's length ("Device.Time."),
 * 0 when there is no parameter name after the last '.'. */
size_t prun_obj_len(const char *path)
{
	const char *dot = strrchr(path, '.');
	return dot && dot[1] ? (size_t)(dot - path) + 1 : 0;
}

static int secret_name(const char *path)
{
	static const char *const sfx[] = { "Password", "Passphrase", "PreSharedKey", "WEPKey",
					   "Secret" };
	size_t n = strlen(path);
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		size_t k = strlen(sfx[i]);
		if (n >= k && strcasecmp(path + n - k, sfx[i]) == 0)
			return 1;
	}
	return 0;
}

const char *prun_shown(const char *path, int write_only, const char *v)
{
	return write_only || secret_name(path) ? "(secret)" : v ? v : "";
}

int prun_stamp_path_ok(const char *sp)
{
	return sp && *sp && strlen(sp) <= PRUN_PATH_MAX && prun_obj_len(sp) > 0;
}

/* ---- SHA-256 ------------------------------------------------------------------- */

static int sha256(const char *const *part, const size_t *len, size_t n, unsigned char md[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned got = 0;
	int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	for (size_t i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(c, part[i], len[i]);
	ok = ok && EVP_DigestFinal_ex(c, md, &got) && got == 32;
	EVP_MD_CTX_free(c);
	return ok ? 0 : -1;
}

static void hex(const unsigned char *md, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[md[i] >> 4];
		out[2 * i + 1] = d[md[i] & 15];
	}
	out[2 * n] = '\0';
}

/* The write-only hash: lowercase hex SHA-256 of "<version>\n<path>\n<value>". */
int prun_wo_hash(int64_t version, const char *path, const char *value, char out[65])
{
	char v[32];
	snprintf(v, sizeof(v), "%lld\n", (long long)version);
	const char *part[] = { v, path, "\n", value };
	size_t len[] = { strlen(v), strlen(path), 1, strlen(value) };
	unsigned char md[32];
	if (sha256(part, len, 4, md) < 0) {
		out[0] = '\0';
		return -1;
	}
	hex(md, 32, out);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	const struct prun_profile *x = *(const struct prun_profile *const *)a;
	const struct prun_profile *y = *(const struct prun_profile *const *)b;
	int c = strcmp(x->spec->name, y->spec->name);
	return c ? c : (x->version > y->version) - (x->version < y->version);
}

void prun_stamp(const struct prun_profile *p, size_t n, char out[64])
{
	out[0] = '\0';
	const struct prun_profile **v = malloc((n ? n : 1) * sizeof(*v));
	if (!v)
		return;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (p[i].spec)
			v[k++] = &p[i];
	qsort(v, k, sizeof(*v), by_name);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned char md[32];
	unsigned got = 0;
	int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	for (size_t i = 0; ok && i < k; i++) {
		char line[PROF_NAME_MAX + 32];
		int len = snprintf(line, sizeof(line), "%s:%lld\n", v[i]->spec->name,
				   (long long)v[i]->version);
		ok = len > 0 && (size_t)len < sizeof(line) &&
		     EVP_DigestUpdate(c, line, (size_t)len);
	}
	ok = ok && EVP_DigestFinal_ex(c, md, &got) && got == 32;
	EVP_MD_CTX_free(c);
	free(v);
	if (ok) {
		memcpy(out, "uspc:", 5);
		hex(md, 6, out + 5);
	}
}

/* ---- the run -------------------------------------------------------------------- */

/* Set o[key] = item (replacing), noting out of memory. */
void prun_put(struct run *r, cJSON *o, const char *key, cJSON *item)
{
	int ok;
	if (!item || !o) {
		cJSON_Delete(item);
		r->oom = 1;
		return;
	}
	if (cJSON_GetObjectItemCaseSensitive(o, key))
		ok = cJSON_ReplaceItemInObjectCaseSensitive(o, key, item);
	else
		ok = cJSON_AddItemToObject(o, key, item);
	if (!ok) {
		cJSON_Delete(item);
		r->oom = 1;
	}
}

void prun_push(struct run *r, cJSON *a, cJSON *item)
{
	if (!item || !a || !cJSON_AddItemToArray(a, item)) {
		cJSON_Delete(item);
		r->oom = 1;
	}
}

cJSON *prun_str_cut(const char *s, size_t max)
{
	char b[PRUN_SHOW_MAX + 1];
	prun_copy(b, max + 1 < sizeof(b) ? max + 1 : sizeof(b), s);
	return cJSON_CreateString(b);
}

int prun_active(const struct run *r, size_t i)
{
	return !cJSON_GetObjectItemCaseSensitive(r->prof[i], "outcome");
}

/* A profile that acts (enforce or once, not a dry run). */
int prun_acting(const struct run *r, size_t i)
{
	return r->p[i].spec->mode != PROF_AUDIT && !r->ctx->dry_run;
}

cJSON *prun_pstate(const struct run *r, size_t i, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(r->prof[i], "state"), key);
}

/* The profile's verdict is known (the first one stays). */
void prun_mark(struct run *r, size_t i, enum prun_outcome o, int retry, const char *detail)
{
	if (!prun_active(r, i))
		return;
	prun_put(r, r->prof[i], "outcome", cJSON_CreateString(prun_outcome_name(o)));
	prun_put(r, r->prof[i], "retry", cJSON_CreateNumber(retry));
	prun_put(r, r->prof[i], "detail", cJSON_CreateString(detail));
}

/* A USP error on a path of profile i: permanent → not applicable, else failed. */
void prun_fail_path(struct run *r, size_t i, const char *path, int64_t code, const char *msg)
{
	char d[PRUN_DETAIL_MAX], m[PRUN_MSG_MAX];
	prun_copy(m, sizeof(m), msg);
	if (code)
		prun_fmt(d, sizeof(d), "%s: %lld%s%s", path, (long long)code, *m ? " " : "", m);
	else
		prun_fmt(d, sizeof(d), "%s: %s", path, m);
	int perm = prun_err_permanent(code);
	prun_mark(r, i, perm ? PRUN_NOT_APPLICABLE : PRUN_FAILED, !perm, d);
}

void prun_fail_active(struct run *r, const char *detail)
{
	for (size_t i = 0; i < r->n; i++)
		prun_mark(r, i, PRUN_FAILED, 1, detail);
}

void prun_log_change(struct run *r, size_t i, const char *path, const char *old, const char *new,
		     const char *action, const char *result, int64_t code, const char *msg)
{
	cJSON *log = cJSON_GetObjectItemCaseSensitive(r->prof[i], "log");
	if (cJSON_GetArraySize(log) >= PRUN_LOG_MAX) {
		cJSON *d = cJSON_GetObjectItemCaseSensitive(r->prof[i], "dropped");
		prun_put(r, r->prof[i], "dropped", cJSON_CreateNumber(d ? d->valuedouble + 1 : 1));
		return;
	}
	cJSON *c = cJSON_CreateObject();
	prun_put(r, c, "path", prun_str_cut(path, PRUN_SHOW_MAX));
	prun_put(r, c, "old", prun_str_cut(old, PRUN_SHOW_MAX));
	prun_put(r, c, "new", prun_str_cut(new, PRUN_SHOW_MAX));
	prun_put(r, c, "action", cJSON_CreateString(action));
	prun_put(r, c, "result", cJSON_CreateString(result));
	if (code)
		prun_put(r, c, "err_code", cJSON_CreateNumber((double)code));
	if (msg && *msg)
		prun_put(r, c, "err_msg", prun_str_cut(msg, PRUN_MSG_MAX));
	prun_push(r, log, c);
}

/* ---- per-agent state ------------------------------------------------------------ */

static int keep_times(const struct prun_ctx *c)
{
	int64_t k = (int64_t)c->contest_count + 1;
	return k < 1 ? 1 : k > PRUN_TIMES_MAX ? PRUN_TIMES_MAX : (int)k;
}

static int contest_on(const struct prun_ctx *c)
{
	return c->contest_count > 0 && c->contest_window_s > 0;
}

/* The Set times of one path still in the window, the newest keep_times(). */
static cJSON *times_pruned(const struct prun_ctx *c, const cJSON *src)
{
	cJSON *a = cJSON_CreateArray();
	const cJSON *t;
	int n = 0, skip;
	cJSON_ArrayForEach(t, src) if (cJSON_IsNumber(t) &&
				       t->valuedouble >= (double)(c->now_s - c->contest_window_s))
		n++;
	skip = n - keep_times(c);
	cJSON_ArrayForEach(t, src)
	{
		if (!a || !cJSON_IsNumber(t) ||
		    !(t->valuedouble >= (double)(c->now_s - c->contest_window_s)))
			continue;
		if (skip-- > 0)
			continue;
		cJSON *x = cJSON_CreateNumber(t->valuedouble);
		if (!x || !cJSON_AddItemToArray(a, x)) {
			cJSON_Delete(x);
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

/* The state profile i starts this run with (see the header). */
cJSON *prun_state_init(struct run *r, size_t i)
{
	const struct prun_profile *pp = &r->p[i];
	const struct prun_ctx *c = r->ctx;
	const cJSON *src = cJSON_IsObject(pp->state) ? pp->state : NULL;
	const cJSON *ver = prun_get(src, "version"), *e;
	int same = cJSON_IsNumber(ver) && ver->valuedouble == (double)pp->version;
	cJSON *st = cJSON_CreateObject(), *wo = cJSON_CreateObject(), *once = cJSON_CreateObject();
	cJSON *sets = cJSON_CreateObject(), *cont = cJSON_CreateArray();
	prun_put(r, st, "wo", wo);
	prun_put(r, st, "once", once);
	prun_put(r, st, "sets", sets);
	prun_put(r, st, "contested", cont);
	if (r->oom) {
		cJSON_Delete(st);
		return NULL;
	}
	size_t k = 0;
	cJSON_ArrayForEach(e, prun_obj_of(src, "once"))
	{
		if (k >= PROF_STEPS_MAX || !cJSON_IsString(e) || !e->string ||
		    strlen(e->valuestring) > PRUN_KEY_MAX || prun_get(once, e->string) ||
		    (c->factory_reset && e->valuestring[0] == 'b'))
			continue;
		prun_put(r, once, e->string, cJSON_CreateString(e->valuestring));
		k++;
	}
	k = 0;
	if (same && !c->factory_reset && !c->force_write_only)
		cJSON_ArrayForEach(e, prun_obj_of(src, "wo"))
		{
			if (k >= PRUN_STATE_MAX || !cJSON_IsString(e) || !e->string ||
			    strlen(e->valuestring) != 64 || prun_get(wo, e->string))
				continue;
			prun_put(r, wo, e->string, cJSON_CreateString(e->valuestring));
			k++;
		}
	k = 0;
	/* reset_contested forgets the Set times too, or the next Set would
	 * be counted against the old ones and contested again at once */
	if (same && !c->factory_reset && !c->reset_contested && contest_on(c))
		cJSON_ArrayForEach(e, prun_obj_of(src, "sets"))
		{
			if (k >= PRUN_STATE_MAX || !cJSON_IsArray(e) || !e->string ||
			    prun_get(sets, e->string))
				continue;
			cJSON *t = times_pruned(c, e);
			if (t && cJSON_GetArraySize(t) == 0) {
				cJSON_Delete(t);
				continue;
			}
			prun_put(r, sets, e->string, t);
			k++;
		}
	k = 0;
	if (same && !c->reset_contested)
		cJSON_ArrayForEach(e, prun_arr_of(src, "contested"))
		{
			if (k >= PRUN_STATE_MAX || !cJSON_IsString(e) ||
			    strlen(e->valuestring) > PRUN_SEARCH_MAX)
				continue;
			prun_push(r, cont, cJSON_CreateString(e->valuestring));
			k++;
		}
	if (r->oom) {
		cJSON_Delete(st);
		return NULL;
	}
	return st;
}

/* The state to keep: the run's state with the profile's version. */
cJSON *prun_state_out(const struct run *r, size_t i)
{
	cJSON *s = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(r->prof[i], "state"), 1);
	cJSON *v = cJSON_CreateNumber((double)r->p[i].version);
	if (!s || !v || !cJSON_AddItemToObject(s, "version", v)) {
		cJSON_Delete(s);
		cJSON_Delete(v);
		return NULL;
	}
	return s;
}

/* 1 when path of profile i must not be set now: listed as contested, or
 * set contest_count times within the window (then listed, if mark). */
int prun_contested_now(struct run *r, size_t i, const char *path, int mark_it)
{
	cJSON *cl = prun_pstate(r, i, "contested");
	const cJSON *e;
	cJSON_ArrayForEach(e,
			   cl) if (cJSON_IsString(e) && strcmp(e->valuestring, path) == 0) return 1;
	if (!contest_on(r->ctx))
		return 0;
	int n = 0;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(prun_pstate(r, i, "sets"), path))
	{
		if (cJSON_IsNumber(e) &&
		    e->valuedouble >= (double)(r->ctx->now_s - r->ctx->contest_window_s))
			n++;
	}
	if (n < r->ctx->contest_count)
		return 0;
	if (mark_it && cJSON_GetArraySize(cl) < PRUN_STATE_MAX)
		prun_push(r, cl, cJSON_CreateString(path));
	return 1;
}

/* A successful Set of path by profile i, now. */
void prun_record_set(struct run *r, size_t i, const char *path)
{
	if (!contest_on(r->ctx))
		return;
	cJSON *sets = prun_pstate(r, i, "sets");
	const cJSON *old = cJSON_GetObjectItemCaseSensitive(sets, path);
	if (!old && cJSON_GetArraySize(sets) >= PRUN_STATE_MAX)
		return;
	cJSON *t = cJSON_Duplicate(old ? old : NULL, 1);
	if (!t)
		t = cJSON_CreateArray();
	prun_push(r, t, cJSON_CreateNumber((double)r->ctx->now_s));
	cJSON *kept = t ? times_pruned(r->ctx, t) : NULL;
	cJSON_Delete(t);
	prun_put(r, sets, path, kept);
}

/* ---- checking a work object ------------------------------------------------------- */

static int str_map_ok(const cJSON *o, size_t max, size_t vmax)
{
	const cJSON *e;
	size_t n = 0;
	if (!cJSON_IsObject(o))
		return 0;
	cJSON_ArrayForEach(e, o) if (++n > max || !e->string || !cJSON_IsString(e) ||
				     strlen(e->valuestring) > vmax) return 0;
	return 1;
}

static int str_arr_ok(const cJSON *a, size_t max, size_t vmax)
{
	const cJSON *e;
	size_t n = 0;
	if (!cJSON_IsArray(a))
		return 0;
	cJSON_ArrayForEach(e, a) if (++n > max || !cJSON_IsString(e) ||
				     strlen(e->valuestring) > vmax) return 0;
	return 1;
}

static int state_ok(const cJSON *s)
{
	const cJSON *e, *t;
	size_t n = 0;
	if (!str_map_ok(prun_get(s, "wo"), PRUN_STATE_MAX, 64) ||
	    !str_map_ok(prun_get(s, "once"), PROF_STEPS_MAX, PRUN_KEY_MAX) ||
	    !str_arr_ok(prun_get(s, "contested"), PRUN_STATE_MAX, PRUN_SEARCH_MAX) ||
	    !cJSON_IsObject(prun_get(s, "sets")))
		return 0;
	cJSON_ArrayForEach(e, prun_get(s, "sets"))
	{
		if (++n > PRUN_STATE_MAX || !e->string || !cJSON_IsArray(e) ||
		    cJSON_GetArraySize(e) > PRUN_TIMES_MAX)
			return 0;
		cJSON_ArrayForEach(t, e) if (!cJSON_IsNumber(t)) return 0;
	}
	return 1;
}

static int log_ok(const cJSON *a)
{
	static const char *const keys[] = { "path", "old", "new", "action", "result" };
	const cJSON *e;
	if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) > PRUN_LOG_MAX)
		return 0;
	cJSON_ArrayForEach(e, a)
	{
		if (!cJSON_IsObject(e))
			return 0;
		for (size_t k = 0; k < 5; k++)
			if (!cJSON_IsString(prun_get(e, keys[k])))
				return 0;
		if (prun_get(e, "err_code") && !is_int(prun_get(e, "err_code"), 0, 1e9))
			return 0;
		if (prun_get(e, "err_msg") && !cJSON_IsString(prun_get(e, "err_msg")))
			return 0;
	}
	return 1;
}

static int prof_ok(const cJSON *o)
{
	const cJSON *oc = prun_get(o, "outcome"), *d = prun_get(o, "detail"),
		    *dr = prun_get(o, "dropped");
	return cJSON_IsObject(o) && (!oc || prun_outcome_parse(cJSON_GetStringValue(oc)) >= 0) &&
	       is_int(prun_get(o, "retry"), 0, 1) && cJSON_IsString(d) &&
	       strlen(d->valuestring) < PRUN_DETAIL_MAX && (!dr || is_int(dr, 0, 1e12)) &&
	       state_ok(prun_get(o, "state")) && log_ok(prun_get(o, "log"));
}

const char *const prun_act_kinds[] = { "delete",  "add",   "set",
				       "operate", "stamp", "set_notification" };
int prun_act_kind(const char *s)
{
	for (int i = 0; s && i < ACT_KINDS; i++)
		if (strcmp(s, prun_act_kinds[i]) == 0)
			return i;
	return -1;
}

static int opt_str(const cJSON *o, const char *key, size_t max)
{
	const cJSON *j = prun_get(o, key);
	return !j || (cJSON_IsString(j) && strlen(j->valuestring) <= max);
}

static int act_ok(const cJSON *a, const struct prun_profile *p, size_t n)
{
	int kind = prun_act_kind(prun_str_of(a, "kind"));
	const cJSON *items = prun_get(a, "items"), *e;
	if (kind < 0 || !cJSON_IsArray(items) || cJSON_GetArraySize(items) > PRUN_ITEMS_MAX ||
	    !opt_str(a, "stamp", 63))
		return 0;
	cJSON_ArrayForEach(e, items)
	{
		const cJSON *pi = prun_get(e, "p");
		const char *path = prun_str_of(e, "path");
		if (!is_int(pi, 0, (double)n - 1) || !path || strlen(path) > PRUN_SEARCH_MAX ||
		    !opt_str(e, "old", PRUN_SHOW_MAX) || !opt_str(e, "new", PRUN_SHOW_MAX) ||
		    !opt_str(e, "key", PRUN_KEY_MAX) || !opt_str(e, "obj", PRUN_PATH_MAX))
			return 0;
		const struct prof_spec *s = p[(size_t)pi->valuedouble].spec;
		const char *h = prun_str_of(e, "hash");
		if (prun_get(e, "hash") && (!h || strlen(h) != 64))
			return 0;
		if (kind == ACT_SET && !prun_obj_len(path))
			return 0;
		if (kind == ACT_ADD && (!prun_str_of(e, "obj") ||
					!is_int(prun_get(e, "step"), 0, (double)s->n_steps - 1)))
			return 0;
		if (kind == ACT_OPERATE &&
		    (!is_int(prun_get(e, "step"), 0, (double)s->n_steps - 1) ||
		     !prun_str_of(e, "key")))
			return 0;
	}
	return 1;
}

/* A round's attributes: at most PRUN_INDEX_MAX paths, each "0".."6". */
static int attrs_ok(const cJSON *a)
{
	const cJSON *e;
	if (!cJSON_IsObject(a) || cJSON_GetArraySize(a) > PRUN_INDEX_MAX)
		return 0;
	cJSON_ArrayForEach(e, a)
	{
		if (!cJSON_IsString(e) || e->valuestring[0] < '0' || e->valuestring[0] > '6' ||
		    e->valuestring[1] || strlen(e->string) > PRUN_PATH_MAX)
			return 0;
	}
	return 1;
}

/* 0, or USPCTL_E_BAD_FIELD: this is not a work object of these profiles. */
int prun_work_ok(const cJSON *w, const struct prun_profile *p, size_t n, struct uspc_err *err)
{
	const char *why = NULL;
	const cJSON *profs = prun_get(w, "profiles"), *e;
	const char *phase = prun_str_of(w, "phase");
	if (!cJSON_IsObject(w))
		why = "not an object";
	else if (!is_int(prun_get(w, "v"), 1, 1))
		why = "v: expected 1";
	else if (!is_int(prun_get(w, "round"), 1, PRUN_MAX_ROUNDS))
		why = "round: expected 1.." /* PRUN_MAX_ROUNDS */;
	else if (!phase ||
		 (strcmp(phase, "read") && strcmp(phase, "act") && strcmp(phase, "attrs")))
		why = "phase: expected \"attrs\", \"read\" or \"act\"";
	else if (!cJSON_IsArray(profs) || (size_t)cJSON_GetArraySize(profs) != n)
		why = "profiles: expected one entry per profile";
	else if (!strcmp(phase, "act") && !act_ok(prun_get(w, "act"), p, n))
		why = "act: malformed";
	else if (prun_get(w, "owners") && !cJSON_IsObject(prun_get(w, "owners")))
		why = "owners: expected an object";
	else if (!opt_str(w, "stamp_out", 63))
		why = "stamp_out: expected a string";
	else if (prun_get(w, "attrs") && !attrs_ok(prun_get(w, "attrs")))
		why = "attrs: expected {path: \"0\"..\"6\"}";
	else if (!strcmp(phase, "attrs") &&
		 (!is_int(prun_get(w, "attrs_p"), 0, (double)n - 1) || !prun_get(w, "attrs")))
		why = "attrs_p, attrs: expected a profile index and what was read";
	if (!why) {
		size_t i = 0;
		cJSON_ArrayForEach(e, profs)
		{
			if (!prof_ok(e)) {
				why = "profiles: malformed entry";
				break;
			}
			i++;
		}
	}
	if (why)
		return uspc_err_set(err, USPCTL_E_BAD_FIELD, "profile run work: %s", why);
	return 0;
}
