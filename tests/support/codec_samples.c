/*
 * codec_samples.c — builders for the sample messages and records listed in
 * codec_samples.h. Values are chosen to be realistic and non-default; the
 * expected protoc --decode_raw text of each sample lives next to its .hex
 * vector and was written from the TR-369 field numbers, so any change here
 * must be mirrored there (see tests/vectors/README.md).
 */
#include "codec_samples.h"

#include <stdlib.h>
#include <string.h>

/* ---- helpers (abort on OOM: test code) -------------------------------- */

static void *xnew(const ProtobufCMessageDescriptor *d)
{
	void *m = usp_pb_new(d);
	if (!m)
		abort();
	return m;
}

static char *xs(const char *s)
{
	char *p = usp_pb_strdup(s);
	if (!p)
		abort();
	return p;
}

#define PUSH(arr, n, item)                                           \
	do {                                                         \
		if (usp_pb_push((void ***)&(arr), &(n), (item)) < 0) \
			abort();                                     \
	} while (0)
#define PUSH_S(arr, n, s)                                   \
	do {                                                \
		if (usp_pb_push_str(&(arr), &(n), (s)) < 0) \
			abort();                            \
	} while (0)

static void *xnonnull(void *p)
{
	if (!p)
		abort();
	return p;
}

/* Put k = v into the map member of the typed parent. */
#define xmap(parent, member, k, v)                            \
	do {                                                  \
		if (USP_PB_MAP_PUT(parent, member, k, v) < 0) \
			abort();                              \
	} while (0)

/* Create and select the sub-message member of the typed parent (oneof aware). */
#define xchild(parent, member) \
	((__typeof__((parent)->member))xnonnull(USP_PB_CHILD(parent, member)))

static Usp__Msg *xmsg(const char *id, Usp__Header__MsgType type)
{
	Usp__Msg *m = usp_msg_new(id, type);
	if (!m)
		abort();
	return m;
}

static ProtobufCBinaryData xbytes(const char *s)
{
	ProtobufCBinaryData b = { strlen(s), (uint8_t *)xs(s) };
	return b;
}

/* ---- requests ------------------------------------------------------------ */

static Usp__Msg *s_get(void)
{
	Usp__Msg *m = xmsg("v-get", USP__HEADER__MSG_TYPE__GET);
	Usp__Get *g = m->body->request->get;
	PUSH_S(g->param_paths, g->n_param_paths, "Device.DeviceInfo.");
	PUSH_S(g->param_paths, g->n_param_paths, "Device.WiFi.SSID.*.SSID");
	g->max_depth = 2;
	return m;
}

static Usp__Msg *s_set(void)
{
	Usp__Msg *m = xmsg("v-set", USP__HEADER__MSG_TYPE__SET);
	Usp__Set *s = m->body->request->set;
	s->allow_partial = 1;
	Usp__Set__UpdateObject *uo = xnew(&usp__set__update_object__descriptor);
	uo->obj_path = xs("Device.WiFi.SSID.1.");
	Usp__Set__UpdateParamSetting *ps = xnew(&usp__set__update_param_setting__descriptor);
	ps->param = xs("SSID");
	ps->value = xs("guest");
	ps->required = 1;
	PUSH(uo->param_settings, uo->n_param_settings, ps);
	PUSH(s->update_objs, s->n_update_objs, uo);
	return m;
}

static Usp__Msg *s_add(void)
{
	Usp__Msg *m = xmsg("v-add", USP__HEADER__MSG_TYPE__ADD);
	Usp__Add *a = m->body->request->add;
	a->allow_partial = 1;
	Usp__Add__CreateObject *co = xnew(&usp__add__create_object__descriptor);
	co->obj_path = xs("Device.LocalAgent.Subscription.");
	Usp__Add__CreateParamSetting *p1 = xnew(&usp__add__create_param_setting__descriptor);
	p1->param = xs("NotifType");
	p1->value = xs("ValueChange");
	p1->required = 1;
	PUSH(co->param_settings, co->n_param_settings, p1);
	Usp__Add__CreateParamSetting *p2 = xnew(&usp__add__create_param_setting__descriptor);
	p2->param = xs("ReferenceList");
	p2->value = xs("Device.WiFi.SSID.1.SSID");
	PUSH(co->param_settings, co->n_param_settings, p2);
	PUSH(a->create_objs, a->n_create_objs, co);
	return m;
}

