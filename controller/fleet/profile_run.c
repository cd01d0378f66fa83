/*
 * profile_run.c — one agent's run of its provisioning profiles
 * (profile_run.h): the machine. prun_begin and prun_next, the rounds (a
 * read, then at most one action), the choice of the round's one action
 * (Delete, Add, Set, notification attributes, Operate, then the stamp),
 * the verdicts and the
 * step handed out with the work. Pure; keeps nothing between calls: what a
 * run needs next is in its work object, which is checked in full when it
 * comes back (the engine keeps it in the database, so it is read as
 * untrusted). The other parts (profile_run_internal.h):
 * profile_run_want.c (what each profile wants, compared with a read and
 * merged), profile_run_answer.c (reading every answer) and
 * profile_run_work.c (the work object and per-agent state).
 *
 * The work object (ours; opaque to the engine):
 *   {"v": 1, "round": 1..PRUN_MAX_ROUNDS, "phase": "attrs" | "read" | "act",
 *    "profiles": [{"outcome"?: name (set once the profile's verdict is
 *                  known), "retry": 0|1, "detail": "",
 *                  "state": {"wo": {}, "once": {}, "sets": {}, "contested": []},
 *                  "log": [change, ...], "dropped": N}, ... one per profile],
 *    "attrs"?: {path: "0".."6"} (what the round's get_attributes read,
 *               one per profile; present from the first to the round's end),
 *    "attrs_p"?: the profile whose get_attributes is in flight,
 *    "act"?: {"kind": "delete"|"add"|"set"|"operate"|"stamp"|"set_notification",
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
#include "profile_run_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- handing out a step ------------------------------------------------------------- */

/* The next request: the work goes out with it. 1, or -1 out of memory. */
static int emit(struct run *r, const char *op, cJSON *req, cJSON *act, struct prun_step *out)
{
	const char *phase = act ? "act" : strcmp(op, "get_attributes") == 0 ? "attrs" : "read";
	prun_put(r, r->work, "phase", cJSON_CreateString(phase));
	prun_put(r, r->work, "round", cJSON_CreateNumber(r->round));
	if (act)
		prun_put(r, r->work, "act", act);
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
int prun_finish(struct run *r, struct prun_step *out)
{
	out->done = 1;
	out->op = NULL;
	out->verdicts = calloc(r->n ? r->n : 1, sizeof(*out->verdicts));
	if (!out->verdicts)
		return -1;
	out->n_verdicts = r->n;
	for (size_t i = 0; i < r->n; i++) {
		struct prun_verdict *v = &out->verdicts[i];
		int o = prun_outcome_parse(prun_str_of(r->prof[i], "outcome"));
		const cJSON *rt = prun_get(r->prof[i], "retry"),
			    *dr = prun_get(r->prof[i], "dropped");
		if (o < 0) {
			o = PRUN_FAILED;
			prun_copy(v->detail, sizeof(v->detail), "the run ended before a verdict");
			v->retry = 1;
		} else {
			prun_copy(v->detail, sizeof(v->detail), prun_str_of(r->prof[i], "detail"));
			v->retry = cJSON_IsNumber(rt) && rt->valuedouble == 1;
		}
		v->outcome = (enum prun_outcome)o;
		v->state = prun_state_out(r, i);
		v->history = cJSON_CreateObject();
		cJSON *h = v->history;
		prun_put(r, h, "outcome", cJSON_CreateString(prun_outcome_name(v->outcome)));
		prun_put(r, h, "detail", cJSON_CreateString(v->detail));
		prun_put(r, h, "rounds", cJSON_CreateNumber(r->round));
		prun_put(r, h, "changes",
			 cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(r->prof[i], "log"), 1));
		if (cJSON_IsNumber(dr))
			prun_put(r, h, "changes_dropped", cJSON_CreateNumber(dr->valuedouble));
		if (!v->state)
			r->oom = 1;
	}
	const cJSON *ow = prun_get(r->work, "owners");
	out->owners = ow ? cJSON_Duplicate(ow, 1) : cJSON_CreateObject();
	if (!out->owners)
		r->oom = 1;
	prun_copy(out->stamp, sizeof(out->stamp), prun_str_of(r->work, "stamp_out"));
	return r->oom ? -1 : 0;
}

/* No answer: the run stops without verdicts. */
int prun_interrupt(struct run *r, struct prun_step *out)
{
	out->done = 1;
	out->interrupted = 1;
	out->op = NULL;
	out->states = cJSON_CreateArray();
	for (size_t i = 0; i < r->n; i++)
		prun_push(r, out->states, prun_state_out(r, i));
	return r->oom ? -1 : 0;
}

