/*
 * cwmp_samples.c — see cwmp_samples.h. The samples use TR-069-shaped
 * values (InternetGatewayDevice / Device paths, "1 BOOT", firmware
 * URLs); a few texts carry &, <, >, ", a CR, a tab and UTF-8 so the
 * escaping is pinned by the golden vectors built from them.
 */
#include "cwmp_samples.h"

#include <stdio.h>
#include <string.h>

#define T(s) ((char *)(s))

static struct cwmp_event events[] = {
	{ T("1 BOOT"), T("") },
	{ T("M Reboot"), T("reboot-42") },
	{ T("4 VALUE CHANGE"), T("") },
};

static struct cwmp_param_value inform_params[] = {
	{ T("Device.DeviceInfo.SoftwareVersion"), T("4.2.1 <beta> & \"rc\""), T("string") },
	{ T("Device.ManagementServer.ConnectionRequestURL"), T("http://192.0.2.7:7547/cr"),
	  T("string") },
	{ T("Device.ManagementServer.PeriodicInformInterval"), T("3600"), T("unsignedInt") },
	{ T("Device.DeviceInfo.UpTime"), T("-1"), T("int") },
};

static struct cwmp_param_value gpv_values[] = {
	{ T("Device.DeviceInfo.Description"), T("Caf\xc3\xa9 router\tline1\r\nline2"),
	  T("string") },
	{ T("Device.WiFi.SSID.1.Enable"), T("true"), T("boolean") },
	{ T("Device.Time.CurrentLocalTime"), T("2024-05-01T12:00:00Z"), T("dateTime") },
	{ T("Device.X_EXAMPLE_Blob"), T("AAEC"), T("base64") },
};

static struct cwmp_param_value args[] = {
	{ T("Version"), T("2.0"), NULL },
	{ T("Channel"), T("beta"), NULL },
};

static char *names[] = { T("Device.DeviceInfo."), T("Device.ManagementServer.URL") };
static char *methods[] = { T("GetRPCMethods"), T("Inform"), T("TransferComplete") };
static char *subscriber[] = { T("Subscriber") };

static struct cwmp_param_info infos[] = {
	{ T("Device.DeviceInfo."), 0 },
	{ T("Device.DeviceInfo.Manufacturer"), 0 },
	{ T("Device.ManagementServer.PeriodicInformInterval"), 1 },
};

static struct cwmp_param_attr attrs[] = {
	{ T("Device.DeviceInfo.SoftwareVersion"), 2, NULL, 0 },
	{ T("Device.WiFi.SSID.1.SSID"), 1, subscriber, 1 },
};

static struct cwmp_set_attr set_attrs[] = {
	{ T("Device.DeviceInfo.SoftwareVersion"), 1, 2, 0, NULL, 0 },
	{ T("Device.WiFi.SSID.1."), 1, 6, 1, subscriber, 1 },
};

static struct cwmp_spv_fault spv_faults[] = {
	{ T("Device.WiFi.SSID.1.SSID"), 9007, T("Invalid parameter value") },
	{ T("Device.DeviceInfo.Manufacturer"), 9008, T("") },
};

static void sample_transfer(struct cwmp_msg *m, int autonomous)
{
	struct cwmp_transfer_complete *t = &m->transfer;
	t->command_key = T(autonomous ? "" : "dl-7");
	t->fault.code = autonomous ? 0 : 9010;
	t->fault.string = T(autonomous ? "" : "Download failure");
	t->start_time = T("2024-05-01T12:00:00Z");
	t->complete_time = T("2024-05-01T12:03:10Z");
	if (!autonomous)
		return;
	t->announce_url = T("");
	t->transfer_url = T("https://fw.example.net/cpe-2.0.bin?a=1&b=2");
	t->is_download = 1;
	t->file_type = T("1 Firmware Upgrade Image");
	t->file_size = 4294967295u;
	t->target_file_name = T("cpe-2.0.bin");
}

static void sample_download(struct cwmp_download *d)
{
	d->command_key = T("dl-7");
	d->file_type = T("1 Firmware Upgrade Image");
	d->url = T("https://fw.example.net/cpe-2.0.bin?a=1&b=2");
	d->username = T("fw");
	d->password = T("p<w>&\"d");
	d->file_size = 18874368;
	d->target_file_name = T("cpe-2.0.bin");
	d->delay_seconds = 30;
	d->success_url = T("");
	d->failure_url = T("");
}