static Usp__Msg *s_delete(void)
{
	Usp__Msg *m = xmsg("v-delete", USP__HEADER__MSG_TYPE__DELETE);
	Usp__Delete *d = m->body->request->delete_;
	d->allow_partial = 1;
	PUSH_S(d->obj_paths, d->n_obj_paths, "Device.LocalAgent.Subscription.4.");
	PUSH_S(d->obj_paths, d->n_obj_paths, "Device.NAT.PortMapping.[Enable==false].");
	return m;
}

static Usp__Msg *s_operate(void)
{
	Usp__Msg *m = xmsg("v-operate", USP__HEADER__MSG_TYPE__OPERATE);
	Usp__Operate *o = m->body->request->operate;
	o->command = xs("Device.DeviceInfo.FirmwareImage.1.Download()");
	o->command_key = xs("fw-2024");
	o->send_resp = 1;
	xmap(o, input_args, "URL", "http://192.0.2.7/fw.bin");
	xmap(o, input_args, "AutoActivate", "true");
	return m;
}

static Usp__Msg *s_get_supported_dm(void)
{
	Usp__Msg *m = xmsg("v-gsdm", USP__HEADER__MSG_TYPE__GET_SUPPORTED_DM);
	Usp__GetSupportedDM *g = m->body->request->get_supported_dm;
	PUSH_S(g->obj_paths, g->n_obj_paths, "Device.WiFi.");
	g->first_level_only = 1;
	g->return_commands = 1;
	g->return_events = 1;
	g->return_params = 1;
	g->return_unique_key_sets = 1;
	return m;
}

static Usp__Msg *s_get_instances(void)
{
	Usp__Msg *m = xmsg("v-getinst", USP__HEADER__MSG_TYPE__GET_INSTANCES);
	Usp__GetInstances *g = m->body->request->get_instances;
	PUSH_S(g->obj_paths, g->n_obj_paths, "Device.IP.Interface.");
	g->first_level_only = 1;
	return m;
}

static Usp__Msg *s_get_supported_proto(void)
{
	Usp__Msg *m = xmsg("v-gsp", USP__HEADER__MSG_TYPE__GET_SUPPORTED_PROTO);
	m->body->request->get_supported_protocol->controller_supported_protocol_versions =
		xs("1.3,1.4");
	return m;
}

static Usp__Msg *s_register(void)
{
	Usp__Msg *m = xmsg("v-register", USP__HEADER__MSG_TYPE__REGISTER);
	Usp__Register *r = m->body->request->register_;
	r->allow_partial = 1;
	Usp__Register__RegistrationPath *rp = xnew(&usp__register__registration_path__descriptor);
	rp->path = xs("Device.Services.VoiceService.");
	PUSH(r->reg_paths, r->n_reg_paths, rp);
	return m;
}

static Usp__Msg *s_deregister(void)
{
	Usp__Msg *m = xmsg("v-deregister", USP__HEADER__MSG_TYPE__DEREGISTER);
	Usp__Deregister *d = m->body->request->deregister;
	PUSH_S(d->paths, d->n_paths, "Device.Services.VoiceService.");
	return m;
}

/* ---- Notify variants (one per notification oneof member) --------------- */

static Usp__Notify *notify_shell(Usp__Msg **m, const char *id, const char *sub)
{
	*m = xmsg(id, USP__HEADER__MSG_TYPE__NOTIFY);
	Usp__Notify *n = (*m)->body->request->notify;
	n->subscription_id = xs(sub);
	n->send_resp = 1;
	return n;
}

static Usp__Msg *s_notify_event(void)
{
	Usp__Msg *m;
	Usp__Notify *n = notify_shell(&m, "v-notify-event", "sub-boot");
	Usp__Notify__Event *e = xchild(n, event);
	e->obj_path = xs("Device.");
	e->event_name = xs("Boot!");
	xmap(e, params, "CommandKey", "ck-1");
	xmap(e, params, "Cause", "LocalReboot");
	return m;
}

static Usp__Msg *s_notify_value_change(void)
{
	Usp__Msg *m;
	Usp__Notify *n = notify_shell(&m, "v-notify-vc", "sub-vc");
	Usp__Notify__ValueChange *vc = xchild(n, value_change);
	vc->param_path = xs("Device.WiFi.SSID.1.SSID");
	vc->param_value = xs("guest");
	return m;
}

static Usp__Msg *s_notify_obj_creation(void)
{
	Usp__Msg *m;
	Usp__Notify *n = notify_shell(&m, "v-notify-oc", "sub-oc");
	Usp__Notify__ObjectCreation *oc = xchild(n, obj_creation);
	oc->obj_path = xs("Device.IP.Interface.3.");
	xmap(oc, unique_keys, "Alias", "cpe-3");
	return m;
}