/* After an answer that gives no values: read again, unless out of rounds. */
int prun_next_round(struct run *r, struct prun_step *out)
{
	cJSON_DeleteItemFromObjectCaseSensitive(r->work, "act");
	cJSON_DeleteItemFromObjectCaseSensitive(r->work, "attrs");
	if (r->round >= PRUN_MAX_ROUNDS) {
		char d[64];
		snprintf(d, sizeof(d), "did not converge in %d rounds", PRUN_MAX_ROUNDS);
		prun_fail_active(r, d);
		return prun_finish(r, out);
	}
	r->round++;
	return prun_issue_read(r, out);
}

/* ---- the round's action ------------------------------------------------------------- */

static cJSON *act_new(struct run *r, int kind, cJSON **items)
{
	cJSON *a = cJSON_CreateObject();
	prun_put(r, a, "kind", cJSON_CreateString(prun_act_kinds[kind]));
	prun_put(r, a, "items", (*items = cJSON_CreateArray()));
	return a;
}

static cJSON *act_item(struct run *r, cJSON *items, const struct item *it, const char *path)
{
	cJSON *o = cJSON_CreateObject();
	prun_put(r, o, "p", cJSON_CreateNumber((double)it->prof));
	prun_put(r, o, "path", cJSON_CreateString(path));
	prun_push(r, items, o);
	return o;
}

static cJSON *setting(struct run *r, const char *param, const char *value)
{
	cJSON *o = cJSON_CreateObject();
	prun_put(r, o, "param", cJSON_CreateString(param));
	prun_put(r, o, "value", cJSON_CreateString(value));
	prun_put(r, o, "required", cJSON_CreateBool(1));
	return o;
}

static int act_delete(struct run *r, struct items *v, struct prun_step *out)
{
	cJSON *items, *req = cJSON_CreateObject(), *paths = cJSON_CreateArray();
	cJSON *act = act_new(r, ACT_DELETE, &items);
	struct hmap seen;
	size_t k = 0;
	if (prun_hmap_init(&seen, PRUN_DELETE_MAX) < 0)
		r->oom = 1;
	for (size_t x = 0; !r->oom && x < v->n && k < PRUN_DELETE_MAX; x++) {
		const struct item *it = &v->v[x];
		if (it->kind != K_DEL || !prun_todo(r, it))
			continue;
		struct hent *e = prun_hmap_put(&seen, TGT(it), strlen(TGT(it)), "", 0);
		if (!e || e->i1 == 1)
			continue;
		e->i1 = 1;
		prun_push(r, paths, cJSON_CreateString(TGT(it)));
		act_item(r, items, it, TGT(it));
		k++;
	}
	prun_hmap_fini(&seen);
	prun_put(r, req, "allow_partial", cJSON_CreateBool(1));
	prun_put(r, req, "obj_paths", paths);
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
	prun_put(r, co, "obj_path", cJSON_CreateString(st->table));
	prun_put(r, co, "param_settings", ps);
	summary[0] = '\0';
	for (size_t l = 0; l < 2; l++)
		for (size_t j = 0; j < counts[l]; j++) {
			const struct prof_param *q = &lists[l][j];
			int dup = 0;
			for (size_t d = 0; l == 1 && d < st->n_keys; d++)
				dup |= strcmp(st->keys[d].name, q->name) == 0;
			if (dup)
				continue;
			if (prun_expand(r, it->prof, it->step, q->v.text, val)) {
				cJSON_Delete(co);
				return NULL;
			}
			prun_push(r, ps, setting(r, q->name, val));
			int n = snprintf(summary + used, size - used, "%s%s=%s", used ? ", " : "",
					 q->name, prun_shown(q->name, q->v.write_only, val));
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
		if ((it->kind != K_ADD && it->kind != K_ADDN) || !prun_todo(r, it))
			continue;
		cJSON *co;
		if (it->kind == K_ADD) {
			if (!(co = create_row(r, it, summary, sizeof(summary))))
				continue; /* a template without a value: the profile failed */
		} else {
			co = cJSON_CreateObject();
			prun_put(r, co, "obj_path", cJSON_CreateString(it->path));
			summary[0] = '\0';
		}
		prun_push(r, objs, co);
		cJSON *o = act_item(r, items, it, it->path);
		prun_put(r, o, "obj", cJSON_CreateString(TGT(it)));
		prun_put(r, o, "new", prun_str_cut(summary, PRUN_SHOW_MAX));
		prun_put(r, o, "step", cJSON_CreateNumber((double)it->step));
		k++;
	}
	prun_put(r, req, "allow_partial", cJSON_CreateBool(1));
	prun_put(r, req, "create_objs", objs);
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
	if (prun_hmap_init(&by_obj, v->n) < 0)
		r->oom = 1;
	for (size_t x = 0; !r->oom && x < v->n; x++) {
		const struct item *it = &v->v[x];
		size_t ol = prun_obj_len(it->path);
		if (it->kind != K_SET || !prun_todo(r, it) || !ol)
			continue;
		struct hent *e = prun_hmap_put(&by_obj, it->path, ol, "", 0);
		if (!e)
			break;
		if (!e->w) {
			cJSON *uo = cJSON_CreateObject();
			char *obj = strndup(it->path, ol);
			prun_put(r, uo, "obj_path", obj ? cJSON_CreateString(obj) : NULL);
			free(obj);
			prun_put(r, uo, "param_settings", (e->w = cJSON_CreateArray()));
			prun_push(r, objs, uo);
		}
		prun_push(r, e->w, setting(r, it->path + ol, it->want));
		cJSON *o = act_item(r, items, it, it->path);
		const struct prof_value *pv = it->v;
		prun_put(r, o, "old",
			 prun_str_cut(prun_shown(it->path, pv->write_only, it->have),
				      PRUN_SHOW_MAX));
		prun_put(r, o, "new",
			 prun_str_cut(prun_shown(it->path, pv->write_only, it->want),
				      PRUN_SHOW_MAX));
		char h[65];
		if (pv->write_only &&
		    prun_wo_hash(r->p[it->prof].version, it->path, it->want, h) == 0)
			prun_put(r, o, "hash", cJSON_CreateString(h));
		k++;
	}
	prun_hmap_fini(&by_obj);
	prun_put(r, req, "allow_partial", cJSON_CreateBool(1));
	prun_put(r, req, "update_objs", objs);
	if (!k || r->oom) {
		cJSON_Delete(req);
		cJSON_Delete(act);
		return r->oom ? -1 : 0;
	}
	return emit(r, "set", req, act, out);
}

