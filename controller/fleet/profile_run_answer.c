/*
 * profile_run_answer.c — the reading of an agent's answers in a profile
 * run (profile_run_internal.h): the GetResp of the round's read, indexed
 * in bounded hash maps (at most PRUN_INDEX_MAX entries), a USP Error
 * answering it, and the answer to the round's action (SetResp, AddResp,
 * DeleteResp, OperateResp or an Error), each item of the action given its
 * result, its history entry and the state it leaves (Set times,
 * write-only hashes, once markers).
 *
 * Called from one thread at a time; no globals.
 */
#include "profile_run_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a hash map of borrowed strings (a string may be given in two parts) ---- */

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

int prun_hmap_init(struct hmap *m, size_t want)
{
	size_t cap = 16;
	while (cap < want * 2 + 2)
		cap <<= 1;
	m->e = calloc(cap, sizeof(*m->e));
	m->mask = cap - 1;
	m->n = 0;
	return m->e ? 0 : -1;
}

void prun_hmap_fini(struct hmap *m)
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

struct hent *prun_hmap_getn(const struct hmap *m, const char *s, size_t len)
{
	uint64_t h;
	struct hent *e = hmap_at(m, s, len, "", 0, &h);
	return e->a ? e : NULL;
}

struct hent *prun_hmap_get(const struct hmap *m, const char *s)
{
	return prun_hmap_getn(m, s, strlen(s));
}

/* The entry of a..b, added (i1 = i2 = -1) when new; NULL when full. */
struct hent *prun_hmap_put(struct hmap *m, const char *a, size_t alen, const char *b, size_t blen)
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

/* ---- reading a GetResp ------------------------------------------------------------ */

void prun_rd_fini(struct rd *rd)
{
	prun_hmap_fini(&rd->rq);
	prun_hmap_fini(&rd->val);
}

/* Index a GetResp: 0, 1 unreadable, 2 too large, -1 out of memory. */
int prun_rd_build(struct rd *rd, const cJSON *res)
{
	const cJSON *reqs = prun_get(res, "req_path_results"), *rr, *one, *kv;
	size_t nrq = 0, nval = 0, total = 0;
	memset(rd, 0, sizeof(*rd));
	if (reqs && !cJSON_IsArray(reqs))
		return 1;
	cJSON_ArrayForEach(rr, reqs)
	{
		nrq++;
		if (++total > PRUN_INDEX_MAX)
			return 2;
		cJSON_ArrayForEach(one, prun_arr_of(rr, "resolved_path_results"))
		{
			if (++total > PRUN_INDEX_MAX)
				return 2;
			cJSON_ArrayForEach(kv, prun_obj_of(one, "result_params"))
			{
				nval++;
				if (++total > PRUN_INDEX_MAX)
					return 2;
			}
		}
	}
	if (prun_hmap_init(&rd->rq, nrq) < 0 || prun_hmap_init(&rd->val, nval) < 0) {
		prun_rd_fini(rd);
		return -1;
	}
	cJSON_ArrayForEach(rr, reqs)
	{
		const char *q = prun_str_of(rr, "requested_path");
		struct hent *e = q ? prun_hmap_put(&rd->rq, q, strlen(q), "", 0) : NULL;
		if (e && !e->j)
			e->j = rr;
		cJSON_ArrayForEach(one, prun_arr_of(rr, "resolved_path_results"))
		{
			const char *path = prun_str_of(one, "resolved_path");
			size_t plen = path ? strnlen(path, PRUN_PATH_MAX + 1) : 0;
			if (!path || plen > PRUN_PATH_MAX)
				continue;
			cJSON_ArrayForEach(kv, prun_obj_of(one, "result_params"))
			{
				if (!cJSON_IsString(kv) || !kv->string)
					continue;
				e = prun_hmap_put(&rd->val, path, plen, kv->string,
						  strlen(kv->string));
				if (e && !e->j)
					e->j = kv;
			}
		}
	}
	return 0;
}

const char *prun_rd_value(const struct rd *rd, const char *path)
{
	const struct hent *e = rd->val.e ? prun_hmap_get(&rd->val, path) : NULL;
	return e ? e->j->valuestring : NULL;
}

