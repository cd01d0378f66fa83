/*
 * profile_run_want.c — what each profile of a run wants
 * (profile_run_internal.h): the paths it reads, its templates expanded
 * for this agent (search paths of rows included), and, from a read, its
 * items (values, rows, counts, commands) compared with what the agent
 * has, merged by priority (the highest profile wins a path), then handed
 * to the round's decision (profile_run.c).
 *
 * Called from one thread at a time; no globals.
 */
#include "profile_run_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- string lists -------------------------------------------------------------- */

int prun_strv_take(struct strv *sv, char *s)
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

void prun_strv_fini(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	memset(sv, 0, sizeof(*sv));
}

/* a + b as a new string */
char *prun_cat(const char *a, const char *b)
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
	return prun_cat(table, n);
}

/* ---- the paths and values a profile names ------------------------------------ */

/* Expand text for profile i, step k into buf (PROF_VALUE_MAX + 1 bytes):
 * 0, or 1 after marking the profile FAILED (not worth retrying). */
int prun_expand(struct run *r, size_t i, size_t k, const char *text, char *buf)
{
	char why[PRUN_DETAIL_MAX - 32], d[PRUN_DETAIL_MAX];
	why[0] = '\0';
	if (prof_tpl_expand(text ? text : "", &r->ctx->tpl, buf, PROF_VALUE_MAX + 1, why,
			    sizeof(why)) == 0)
		return 0;
	prun_fmt(d, sizeof(d), "step %zu: %s", k + 1, why[0] ? why : "template has no value");
	prun_mark(r, i, PRUN_FAILED, 0, d);
	buf[0] = '\0';
	return 1;
}

/* "<table>[K1==\"v1\"&&K2==\"v2\"]." with the keys expanded: 0, 1 the
 * profile failed, -1 out of memory. */
static int search_path_m(struct run *r, size_t i, size_t k, char **out, int mark)
{
	const struct prof_step *st = &r->p[i].spec->steps[k];
	char v[PROF_VALUE_MAX + 1], d[PRUN_DETAIL_MAX];
	*out = NULL;
	if (!st->table || !st->n_keys) {
		prun_fmt(d, sizeof(d), "step %zu: no table or keys", k + 1);
		if (mark)
			prun_mark(r, i, PRUN_FAILED, 0, d);
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
		if (mark ? prun_expand(r, i, k, st->keys[j].v.text, v)
			 : prof_tpl_expand(st->keys[j].v.text, &r->ctx->tpl, v, sizeof(v), d,
					   sizeof(d)) < 0) {
			free(s);
			return 1;
		}
		if (strchr(v, '"')) {
			prun_fmt(d, sizeof(d), "step %zu: the value of %s holds a '\"'", k + 1,
				 st->keys[j].name);
			if (mark)
				prun_mark(r, i, PRUN_FAILED, 0, d);
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
		prun_fmt(d, sizeof(d), "step %zu: search path too long", k + 1);
		if (mark)
			prun_mark(r, i, PRUN_FAILED, 0, d);
		free(s);
		return 1;
	}
	*out = s;
	return 0;
}

static int search_path(struct run *r, size_t i, size_t k, char **out)
{
	return search_path_m(r, i, k, out, 1);
}

/* Step st applies to this agent (its protocol). */
int prun_step_applies(const struct run *r, const struct prof_step *st)
{
	if (st->kind == PROF_STEP_NOTIFICATION)
		return r->ctx->cwmp;
	if (st->kind == PROF_STEP_SUBSCRIBE)
		return !r->ctx->cwmp;
	return 1;
}

/* The paths profile i reads, into sv: 0, 1 the profile failed, -1 no memory. */
int prun_prof_reads(struct run *r, size_t i, struct strv *sv)
{
	const struct prof_spec *s = r->p[i].spec;
	for (size_t k = 0; k < s->n_steps; k++) {
		const struct prof_step *st = &s->steps[k];
		char *sp;
		int rc;
		if (!prun_step_applies(r, st))
			continue;
		switch (st->kind) {
		case PROF_STEP_SET:
			for (size_t j = 0; j < st->n_params; j++)
				if (prun_strv_take(sv, strdup(st->params[j].name)) < 0)
					return -1;
			break;
		case PROF_STEP_ENSURE_INSTANCE:
		case PROF_STEP_SUBSCRIBE:
		case PROF_STEP_ENSURE_ABSENT:
			if ((rc = search_path(r, i, k, &sp)) != 0)
				return rc;
			if (prun_strv_take(sv, sp) < 0)
				return -1;
			break;
		case PROF_STEP_ENSURE_COUNT:
			if (!st->table || prun_strv_take(sv, strdup(st->table)) < 0)
				return -1;
			break;
		case PROF_STEP_OPERATE:
		case PROF_STEP_NOTIFICATION: /* read by get_attributes */
			break;
		}
	}
	return 0;
}

/* The notification paths profile i sets, into sv (none when the agent
 * is no TR-069 device): 0, or -1 no memory. */
int prun_prof_attrs(struct run *r, size_t i, struct strv *sv)
{
	const struct prof_spec *s = r->p[i].spec;
	for (size_t k = 0; k < s->n_steps; k++) {
		const struct prof_step *st = &s->steps[k];
		if (st->kind != PROF_STEP_NOTIFICATION || !prun_step_applies(r, st))
			continue;
		for (size_t j = 0; j < st->n_params; j++)
			if (prun_strv_take(sv, strdup(st->params[j].name)) < 0)
				return -1;
	}
	return 0;
}

/* Every template of profile i has a value for this agent: 0, or 1 (FAILED). */
int prun_tpl_check(struct run *r, size_t i)
{
	const struct prof_spec *s = r->p[i].spec;
	char v[PROF_VALUE_MAX + 1];
	for (size_t k = 0; k < s->n_steps; k++) {
		const struct prof_step *st = &s->steps[k];
		const struct prof_param *lists[] = { st->keys, st->params, st->args };
		size_t counts[] = { st->n_keys, st->n_params, st->n_args };
		if (!prun_step_applies(r, st))
			continue;
		for (size_t l = 0; l < 3; l++)
			for (size_t j = 0; j < counts[l]; j++)
				if (prun_expand(r, i, k, lists[l][j].v.text, v))
					return 1;
	}
	return 0;
}

/* ---- what each profile wants, as items ----------------------------------------------- */

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
	const char *got = prun_str_of(prun_pstate(r, it->prof, "wo"), it->path);
	return got && prun_wo_hash(r->p[it->prof].version, it->path, it->want, h) == 0 &&
	       strcmp(got, h) == 0;
}