/* One set_attributes of the differing notification attributes of one
 * profile (the first that has some): a CPE refuses the request as a
 * whole, so a refusal is that profile's. */
static int act_attrs(struct run *r, struct items *v, struct prun_step *out)
{
	cJSON *items, *req = cJSON_CreateObject(), *list = cJSON_CreateArray();
	cJSON *act = act_new(r, ACT_ATTRS, &items);
	size_t k = 0, prof = 0;
	for (size_t x = 0; !r->oom && x < v->n && k < PRUN_ATTRS_MAX; x++) {
		const struct item *it = &v->v[x];
		if (it->kind != K_ATTR || !prun_todo(r, it) || (k && it->prof != prof))
			continue;
		prof = it->prof;
		cJSON *a = cJSON_CreateObject();
		prun_put(r, a, "path", cJSON_CreateString(TGT(it)));
		prun_put(r, a, "notification", cJSON_CreateNumber(atoi(it->want)));
		prun_push(r, list, a);
		cJSON *o = act_item(r, items, it, TGT(it));
		prun_put(r, o, "old", cJSON_CreateString(it->have ? it->have : ""));
		prun_put(r, o, "new", cJSON_CreateString(it->want));
		k++;
	}
	prun_put(r, req, "attributes", list);
	if (!k || r->oom) {
		cJSON_Delete(req);
		cJSON_Delete(act);
		return r->oom ? -1 : 0;
	}
	return emit(r, "set_attributes", req, act, out);
}

