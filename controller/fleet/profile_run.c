/*
 * profile_run.c — one agent's run of its provisioning profiles
 * (profile_run.h): the read, the merge by priority, the comparison, the
 * choice of the round's one action, the reading of every answer and the
 * verdicts. Pure; keeps nothing between calls: what a run needs next is
 * in its work object, which is checked in full when it comes back (the
 * engine keeps it in the database, so it is read as untrusted).
 *
 * The work object (ours; opaque to the engine):
 *   {"v": 1, "round": 1..PRUN_MAX_ROUNDS, "phase": "read" | "act",
 *    "profiles": [{"outcome"?: name (set once the profile's verdict is
 *                  known), "retry": 0|1, "detail": "",
 *                  "state": {"wo": {}, "once": {}, "sets": {}, "contested": []},
 *                  "log": [change, ...], "dropped": N}, ... one per profile],
 *    "act"?: {"kind": "delete"|"add"|"set"|"operate"|"stamp",
 *             "items": [{"p": profile, "path", "old"?, "new"?, "hash"?,
 *                        "obj"?, "step"?, "key"?}], "stamp"?: value},
 *    "owners"?: {...}, "stamp_out"?: ""}
 * A profile's "state" starts as its state for this run (another version,
 * factory_reset, force_write_only and reset_contested applied) and takes
 * every Set time, write-only hash and once marker as they happen: at the
 * end it is the new state. "act" says whom each part of the request in
 * flight belongs to.
 *
 * Bounds: a GetResp indexes at most PRUN_INDEX_MAX entries (more: the run
 * fails, retry), values shown in history are cut, every map of a state
 * and every list of a run has a cap.
 *
 * Called from one thread at a time; no globals.
 */
#include "profile_run.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "usp_utf8.h"

#define PRUN_INDEX_MAX 100000 /* requested paths + resolved objects + params of one GetResp */
#define PRUN_MATCH_MAX 64     /* instances of one ensure_instance whose params are set */
#define PRUN_DELETE_MAX 256   /* instances one Delete removes */
#define PRUN_ADD_MAX 64       /* rows one Add creates */
#define PRUN_ITEMS_MAX 200000 /* desired values, rows and commands of one read */
#define PRUN_LOG_MAX 1000     /* history changes kept per profile and run */
#define PRUN_STATE_MAX 8192   /* entries of each map of a profile's state */
#define PRUN_TIMES_MAX 64     /* Set times kept per path */
#define PRUN_PATH_MAX 4096    /* longest path indexed or requested */
#define PRUN_SEARCH_MAX 16384 /* longest search path */
#define PRUN_SHOW_MAX 512     /* bytes of a value shown in history */
#define PRUN_MSG_MAX 200      /* bytes of an agent's err_msg kept */
#define PRUN_KEY_MAX 200      /* bytes of a once marker */

/* ---- small helpers ------------------------------------------------------------ */

static const char *const outcome_names[] = { "compliant", "drifted", "failed", "not_applicable",
					     "contested" };
#define N_OUTCOMES (sizeof(outcome_names) / sizeof(outcome_names[0]))

const char *prun_outcome_name(enum prun_outcome o)
{
	return (unsigned)o < N_OUTCOMES ? outcome_names[o] : "unknown";
}

static int outcome_parse(const char *s)
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
	case 7025:
	case 7026:
	case 7027:
		return 1;
	default:
		return 0;
	}
}