/* A desired value of profile i: 0, 1 the profile failed, -1 no memory. */
static int want_value(struct run *r, const struct rd *rd, struct items *v, size_t i, size_t k,
		      char *path, const struct prof_value *pv)
{
	char buf[PROF_VALUE_MAX + 1];
	if (prun_expand(r, i, k, pv->text, buf)) {
		free(path);
		return 1;
	}
	struct item *it = item_new(v, K_SET, i, k, path);
	if (!it)
		return v->full ? 1 : -1;
	it->v = pv;
	it->have = prun_rd_value(rd, path);
	if (!(it->want = strdup(buf)))
		return -1;
	it->differs = !matches(r, it);
	return 0;
}

void prun_once_key(const struct run *r, size_t i, const struct prof_step *st, char *out)
{
	const char *b = r->ctx->boot_key, *f = r->ctx->tpl.software_version;
	char tmp[PRUN_KEY_MAX + 2];
	if (st->once_per == PROF_ONCE_BOOT)
		snprintf(tmp, sizeof(tmp), "b%s", b ? b : "");
	else if (st->once_per == PROF_ONCE_FIRMWARE)
		snprintf(tmp, sizeof(tmp), "f%s", f ? f : "");
	else
		snprintf(tmp, sizeof(tmp), "v%lld", (long long)r->p[i].version);
	prun_copy(out, PRUN_KEY_MAX + 1, tmp);
}

/* An operate step is due unless its marker holds this key; with the boot
 * or firmware unknown, only when it never ran. */
