/*
 * sim_h_add.c — Add and Delete with TR-369's allow_partial, required and
 * unique-key rules. Add fills in missing unique keys (R-ADD.5) and rejects
 * duplicates (7025); Subscription rows get Recipient and CreationDate.
 * Both validate everything before changing anything, so allow_partial=false
 * is all-or-nothing. Loop thread only; fires ObjectCreation/ObjectDeletion.
 */
#include "sim_handlers.h"
#include "sim_subs.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct add_target { /* one table an obj_path resolved to */
	struct dm_inst *parent;
	uint16_t table;
	uint32_t code; /* creation fails with this (0 = ok) */
	char msg[200];
	uint32_t *codes; /* per param setting */
	uint16_t *params;
	uint32_t num; /* instance number it will get */
};

struct add_plan {
	uint32_t code;
	char msg[300];
	struct add_target *t;
	size_t n;
};

static const char *setting_value(const Usp__Add__CreateObject *co, const char *name)
{
	for (size_t i = 0; i < co->n_param_settings; i++)
		if (!strcmp(co->param_settings[i]->param, name))
			return co->param_settings[i]->value;
	return NULL;
}

/* Value a key param will have in the new instance. */
static const char *key_value(struct sim_req *r, const Usp__Add__CreateObject *co,
			     struct add_target *t, uint16_t p, char *buf, size_t cap)
{
	const struct sim_model *m = r->env.m;
	const char *v = setting_value(co, m->params[p].name);
	if (v)
		return v;
	if (r->a->w->ids.sub_recipient == p && r->ctrl) {
		int l = sim_dm_obj_path(m, r->ctrl, r->ctrl->obj, buf, cap);
		if (l > 0)
			buf[l - 1] = '\0';
		return buf;
	}
	if (!strcmp(m->params[p].name, "Alias")) {
		snprintf(buf, cap, "cpe-%" PRIu32, t->num);
		return buf;
	}
	/* the model's default for the new instance, if it has one */
	struct dm_inst probe = { .parent = t->parent, .num = t->num, .obj = t->table };
	sim_dm_get_copy(&r->env, &probe, p, buf, cap);
	if (!buf[0])
		snprintf(buf, cap, "%" PRIu32 "-%08" PRIx64, t->num,
			 sim_dm_hash(r->env.seed, r->env.index, t->num, p) & 0xFFFFFFFFu);
	return buf;
}

static void check_keys(struct sim_req *r, const Usp__Add__CreateObject *co, struct add_target *t)
{
	const struct sim_model *m = r->env.m;
	const struct sm_obj *o = &m->objs[t->table];
	char a[SIM_VALUE_MAX], b[SIM_VALUE_MAX];
	for (size_t s = 0; s < o->n_keysets; s++)
		for (struct dm_inst *sib = t->parent->child; sib; sib = sib->next) {
			if (sib->obj != t->table)
				continue;
			int same = 1;
			for (size_t k = 0; same && k < SM_MAX_KEYS && o->keysets[s][k] != SM_NONE;
			     k++) {
				uint16_t kp = o->keysets[s][k];
				same = !strcmp(key_value(r, co, t, kp, a, sizeof(a)),
					       sim_dm_get(&r->env, sib, kp, b, sizeof(b)));
			}
			if (same) {
				t->code = USP_ERR_UNIQUE_KEY_CONFLICT;
				snprintf(t->msg, sizeof(t->msg),
					 "an instance with the same unique key exists");
				return;
			}
		}
}