static const cJSON *get(const cJSON *o, const char *key)
{
	return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

static const char *str_of(const cJSON *o, const char *key)
{
	const cJSON *j = get(o, key);
	return cJSON_IsString(j) ? j->valuestring : NULL;
}

static const cJSON *arr_of(const cJSON *o, const char *key)
{
	const cJSON *j = get(o, key);
	return cJSON_IsArray(j) ? j : NULL;
}

static const cJSON *obj_of(const cJSON *o, const char *key)
{
	const cJSON *j = get(o, key);
	return cJSON_IsObject(j) ? j : NULL;
}

/* err_code of a failure member: a number (0 when absent or odd). */
static int64_t code_of(const cJSON *o)
{
	const cJSON *c = get(o, "err_code");
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
static void copy(char *dst, size_t size, const char *src)
{
	size_t n = src ? strnlen(src, size - 1) : 0;
	n = n ? usp_utf8_valid_prefix(src, n) : 0;
	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

static void fmt(char *dst, size_t size, const char *f, ...) __attribute__((format(printf, 3, 4)));
static void fmt(char *dst, size_t size, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	vsnprintf(dst, size, f, ap);
	va_end(ap);
	dst[usp_utf8_valid_prefix(dst, strlen(dst))] = '\0';
}

/* "Device.Time.NTPServer1": the object path's length ("Device.Time."),
 * 0 when there is no parameter name after the last '.'. */
static size_t obj_len(const char *path)
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

static const char *shown(const char *path, int write_only, const char *v)
{
	return write_only || secret_name(path) ? "(secret)" : v ? v : "";
}

static int stamp_path_ok(const char *sp)
{
	return sp && *sp && strlen(sp) <= PRUN_PATH_MAX && obj_len(sp) > 0;
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
static int wo_hash(int64_t version, const char *path, const char *value, char out[65])
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

/* ---- a hash map of borrowed strings (a string may be given in two parts) ---- */

struct hent {
	const char *a, *b;
	size_t alen, blen;
	uint64_t h;
	const cJSON *j; /* what the key maps to (borrowed) */
	cJSON *w;       /* or a node being built */
	long i1, i2;
};

struct hmap {
	struct hent *e;
	size_t mask, n;
};

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static int hmap_init(struct hmap *m, size_t want)
{
	size_t cap = 16;
	while (cap < want * 2 + 2)
		cap <<= 1;
	m->e = calloc(cap, sizeof(*m->e));
	m->mask = cap - 1;
	m->n = 0;
	return m->e ? 0 : -1;
}

static void hmap_fini(struct hmap *m)
{
	free(m->e);
	m->e = NULL;
}

static int cat_eq(const struct hent *e, const char *a, size_t alen, const char *b, size_t blen)
{
	if (e->alen + e->blen != alen + blen)
		return 0;
	for (size_t i = 0; i < alen + blen; i++) {
		char x = i < e->alen ? e->a[i] : e->b[i - e->alen];
		char y = i < alen ? a[i] : b[i - alen];
		if (x != y)
			return 0;
	}
	return 1;
}

/* The entry of a..b, or the empty slot where it would go (e->a NULL). */
static struct hent *hmap_at(const struct hmap *m, const char *a, size_t alen, const char *b,
			    size_t blen, uint64_t *hp)
{
	uint64_t h = fnv(fnv(0xcbf29ce484222325ULL, a, alen), b, blen);
	*hp = h;
	for (size_t i = h & m->mask;; i = (i + 1) & m->mask) {
		struct hent *e = &m->e[i];
		if (!e->a || (e->h == h && cat_eq(e, a, alen, b, blen)))
			return e;
	}
}

static struct hent *hmap_getn(const struct hmap *m, const char *s, size_t len)
{
	uint64_t h;
	struct hent *e = hmap_at(m, s, len, "", 0, &h);
	return e->a ? e : NULL;
}

static struct hent *hmap_get(const struct hmap *m, const char *s)
{
	return hmap_getn(m, s, strlen(s));
}

/* The entry of a..b, added (i1 = i2 = -1) when new; NULL when full. */
static struct hent *hmap_put(struct hmap *m, const char *a, size_t alen, const char *b, size_t blen)
{
	uint64_t h;
	struct hent *e = hmap_at(m, a, alen, b, blen, &h);
	if (e->a)
		return e;
	if ((m->n + 1) * 2 > m->mask + 1)
		return NULL;
	*e = (struct hent){
		.a = a, .alen = alen, .b = b, .blen = blen, .h = h, .i1 = -1, .i2 = -1
	};
	m->n++;
	return e;
}

/* ---- string lists -------------------------------------------------------------- */

struct strv {
	char **v;
	size_t n, cap;
};

static int strv_take(struct strv *sv, char *s)
{
	if (!s)
		return -1;
	if (sv->n == sv->cap) {
		size_t cap = sv->cap ? sv->cap * 2 : 16;
		char **v = realloc(sv->v, cap * sizeof(*v));
		if (!v) {
			free(s);
			return -1;
		}
		sv->v = v;
		sv->cap = cap;
	}
	sv->v[sv->n++] = s;
	return 0;
}

static void strv_fini(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	memset(sv, 0, sizeof(*sv));
}

/* a + b as a new string */
static char *cat(const char *a, const char *b)
{
	size_t x = strlen(a), y = strlen(b);
	char *s = malloc(x + y + 1);
	if (s) {
		memcpy(s, a, x);
		memcpy(s + x, b, y + 1);
	}
	return s;
}

static char *inst_path(const char *table, int64_t num)
{
	char n[32];
	snprintf(n, sizeof(n), "%lld.", (long long)num);
	return cat(table, n);
}

/* ---- the run -------------------------------------------------------------------- */

struct run {
	const struct prun_profile *p;
	size_t n;
	const struct prun_ctx *ctx;
	cJSON *work;  /* the new work, owned until handed out */
	cJSON **prof; /* work.profiles[i] */
	int round;
	int oom;
};

/* Set o[key] = item (replacing), noting out of memory. */
static void put(struct run *r, cJSON *o, const char *key, cJSON *item)
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

static void push(struct run *r, cJSON *a, cJSON *item)
{
	if (!item || !a || !cJSON_AddItemToArray(a, item)) {
		cJSON_Delete(item);
		r->oom = 1;
	}
}

static cJSON *str_cut(const char *s, size_t max)
{
	char b[PRUN_SHOW_MAX + 1];
	copy(b, max + 1 < sizeof(b) ? max + 1 : sizeof(b), s);
	return cJSON_CreateString(b);
}

static int active(const struct run *r, size_t i)
{
	return !cJSON_GetObjectItemCaseSensitive(r->prof[i], "outcome");
}

/* A profile that acts (enforce or once, not a dry run). */
static int acting(const struct run *r, size_t i)
{
	return r->p[i].spec->mode != PROF_AUDIT && !r->ctx->dry_run;
}

static cJSON *pstate(const struct run *r, size_t i, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(r->prof[i], "state"), key);
}

/* The profile's verdict is known (the first one stays). */
static void mark(struct run *r, size_t i, enum prun_outcome o, int retry, const char *detail)
{
	if (!active(r, i))
		return;
	put(r, r->prof[i], "outcome", cJSON_CreateString(prun_outcome_name(o)));
	put(r, r->prof[i], "retry", cJSON_CreateNumber(retry));
	put(r, r->prof[i], "detail", cJSON_CreateString(detail));
}

/* A USP error on a path of profile i: permanent → not applicable, else failed. */
static void fail_path(struct run *r, size_t i, const char *path, int64_t code, const char *msg)
{
	char d[PRUN_DETAIL_MAX], m[PRUN_MSG_MAX];
	copy(m, sizeof(m), msg);
	if (code)
		fmt(d, sizeof(d), "%s: %lld%s%s", path, (long long)code, *m ? " " : "", m);
	else
		fmt(d, sizeof(d), "%s: %s", path, m);
	int perm = prun_err_permanent(code);
	mark(r, i, perm ? PRUN_NOT_APPLICABLE : PRUN_FAILED, !perm, d);
}

static void fail_active(struct run *r, const char *detail)
{
	for (size_t i = 0; i < r->n; i++)
		mark(r, i, PRUN_FAILED, 1, detail);
}

static void log_change(struct run *r, size_t i, const char *path, const char *old, const char *new,
		       const char *action, const char *result, int64_t code, const char *msg)
{
	cJSON *log = cJSON_GetObjectItemCaseSensitive(r->prof[i], "log");
	if (cJSON_GetArraySize(log) >= PRUN_LOG_MAX) {
		cJSON *d = cJSON_GetObjectItemCaseSensitive(r->prof[i], "dropped");
		put(r, r->prof[i], "dropped", cJSON_CreateNumber(d ? d->valuedouble + 1 : 1));
		return;
	}
	cJSON *c = cJSON_CreateObject();
	put(r, c, "path", str_cut(path, PRUN_SHOW_MAX));
	put(r, c, "old", str_cut(old, PRUN_SHOW_MAX));
	put(r, c, "new", str_cut(new, PRUN_SHOW_MAX));
	put(r, c, "action", cJSON_CreateString(action));
	put(r, c, "result", cJSON_CreateString(result));
	if (code)
		put(r, c, "err_code", cJSON_CreateNumber((double)code));
	if (msg && *msg)
		put(r, c, "err_msg", str_cut(msg, PRUN_MSG_MAX));
	push(r, log, c);
}

/* Expand text for profile i, step k into buf (PROF_VALUE_MAX + 1 bytes):
 * 0, or 1 after marking the profile FAILED (not worth retrying). */
static int expand(struct run *r, size_t i, size_t k, const char *text, char *buf)
{
	char why[PRUN_DETAIL_MAX - 32], d[PRUN_DETAIL_MAX];
	why[0] = '\0';
	if (prof_tpl_expand(text ? text : "", &r->ctx->tpl, buf, PROF_VALUE_MAX + 1, why,
			    sizeof(why)) == 0)
		return 0;
	fmt(d, sizeof(d), "step %zu: %s", k + 1, why[0] ? why : "template has no value");
	mark(r, i, PRUN_FAILED, 0, d);
	buf[0] = '\0';
	return 1;
}

/* "<table>[K1==\"v1\"&&K2==\"v2\"]." with the keys expanded: 0, 1 the
 * profile failed, -1 out of memory. */
static int search_path(struct run *r, size_t i, size_t k, char **out)
{
	const struct prof_step *st = &r->p[i].spec->steps[k];
	char v[PROF_VALUE_MAX + 1], d[PRUN_DETAIL_MAX];
	*out = NULL;
	if (!st->table || !st->n_keys) {
		fmt(d, sizeof(d), "step %zu: no table or keys", k + 1);
		mark(r, i, PRUN_FAILED, 0, d);
		return 1;
	}
	char *s = malloc(PRUN_SEARCH_MAX + 1);
	if (!s)
		return -1;
	size_t len = 0;
	int over = 0;
#define APPEND(t)                                            \
	do {                                                 \
		size_t l_ = strlen(t);                       \
		if (len + l_ > PRUN_SEARCH_MAX)              \
			over = 1;                            \
		else                                         \
			memcpy(s + len, (t), l_), len += l_; \
	} while (0)
	APPEND(st->table);
	APPEND("[");
	for (size_t j = 0; j < st->n_keys; j++) {
		if (expand(r, i, k, st->keys[j].v.text, v)) {
			free(s);
			return 1;
		}
		if (strchr(v, '"')) {
			fmt(d, sizeof(d), "step %zu: the value of %s holds a '\"'", k + 1,
			    st->keys[j].name);
			mark(r, i, PRUN_FAILED, 0, d);
			free(s);
			return 1;
		}
		if (j)
			APPEND("&&");
		APPEND(st->keys[j].name);
		APPEND("==\"");
		APPEND(v);
		APPEND("\"");
	}
	APPEND("].");
#undef APPEND
	s[len] = '\0';
	if (over) {
		fmt(d, sizeof(d), "step %zu: search path too long", k + 1);
		mark(r, i, PRUN_FAILED, 0, d);
		free(s);
		return 1;
	}
	*out = s;
	return 0;
}

/* The paths profile i reads, into sv: 0, 1 the profile failed, -1 no memory. */
static int prof_reads(struct run *r, size_t i, struct strv *sv)
{
	const struct prof_spec *s = r->p[i].spec;
	for (size_t k = 0; k < s->n_steps; k++) {
		const struct prof_step *st = &s->steps[k];
		char *sp;
		int rc;
		switch (st->kind) {
		case PROF_STEP_SET:
			for (size_t j = 0; j < st->n_params; j++)
				if (strv_take(sv, strdup(st->params[j].name)) < 0)
					return -1;
			break;
		case PROF_STEP_ENSURE_INSTANCE:
		case PROF_STEP_SUBSCRIBE:
		case PROF_STEP_ENSURE_ABSENT:
			if ((rc = search_path(r, i, k, &sp)) != 0)
				return rc;
			if (strv_take(sv, sp) < 0)
				return -1;
			break;
		case PROF_STEP_ENSURE_COUNT:
			if (!st->table || strv_take(sv, strdup(st->table)) < 0)
				return -1;
			break;
		case PROF_STEP_OPERATE:
			break;
		}
	}
	return 0;
}

/* Every template of profile i has a value for this agent: 0, or 1 (FAILED). */
static int tpl_check(struct run *r, size_t i)
{
	const struct prof_spec *s = r->p[i].spec;
	char v[PROF_VALUE_MAX + 1];
	for (size_t k = 0; k < s->n_steps; k++) {
		const struct prof_step *st = &s->steps[k];
		const struct prof_param *lists[] = { st->keys, st->params, st->args };
		size_t counts[] = { st->n_keys, st->n_params, st->n_args };
		for (size_t l = 0; l < 3; l++)
			for (size_t j = 0; j < counts[l]; j++)
				if (expand(r, i, k, lists[l][j].v.text, v))
					return 1;
	}
	return 0;
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
static cJSON *state_init(struct run *r, size_t i)
{
	const struct prun_profile *pp = &r->p[i];
	const struct prun_ctx *c = r->ctx;
	const cJSON *src = cJSON_IsObject(pp->state) ? pp->state : NULL;
	const cJSON *ver = get(src, "version"), *e;
	int same = cJSON_IsNumber(ver) && ver->valuedouble == (double)pp->version;
	cJSON *st = cJSON_CreateObject(), *wo = cJSON_CreateObject(), *once = cJSON_CreateObject();
	cJSON *sets = cJSON_CreateObject(), *cont = cJSON_CreateArray();
	put(r, st, "wo", wo);
	put(r, st, "once", once);
	put(r, st, "sets", sets);
	put(r, st, "contested", cont);
	if (r->oom) {
		cJSON_Delete(st);
		return NULL;
	}
	size_t k = 0;
	cJSON_ArrayForEach(e, obj_of(src, "once"))
	{
		if (k >= PROF_STEPS_MAX || !cJSON_IsString(e) || !e->string ||
		    strlen(e->valuestring) > PRUN_KEY_MAX || get(once, e->string) ||
		    (c->factory_reset && e->valuestring[0] == 'b'))
			continue;
		put(r, once, e->string, cJSON_CreateString(e->valuestring));
		k++;
	}
	k = 0;
	if (same && !c->factory_reset && !c->force_write_only)
		cJSON_ArrayForEach(e, obj_of(src, "wo"))
		{
			if (k >= PRUN_STATE_MAX || !cJSON_IsString(e) || !e->string ||
			    strlen(e->valuestring) != 64 || get(wo, e->string))
				continue;
			put(r, wo, e->string, cJSON_CreateString(e->valuestring));
			k++;
		}
	k = 0;
	if (same && !c->factory_reset && contest_on(c))
		cJSON_ArrayForEach(e, obj_of(src, "sets"))
		{
			if (k >= PRUN_STATE_MAX || !cJSON_IsArray(e) || !e->string ||
			    get(sets, e->string))
				continue;
			cJSON *t = times_pruned(c, e);
			if (t && cJSON_GetArraySize(t) == 0) {
				cJSON_Delete(t);
				continue;
			}
			put(r, sets, e->string, t);
			k++;
		}
	k = 0;
	if (same && !c->reset_contested)
		cJSON_ArrayForEach(e, arr_of(src, "contested"))
		{
			if (k >= PRUN_STATE_MAX || !cJSON_IsString(e) ||
			    strlen(e->valuestring) > PRUN_SEARCH_MAX)
				continue;
			push(r, cont, cJSON_CreateString(e->valuestring));
			k++;
		}
	if (r->oom) {
		cJSON_Delete(st);
		return NULL;
	}
	return st;
}

/* The state to keep: the run's state with the profile's version. */
static cJSON *state_out(const struct run *r, size_t i)
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
static int contested_now(struct run *r, size_t i, const char *path, int mark_it)
{
	cJSON *cl = pstate(r, i, "contested");
	const cJSON *e;
	cJSON_ArrayForEach(e,
			   cl) if (cJSON_IsString(e) && strcmp(e->valuestring, path) == 0) return 1;
	if (!contest_on(r->ctx))
		return 0;
	int n = 0;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(pstate(r, i, "sets"), path))
	{
		if (cJSON_IsNumber(e) &&
		    e->valuedouble >= (double)(r->ctx->now_s - r->ctx->contest_window_s))
			n++;
	}
	if (n < r->ctx->contest_count)
		return 0;
	if (mark_it && cJSON_GetArraySize(cl) < PRUN_STATE_MAX)
		push(r, cl, cJSON_CreateString(path));
	return 1;
}

/* A successful Set of path by profile i, now. */
static void record_set(struct run *r, size_t i, const char *path)
{
	if (!contest_on(r->ctx))
		return;
	cJSON *sets = pstate(r, i, "sets");
	const cJSON *old = cJSON_GetObjectItemCaseSensitive(sets, path);
	if (!old && cJSON_GetArraySize(sets) >= PRUN_STATE_MAX)
		return;
	cJSON *t = cJSON_Duplicate(old ? old : NULL, 1);
	if (!t)
		t = cJSON_CreateArray();
	push(r, t, cJSON_CreateNumber((double)r->ctx->now_s));
	cJSON *kept = t ? times_pruned(r->ctx, t) : NULL;
	cJSON_Delete(t);
	put(r, sets, path, kept);
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
	if (!str_map_ok(get(s, "wo"), PRUN_STATE_MAX, 64) ||
	    !str_map_ok(get(s, "once"), PROF_STEPS_MAX, PRUN_KEY_MAX) ||
	    !str_arr_ok(get(s, "contested"), PRUN_STATE_MAX, PRUN_SEARCH_MAX) ||
	    !cJSON_IsObject(get(s, "sets")))
		return 0;
	cJSON_ArrayForEach(e, get(s, "sets"))
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
			if (!cJSON_IsString(get(e, keys[k])))
				return 0;
		if (get(e, "err_code") && !is_int(get(e, "err_code"), 0, 1e9))
			return 0;
		if (get(e, "err_msg") && !cJSON_IsString(get(e, "err_msg")))
			return 0;
	}
	return 1;
}

static int prof_ok(const cJSON *o)
{
	const cJSON *oc = get(o, "outcome"), *d = get(o, "detail"), *dr = get(o, "dropped");
	return cJSON_IsObject(o) && (!oc || outcome_parse(cJSON_GetStringValue(oc)) >= 0) &&
	       is_int(get(o, "retry"), 0, 1) && cJSON_IsString(d) &&
	       strlen(d->valuestring) < PRUN_DETAIL_MAX && (!dr || is_int(dr, 0, 1e12)) &&
	       state_ok(get(o, "state")) && log_ok(get(o, "log"));
}

static const char *const act_kinds[] = { "delete", "add", "set", "operate", "stamp" };
enum { ACT_DELETE, ACT_ADD, ACT_SET, ACT_OPERATE, ACT_STAMP };

static int act_kind(const char *s)
{
	for (int i = 0; s && i < 5; i++)
		if (strcmp(s, act_kinds[i]) == 0)
			return i;
	return -1;
}

static int opt_str(const cJSON *o, const char *key, size_t max)
{
	const cJSON *j = get(o, key);
	return !j || (cJSON_IsString(j) && strlen(j->valuestring) <= max);
}

static int act_ok(const cJSON *a, const struct prun_profile *p, size_t n)
{
	int kind = act_kind(str_of(a, "kind"));
	const cJSON *items = get(a, "items"), *e;
	if (kind < 0 || !cJSON_IsArray(items) || cJSON_GetArraySize(items) > PRUN_ITEMS_MAX ||
	    !opt_str(a, "stamp", 63))
		return 0;
	cJSON_ArrayForEach(e, items)
	{
		const cJSON *pi = get(e, "p");
		const char *path = str_of(e, "path");
		if (!is_int(pi, 0, (double)n - 1) || !path || strlen(path) > PRUN_SEARCH_MAX ||
		    !opt_str(e, "old", PRUN_SHOW_MAX) || !opt_str(e, "new", PRUN_SHOW_MAX) ||
		    !opt_str(e, "key", PRUN_KEY_MAX) || !opt_str(e, "obj", PRUN_PATH_MAX))
			return 0;
		const struct prof_spec *s = p[(size_t)pi->valuedouble].spec;
		const char *h = str_of(e, "hash");
		if (get(e, "hash") && (!h || strlen(h) != 64))
			return 0;
		if (kind == ACT_SET && !obj_len(path))
			return 0;
		if (kind == ACT_ADD &&
		    (!str_of(e, "obj") || !is_int(get(e, "step"), 0, (double)s->n_steps - 1)))
			return 0;
		if (kind == ACT_OPERATE &&
		    (!is_int(get(e, "step"), 0, (double)s->n_steps - 1) || !str_of(e, "key")))
			return 0;
	}
	return 1;
}

/* 0, or USPCTL_E_BAD_FIELD: this is not a work object of these profiles. */
static int work_ok(const cJSON *w, const struct prun_profile *p, size_t n, struct uspc_err *err)
{
	const char *why = NULL;
	const cJSON *profs = get(w, "profiles"), *e;
	const char *phase = str_of(w, "phase");
	if (!cJSON_IsObject(w))
		why = "not an object";
	else if (!is_int(get(w, "v"), 1, 1))
		why = "v: expected 1";
	else if (!is_int(get(w, "round"), 1, PRUN_MAX_ROUNDS))
		why = "round: expected 1.." /* PRUN_MAX_ROUNDS */;
	else if (!phase || (strcmp(phase, "read") && strcmp(phase, "act")))
		why = "phase: expected \"read\" or \"act\"";
	else if (!cJSON_IsArray(profs) || (size_t)cJSON_GetArraySize(profs) != n)
		why = "profiles: expected one entry per profile";
	else if (!strcmp(phase, "act") && !act_ok(get(w, "act"), p, n))
		why = "act: malformed";
	else if (get(w, "owners") && !cJSON_IsObject(get(w, "owners")))
		why = "owners: expected an object";
	else if (!opt_str(w, "stamp_out", 63))
		why = "stamp_out: expected a string";
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

/* ---- reading a GetResp ------------------------------------------------------------ */

struct rd {
	struct hmap rq;  /* requested_path -> its req_path_result */
	struct hmap val; /* resolved_path + key -> the value (a string) */
};

static void rd_fini(struct rd *rd)
{
	hmap_fini(&rd->rq);
	hmap_fini(&rd->val);
}

/* Index a GetResp: 0, 1 unreadable, 2 too large, -1 out of memory. */
static int rd_build(struct rd *rd, const cJSON *res)
{
	const cJSON *reqs = get(res, "req_path_results"), *rr, *one, *kv;
	size_t nrq = 0, nval = 0, total = 0;
	memset(rd, 0, sizeof(*rd));
	if (reqs && !cJSON_IsArray(reqs))
		return 1;
	cJSON_ArrayForEach(rr, reqs)
	{
		nrq++;
		if (++total > PRUN_INDEX_MAX)
			return 2;
		cJSON_ArrayForEach(one, arr_of(rr, "resolved_path_results"))
		{
			if (++total > PRUN_INDEX_MAX)
				return 2;
			cJSON_ArrayForEach(kv, obj_of(one, "result_params"))
			{
				nval++;
				if (++total > PRUN_INDEX_MAX)
					return 2;
			}
		}
	}
	if (hmap_init(&rd->rq, nrq) < 0 || hmap_init(&rd->val, nval) < 0) {
		rd_fini(rd);
		return -1;
	}
	cJSON_ArrayForEach(rr, reqs)
	{
		const char *q = str_of(rr, "requested_path");
		struct hent *e = q ? hmap_put(&rd->rq, q, strlen(q), "", 0) : NULL;
		if (e && !e->j)
			e->j = rr;
		cJSON_ArrayForEach(one, arr_of(rr, "resolved_path_results"))
		{
			const char *path = str_of(one, "resolved_path");
			size_t plen = path ? strnlen(path, PRUN_PATH_MAX + 1) : 0;
			if (!path || plen > PRUN_PATH_MAX)
				continue;
			cJSON_ArrayForEach(kv, obj_of(one, "result_params"))
			{
				if (!cJSON_IsString(kv) || !kv->string)
					continue;
				e = hmap_put(&rd->val, path, plen, kv->string, strlen(kv->string));
				if (e && !e->j)
					e->j = kv;
			}
		}
	}
	return 0;
}

static const char *rd_value(const struct rd *rd, const char *path)
{
	const struct hent *e = rd->val.e ? hmap_get(&rd->val, path) : NULL;
	return e ? e->j->valuestring : NULL;
}

static const cJSON *rd_req(const struct rd *rd, const char *path)
{
	const struct hent *e = rd->rq.e ? hmap_get(&rd->rq, path) : NULL;
	return e ? e->j : NULL;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The distinct instance numbers directly under table among the resolved
 * paths of rr, ascending, in *out (malloc'd; NULL when none): 0 or -1. */
static int instances(const cJSON *rr, const char *table, int64_t **out, size_t *n)
{
	const cJSON *rp = arr_of(rr, "resolved_path_results"), *one;
	size_t cap = (size_t)cJSON_GetArraySize(rp), k = 0, tl = strlen(table);
	*out = NULL;
	*n = 0;
	if (!cap)
		return 0;
	int64_t *v = malloc(cap * sizeof(*v));
	if (!v)
		return -1;
	cJSON_ArrayForEach(one, rp)
	{
		const char *s = str_of(one, "resolved_path");
		if (!s || strncmp(s, table, tl) != 0 || k == cap)
			continue;
		s += tl;
		int64_t x = 0;
		int d = 0;
		while (*s >= '0' && *s <= '9' && d < 18)
			x = x * 10 + (*s++ - '0'), d++;
		if (d && *s == '.')
			v[k++] = x;
	}
	qsort(v, k, sizeof(*v), cmp_i64);
	size_t u = 0;
	for (size_t i = 0; i < k; i++)
		if (u == 0 || v[u - 1] != v[i])
			v[u++] = v[i];
	if (!u) {
		free(v);
		return 0;
	}
	*out = v;
	*n = u;
	return 0;
}

/* ---- what each profile wants, as items ----------------------------------------------- */

enum { K_SET, K_ADD, K_ADDN, K_DEL, K_CLAIM, K_OP };

struct item {
	int kind;
	size_t prof, step;
	char *path;   /* merge key: param path, search path (row), table, instance */
	char *target; /* acted on when not path: the table of an Add, a Delete's instance */
	char *want;   /* K_SET: the expanded value; K_OP: the command key */
	const struct prof_value *v;
	const char *have; /* K_SET: the value read (borrowed), NULL absent */
	int differs, overridden, dropped, contested;
};
#define TGT(it) ((it)->target ? (it)->target : (it)->path)

struct items {
	struct item *v;
	size_t n, cap;
	int full;
};

static void items_fini(struct items *v)
{
	for (size_t i = 0; i < v->n; i++) {
		free(v->v[i].path);
		free(v->v[i].target);
		free(v->v[i].want);
	}
	free(v->v);
	memset(v, 0, sizeof(*v));
}

/* A new item owning path (freed on failure); NULL: no memory or full. */
static struct item *item_new(struct items *v, int kind, size_t prof, size_t step, char *path)
{
	if (!path)
		return NULL;
	if (v->n == PRUN_ITEMS_MAX) {
		v->full = 1;
		free(path);
		return NULL;
	}
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		struct item *n = realloc(v->v, cap * sizeof(*n));
		if (!n) {
			free(path);
			return NULL;
		}
		v->v = n;
		v->cap = cap;
	}
	struct item *it = &v->v[v->n++];
	*it = (struct item){ .kind = kind, .prof = prof, .step = step, .path = path };
	return it;
}

static int value_num(const char *s, double *d)
{
	char *end;
	if (!*s || *s == ' ' || *s == '\t')
		return -1;
	*d = strtod(s, &end);
	return *end ? -1 : 0;
}

static int bool_pair(const char *a, const char *b)
{
	return (!strcmp(a, "true") && !strcmp(b, "1")) || (!strcmp(a, "1") && !strcmp(b, "true")) ||
	       (!strcmp(a, "false") && !strcmp(b, "0")) || (!strcmp(a, "0") && !strcmp(b, "false"));
}

static int value_eq(enum prof_vtype t, const char *want, const char *have)
{
	double a, b;
	switch (t) {
	case PROF_V_BOOL:
		if (!strcmp(want, "true") || !strcmp(want, "1"))
			return !strcmp(have, "true") || !strcmp(have, "1");
		return !strcmp(have, "false") || !strcmp(have, "0");
	case PROF_V_NUMBER:
		if (value_num(want, &a) < 0 || value_num(have, &b) < 0)
			return strcmp(want, have) == 0;
		return a == b;
	default:
		return strcmp(want, have) == 0 || bool_pair(want, have);
	}
}

static int matches(const struct run *r, const struct item *it)
{
	const char *have = it->have;
	if (!have) {
		if (!it->v->write_only)
			return 0;
		have = "";
	}
	if (value_eq(it->v->type, it->want, have))
		return 1;
	if (!it->v->write_only || have[0])
		return 0;
	char h[65];
	const char *got = str_of(pstate(r, it->prof, "wo"), it->path);
	return got && wo_hash(r->p[it->prof].version, it->path, it->want, h) == 0 &&
	       strcmp(got, h) == 0;
}

/* A desired value of profile i: 0, 1 the profile failed, -1 no memory. */
static int want_value(struct run *r, const struct rd *rd, struct items *v, size_t i, size_t k,
		      char *path, const struct prof_value *pv)
{
	char buf[PROF_VALUE_MAX + 1];
	if (expand(r, i, k, pv->text, buf)) {
		free(path);
		return 1;
	}
	struct item *it = item_new(v, K_SET, i, k, path);
	if (!it)
		return v->full ? 1 : -1;
	it->v = pv;
	it->have = rd_value(rd, path);
	if (!(it->want = strdup(buf)))
		return -1;
	it->differs = !matches(r, it);
	return 0;
}

static void once_key(const struct run *r, size_t i, const struct prof_step *st, char *out)
{
	const char *b = r->ctx->boot_key, *f = r->ctx->tpl.software_version;
	char tmp[PRUN_KEY_MAX + 2];
	if (st->once_per == PROF_ONCE_BOOT)
		snprintf(tmp, sizeof(tmp), "b%s", b ? b : "");
	else if (st->once_per == PROF_ONCE_FIRMWARE)
		snprintf(tmp, sizeof(tmp), "f%s", f ? f : "");
	else
		snprintf(tmp, sizeof(tmp), "v%lld", (long long)r->p[i].version);
	copy(out, PRUN_KEY_MAX + 1, tmp);
}

/* An operate step is due unless its marker holds this key; with the boot
 * or firmware unknown, only when it never ran. */
static int op_due(const struct run *r, size_t i, size_t k, const char *key)
{
	char idx[24];
	snprintf(idx, sizeof(idx), "%zu", k + 1);
	const char *got = str_of(pstate(r, i, "once"), idx);
	if (!got)
		return 1;
	if (key[1] == '\0')
		return 0;
	return strcmp(got, key) != 0;
}

static int row_items(struct run *r, const struct rd *rd, struct items *v, size_t i, size_t k)
{
	const struct prof_step *st = &r->p[i].spec->steps[k];
	char *sp;
	int64_t *nums;
	size_t nn;
	int rc = search_path(r, i, k, &sp);
	if (rc)
		return rc;
	const cJSON *rr = rd_req(rd, sp);
	if (instances(rr, st->table, &nums, &nn) < 0) {
		free(sp);
		return -1;
	}
	if (st->kind == PROF_STEP_ENSURE_ABSENT) {
		struct item *c = item_new(v, K_CLAIM, i, k, sp);
		for (size_t j = 0; c && j < nn && j < PRUN_DELETE_MAX; j++) {
			struct item *it = item_new(v, K_DEL, i, k, inst_path(st->table, nums[j]));
			if (!it)
				c = NULL;
			else
				it->differs = 1;
		}
		free(nums);
		return c ? 0 : v->full ? 1 : -1;
	}
	if (!nn) {
		struct item *it = item_new(v, K_ADD, i, k, sp);
		if (!it)
			return v->full ? 1 : -1;
		it->differs = 1;
		return (it->target = strdup(st->table)) ? 0 : -1;
	}
	free(sp);
	for (size_t j = 0; j < nn && j < PRUN_MATCH_MAX; j++) {
		char *inst = inst_path(st->table, nums[j]);
		for (size_t q = 0; inst && q < st->n_params; q++) {
			rc = want_value(r, rd, v, i, k, cat(inst, st->params[q].name),
					&st->params[q].v);
			if (rc) {
				free(inst);
				free(nums);
				return rc;
			}
		}
		if (!inst) {
			free(nums);
			return -1;
		}
		free(inst);
	}
	free(nums);
	return 0;
}

static int count_items(struct run *r, const struct rd *rd, struct items *v, size_t i, size_t k)
{
	const struct prof_step *st = &r->p[i].spec->steps[k];
	int64_t *nums;
	size_t nn;
	if (instances(rd_req(rd, st->table), st->table, &nums, &nn) < 0)
		return -1;
	int ok = item_new(v, K_CLAIM, i, k, strdup(st->table)) != NULL;
	for (int64_t j = (int64_t)nn; ok && j < st->min && j - (int64_t)nn < PRUN_ADD_MAX; j++) {
		struct item *it = item_new(v, K_ADDN, i, k, strdup(st->table));
		if ((ok = it != NULL))
			it->differs = 1;
	}
	for (int64_t j = 0; ok && (int64_t)nn - j > st->max && j < PRUN_DELETE_MAX; j++) {
		struct item *it = item_new(v, K_DEL, i, k, strdup(st->table));
		if ((ok = it != NULL)) {
			it->differs = 1;
			ok = (it->target = inst_path(st->table, nums[nn - 1 - (size_t)j])) != NULL;
		}
	}
	free(nums);
	return ok ? 0 : v->full ? 1 : -1;
}

/* Profile i's items from this read: 0, 1 the profile failed, -1 no memory. */
static int prof_items(struct run *r, const struct rd *rd, struct items *v, size_t i)
{
	const struct prof_spec *s = r->p[i].spec;
	int rc = 0;
	for (size_t k = 0; rc == 0 && k < s->n_steps; k++) {
		const struct prof_step *st = &s->steps[k];
		switch (st->kind) {
		case PROF_STEP_SET:
			for (size_t q = 0; rc == 0 && q < st->n_params; q++)
				rc = want_value(r, rd, v, i, k, strdup(st->params[q].name),
						&st->params[q].v);
			break;
		case PROF_STEP_ENSURE_INSTANCE:
		case PROF_STEP_SUBSCRIBE:
		case PROF_STEP_ENSURE_ABSENT:
			rc = row_items(r, rd, v, i, k);
			break;
		case PROF_STEP_ENSURE_COUNT:
			rc = count_items(r, rd, v, i, k);
			break;
		case PROF_STEP_OPERATE: {
			char key[PRUN_KEY_MAX + 1], ck[PROF_NAME_MAX + 64];
			once_key(r, i, st, key);
			if (!op_due(r, i, k, key) || !st->command)
				break;
			struct item *it = item_new(v, K_OP, i, k, strdup(st->command));
			snprintf(ck, sizeof(ck), "uspc-profile:%s:v%lld:%zu", s->name,
				 (long long)r->p[i].version, k + 1);
			if (!it || !(it->want = strdup(ck)))
				rc = v->full ? 1 : -1;
			else
				it->differs = 1;
			break;
		}
		}
	}
	if (rc == 1 && v->full)
		mark(r, i, PRUN_FAILED, 1, "too many paths in the answer");
	return rc;
}

/* Per path the highest profile wins (see the header); a Delete and a
 * value inside the deleted instance: the higher profile wins as well. */
static int merge(const struct run *r, struct items *v)
{
	struct hmap keys = { 0 }, dels = { 0 }, prefs = { 0 };
	size_t npref = 0;
	int rc = -1;
	for (size_t x = 0; x < v->n; x++)
		if (v->v[x].kind == K_SET)
			for (const char *s = v->v[x].path; *s; s++)
				npref += *s == '.';
	if (hmap_init(&keys, v->n) < 0 || hmap_init(&dels, v->n) < 0 ||
	    hmap_init(&prefs, npref) < 0)
		goto out;
	for (size_t x = 0; x < v->n; x++) {
		struct item *it = &v->v[x];
		if (!active(r, it->prof) || it->kind == K_OP)
			continue;
		struct hent *e = hmap_put(&keys, it->path, strlen(it->path), "", 0);
		if (!e)
			goto out;
		if (e->i1 < (long)it->prof)
			e->i1 = (long)it->prof, e->i2 = -1;
		if (e->i1 == (long)it->prof && it->kind == K_SET)
			e->i2 = (long)x;
		if (it->kind == K_DEL) {
			if (!(e = hmap_put(&dels, TGT(it), strlen(TGT(it)), "", 0)))
				goto out;
			if (e->i1 < (long)it->prof)
				e->i1 = (long)it->prof;
		}
		if (it->kind == K_SET)
			for (const char *s = it->path; *s; s++) {
				if (*s != '.')
					continue;
				e = hmap_put(&prefs, it->path, (size_t)(s - it->path) + 1, "", 0);
				if (!e)
					goto out;
				if (e->i1 < (long)it->prof)
					e->i1 = (long)it->prof;
			}
	}
	for (size_t x = 0; x < v->n; x++) {
		struct item *it = &v->v[x];
		if (!active(r, it->prof) || it->kind == K_OP)
			continue;
		const struct hent *e = hmap_get(&keys, it->path);
		if (e && e->i1 > (long)it->prof)
			it->overridden = 1;
		else if (it->kind == K_SET && e && e->i2 != (long)x)
			it->dropped = 1; /* the same profile sets the path again later */
		if (it->kind == K_SET || it->kind == K_ADD)
			for (const char *s = TGT(it); *s; s++)
				if (*s == '.' &&
				    (e = hmap_getn(&dels, TGT(it), (size_t)(s - TGT(it)) + 1)) &&
				    e->i1 > (long)it->prof)
					it->overridden = 1;
		if (it->kind == K_DEL && (e = hmap_get(&prefs, TGT(it))) && e->i1 > (long)it->prof)
			it->overridden = 1;
	}
	rc = 0;
out:
	hmap_fini(&keys);
	hmap_fini(&dels);
	hmap_fini(&prefs);
	return rc;
}

/* Work an acting profile has to do for this item. */
static int todo(const struct run *r, const struct item *it)
{
	return active(r, it->prof) && acting(r, it->prof) && !it->overridden && !it->dropped &&
	       it->differs && it->kind != K_CLAIM && !(it->kind == K_SET && it->contested);
}

/* ---- handing out a step ------------------------------------------------------------- */

/* The next request: the work goes out with it. 1, or -1 out of memory. */
static int emit(struct run *r, const char *op, cJSON *req, cJSON *act, struct prun_step *out)
{
	put(r, r->work, "phase", cJSON_CreateString(act ? "act" : "read"));
	put(r, r->work, "round", cJSON_CreateNumber(r->round));
	if (act)
		put(r, r->work, "act", act);
	else
		cJSON_DeleteItemFromObjectCaseSensitive(r->work, "act");
	if (r->oom || !req) {
		cJSON_Delete(req);
		return -1;
	}
	out->op = op;
	out->request = req;
	out->work = r->work;
	r->work = NULL;
	return 1;
}

/* The run is over: one verdict per profile. 0 or -1. */
static int finish(struct run *r, struct prun_step *out)
{
	out->done = 1;
	out->op = NULL;
	out->verdicts = calloc(r->n ? r->n : 1, sizeof(*out->verdicts));
	if (!out->verdicts)
		return -1;
	out->n_verdicts = r->n;
	for (size_t i = 0; i < r->n; i++) {
		struct prun_verdict *v = &out->verdicts[i];
		int o = outcome_parse(str_of(r->prof[i], "outcome"));
		const cJSON *rt = get(r->prof[i], "retry"), *dr = get(r->prof[i], "dropped");
		if (o < 0) {
			o = PRUN_FAILED;
			copy(v->detail, sizeof(v->detail), "the run ended before a verdict");
			v->retry = 1;
		} else {
			copy(v->detail, sizeof(v->detail), str_of(r->prof[i], "detail"));
			v->retry = cJSON_IsNumber(rt) && rt->valuedouble == 1;
		}
		v->outcome = (enum prun_outcome)o;
		v->state = state_out(r, i);
		v->history = cJSON_CreateObject();
		cJSON *h = v->history;
		put(r, h, "outcome", cJSON_CreateString(prun_outcome_name(v->outcome)));
		put(r, h, "detail", cJSON_CreateString(v->detail));
		put(r, h, "rounds", cJSON_CreateNumber(r->round));
		put(r, h, "changes",
		    cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(r->prof[i], "log"), 1));
		if (cJSON_IsNumber(dr))
			put(r, h, "changes_dropped", cJSON_CreateNumber(dr->valuedouble));
		if (!v->state)
			r->oom = 1;
	}
	const cJSON *ow = get(r->work, "owners");
	out->owners = ow ? cJSON_Duplicate(ow, 1) : cJSON_CreateObject();
	if (!out->owners)
		r->oom = 1;
	copy(out->stamp, sizeof(out->stamp), str_of(r->work, "stamp_out"));
	return r->oom ? -1 : 0;
}

/* No answer: the run stops without verdicts. */
static int interrupt(struct run *r, struct prun_step *out)
{
	out->done = 1;
	out->interrupted = 1;
	out->op = NULL;
	out->states = cJSON_CreateArray();
	for (size_t i = 0; i < r->n; i++)
		push(r, out->states, state_out(r, i));
	return r->oom ? -1 : 0;
}

static int issue_read(struct run *r, struct prun_step *out);

/* After an answer that gives no values: read again, unless out of rounds. */
static int next_round(struct run *r, struct prun_step *out)
{
	cJSON_DeleteItemFromObjectCaseSensitive(r->work, "act");
	if (r->round >= PRUN_MAX_ROUNDS) {
		char d[64];
		snprintf(d, sizeof(d), "did not converge in %d rounds", PRUN_MAX_ROUNDS);
		fail_active(r, d);
		return finish(r, out);
	}
	r->round++;
	return issue_read(r, out);
}

/* ---- the round's action ------------------------------------------------------------- */

static cJSON *act_new(struct run *r, int kind, cJSON **items)
{
	cJSON *a = cJSON_CreateObject();
	put(r, a, "kind", cJSON_CreateString(act_kinds[kind]));
	put(r, a, "items", (*items = cJSON_CreateArray()));
	return a;
}

static cJSON *act_item(struct run *r, cJSON *items, const struct item *it, const char *path)
{
	cJSON *o = cJSON_CreateObject();
	put(r, o, "p", cJSON_CreateNumber((double)it->prof));
	put(r, o, "path", cJSON_CreateString(path));
	push(r, items, o);
	return o;
}

static cJSON *setting(struct run *r, const char *param, const char *value)
{
	cJSON *o = cJSON_CreateObject();
	put(r, o, "param", cJSON_CreateString(param));
	put(r, o, "value", cJSON_CreateString(value));
	put(r, o, "required", cJSON_CreateBool(1));
	return o;
}

static int act_delete(struct run *r, struct items *v, struct prun_step *out)
{
	cJSON *items, *req = cJSON_CreateObject(), *paths = cJSON_CreateArray();
	cJSON *act = act_new(r, ACT_DELETE, &items);
	struct hmap seen;
	size_t k = 0;
	if (hmap_init(&seen, PRUN_DELETE_MAX) < 0)
		r->oom = 1;
	for (size_t x = 0; !r->oom && x < v->n && k < PRUN_DELETE_MAX; x++) {
		const struct item *it = &v->v[x];
		if (it->kind != K_DEL || !todo(r, it))
			continue;
		struct hent *e = hmap_put(&seen, TGT(it), strlen(TGT(it)), "", 0);
		if (!e || e->i1 == 1)
			continue;
		e->i1 = 1;
		push(r, paths, cJSON_CreateString(TGT(it)));
		act_item(r, items, it, TGT(it));
		k++;
	}
	hmap_fini(&seen);
	put(r, req, "allow_partial", cJSON_CreateBool(1));
	put(r, req, "obj_paths", paths);
	if (!k || r->oom) {
		cJSON_Delete(req);
		cJSON_Delete(act);
		return r->oom ? -1 : 0;
	}
	return emit(r, "delete", req, act, out);
}

/* One create_obj of an ensure_instance row: keys then params. */
static cJSON *create_row(struct run *r, const struct item *it, char *summary, size_t size)
{
	const struct prof_step *st = &r->p[it->prof].spec->steps[it->step];
	const struct prof_param *lists[] = { st->keys, st->params };
	size_t counts[] = { st->n_keys, st->n_params }, used = 0;
	char val[PROF_VALUE_MAX + 1];
	cJSON *co = cJSON_CreateObject(), *ps = cJSON_CreateArray();
	put(r, co, "obj_path", cJSON_CreateString(st->table));
	put(r, co, "param_settings", ps);
	summary[0] = '\0';
	for (size_t l = 0; l < 2; l++)
		for (size_t j = 0; j < counts[l]; j++) {
			const struct prof_param *q = &lists[l][j];
			int dup = 0;
			for (size_t d = 0; l == 1 && d < st->n_keys; d++)
				dup |= strcmp(st->keys[d].name, q->name) == 0;
			if (dup)
				continue;
			if (expand(r, it->prof, it->step, q->v.text, val)) {
				cJSON_Delete(co);
				return NULL;
			}
			push(r, ps, setting(r, q->name, val));
			int n = snprintf(summary + used, size - used, "%s%s=%s", used ? ", " : "",
					 q->name, shown(q->name, q->v.write_only, val));
			if (n > 0 && used + (size_t)n < size)
				used += (size_t)n;
			else
				summary[used] = '\0';
		}
	return co;
}

static int act_add(struct run *r, struct items *v, struct prun_step *out)
{
	cJSON *items, *req = cJSON_CreateObject(), *objs = cJSON_CreateArray();
	cJSON *act = act_new(r, ACT_ADD, &items);
	char summary[PRUN_SHOW_MAX + 1];
	size_t k = 0;
	for (size_t x = 0; !r->oom && x < v->n && k < PRUN_ADD_MAX; x++) {
		const struct item *it = &v->v[x];
		if ((it->kind != K_ADD && it->kind != K_ADDN) || !todo(r, it))
			continue;
		cJSON *co;
		if (it->kind == K_ADD) {
			if (!(co = create_row(r, it, summary, sizeof(summary))))
				continue; /* a template without a value: the profile failed */
		} else {
			co = cJSON_CreateObject();
			put(r, co, "obj_path", cJSON_CreateString(it->path));
			summary[0] = '\0';
		}
		push(r, objs, co);
		cJSON *o = act_item(r, items, it, it->path);
		put(r, o, "obj", cJSON_CreateString(TGT(it)));
		put(r, o, "new", str_cut(summary, PRUN_SHOW_MAX));
		put(r, o, "step", cJSON_CreateNumber((double)it->step));
		k++;
	}
	put(r, req, "allow_partial", cJSON_CreateBool(1));
	put(r, req, "create_objs", objs);
	if (!k || r->oom) {
		cJSON_Delete(req);
		cJSON_Delete(act);
		return r->oom ? -1 : 0;
	}
	return emit(r, "add", req, act, out);
}

static int act_set(struct run *r, struct items *v, struct prun_step *out)
{
	cJSON *items, *req = cJSON_CreateObject(), *objs = cJSON_CreateArray();
	cJSON *act = act_new(r, ACT_SET, &items);
	struct hmap by_obj;
	size_t k = 0;
	if (hmap_init(&by_obj, v->n) < 0)
		r->oom = 1;
	for (size_t x = 0; !r->oom && x < v->n; x++) {
		const struct item *it = &v->v[x];
		size_t ol = obj_len(it->path);
		if (it->kind != K_SET || !todo(r, it) || !ol)
			continue;
		struct hent *e = hmap_put(&by_obj, it->path, ol, "", 0);
		if (!e)
			break;
		if (!e->w) {
			cJSON *uo = cJSON_CreateObject();
			char *obj = strndup(it->path, ol);
			put(r, uo, "obj_path", obj ? cJSON_CreateString(obj) : NULL);
			free(obj);
			put(r, uo, "param_settings", (e->w = cJSON_CreateArray()));
			push(r, objs, uo);
		}
		push(r, e->w, setting(r, it->path + ol, it->want));
		cJSON *o = act_item(r, items, it, it->path);
		const struct prof_value *pv = it->v;
		put(r, o, "old", str_cut(shown(it->path, pv->write_only, it->have), PRUN_SHOW_MAX));
		put(r, o, "new", str_cut(shown(it->path, pv->write_only, it->want), PRUN_SHOW_MAX));
		char h[65];
		if (pv->write_only && wo_hash(r->p[it->prof].version, it->path, it->want, h) == 0)
			put(r, o, "hash", cJSON_CreateString(h));
		k++;
	}
	hmap_fini(&by_obj);
	put(r, req, "allow_partial", cJSON_CreateBool(1));
	put(r, req, "update_objs", objs);
	if (!k || r->oom) {
		cJSON_Delete(req);
		cJSON_Delete(act);
		return r->oom ? -1 : 0;
	}
	return emit(r, "set", req, act, out);
}

static int act_operate(struct run *r, struct items *v, struct prun_step *out)
{
	for (size_t x = 0; x < v->n; x++) {
		const struct item *it = &v->v[x];
		if (it->kind != K_OP || !todo(r, it))
			continue;
		const struct prof_step *st = &r->p[it->prof].spec->steps[it->step];
		char val[PROF_VALUE_MAX + 1], key[PRUN_KEY_MAX + 1];
		cJSON *req = cJSON_CreateObject(), *args = cJSON_CreateObject(), *items;
		put(r, req, "command", cJSON_CreateString(st->command));
		put(r, req, "command_key", cJSON_CreateString(it->want));
		put(r, req, "send_resp", cJSON_CreateBool(1));
		for (size_t j = 0; j < st->n_args; j++) {
			if (expand(r, it->prof, it->step, st->args[j].v.text, val)) {
				cJSON_Delete(req);
				cJSON_Delete(args);
				return 0; /* the profile failed; the next one's turn comes next read */
			}
			put(r, args, st->args[j].name, cJSON_CreateString(val));
		}
		if (st->n_args)
			put(r, req, "input_args", args);
		else
			cJSON_Delete(args);
		once_key(r, it->prof, st, key);
		cJSON *act = act_new(r, ACT_OPERATE, &items);
		cJSON *o = act_item(r, items, it, st->command);
		put(r, o, "step", cJSON_CreateNumber((double)it->step));
		put(r, o, "key", cJSON_CreateString(key));
		put(r, o, "new", cJSON_CreateString(it->want));
		if (r->oom) {
			cJSON_Delete(req);
			cJSON_Delete(act);
			return -1;
		}
		return emit(r, "operate", req, act, out);
	}
	return 0;
}

static const char *kind_action(int kind, int would)
{
	switch (kind) {
	case K_SET:
		return would ? "would_set" : "set";
	case K_ADD:
	case K_ADDN:
		return would ? "would_add" : "add";
	case K_DEL:
		return would ? "would_delete" : "delete";
	default:
		return would ? "would_operate" : "operate";
	}
}

static void log_item(struct run *r, const struct item *it, int would, const char *result)
{
	int wo = it->kind == K_SET && it->v->write_only;
	const char *path = it->kind == K_DEL ? TGT(it) : it->path;
	log_change(r, it->prof, path, it->kind == K_SET ? shown(path, wo, it->have) : "",
		   it->kind == K_SET || it->kind == K_OP ? shown(path, wo, it->want) : "",
		   kind_action(it->kind, would), result, 0, NULL);
}

/* Nothing left to do: verdicts, owners, then the stamp (the run's last
 * action) or the end. */
static int conclude(struct run *r, const struct rd *rd, struct items *v, struct prun_step *out)
{
	size_t *hit = calloc(r->n ? r->n : 1, sizeof(*hit));
	size_t *drift = calloc(r->n ? r->n : 1, sizeof(*drift));
	const char **first = calloc(r->n ? r->n : 1, sizeof(*first));
	cJSON *owners = cJSON_CreateObject();
	int rc = -1;
	if (!hit || !drift || !first || !owners)
		goto out;
	for (size_t x = 0; x < v->n; x++) {
		struct item *it = &v->v[x];
		size_t i = it->prof;
		if (!active(r, i) || it->dropped || it->kind == K_CLAIM ||
		    (it->kind == K_OP && r->p[i].spec->mode == PROF_AUDIT))
			continue; /* an audit profile's command is no value to compare */
		if (it->overridden) {
			log_item(r, it, 0, "overridden");
			continue;
		}
		if (!it->differs)
			continue;
		if (it->kind == K_SET && it->contested) {
			log_item(r, it, 0, "contested");
			if (!hit[i]++)
				first[i] = it->path;
			continue;
		}
		log_item(r, it, 1, "drifted");
		if (!hit[i] && !drift[i])
			first[i] = it->kind == K_DEL ? TGT(it) : it->path;
		drift[i]++;
	}
	for (size_t i = 0; i < r->n; i++) {
		char d[PRUN_DETAIL_MAX], more[48] = "";
		size_t m = hit[i] ? hit[i] : drift[i];
		if (!active(r, i))
			continue;
		if (m > 1)
			snprintf(more, sizeof(more), " (and %zu more)", m - 1);
		if (hit[i]) {
			fmt(d, sizeof(d), "%s: contested%s", first[i], more);
			mark(r, i, PRUN_CONTESTED, 0, d);
		} else if (drift[i] && !acting(r, i)) {
			fmt(d, sizeof(d), "%s differs%s", first[i], more);
			mark(r, i, PRUN_DRIFTED, 0, d);
		} else if (drift[i]) {
			fmt(d, sizeof(d), "%s: still differs%s", first[i], more);
			mark(r, i, PRUN_FAILED, 1, d);
		} else {
			mark(r, i, PRUN_COMPLIANT, 0, "");
		}
	}
	for (size_t x = 0; x < v->n; x++) {
		const struct item *it = &v->v[x];
		const char *o = str_of(r->prof[it->prof], "outcome");
		if (it->overridden || it->dropped || it->kind == K_OP || !o ||
		    !strcmp(o, "failed") || !strcmp(o, "not_applicable") ||
		    cJSON_GetObjectItemCaseSensitive(owners, it->path))
			continue;
		cJSON *w = cJSON_CreateObject();
		put(r, w, "profile", cJSON_CreateString(r->p[it->prof].spec->name));
		put(r, w, "version", cJSON_CreateNumber((double)r->p[it->prof].version));
		put(r, owners, it->path, w);
	}
	put(r, r->work, "owners", owners);
	owners = NULL;
	rc = 0;
out:
	cJSON_Delete(owners);
	free(hit);
	free(drift);
	free(first);
	if (rc < 0 || r->oom)
		return -1;

	const char *sp = r->ctx->stamp_path;
	if (!stamp_path_ok(sp))
		return finish(r, out);
	struct prun_profile *ok = malloc((r->n ? r->n : 1) * sizeof(*ok));
	size_t k = 0;
	char stamp[64] = "", found[64];
	if (!ok)
		return -1;
	for (size_t i = 0; i < r->n; i++)
		if (outcome_parse(str_of(r->prof[i], "outcome")) == PRUN_COMPLIANT)
			ok[k++] = r->p[i];
	if (k)
		prun_stamp(ok, k, stamp);
	free(ok);
	const char *have = rd ? rd_value(rd, sp) : NULL;
	copy(found, sizeof(found), have);
	put(r, r->work, "stamp_out", cJSON_CreateString(found));
	if (!stamp[0] || r->ctx->dry_run || (have && strcmp(have, stamp) == 0))
		return r->oom ? -1 : finish(r, out);
	size_t ol = obj_len(sp);
	cJSON *items, *req = cJSON_CreateObject(), *objs = cJSON_CreateArray();
	cJSON *uo = cJSON_CreateObject(), *ps = cJSON_CreateArray();
	char *obj = strndup(sp, ol);
	put(r, uo, "obj_path", obj ? cJSON_CreateString(obj) : NULL);
	free(obj);
	push(r, ps, setting(r, sp + ol, stamp));
	put(r, uo, "param_settings", ps);
	push(r, objs, uo);
	put(r, req, "allow_partial", cJSON_CreateBool(1));
	put(r, req, "update_objs", objs);
	cJSON *act = act_new(r, ACT_STAMP, &items);
	put(r, act, "stamp", cJSON_CreateString(stamp));
	return emit(r, "set", req, act, out) < 0 ? -1 : 0;
}

/* After a read: pick the round's action, or conclude. */
static int decide(struct run *r, const struct rd *rd, struct items *v, struct prun_step *out)
{
	int any = 0, rc;
	for (size_t x = 0; x < v->n; x++) {
		struct item *it = &v->v[x];
		if (it->kind == K_SET && active(r, it->prof) && acting(r, it->prof) &&
		    !it->overridden && !it->dropped && it->differs)
			it->contested = contested_now(r, it->prof, it->path, 1);
		any |= todo(r, it);
	}
	if (r->ctx->dry_run) {
		/* what would be contested, without changing the state */
		for (size_t x = 0; x < v->n; x++) {
			struct item *it = &v->v[x];
			if (it->kind == K_SET && active(r, it->prof) &&
			    r->p[it->prof].spec->mode != PROF_AUDIT && !it->overridden &&
			    !it->dropped && it->differs)
				it->contested = contested_now(r, it->prof, it->path, 0);
		}
	} else if (any && r->round >= PRUN_MAX_ROUNDS) {
		char d[64];
		snprintf(d, sizeof(d), "did not converge in %d rounds", PRUN_MAX_ROUNDS);
		for (size_t x = 0; x < v->n; x++)
			if (todo(r, &v->v[x]))
				mark(r, v->v[x].prof, PRUN_FAILED, 1, d);
	} else if (any) {
		if ((rc = act_delete(r, v, out)) != 0 || (rc = act_add(r, v, out)) != 0 ||
		    (rc = act_set(r, v, out)) != 0 || (rc = act_operate(r, v, out)) != 0)
			return rc < 0 ? -1 : 0;
		if (r->oom)
			return -1;
		/* every action's profile failed on the way: read again */
		return next_round(r, out);
	}
	return conclude(r, rd, v, out);
}

/* ---- reading an action's answer --------------------------------------------------------- */

enum { R_UNKNOWN, R_OK, R_FAILED };

struct res1 {
	int st;
	int64_t code;
	const char *msg;
	const char *inst; /* add: the instantiated path */
};

static void res_fail(struct res1 *o, int64_t code, const char *msg)
{
	o->st = R_FAILED;
	o->code = code;
	o->msg = msg ? msg : "";
}

static void res_failure(struct res1 *o, const cJSON *f)
{
	res_fail(o, code_of(f), str_of(f, "err_msg"));
}

/* Index the results of an answer by requested_path: 0, or -1. */
static int by_requested(struct hmap *m, const cJSON *list)
{
	const cJSON *e;
	if (hmap_init(m, (size_t)cJSON_GetArraySize(list)) < 0)
		return -1;
	cJSON_ArrayForEach(e, list)
	{
		const char *q = str_of(e, "requested_path");
		struct hent *h = q ? hmap_put(m, q, strlen(q), "", 0) : NULL;
		if (h && !h->j)
			h->j = e;
	}
	return 0;
}

/* Does the error's param_path name this item? Sets by path; rows,
 * instances (paths ending in '.') by prefix; commands by name. */
static int names_item(int kind, const char *item_path, const char *pp)
{
	size_t n = strlen(item_path);
	if (kind != ACT_SET && n && item_path[n - 1] == '.')
		return strncmp(pp, item_path, n) == 0;
	return strcmp(pp, item_path) == 0;
}

static void read_error(const cJSON *res, int kind, const cJSON *items, struct res1 *o)
{
	const cJSON *pe = arr_of(res, "param_errs"), *it, *e;
	size_t k = 0;
	cJSON_ArrayForEach(it, items)
	{
		const char *path = kind == ACT_ADD ? str_of(it, "obj") : str_of(it, "path");
		if (!cJSON_GetArraySize(pe)) {
			res_failure(&o[k++], res);
			continue;
		}
		cJSON_ArrayForEach(e, pe)
		{
			const char *pp = str_of(e, "param_path");
			if (pp && names_item(kind, path, pp)) {
				int64_t c = code_of(e);
				res_fail(&o[k], c ? c : code_of(res), str_of(e, "err_msg"));
				break;
			}
		}
		k++;
	}
}

/* A Set's param failure for param in one oper_failure: 1 found, 0 no. */
static int param_err(const cJSON *fail, const char *param, struct res1 *o, int *any)
{
	const cJSON *f, *pe;
	cJSON_ArrayForEach(f, arr_of(fail, "updated_inst_failures"))
	{
		cJSON_ArrayForEach(pe, arr_of(f, "param_errs"))
		{
			const char *name = str_of(pe, "param");
			*any = 1;
			if (name && strcmp(name, param) == 0) {
				res_failure(o, pe);
				return 1;
			}
		}
	}
	return 0;
}

static int read_set(const cJSON *res, const cJSON *items, struct res1 *o)
{
	struct hmap m;
	const cJSON *it;
	size_t k = 0;
	if (by_requested(&m, arr_of(res, "updated_obj_results")) < 0)
		return -1;
	cJSON_ArrayForEach(it, items)
	{
		const char *path = str_of(it, "path");
		size_t ol = obj_len(path);
		const struct hent *e = hmap_getn(&m, path, ol);
		const cJSON *os = e ? obj_of(e->j, "oper_status") : NULL;
		const cJSON *fail = obj_of(os, "oper_failure");
		int any = 0;
		if (obj_of(os, "oper_success"))
			o[k].st = R_OK;
		else if (fail && !param_err(fail, path + ol, &o[k], &any) && !any)
			res_failure(&o[k], fail); /* the object failed as a whole */
		k++;
	}
	hmap_fini(&m);
	return 0;
}

static void read_add(const cJSON *res, const cJSON *items, struct res1 *o)
{
	const cJSON *it, *r1 = cJSON_GetArrayItem(arr_of(res, "created_obj_results"), 0);
	size_t k = 0;
	cJSON_ArrayForEach(it, items)
	{
		const char *rp = str_of(r1, "requested_path");
		const cJSON *os = obj_of(r1, "oper_status"), *succ = obj_of(os, "oper_success");
		if (r1 && (!rp || strcmp(rp, str_of(it, "obj")) == 0)) {
			if (succ) {
				o[k].st = R_OK;
				o[k].inst = str_of(succ, "instantiated_path");
			} else if (obj_of(os, "oper_failure")) {
				res_failure(&o[k], obj_of(os, "oper_failure"));
			}
		}
		r1 = r1 ? r1->next : NULL;
		k++;
	}
}

static int read_delete(const cJSON *res, const cJSON *items, struct res1 *o)
{
	struct hmap m;
	const cJSON *it;
	size_t k = 0;
	if (by_requested(&m, arr_of(res, "deleted_obj_results")) < 0)
		return -1;
	cJSON_ArrayForEach(it, items)
	{
		const struct hent *e = hmap_get(&m, str_of(it, "path"));
		const cJSON *os = e ? obj_of(e->j, "oper_status") : NULL;
		const cJSON *succ = obj_of(os, "oper_success");
		const cJSON *upe = cJSON_GetArrayItem(arr_of(succ, "unaffected_path_errs"), 0);
		if (succ && upe)
			res_failure(&o[k], upe);
		else if (succ)
			o[k].st = R_OK;
		else if (obj_of(os, "oper_failure"))
			res_failure(&o[k], obj_of(os, "oper_failure"));
		k++;
	}
	hmap_fini(&m);
	return 0;
}

static void read_operate(const cJSON *res, const cJSON *items, struct res1 *o)
{
	const cJSON *list = arr_of(res, "operation_results"), *e, *r1 = NULL;
	const char *cmd = str_of(cJSON_GetArrayItem(items, 0), "path");
	cJSON_ArrayForEach(e, list)
	{
		const char *ec = str_of(e, "executed_command");
		if (cmd && ec && strcmp(ec, cmd) == 0) {
			r1 = e;
			break;
		}
	}
	if (!r1)
		r1 = cJSON_GetArrayItem(list, 0);
	if (obj_of(r1, "cmd_failure"))
		res_failure(&o[0], obj_of(r1, "cmd_failure"));
	else if (get(r1, "req_output_args") || get(r1, "req_obj_path"))
		o[0].st = R_OK;
	else
		res_fail(&o[0], 0, "no result for the command");
}

/* An Add of a row succeeded: remember the hashes of its write-only values. */
static void add_hashes(struct run *r, size_t i, size_t k, const char *obj, const char *inst)
{
	const struct prof_step *st = &r->p[i].spec->steps[k];
	char val[PROF_VALUE_MAX + 1], h[65];
	size_t ol = strlen(obj), il = inst ? strnlen(inst, PRUN_PATH_MAX + 1) : 0;
	if (!il || il > PRUN_PATH_MAX || inst[il - 1] != '.' || strncmp(inst, obj, ol) != 0)
		return;
	for (size_t j = 0; j < st->n_params; j++) {
		const struct prof_param *q = &st->params[j];
		if (!q->v.write_only ||
		    prof_tpl_expand(q->v.text, &r->ctx->tpl, val, sizeof(val), NULL, 0) != 0)
			continue;
		char *path = cat(inst, q->name);
		cJSON *wo = pstate(r, i, "wo");
		if (path && wo_hash(r->p[i].version, path, val, h) == 0 &&
		    (get(wo, path) || cJSON_GetArraySize(wo) < PRUN_STATE_MAX))
			put(r, wo, path, cJSON_CreateString(h));
		free(path);
	}
}

static void apply_ok(struct run *r, int kind, const cJSON *it, const struct res1 *o)
{
	size_t i = (size_t)get(it, "p")->valuedouble;
	const char *path = str_of(it, "path"), *nw = str_of(it, "new"), *h = str_of(it, "hash");
	if (kind == ACT_SET) {
		record_set(r, i, path);
		cJSON *wo = pstate(r, i, "wo");
		if (h && (get(wo, path) || cJSON_GetArraySize(wo) < PRUN_STATE_MAX))
			put(r, wo, path, cJSON_CreateString(h));
	} else if (kind == ACT_ADD) {
		add_hashes(r, i, (size_t)get(it, "step")->valuedouble, str_of(it, "obj"), o->inst);
	} else if (kind == ACT_OPERATE) {
		char idx[24];
		snprintf(idx, sizeof(idx), "%zu", (size_t)get(it, "step")->valuedouble + 1);
		put(r, pstate(r, i, "once"), idx, cJSON_CreateString(str_of(it, "key")));
	}
	log_change(r, i, path, str_of(it, "old"), nw, act_kinds[kind], "ok", 0, NULL);
}

static int after_act(struct run *r, const cJSON *res, struct prun_step *out)
{
	const cJSON *act = get(r->work, "act");
	const cJSON *items = get(act, "items"), *it;
	int kind = act_kind(str_of(act, "kind"));
	const char *type = str_of(res, "type");
	static const char *const want[] = { "delete_resp", "add_resp", "set_resp", "operate_resp" };
	if (kind == ACT_STAMP) {
		const cJSON *r1 = cJSON_GetArrayItem(arr_of(res, "updated_obj_results"), 0);
		if (type && !strcmp(type, "set_resp") &&
		    obj_of(obj_of(r1, "oper_status"), "oper_success"))
			put(r, r->work, "stamp_out", cJSON_CreateString(str_of(act, "stamp")));
		return r->oom ? -1 : finish(r, out);
	}
	size_t n = (size_t)cJSON_GetArraySize(items), k = 0;
	struct res1 *o = calloc(n ? n : 1, sizeof(*o));
	if (!o)
		return -1;
	int rc = 0;
	if (!type || (strcmp(type, "error") && strcmp(type, want[kind])))
		for (k = 0; k < n; k++)
			res_fail(&o[k], 0, "unreadable answer");
	else if (!strcmp(type, "error"))
		read_error(res, kind, items, o);
	else if (kind == ACT_SET)
		rc = read_set(res, items, o);
	else if (kind == ACT_ADD)
		read_add(res, items, o);
	else if (kind == ACT_DELETE)
		rc = read_delete(res, items, o);
	else
		read_operate(res, items, o);
	k = 0;
	const cJSON *done = rc ? NULL : items;
	cJSON_ArrayForEach(it, done)
	{
		const struct res1 *x = &o[k++];
		size_t i = (size_t)get(it, "p")->valuedouble;
		const char *path = str_of(it, "path");
		if (x->st == R_OK) {
			apply_ok(r, kind, it, x);
		} else if (x->st == R_FAILED) {
			log_change(r, i, path, str_of(it, "old"), str_of(it, "new"),
				   act_kinds[kind],
				   prun_err_permanent(x->code) ? "not_applicable" : "failed",
				   x->code, x->msg);
			fail_path(r, i, path, x->code, x->msg);
		}
	}
	free(o);
	if (rc < 0 || r->oom)
		return -1;
	return next_round(r, out);
}

/* ---- reading a GetResp ------------------------------------------------------------------ */

/* Path errors of this read, then the items, the merge and the decision. */
static int read_done(struct run *r, const struct rd *rd, struct prun_step *out)
{
	struct items v = { 0 };
	int rc = 0;
	for (size_t i = 0; rc >= 0 && i < r->n; i++) {
		struct strv sv = { 0 };
		if (!active(r, i) || (rc = prof_reads(r, i, &sv)) != 0) {
			strv_fini(&sv);
			rc = rc < 0 ? -1 : 0;
			continue;
		}
		for (size_t j = 0; j < sv.n && active(r, i); j++) {
			const cJSON *rr = rd_req(rd, sv.v[j]);
			size_t len = strlen(sv.v[j]);
			if (!rr && len && sv.v[j][len - 1] == '.')
				fail_path(r, i, sv.v[j], 0, "not in the answer");
			else if (rr && code_of(rr))
				fail_path(r, i, sv.v[j], code_of(rr), str_of(rr, "err_msg"));
		}
		strv_fini(&sv);
	}
	for (size_t i = 0; rc >= 0 && i < r->n; i++)
		if (active(r, i) && prof_items(r, rd, &v, i) < 0)
			rc = -1;
	if (rc >= 0 && (merge(r, &v) < 0 || r->oom))
		rc = -1;
	if (rc >= 0)
		rc = decide(r, rd, &v, out);
	items_fini(&v);
	return rc < 0 ? -1 : 0;
}

/* A USP Error answering the Get. */
static int get_error(struct run *r, const cJSON *res, struct prun_step *out)
{
	int64_t code = code_of(res);
	const cJSON *pe = arr_of(res, "param_errs"), *e;
	char d[PRUN_DETAIL_MAX], m[PRUN_MSG_MAX];
	if (!prun_err_permanent(code))
		return interrupt(r, out);
	if (!cJSON_GetArraySize(pe)) {
		copy(m, sizeof(m), str_of(res, "err_msg"));
		fmt(d, sizeof(d), "get: %lld %s", (long long)code, m);
		fail_active(r, d);
		return finish(r, out);
	}
	for (size_t i = 0; i < r->n; i++) {
		struct strv sv = { 0 };
		struct hmap mine;
		if (!active(r, i))
			continue;
		int rc = prof_reads(r, i, &sv);
		if (rc < 0 || hmap_init(&mine, sv.n) < 0) {
			strv_fini(&sv);
			return -1;
		}
		for (size_t j = 0; rc == 0 && j < sv.n; j++)
			hmap_put(&mine, sv.v[j], strlen(sv.v[j]), "", 0);
		const cJSON *errs = rc ? NULL : pe;
		cJSON_ArrayForEach(e, errs)
		{
			const char *pp = str_of(e, "param_path");
			if (pp && active(r, i) && hmap_get(&mine, pp))
				fail_path(r, i, pp, code_of(e) ? code_of(e) : code,
					  str_of(e, "err_msg"));
		}
		hmap_fini(&mine);
		strv_fini(&sv);
	}
	return r->oom ? -1 : next_round(r, out);
}

static int after_read(struct run *r, const cJSON *res, struct prun_step *out)
{
	const char *type = str_of(res, "type");
	struct rd rd;
	if (type && !strcmp(type, "error"))
		return get_error(r, res, out);
	int rc = type && !strcmp(type, "get_resp") ? rd_build(&rd, res) : 1;
	if (rc < 0)
		return -1;
	if (rc > 0) {
		fail_active(r, rc == 2 ? "get: answer too large" : "get: unreadable answer");
		return finish(r, out);
	}
	rc = read_done(r, &rd, out);
	rd_fini(&rd);
	return rc;
}

/* The round's Get of every path the profiles still taking part name. */
static int issue_read(struct run *r, struct prun_step *out)
{
	struct strv all = { 0 };
	struct hmap seen = { 0 };
	cJSON *paths = NULL, *req = NULL;
	int rc = -1, any = 0;
	for (size_t i = 0; i < r->n; i++) {
		struct strv one = { 0 };
		if (!active(r, i))
			continue;
		int x = prof_reads(r, i, &one);
		for (size_t j = 0; x == 0 && j < one.n; j++) {
			x = strv_take(&all, one.v[j]);
			one.v[j] = NULL;
		}
		strv_fini(&one);
		if (x < 0)
			goto out;
		any |= x == 0;
	}
	if (!any) {
		rc = finish(r, out);
		goto out;
	}
	if (stamp_path_ok(r->ctx->stamp_path) && strv_take(&all, strdup(r->ctx->stamp_path)) < 0)
		goto out;
	if (!all.n) {
		/* nothing to read (operate steps only): decide on an empty read */
		struct rd rd;
		cJSON *empty = cJSON_CreateObject();
		int b = empty ? rd_build(&rd, empty) : -1;
		cJSON_Delete(empty);
		if (b == 0) {
			rc = read_done(r, &rd, out);
			rd_fini(&rd);
		}
		goto out;
	}
	if (hmap_init(&seen, all.n) < 0 || !(req = cJSON_CreateObject()) ||
	    !(paths = cJSON_CreateArray()))
		goto out;
	for (size_t j = 0; j < all.n; j++) {
		struct hent *e = hmap_put(&seen, all.v[j], strlen(all.v[j]), "", 0);
		if (!e || e->i1 == 1)
			continue;
		e->i1 = 1;
		push(r, paths, cJSON_CreateString(all.v[j]));
	}
	put(r, req, "param_paths", paths);
	paths = NULL;
	rc = emit(r, "get", req, NULL, out) < 0 ? -1 : 0;
	req = NULL;
out:
	cJSON_Delete(paths);
	cJSON_Delete(req);
	hmap_fini(&seen);
	strv_fini(&all);
	return rc;
}

/* ---- the API ------------------------------------------------------------------------------ */

void prun_step_fini(struct prun_step *s)
{
	if (!s)
		return;
	cJSON_Delete(s->work);
	cJSON_Delete(s->request);
	for (size_t i = 0; s->verdicts && i < s->n_verdicts; i++) {
		cJSON_Delete(s->verdicts[i].state);
		cJSON_Delete(s->verdicts[i].history);
	}
	free(s->verdicts);
	cJSON_Delete(s->owners);
	cJSON_Delete(s->states);
	memset(s, 0, sizeof(*s));
}

static int args_ok(const struct prun_profile *p, size_t n, const struct prun_ctx *ctx,
		   struct uspc_err *err)
{
	if (!ctx || (n && !p))
		return uspc_err_set(err, USPC_E_INVAL, "profile run: no profiles or context");
	for (size_t i = 0; i < n; i++)
		if (!p[i].spec)
			return uspc_err_set(err, USPC_E_INVAL,
					    "profile run: profile %zu has no spec", i);
	return 0;
}

/* Out of memory: nothing handed out. */
static int nomem(struct run *r, struct prun_step *out, struct uspc_err *err)
{
	cJSON_Delete(r->work);
	free(r->prof);
	prun_step_fini(out);
	return uspc_err_set(err, USPC_E_NOMEM, "profile run: out of memory");
}

static int run_end(struct run *r, int rc, struct prun_step *out, struct uspc_err *err)
{
	if (rc < 0 || r->oom)
		return nomem(r, out, err);
	cJSON_Delete(r->work); /* NULL when handed out */
	free(r->prof);
	return 0;
}

int prun_begin(const struct prun_profile *p, size_t n, const struct prun_ctx *ctx,
	       struct prun_step *out, struct uspc_err *err)
{
	struct run r = { .p = p, .n = n, .ctx = ctx, .round = 1 };
	memset(out, 0, sizeof(*out));
	int rc = args_ok(p, n, ctx, err);
	if (rc < 0)
		return rc;
	cJSON *profs = cJSON_CreateArray();
	r.work = cJSON_CreateObject();
	r.prof = calloc(n ? n : 1, sizeof(*r.prof));
	put(&r, r.work, "v", cJSON_CreateNumber(1));
	put(&r, r.work, "round", cJSON_CreateNumber(1));
	put(&r, r.work, "phase", cJSON_CreateString("read"));
	put(&r, r.work, "profiles", profs);
	if (!r.prof || r.oom)
		return nomem(&r, out, err);
	for (size_t i = 0; i < n && !r.oom; i++) {
		cJSON *o = r.prof[i] = cJSON_CreateObject();
		push(&r, profs, o);
		put(&r, o, "retry", cJSON_CreateNumber(0));
		put(&r, o, "detail", cJSON_CreateString(""));
		put(&r, o, "state", state_init(&r, i));
		put(&r, o, "log", cJSON_CreateArray());
	}
	for (size_t i = 0; i < n && !r.oom; i++)
		tpl_check(&r, i);
	if (r.oom)
		return nomem(&r, out, err);
	return run_end(&r, issue_read(&r, out), out, err);
}

int prun_next(const struct prun_profile *p, size_t n, const struct prun_ctx *ctx, const cJSON *work,
	      const struct prun_answer *answer, struct prun_step *out, struct uspc_err *err)
{
	struct run r = { .p = p, .n = n, .ctx = ctx };
	memset(out, 0, sizeof(*out));
	int rc = args_ok(p, n, ctx, err);
	if (rc < 0 || (rc = work_ok(work, p, n, err)) < 0)
		return rc;
	r.work = cJSON_Duplicate(work, 1);
	r.prof = calloc(n ? n : 1, sizeof(*r.prof));
	if (!r.work || !r.prof)
		return nomem(&r, out, err);
	const cJSON *e;
	size_t i = 0;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(r.work, "profiles")) r.prof[i++] =
		(cJSON *)e;
	r.round = (int)get(r.work, "round")->valuedouble;
	if (!answer || !answer->answered)
		rc = interrupt(&r, out);
	else if (!strcmp(str_of(r.work, "phase"), "act"))
		rc = after_act(&r, answer->result, out);
	else
		rc = after_read(&r, answer->result, out);
	return run_end(&r, rc, out, err);
}
