/*
 * test_cwmp_sim_rpc.c — a simulated CPE's answers to ACS requests from a
 * loaded model: GetParameterValues (parameters, partial paths, the whole
 * tree, write-only values, types from the model), GetParameterNames
 * (NextLevel both ways, writability of tables and instances),
 * SetParameterValues (success with Status 0 and the ParameterKey, and
 * 9003 with 9005/9006/9007/9008 entries leaving everything unchanged),
 * Get/SetParameterAttributes (9009 on moving values), AddObject,
 * DeleteObject, the actions of Reboot/FactoryReset/Download, and faults
 * for unknown methods and names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cwmp_sim_rpc.h"

static const char model_text[] =
	"object Device.\n"
	"param Device.RootDataModelVersion string ro default=2.19\n"
	"object Device.DeviceInfo.\n"
	"param Device.DeviceInfo.SoftwareVersion string ro default=1.0.0\n"
	"param Device.DeviceInfo.UpTime unsignedInt ro dyn=uptime\n"
	"param Device.DeviceInfo.ProvisioningCode string rw default=\"\" maxlen=8\n"
	"object Device.ManagementServer.\n"
	"param Device.ManagementServer.ParameterKey string ro default=\"\"\n"
	"param Device.ManagementServer.PeriodicInformInterval unsignedInt rw default=300\n"
	"param Device.ManagementServer.Password string wo default=secret\n"
	"param Device.ManagementServer.PeriodicInformEnable boolean rw default=true\n"
	"object Device.WiFi.\n"
	"table Device.WiFi.SSID.{i}. access=add_delete count=2 max=3\n"
	"param Device.WiFi.SSID.{i}.SSID string rw default=net-${i}\n"
	"param Device.WiFi.SSID.{i}.Mode string rw default=ap enum=ap|sta\n"
	"object Device.WiFi.SSID.{i}.Stats.\n"
	"param Device.WiFi.SSID.{i}.Stats.BytesSent unsignedLong ro dyn=counter rate=1 "
	"default=5\n"
	"table Device.WiFi.Radio.{i}. access=read_only count=1\n"
	"param Device.WiFi.Radio.{i}.Channel unsignedInt rw default=6\n";

struct fx {
	struct sim_model *m;
	struct sim_dm dm;
	struct sim_dm_env env;
	struct cwmp_sim_attrs attrs;
	struct cwmp_sim_dmref d;
	struct cwmp_msg resp;
	struct cwmp_sim_action act;
};

static int setup(void **state)
{
	static struct fx f;
	struct uspc_err err = { 0 };
	memset(&f, 0, sizeof(f));
	if (sim_model_parse(model_text, "rpc.model", &f.m, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	f.env.m = f.m;
	f.env.seed = 1;
	f.env.index = 7;
	f.env.eid = "ops::00D09E-SIMGW-SIM000007";
	f.env.agent_topic = f.env.controller_id = f.env.controller_topic = "";
	f.env.boot_time = 1000;
	f.env.now = 1100;
	f.env.value_rate = 1;
	if (sim_dm_init(&f.dm, f.m) < 0 || sim_dm_factory(&f.dm, &f.env) < 0)
		return -1;
	f.d = (struct cwmp_sim_dmref){ .dm = &f.dm, .env = &f.env, .attrs = &f.attrs };
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	cwmp_msg_free(&f->resp);
	cwmp_sim_action_fini(&f->act);
	cwmp_sim_attrs_clear(&f->attrs);
	sim_dm_fini(&f->dm);
	sim_model_free(f->m);
	return 0;
}

static void req_init(struct cwmp_msg *q, enum cwmp_method method)
{
	memset(q, 0, sizeof(*q));
	q->ns = CWMP_NS_1_2;
	q->method = method;
	q->header.id = "req-1";
	q->header.hold_requests = q->header.no_more_requests = q->header.session_timeout = -1;
}

/* Answer q into f->resp (freeing the previous answer). */
static void ask(struct fx *f, const struct cwmp_msg *q)
{
	cwmp_msg_free(&f->resp);
	cwmp_sim_action_fini(&f->act);
	assert_int_equal(cwmp_sim_rpc_answer(&f->d, q, &f->resp, &f->act), 0);
	assert_int_equal(f->resp.ns, CWMP_NS_1_2);
	assert_string_equal(f->resp.header.id, "req-1");
}

static const struct cwmp_param_value *value_of(const struct cwmp_msg *r, const char *name)
{
	for (size_t i = 0; i < r->n_values; i++)
		if (!strcmp(r->values[i].name, name))
			return &r->values[i];
	return NULL;
}