static int act_operate(struct run *r, struct items *v, struct prun_step *out)
{
	for (size_t x = 0; x < v->n; x++) {
		const struct item *it = &v->v[x];
		if (it->kind != K_OP || !prun_todo(r, it))
			continue;
		const struct prof_step *st = &r->p[it->prof].spec->steps[it->step];
		char val[PROF_VALUE_MAX + 1], key[PRUN_KEY_MAX + 1];
		cJSON *req = cJSON_CreateObject(), *args = cJSON_CreateObject(), *items;
		prun_put(r, req, "command", cJSON_CreateString(st->command));
		prun_put(r, req, "command_key", cJSON_CreateString(it->want));
		prun_put(r, req, "send_resp", cJSON_CreateBool(1));
		for (size_t j = 0; j < st->n_args; j++) {
			if (prun_expand(r, it->prof, it->step, st->args[j].v.text, val)) {
				cJSON_Delete(req);
				cJSON_Delete(args);
				return 0; /* the profile failed; the next one's turn comes next read */
			}
			prun_put(r, args, st->args[j].name, cJSON_CreateString(val));
		}
		if (st->n_args)
			prun_put(r, req, "input_args", args);
		else
			cJSON_Delete(args);
		prun_once_key(r, it->prof, st, key);
		cJSON *act = act_new(r, ACT_OPERATE, &items);
		cJSON *o = act_item(r, items, it, st->command);
		prun_put(r, o, "step", cJSON_CreateNumber((double)it->step));
		prun_put(r, o, "key", cJSON_CreateString(key));
		prun_put(r, o, "new", cJSON_CreateString(it->want));
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
	case K_ATTR:
		return would ? "would_set_notification" : "set_notification";
	default:
		return would ? "would_operate" : "operate";
	}
}

