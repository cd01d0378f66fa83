/*
 * sim_h_set.c — Set with the exact allow_partial / required semantics of
 * TR-369: each obj_path is atomic over the instances it matches; with
 * allow_partial=false any failing obj_path turns the whole request into an
 * Error and nothing is applied. Validates everything first, then applies.
 * BootFirmwareImage must name a FirmwareImage row (7012 otherwise).
 * Loop thread only; changes the agent's data model and fires ValueChange.
 */
#include "sim_handlers.h"
#include "sim_ops.h"
#include "sim_subs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct set_item { /* one param setting on one instance */
	struct dm_inst *inst;
	uint16_t param;
	const char *rel; /* borrowed from the request */
	const char *value;
	uint32_t code; /* 0 = ok */
	int required;
	char msg[160];
};

struct set_obj { /* one matched object of an obj_path */
	struct dm_inst *inst;
	uint16_t obj;
	size_t first, n; /* items */
	int failed;      /* a required setting failed */
};

struct set_plan {      /* one obj_path */
	uint32_t code; /* path-level failure */
	char msg[300];
	struct set_obj *objs;
	size_t n_objs;
	int failed;
};

struct set_ctx {
	struct sim_req *r;
	struct set_item *items;
	size_t n_items, cap_items;
};

static struct set_item *new_item(struct set_ctx *c)
{
	if (c->n_items == c->cap_items) {
		size_t nc = c->cap_items ? c->cap_items * 2 : 16;
		struct set_item *ni = realloc(c->items, nc * sizeof(*ni));
		if (!ni)
			return NULL;
		c->items = ni;
		c->cap_items = nc;
	}
	struct set_item *it = &c->items[c->n_items++];
	memset(it, 0, sizeof(*it));
	return it;
}

/* Would setting key param p of inst to value collide with a sibling? The
 * other key values come from the same update when present. */
static int key_conflict(struct set_ctx *c, struct dm_inst *inst, uint16_t p, const char *value,
			const Usp__Set__UpdateObject *uo)
{
	const struct sim_model *m = c->r->env.m;
	const struct sm_obj *o = &m->objs[inst->obj];
	char a[SIM_VALUE_MAX], b[SIM_VALUE_MAX];
	if (inst->obj != m->params[p].obj || !o->is_table)
		return 0;
	for (size_t s = 0; s < o->n_keysets; s++) {
		int has = 0;
		for (size_t k = 0; k < SM_MAX_KEYS && o->keysets[s][k] != SM_NONE; k++)
			has |= o->keysets[s][k] == p;
		if (!has)
			continue;
		for (struct dm_inst *sib = inst->parent->child; sib; sib = sib->next) {
			if (sib == inst || sib->obj != inst->obj)
				continue;
			int same = 1;
			for (size_t k = 0; same && k < SM_MAX_KEYS && o->keysets[s][k] != SM_NONE;
			     k++) {
				uint16_t kp = o->keysets[s][k];
				const char *mine = NULL;
				if (kp == p)
					mine = value;
				for (size_t i = 0; !mine && i < uo->n_param_settings; i++)
					if (!strcmp(uo->param_settings[i]->param,
						    m->params[kp].name))
						mine = uo->param_settings[i]->value;
				if (!mine)
					mine = sim_dm_get(&c->r->env, inst, kp, a, sizeof(a));
				same = !strcmp(mine, sim_dm_get(&c->r->env, sib, kp, b, sizeof(b)));
			}
			if (same)
				return 1;
		}
	}
	return 0;
}