static void sample_inform(struct cwmp_inform *in)
{
	in->device_id.manufacturer = T("Example & Sons");
	in->device_id.oui = T("00D09E");
	in->device_id.product_class = T("HG 8245");
	in->device_id.serial_number = T("SN/0001");
	in->events = events;
	in->n_events = 3;
	in->max_envelopes = 1;
	in->current_time = T("2024-05-01T12:00:00+02:00");
	in->retry_count = 2;
	in->params = inform_params;
	in->n_params = 4;
}

/* Fields of the methods that carry lists or several scalars. */
static void sample_fields(struct cwmp_msg *m)
{
	switch (m->method) {
	case CWMP_M_FAULT:
		m->fault.soap_faultcode = T("Client");
		m->fault.soap_faultstring = T("CWMP fault");
		m->fault.code = 9003;
		m->fault.string = T("Invalid arguments");
		m->fault.spv = spv_faults;
		m->fault.n_spv = 2;
		break;
	case CWMP_M_INFORM:
		sample_inform(&m->inform);
		break;
	case CWMP_M_TRANSFER_COMPLETE:
	case CWMP_M_AUTONOMOUS_TRANSFER_COMPLETE:
		sample_transfer(m, m->method == CWMP_M_AUTONOMOUS_TRANSFER_COMPLETE);
		break;
	case CWMP_M_REQUEST_DOWNLOAD:
		m->transfer.file_type = T("1 Firmware Upgrade Image");
		m->values = args;
		m->n_values = 2;
		break;
	case CWMP_M_GET_RPC_METHODS_RESPONSE:
		m->methods = methods;
		m->n_methods = 3;
		break;
	case CWMP_M_GET_PARAMETER_VALUES:
	case CWMP_M_GET_PARAMETER_ATTRIBUTES:
		m->names = names;
		m->n_names = 2;
		break;
	case CWMP_M_GET_PARAMETER_VALUES_RESPONSE:
		m->values = gpv_values;
		m->n_values = 4;
		break;
	case CWMP_M_SET_PARAMETER_VALUES:
		m->values = gpv_values;
		m->n_values = 2;
		m->parameter_key = T("task-17");
		break;
	case CWMP_M_GET_PARAMETER_NAMES:
		m->parameter_path = T("Device.DeviceInfo.");
		m->next_level = 1;
		break;
	case CWMP_M_GET_PARAMETER_NAMES_RESPONSE:
		m->infos = infos;
		m->n_infos = 3;
		break;
	case CWMP_M_GET_PARAMETER_ATTRIBUTES_RESPONSE:
		m->attrs = attrs;
		m->n_attrs = 2;
		break;
	case CWMP_M_SET_PARAMETER_ATTRIBUTES:
		m->set_attrs = set_attrs;
		m->n_set_attrs = 2;
		break;
	default:
		break;
	}
}

int cwmp_sample(enum cwmp_method method, enum cwmp_ns ns, const char *id, struct cwmp_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->header.hold_requests = -1;
	m->header.no_more_requests = -1;
	m->header.session_timeout = -1;
	if (method == CWMP_M_EMPTY || method == CWMP_M_UNKNOWN || method >= CWMP_M_COUNT)
		return -1;
	m->ns = ns;
	m->method = method;
	m->header.id = T(id);
	sample_fields(m);
	switch (method) {
	case CWMP_M_INFORM_RESPONSE:
		m->max_envelopes = 1;
		break;
	case CWMP_M_SET_PARAMETER_VALUES_RESPONSE:
	case CWMP_M_DELETE_OBJECT_RESPONSE:
		m->status = 1;
		break;
	case CWMP_M_ADD_OBJECT:
		m->object_name = T("Device.WiFi.SSID.");
		m->parameter_key = T("task-18");
		break;
	case CWMP_M_DELETE_OBJECT:
		m->object_name = T("Device.WiFi.SSID.3.");
		m->parameter_key = T("");
		break;
	case CWMP_M_ADD_OBJECT_RESPONSE:
		m->instance_number = 4294967295u;
		m->status = 1;
		break;
	case CWMP_M_REBOOT:
		m->command_key = T("reboot-42");
		break;
	case CWMP_M_DOWNLOAD:
		sample_download(&m->download);
		break;
	case CWMP_M_DOWNLOAD_RESPONSE:
		m->status = 1;
		m->start_time = T("0001-01-01T00:00:00Z");
		m->complete_time = T("0001-01-01T00:00:00Z");
		break;
	default:
		break;
	}
	return 0;
}

void cwmp_sample_fini(struct cwmp_msg *m)
{
	memset(m, 0, sizeof(*m));
}

/* ---- deep comparison ------------------------------------------------------- */

struct cmp {
	char *why;
	size_t len;
	int bad;
};

