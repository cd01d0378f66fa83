/*
 * cwmp_parse_rpc.c — the fields of each CWMP method (and of a cwmp:Fault
 * detail) into struct cwmp_msg, one small reader per method.
 *
 * Owns: which fields each method requires. Required means required by the
 * XSDs (cwmp-1-0 .. cwmp-1-4); a field the schema makes optional reads as
 * "" / 0 when absent. Field order is not enforced (CPEs differ) and
 * children are found by local name in any namespace. Called only from
 * cwmp_parse.c on the parsing thread's tree.
 */
#include "cwmp_int.h"

#include <stdlib.h>
#include <string.h>

#define S CWMP_MAX_STR

static int nomem(struct cwmp_px *px)
{
	return cwmp_px_fail(px, CWMP_E_NOMEM, "out of memory");
}

static int parse_device_id(struct cwmp_px *px, const xmlNode *in, struct cwmp_device_id *d)
{
	const xmlNode *n = cwmp_xml_child(in, "DeviceId");
	if (!n)
		return cwmp_px_fail(px, CWMP_E_FIELD, "Inform: missing DeviceId");
	int rc = cwmp_xml_str(px, n, "Manufacturer", 1, S, &d->manufacturer);
	if (rc == 0)
		rc = cwmp_xml_str(px, n, "OUI", 1, S, &d->oui);
	if (rc == 0)
		rc = cwmp_xml_str(px, n, "ProductClass", 1, S, &d->product_class);
	if (rc == 0)
		rc = cwmp_xml_str(px, n, "SerialNumber", 1, S, &d->serial_number);
	if (rc == 0 && (!d->oui[0] || !d->serial_number[0]))
		rc = cwmp_px_fail(px, CWMP_E_FIELD, "DeviceId: empty %s",
				  d->oui[0] ? "SerialNumber" : "OUI");
	return rc;
}

static int parse_events(struct cwmp_px *px, const xmlNode *in, struct cwmp_inform *inf)
{
	const xmlNode *list;
	size_t n;
	int rc = cwmp_xml_list(px, in, "Event", &list, &n);
	if (rc != 0 || n == 0)
		return rc;
	inf->events = calloc(n, sizeof(*inf->events));
	if (!inf->events)
		return nomem(px);
	inf->n_events = n;
	size_t i = 0;
	for (const xmlNode *c = cwmp_xml_first_elem(list); c && rc == 0;
	     c = cwmp_xml_next_elem(c), i++) {
		rc = cwmp_xml_str(px, c, "EventCode", 1, S, &inf->events[i].code);
		if (rc == 0)
			rc = cwmp_xml_str(px, c, "CommandKey", 0, S, &inf->events[i].command_key);
	}
	return rc;
}

static int parse_inform(struct cwmp_px *px, const xmlNode *b, struct cwmp_inform *inf)
{
	int rc = parse_device_id(px, b, &inf->device_id);
	if (rc == 0)
		rc = parse_events(px, b, inf);
	if (rc == 0)
		rc = cwmp_xml_uint(px, b, "MaxEnvelopes", 1, &inf->max_envelopes);
	if (rc == 0)
		rc = cwmp_xml_str(px, b, "CurrentTime", 1, S, &inf->current_time);
	if (rc == 0)
		rc = cwmp_xml_uint(px, b, "RetryCount", 1, &inf->retry_count);
	if (rc == 0)
		rc = cwmp_xml_values(px, b, "ParameterList", &inf->params, &inf->n_params);
	return rc;
}

static int parse_fault_struct(struct cwmp_px *px, const xmlNode *b, struct cwmp_fault_struct *f)
{
	const xmlNode *n = cwmp_xml_child(b, "FaultStruct");
	if (!n)
		return cwmp_px_fail(px, CWMP_E_FIELD, "%s: missing FaultStruct", cwmp_xml_local(b));
	int rc = cwmp_xml_uint(px, n, "FaultCode", 1, &f->code);
	return rc != 0 ? rc : cwmp_xml_str(px, n, "FaultString", 0, S, &f->string);
}