static void check_item(struct set_ctx *c, struct set_item *it, uint16_t obj,
		       const Usp__Set__UpdateObject *uo)
{
	const struct sim_model *m = c->r->env.m;
	it->param = sim_model_rel_param(m, obj, it->rel, NULL);
	if (it->param == SM_NONE) {
		it->code = USP_ERR_UNSUPPORTED_PARAM;
		snprintf(it->msg, sizeof(it->msg), "no parameter '%s'", it->rel);
		return;
	}
	const struct sm_param *sp = &m->params[it->param];
	if (sp->access == SM_RO || sp->dyn ||
	    (sp->access == SM_WONCE && sim_dm_is_stored(it->inst, it->param))) {
		it->code = USP_ERR_PARAM_READ_ONLY;
		snprintf(it->msg, sizeof(it->msg), "'%s' is not writable", it->rel);
		return;
	}
	if (strlen(it->value) >= SIM_VALUE_MAX) {
		it->code = USP_ERR_INVALID_VALUE;
		snprintf(it->msg, sizeof(it->msg), "value longer than %d bytes", SIM_VALUE_MAX - 1);
		return;
	}
	int rc = sim_model_check_value(sp, it->value);
	if (rc) {
		it->code = (uint32_t)rc;
		snprintf(it->msg, sizeof(it->msg), "'%s' is not a valid %s%s", it->value,
			 sim_model_type_name((enum sm_type)sp->type),
			 sp->enums ? " of the enumeration" : "");
		return;
	}
	if (it->param == c->r->a->w->ids.boot_fw && !sim_ops_fw_bank(c->r->a, it->value)) {
		it->code = USP_ERR_INVALID_VALUE;
		snprintf(it->msg, sizeof(it->msg),
			 "'%.60s' is not a row of the FirmwareImage table", it->value);
		return;
	}
	if (key_conflict(c, it->inst, it->param, it->value, uo)) {
		it->code = USP_ERR_UNIQUE_KEY_CONFLICT;
		snprintf(it->msg, sizeof(it->msg), "another instance has this unique key");
	}
}

static int plan_path(struct set_ctx *c, const Usp__Set__UpdateObject *uo, struct set_plan *pl)
{
	struct usp_path p;
	struct dm_matches ms = { 0 };
	int rc = 0;
	pl->code = (uint32_t)sim_parse_path(uo->obj_path, &p, pl->msg, sizeof(pl->msg));
	if (!pl->code && p.kind != USP_PATH_OBJECT) {
		pl->code = USP_ERR_INVALID_PATH;
		snprintf(pl->msg, sizeof(pl->msg), "Set takes object paths ending in '.'");
	}
	if (!pl->code)
		pl->code = (uint32_t)sim_dm_resolve(&c->r->a->dm, &c->r->env, &p, &ms, pl->msg,
						    sizeof(pl->msg));
	for (size_t i = 0; !pl->code && i < ms.n; i++)
		if (ms.v[i].kind != DM_M_OBJ) {
			pl->code = USP_ERR_OBJECT_DOES_NOT_EXIST;
			snprintf(pl->msg, sizeof(pl->msg), "%s needs an instance",
				 c->r->env.m->objs[ms.v[i].obj].path);
		}
	if (pl->code) {
		pl->failed = 1;
		goto out;
	}
	pl->objs = calloc(ms.n ? ms.n : 1, sizeof(*pl->objs));
	if (!pl->objs) {
		rc = -1;
		goto out;
	}
	for (size_t i = 0; i < ms.n; i++) {
		struct set_obj *so = &pl->objs[pl->n_objs++];
		so->inst = ms.v[i].inst;
		so->obj = ms.v[i].obj;
		so->first = c->n_items;
		for (size_t k = 0; k < uo->n_param_settings; k++) {
			struct set_item *it = new_item(c);
			if (!it) {
				rc = -1;
				goto out;
			}
			it->inst = so->inst;
			it->rel = uo->param_settings[k]->param;
			it->value = uo->param_settings[k]->value;
			it->required = uo->param_settings[k]->required;
			check_item(c, it, so->obj, uo);
			so->failed |= it->code && it->required;
			so->n++;
		}
		pl->failed |= so->failed;
	}
out:
	sim_dm_matches_fini(&ms);
	usp_path_fini(&p);
	return rc;
}

static int put_param_err(ProtobufCMessage *parent_list_owner, void ***arr, size_t *n,
			 const char *param, uint32_t code, const char *msg)
{
	(void)parent_list_owner;
	Usp__SetResp__ParameterError *pe = (Usp__SetResp__ParameterError *)usp_pb_new(
		&usp__set_resp__parameter_error__descriptor);
	if (!pe)
		return -1;
	pe->param = usp_pb_strdup(param);
	pe->err_code = code;
	pe->err_msg = usp_pb_strdup(msg);
	if (!pe->param || !pe->err_msg || usp_pb_push(arr, n, pe) < 0) {
		usp_pb_free(&pe->base);
		return -1;
	}
	return 0;
}

