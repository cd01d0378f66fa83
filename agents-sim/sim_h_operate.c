/*
 * sim_h_operate.c — Operate: resolves the command path (search paths run
 * the command on every match, each failure is its own cmd_failure, R-OPR.1)
 * and hands each match to sim_ops. A command hidden from this agent
 * (sim_ops_cmd_hidden) is answered like one outside the data model. Loop
 * thread only.
 */
#include "sim_handlers.h"
#include "sim_ops.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

/* Is the command p names (in the schema, instance selectors aside) hidden
 * from the agent? Then msg says so as for a command the model lacks. */
static int hidden_cmd(struct sim_req *r, const struct usp_path *p, char *msg, size_t cap)
{
	const struct sim_model *m = r->env.m;
	uint16_t obj = 0;
	for (size_t i = 1; i < p->n_segs; i++) {
		const struct usp_path_seg *s = &p->segs[i];
		if (s->kind != USP_SEG_NAME)
			continue;
		if (i + 1 < p->n_segs) {
			if ((obj = sim_model_child(m, obj, s->name)) == SM_NONE)
				return 0;
			continue;
		}
		uint16_t cmd = sim_model_cmd(m, obj, s->name);
		if (cmd == SM_NONE || !sim_ops_cmd_hidden(r->a, cmd))
			return 0;
		snprintf(msg, cap, "'%s' is not in the supported data model of %s", s->name,
			 m->objs[obj].path);
		return 1;
	}
	return 0;
}

Usp__Msg *sim_handle_operate(struct sim_req *r)
{
	const Usp__Operate *op = r->msg->body->request->operate;
	const struct sim_model *m = r->env.m;
	struct usp_path p;
	struct dm_matches ms = { 0 };
	char msg[400] = "";
	Usp__Msg *resp = NULL;
	int code = sim_parse_path(op->command, &p, msg, sizeof(msg));
	if (!code && p.kind != USP_PATH_COMMAND) {
		code = USP_ERR_INVALID_PATH;
		snprintf(msg, sizeof(msg), "'%s' is not a command path (Name())", op->command);
	}
	if (!code)
		code = sim_dm_resolve(&r->a->dm, &r->env, &p, &ms, msg, sizeof(msg));
	if ((!code || code == USP_ERR_OBJECT_DOES_NOT_EXIST) &&
	    hidden_cmd(r, &p, msg, sizeof(msg))) {
		code = USP_ERR_INVALID_PATH; /* what a command outside the model gets */
		log_debug("sim", "%s: %s: not supported (--no-activate-fraction)", r->a->eid,
			  op->command);
	}
	if (code) {
		resp = sim_error_msg(r, (uint32_t)code, "%s", msg);
		goto out;
	}
	resp = usp_msg_new(usp_msg_id(r->msg), USP__HEADER__MSG_TYPE__OPERATE_RESP);
	if (!resp)
		goto oom;
	Usp__OperateResp *orsp = resp->body->response->operate_resp;
	for (size_t i = 0; i < ms.n; i++) {
		char path[SIM_PATH_MAX];
		int l = sim_dm_obj_path(m, ms.v[i].inst, ms.v[i].obj, path, sizeof(path));
		if (l < 0 || (size_t)l + strlen(m->cmds[ms.v[i].id].name) + 3 > sizeof(path))
			continue;
		snprintf(path + l, sizeof(path) - (size_t)l, "%s()", m->cmds[ms.v[i].id].name);
		Usp__OperateResp__OperationResult *res =
			(Usp__OperateResp__OperationResult *)usp_pb_new(
				&usp__operate_resp__operation_result__descriptor);
		if (!res)
			goto oom;
		res->executed_command = usp_pb_strdup(path);
		if (!res->executed_command || usp_pb_push((void ***)&orsp->operation_results,
							  &orsp->n_operation_results, res) < 0) {
			usp_pb_free(&res->base);
			goto oom;
		}
		if (sim_ops_invoke(r, ms.v[i].inst, ms.v[i].obj, ms.v[i].id, path, op, res) < 0)
			goto oom;
	}
	if (!op->send_resp) {
		usp_msg_free(resp);
		resp = NULL;
	}
	goto out;
oom:
	usp_msg_free(resp);
	resp = sim_error_msg(r, USP_ERR_INTERNAL_ERROR, "out of memory");
out:
	sim_dm_matches_fini(&ms);
	usp_path_fini(&p);
	return resp;
}