static void differ(struct cmp *c, const char *field, const char *a, const char *b)
{
	if (c->bad++)
		return;
	if (c->why && c->len)
		snprintf(c->why, c->len, "%s: '%.80s' != '%.80s'", field, a ? a : "(null)",
			 b ? b : "(null)");
}

static void str(struct cmp *c, const char *field, const char *a, const char *b)
{
	if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0))
		differ(c, field, a, b);
}

static void num(struct cmp *c, const char *field, unsigned long long a, unsigned long long b)
{
	char sa[24], sb[24];
	if (a == b)
		return;
	snprintf(sa, sizeof(sa), "%llu", a);
	snprintf(sb, sizeof(sb), "%llu", b);
	differ(c, field, sa, sb);
}

static void strs(struct cmp *c, const char *field, char *const *a, size_t na, char *const *b,
		 size_t nb)
{
	num(c, field, na, nb);
	for (size_t i = 0; i < na && i < nb; i++)
		str(c, field, a[i], b[i]);
}

static void pvs(struct cmp *c, const char *field, const struct cwmp_param_value *a, size_t na,
		const struct cwmp_param_value *b, size_t nb)
{
	num(c, field, na, nb);
	for (size_t i = 0; i < na && i < nb; i++) {
		str(c, "name", a[i].name, b[i].name);
		str(c, "value", a[i].value, b[i].value);
		str(c, "type", a[i].type, b[i].type);
	}
}

static void cmp_inform(struct cmp *c, const struct cwmp_inform *a, const struct cwmp_inform *b)
{
	str(c, "manufacturer", a->device_id.manufacturer, b->device_id.manufacturer);
	str(c, "oui", a->device_id.oui, b->device_id.oui);
	str(c, "product_class", a->device_id.product_class, b->device_id.product_class);
	str(c, "serial_number", a->device_id.serial_number, b->device_id.serial_number);
	num(c, "n_events", a->n_events, b->n_events);
	for (size_t i = 0; i < a->n_events && i < b->n_events; i++) {
		str(c, "event.code", a->events[i].code, b->events[i].code);
		str(c, "event.command_key", a->events[i].command_key, b->events[i].command_key);
	}
	num(c, "max_envelopes", a->max_envelopes, b->max_envelopes);
	str(c, "current_time", a->current_time, b->current_time);
	num(c, "retry_count", a->retry_count, b->retry_count);
	pvs(c, "params", a->params, a->n_params, b->params, b->n_params);
}

static void cmp_transfer(struct cmp *c, const struct cwmp_transfer_complete *a,
			 const struct cwmp_transfer_complete *b)
{
	str(c, "tc.command_key", a->command_key, b->command_key);
	num(c, "tc.fault.code", a->fault.code, b->fault.code);
	str(c, "tc.fault.string", a->fault.string, b->fault.string);
	str(c, "tc.start_time", a->start_time, b->start_time);
	str(c, "tc.complete_time", a->complete_time, b->complete_time);
	str(c, "tc.announce_url", a->announce_url, b->announce_url);
	str(c, "tc.transfer_url", a->transfer_url, b->transfer_url);
	num(c, "tc.is_download", (unsigned)a->is_download, (unsigned)b->is_download);
	str(c, "tc.file_type", a->file_type, b->file_type);
	num(c, "tc.file_size", a->file_size, b->file_size);
	str(c, "tc.target_file_name", a->target_file_name, b->target_file_name);
}

static void cmp_fault(struct cmp *c, const struct cwmp_fault *a, const struct cwmp_fault *b)
{
	str(c, "soap_faultcode", a->soap_faultcode, b->soap_faultcode);
	str(c, "soap_faultstring", a->soap_faultstring, b->soap_faultstring);
	num(c, "fault.code", a->code, b->code);
	str(c, "fault.string", a->string, b->string);
	num(c, "n_spv", a->n_spv, b->n_spv);
	for (size_t i = 0; i < a->n_spv && i < b->n_spv; i++) {
		str(c, "spv.name", a->spv[i].name, b->spv[i].name);
		num(c, "spv.code", a->spv[i].code, b->spv[i].code);
		str(c, "spv.string", a->spv[i].string, b->spv[i].string);
	}
}