static int op_due(const struct run *r, size_t i, size_t k, const char *key)
{
	char idx[24];
	snprintf(idx, sizeof(idx), "%zu", k + 1);
	const char *got = prun_str_of(prun_pstate(r, i, "once"), idx);
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
	const cJSON *rr = prun_rd_req(rd, sp);
	if (prun_instances(rr, st->table, &nums, &nn) < 0) {
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
			rc = want_value(r, rd, v, i, k, prun_cat(inst, st->params[q].name),
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

/* The rows of table some ensure_instance or subscribe step of the run
 * wants (its search matched them): ensure_count never deletes those. */
static int wanted_rows(struct run *r, const struct rd *rd, const char *table, int64_t **out,
		       size_t *n)
{
	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < r->n; i++) {
		const struct prof_spec *s = r->p[i].spec;
		for (size_t k = 0; k < s->n_steps; k++) {
			const struct prof_step *st = &s->steps[k];
			char *sp;
			int64_t *nums;
			size_t nn;
			if ((st->kind != PROF_STEP_ENSURE_INSTANCE &&
			     st->kind != PROF_STEP_SUBSCRIBE) ||
			    !prun_step_applies(r, st) || !st->table ||
			    strcmp(st->table, table) != 0 || search_path_m(r, i, k, &sp, 0) != 0)
				continue;
			int rc = prun_instances(prun_rd_req(rd, sp), table, &nums, &nn);
			free(sp);
			if (rc < 0)
				return -1;
			int64_t *grown = nn ? realloc(*out, (*n + nn) * sizeof(**out)) : *out;
			if (nn && !grown) {
				free(nums);
				return -1;
			}
			*out = grown;
			for (size_t j = 0; j < nn; j++)
				(*out)[(*n)++] = nums[j];
			free(nums);
		}
	}
	return 0;
}

static int count_items(struct run *r, const struct rd *rd, struct items *v, size_t i, size_t k)
{
	const struct prof_step *st = &r->p[i].spec->steps[k];
	int64_t *nums, *keep = NULL;
	size_t nn, nk = 0;
	if (prun_instances(prun_rd_req(rd, st->table), st->table, &nums, &nn) < 0)
		return -1;
	if (wanted_rows(r, rd, st->table, &keep, &nk) < 0) {
		free(nums);
		free(keep);
		return -1;
	}
	int ok = item_new(v, K_CLAIM, i, k, strdup(st->table)) != NULL;
	for (int64_t j = (int64_t)nn; ok && j < st->min && j - (int64_t)nn < PRUN_ADD_MAX; j++) {
		struct item *it = item_new(v, K_ADDN, i, k, strdup(st->table));
		if ((ok = it != NULL))
			it->differs = 1;
	}
	/* the excess, highest instance numbers first, but never a row
	 * another step wants */
	int64_t excess = (int64_t)nn - st->max;
	for (size_t j = nn, d = 0; ok && j-- > 0 && excess > 0 && d < PRUN_DELETE_MAX;) {
		int wanted = 0;
		for (size_t q = 0; q < nk && !wanted; q++)
			wanted = keep[q] == nums[j];
		if (wanted)
			continue;
		struct item *it = item_new(v, K_DEL, i, k, strdup(st->table));
		if ((ok = it != NULL)) {
			it->differs = 1;
			ok = (it->target = inst_path(st->table, nums[j])) != NULL;
		}
		excess--;
		d++;
	}
	free(nums);
	free(keep);
	return ok ? 0 : v->full ? 1 : -1;
}

/* The notification attributes of step k of profile i, compared with the
 * round's get_attributes (work.attrs; a path it did not return differs):
 * 0, 1 the profile failed, -1 no memory. */
static int attr_items(struct run *r, struct items *v, size_t i, size_t k)
{
	const struct prof_step *st = &r->p[i].spec->steps[k];
	const cJSON *attrs = prun_get(r->work, "attrs");
	for (size_t q = 0; q < st->n_params; q++) {
		const char *path = st->params[q].name;
		struct item *it = item_new(v, K_ATTR, i, k, prof_attr_key(path));
		if (!it)
			return v->full ? 1 : -1;
		it->v = &st->params[q].v;
		it->have = prun_str_of(attrs, path);
		if (!(it->target = strdup(path)) || !(it->want = strdup(it->v->text)))
			return -1;
		it->differs = !it->have || strcmp(it->have, it->want) != 0;
	}
	return 0;
}

/* Profile i's items from this read: 0, 1 the profile failed, -1 no memory. */
static int prof_items(struct run *r, const struct rd *rd, struct items *v, size_t i)
{
	const struct prof_spec *s = r->p[i].spec;
	int rc = 0;
	for (size_t k = 0; rc == 0 && k < s->n_steps; k++) {
		const struct prof_step *st = &s->steps[k];
		if (!prun_step_applies(r, st))
			continue;
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
			prun_once_key(r, i, st, key);
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
		case PROF_STEP_NOTIFICATION:
			rc = attr_items(r, v, i, k);
			break;
		}
	}
	if (rc == 1 && v->full)
		prun_mark(r, i, PRUN_FAILED, 1, "too many paths in the answer");
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
		if (v->v[x].kind == K_SET || v->v[x].kind == K_ATTR)
			for (const char *s = TGT(&v->v[x]); *s; s++)
				npref += *s == '.';
	if (prun_hmap_init(&keys, v->n) < 0 || prun_hmap_init(&dels, v->n) < 0 ||
	    prun_hmap_init(&prefs, npref) < 0)
		goto out;
	for (size_t x = 0; x < v->n; x++) {
		struct item *it = &v->v[x];
		if (!prun_active(r, it->prof) || it->kind == K_OP)
			continue;
		struct hent *e = prun_hmap_put(&keys, it->path, strlen(it->path), "", 0);
		if (!e)
			goto out;
		if (e->i1 < (long)it->prof)
			e->i1 = (long)it->prof, e->i2 = -1;
		if (e->i1 == (long)it->prof && (it->kind == K_SET || it->kind == K_ATTR))
			e->i2 = (long)x;
		if (it->kind == K_DEL) {
			if (!(e = prun_hmap_put(&dels, TGT(it), strlen(TGT(it)), "", 0)))
				goto out;
			if (e->i1 < (long)it->prof)
				e->i1 = (long)it->prof;
		}
		if (it->kind == K_SET || it->kind == K_ATTR)
			for (const char *s = TGT(it); *s; s++) {
				if (*s != '.')
					continue;
				e = prun_hmap_put(&prefs, TGT(it), (size_t)(s - TGT(it)) + 1, "",
						  0);
				if (!e)
					goto out;
				if (e->i1 < (long)it->prof)
					e->i1 = (long)it->prof;
			}
	}
	for (size_t x = 0; x < v->n; x++) {
		struct item *it = &v->v[x];
		if (!prun_active(r, it->prof) || it->kind == K_OP)
			continue;
		const struct hent *e = prun_hmap_get(&keys, it->path);
		if (e && e->i1 > (long)it->prof)
			it->overridden = 1;
		else if ((it->kind == K_SET || it->kind == K_ATTR) && e && e->i2 != (long)x)
			it->dropped = 1; /* the same profile sets the path again later */
		if (it->kind == K_SET || it->kind == K_ADD || it->kind == K_ATTR)
			for (const char *s = TGT(it); *s; s++)
				if (*s == '.' &&
				    (e = prun_hmap_getn(&dels, TGT(it),
							(size_t)(s - TGT(it)) + 1)) &&
				    e->i1 > (long)it->prof)
					it->overridden = 1;
		if (it->kind == K_DEL && (e = prun_hmap_get(&prefs, TGT(it))) &&
		    e->i1 > (long)it->prof)
			it->overridden = 1;
	}
	rc = 0;
out:
	prun_hmap_fini(&keys);
	prun_hmap_fini(&dels);
	prun_hmap_fini(&prefs);
	return rc;
}

/* Work an acting profile has to do for this item. */
int prun_todo(const struct run *r, const struct item *it)
{
	return prun_active(r, it->prof) && prun_acting(r, it->prof) && !it->overridden &&
	       !it->dropped && it->differs && it->kind != K_CLAIM &&
	       !(it->kind == K_SET && it->contested);
}

/* ---- comparing a read with what the profiles want ------------------------------------- */

/* Path errors of this read, then the items, the merge and the decision. */
int prun_read_done(struct run *r, const struct rd *rd, struct prun_step *out)
{
	struct items v = { 0 };
	int rc = 0;
	for (size_t i = 0; rc >= 0 && i < r->n; i++) {
		struct strv sv = { 0 };
		if (!prun_active(r, i) || (rc = prun_prof_reads(r, i, &sv)) != 0) {
			prun_strv_fini(&sv);
			rc = rc < 0 ? -1 : 0;
			continue;
		}
		for (size_t j = 0; j < sv.n && prun_active(r, i); j++) {
			const cJSON *rr = prun_rd_req(rd, sv.v[j]);
			size_t len = strlen(sv.v[j]);
			if (!rr && len && sv.v[j][len - 1] == '.')
				prun_fail_path(r, i, sv.v[j], 0, "not in the answer");
			else if (rr && prun_code_of(rr))
				prun_fail_path(r, i, sv.v[j], prun_code_of(rr),
					       prun_str_of(rr, "err_msg"));
		}
		prun_strv_fini(&sv);
	}
	for (size_t i = 0; rc >= 0 && i < r->n; i++)
		if (prun_active(r, i) && prof_items(r, rd, &v, i) < 0)
			rc = -1;
	if (rc >= 0 && (merge(r, &v) < 0 || r->oom))
		rc = -1;
	if (rc >= 0)
		rc = prun_decide(r, rd, &v, out);
	items_fini(&v);
	return rc < 0 ? -1 : 0;
}