static int info_of(const struct cwmp_msg *r, const char *name)
{
	for (size_t i = 0; i < r->n_infos; i++)
		if (!strcmp(r->infos[i].name, name))
			return r->infos[i].writable;
	return -1;
}

static void gpv(struct fx *f, char **names, size_t n)
{
	struct cwmp_msg q;
	req_init(&q, CWMP_M_GET_PARAMETER_VALUES);
	q.names = names;
	q.n_names = n;
	ask(f, &q);
}

static void test_gpv(void **state)
{
	struct fx *f = *state;
	char *names[] = { "Device.DeviceInfo.SoftwareVersion", "Device.WiFi.SSID.",
			  "Device.ManagementServer.Password" };
	gpv(f, names, 3);
	assert_int_equal(f->resp.method, CWMP_M_GET_PARAMETER_VALUES_RESPONSE);
	const struct cwmp_param_value *v = value_of(&f->resp, "Device.DeviceInfo.SoftwareVersion");
	assert_non_null(v);
	assert_string_equal(v->value, "1.0.0");
	assert_string_equal(v->type, "string");
	v = value_of(&f->resp, "Device.WiFi.SSID.2.SSID");
	assert_non_null(v);
	assert_string_equal(v->value, "net-2");
	v = value_of(&f->resp, "Device.WiFi.SSID.1.Stats.BytesSent");
	assert_non_null(v);
	assert_string_equal(v->type, "unsignedLong");
	assert_string_equal(v->value, "105"); /* 5 + 1/s for 100 s */
	v = value_of(&f->resp, "Device.ManagementServer.Password");
	assert_non_null(v);
	assert_string_equal(v->value, ""); /* write-only: never read back */
	assert_int_equal(f->resp.n_values, 1 + 2 * 3 + 1);
}

static void test_gpv_whole_tree_and_faults(void **state)
{
	struct fx *f = *state;
	char *all[] = { "" };
	gpv(f, all, 1);
	assert_int_equal(f->resp.method, CWMP_M_GET_PARAMETER_VALUES_RESPONSE);
	assert_int_equal(f->resp.n_values, 1 + 3 + 4 + 2 * 3 + 1);
	assert_string_equal(value_of(&f->resp, "Device.DeviceInfo.UpTime")->type, "unsignedInt");
	assert_string_equal(value_of(&f->resp, "Device.DeviceInfo.UpTime")->value, "100");

	char *bad[] = { "Device.DeviceInfo.SoftwareVersion", "Device.WiFi.SSID.9." };
	gpv(f, bad, 2);
	assert_int_equal(f->resp.method, CWMP_M_FAULT);
	assert_int_equal(f->resp.fault.code, 9005);
	assert_string_equal(f->resp.fault.soap_faultcode, "Client");
	char *noobj[] = { "Device.WiFi" }; /* an object without its dot */
	gpv(f, noobj, 1);
	assert_int_equal(f->resp.fault.code, 9005);
	char *notdevice[] = { "InternetGatewayDevice." };
	gpv(f, notdevice, 1);
	assert_int_equal(f->resp.fault.code, 9005);
}

static void gpn(struct fx *f, const char *path, int next_level)
{
	struct cwmp_msg q;
	req_init(&q, CWMP_M_GET_PARAMETER_NAMES);
	q.parameter_path = (char *)path;
	q.next_level = next_level;
	ask(f, &q);
}

