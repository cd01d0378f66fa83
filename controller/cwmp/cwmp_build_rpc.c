/*
 * cwmp_build_rpc.c — the Body element of each CWMP method and of a Fault:
 * the XSDs' field names in the XSDs' order, every list with its
 * soap-enc:arrayType and length, every parameter value with its xsi:type.
 *
 * Owns: which fields each method must have. A string the standard allows
 * to be empty (CommandKey, ParameterKey, Username, ...) is written empty
 * when NULL; one that names something (a parameter, object, URL, file
 * type, event code, OUI, serial number) is CWMP_E_ARG when NULL. Called
 * only from cwmp_build.c.
 */
#include "cwmp_int.h"

#include <stdio.h>
#include <string.h>

#define S CWMP_MAX_STR

static void fail(struct cwmp_sb *b, int code)
{
	if (!b->err)
		b->err = code;
}

/* A required string: CWMP_E_ARG when NULL. */
static void el_req(struct cwmp_sb *b, int depth, const char *name, const char *text)
{
	if (!text)
		fail(b, CWMP_E_ARG);
	else
		cwmp_sb_el(b, depth, name, text, S);
}

static void el_bool(struct cwmp_sb *b, int depth, const char *name, int v)
{
	if (v != 0 && v != 1)
		fail(b, CWMP_E_ARG);
	cwmp_sb_el_int(b, depth, name, v ? 1 : 0);
}

/* Opens a list element with its arrayType: 0 when the items follow, 1
 * when the list is empty and written whole, -1 on error (CWMP_E_LIMIT over
 * the cap, CWMP_E_ARG for items missing). */
static int open_list(struct cwmp_sb *b, int depth, const char *name, const char *item_type,
		     size_t n, size_t has_items)
{
	if (n > CWMP_MAX_LIST) {
		fail(b, CWMP_E_LIMIT);
		return -1;
	}
	if (n > 0 && !has_items) {
		fail(b, CWMP_E_ARG);
		return -1;
	}
	char attrs[96];
	snprintf(attrs, sizeof(attrs), "soap-enc:arrayType=\"%s[%zu]\"", item_type, n);
	if (n == 0) {
		cwmp_sb_fmt(b, "%*s<%s %s/>\n", depth * 2, "", name, attrs);
		return 1; /* written whole: nothing to close */
	}
	cwmp_sb_open(b, depth, name, attrs);
	return b->err ? -1 : 0;
}

static void strings(struct cwmp_sb *b, int depth, const char *name, char *const *v, size_t n)
{
	if (open_list(b, depth, name, "xsd:string", n, v != NULL) != 0)
		return;
	for (size_t i = 0; i < n && !b->err; i++)
		el_req(b, depth + 1, "string", v[i]);
	cwmp_sb_close(b, depth, name);
}

static void value(struct cwmp_sb *b, int depth, const struct cwmp_param_value *pv)
{
	const char *type = pv->type ? pv->type : "string";
	if (!cwmp_type_ok(type)) {
		fail(b, CWMP_E_ARG);
		return;
	}
	cwmp_sb_fmt(b, "%*s<Value xsi:type=\"xsd:%s\">", depth * 2, "", type);
	cwmp_sb_text(b, pv->value ? pv->value : "", CWMP_MAX_VALUE);
	cwmp_sb_raw(b, "</Value>\n");
}

/* ParameterValueStruct list, or with arg the ArgStruct list of
 * RequestDownload (Value without a type). */
static void values(struct cwmp_sb *b, int depth, const char *name, const struct cwmp_param_value *v,
		   size_t n, int arg)
{
	const char *item = arg ? "ArgStruct" : "ParameterValueStruct";
	char type[40];
	snprintf(type, sizeof(type), "cwmp:%s", item);
	if (open_list(b, depth, name, type, n, v != NULL) != 0)
		return;
	for (size_t i = 0; i < n && !b->err; i++) {
		cwmp_sb_open(b, depth + 1, item, NULL);
		el_req(b, depth + 2, "Name", v[i].name);
		if (arg)
			cwmp_sb_el(b, depth + 2, "Value", v[i].value, S);
		else
			value(b, depth + 2, &v[i]);
		cwmp_sb_close(b, depth + 1, item);
	}
	cwmp_sb_close(b, depth, name);
}

