/*
 * sim_h_read.c — the read-only requests: Get (max_depth, partial paths,
 * wildcards, search expressions), GetInstances, GetSupportedProtocol, and
 * helpers shared by the other handler files. Loop thread only; reads the
 * agent's data model, never changes it.
 */
#include "sim_handlers.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

Usp__Msg *sim_error_msg(struct sim_req *r, uint32_t code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return usp_msg_new_error(usp_msg_id(r->msg), code, msg);
}

int sim_parse_path(const char *text, struct usp_path *p, char *msg, size_t cap)
{
	struct uspc_err err = { 0 };
	memset(p, 0, sizeof(*p));
	if (usp_path_parse(text, p, &err) < 0) {
		snprintf(msg, cap, "invalid path syntax: %s", err.msg);
		return USP_ERR_INVALID_PATH_SYNTAX;
	}
	return 0;
}

int sim_param_path(const struct sim_model *m, const struct dm_inst *inst, uint16_t p, char *buf,
		   size_t cap)
{
	int l = sim_dm_obj_path(m, inst, m->params[p].obj, buf, cap);
	if (l < 0 || (size_t)l + strlen(m->params[p].name) + 1 > cap)
		return -1;
	strcpy(buf + l, m->params[p].name);
	return 0;
}

int sim_put_unique_keys(struct sim_req *r, struct dm_inst *inst, ProtobufCMessage *parent,
			const char *member)
{
	const struct sm_obj *o = &r->env.m->objs[inst->obj];
	char buf[SIM_VALUE_MAX];
	for (size_t s = 0; s < o->n_keysets; s++)
		for (size_t k = 0; k < SM_MAX_KEYS && o->keysets[s][k] != SM_NONE; k++) {
			uint16_t p = o->keysets[s][k];
			if (usp_pb_map_get(parent, member, r->env.m->params[p].name))
				continue; /* key shared by two sets */
			const char *v = sim_dm_get(&r->env, inst, p, buf, sizeof(buf));
			if (usp_pb_map_put(parent, member, r->env.m->params[p].name, v) < 0)
				return -1;
		}
	return 0;
}

/* ---- Get ---- */

struct get_ctx {
	struct sim_req *r;
	Usp__GetResp__RequestedPathResult *rpr;
	uint32_t max_depth;
};

static Usp__GetResp__ResolvedPathResult *new_resolved(struct get_ctx *g, const char *path)
{
	Usp__GetResp__ResolvedPathResult *res = (Usp__GetResp__ResolvedPathResult *)usp_pb_new(
		&usp__get_resp__resolved_path_result__descriptor);
	if (!res)
		return NULL;
	res->resolved_path = usp_pb_strdup(path);
	if (!res->resolved_path || usp_pb_push((void ***)&g->rpr->resolved_path_results,
					       &g->rpr->n_resolved_path_results, res) < 0) {
		usp_pb_free(&res->base);
		return NULL;
	}
	return res;
}

static int put_param(struct get_ctx *g, Usp__GetResp__ResolvedPathResult *res,
		     const struct dm_inst *inst, uint16_t p)
{
	char buf[SIM_VALUE_MAX];
	const struct sm_param *sp = &g->r->env.m->params[p];
	const char *v =
		sp->access == SM_WO ? "" : sim_dm_get(&g->r->env, inst, p, buf, sizeof(buf));
	return USP_PB_MAP_PUT(res, result_params, sp->name, v);
}

/* Emit obj (as instantiated under inst) and its sub-objects down to max_depth. */
static int emit_obj(struct get_ctx *g, struct dm_inst *inst, uint16_t obj, uint32_t level)
{
	const struct sim_model *m = g->r->env.m;
	const struct sm_obj *o = &m->objs[obj];
	if (o->n_params || o->is_table) {
		char path[SIM_PATH_MAX];
		if (sim_dm_obj_path(m, inst, obj, path, sizeof(path)) < 0)
			return -1;
		Usp__GetResp__ResolvedPathResult *res = new_resolved(g, path);
		if (!res)
			return -1;
		for (size_t i = 0; i < o->n_params; i++)
			if (put_param(g, res, inst, o->params[i]) < 0)
				return -1;
	}
	if (g->max_depth && level + 1 > g->max_depth)
		return 0;
	for (size_t i = 0; i < o->n_children; i++) {
		uint16_t c = o->children[i];
		if (!m->objs[c].is_table) {
			if (emit_obj(g, inst, c, level + 1) < 0)
				return -1;
			continue;
		}
		for (struct dm_inst *ch = inst->child; ch; ch = ch->next)
			if (ch->obj == c && emit_obj(g, ch, c, level + 1) < 0)
				return -1;
	}
	return 0;
}