static void check_target(struct sim_req *r, const Usp__Add__CreateObject *co, struct add_target *t)
{
	const struct sim_model *m = r->env.m;
	const struct sm_obj *o = &m->objs[t->table];
	if (o->access != SM_OBJ_ADD_DELETE && o->access != SM_OBJ_ADD_ONLY) {
		t->code = USP_ERR_OBJECT_NOT_CREATABLE;
		snprintf(t->msg, sizeof(t->msg), "%s does not allow Add", o->path);
		return;
	}
	if (sim_dm_count(t->parent, t->table) >= o->max_instances) {
		t->code = USP_ERR_CREATION_FAILURE;
		snprintf(t->msg, sizeof(t->msg), "table is full (%" PRIu32 " instances)",
			 o->max_instances);
		return;
	}
	t->num = sim_dm_next_num(&r->a->dm, r->env.m, t->parent, t->table);
	for (size_t i = 0; i < co->n_param_settings; i++) {
		const Usp__Add__CreateParamSetting *ps = co->param_settings[i];
		uint16_t p = sim_model_rel_param(m, t->table, ps->param, NULL);
		uint32_t code = 0;
		t->params[i] = p;
		if (p == SM_NONE)
			code = USP_ERR_UNSUPPORTED_PARAM;
		else if (m->params[p].access == SM_RO || m->params[p].dyn)
			code = USP_ERR_PARAM_READ_ONLY;
		else if (strlen(ps->value) >= SIM_VALUE_MAX)
			code = USP_ERR_INVALID_VALUE;
		else
			code = (uint32_t)sim_model_check_value(&m->params[p], ps->value);
		t->codes[i] = code;
		if (code && (ps->required || (p != SM_NONE && sim_model_is_key(m, p))) &&
		    !t->code) {
			t->code = USP_ERR_REQUIRED_PARAM_FAILED;
			snprintf(t->msg, sizeof(t->msg), "required parameter '%s' failed: %s",
				 ps->param, usp_err_text(code));
		}
	}
	if (!t->code)
		check_keys(r, co, t);
}

static int plan_add(struct sim_req *r, const Usp__Add__CreateObject *co, struct add_plan *pl)
{
	struct usp_path p;
	struct dm_matches ms = { 0 };
	int rc = 0;
	pl->code = (uint32_t)sim_parse_path(co->obj_path, &p, pl->msg, sizeof(pl->msg));
	if (!pl->code && p.kind != USP_PATH_OBJECT) {
		pl->code = USP_ERR_INVALID_PATH;
		snprintf(pl->msg, sizeof(pl->msg), "Add takes a table path ending in '.'");
	}
	if (!pl->code)
		pl->code = (uint32_t)sim_dm_resolve(&r->a->dm, &r->env, &p, &ms, pl->msg,
						    sizeof(pl->msg));
	for (size_t i = 0; !pl->code && i < ms.n; i++)
		if (ms.v[i].kind != DM_M_TABLE) {
			pl->code = USP_ERR_NOT_A_TABLE;
			snprintf(pl->msg, sizeof(pl->msg), "%s is not a table path",
				 r->env.m->objs[ms.v[i].obj].path);
		}
	if (!pl->code && ms.n == 0) {
		pl->code = USP_ERR_OBJECT_DOES_NOT_EXIST;
		snprintf(pl->msg, sizeof(pl->msg), "the search path matched no object");
	}
	if (pl->code)
		goto out;
	if (!(pl->t = calloc(ms.n, sizeof(*pl->t)))) {
		rc = -1;
		goto out;
	}
	for (size_t i = 0; i < ms.n; i++) {
		struct add_target *t = &pl->t[pl->n++];
		t->parent = ms.v[i].inst;
		t->table = ms.v[i].obj;
		t->codes = calloc(co->n_param_settings + 1, sizeof(*t->codes));
		t->params = calloc(co->n_param_settings + 1, sizeof(*t->params));
		if (!t->codes || !t->params) {
			rc = -1;
			goto out;
		}
		check_target(r, co, t);
	}
out:
	sim_dm_matches_fini(&ms);
	usp_path_fini(&p);
	return rc;
}

static int plan_failed(const struct add_plan *pl)
{
	if (pl->code)
		return 1;
	for (size_t i = 0; i < pl->n; i++)
		if (pl->t[i].code)
			return 1;
	return 0;
}

