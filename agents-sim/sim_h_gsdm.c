/*
 * sim_h_gsdm.c — GetSupportedDM: the schema as the agent supports it, with
 * first_level_only, return_commands/events/params/unique_key_sets, and
 * (USP 1.4) parameter, command and event paths. Loop thread only; reads
 * the shared model (and the agent's instances, to check instantiated paths);
 * commands hidden from the agent (sim_ops_cmd_hidden) are left out.
 */
#include "sim_handlers.h"
#include "sim_ops.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const Usp__GetSupportedDM *gsdm_of(struct sim_req *r)
{
	return r->msg->body->request->get_supported_dm;
}

static int add_param(const struct sim_model *m, Usp__GetSupportedDMResp__SupportedObjectResult *so,
		     uint16_t p)
{
	const struct sm_param *sp = &m->params[p];
	Usp__GetSupportedDMResp__SupportedParamResult *pr =
		(Usp__GetSupportedDMResp__SupportedParamResult *)usp_pb_new(
			&usp__get_supported_dmresp__supported_param_result__descriptor);
	if (!pr)
		return -1;
	pr->param_name = usp_pb_strdup(sp->name);
	pr->access = sp->access == SM_RO
			     ? USP__GET_SUPPORTED_DMRESP__PARAM_ACCESS_TYPE__PARAM_READ_ONLY
		     : sp->access == SM_WO
			     ? USP__GET_SUPPORTED_DMRESP__PARAM_ACCESS_TYPE__PARAM_WRITE_ONLY
			     : USP__GET_SUPPORTED_DMRESP__PARAM_ACCESS_TYPE__PARAM_READ_WRITE;
	pr->value_type = (Usp__GetSupportedDMResp__ParamValueType)sp->type;
	pr->value_change =
		sp->vc_ignore
			? USP__GET_SUPPORTED_DMRESP__VALUE_CHANGE_TYPE__VALUE_CHANGE_WILL_IGNORE
			: USP__GET_SUPPORTED_DMRESP__VALUE_CHANGE_TYPE__VALUE_CHANGE_ALLOWED;
	if (!pr->param_name ||
	    usp_pb_push((void ***)&so->supported_params, &so->n_supported_params, pr) < 0) {
		usp_pb_free(&pr->base);
		return -1;
	}
	return 0;
}

static int push_names(char ***arr, size_t *n, char *const *names, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (usp_pb_push_str(arr, n, names[i]) < 0)
			return -1;
	return 0;
}

static int add_cmd(const struct sim_model *m, Usp__GetSupportedDMResp__SupportedObjectResult *so,
		   uint16_t c)
{
	const struct sm_cmd *sc = &m->cmds[c];
	char name[200];
	Usp__GetSupportedDMResp__SupportedCommandResult *cr =
		(Usp__GetSupportedDMResp__SupportedCommandResult *)usp_pb_new(
			&usp__get_supported_dmresp__supported_command_result__descriptor);
	if (!cr)
		return -1;
	snprintf(name, sizeof(name), "%s()", sc->name);
	cr->command_name = usp_pb_strdup(name);
	cr->command_type = sc->async ? USP__GET_SUPPORTED_DMRESP__CMD_TYPE__CMD_ASYNC
				     : USP__GET_SUPPORTED_DMRESP__CMD_TYPE__CMD_SYNC;
	if (!cr->command_name ||
	    push_names(&cr->input_arg_names, &cr->n_input_arg_names, sc->in, sc->n_in) < 0 ||
	    push_names(&cr->output_arg_names, &cr->n_output_arg_names, sc->out, sc->n_out) < 0 ||
	    usp_pb_push((void ***)&so->supported_commands, &so->n_supported_commands, cr) < 0) {
		usp_pb_free(&cr->base);
		return -1;
	}
	return 0;
}

static int add_event(const struct sim_model *m, Usp__GetSupportedDMResp__SupportedObjectResult *so,
		     uint16_t e)
{
	const struct sm_event *se = &m->events[e];
	char name[200];
	Usp__GetSupportedDMResp__SupportedEventResult *er =
		(Usp__GetSupportedDMResp__SupportedEventResult *)usp_pb_new(
			&usp__get_supported_dmresp__supported_event_result__descriptor);
	if (!er)
		return -1;
	snprintf(name, sizeof(name), "%s!", se->name);
	er->event_name = usp_pb_strdup(name);
	if (!er->event_name ||
	    push_names(&er->arg_names, &er->n_arg_names, se->args, se->n_args) < 0 ||
	    usp_pb_push((void ***)&so->supported_events, &so->n_supported_events, er) < 0) {
		usp_pb_free(&er->base);
		return -1;
	}
	return 0;
}