static int emit_match(struct get_ctx *g, const struct dm_match *mt)
{
	const struct sim_model *m = g->r->env.m;
	if (mt->kind == DM_M_OBJ)
		return emit_obj(g, mt->inst, mt->obj, 1);
	if (mt->kind == DM_M_TABLE) {
		for (struct dm_inst *ch = mt->inst->child; ch; ch = ch->next)
			if (ch->obj == mt->obj && emit_obj(g, ch, mt->obj, 1) < 0)
				return -1;
		return 0;
	}
	/* DM_M_PARAM: the parent object with that one parameter */
	char path[SIM_PATH_MAX];
	if (sim_dm_obj_path(m, mt->inst, mt->obj, path, sizeof(path)) < 0)
		return -1;
	Usp__GetResp__ResolvedPathResult *res = NULL;
	size_t n = g->rpr->n_resolved_path_results;
	if (n && !strcmp(g->rpr->resolved_path_results[n - 1]->resolved_path, path))
		res = g->rpr->resolved_path_results[n - 1];
	else if (!(res = new_resolved(g, path)))
		return -1;
	return put_param(g, res, mt->inst, mt->id);
}

static int get_one(struct get_ctx *g, const char *text)
{
	struct usp_path p;
	struct dm_matches ms = { 0 };
	char msg[400] = "";
	int code = sim_parse_path(text, &p, msg, sizeof(msg));
	if (!code && (p.kind == USP_PATH_COMMAND || p.kind == USP_PATH_EVENT)) {
		code = USP_ERR_INVALID_PATH;
		snprintf(msg, sizeof(msg), "Get does not take command or event paths");
	}
	if (!code)
		code = sim_dm_resolve(&g->r->a->dm, &g->r->env, &p, &ms, msg, sizeof(msg));
	if (code == USP_ERR_OBJECT_DOES_NOT_EXIST)
		code = USP_ERR_INVALID_PATH; /* R-GET: a non-search path must be instantiated */
	int rc = 0;
	if (code) {
		g->rpr->err_code = (uint32_t)code;
		g->rpr->err_msg = usp_pb_strdup(msg);
		rc = g->rpr->err_msg ? 0 : -1;
		goto out;
	}
	for (size_t i = 0; i < ms.n && rc == 0; i++)
		rc = emit_match(g, &ms.v[i]);
out:
	sim_dm_matches_fini(&ms);
	usp_path_fini(&p);
	return rc;
}

Usp__Msg *sim_handle_get(struct sim_req *r)
{
	const Usp__Get *get = r->msg->body->request->get;
	Usp__Msg *resp = usp_msg_new(usp_msg_id(r->msg), USP__HEADER__MSG_TYPE__GET_RESP);
	if (!resp)
		return NULL;
	Usp__GetResp *gr = resp->body->response->get_resp;
	struct get_ctx g = { .r = r, .max_depth = get->max_depth };
	for (size_t i = 0; i < get->n_param_paths; i++) {
		g.rpr = (Usp__GetResp__RequestedPathResult *)usp_pb_new(
			&usp__get_resp__requested_path_result__descriptor);
		if (!g.rpr)
			goto oom;
		g.rpr->requested_path = usp_pb_strdup(get->param_paths[i]);
		if (!g.rpr->requested_path || usp_pb_push((void ***)&gr->req_path_results,
							  &gr->n_req_path_results, g.rpr) < 0) {
			usp_pb_free(&g.rpr->base);
			goto oom;
		}
		if (get_one(&g, get->param_paths[i]) < 0)
			goto oom;
	}
	return resp;
oom:
	usp_msg_free(resp);
	return sim_error_msg(r, USP_ERR_INTERNAL_ERROR, "out of memory building the response");
}

/* ---- GetInstances ---- */

static int add_curr_inst(struct sim_req *r, Usp__GetInstancesResp__RequestedPathResult *rpr,
			 struct dm_inst *inst, int recurse)
{
	char path[SIM_PATH_MAX];
	if (sim_dm_obj_path(r->env.m, inst, inst->obj, path, sizeof(path)) < 0)
		return -1;
	Usp__GetInstancesResp__CurrInstance *ci = (Usp__GetInstancesResp__CurrInstance *)usp_pb_new(
		&usp__get_instances_resp__curr_instance__descriptor);
	if (!ci)
		return -1;
	ci->instantiated_obj_path = usp_pb_strdup(path);
	if (!ci->instantiated_obj_path || SIM_PUT_UNIQUE_KEYS(r, inst, ci) < 0 ||
	    usp_pb_push((void ***)&rpr->curr_insts, &rpr->n_curr_insts, ci) < 0) {
		usp_pb_free(&ci->base);
		return -1;
	}
	if (!recurse)
		return 0;
	for (struct dm_inst *c = inst->child; c; c = c->next)
		if (add_curr_inst(r, rpr, c, 1) < 0)
			return -1;
	return 0;
}