/* Apply one successful matched object; fill its UpdatedInstanceResult. */
static int apply_obj(struct set_ctx *c, struct set_obj *so,
		     Usp__SetResp__UpdatedObjectResult__OperationStatus__OperationSuccess *ok)
{
	struct sim_agent *a = c->r->a;
	const struct sim_model *m = c->r->env.m;
	char path[SIM_PATH_MAX], old[SIM_VALUE_MAX];
	Usp__SetResp__UpdatedInstanceResult *ir = (Usp__SetResp__UpdatedInstanceResult *)usp_pb_new(
		&usp__set_resp__updated_instance_result__descriptor);
	if (!ir)
		return -1;
	sim_dm_obj_path(m, so->inst, so->obj, path, sizeof(path));
	ir->affected_path = usp_pb_strdup(path);
	if (!ir->affected_path ||
	    usp_pb_push((void ***)&ok->updated_inst_results, &ok->n_updated_inst_results, ir) < 0) {
		usp_pb_free(&ir->base);
		return -1;
	}
	for (size_t k = so->first; k < so->first + so->n; k++) {
		struct set_item *it = &c->items[k];
		if (it->code) {
			if (put_param_err(NULL, (void ***)&ir->param_errs, &ir->n_param_errs,
					  it->rel, it->code, it->msg) < 0)
				return -1;
			continue;
		}
		const char *prev = sim_dm_get(&c->r->env, it->inst, it->param, old, sizeof(old));
		int changed = strcmp(prev, it->value) != 0;
		if (sim_dm_set(it->inst, it->param, it->value) < 0)
			return -1;
		if (USP_PB_MAP_PUT(ir, updated_params, it->rel, it->value) < 0)
			return -1;
		if (changed)
			sim_subs_value_change(a, it->inst, it->param, it->value);
	}
	sim_agent_mark_dirty(a);
	sim_subs_changed(a);
	return 0;
}

static int add_failure(struct set_ctx *c, Usp__SetResp__UpdatedObjectResult *res,
		       struct set_plan *pl)
{
	Usp__SetResp__UpdatedObjectResult__OperationStatus *st = USP_PB_CHILD(res, oper_status);
	Usp__SetResp__UpdatedObjectResult__OperationStatus__OperationFailure *f =
		st ? USP_PB_CHILD(st, oper_failure) : NULL;
	if (!f)
		return -1;
	f->err_code = pl->code ? pl->code : USP_ERR_REQUIRED_PARAM_FAILED;
	f->err_msg = usp_pb_strdup(pl->code ? pl->msg : usp_err_text(f->err_code));
	if (!f->err_msg)
		return -1;
	for (size_t i = 0; i < pl->n_objs; i++) {
		struct set_obj *so = &pl->objs[i];
		char path[SIM_PATH_MAX];
		if (!so->failed)
			continue;
		Usp__SetResp__UpdatedInstanceFailure *uf =
			(Usp__SetResp__UpdatedInstanceFailure *)usp_pb_new(
				&usp__set_resp__updated_instance_failure__descriptor);
		if (!uf)
			return -1;
		sim_dm_obj_path(c->r->env.m, so->inst, so->obj, path, sizeof(path));
		uf->affected_path = usp_pb_strdup(path);
		if (!uf->affected_path || usp_pb_push((void ***)&f->updated_inst_failures,
						      &f->n_updated_inst_failures, uf) < 0) {
			usp_pb_free(&uf->base);
			return -1;
		}
		for (size_t k = so->first; k < so->first + so->n; k++)
			if (c->items[k].code &&
			    put_param_err(NULL, (void ***)&uf->param_errs, &uf->n_param_errs,
					  c->items[k].rel, c->items[k].code, c->items[k].msg) < 0)
				return -1;
	}
	return 0;
}