static int add_keysets(const struct sim_model *m,
		       Usp__GetSupportedDMResp__SupportedObjectResult *so, const struct sm_obj *o)
{
	for (size_t s = 0; s < o->n_keysets; s++) {
		Usp__GetSupportedDMResp__SupportedUniqueKeySet *ks =
			(Usp__GetSupportedDMResp__SupportedUniqueKeySet *)usp_pb_new(
				&usp__get_supported_dmresp__supported_unique_key_set__descriptor);
		if (!ks)
			return -1;
		int bad = 0;
		for (size_t k = 0; k < SM_MAX_KEYS && o->keysets[s][k] != SM_NONE; k++)
			bad |= usp_pb_push_str(&ks->key_names, &ks->n_key_names,
					       m->params[o->keysets[s][k]].name) < 0;
		if (bad ||
		    usp_pb_push((void ***)&so->unique_key_sets, &so->n_unique_key_sets, ks) < 0) {
			usp_pb_free(&ks->base);
			return -1;
		}
	}
	return 0;
}

/* only: 0 = everything the flags ask for; 'p'/'c'/'e' = just element id. */
static int add_object(struct sim_req *r, Usp__GetSupportedDMResp__RequestedObjectResult *ro,
		      uint16_t obj, char only, uint16_t id)
{
	const Usp__GetSupportedDM *q = gsdm_of(r);
	const struct sim_model *m = r->env.m;
	const struct sm_obj *o = &m->objs[obj];
	Usp__GetSupportedDMResp__SupportedObjectResult *so =
		(Usp__GetSupportedDMResp__SupportedObjectResult *)usp_pb_new(
			&usp__get_supported_dmresp__supported_object_result__descriptor);
	if (!so)
		return -1;
	so->supported_obj_path = usp_pb_strdup(o->path);
	so->access = (Usp__GetSupportedDMResp__ObjAccessType)(o->is_table ? o->access : SM_OBJ_RO);
	so->is_multi_instance = o->is_table;
	if (!so->supported_obj_path ||
	    usp_pb_push((void ***)&ro->supported_objs, &ro->n_supported_objs, so) < 0) {
		usp_pb_free(&so->base);
		return -1;
	}
	if (only == 'p')
		return add_param(m, so, id);
	if (only == 'c')
		return add_cmd(m, so, id);
	if (only == 'e')
		return add_event(m, so, id);
	for (size_t i = 0; q->return_params && i < o->n_params; i++)
		if (add_param(m, so, o->params[i]) < 0)
			return -1;
	for (size_t i = 0; q->return_commands && i < o->n_cmds; i++)
		if (!sim_ops_cmd_hidden(r->a, o->cmds[i]) && add_cmd(m, so, o->cmds[i]) < 0)
			return -1;
	for (size_t i = 0; q->return_events && i < o->n_events; i++)
		if (add_event(m, so, o->events[i]) < 0)
			return -1;
	if (q->return_unique_key_sets && o->is_table && add_keysets(m, so, o) < 0)
		return -1;
	return 0;
}

static int add_tree(struct sim_req *r, Usp__GetSupportedDMResp__RequestedObjectResult *ro,
		    uint16_t obj, int level)
{
	const struct sm_obj *o = &r->env.m->objs[obj];
	if (add_object(r, ro, obj, 0, 0) < 0)
		return -1;
	if (gsdm_of(r)->first_level_only && level >= 1)
		return 0;
	for (size_t i = 0; i < o->n_children; i++)
		if (add_tree(r, ro, o->children[i], level + 1) < 0)
			return -1;
	return 0;
}

/* Does an instantiated path (digits in place of {i}) name existing instances? */
static int instances_exist(struct sim_req *r, const char *text)
{
	char buf[SIM_PATH_MAX];
	size_t l = strlen(text);
	if (l >= sizeof(buf) || strchr(text, '*') || strchr(text, '[') || strstr(text, "{i}"))
		return 1;
	memcpy(buf, text, l + 1);
	/* cut to the last instance number */
	char *last_num = NULL;
	for (char *s = buf; *s; s++)
		if (isdigit((unsigned char)*s) && (s == buf || s[-1] == '.')) {
			char *e = s;
			while (isdigit((unsigned char)*e))
				e++;
			if (*e == '.' || !*e)
				last_num = e;
		}
	if (!last_num)
		return 1;
	*last_num = '\0';
	return sim_dm_find(&r->a->dm, r->env.m, buf, NULL) != NULL;
}