static int get_instances_one(struct sim_req *r, Usp__GetInstancesResp__RequestedPathResult *rpr,
			     const char *text, int first_level_only)
{
	struct usp_path p;
	struct dm_matches ms = { 0 };
	char msg[400] = "";
	int rc = 0;
	int code = sim_parse_path(text, &p, msg, sizeof(msg));
	if (!code && p.kind != USP_PATH_OBJECT) {
		code = USP_ERR_NOT_A_TABLE;
		snprintf(msg, sizeof(msg), "GetInstances takes object paths ending in '.'");
	}
	if (!code)
		code = sim_dm_resolve(&r->a->dm, &r->env, &p, &ms, msg, sizeof(msg));
	for (size_t i = 0; !code && i < ms.n; i++) {
		const struct dm_match *mt = &ms.v[i];
		if (mt->kind == DM_M_OBJ &&
		    !(r->env.m->objs[mt->obj].is_table && mt->inst->obj == mt->obj)) {
			code = USP_ERR_NOT_A_TABLE;
			snprintf(msg, sizeof(msg), "%s is not a table",
				 r->env.m->objs[mt->obj].path);
		}
	}
	if (code) {
		rpr->err_code = (uint32_t)code;
		rpr->err_msg = usp_pb_strdup(msg);
		rc = rpr->err_msg ? 0 : -1;
		goto out;
	}
	for (size_t i = 0; i < ms.n && rc == 0; i++) {
		const struct dm_match *mt = &ms.v[i];
		if (mt->kind == DM_M_OBJ) {
			rc = add_curr_inst(r, rpr, mt->inst, !first_level_only);
			continue;
		}
		for (struct dm_inst *c = mt->inst->child; c && rc == 0; c = c->next)
			if (c->obj == mt->obj)
				rc = add_curr_inst(r, rpr, c, !first_level_only);
	}
out:
	sim_dm_matches_fini(&ms);
	usp_path_fini(&p);
	return rc;
}

Usp__Msg *sim_handle_get_instances(struct sim_req *r)
{
	const Usp__GetInstances *gi = r->msg->body->request->get_instances;
	Usp__Msg *resp = usp_msg_new(usp_msg_id(r->msg), USP__HEADER__MSG_TYPE__GET_INSTANCES_RESP);
	if (!resp)
		return NULL;
	Usp__GetInstancesResp *gr = resp->body->response->get_instances_resp;
	for (size_t i = 0; i < gi->n_obj_paths; i++) {
		Usp__GetInstancesResp__RequestedPathResult *rpr =
			(Usp__GetInstancesResp__RequestedPathResult *)usp_pb_new(
				&usp__get_instances_resp__requested_path_result__descriptor);
		if (!rpr)
			goto oom;
		rpr->requested_path = usp_pb_strdup(gi->obj_paths[i]);
		if (!rpr->requested_path || usp_pb_push((void ***)&gr->req_path_results,
							&gr->n_req_path_results, rpr) < 0) {
			usp_pb_free(&rpr->base);
			goto oom;
		}
		if (get_instances_one(r, rpr, gi->obj_paths[i], gi->first_level_only) < 0)
			goto oom;
	}
	return resp;
oom:
	usp_msg_free(resp);
	return sim_error_msg(r, USP_ERR_INTERNAL_ERROR, "out of memory building the response");
}

Usp__Msg *sim_handle_get_supported_protocol(struct sim_req *r)
{
	Usp__Msg *resp =
		usp_msg_new(usp_msg_id(r->msg), USP__HEADER__MSG_TYPE__GET_SUPPORTED_PROTO_RESP);
	if (!resp)
		return NULL;
	Usp__GetSupportedProtocolResp *g = resp->body->response->get_supported_protocol_resp;
	g->agent_supported_protocol_versions = usp_pb_strdup(SIM_SUPPORTED_PROTOCOLS);
	if (!g->agent_supported_protocol_versions) {
		g->agent_supported_protocol_versions = (char *)protobuf_c_empty_string;
		usp_msg_free(resp);
		return NULL;
	}
	return resp;
}