static void test_gpn(void **state)
{
	struct fx *f = *state;
	gpn(f, "Device.WiFi.", 1);
	assert_int_equal(f->resp.method, CWMP_M_GET_PARAMETER_NAMES_RESPONSE);
	assert_int_equal(f->resp.n_infos, 2);
	assert_int_equal(info_of(&f->resp, "Device.WiFi.SSID."), 1);  /* AddObject allowed */
	assert_int_equal(info_of(&f->resp, "Device.WiFi.Radio."), 0); /* read-only table */

	gpn(f, "Device.WiFi.SSID.", 1);
	assert_int_equal(f->resp.n_infos, 2);
	assert_int_equal(info_of(&f->resp, "Device.WiFi.SSID.1."), 1); /* deletable */

	gpn(f, "Device.WiFi.SSID.1.", 1);
	assert_int_equal(f->resp.n_infos, 3);
	assert_int_equal(info_of(&f->resp, "Device.WiFi.SSID.1.SSID"), 1);
	assert_int_equal(info_of(&f->resp, "Device.WiFi.SSID.1.Stats."), 0);

	gpn(f, "Device.WiFi.", 0);
	assert_int_equal(info_of(&f->resp, "Device.WiFi."), 0);
	assert_int_equal(info_of(&f->resp, "Device.WiFi.Radio.1.Channel"), 1);
	assert_int_equal(info_of(&f->resp, "Device.WiFi.SSID.2.Stats.BytesSent"), 0);
	assert_int_equal(f->resp.n_infos, 1 + (1 + 2 * (1 + 2 + 1 + 1)) + (1 + 1 + 1));

	gpn(f, "", 1);
	assert_int_equal(f->resp.n_infos, 1);
	assert_string_equal(f->resp.infos[0].name, "Device.");

	gpn(f, "Device.DeviceInfo.SoftwareVersion", 0);
	assert_int_equal(f->resp.n_infos, 1);
	assert_int_equal(f->resp.infos[0].writable, 0);

	gpn(f, "Device.DeviceInfo.SoftwareVersion", 1);
	assert_int_equal(f->resp.method, CWMP_M_FAULT);
	assert_int_equal(f->resp.fault.code, 9003);
	gpn(f, "Device.Nope.", 0);
	assert_int_equal(f->resp.fault.code, 9005);
}

static void spv(struct fx *f, struct cwmp_param_value *v, size_t n, const char *key)
{
	struct cwmp_msg q;
	req_init(&q, CWMP_M_SET_PARAMETER_VALUES);
	q.values = v;
	q.n_values = n;
	q.parameter_key = (char *)key;
	ask(f, &q);
}

static const char *read1(struct fx *f, const char *name)
{
	static char buf[256];
	assert_int_equal(cwmp_sim_rpc_get(&f->d, name, buf, sizeof(buf), NULL), 0);
	return buf;
}

static void test_spv_ok(void **state)
{
	struct fx *f = *state;
	struct cwmp_param_value v[] = {
		{ "Device.WiFi.SSID.1.SSID", "home", "string" },
		{ "Device.ManagementServer.PeriodicInformEnable", "0", "boolean" },
		{ "Device.ManagementServer.PeriodicInformInterval", "60", NULL }, /* no type */
	};
	spv(f, v, 3, "pk-1");
	assert_int_equal(f->resp.method, CWMP_M_SET_PARAMETER_VALUES_RESPONSE);
	assert_int_equal(f->resp.status, 0);
	assert_true(f->act.mgmt_changed);
	assert_string_equal(read1(f, "Device.WiFi.SSID.1.SSID"), "home");
	assert_string_equal(read1(f, "Device.ManagementServer.PeriodicInformEnable"), "false");
	assert_string_equal(read1(f, "Device.ManagementServer.PeriodicInformInterval"), "60");
	assert_string_equal(read1(f, "Device.ManagementServer.ParameterKey"), "pk-1");
}

static unsigned spv_code(const struct cwmp_msg *r, const char *name)
{
	for (size_t i = 0; i < r->fault.n_spv; i++)
		if (!strcmp(r->fault.spv[i].name, name))
			return r->fault.spv[i].code;
	return 0;
}

static void test_spv_faults(void **state)
{
	struct fx *f = *state;
	struct cwmp_param_value v[] = {
		{ "Device.WiFi.SSID.2.SSID", "changed", "string" },              /* fine alone */
		{ "Device.WiFi.SSID.1.Nope", "x", "string" },                    /* 9005 */
		{ "Device.WiFi.Radio.1.Channel", "11", "string" },               /* 9006 */
		{ "Device.WiFi.SSID.1.Mode", "mesh", "string" },                 /* 9007 enum */
		{ "Device.DeviceInfo.ProvisioningCode", "123456789", "string" }, /* 9007 len */
		{ "Device.ManagementServer.PeriodicInformInterval", "-1",
		  "unsignedInt" },                                        /* 9007 */
		{ "Device.DeviceInfo.SoftwareVersion", "2.0", "string" }, /* 9008 */
	};
	spv(f, v, 7, "pk-2");
	assert_int_equal(f->resp.method, CWMP_M_FAULT);
	assert_int_equal(f->resp.fault.code, 9003);
	assert_int_equal(f->resp.fault.n_spv, 6);
	assert_int_equal(spv_code(&f->resp, "Device.WiFi.SSID.1.Nope"), 9005);
	assert_int_equal(spv_code(&f->resp, "Device.WiFi.Radio.1.Channel"), 9006);
	assert_int_equal(spv_code(&f->resp, "Device.WiFi.SSID.1.Mode"), 9007);
	assert_int_equal(spv_code(&f->resp, "Device.DeviceInfo.ProvisioningCode"), 9007);
	assert_int_equal(spv_code(&f->resp, "Device.ManagementServer.PeriodicInformInterval"),
			 9007);
	assert_int_equal(spv_code(&f->resp, "Device.DeviceInfo.SoftwareVersion"), 9008);
	/* nothing applied, the ParameterKey unchanged */
	assert_string_equal(read1(f, "Device.WiFi.SSID.2.SSID"), "net-2");
	assert_string_equal(read1(f, "Device.ManagementServer.ParameterKey"), "");

	struct cwmp_param_value twice[] = { { "Device.WiFi.SSID.1.SSID", "a", "string" },
					    { "Device.WiFi.SSID.1.SSID", "b", "string" } };
	spv(f, twice, 2, "pk-3");
	assert_int_equal(f->resp.fault.code, 9003);
	assert_string_equal(read1(f, "Device.WiFi.SSID.1.SSID"), "net-1");
}