static int parse_transfer(struct cwmp_px *px, const xmlNode *b, struct cwmp_transfer_complete *t,
			  int autonomous)
{
	int rc = 0;
	if (autonomous) {
		rc = cwmp_xml_str(px, b, "AnnounceURL", 1, S, &t->announce_url);
		if (rc == 0)
			rc = cwmp_xml_str(px, b, "TransferURL", 1, S, &t->transfer_url);
		if (rc == 0)
			rc = cwmp_xml_bool(px, b, "IsDownload", 1, &t->is_download);
		if (rc == 0)
			rc = cwmp_xml_str(px, b, "FileType", 1, S, &t->file_type);
		if (rc == 0)
			rc = cwmp_xml_u64(px, b, "FileSize", 1, &t->file_size);
		if (rc == 0)
			rc = cwmp_xml_str(px, b, "TargetFileName", 0, S, &t->target_file_name);
		if (rc == 0)
			t->command_key = strdup("");
		if (rc == 0 && !t->command_key)
			rc = nomem(px);
	} else {
		rc = cwmp_xml_str(px, b, "CommandKey", 1, S, &t->command_key);
	}
	if (rc == 0)
		rc = parse_fault_struct(px, b, &t->fault);
	if (rc == 0)
		rc = cwmp_xml_str(px, b, "StartTime", 1, S, &t->start_time);
	if (rc == 0)
		rc = cwmp_xml_str(px, b, "CompleteTime", 1, S, &t->complete_time);
	return rc;
}

static int parse_download(struct cwmp_px *px, const xmlNode *b, struct cwmp_download *d)
{
	int rc = cwmp_xml_str(px, b, "CommandKey", 1, S, &d->command_key);
	if (rc == 0)
		rc = cwmp_xml_str(px, b, "FileType", 1, S, &d->file_type);
	if (rc == 0)
		rc = cwmp_xml_str(px, b, "URL", 1, S, &d->url);
	if (rc == 0)
		rc = cwmp_xml_str(px, b, "Username", 0, S, &d->username);
	if (rc == 0)
		rc = cwmp_xml_str(px, b, "Password", 0, S, &d->password);
	if (rc == 0)
		rc = cwmp_xml_u64(px, b, "FileSize", 0, &d->file_size);
	if (rc == 0)
		rc = cwmp_xml_str(px, b, "TargetFileName", 0, S, &d->target_file_name);
	if (rc == 0)
		rc = cwmp_xml_uint(px, b, "DelaySeconds", 0, &d->delay_seconds);
	if (rc == 0)
		rc = cwmp_xml_str(px, b, "SuccessURL", 0, S, &d->success_url);
	if (rc == 0)
		rc = cwmp_xml_str(px, b, "FailureURL", 0, S, &d->failure_url);
	return rc;
}

static int parse_infos(struct cwmp_px *px, const xmlNode *b, struct cwmp_msg *m)
{
	const xmlNode *list;
	size_t n;
	int rc = cwmp_xml_list(px, b, "ParameterList", &list, &n);
	if (rc != 0 || n == 0)
		return rc;
	m->infos = calloc(n, sizeof(*m->infos));
	if (!m->infos)
		return nomem(px);
	m->n_infos = n;
	size_t i = 0;
	for (const xmlNode *c = cwmp_xml_first_elem(list); c && rc == 0;
	     c = cwmp_xml_next_elem(c), i++) {
		rc = cwmp_xml_str(px, c, "Name", 1, S, &m->infos[i].name);
		if (rc == 0)
			rc = cwmp_xml_bool(px, c, "Writable", 1, &m->infos[i].writable);
	}
	return rc;
}

static int parse_attrs(struct cwmp_px *px, const xmlNode *b, struct cwmp_msg *m)
{
	const xmlNode *list;
	size_t n;
	int rc = cwmp_xml_list(px, b, "ParameterList", &list, &n);
	if (rc != 0 || n == 0)
		return rc;
	m->attrs = calloc(n, sizeof(*m->attrs));
	if (!m->attrs)
		return nomem(px);
	m->n_attrs = n;
	size_t i = 0;
	for (const xmlNode *c = cwmp_xml_first_elem(list); c && rc == 0;
	     c = cwmp_xml_next_elem(c), i++) {
		struct cwmp_param_attr *a = &m->attrs[i];
		rc = cwmp_xml_str(px, c, "Name", 1, S, &a->name);
		if (rc == 0)
			rc = cwmp_xml_int(px, c, "Notification", 1, 0, 6, &a->notification);
		if (rc == 0 && cwmp_xml_child(c, "AccessList"))
			rc = cwmp_xml_strings(px, c, "AccessList", &a->access_list,
					      &a->n_access_list);
	}
	return rc;
}

static int parse_set_attrs(struct cwmp_px *px, const xmlNode *b, struct cwmp_msg *m)
{
	const xmlNode *list;
	size_t n;
	int rc = cwmp_xml_list(px, b, "ParameterList", &list, &n);
	if (rc != 0 || n == 0)
		return rc;
	m->set_attrs = calloc(n, sizeof(*m->set_attrs));
	if (!m->set_attrs)
		return nomem(px);
	m->n_set_attrs = n;
	size_t i = 0;
	for (const xmlNode *c = cwmp_xml_first_elem(list); c && rc == 0;
	     c = cwmp_xml_next_elem(c), i++) {
		struct cwmp_set_attr *a = &m->set_attrs[i];
		rc = cwmp_xml_str(px, c, "Name", 1, S, &a->name);
		if (rc == 0)
			rc = cwmp_xml_bool(px, c, "NotificationChange", 1, &a->notification_change);
		if (rc == 0)
			rc = cwmp_xml_int(px, c, "Notification", 1, 0, 6, &a->notification);
		if (rc == 0)
			rc = cwmp_xml_bool(px, c, "AccessListChange", 1, &a->access_list_change);
		if (rc == 0 && cwmp_xml_child(c, "AccessList"))
			rc = cwmp_xml_strings(px, c, "AccessList", &a->access_list,
					      &a->n_access_list);
	}
	return rc;
}