static void inform(struct cwmp_sb *b, const struct cwmp_inform *in)
{
	const struct cwmp_device_id *d = &in->device_id;
	if (!d->oui || !d->oui[0] || !d->serial_number || !d->serial_number[0]) {
		fail(b, CWMP_E_ARG);
		return;
	}
	cwmp_sb_open(b, 3, "DeviceId", NULL);
	cwmp_sb_el(b, 4, "Manufacturer", d->manufacturer, S);
	cwmp_sb_el(b, 4, "OUI", d->oui, S);
	cwmp_sb_el(b, 4, "ProductClass", d->product_class, S);
	cwmp_sb_el(b, 4, "SerialNumber", d->serial_number, S);
	cwmp_sb_close(b, 3, "DeviceId");
	int r = open_list(b, 3, "Event", "cwmp:EventStruct", in->n_events, in->events != NULL);
	if (r < 0)
		return;
	for (size_t i = 0; r == 0 && i < in->n_events && !b->err; i++) {
		cwmp_sb_open(b, 4, "EventStruct", NULL);
		el_req(b, 5, "EventCode", in->events[i].code);
		cwmp_sb_el(b, 5, "CommandKey", in->events[i].command_key, S);
		cwmp_sb_close(b, 4, "EventStruct");
	}
	if (r == 0)
		cwmp_sb_close(b, 3, "Event");
	cwmp_sb_el_uint(b, 3, "MaxEnvelopes", in->max_envelopes);
	cwmp_sb_el(b, 3, "CurrentTime", in->current_time, S);
	cwmp_sb_el_uint(b, 3, "RetryCount", in->retry_count);
	values(b, 3, "ParameterList", in->params, in->n_params, 0);
}

static void fault_struct(struct cwmp_sb *b, const struct cwmp_fault_struct *f)
{
	cwmp_sb_open(b, 3, "FaultStruct", NULL);
	cwmp_sb_el_uint(b, 4, "FaultCode", f->code);
	cwmp_sb_el(b, 4, "FaultString", f->string, S);
	cwmp_sb_close(b, 3, "FaultStruct");
}

static void transfer(struct cwmp_sb *b, const struct cwmp_transfer_complete *t, int autonomous)
{
	if (autonomous) {
		cwmp_sb_el(b, 3, "AnnounceURL", t->announce_url, S);
		cwmp_sb_el(b, 3, "TransferURL", t->transfer_url, S);
		el_bool(b, 3, "IsDownload", t->is_download);
		el_req(b, 3, "FileType", t->file_type);
		cwmp_sb_el_uint(b, 3, "FileSize", t->file_size);
		cwmp_sb_el(b, 3, "TargetFileName", t->target_file_name, S);
	} else {
		cwmp_sb_el(b, 3, "CommandKey", t->command_key, S);
	}
	fault_struct(b, &t->fault);
	cwmp_sb_el(b, 3, "StartTime", t->start_time, S);
	cwmp_sb_el(b, 3, "CompleteTime", t->complete_time, S);
}

static void download(struct cwmp_sb *b, const struct cwmp_download *d)
{
	cwmp_sb_el(b, 3, "CommandKey", d->command_key, S);
	el_req(b, 3, "FileType", d->file_type);
	el_req(b, 3, "URL", d->url);
	cwmp_sb_el(b, 3, "Username", d->username, S);
	cwmp_sb_el(b, 3, "Password", d->password, S);
	cwmp_sb_el_uint(b, 3, "FileSize", d->file_size);
	cwmp_sb_el(b, 3, "TargetFileName", d->target_file_name, S);
	cwmp_sb_el_uint(b, 3, "DelaySeconds", d->delay_seconds);
	cwmp_sb_el(b, 3, "SuccessURL", d->success_url, S);
	cwmp_sb_el(b, 3, "FailureURL", d->failure_url, S);
}

static void infos(struct cwmp_sb *b, const struct cwmp_msg *m)
{
	if (open_list(b, 3, "ParameterList", "cwmp:ParameterInfoStruct", m->n_infos,
		      m->infos != NULL) != 0)
		return;
	for (size_t i = 0; i < m->n_infos && !b->err; i++) {
		cwmp_sb_open(b, 4, "ParameterInfoStruct", NULL);
		el_req(b, 5, "Name", m->infos[i].name);
		el_bool(b, 5, "Writable", m->infos[i].writable);
		cwmp_sb_close(b, 4, "ParameterInfoStruct");
	}
	cwmp_sb_close(b, 3, "ParameterList");
}