/* Create one validated target; fill the OperationSuccess. */
static int create(struct sim_req *r, const Usp__Add__CreateObject *co, struct add_target *t,
		  Usp__AddResp__CreatedObjectResult__OperationStatus__OperationSuccess *ok)
{
	const struct sim_model *m = r->env.m;
	const struct sim_ids *ids = &r->a->w->ids;
	char path[SIM_PATH_MAX], buf[SIM_VALUE_MAX];
	struct dm_inst *inst = sim_dm_add(&r->a->dm, m, t->parent, t->table, t->num);
	if (!inst)
		return -1;
	const struct sm_obj *o = &m->objs[t->table];
	for (size_t s = 0; s < o->n_keysets; s++) /* agent-assigned keys are stored */
		for (size_t k = 0; k < SM_MAX_KEYS && o->keysets[s][k] != SM_NONE; k++) {
			uint16_t kp = o->keysets[s][k];
			if (sim_dm_set(inst, kp, key_value(r, co, t, kp, buf, sizeof(buf))) < 0)
				return -1;
		}
	if (t->table == ids->sub && ids->sub_created != SM_NONE) {
		sim_dm_format_time(r->env.now, buf, sizeof(buf));
		if (sim_dm_set(inst, ids->sub_created, buf) < 0)
			return -1;
	}
	for (size_t i = 0; i < co->n_param_settings; i++) {
		const Usp__Add__CreateParamSetting *ps = co->param_settings[i];
		if (t->codes[i]) {
			Usp__AddResp__ParameterError *pe =
				(Usp__AddResp__ParameterError *)usp_pb_new(
					&usp__add_resp__parameter_error__descriptor);
			if (!pe)
				return -1;
			pe->param = usp_pb_strdup(ps->param);
			pe->err_code = t->codes[i];
			pe->err_msg = usp_pb_strdup(usp_err_text(t->codes[i]));
			if (!pe->param || !pe->err_msg ||
			    usp_pb_push((void ***)&ok->param_errs, &ok->n_param_errs, pe) < 0) {
				usp_pb_free(&pe->base);
				return -1;
			}
			continue;
		}
		if (sim_dm_set(inst, t->params[i], ps->value) < 0)
			return -1;
	}
	sim_dm_obj_path(m, inst, t->table, path, sizeof(path));
	ok->instantiated_path = usp_pb_strdup(path);
	if (!ok->instantiated_path || SIM_PUT_UNIQUE_KEYS(r, inst, ok) < 0)
		return -1;
	sim_agent_mark_dirty(r->a);
	sim_subs_obj_creation(r->a, inst);
	sim_subs_changed(r->a);
	return 0;
}

static Usp__Msg *add_error(struct sim_req *r, struct add_plan *plans, size_t n)
{
	const Usp__Add *add = r->msg->body->request->add;
	Usp__Msg *e = NULL;
	for (size_t i = 0; i < n && !e; i++) {
		if (plans[i].code)
			e = sim_error_msg(r, plans[i].code, "%s: %s", add->create_objs[i]->obj_path,
					  plans[i].msg);
		for (size_t k = 0; !e && k < plans[i].n; k++)
			if (plans[i].t[k].code)
				e = sim_error_msg(r, plans[i].t[k].code, "%s: %s",
						  add->create_objs[i]->obj_path, plans[i].t[k].msg);
	}
	for (size_t i = 0; e && i < n; i++) {
		const Usp__Add__CreateObject *co = add->create_objs[i];
		if (plans[i].code)
			usp_msg_error_add_param(e, co->obj_path, plans[i].code, plans[i].msg);
		for (size_t k = 0; k < plans[i].n; k++)
			for (size_t s = 0; s < co->n_param_settings; s++)
				if (plans[i].t[k].codes[s]) {
					char full[SIM_PATH_MAX + 256];
					snprintf(full, sizeof(full), "%s%s", co->obj_path,
						 co->param_settings[s]->param);
					usp_msg_error_add_param(e, full, plans[i].t[k].codes[s],
								NULL);
				}
	}
	return e;
}