static Usp__Msg *s_notify_obj_deletion(void)
{
	Usp__Msg *m;
	Usp__Notify *n = notify_shell(&m, "v-notify-od", "sub-od");
	Usp__Notify__ObjectDeletion *od = xchild(n, obj_deletion);
	od->obj_path = xs("Device.IP.Interface.4.");
	return m;
}

static Usp__Notify__OperationComplete *oper_complete(Usp__Notify *n)
{
	Usp__Notify__OperationComplete *oc = xchild(n, oper_complete);
	oc->obj_path = xs("Device.IP.Diagnostics.");
	oc->command_name = xs("IPPing()");
	oc->command_key = xs("ck-ping");
	return oc;
}

static Usp__Msg *s_notify_oper_complete_ok(void)
{
	Usp__Msg *m;
	Usp__Notify *n = notify_shell(&m, "v-notify-ok", "sub-op");
	Usp__Notify__OperationComplete__OutputArgs *out = xchild(oper_complete(n), req_output_args);
	xmap(out, output_args, "Status", "Complete");
	return m;
}

static Usp__Msg *s_notify_oper_complete_fail(void)
{
	Usp__Msg *m;
	Usp__Notify *n = notify_shell(&m, "v-notify-fail", "sub-op");
	Usp__Notify__OperationComplete__CommandFailure *cf = xchild(oper_complete(n), cmd_failure);
	cf->err_code = 7022;
	cf->err_msg = xs("Command failure");
	return m;
}

static Usp__Msg *s_notify_on_board_req(void)
{
	Usp__Msg *m;
	Usp__Notify *n = notify_shell(&m, "v-notify-obr", "sub-obr");
	Usp__Notify__OnBoardRequest *ob = xchild(n, on_board_req);
	ob->oui = xs("00256D");
	ob->product_class = xs("Gateway");
	ob->serial_number = xs("SN0001");
	ob->agent_supported_protocol_versions = xs("1.3,1.4");
	return m;
}

/* ---- responses and Error ------------------------------------------------- */

static Usp__Msg *s_error(void)
{
	Usp__Msg *m = xmsg("v-error", USP__HEADER__MSG_TYPE__ERROR);
	Usp__Error *e = m->body->error;
	e->err_code = 7004;
	e->err_msg = xs("Invalid arguments");
	Usp__Error__ParamError *pe = xnew(&usp__error__param_error__descriptor);
	pe->param_path = xs("Device.Foo.Bar");
	pe->err_code = 7026;
	pe->err_msg = xs("Not a path");
	PUSH(e->param_errs, e->n_param_errs, pe);
	return m;
}

static Usp__Msg *s_get_resp(void)
{
	Usp__Msg *m = xmsg("v-get", USP__HEADER__MSG_TYPE__GET_RESP);
	Usp__GetResp *g = m->body->response->get_resp;
	Usp__GetResp__RequestedPathResult *ok =
		xnew(&usp__get_resp__requested_path_result__descriptor);
	ok->requested_path = xs("Device.DeviceInfo.");
	Usp__GetResp__ResolvedPathResult *rp =
		xnew(&usp__get_resp__resolved_path_result__descriptor);
	rp->resolved_path = xs("Device.DeviceInfo.");
	xmap(rp, result_params, "Manufacturer", "ACME");
	xmap(rp, result_params, "SoftwareVersion", "1.0.2");
	PUSH(ok->resolved_path_results, ok->n_resolved_path_results, rp);
	PUSH(g->req_path_results, g->n_req_path_results, ok);
	Usp__GetResp__RequestedPathResult *bad =
		xnew(&usp__get_resp__requested_path_result__descriptor);
	bad->requested_path = xs("Device.Nope.");
	bad->err_code = 7026;
	bad->err_msg = xs("Not in supported DM");
	PUSH(g->req_path_results, g->n_req_path_results, bad);
	return m;
}

static Usp__SetResp__ParameterError *set_param_err(const char *p, uint32_t code, const char *msg)
{
	Usp__SetResp__ParameterError *pe = xnew(&usp__set_resp__parameter_error__descriptor);
	pe->param = xs(p);
	pe->err_code = code;
	pe->err_msg = xs(msg);
	return pe;
}