static void log_item(struct run *r, const struct item *it, int would, const char *result)
{
	int wo = it->kind == K_SET && it->v->write_only;
	const char *path = it->kind == K_DEL || it->kind == K_ATTR ? TGT(it) : it->path;
	const char *old = it->kind == K_SET                ? prun_shown(path, wo, it->have)
			  : it->kind == K_ATTR && it->have ? it->have
							   : "";
	prun_log_change(r, it->prof, path, old,
			it->kind == K_SET || it->kind == K_OP ? prun_shown(path, wo, it->want)
			: it->kind == K_ATTR                  ? it->want
							      : "",
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
		if (!prun_active(r, i) || it->dropped || it->kind == K_CLAIM ||
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
		if (!prun_active(r, i))
			continue;
		if (m > 1)
			snprintf(more, sizeof(more), " (and %zu more)", m - 1);
		if (hit[i]) {
			prun_fmt(d, sizeof(d), "%s: contested%s", first[i], more);
			prun_mark(r, i, PRUN_CONTESTED, 0, d);
		} else if (drift[i] && !prun_acting(r, i)) {
			prun_fmt(d, sizeof(d), "%s differs%s", first[i], more);
			prun_mark(r, i, PRUN_DRIFTED, 0, d);
		} else if (drift[i]) {
			prun_fmt(d, sizeof(d), "%s: still differs%s", first[i], more);
			prun_mark(r, i, PRUN_FAILED, 1, d);
		} else {
			prun_mark(r, i, PRUN_COMPLIANT, 0, "");
		}
	}
	for (size_t x = 0; x < v->n; x++) {
		const struct item *it = &v->v[x];
		const char *o = prun_str_of(r->prof[it->prof], "outcome");
		if (it->overridden || it->dropped || it->kind == K_OP || !o ||
		    !strcmp(o, "failed") || !strcmp(o, "not_applicable") ||
		    cJSON_GetObjectItemCaseSensitive(owners, it->path))
			continue;
		cJSON *w = cJSON_CreateObject();
		prun_put(r, w, "profile", cJSON_CreateString(r->p[it->prof].spec->name));
		prun_put(r, w, "version", cJSON_CreateNumber((double)r->p[it->prof].version));
		prun_put(r, owners, it->path, w);
	}
	prun_put(r, r->work, "owners", owners);
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
	if (!prun_stamp_path_ok(sp))
		return prun_finish(r, out);
	struct prun_profile *ok = malloc((r->n ? r->n : 1) * sizeof(*ok));
	size_t k = 0;
	char stamp[64] = "", found[64];
	if (!ok)
		return -1;
	for (size_t i = 0; i < r->n; i++)
		if (prun_outcome_parse(prun_str_of(r->prof[i], "outcome")) == PRUN_COMPLIANT)
			ok[k++] = r->p[i];
	if (k)
		prun_stamp(ok, k, stamp);
	free(ok);
	const char *have = rd ? prun_rd_value(rd, sp) : NULL;
	prun_copy(found, sizeof(found), have);
	prun_put(r, r->work, "stamp_out", cJSON_CreateString(found));
	if (!stamp[0] || r->ctx->dry_run || (have && strcmp(have, stamp) == 0))
		return r->oom ? -1 : prun_finish(r, out);
	size_t ol = prun_obj_len(sp);
	cJSON *items, *req = cJSON_CreateObject(), *objs = cJSON_CreateArray();
	cJSON *uo = cJSON_CreateObject(), *ps = cJSON_CreateArray();
	char *obj = strndup(sp, ol);
	prun_put(r, uo, "obj_path", obj ? cJSON_CreateString(obj) : NULL);
	free(obj);
	prun_push(r, ps, setting(r, sp + ol, stamp));
	prun_put(r, uo, "param_settings", ps);
	prun_push(r, objs, uo);
	prun_put(r, req, "allow_partial", cJSON_CreateBool(1));
	prun_put(r, req, "update_objs", objs);
	cJSON *act = act_new(r, ACT_STAMP, &items);
	prun_put(r, act, "stamp", cJSON_CreateString(stamp));
	return emit(r, "set", req, act, out) < 0 ? -1 : 0;
}

/* After a read: pick the round's action, or conclude. */
int prun_decide(struct run *r, const struct rd *rd, struct items *v, struct prun_step *out)
{
	int any = 0, rc;
	for (size_t x = 0; x < v->n; x++) {
		struct item *it = &v->v[x];
		if (it->kind == K_SET && prun_active(r, it->prof) && prun_acting(r, it->prof) &&
		    !it->overridden && !it->dropped && it->differs)
			it->contested = prun_contested_now(r, it->prof, it->path, 1);
		any |= prun_todo(r, it);
	}
	if (r->ctx->dry_run) {
		/* what would be contested, without changing the state */
		for (size_t x = 0; x < v->n; x++) {
			struct item *it = &v->v[x];
			if (it->kind == K_SET && prun_active(r, it->prof) &&
			    r->p[it->prof].spec->mode != PROF_AUDIT && !it->overridden &&
			    !it->dropped && it->differs)
				it->contested = prun_contested_now(r, it->prof, it->path, 0);
		}
	} else if (any && r->round >= PRUN_MAX_ROUNDS) {
		char d[64];
		snprintf(d, sizeof(d), "did not converge in %d rounds", PRUN_MAX_ROUNDS);
		for (size_t x = 0; x < v->n; x++)
			if (prun_todo(r, &v->v[x]))
				prun_mark(r, v->v[x].prof, PRUN_FAILED, 1, d);
	} else if (any) {
		if ((rc = act_delete(r, v, out)) != 0 || (rc = act_add(r, v, out)) != 0 ||
		    (rc = act_set(r, v, out)) != 0 || (rc = act_attrs(r, v, out)) != 0 ||
		    (rc = act_operate(r, v, out)) != 0)
			return rc < 0 ? -1 : 0;
		if (r->oom)
			return -1;
		/* every action's profile failed on the way: read again */
		return prun_next_round(r, out);
	}
	return conclude(r, rd, v, out);
}

/* The round's get_attributes of profile i's notification paths, for the
 * first profile from `from` on that takes part and names some: 1 sent,
 * 0 none left, -1 out of memory. One request per profile, so that a CPE
 * that refuses the request as a whole (a fault names no parameter) is
 * refusing that profile's paths. */
int prun_issue_attr_read(struct run *r, size_t from, struct prun_step *out)
{
	for (size_t i = from; i < r->n; i++) {
		struct strv sv = { 0 };
		if (!prun_active(r, i))
			continue;
		if (prun_prof_attrs(r, i, &sv) < 0) {
			prun_strv_fini(&sv);
			return -1;
		}
		if (!sv.n) {
			prun_strv_fini(&sv);
			continue;
		}
		cJSON *req = cJSON_CreateObject(), *paths = cJSON_CreateArray();
		prun_put(r, req, "param_paths", paths);
		for (size_t j = 0; paths && j < sv.n; j++)
			prun_push(r, paths, cJSON_CreateString(sv.v[j]));
		prun_strv_fini(&sv);
		prun_put(r, r->work, "attrs_p", cJSON_CreateNumber((double)i));
		if (!prun_get(r->work, "attrs"))
			prun_put(r, r->work, "attrs", cJSON_CreateObject());
		return emit(r, "get_attributes", req, NULL, out);
	}
	cJSON_DeleteItemFromObjectCaseSensitive(r->work, "attrs_p");
	return 0;
}

/* The round's reads: get_attributes of the notification paths (once per
 * round, when there are some), then the Get of every path the profiles
 * still taking part name. */
int prun_issue_read(struct run *r, struct prun_step *out)
{
	struct strv all = { 0 };
	struct hmap seen = { 0 };
	cJSON *paths = NULL, *req = NULL;
	int rc = -1, any = 0;
	if (r->ctx->cwmp && !prun_get(r->work, "attrs")) {
		int a = prun_issue_attr_read(r, 0, out);
		if (a != 0)
			return a < 0 ? -1 : 0;
	}
	for (size_t i = 0; i < r->n; i++) {
		struct strv one = { 0 };
		if (!prun_active(r, i))
			continue;
		int x = prun_prof_reads(r, i, &one);
		for (size_t j = 0; x == 0 && j < one.n; j++) {
			x = prun_strv_take(&all, one.v[j]);
			one.v[j] = NULL;
		}
		prun_strv_fini(&one);
		if (x < 0)
			goto out;
		any |= x == 0;
	}
	if (!any) {
		rc = prun_finish(r, out);
		goto out;
	}
	if (prun_stamp_path_ok(r->ctx->stamp_path) &&
	    prun_strv_take(&all, strdup(r->ctx->stamp_path)) < 0)
		goto out;
	if (!all.n) {
		/* nothing to read (operate steps only): decide on an empty read */
		struct rd rd;
		cJSON *empty = cJSON_CreateObject();
		int b = empty ? prun_rd_build(&rd, empty) : -1;
		cJSON_Delete(empty);
		if (b == 0) {
			rc = prun_read_done(r, &rd, out);
			prun_rd_fini(&rd);
		}
		goto out;
	}
	if (prun_hmap_init(&seen, all.n) < 0 || !(req = cJSON_CreateObject()) ||
	    !(paths = cJSON_CreateArray()))
		goto out;
	for (size_t j = 0; j < all.n; j++) {
		struct hent *e = prun_hmap_put(&seen, all.v[j], strlen(all.v[j]), "", 0);
		if (!e || e->i1 == 1)
			continue;
		e->i1 = 1;
		prun_push(r, paths, cJSON_CreateString(all.v[j]));
	}
	prun_put(r, req, "param_paths", paths);
	paths = NULL;
	rc = emit(r, "get", req, NULL, out) < 0 ? -1 : 0;
	req = NULL;
out:
	cJSON_Delete(paths);
	cJSON_Delete(req);
	prun_hmap_fini(&seen);
	prun_strv_fini(&all);
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
	prun_put(&r, r.work, "v", cJSON_CreateNumber(1));
	prun_put(&r, r.work, "round", cJSON_CreateNumber(1));
	prun_put(&r, r.work, "phase", cJSON_CreateString("read"));
	prun_put(&r, r.work, "profiles", profs);
	if (!r.prof || r.oom)
		return nomem(&r, out, err);
	for (size_t i = 0; i < n && !r.oom; i++) {
		cJSON *o = r.prof[i] = cJSON_CreateObject();
		prun_push(&r, profs, o);
		prun_put(&r, o, "retry", cJSON_CreateNumber(0));
		prun_put(&r, o, "detail", cJSON_CreateString(""));
		prun_put(&r, o, "state", prun_state_init(&r, i));
		prun_put(&r, o, "log", cJSON_CreateArray());
	}
	for (size_t i = 0; i < n && !r.oom; i++)
		prun_tpl_check(&r, i);
	if (r.oom)
		return nomem(&r, out, err);
	return run_end(&r, prun_issue_read(&r, out), out, err);
}

int prun_next(const struct prun_profile *p, size_t n, const struct prun_ctx *ctx, const cJSON *work,
	      const struct prun_answer *answer, struct prun_step *out, struct uspc_err *err)
{
	struct run r = { .p = p, .n = n, .ctx = ctx };
	memset(out, 0, sizeof(*out));
	int rc = args_ok(p, n, ctx, err);
	if (rc < 0 || (rc = prun_work_ok(work, p, n, err)) < 0)
		return rc;
	r.work = cJSON_Duplicate(work, 1);
	r.prof = calloc(n ? n : 1, sizeof(*r.prof));
	if (!r.work || !r.prof)
		return nomem(&r, out, err);
	const cJSON *e;
	size_t i = 0;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(r.work, "profiles")) r.prof[i++] =
		(cJSON *)e;
	r.round = (int)prun_get(r.work, "round")->valuedouble;
	if (!answer || !answer->answered)
		rc = prun_interrupt(&r, out);
	else if (!strcmp(prun_str_of(r.work, "phase"), "act"))
		rc = prun_after_act(&r, answer->result, out);
	else if (!strcmp(prun_str_of(r.work, "phase"), "attrs"))
		rc = prun_after_attrs(&r, answer->result, out);
	else
		rc = prun_after_read(&r, answer->result, out);
	return run_end(&r, rc, out, err);
}