const cJSON *prun_rd_req(const struct rd *rd, const char *path)
{
	const struct hent *e = rd->rq.e ? prun_hmap_get(&rd->rq, path) : NULL;
	return e ? e->j : NULL;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The distinct instance numbers directly under table among the resolved
 * paths of rr, ascending, in *out (malloc'd; NULL when none): 0 or -1. */
int prun_instances(const cJSON *rr, const char *table, int64_t **out, size_t *n)
{
	const cJSON *rp = prun_arr_of(rr, "resolved_path_results"), *one;
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
		const char *s = prun_str_of(one, "resolved_path");
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
	res_fail(o, prun_code_of(f), prun_str_of(f, "err_msg"));
}

/* Index the results of an answer by requested_path: 0, or -1. */
static int by_requested(struct hmap *m, const cJSON *list)
{
	const cJSON *e;
	if (prun_hmap_init(m, (size_t)cJSON_GetArraySize(list)) < 0)
		return -1;
	cJSON_ArrayForEach(e, list)
	{
		const char *q = prun_str_of(e, "requested_path");
		struct hent *h = q ? prun_hmap_put(m, q, strlen(q), "", 0) : NULL;
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
	const cJSON *pe = prun_arr_of(res, "param_errs"), *it, *e;
	size_t k = 0;
	cJSON_ArrayForEach(it, items)
	{
		const char *path =
			kind == ACT_ADD ? prun_str_of(it, "obj") : prun_str_of(it, "path");
		if (!cJSON_GetArraySize(pe)) {
			res_failure(&o[k++], res);
			continue;
		}
		cJSON_ArrayForEach(e, pe)
		{
			const char *pp = prun_str_of(e, "param_path");
			if (pp && names_item(kind, path, pp)) {
				int64_t c = prun_code_of(e);
				res_fail(&o[k], c ? c : prun_code_of(res),
					 prun_str_of(e, "err_msg"));
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
	cJSON_ArrayForEach(f, prun_arr_of(fail, "updated_inst_failures"))
	{
		cJSON_ArrayForEach(pe, prun_arr_of(f, "param_errs"))
		{
			const char *name = prun_str_of(pe, "param");
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
	if (by_requested(&m, prun_arr_of(res, "updated_obj_results")) < 0)
		return -1;
	cJSON_ArrayForEach(it, items)
	{
		const char *path = prun_str_of(it, "path");
		size_t ol = prun_obj_len(path);
		const struct hent *e = prun_hmap_getn(&m, path, ol);
		const cJSON *os = e ? prun_obj_of(e->j, "oper_status") : NULL;
		const cJSON *fail = prun_obj_of(os, "oper_failure");
		int any = 0;
		if (prun_obj_of(os, "oper_success"))
			o[k].st = R_OK;
		else if (fail && !param_err(fail, path + ol, &o[k], &any) && !any)
			res_failure(&o[k], fail); /* the object failed as a whole */
		k++;
	}
	prun_hmap_fini(&m);
	return 0;
}

static void read_add(const cJSON *res, const cJSON *items, struct res1 *o)
{
	const cJSON *it, *r1 = cJSON_GetArrayItem(prun_arr_of(res, "created_obj_results"), 0);
	size_t k = 0;
	cJSON_ArrayForEach(it, items)
	{
		const char *rp = prun_str_of(r1, "requested_path");
		const cJSON *os = prun_obj_of(r1, "oper_status"),
			    *succ = prun_obj_of(os, "oper_success");
		if (r1 && (!rp || strcmp(rp, prun_str_of(it, "obj")) == 0)) {
			if (succ) {
				o[k].st = R_OK;
				o[k].inst = prun_str_of(succ, "instantiated_path");
			} else if (prun_obj_of(os, "oper_failure")) {
				res_failure(&o[k], prun_obj_of(os, "oper_failure"));
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
	if (by_requested(&m, prun_arr_of(res, "deleted_obj_results")) < 0)
		return -1;
	cJSON_ArrayForEach(it, items)
	{
		const struct hent *e = prun_hmap_get(&m, prun_str_of(it, "path"));
		const cJSON *os = e ? prun_obj_of(e->j, "oper_status") : NULL;
		const cJSON *succ = prun_obj_of(os, "oper_success");
		const cJSON *upe = cJSON_GetArrayItem(prun_arr_of(succ, "unaffected_path_errs"), 0);
		if (succ && upe)
			res_failure(&o[k], upe);
		else if (succ)
			o[k].st = R_OK;
		else if (prun_obj_of(os, "oper_failure"))
			res_failure(&o[k], prun_obj_of(os, "oper_failure"));
		k++;
	}
	prun_hmap_fini(&m);
	return 0;
}

static void read_operate(const cJSON *res, const cJSON *items, struct res1 *o)
{
	const cJSON *list = prun_arr_of(res, "operation_results"), *e, *r1 = NULL;
	const char *cmd = prun_str_of(cJSON_GetArrayItem(items, 0), "path");
	cJSON_ArrayForEach(e, list)
	{
		const char *ec = prun_str_of(e, "executed_command");
		if (cmd && ec && strcmp(ec, cmd) == 0) {
			r1 = e;
			break;
		}
	}
	if (!r1)
		r1 = cJSON_GetArrayItem(list, 0);
	if (prun_obj_of(r1, "cmd_failure"))
		res_failure(&o[0], prun_obj_of(r1, "cmd_failure"));
	else if (prun_get(r1, "req_output_args") || prun_get(r1, "req_obj_path"))
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
		char *path = prun_cat(inst, q->name);
		cJSON *wo = prun_pstate(r, i, "wo");
		if (path && prun_wo_hash(r->p[i].version, path, val, h) == 0 &&
		    (prun_get(wo, path) || cJSON_GetArraySize(wo) < PRUN_STATE_MAX))
			prun_put(r, wo, path, cJSON_CreateString(h));
		free(path);
	}
}

static void apply_ok(struct run *r, int kind, const cJSON *it, const struct res1 *o)
{
	size_t i = (size_t)prun_get(it, "p")->valuedouble;
	const char *path = prun_str_of(it, "path"), *nw = prun_str_of(it, "new"),
		   *h = prun_str_of(it, "hash");
	if (kind == ACT_SET) {
		prun_record_set(r, i, path);
		cJSON *wo = prun_pstate(r, i, "wo");
		if (h && (prun_get(wo, path) || cJSON_GetArraySize(wo) < PRUN_STATE_MAX))
			prun_put(r, wo, path, cJSON_CreateString(h));
	} else if (kind == ACT_ADD) {
		add_hashes(r, i, (size_t)prun_get(it, "step")->valuedouble, prun_str_of(it, "obj"),
			   o->inst);
	} else if (kind == ACT_OPERATE) {
		char idx[24];
		snprintf(idx, sizeof(idx), "%zu", (size_t)prun_get(it, "step")->valuedouble + 1);
		prun_put(r, prun_pstate(r, i, "once"), idx,
			 cJSON_CreateString(prun_str_of(it, "key")));
	}
	prun_log_change(r, i, path, prun_str_of(it, "old"), nw, prun_act_kinds[kind], "ok", 0,
			NULL);
}

int prun_after_act(struct run *r, const cJSON *res, struct prun_step *out)
{
	const cJSON *act = prun_get(r->work, "act");
	const cJSON *items = prun_get(act, "items"), *it;
	int kind = prun_act_kind(prun_str_of(act, "kind"));
	const char *type = prun_str_of(res, "type");
	static const char *const want[ACT_KINDS] = { "delete_resp", "add_resp",
						     "set_resp",    "operate_resp",
						     NULL,          "set_attributes_resp" };
	if (kind == ACT_STAMP) {
		const cJSON *r1 = cJSON_GetArrayItem(prun_arr_of(res, "updated_obj_results"), 0);
		if (type && !strcmp(type, "set_resp") &&
		    prun_obj_of(prun_obj_of(r1, "oper_status"), "oper_success"))
			prun_put(r, r->work, "stamp_out",
				 cJSON_CreateString(prun_str_of(act, "stamp")));
		return r->oom ? -1 : prun_finish(r, out);
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
	else if (kind == ACT_ATTRS)
		for (k = 0; k < n; k++)
			o[k].st = R_OK; /* SetParameterAttributesResponse: all or nothing */
	else
		read_operate(res, items, o);
	k = 0;
	const cJSON *done = rc ? NULL : items;
	cJSON_ArrayForEach(it, done)
	{
		const struct res1 *x = &o[k++];
		size_t i = (size_t)prun_get(it, "p")->valuedouble;
		const char *path = prun_str_of(it, "path");
		if (x->st == R_OK) {
			apply_ok(r, kind, it, x);
		} else if (x->st == R_FAILED) {
			prun_log_change(r, i, path, prun_str_of(it, "old"), prun_str_of(it, "new"),
					prun_act_kinds[kind],
					prun_err_permanent(x->code) ? "not_applicable" : "failed",
					x->code, x->msg);
			prun_fail_path(r, i, path, x->code, x->msg);
		}
	}
	free(o);
	if (rc < 0 || r->oom)
		return -1;
	return prun_next_round(r, out);
}

/* ---- the answer to the read ------------------------------------------------------------ */

/* A USP Error answering the Get. */
static int get_error(struct run *r, const cJSON *res, struct prun_step *out)
{
	int64_t code = prun_code_of(res);
	const cJSON *pe = prun_arr_of(res, "param_errs"), *e;
	char d[PRUN_DETAIL_MAX], m[PRUN_MSG_MAX];
	if (!prun_err_permanent(code))
		return prun_interrupt(r, out);
	if (!cJSON_GetArraySize(pe)) {
		prun_copy(m, sizeof(m), prun_str_of(res, "err_msg"));
		prun_fmt(d, sizeof(d), "get: %lld %s", (long long)code, m);
		prun_fail_active(r, d);
		return prun_finish(r, out);
	}
	for (size_t i = 0; i < r->n; i++) {
		struct strv sv = { 0 };
		struct hmap mine;
		if (!prun_active(r, i))
			continue;
		int rc = prun_prof_reads(r, i, &sv);
		if (rc < 0 || prun_hmap_init(&mine, sv.n) < 0) {
			prun_strv_fini(&sv);
			return -1;
		}
		for (size_t j = 0; rc == 0 && j < sv.n; j++)
			prun_hmap_put(&mine, sv.v[j], strlen(sv.v[j]), "", 0);
		const cJSON *errs = rc ? NULL : pe;
		cJSON_ArrayForEach(e, errs)
		{
			const char *pp = prun_str_of(e, "param_path");
			if (pp && prun_active(r, i) && prun_hmap_get(&mine, pp))
				prun_fail_path(r, i, pp, prun_code_of(e) ? prun_code_of(e) : code,
					       prun_str_of(e, "err_msg"));
		}
		prun_hmap_fini(&mine);
		prun_strv_fini(&sv);
	}
	return r->oom ? -1 : prun_next_round(r, out);
}

int prun_after_read(struct run *r, const cJSON *res, struct prun_step *out)
{
	const char *type = prun_str_of(res, "type");
	struct rd rd;
	if (type && !strcmp(type, "error"))
		return get_error(r, res, out);
	int rc = type && !strcmp(type, "get_resp") ? prun_rd_build(&rd, res) : 1;
	if (rc < 0)
		return -1;
	if (rc > 0) {
		prun_fail_active(r, rc == 2 ? "get: answer too large" : "get: unreadable answer");
		return prun_finish(r, out);
	}
	rc = prun_read_done(r, &rd, out);
	prun_rd_fini(&rd);
	return rc;
}

/* ---- the answer to a get_attributes ------------------------------------------------------ */

/* What profile i's get_attributes found, into work.attrs: each requested
 * parameter's notification ("0".."6"). */
static void take_attrs(struct run *r, const cJSON *res)
{
	cJSON *attrs = cJSON_GetObjectItemCaseSensitive(r->work, "attrs");
	const cJSON *rr, *a;
	cJSON_ArrayForEach(rr, prun_arr_of(res, "req_path_results"))
	{
		const char *rp = prun_str_of(rr, "requested_path");
		cJSON_ArrayForEach(a, prun_arr_of(rr, "attributes"))
		{
			const char *path = prun_str_of(a, "path");
			const cJSON *nf = prun_get(a, "notification");
			char v[2];
			if (!rp || !path || strcmp(path, rp) != 0 || !cJSON_IsNumber(nf) ||
			    nf->valuedouble < 0 || nf->valuedouble > 6 ||
			    nf->valuedouble != (double)(int)nf->valuedouble ||
			    strlen(path) > PRUN_PATH_MAX ||
			    (!prun_get(attrs, path) && cJSON_GetArraySize(attrs) >= PRUN_INDEX_MAX))
				continue;
			v[0] = (char)('0' + (int)nf->valuedouble);
			v[1] = '\0';
			prun_put(r, attrs, path, cJSON_CreateString(v));
		}
	}
}

int prun_after_attrs(struct run *r, const cJSON *res, struct prun_step *out)
{
	size_t i = (size_t)prun_get(r->work, "attrs_p")->valuedouble;
	const char *type = prun_str_of(res, "type");
	if (type && !strcmp(type, "error")) {
		int64_t code = prun_code_of(res);
		char d[PRUN_DETAIL_MAX], m[PRUN_MSG_MAX];
		if (!prun_err_permanent(code))
			return prun_interrupt(r, out);
		prun_copy(m, sizeof(m), prun_str_of(res, "err_msg"));
		prun_fmt(d, sizeof(d), "get_attributes: %lld %s", (long long)code, m);
		prun_mark(r, i, PRUN_NOT_APPLICABLE, 0, d);
	} else if (type && !strcmp(type, "get_attributes_resp")) {
		take_attrs(r, res);
	} else {
		prun_mark(r, i, PRUN_FAILED, 1, "get_attributes: unreadable answer");
	}
	if (r->oom)
		return -1;
	int rc = prun_issue_attr_read(r, i + 1, out);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	return prun_issue_read(r, out);
}