static Usp__Msg *s_set_resp(void)
{
	Usp__Msg *m = xmsg("v-set", USP__HEADER__MSG_TYPE__SET_RESP);
	Usp__SetResp *s = m->body->response->set_resp;
	Usp__SetResp__UpdatedObjectResult *ok =
		xnew(&usp__set_resp__updated_object_result__descriptor);
	ok->requested_path = xs("Device.WiFi.SSID.1.");
	Usp__SetResp__UpdatedObjectResult__OperationStatus *st = xchild(ok, oper_status);
	Usp__SetResp__UpdatedObjectResult__OperationStatus__OperationSuccess *succ =
		xchild(st, oper_success);
	Usp__SetResp__UpdatedInstanceResult *ir =
		xnew(&usp__set_resp__updated_instance_result__descriptor);
	ir->affected_path = xs("Device.WiFi.SSID.1.");
	PUSH(ir->param_errs, ir->n_param_errs, set_param_err("Enable", 7012, "Invalid value"));
	xmap(ir, updated_params, "SSID", "guest");
	PUSH(succ->updated_inst_results, succ->n_updated_inst_results, ir);
	PUSH(s->updated_obj_results, s->n_updated_obj_results, ok);

	Usp__SetResp__UpdatedObjectResult *bad =
		xnew(&usp__set_resp__updated_object_result__descriptor);
	bad->requested_path = xs("Device.WiFi.SSID.9.");
	st = xchild(bad, oper_status);
	Usp__SetResp__UpdatedObjectResult__OperationStatus__OperationFailure *fail =
		xchild(st, oper_failure);
	fail->err_code = 7020;
	fail->err_msg = xs("Object could not be updated");
	Usp__SetResp__UpdatedInstanceFailure *inf =
		xnew(&usp__set_resp__updated_instance_failure__descriptor);
	inf->affected_path = xs("Device.WiFi.SSID.9.");
	PUSH(inf->param_errs, inf->n_param_errs,
	     set_param_err("SSID", 7021, "Required parameter failed"));
	PUSH(fail->updated_inst_failures, fail->n_updated_inst_failures, inf);
	PUSH(s->updated_obj_results, s->n_updated_obj_results, bad);
	return m;
}

static Usp__Msg *s_operate_resp(void)
{
	Usp__Msg *m = xmsg("v-operate", USP__HEADER__MSG_TYPE__OPERATE_RESP);
	Usp__OperateResp *o = m->body->response->operate_resp;
	Usp__OperateResp__OperationResult *async =
		xnew(&usp__operate_resp__operation_result__descriptor);
	async->executed_command = xs("Device.IP.Diagnostics.IPPing()");
	async->operation_resp_case =
		USP__OPERATE_RESP__OPERATION_RESULT__OPERATION_RESP_REQ_OBJ_PATH;
	async->req_obj_path = xs("Device.LocalAgent.Request.7.");
	PUSH(o->operation_results, o->n_operation_results, async);

	Usp__OperateResp__OperationResult *sync =
		xnew(&usp__operate_resp__operation_result__descriptor);
	sync->executed_command = xs("Device.DeviceInfo.FirmwareImage.1.Activate()");
	Usp__OperateResp__OperationResult__OutputArgs *out = xchild(sync, req_output_args);
	xmap(out, output_args, "Status", "Complete");
	PUSH(o->operation_results, o->n_operation_results, sync);

	Usp__OperateResp__OperationResult *fail =
		xnew(&usp__operate_resp__operation_result__descriptor);
	fail->executed_command = xs("Device.Reboot()");
	Usp__OperateResp__OperationResult__CommandFailure *cf = xchild(fail, cmd_failure);
	cf->err_code = 7022;
	cf->err_msg = xs("Command failure");
	PUSH(o->operation_results, o->n_operation_results, fail);
	return m;
}

static Usp__Msg *s_add_resp(void)
{
	Usp__Msg *m = xmsg("v-add", USP__HEADER__MSG_TYPE__ADD_RESP);
	Usp__AddResp *a = m->body->response->add_resp;
	Usp__AddResp__CreatedObjectResult *ok =
		xnew(&usp__add_resp__created_object_result__descriptor);
	ok->requested_path = xs("Device.LocalAgent.Subscription.");
	Usp__AddResp__CreatedObjectResult__OperationStatus *st = xchild(ok, oper_status);
	Usp__AddResp__CreatedObjectResult__OperationStatus__OperationSuccess *succ =
		xchild(st, oper_success);
	succ->instantiated_path = xs("Device.LocalAgent.Subscription.4.");
	Usp__AddResp__ParameterError *pe = xnew(&usp__add_resp__parameter_error__descriptor);
	pe->param = xs("Enable");
	pe->err_code = 7012;
	pe->err_msg = xs("Invalid value");
	PUSH(succ->param_errs, succ->n_param_errs, pe);
	xmap(succ, unique_keys, "ID", "sub-4");
	xmap(succ, unique_keys, "Alias", "cpe-4");
	PUSH(a->created_obj_results, a->n_created_obj_results, ok);

	Usp__AddResp__CreatedObjectResult *bad =
		xnew(&usp__add_resp__created_object_result__descriptor);
	bad->requested_path = xs("Device.NAT.PortMapping.");
	st = xchild(bad, oper_status);
	Usp__AddResp__CreatedObjectResult__OperationStatus__OperationFailure *fail =
		xchild(st, oper_failure);
	fail->err_code = 7017;
	fail->err_msg = xs("Object could not be created");
	PUSH(a->created_obj_results, a->n_created_obj_results, bad);
	return m;
}