static int gsdm_one(struct sim_req *r, Usp__GetSupportedDMResp__RequestedObjectResult *ro,
		    const char *text)
{
	const struct sim_model *m = r->env.m;
	char schema[SIM_PATH_MAX], parent[SIM_PATH_MAX];
	char msg[300] = "";
	int code = 0;
	size_t l = strlen(text);
	char kind = 0;
	uint16_t obj = SM_NONE, id = SM_NONE;
	if (l == 0 || l >= sizeof(schema) || strncmp(text, "Device.", 7) ||
	    usp_path_to_schema(text, schema, sizeof(schema)) < 0) {
		code = USP_ERR_INVALID_PATH;
		snprintf(msg, sizeof(msg), "not a supported data model path");
		goto out;
	}
	l = strlen(schema);
	if (schema[l - 1] == '.') {
		obj = sim_model_find_obj(m, schema);
	} else {
		if (l > 2 && !strcmp(schema + l - 2, "()")) {
			kind = 'c';
			schema[l - 2] = '\0';
		} else if (schema[l - 1] == '!') {
			kind = 'e';
			schema[l - 1] = '\0';
		} else {
			kind = 'p';
		}
		char *dot = strrchr(schema, '.');
		memcpy(parent, schema, (size_t)(dot - schema + 1));
		parent[dot - schema + 1] = '\0';
		obj = sim_model_find_obj(m, parent);
		if (obj != SM_NONE && strcmp(m->objs[obj].path, parent))
			obj = SM_NONE;
		if (obj != SM_NONE)
			id = kind == 'c'   ? sim_model_cmd(m, obj, dot + 1)
			     : kind == 'e' ? sim_model_event(m, obj, dot + 1)
					   : sim_model_param(m, obj, dot + 1);
		if (kind == 'c' && id != SM_NONE && sim_ops_cmd_hidden(r->a, id))
			id = SM_NONE; /* --no-activate-fraction */
		if (id == SM_NONE)
			obj = SM_NONE;
	}
	if (obj == SM_NONE) {
		code = USP_ERR_INVALID_PATH;
		snprintf(msg, sizeof(msg), "not in the supported data model");
	} else if (!instances_exist(r, text)) {
		code = USP_ERR_OBJECT_DOES_NOT_EXIST;
		snprintf(msg, sizeof(msg), "instance does not exist");
	}
out:
	if (code) {
		ro->err_code = (uint32_t)code;
		ro->err_msg = usp_pb_strdup(msg);
		return ro->err_msg ? 0 : -1;
	}
	ro->data_model_inst_uri = usp_pb_strdup(SIM_DM_INST_URI);
	if (!ro->data_model_inst_uri)
		return -1;
	return kind ? add_object(r, ro, obj, kind, id) : add_tree(r, ro, obj, 0);
}

Usp__Msg *sim_handle_get_supported_dm(struct sim_req *r)
{
	const Usp__GetSupportedDM *q = gsdm_of(r);
	Usp__Msg *resp =
		usp_msg_new(usp_msg_id(r->msg), USP__HEADER__MSG_TYPE__GET_SUPPORTED_DM_RESP);
	if (!resp)
		return NULL;
	Usp__GetSupportedDMResp *gr = resp->body->response->get_supported_dm_resp;
	for (size_t i = 0; i < q->n_obj_paths; i++) {
		Usp__GetSupportedDMResp__RequestedObjectResult *ro =
			(Usp__GetSupportedDMResp__RequestedObjectResult *)usp_pb_new(
				&usp__get_supported_dmresp__requested_object_result__descriptor);
		if (!ro)
			goto oom;
		ro->req_obj_path = usp_pb_strdup(q->obj_paths[i]);
		if (!ro->req_obj_path ||
		    usp_pb_push((void ***)&gr->req_obj_results, &gr->n_req_obj_results, ro) < 0) {
			usp_pb_free(&ro->base);
			goto oom;
		}
		if (gsdm_one(r, ro, q->obj_paths[i]) < 0)
			goto oom;
	}
	return resp;
oom:
	usp_msg_free(resp);
	return sim_error_msg(r, USP_ERR_INTERNAL_ERROR, "out of memory building the response");
}