static int add_result(Usp__AddResp *ar, const char *req_path, uint32_t code, const char *msg,
		      Usp__AddResp__CreatedObjectResult__OperationStatus__OperationSuccess **ok)
{
	Usp__AddResp__CreatedObjectResult *res = (Usp__AddResp__CreatedObjectResult *)usp_pb_new(
		&usp__add_resp__created_object_result__descriptor);
	if (!res)
		return -1;
	res->requested_path = usp_pb_strdup(req_path);
	if (!res->requested_path ||
	    usp_pb_push((void ***)&ar->created_obj_results, &ar->n_created_obj_results, res) < 0) {
		usp_pb_free(&res->base);
		return -1;
	}
	Usp__AddResp__CreatedObjectResult__OperationStatus *st = USP_PB_CHILD(res, oper_status);
	if (!st)
		return -1;
	if (!code) {
		*ok = USP_PB_CHILD(st, oper_success);
		return *ok ? 0 : -1;
	}
	Usp__AddResp__CreatedObjectResult__OperationStatus__OperationFailure *f =
		USP_PB_CHILD(st, oper_failure);
	if (!f)
		return -1;
	f->err_code = code;
	f->err_msg = usp_pb_strdup(msg);
	return f->err_msg ? 0 : -1;
}

Usp__Msg *sim_handle_add(struct sim_req *r)
{
	const Usp__Add *add = r->msg->body->request->add;
	Usp__Msg *resp = NULL;
	struct add_plan *plans = calloc(add->n_create_objs + 1, sizeof(*plans));
	int failed = 0;
	if (!plans)
		goto oom;
	for (size_t i = 0; i < add->n_create_objs; i++) {
		if (plan_add(r, add->create_objs[i], &plans[i]) < 0)
			goto oom;
		failed |= plan_failed(&plans[i]);
	}
	if (failed && !add->allow_partial) {
		resp = add_error(r, plans, add->n_create_objs);
		goto out;
	}
	resp = usp_msg_new(usp_msg_id(r->msg), USP__HEADER__MSG_TYPE__ADD_RESP);
	if (!resp)
		goto oom;
	Usp__AddResp *ar = resp->body->response->add_resp;
	for (size_t i = 0; i < add->n_create_objs; i++) {
		const Usp__Add__CreateObject *co = add->create_objs[i];
		Usp__AddResp__CreatedObjectResult__OperationStatus__OperationSuccess *ok = NULL;
		if (plans[i].code) {
			if (add_result(ar, co->obj_path, plans[i].code, plans[i].msg, &ok) < 0)
				goto oom;
			continue;
		}
		for (size_t k = 0; k < plans[i].n; k++) {
			struct add_target *t = &plans[i].t[k];
			if (!t->code) {
				/* earlier creates of this request may have taken the
				 * planned number or keys: settle both now */
				t->num = sim_dm_next_num(&r->a->dm, r->env.m, t->parent, t->table);
				check_keys(r, co, t);
			}
			if (add_result(ar, co->obj_path, t->code, t->msg, &ok) < 0)
				goto oom;
			if (!t->code && create(r, co, t, ok) < 0)
				goto oom;
		}
	}
	goto out;
oom:
	usp_msg_free(resp);
	resp = sim_error_msg(r, USP_ERR_INTERNAL_ERROR, "out of memory");
out:
	for (size_t i = 0; plans && i < add->n_create_objs; i++) {
		for (size_t k = 0; k < plans[i].n; k++) {
			free(plans[i].t[k].codes);
			free(plans[i].t[k].params);
		}
		free(plans[i].t);
	}
	free(plans);
	return resp;
}

/* ---- Delete ---- */

struct del_plan {
	uint32_t code;
	char msg[300];
	char **paths;    /* instances to delete */
	uint32_t *codes; /* per instance: 0 or 7024 */
	size_t n;
};