/* RequestDownload: FileType into transfer.file_type, FileTypeArg's
 * ArgStructs (Name, Value) into values with no type. */
static int parse_request_download(struct cwmp_px *px, const xmlNode *b, struct cwmp_msg *m)
{
	int rc = cwmp_xml_str(px, b, "FileType", 1, S, &m->transfer.file_type);
	if (rc == 0 && cwmp_xml_child(b, "FileTypeArg"))
		rc = cwmp_xml_values(px, b, "FileTypeArg", &m->values, &m->n_values);
	for (size_t i = 0; rc == 0 && i < m->n_values; i++) {
		free(m->values[i].type);
		m->values[i].type = NULL;
	}
	return rc;
}

static int parse_object(struct cwmp_px *px, const xmlNode *b, struct cwmp_msg *m)
{
	int rc = cwmp_xml_str(px, b, "ObjectName", 1, S, &m->object_name);
	return rc != 0 ? rc : cwmp_xml_str(px, b, "ParameterKey", 0, S, &m->parameter_key);
}

static int parse_times(struct cwmp_px *px, const xmlNode *b, struct cwmp_msg *m)
{
	int rc = cwmp_xml_str(px, b, "StartTime", 1, S, &m->start_time);
	return rc != 0 ? rc : cwmp_xml_str(px, b, "CompleteTime", 1, S, &m->complete_time);
}

int cwmp_parse_rpc(struct cwmp_px *px, const xmlNode *b, struct cwmp_msg *m)
{
	int rc = 0;
	switch (m->method) {
	case CWMP_M_INFORM:
		return parse_inform(px, b, &m->inform);
	case CWMP_M_INFORM_RESPONSE:
		return cwmp_xml_uint(px, b, "MaxEnvelopes", 1, &m->max_envelopes);
	case CWMP_M_TRANSFER_COMPLETE:
		return parse_transfer(px, b, &m->transfer, 0);
	case CWMP_M_AUTONOMOUS_TRANSFER_COMPLETE:
		return parse_transfer(px, b, &m->transfer, 1);
	case CWMP_M_REQUEST_DOWNLOAD:
		return parse_request_download(px, b, m);
	case CWMP_M_GET_RPC_METHODS_RESPONSE:
		return cwmp_xml_strings(px, b, "MethodList", &m->methods, &m->n_methods);
	case CWMP_M_GET_PARAMETER_VALUES:
	case CWMP_M_GET_PARAMETER_ATTRIBUTES:
		return cwmp_xml_strings(px, b, "ParameterNames", &m->names, &m->n_names);
	case CWMP_M_GET_PARAMETER_VALUES_RESPONSE:
		return cwmp_xml_values(px, b, "ParameterList", &m->values, &m->n_values);
	case CWMP_M_GET_PARAMETER_NAMES:
		rc = cwmp_xml_str(px, b, "ParameterPath", 0, S, &m->parameter_path);
		return rc != 0 ? rc : cwmp_xml_bool(px, b, "NextLevel", 1, &m->next_level);
	case CWMP_M_GET_PARAMETER_NAMES_RESPONSE:
		return parse_infos(px, b, m);
	case CWMP_M_GET_PARAMETER_ATTRIBUTES_RESPONSE:
		return parse_attrs(px, b, m);
	case CWMP_M_SET_PARAMETER_VALUES:
		rc = cwmp_xml_values(px, b, "ParameterList", &m->values, &m->n_values);
		return rc != 0 ? rc : cwmp_xml_str(px, b, "ParameterKey", 0, S, &m->parameter_key);
	case CWMP_M_SET_PARAMETER_ATTRIBUTES:
		return parse_set_attrs(px, b, m);
	case CWMP_M_SET_PARAMETER_VALUES_RESPONSE:
	case CWMP_M_DELETE_OBJECT_RESPONSE:
		return cwmp_xml_int(px, b, "Status", 1, 0, 1, &m->status);
	case CWMP_M_ADD_OBJECT:
	case CWMP_M_DELETE_OBJECT:
		return parse_object(px, b, m);
	case CWMP_M_ADD_OBJECT_RESPONSE:
		rc = cwmp_xml_uint(px, b, "InstanceNumber", 1, &m->instance_number);
		return rc != 0 ? rc : cwmp_xml_int(px, b, "Status", 1, 0, 1, &m->status);
	case CWMP_M_REBOOT:
		return cwmp_xml_str(px, b, "CommandKey", 0, S, &m->command_key);
	case CWMP_M_DOWNLOAD:
		return parse_download(px, b, &m->download);
	case CWMP_M_DOWNLOAD_RESPONSE:
		rc = cwmp_xml_int(px, b, "Status", 1, 0, 1, &m->status);
		return rc != 0 ? rc : parse_times(px, b, m);
	case CWMP_M_TRANSFER_COMPLETE_RESPONSE:
	case CWMP_M_AUTONOMOUS_TRANSFER_COMPLETE_RESPONSE:
	case CWMP_M_REQUEST_DOWNLOAD_RESPONSE:
	case CWMP_M_GET_RPC_METHODS:
	case CWMP_M_SET_PARAMETER_ATTRIBUTES_RESPONSE:
	case CWMP_M_REBOOT_RESPONSE:
	case CWMP_M_FACTORY_RESET:
	case CWMP_M_FACTORY_RESET_RESPONSE:
		return 0; /* no fields */
	case CWMP_M_EMPTY:
	case CWMP_M_UNKNOWN:
	case CWMP_M_FAULT:
	case CWMP_M_COUNT:
		break;
	}
	return cwmp_px_fail(px, CWMP_E_ARG, "no reader for method %d", (int)m->method);
}