static Usp__Msg *s_delete_resp(void)
{
	Usp__Msg *m = xmsg("v-delete", USP__HEADER__MSG_TYPE__DELETE_RESP);
	Usp__DeleteResp *d = m->body->response->delete_resp;
	Usp__DeleteResp__DeletedObjectResult *ok =
		xnew(&usp__delete_resp__deleted_object_result__descriptor);
	ok->requested_path = xs("Device.LocalAgent.Subscription.4.");
	Usp__DeleteResp__DeletedObjectResult__OperationStatus *st = xchild(ok, oper_status);
	Usp__DeleteResp__DeletedObjectResult__OperationStatus__OperationSuccess *succ =
		xchild(st, oper_success);
	PUSH_S(succ->affected_paths, succ->n_affected_paths, "Device.LocalAgent.Subscription.4.");
	Usp__DeleteResp__UnaffectedPathError *ue =
		xnew(&usp__delete_resp__unaffected_path_error__descriptor);
	ue->unaffected_path = xs("Device.LocalAgent.Subscription.5.");
	ue->err_code = 7024;
	ue->err_msg = xs("Delete failure");
	PUSH(succ->unaffected_path_errs, succ->n_unaffected_path_errs, ue);
	PUSH(d->deleted_obj_results, d->n_deleted_obj_results, ok);

	Usp__DeleteResp__DeletedObjectResult *bad =
		xnew(&usp__delete_resp__deleted_object_result__descriptor);
	bad->requested_path = xs("Device.NAT.PortMapping.1.");
	st = xchild(bad, oper_status);
	Usp__DeleteResp__DeletedObjectResult__OperationStatus__OperationFailure *fail =
		xchild(st, oper_failure);
	fail->err_code = 7016;
	fail->err_msg = xs("Object does not exist");
	PUSH(d->deleted_obj_results, d->n_deleted_obj_results, bad);
	return m;
}

static Usp__GetSupportedDMResp__SupportedObjectResult *gsdm_ssid_obj(void)
{
	Usp__GetSupportedDMResp__SupportedObjectResult *so =
		xnew(&usp__get_supported_dmresp__supported_object_result__descriptor);
	so->supported_obj_path = xs("Device.WiFi.SSID.{i}.");
	so->access = USP__GET_SUPPORTED_DMRESP__OBJ_ACCESS_TYPE__OBJ_ADD_DELETE;
	so->is_multi_instance = 1;
	Usp__GetSupportedDMResp__SupportedCommandResult *cmd =
		xnew(&usp__get_supported_dmresp__supported_command_result__descriptor);
	cmd->command_name = xs("Reset()");
	PUSH_S(cmd->input_arg_names, cmd->n_input_arg_names, "Delay");
	PUSH_S(cmd->output_arg_names, cmd->n_output_arg_names, "Status");
	cmd->command_type = USP__GET_SUPPORTED_DMRESP__CMD_TYPE__CMD_ASYNC;
	PUSH(so->supported_commands, so->n_supported_commands, cmd);
	Usp__GetSupportedDMResp__SupportedEventResult *ev =
		xnew(&usp__get_supported_dmresp__supported_event_result__descriptor);
	ev->event_name = xs("Changed!");
	PUSH_S(ev->arg_names, ev->n_arg_names, "Reason");
	PUSH(so->supported_events, so->n_supported_events, ev);
	Usp__GetSupportedDMResp__SupportedParamResult *par =
		xnew(&usp__get_supported_dmresp__supported_param_result__descriptor);
	par->param_name = xs("SSID");
	par->access = USP__GET_SUPPORTED_DMRESP__PARAM_ACCESS_TYPE__PARAM_READ_WRITE;
	par->value_type = USP__GET_SUPPORTED_DMRESP__PARAM_VALUE_TYPE__PARAM_STRING;
	par->value_change = USP__GET_SUPPORTED_DMRESP__VALUE_CHANGE_TYPE__VALUE_CHANGE_ALLOWED;
	PUSH(so->supported_params, so->n_supported_params, par);
	PUSH_S(so->divergent_paths, so->n_divergent_paths, "Device.WiFi.SSID.1.");
	Usp__GetSupportedDMResp__SupportedUniqueKeySet *uks =
		xnew(&usp__get_supported_dmresp__supported_unique_key_set__descriptor);
	PUSH_S(uks->key_names, uks->n_key_names, "Name");
	PUSH_S(uks->key_names, uks->n_key_names, "Alias");
	PUSH(so->unique_key_sets, so->n_unique_key_sets, uks);
	return so;
}