static void spa(struct fx *f, const char *name, int notification)
{
	struct cwmp_msg q;
	struct cwmp_set_attr a = { .name = (char *)name,
				   .notification_change = 1,
				   .notification = notification };
	req_init(&q, CWMP_M_SET_PARAMETER_ATTRIBUTES);
	q.set_attrs = &a;
	q.n_set_attrs = 1;
	ask(f, &q);
}

static void test_attributes(void **state)
{
	struct fx *f = *state;
	spa(f, "Device.WiFi.SSID.1.SSID", 2);
	assert_int_equal(f->resp.method, CWMP_M_SET_PARAMETER_ATTRIBUTES_RESPONSE);
	spa(f, "Device.WiFi.SSID.2.", 1); /* a partial path: every parameter below */
	assert_int_equal(f->resp.method, CWMP_M_SET_PARAMETER_ATTRIBUTES_RESPONSE);
	spa(f, "Device.DeviceInfo.UpTime", 2); /* moves by itself */
	assert_int_equal(f->resp.method, CWMP_M_FAULT);
	assert_int_equal(f->resp.fault.code, 9009);
	spa(f, "Device.WiFi.SSID.1.", 2); /* partial: skips the counter */
	assert_int_equal(f->resp.method, CWMP_M_SET_PARAMETER_ATTRIBUTES_RESPONSE);
	assert_int_equal(cwmp_sim_attrs_get(&f->attrs, "Device.WiFi.SSID.1.Stats.BytesSent"), 0);
	spa(f, "Device.WiFi.SSID.1.Mode", 0); /* off again */

	struct cwmp_msg q;
	char *names[] = { "Device.WiFi.SSID." };
	req_init(&q, CWMP_M_GET_PARAMETER_ATTRIBUTES);
	q.names = names;
	q.n_names = 1;
	ask(f, &q);
	assert_int_equal(f->resp.method, CWMP_M_GET_PARAMETER_ATTRIBUTES_RESPONSE);
	assert_int_equal(f->resp.n_attrs, 6);
	for (size_t i = 0; i < f->resp.n_attrs; i++) {
		const struct cwmp_param_attr *a = &f->resp.attrs[i];
		int want = !strcmp(a->name, "Device.WiFi.SSID.1.SSID")    ? 2
			   : !strcmp(a->name, "Device.WiFi.SSID.1.Mode")  ? 0
			   : !strncmp(a->name, "Device.WiFi.SSID.2.", 19) ? 1
									  : 0;
		assert_int_equal(a->notification, want);
	}
	spa(f, "Device.WiFi.SSID.1.SSID", 7);
	assert_int_equal(f->resp.fault.code, 9003);
}

static void object(struct fx *f, enum cwmp_method m, const char *name, const char *key)
{
	struct cwmp_msg q;
	req_init(&q, m);
	q.object_name = (char *)name;
	q.parameter_key = (char *)key;
	ask(f, &q);
}