static int plan_delete(struct sim_req *r, const char *text, struct del_plan *pl)
{
	const struct sim_model *m = r->env.m;
	struct usp_path p;
	struct dm_matches ms = { 0 };
	int rc = 0;
	pl->code = (uint32_t)sim_parse_path(text, &p, pl->msg, sizeof(pl->msg));
	if (!pl->code && p.kind != USP_PATH_OBJECT) {
		pl->code = USP_ERR_INVALID_PATH;
		snprintf(pl->msg, sizeof(pl->msg), "Delete takes instance paths ending in '.'");
	}
	if (!pl->code)
		pl->code = (uint32_t)sim_dm_resolve(&r->a->dm, &r->env, &p, &ms, pl->msg,
						    sizeof(pl->msg));
	for (size_t i = 0; !pl->code && i < ms.n; i++) {
		const struct dm_match *mt = &ms.v[i];
		if (!m->objs[mt->obj].is_table) {
			pl->code = USP_ERR_NOT_A_TABLE;
			snprintf(pl->msg, sizeof(pl->msg), "%s is not a table",
				 m->objs[mt->obj].path);
		} else if (mt->kind != DM_M_OBJ) {
			pl->code = USP_ERR_INVALID_PATH;
			snprintf(pl->msg, sizeof(pl->msg), "not an instance path");
		}
	}
	if (pl->code)
		goto out;
	pl->paths = calloc(ms.n + 1, sizeof(*pl->paths));
	pl->codes = calloc(ms.n + 1, sizeof(*pl->codes));
	if (!pl->paths || !pl->codes) {
		rc = -1;
		goto out;
	}
	for (size_t i = 0; i < ms.n; i++) {
		char path[SIM_PATH_MAX];
		const struct sm_obj *o = &m->objs[ms.v[i].obj];
		sim_dm_obj_path(m, ms.v[i].inst, ms.v[i].obj, path, sizeof(path));
		if (!(pl->paths[pl->n] = strdup(path))) {
			rc = -1;
			goto out;
		}
		if (o->access != SM_OBJ_ADD_DELETE && o->access != SM_OBJ_DELETE_ONLY)
			pl->codes[pl->n] = USP_ERR_OBJECT_NOT_DELETABLE;
		pl->n++;
	}
	/* a non-search path to one undeletable instance fails as a whole */
	if (!p.is_search && pl->n == 1 && pl->codes[0]) {
		pl->code = pl->codes[0];
		snprintf(pl->msg, sizeof(pl->msg), "%s does not allow Delete", pl->paths[0]);
	}
out:
	sim_dm_matches_fini(&ms);
	usp_path_fini(&p);
	return rc;
}