static Usp__Msg *s_get_supported_dm_resp(void)
{
	Usp__Msg *m = xmsg("v-gsdm", USP__HEADER__MSG_TYPE__GET_SUPPORTED_DM_RESP);
	Usp__GetSupportedDMResp *g = m->body->response->get_supported_dm_resp;
	Usp__GetSupportedDMResp__RequestedObjectResult *ok =
		xnew(&usp__get_supported_dmresp__requested_object_result__descriptor);
	ok->req_obj_path = xs("Device.WiFi.");
	ok->data_model_inst_uri = xs("urn:broadband-forum-org:tr-181-2-19-1");
	PUSH(ok->supported_objs, ok->n_supported_objs, gsdm_ssid_obj());
	PUSH(g->req_obj_results, g->n_req_obj_results, ok);
	Usp__GetSupportedDMResp__RequestedObjectResult *bad =
		xnew(&usp__get_supported_dmresp__requested_object_result__descriptor);
	bad->req_obj_path = xs("Device.Nope.");
	bad->err_code = 7026;
	bad->err_msg = xs("Invalid path");
	PUSH(g->req_obj_results, g->n_req_obj_results, bad);
	return m;
}

static Usp__Msg *s_get_instances_resp(void)
{
	Usp__Msg *m = xmsg("v-getinst", USP__HEADER__MSG_TYPE__GET_INSTANCES_RESP);
	Usp__GetInstancesResp *g = m->body->response->get_instances_resp;
	Usp__GetInstancesResp__RequestedPathResult *ok =
		xnew(&usp__get_instances_resp__requested_path_result__descriptor);
	ok->requested_path = xs("Device.IP.Interface.");
	Usp__GetInstancesResp__CurrInstance *ci =
		xnew(&usp__get_instances_resp__curr_instance__descriptor);
	ci->instantiated_obj_path = xs("Device.IP.Interface.1.");
	xmap(ci, unique_keys, "Name", "eth0");
	xmap(ci, unique_keys, "Alias", "cpe-1");
	PUSH(ok->curr_insts, ok->n_curr_insts, ci);
	PUSH(g->req_path_results, g->n_req_path_results, ok);
	Usp__GetInstancesResp__RequestedPathResult *bad =
		xnew(&usp__get_instances_resp__requested_path_result__descriptor);
	bad->requested_path = xs("Device.DeviceInfo.");
	bad->err_code = 7018;
	bad->err_msg = xs("Not a table");
	PUSH(g->req_path_results, g->n_req_path_results, bad);
	return m;
}

static Usp__Msg *s_notify_resp(void)
{
	Usp__Msg *m = usp_msg_new_notify_resp("v-notify-event", "sub-boot");
	if (!m)
		abort();
	return m;
}

static Usp__Msg *s_get_supported_proto_resp(void)
{
	Usp__Msg *m = xmsg("v-gsp", USP__HEADER__MSG_TYPE__GET_SUPPORTED_PROTO_RESP);
	m->body->response->get_supported_protocol_resp->agent_supported_protocol_versions =
		xs("1.0,1.1,1.2,1.3");
	return m;
}

static Usp__Msg *s_register_resp(void)
{
	Usp__Msg *m = xmsg("v-register", USP__HEADER__MSG_TYPE__REGISTER_RESP);
	Usp__RegisterResp *r = m->body->response->register_resp;
	Usp__RegisterResp__RegisteredPathResult *ok =
		xnew(&usp__register_resp__registered_path_result__descriptor);
	ok->requested_path = xs("Device.Services.VoiceService.");
	Usp__RegisterResp__RegisteredPathResult__OperationStatus *st = xchild(ok, oper_status);
	Usp__RegisterResp__RegisteredPathResult__OperationStatus__OperationSuccess *succ =
		xchild(st, oper_success);
	succ->registered_path = xs("Device.Services.VoiceService.");
	PUSH(r->registered_path_results, r->n_registered_path_results, ok);
	Usp__RegisterResp__RegisteredPathResult *bad =
		xnew(&usp__register_resp__registered_path_result__descriptor);
	bad->requested_path = xs("Device.DeviceInfo.");
	st = xchild(bad, oper_status);
	Usp__RegisterResp__RegisteredPathResult__OperationStatus__OperationFailure *fail =
		xchild(st, oper_failure);
	fail->err_code = 7029;
	fail->err_msg = xs("Path already registered");
	PUSH(r->registered_path_results, r->n_registered_path_results, bad);
	return m;
}