static void test_add_delete(void **state)
{
	struct fx *f = *state;
	spa(f, "Device.WiFi.SSID.2.SSID", 2);
	object(f, CWMP_M_ADD_OBJECT, "Device.WiFi.SSID.", "add-1");
	assert_int_equal(f->resp.method, CWMP_M_ADD_OBJECT_RESPONSE);
	assert_int_equal(f->resp.instance_number, 3);
	assert_int_equal(f->resp.status, 0);
	assert_string_equal(read1(f, "Device.WiFi.SSID.3.SSID"), "net-3");
	assert_string_equal(read1(f, "Device.ManagementServer.ParameterKey"), "add-1");
	object(f, CWMP_M_ADD_OBJECT, "Device.WiFi.SSID.", "add-2"); /* max=3 */
	assert_int_equal(f->resp.fault.code, 9004);
	object(f, CWMP_M_ADD_OBJECT, "Device.WiFi.Radio.", "x"); /* read-only table */
	assert_int_equal(f->resp.fault.code, 9005);
	object(f, CWMP_M_ADD_OBJECT, "Device.WiFi.", "x"); /* not a table */
	assert_int_equal(f->resp.fault.code, 9005);

	object(f, CWMP_M_DELETE_OBJECT, "Device.WiFi.SSID.2.", "del-1");
	assert_int_equal(f->resp.method, CWMP_M_DELETE_OBJECT_RESPONSE);
	assert_int_equal(f->resp.status, 0);
	assert_int_equal(cwmp_sim_attrs_get(&f->attrs, "Device.WiFi.SSID.2.SSID"), 0);
	char buf[16];
	assert_int_equal(cwmp_sim_rpc_get(&f->d, "Device.WiFi.SSID.2.SSID", buf, sizeof(buf), NULL),
			 -1);
	object(f, CWMP_M_DELETE_OBJECT, "Device.WiFi.SSID.2.", "del-2");
	assert_int_equal(f->resp.fault.code, 9005);
	object(f, CWMP_M_DELETE_OBJECT, "Device.WiFi.Radio.1.", "del-3");
	assert_int_equal(f->resp.fault.code, 9005);
	assert_string_equal(read1(f, "Device.ManagementServer.ParameterKey"), "del-1");
}

static void test_actions(void **state)
{
	struct fx *f = *state;
	struct cwmp_msg q;
	req_init(&q, CWMP_M_REBOOT);
	q.command_key = "rb-1";
	ask(f, &q);
	assert_int_equal(f->resp.method, CWMP_M_REBOOT_RESPONSE);
	assert_int_equal(f->act.act, CWMP_SIM_ACT_REBOOT);
	assert_string_equal(f->act.key, "rb-1");

	req_init(&q, CWMP_M_FACTORY_RESET);
	ask(f, &q);
	assert_int_equal(f->resp.method, CWMP_M_FACTORY_RESET_RESPONSE);
	assert_int_equal(f->act.act, CWMP_SIM_ACT_FACTORY_RESET);

	req_init(&q, CWMP_M_DOWNLOAD);
	q.download.command_key = "dl-9";
	q.download.file_type = "1 Firmware Upgrade Image";
	q.download.url = "http://fw.example/sim-gw-2.0.0.bin";
	q.download.file_size = 1234;
	q.download.delay_seconds = 5;
	ask(f, &q);
	assert_int_equal(f->resp.method, CWMP_M_DOWNLOAD_RESPONSE);
	assert_int_equal(f->resp.status, 1);
	assert_string_equal(f->resp.start_time, "0001-01-01T00:00:00Z");
	assert_int_equal(f->act.act, CWMP_SIM_ACT_DOWNLOAD);
	assert_string_equal(f->act.dl.command_key, "dl-9");
	assert_string_equal(f->act.dl.url, "http://fw.example/sim-gw-2.0.0.bin");
	assert_string_equal(f->act.dl.username, "");
	assert_int_equal(f->act.dl.file_size, 1234);
	assert_int_equal(f->act.dl.delay_seconds, 5);

	q.download.url = "tftp://fw.example/x.bin";
	ask(f, &q);
	assert_int_equal(f->resp.fault.code, 9013);
	assert_int_equal(f->act.act, CWMP_SIM_ACT_NONE);

	req_init(&q, CWMP_M_GET_RPC_METHODS);
	ask(f, &q);
	assert_int_equal(f->resp.method, CWMP_M_GET_RPC_METHODS_RESPONSE);
	assert_int_equal(f->resp.n_methods, 11);

	req_init(&q, CWMP_M_UNKNOWN);
	q.unknown_name = "ScheduleInform";
	ask(f, &q);
	assert_int_equal(f->resp.method, CWMP_M_FAULT);
	assert_int_equal(f->resp.fault.code, 9000);
	assert_non_null(strstr(f->resp.fault.string, "ScheduleInform"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_gpv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpv_whole_tree_and_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spv_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spv_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attributes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_actions, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