static void notification(struct cwmp_sb *b, int depth, int v)
{
	if (v < 0 || v > 6)
		fail(b, CWMP_E_ARG);
	cwmp_sb_el_int(b, depth, "Notification", v);
}

static void attrs(struct cwmp_sb *b, const struct cwmp_msg *m)
{
	if (open_list(b, 3, "ParameterList", "cwmp:ParameterAttributeStruct", m->n_attrs,
		      m->attrs != NULL) != 0)
		return;
	for (size_t i = 0; i < m->n_attrs && !b->err; i++) {
		const struct cwmp_param_attr *a = &m->attrs[i];
		cwmp_sb_open(b, 4, "ParameterAttributeStruct", NULL);
		el_req(b, 5, "Name", a->name);
		notification(b, 5, a->notification);
		strings(b, 5, "AccessList", a->access_list, a->n_access_list);
		cwmp_sb_close(b, 4, "ParameterAttributeStruct");
	}
	cwmp_sb_close(b, 3, "ParameterList");
}

static void set_attrs(struct cwmp_sb *b, const struct cwmp_msg *m)
{
	if (open_list(b, 3, "ParameterList", "cwmp:SetParameterAttributesStruct", m->n_set_attrs,
		      m->set_attrs != NULL) != 0)
		return;
	for (size_t i = 0; i < m->n_set_attrs && !b->err; i++) {
		const struct cwmp_set_attr *a = &m->set_attrs[i];
		cwmp_sb_open(b, 4, "SetParameterAttributesStruct", NULL);
		el_req(b, 5, "Name", a->name);
		el_bool(b, 5, "NotificationChange", a->notification_change);
		notification(b, 5, a->notification);
		el_bool(b, 5, "AccessListChange", a->access_list_change);
		strings(b, 5, "AccessList", a->access_list, a->n_access_list);
		cwmp_sb_close(b, 4, "SetParameterAttributesStruct");
	}
	cwmp_sb_close(b, 3, "ParameterList");
}

static void status(struct cwmp_sb *b, int v)
{
	if (v != 0 && v != 1)
		fail(b, CWMP_E_ARG);
	cwmp_sb_el_int(b, 3, "Status", v);
}

/* The fields of m's method at depth 3. */
static void fields(struct cwmp_sb *b, const struct cwmp_msg *m)
{
	switch (m->method) {
	case CWMP_M_INFORM:
		inform(b, &m->inform);
		break;
	case CWMP_M_INFORM_RESPONSE:
		cwmp_sb_el_uint(b, 3, "MaxEnvelopes", m->max_envelopes);
		break;
	case CWMP_M_TRANSFER_COMPLETE:
		transfer(b, &m->transfer, 0);
		break;
	case CWMP_M_AUTONOMOUS_TRANSFER_COMPLETE:
		transfer(b, &m->transfer, 1);
		break;
	case CWMP_M_REQUEST_DOWNLOAD:
		el_req(b, 3, "FileType", m->transfer.file_type);
		values(b, 3, "FileTypeArg", m->values, m->n_values, 1);
		break;
	case CWMP_M_GET_RPC_METHODS_RESPONSE:
		strings(b, 3, "MethodList", m->methods, m->n_methods);
		break;
	case CWMP_M_GET_PARAMETER_VALUES:
	case CWMP_M_GET_PARAMETER_ATTRIBUTES:
		strings(b, 3, "ParameterNames", m->names, m->n_names);
		break;
	case CWMP_M_GET_PARAMETER_VALUES_RESPONSE:
		values(b, 3, "ParameterList", m->values, m->n_values, 0);
		break;
	case CWMP_M_GET_PARAMETER_NAMES:
		cwmp_sb_el(b, 3, "ParameterPath", m->parameter_path, S);
		el_bool(b, 3, "NextLevel", m->next_level);
		break;
	case CWMP_M_GET_PARAMETER_NAMES_RESPONSE:
		infos(b, m);
		break;
	case CWMP_M_GET_PARAMETER_ATTRIBUTES_RESPONSE:
		attrs(b, m);
		break;
	case CWMP_M_SET_PARAMETER_VALUES:
		values(b, 3, "ParameterList", m->values, m->n_values, 0);
		cwmp_sb_el(b, 3, "ParameterKey", m->parameter_key, S);
		break;
	case CWMP_M_SET_PARAMETER_ATTRIBUTES:
		set_attrs(b, m);
		break;
	case CWMP_M_SET_PARAMETER_VALUES_RESPONSE:
	case CWMP_M_DELETE_OBJECT_RESPONSE:
		status(b, m->status);
		break;
	case CWMP_M_ADD_OBJECT:
	case CWMP_M_DELETE_OBJECT:
		el_req(b, 3, "ObjectName", m->object_name);
		cwmp_sb_el(b, 3, "ParameterKey", m->parameter_key, S);
		break;
	case CWMP_M_ADD_OBJECT_RESPONSE:
		cwmp_sb_el_uint(b, 3, "InstanceNumber", m->instance_number);
		status(b, m->status);
		break;
	case CWMP_M_REBOOT:
		cwmp_sb_el(b, 3, "CommandKey", m->command_key, S);
		break;
	case CWMP_M_DOWNLOAD:
		download(b, &m->download);
		break;
	case CWMP_M_DOWNLOAD_RESPONSE:
		status(b, m->status);
		cwmp_sb_el(b, 3, "StartTime", m->start_time, S);
		cwmp_sb_el(b, 3, "CompleteTime", m->complete_time, S);
		break;
	default:
		break; /* methods without fields */
	}
}