static Usp__Msg *s_deregister_resp(void)
{
	Usp__Msg *m = xmsg("v-deregister", USP__HEADER__MSG_TYPE__DEREGISTER_RESP);
	Usp__DeregisterResp *d = m->body->response->deregister_resp;
	Usp__DeregisterResp__DeregisteredPathResult *ok =
		xnew(&usp__deregister_resp__deregistered_path_result__descriptor);
	ok->requested_path = xs("Device.Services.VoiceService.");
	Usp__DeregisterResp__DeregisteredPathResult__OperationStatus *st = xchild(ok, oper_status);
	Usp__DeregisterResp__DeregisteredPathResult__OperationStatus__OperationSuccess *succ =
		xchild(st, oper_success);
	PUSH_S(succ->deregistered_path, succ->n_deregistered_path, "Device.Services.VoiceService.");
	PUSH(d->deregistered_path_results, d->n_deregistered_path_results, ok);
	Usp__DeregisterResp__DeregisteredPathResult *bad =
		xnew(&usp__deregister_resp__deregistered_path_result__descriptor);
	bad->requested_path = xs("Device.DeviceInfo.");
	st = xchild(bad, oper_status);
	Usp__DeregisterResp__DeregisteredPathResult__OperationStatus__OperationFailure *fail =
		xchild(st, oper_failure);
	fail->err_code = 7031;
	fail->err_msg = xs("Path registered by other");
	PUSH(d->deregistered_path_results, d->n_deregistered_path_results, bad);
	return m;
}

/* ---- records --------------------------------------------------------------- */

static UspRecord__Record *record_shell(void)
{
	UspRecord__Record *r = xnew(&usp_record__record__descriptor);
	r->version = xs(SAMPLE_RECORD_VERSION);
	r->to_id = xs(SAMPLE_AGENT_EID);
	r->from_id = xs(SAMPLE_CTL_EID);
	r->payload_security = USP_RECORD__RECORD__PAYLOAD_SECURITY__TLS12;
	r->mac_signature = xbytes("fake-mac");
	r->sender_cert = xbytes("fake-cert");
	return r;
}

static UspRecord__Record *r_no_session_context(void)
{
	UspRecord__Record *r = record_shell();
	UspRecord__NoSessionContextRecord *nsc = xchild(r, no_session_context);
	Usp__Msg *m = s_get();
	if (usp_msg_encode(m, &nsc->payload.data, &nsc->payload.len) < 0)
		abort();
	usp_msg_free(m);
	return r;
}

static UspRecord__Record *r_session_context(void)
{
	UspRecord__Record *r = record_shell();
	UspRecord__SessionContextRecord *sc = xchild(r, session_context);
	sc->session_id = 7;
	sc->sequence_id = 3;
	sc->expected_id = 2;
	sc->retransmit_id = 1;
	sc->payload_sar_state = USP_RECORD__SESSION_CONTEXT_RECORD__PAYLOAD_SARSTATE__BEGIN;
	sc->payloadrec_sar_state = USP_RECORD__SESSION_CONTEXT_RECORD__PAYLOAD_SARSTATE__INPROCESS;
	ProtobufCBinaryData segs[2] = { xbytes("frag-1"), xbytes("frag-2") };
	sc->payload = malloc(sizeof(segs));
	if (!sc->payload)
		abort();
	memcpy(sc->payload, segs, sizeof(segs));
	sc->n_payload = 2;
	return r;
}

static UspRecord__Record *r_websocket_connect(void)
{
	UspRecord__Record *r = record_shell();
	xchild(r, websocket_connect);
	return r;
}

static UspRecord__Record *r_mqtt_connect(void)
{
	UspRecord__Record *r = record_shell();
	UspRecord__MQTTConnectRecord *mc = xchild(r, mqtt_connect);
	mc->version = USP_RECORD__MQTTCONNECT_RECORD__MQTTVERSION__V5;
	mc->subscribed_topic = xs("usp/agent/" SAMPLE_AGENT_EID);
	return r;
}

static UspRecord__Record *r_stomp_connect(void)
{
	UspRecord__Record *r = record_shell();
	UspRecord__STOMPConnectRecord *sc = xchild(r, stomp_connect);
	sc->version = USP_RECORD__STOMPCONNECT_RECORD__STOMPVERSION__V1_2;
	sc->subscribed_destination = xs("/usp/agent");
	return r;
}