/* allow_partial=false and something failed: one Error with param_errs. */
static Usp__Msg *atomic_error(struct set_ctx *c, struct set_plan *plans, size_t n)
{
	uint32_t code = 0;
	const char *msg = NULL;
	for (size_t i = 0; i < n && !code; i++)
		if (plans[i].failed) {
			code = plans[i].code ? plans[i].code : USP_ERR_REQUIRED_PARAM_FAILED;
			msg = plans[i].code ? plans[i].msg : NULL;
		}
	Usp__Msg *e = sim_error_msg(c->r, code, "%s", msg ? msg : usp_err_text(code));
	const Usp__Set *set = c->r->msg->body->request->set;
	for (size_t i = 0; e && i < n; i++) {
		if (plans[i].code) {
			usp_msg_error_add_param(e, set->update_objs[i]->obj_path, plans[i].code,
						plans[i].msg);
			continue;
		}
		for (size_t o = 0; o < plans[i].n_objs; o++) {
			struct set_obj *so = &plans[i].objs[o];
			for (size_t k = so->first; so->failed && k < so->first + so->n; k++) {
				char path[SIM_PATH_MAX], full[SIM_PATH_MAX + 256];
				if (!c->items[k].code)
					continue;
				sim_dm_obj_path(c->r->env.m, so->inst, so->obj, path, sizeof(path));
				snprintf(full, sizeof(full), "%s%s", path, c->items[k].rel);
				usp_msg_error_add_param(e, full, c->items[k].code, c->items[k].msg);
			}
		}
	}
	return e;
}

Usp__Msg *sim_handle_set(struct sim_req *r)
{
	const Usp__Set *set = r->msg->body->request->set;
	struct set_ctx c = { .r = r };
	Usp__Msg *resp = NULL;
	struct set_plan *plans =
		calloc(set->n_update_objs ? set->n_update_objs : 1, sizeof(*plans));
	int any_failed = 0;
	if (!plans)
		goto oom;
	for (size_t i = 0; i < set->n_update_objs; i++) {
		if (plan_path(&c, set->update_objs[i], &plans[i]) < 0)
			goto oom;
		any_failed |= plans[i].failed;
	}
	if (any_failed && !set->allow_partial) {
		resp = atomic_error(&c, plans, set->n_update_objs);
		goto out;
	}
	resp = usp_msg_new(usp_msg_id(r->msg), USP__HEADER__MSG_TYPE__SET_RESP);
	if (!resp)
		goto oom;
	Usp__SetResp *sr = resp->body->response->set_resp;
	for (size_t i = 0; i < set->n_update_objs; i++) {
		Usp__SetResp__UpdatedObjectResult *res =
			(Usp__SetResp__UpdatedObjectResult *)usp_pb_new(
				&usp__set_resp__updated_object_result__descriptor);
		if (!res)
			goto oom;
		res->requested_path = usp_pb_strdup(set->update_objs[i]->obj_path);
		if (!res->requested_path || usp_pb_push((void ***)&sr->updated_obj_results,
							&sr->n_updated_obj_results, res) < 0) {
			usp_pb_free(&res->base);
			goto oom;
		}
		if (plans[i].failed) {
			if (add_failure(&c, res, &plans[i]) < 0)
				goto oom;
			continue;
		}
		Usp__SetResp__UpdatedObjectResult__OperationStatus *st =
			USP_PB_CHILD(res, oper_status);
		Usp__SetResp__UpdatedObjectResult__OperationStatus__OperationSuccess *ok =
			st ? USP_PB_CHILD(st, oper_success) : NULL;
		if (!ok)
			goto oom;
		for (size_t o = 0; o < plans[i].n_objs; o++)
			if (apply_obj(&c, &plans[i].objs[o], ok) < 0)
				goto oom;
	}
	goto out;
oom:
	usp_msg_free(resp);
	resp = sim_error_msg(r, USP_ERR_INTERNAL_ERROR, "out of memory");
out:
	for (size_t i = 0; plans && i < set->n_update_objs; i++)
		free(plans[i].objs);
	free(plans);
	free(c.items);
	return resp;
}