static void cmp_download(struct cmp *c, const struct cwmp_download *a,
			 const struct cwmp_download *b)
{
	str(c, "dl.command_key", a->command_key, b->command_key);
	str(c, "dl.file_type", a->file_type, b->file_type);
	str(c, "dl.url", a->url, b->url);
	str(c, "dl.username", a->username, b->username);
	str(c, "dl.password", a->password, b->password);
	num(c, "dl.file_size", a->file_size, b->file_size);
	str(c, "dl.target_file_name", a->target_file_name, b->target_file_name);
	num(c, "dl.delay_seconds", a->delay_seconds, b->delay_seconds);
	str(c, "dl.success_url", a->success_url, b->success_url);
	str(c, "dl.failure_url", a->failure_url, b->failure_url);
}

static void cmp_lists(struct cmp *c, const struct cwmp_msg *a, const struct cwmp_msg *b)
{
	strs(c, "names", a->names, a->n_names, b->names, b->n_names);
	pvs(c, "values", a->values, a->n_values, b->values, b->n_values);
	num(c, "n_infos", a->n_infos, b->n_infos);
	for (size_t i = 0; i < a->n_infos && i < b->n_infos; i++) {
		str(c, "info.name", a->infos[i].name, b->infos[i].name);
		num(c, "info.writable", (unsigned)a->infos[i].writable,
		    (unsigned)b->infos[i].writable);
	}
	num(c, "n_attrs", a->n_attrs, b->n_attrs);
	for (size_t i = 0; i < a->n_attrs && i < b->n_attrs; i++) {
		const struct cwmp_param_attr *x = &a->attrs[i], *y = &b->attrs[i];
		str(c, "attr.name", x->name, y->name);
		num(c, "attr.notification", (unsigned)x->notification, (unsigned)y->notification);
		strs(c, "attr.access_list", x->access_list, x->n_access_list, y->access_list,
		     y->n_access_list);
	}
	num(c, "n_set_attrs", a->n_set_attrs, b->n_set_attrs);
	for (size_t i = 0; i < a->n_set_attrs && i < b->n_set_attrs; i++) {
		const struct cwmp_set_attr *x = &a->set_attrs[i], *y = &b->set_attrs[i];
		str(c, "set_attr.name", x->name, y->name);
		num(c, "set_attr.notification_change", (unsigned)x->notification_change,
		    (unsigned)y->notification_change);
		num(c, "set_attr.notification", (unsigned)x->notification,
		    (unsigned)y->notification);
		num(c, "set_attr.access_list_change", (unsigned)x->access_list_change,
		    (unsigned)y->access_list_change);
		strs(c, "set_attr.access_list", x->access_list, x->n_access_list, y->access_list,
		     y->n_access_list);
	}
	strs(c, "methods", a->methods, a->n_methods, b->methods, b->n_methods);
}

int cwmp_msg_equal(const struct cwmp_msg *a, const struct cwmp_msg *b, char *why, size_t whylen)
{
	struct cmp c = { why, whylen, 0 };
	num(&c, "ns", (unsigned)a->ns, (unsigned)b->ns);
	num(&c, "method", (unsigned)a->method, (unsigned)b->method);
	str(&c, "header.id", a->header.id, b->header.id);
	num(&c, "header.hold_requests", (unsigned)a->header.hold_requests,
	    (unsigned)b->header.hold_requests);
	num(&c, "header.no_more_requests", (unsigned)a->header.no_more_requests,
	    (unsigned)b->header.no_more_requests);
	num(&c, "header.session_timeout", (unsigned)a->header.session_timeout,
	    (unsigned)b->header.session_timeout);
	str(&c, "header.supported", a->header.supported_cwmp_versions,
	    b->header.supported_cwmp_versions);
	str(&c, "header.use", a->header.use_cwmp_version, b->header.use_cwmp_version);
	str(&c, "unknown_name", a->unknown_name, b->unknown_name);
	cmp_inform(&c, &a->inform, &b->inform);
	cmp_transfer(&c, &a->transfer, &b->transfer);
	cmp_fault(&c, &a->fault, &b->fault);
	cmp_download(&c, &a->download, &b->download);
	cmp_lists(&c, a, b);
	str(&c, "parameter_path", a->parameter_path, b->parameter_path);
	num(&c, "next_level", (unsigned)a->next_level, (unsigned)b->next_level);
	str(&c, "parameter_key", a->parameter_key, b->parameter_key);
	str(&c, "object_name", a->object_name, b->object_name);
	str(&c, "command_key", a->command_key, b->command_key);
	num(&c, "instance_number", a->instance_number, b->instance_number);
	num(&c, "status", (unsigned)a->status, (unsigned)b->status);
	num(&c, "max_envelopes", a->max_envelopes, b->max_envelopes);
	str(&c, "start_time", a->start_time, b->start_time);
	str(&c, "complete_time", a->complete_time, b->complete_time);
	return c.bad == 0;
}