/* Methods without fields are written as an empty element. */
static int has_fields(enum cwmp_method m)
{
	switch (m) {
	case CWMP_M_TRANSFER_COMPLETE_RESPONSE:
	case CWMP_M_AUTONOMOUS_TRANSFER_COMPLETE_RESPONSE:
	case CWMP_M_REQUEST_DOWNLOAD_RESPONSE:
	case CWMP_M_GET_RPC_METHODS:
	case CWMP_M_SET_PARAMETER_ATTRIBUTES_RESPONSE:
	case CWMP_M_REBOOT_RESPONSE:
	case CWMP_M_FACTORY_RESET:
	case CWMP_M_FACTORY_RESET_RESPONSE:
		return 0;
	default:
		return 1;
	}
}

void cwmp_build_rpc(struct cwmp_sb *b, const struct cwmp_msg *m)
{
	const char *name = cwmp_method_name(m->method);
	if (!name[0] || m->method == CWMP_M_FAULT) {
		fail(b, CWMP_E_ARG);
		return;
	}
	if (!has_fields(m->method)) {
		cwmp_sb_fmt(b, "    <cwmp:%s/>\n", name);
		return;
	}
	cwmp_sb_fmt(b, "    <cwmp:%s>\n", name);
	fields(b, m);
	cwmp_sb_fmt(b, "    </cwmp:%s>\n", name);
}

void cwmp_build_fault_body(struct cwmp_sb *b, const struct cwmp_fault *f)
{
	if (f->n_spv > CWMP_MAX_LIST) {
		fail(b, CWMP_E_LIMIT);
		return;
	}
	if (f->n_spv > 0 && !f->spv) {
		fail(b, CWMP_E_ARG);
		return;
	}
	cwmp_sb_open(b, 2, "soap-env:Fault", NULL);
	cwmp_sb_el(b, 3, "faultcode",
		   f->soap_faultcode ? f->soap_faultcode : cwmp_fault_side(f->code), S);
	cwmp_sb_el(b, 3, "faultstring", f->soap_faultstring ? f->soap_faultstring : "CWMP fault",
		   S);
	cwmp_sb_open(b, 3, "detail", NULL);
	cwmp_sb_open(b, 4, "cwmp:Fault", NULL);
	cwmp_sb_el_uint(b, 5, "FaultCode", f->code);
	cwmp_sb_el(b, 5, "FaultString", f->string, S);
	for (size_t i = 0; i < f->n_spv && !b->err; i++) {
		cwmp_sb_open(b, 5, "SetParameterValuesFault", NULL);
		el_req(b, 6, "ParameterName", f->spv[i].name);
		cwmp_sb_el_uint(b, 6, "FaultCode", f->spv[i].code);
		cwmp_sb_el(b, 6, "FaultString", f->spv[i].string, S);
		cwmp_sb_close(b, 5, "SetParameterValuesFault");
	}
	cwmp_sb_close(b, 4, "cwmp:Fault");
	cwmp_sb_close(b, 3, "detail");
	cwmp_sb_close(b, 2, "soap-env:Fault");
}