static int delete_result(struct sim_req *r, Usp__DeleteResp *dr, const char *req,
			 struct del_plan *pl)
{
	Usp__DeleteResp__DeletedObjectResult *res =
		(Usp__DeleteResp__DeletedObjectResult *)usp_pb_new(
			&usp__delete_resp__deleted_object_result__descriptor);
	if (!res)
		return -1;
	res->requested_path = usp_pb_strdup(req);
	if (!res->requested_path ||
	    usp_pb_push((void ***)&dr->deleted_obj_results, &dr->n_deleted_obj_results, res) < 0) {
		usp_pb_free(&res->base);
		return -1;
	}
	Usp__DeleteResp__DeletedObjectResult__OperationStatus *st = USP_PB_CHILD(res, oper_status);
	if (!st)
		return -1;
	if (pl->code) {
		Usp__DeleteResp__DeletedObjectResult__OperationStatus__OperationFailure *f =
			USP_PB_CHILD(st, oper_failure);
		if (!f)
			return -1;
		f->err_code = pl->code;
		f->err_msg = usp_pb_strdup(pl->msg);
		return f->err_msg ? 0 : -1;
	}
	Usp__DeleteResp__DeletedObjectResult__OperationStatus__OperationSuccess *ok =
		USP_PB_CHILD(st, oper_success);
	if (!ok)
		return -1;
	for (size_t i = 0; i < pl->n; i++) {
		if (pl->codes[i]) {
			Usp__DeleteResp__UnaffectedPathError *ue =
				(Usp__DeleteResp__UnaffectedPathError *)usp_pb_new(
					&usp__delete_resp__unaffected_path_error__descriptor);
			if (!ue)
				return -1;
			ue->unaffected_path = usp_pb_strdup(pl->paths[i]);
			ue->err_code = pl->codes[i];
			ue->err_msg = usp_pb_strdup("object does not allow Delete");
			if (!ue->unaffected_path || !ue->err_msg ||
			    usp_pb_push((void ***)&ok->unaffected_path_errs,
					&ok->n_unaffected_path_errs, ue) < 0) {
				usp_pb_free(&ue->base);
				return -1;
			}
			continue;
		}
		uint16_t obj;
		struct dm_inst *inst = sim_dm_find(&r->a->dm, r->env.m, pl->paths[i], &obj);
		if (usp_pb_push_str(&ok->affected_paths, &ok->n_affected_paths, pl->paths[i]) < 0)
			return -1;
		if (!inst)
			continue; /* already gone with an ancestor in this request */
		sim_subs_obj_deletion(r->a, pl->paths[i]); /* before: reads the instance */
		sim_dm_delete(&r->a->dm, inst);
		sim_agent_mark_dirty(r->a);
	}
	sim_subs_changed(r->a);
	return 0;
}

Usp__Msg *sim_handle_delete(struct sim_req *r)
{
	const Usp__Delete *del = r->msg->body->request->delete_;
	Usp__Msg *resp = NULL;
	struct del_plan *plans = calloc(del->n_obj_paths + 1, sizeof(*plans));
	int failed = 0;
	if (!plans)
		goto oom;
	for (size_t i = 0; i < del->n_obj_paths; i++) {
		if (plan_delete(r, del->obj_paths[i], &plans[i]) < 0)
			goto oom;
		failed |= plans[i].code != 0;
		for (size_t k = 0; k < plans[i].n; k++)
			failed |= plans[i].codes[k] != 0;
	}
	if (failed && !del->allow_partial) {
		for (size_t i = 0; i < del->n_obj_paths && !resp; i++) {
			if (plans[i].code)
				resp = sim_error_msg(r, plans[i].code, "%s: %s", del->obj_paths[i],
						     plans[i].msg);
			for (size_t k = 0; !resp && k < plans[i].n; k++)
				if (plans[i].codes[k])
					resp = sim_error_msg(r, plans[i].codes[k],
							     "%s does not allow Delete",
							     plans[i].paths[k]);
		}
		for (size_t i = 0; resp && i < del->n_obj_paths; i++) {
			if (plans[i].code)
				usp_msg_error_add_param(resp, del->obj_paths[i], plans[i].code,
							plans[i].msg);
			for (size_t k = 0; k < plans[i].n; k++)
				if (plans[i].codes[k])
					usp_msg_error_add_param(resp, plans[i].paths[k],
								plans[i].codes[k], NULL);
		}
		goto out;
	}
	resp = usp_msg_new(usp_msg_id(r->msg), USP__HEADER__MSG_TYPE__DELETE_RESP);
	if (!resp)
		goto oom;
	for (size_t i = 0; i < del->n_obj_paths; i++)
		if (delete_result(r, resp->body->response->delete_resp, del->obj_paths[i],
				  &plans[i]) < 0)
			goto oom;
	goto out;
oom:
	usp_msg_free(resp);
	resp = sim_error_msg(r, USP_ERR_INTERNAL_ERROR, "out of memory");
out:
	for (size_t i = 0; plans && i < del->n_obj_paths; i++) {
		for (size_t k = 0; k < plans[i].n; k++)
			free(plans[i].paths[k]);
		free(plans[i].paths);
		free(plans[i].codes);
	}
	free(plans);
	return resp;
}