static int parse_spv_faults(struct cwmp_px *px, const xmlNode *cf, struct cwmp_fault *f)
{
	size_t n = 0;
	for (const xmlNode *c = cwmp_xml_first_elem(cf); c; c = cwmp_xml_next_elem(c))
		if (strcmp(cwmp_xml_local(c), "SetParameterValuesFault") == 0 &&
		    ++n > CWMP_MAX_LIST)
			return cwmp_px_fail(px, CWMP_E_LIMIT,
					    "Fault: more than %d SetParameterValuesFault",
					    CWMP_MAX_LIST);
	if (n == 0)
		return 0;
	f->spv = calloc(n, sizeof(*f->spv));
	if (!f->spv)
		return nomem(px);
	f->n_spv = n;
	size_t i = 0;
	int rc = 0;
	for (const xmlNode *c = cwmp_xml_first_elem(cf); c && rc == 0; c = cwmp_xml_next_elem(c)) {
		if (strcmp(cwmp_xml_local(c), "SetParameterValuesFault") != 0)
			continue;
		struct cwmp_spv_fault *s = &f->spv[i++];
		rc = cwmp_xml_str(px, c, "ParameterName", 1, S, &s->name);
		if (rc == 0)
			rc = cwmp_xml_uint(px, c, "FaultCode", 1, &s->code);
		if (rc == 0)
			rc = cwmp_xml_str(px, c, "FaultString", 0, S, &s->string);
	}
	return rc;
}

/* soap-env:Fault: faultcode, faultstring (unqualified in SOAP 1.1), and a
 * detail holding a cwmp:Fault, whose namespace becomes the message's. */
int cwmp_parse_fault(struct cwmp_px *px, const xmlNode *sf, struct cwmp_msg *m)
{
	struct cwmp_fault *f = &m->fault;
	int rc = cwmp_xml_str(px, sf, "faultcode", 0, S, &f->soap_faultcode);
	if (rc != 0)
		return rc;
	const char *colon = strrchr(f->soap_faultcode, ':');
	if (colon)
		memmove(f->soap_faultcode, colon + 1, strlen(colon + 1) + 1);
	rc = cwmp_xml_str(px, sf, "faultstring", 0, S, &f->soap_faultstring);
	if (rc != 0)
		return rc;
	const xmlNode *detail = cwmp_xml_child(sf, "detail");
	const xmlNode *cf = NULL;
	for (const xmlNode *c = cwmp_xml_first_elem(detail); c && !cf; c = cwmp_xml_next_elem(c))
		if (strcmp(cwmp_xml_local(c), "Fault") == 0 &&
		    cwmp_ns_from_uri(c->ns ? (const char *)c->ns->href : NULL) >= 0)
			cf = c;
	if (!cf)
		return cwmp_px_fail(px, CWMP_E_FIELD, "Fault: no cwmp:Fault in detail");
	m->ns = (enum cwmp_ns)cwmp_ns_from_uri((const char *)cf->ns->href);
	rc = cwmp_xml_uint(px, cf, "FaultCode", 1, &f->code);
	if (rc == 0)
		rc = cwmp_xml_str(px, cf, "FaultString", 0, S, &f->string);
	return rc != 0 ? rc : parse_spv_faults(px, cf, f);
}