static UspRecord__Record *r_disconnect(void)
{
	UspRecord__Record *r = record_shell();
	UspRecord__DisconnectRecord *d = xchild(r, disconnect);
	d->reason = xs("Session context terminated");
	d->reason_code = 7105;
	return r;
}

static UspRecord__Record *r_uds_connect(void)
{
	UspRecord__Record *r = record_shell();
	xchild(r, uds_connect);
	return r;
}

/* ---- tables ---------------------------------------------------------------- */

#define T(x) USP__HEADER__MSG_TYPE__##x
const struct msg_sample codec_msg_samples[] = {
	{ "msg_error", T(ERROR), "v-error", s_error },
	{ "msg_get", T(GET), "v-get", s_get },
	{ "msg_get_resp", T(GET_RESP), "v-get", s_get_resp },
	{ "msg_notify_event", T(NOTIFY), "v-notify-event", s_notify_event },
	{ "msg_notify_value_change", T(NOTIFY), "v-notify-vc", s_notify_value_change },
	{ "msg_notify_obj_creation", T(NOTIFY), "v-notify-oc", s_notify_obj_creation },
	{ "msg_notify_obj_deletion", T(NOTIFY), "v-notify-od", s_notify_obj_deletion },
	{ "msg_notify_oper_complete_ok", T(NOTIFY), "v-notify-ok", s_notify_oper_complete_ok },
	{ "msg_notify_oper_complete_fail", T(NOTIFY), "v-notify-fail",
	  s_notify_oper_complete_fail },
	{ "msg_notify_on_board_req", T(NOTIFY), "v-notify-obr", s_notify_on_board_req },
	{ "msg_set", T(SET), "v-set", s_set },
	{ "msg_set_resp", T(SET_RESP), "v-set", s_set_resp },
	{ "msg_operate", T(OPERATE), "v-operate", s_operate },
	{ "msg_operate_resp", T(OPERATE_RESP), "v-operate", s_operate_resp },
	{ "msg_add", T(ADD), "v-add", s_add },
	{ "msg_add_resp", T(ADD_RESP), "v-add", s_add_resp },
	{ "msg_delete", T(DELETE), "v-delete", s_delete },
	{ "msg_delete_resp", T(DELETE_RESP), "v-delete", s_delete_resp },
	{ "msg_get_supported_dm", T(GET_SUPPORTED_DM), "v-gsdm", s_get_supported_dm },
	{ "msg_get_supported_dm_resp", T(GET_SUPPORTED_DM_RESP), "v-gsdm",
	  s_get_supported_dm_resp },
	{ "msg_get_instances", T(GET_INSTANCES), "v-getinst", s_get_instances },
	{ "msg_get_instances_resp", T(GET_INSTANCES_RESP), "v-getinst", s_get_instances_resp },
	{ "msg_notify_resp", T(NOTIFY_RESP), "v-notify-event", s_notify_resp },
	{ "msg_get_supported_protocol", T(GET_SUPPORTED_PROTO), "v-gsp", s_get_supported_proto },
	{ "msg_get_supported_protocol_resp", T(GET_SUPPORTED_PROTO_RESP), "v-gsp",
	  s_get_supported_proto_resp },
	{ "msg_register", T(REGISTER), "v-register", s_register },
	{ "msg_register_resp", T(REGISTER_RESP), "v-register", s_register_resp },
	{ "msg_deregister", T(DEREGISTER), "v-deregister", s_deregister },
	{ "msg_deregister_resp", T(DEREGISTER_RESP), "v-deregister", s_deregister_resp },
};
#undef T
const size_t codec_msg_sample_count = sizeof(codec_msg_samples) / sizeof(codec_msg_samples[0]);

#define R(x) USP_RECORD__RECORD__RECORD_TYPE_##x
const struct record_sample codec_record_samples[] = {
	{ "record_no_session_context", R(NO_SESSION_CONTEXT), r_no_session_context },
	{ "record_session_context", R(SESSION_CONTEXT), r_session_context },
	{ "record_websocket_connect", R(WEBSOCKET_CONNECT), r_websocket_connect },
	{ "record_mqtt_connect", R(MQTT_CONNECT), r_mqtt_connect },
	{ "record_stomp_connect", R(STOMP_CONNECT), r_stomp_connect },
	{ "record_disconnect", R(DISCONNECT), r_disconnect },
	{ "record_uds_connect", R(UDS_CONNECT), r_uds_connect },
};
#undef R
const size_t codec_record_sample_count =
	sizeof(codec_record_samples) / sizeof(codec_record_samples[0]);
