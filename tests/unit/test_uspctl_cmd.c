/* test_uspctl_cmd.c — the uspctl input-line contract: every op parses into
 * the right USP request shape, and every kind of bad line gets its own
 * error code with the id preserved. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fleet_spec.h"
#include "uspctl_cmd.h"

static int parse(const char *line, struct uspctl_cmd *c, struct uspc_err *err)
{
	return uspctl_cmd_parse(line, strlen(line), c, err);
}

static char *args_text(const struct uspctl_cmd *c)
{
	return cJSON_PrintUnformatted(c->usp_args);
}

static void expect_args(const char *line, const char *usp_type, const char *want)
{
	struct uspctl_cmd c;
	struct uspc_err err;
	int rc = parse(line, &c, &err);
	if (rc != 0)
		print_error("parse failed: %s\n", err.msg);
	assert_int_equal(rc, 0);
	assert_string_equal(c.usp_type, usp_type);
	char *got = args_text(&c);
	assert_string_equal(got, want);
	cJSON_free(got);
	uspctl_cmd_fini(&c);
}

static void expect_error(const char *line, int code, const char *id)
{
	struct uspctl_cmd c;
	struct uspc_err err;
	int rc = parse(line, &c, &err);
	if (rc != code)
		print_error("line %s: got %d (%s)\n", line, rc, err.msg);
	assert_int_equal(rc, code);
	assert_true(err.msg[0] != '\0');
	assert_string_equal(c.id, id);
	uspctl_cmd_fini(&c);
}

static void test_get(void **state)
{
	expect_args(
		"{\"id\":\"a\",\"op\":\"get\",\"targets\":\"os::X\",\"paths\":[\"Device.DeviceInfo.\"],\"max_depth\":2}",
		"get", "{\"max_depth\":2,\"param_paths\":[\"Device.DeviceInfo.\"]}");
	/* a single path string is accepted */
	expect_args("{\"id\":1,\"op\":\"get\",\"targets\":\"os::X\",\"paths\":\"Device.Time.\"}",
		    "get", "{\"param_paths\":[\"Device.Time.\"]}");
	/* TR-098's root, for TR-069 devices of that data model; checked as Device. */
	expect_args("{\"id\":2,\"op\":\"get\",\"targets\":\"ops::X\",\"paths\":"
		    "\"InternetGatewayDevice.DeviceInfo.SoftwareVersion\"}",
		    "get",
		    "{\"param_paths\":[\"InternetGatewayDevice.DeviceInfo.SoftwareVersion\"]}");
	expect_args("{\"id\":3,\"op\":\"set\",\"targets\":\"ops::X\",\"params\":"
		    "{\"InternetGatewayDevice.ManagementServer.PeriodicInformInterval\":\"300\"}}",
		    "set",
		    "{\"update_objs\":[{\"obj_path\":\"InternetGatewayDevice.ManagementServer.\","
		    "\"param_settings\":[{\"param\":\"PeriodicInformInterval\",\"value\":\"300\","
		    "\"required\":true}]}]}");
	expect_error("{\"id\":\"t\",\"op\":\"get\",\"targets\":\"x\",\"paths\":"
		     "[\"InternetGatewayDevice..X\"]}",
		     USPCTL_E_INVALID_PATH, "t");
	expect_error("{\"id\":\"u\",\"op\":\"get\",\"targets\":\"x\",\"paths\":"
		     "[\"InternetGatewayDeviceX.Y\"]}",
		     USPCTL_E_INVALID_PATH, "u");
}

static void test_set_groups_by_object(void **state)
{
	expect_args("{\"id\":\"s\",\"op\":\"set\",\"targets\":[\"a\",\"b\"],\"params\":{"
		    "\"Device.WiFi.SSID.1.SSID\":\"home\",\"Device.WiFi.SSID.1.Enable\":true,"
		    "\"Device.Time.NTPServer1\":\"ntp\"}}",
		    "set",
		    "{\"update_objs\":[{\"obj_path\":\"Device.WiFi.SSID.1.\",\"param_settings\":["
		    "{\"param\":\"SSID\",\"value\":\"home\",\"required\":true},"
		    "{\"param\":\"Enable\",\"value\":\"true\",\"required\":true}]},"
		    "{\"obj_path\":\"Device.Time.\",\"param_settings\":[{\"param\":\"NTPServer1\","
		    "\"value\":\"ntp\",\"required\":true}]}]}");
}

static void test_add_delete_operate(void **state)
{
	expect_args(
		"{\"id\":\"x\",\"op\":\"add\",\"targets\":\"e\",\"path\":\"Device.IP.Interface.\","
		"\"params\":{\"Alias\":\"wan2\"},\"required\":false,\"allow_partial\":true}",
		"add",
		"{\"allow_partial\":true,\"create_objs\":[{\"obj_path\":\"Device.IP.Interface.\","
		"\"param_settings\":[{\"param\":\"Alias\",\"value\":\"wan2\"}]}]}");
	expect_args(
		"{\"id\":\"d\",\"op\":\"delete\",\"targets\":\"e\",\"paths\":[\"Device.Hosts.Host.3.\"]}",
		"delete", "{\"obj_paths\":[\"Device.Hosts.Host.3.\"]}");
	expect_args(
		"{\"id\":\"o\",\"op\":\"operate\",\"targets\":\"e\",\"command\":\"Device.IP.Diagnostics.IPPing()\","
		"\"command_key\":\"k1\",\"args\":{\"Host\":\"10.0.0.1\",\"NumberOfRepetitions\":3}}",
		"operate",
		"{\"command\":\"Device.IP.Diagnostics.IPPing()\",\"command_key\":\"k1\",\"send_resp\":true,"
		"\"input_args\":{\"Host\":\"10.0.0.1\",\"NumberOfRepetitions\":\"3\"}}");
}

static void test_discovery_ops(void **state)
{
	expect_args(
		"{\"id\":\"g\",\"op\":\"get_supported_dm\",\"targets\":\"e\",\"paths\":[\"Device.WiFi.SSID.{i}.\"],"
		"\"return_params\":true}",
		"get_supported_dm",
		"{\"return_params\":true,\"obj_paths\":[\"Device.WiFi.SSID.{i}.\"]}");
	expect_args(
		"{\"id\":\"i\",\"op\":\"get_instances\",\"targets\":\"e\",\"paths\":[\"Device.WiFi.\"],"
		"\"first_level_only\":false}",
		"get_instances", "{\"first_level_only\":false,\"obj_paths\":[\"Device.WiFi.\"]}");
	expect_args("{\"id\":\"p\",\"op\":\"get_supported_protocol\",\"targets\":\"e\"}",
		    "get_supported_protocol",
		    "{\"controller_supported_protocol_versions\":\"1.0,1.1,1.2,1.3,1.4\"}");
}

/* TR-069 notification attributes (uspc-acs: Set/GetParameterAttributes). */
static void test_attributes(void **state)
{
	(void)state;
	expect_args("{\"id\":\"a\",\"op\":\"set_attributes\",\"targets\":\"ops::X\","
		    "\"attributes\":[{\"path\":\"Device.WiFi.SSID.1.SSID\",\"notification\":2},"
		    "{\"path\":\"Device.DeviceInfo.\",\"notification\":0,\"access_list\":"
		    "[\"Subscriber\"]}]}",
		    "set_attributes",
		    "{\"attributes\":[{\"path\":\"Device.WiFi.SSID.1.SSID\",\"notification\":2},"
		    "{\"path\":\"Device.DeviceInfo.\",\"notification\":0,\"access_list\":"
		    "[\"Subscriber\"]}]}");
	expect_args("{\"id\":\"b\",\"op\":\"get_attributes\",\"targets\":\"ops::X\","
		    "\"paths\":\"Device.WiFi.SSID.1.SSID\"}",
		    "get_attributes", "{\"param_paths\":[\"Device.WiFi.SSID.1.SSID\"]}");
	expect_error("{\"id\":\"c\",\"op\":\"set_attributes\",\"targets\":\"x\","
		     "\"attributes\":[{\"path\":\"Device.X\",\"notification\":7}]}",
		     USPCTL_E_BAD_FIELD, "c");
	expect_error("{\"id\":\"d\",\"op\":\"set_attributes\",\"targets\":\"x\","
		     "\"attributes\":[{\"path\":\"Device.X\",\"notification\":1.5}]}",
		     USPCTL_E_BAD_FIELD, "d");
	expect_error("{\"id\":\"e\",\"op\":\"set_attributes\",\"targets\":\"x\","
		     "\"attributes\":[]}",
		     USPCTL_E_BAD_FIELD, "e");
	expect_error("{\"id\":\"f\",\"op\":\"set_attributes\",\"targets\":\"x\","
		     "\"attributes\":[{\"path\":\"Device..X\",\"notification\":1}]}",
		     USPCTL_E_INVALID_PATH, "f");
	expect_error("{\"id\":\"g\",\"op\":\"set_attributes\",\"targets\":\"x\","
		     "\"attributes\":[{\"path\":\"Device.X\",\"notification\":1,\"colour\":1}]}",
		     USPCTL_E_BAD_FIELD, "g");
	expect_error("{\"id\":\"h\",\"op\":\"set_attributes\",\"targets\":\"x\","
		     "\"attributes\":[{\"path\":\"Device.X\",\"notification\":1,"
		     "\"access_list\":[\"\"]}]}",
		     USPCTL_E_BAD_FIELD, "h");
}

static void test_subscribe(void **state)
{
	expect_args(
		"{\"id\":\"s\",\"op\":\"unsubscribe\",\"targets\":\"e\",\"subscription_id\":\"vc-1\"}",
		"delete",
		"{\"allow_partial\":true,\"obj_paths\":[\"Device.LocalAgent.Subscription.[ID==\\\"vc-1\\\"].\"]}");
	struct uspctl_cmd c;
	struct uspc_err err;
	assert_int_equal(parse("{\"id\":\"s\",\"op\":\"subscribe\",\"targets\":{\"tag\":\"beta\"},"
			       "\"subscription_id\":\"vc-1\",\"notif_type\":\"ValueChange\","
			       "\"reference_list\":[\"Device.WiFi.SSID.1.SSID\",\"Device.Time.\"]}",
			       &c, &err),
			 0);
	assert_string_equal(c.usp_type, "add");
	assert_string_equal(c.targets.tag, "beta");
	char *got = args_text(&c);
	assert_non_null(strstr(
		got, "\"ReferenceList\",\"value\":\"Device.WiFi.SSID.1.SSID,Device.Time.\""));
	assert_non_null(strstr(got, "\"NotifType\",\"value\":\"ValueChange\""));
	cJSON_free(got);
	uspctl_cmd_fini(&c);
}

static void test_selectors_and_fleet_ops(void **state)
{
	struct uspctl_cmd c;
	struct uspc_err err;
	assert_int_equal(
		parse("{\"id\":\"l\",\"op\":\"list_agents\",\"targets\":{\"model\":\"HGW\",\"online\":true,"
		      "\"eid\":\"os::*\",\"software_version\":\"1.0\",\"manufacturer\":\"M\"}}",
		      &c, &err),
		0);
	assert_int_equal(c.op, USPCTL_OP_LIST_AGENTS);
	assert_string_equal(c.targets.model, "HGW");
	assert_string_equal(c.targets.eid_glob, "os::*");
	assert_int_equal(c.targets.online, 1);
	assert_null(c.usp_args);
	uspctl_cmd_fini(&c);
	assert_int_equal(
		parse("{\"id\":\"t\",\"op\":\"tag\",\"targets\":{\"all\":true},\"tags\":[\"beta\",\"eu\"]}",
		      &c, &err),
		0);
	assert_int_equal(c.targets.all, 1);
	assert_int_equal(c.n_strings, 2);
	assert_string_equal(c.strings[1], "eu");
	uspctl_cmd_fini(&c);
	assert_int_equal(
		parse("{\"id\":\"q\",\"op\":\"task_status\",\"tasks\":[12,\"13\"],\"wait\":false}",
		      &c, &err),
		0);
	assert_int_equal(c.n_strings, 2);
	assert_string_equal(c.strings[0], "12");
	assert_int_equal(c.wait, 0);
	uspctl_cmd_fini(&c);
}

static void test_errors(void **state)
{
	expect_error("{\"id\":\"a\",", USPCTL_E_MALFORMED_JSON, "");
	expect_error("[1,2]", USPCTL_E_MALFORMED_JSON, "");
	expect_error("{\"id\":\"a\"} trailing", USPCTL_E_MALFORMED_JSON, "");
	expect_error("{\"id\":\"a\",\"op\":\"reboot_all\"}", USPCTL_E_UNKNOWN_OP, "a");
	expect_error("{\"id\":\"b\",\"op\":\"get\",\"targets\":\"e\",\"paths\":[\"Device..X\"]}",
		     USPCTL_E_INVALID_PATH, "b");
	expect_error("{\"id\":\"c\",\"op\":\"get\",\"paths\":[\"Device.X\"]}", USPCTL_E_BAD_TARGETS,
		     "c");
	expect_error("{\"id\":\"d\",\"op\":\"get\",\"targets\":{},\"paths\":[\"Device.X\"]}",
		     USPCTL_E_BAD_TARGETS, "d");
	expect_error(
		"{\"id\":\"e\",\"op\":\"get\",\"targets\":{\"colour\":\"red\"},\"paths\":[\"Device.X\"]}",
		USPCTL_E_BAD_TARGETS, "e");
	expect_error(
		"{\"id\":\"f\",\"op\":\"get\",\"targets\":\"x\",\"paths\":[\"Device.X\"],\"bogus\":1}",
		USPCTL_E_BAD_FIELD, "f");
	expect_error(
		"{\"id\":\"g\",\"op\":\"set\",\"targets\":\"x\",\"params\":{\"Device.WiFi.\":\"v\"}}",
		USPCTL_E_INVALID_PATH, "g");
	expect_error(
		"{\"id\":\"h\",\"op\":\"operate\",\"targets\":\"x\",\"command\":\"Device.Reboot\"}",
		USPCTL_E_INVALID_PATH, "h");
	expect_error(
		"{\"id\":\"i\",\"op\":\"get\",\"targets\":\"x\",\"paths\":[\"Device.X\"],\"timeout\":-1}",
		USPCTL_E_BAD_FIELD, "i");
	expect_error("{\"op\":\"get\"}", USPCTL_E_BAD_FIELD, "");
	expect_error("{\"id\":\"j\",\"op\":\"task_status\",\"targets\":\"x\",\"tasks\":[1]}",
		     USPCTL_E_BAD_FIELD, "j");
	expect_error(
		"{\"id\":\"k\",\"op\":\"subscribe\",\"targets\":\"x\",\"subscription_id\":\"s\","
		"\"notif_type\":\"Sometimes\",\"reference_list\":\"Device.\"}",
		USPCTL_E_BAD_FIELD, "k");
	struct uspctl_cmd c;
	struct uspc_err err;
	static char big[USPCTL_LINE_MAX + 2];
	memset(big, ' ', sizeof(big));
	assert_int_equal(uspctl_cmd_parse(big, sizeof(big), &c, &err), USPCTL_E_LINE_TOO_LONG);
	uspctl_cmd_fini(&c);
}

/* Per-command fan-out cap (added for uspctl's engine). */
static void test_max_inflight(void **state)
{
	struct uspctl_cmd c;
	struct uspc_err err;
	assert_int_equal(parse("{\"id\":\"m\",\"op\":\"get\",\"targets\":{\"all\":true},"
			       "\"paths\":\"Device.\",\"max_inflight\":50}",
			       &c, &err),
			 0);
	assert_int_equal(c.max_inflight, 50);
	uspctl_cmd_fini(&c);
	assert_int_equal(
		parse("{\"id\":\"m\",\"op\":\"get\",\"targets\":\"x\",\"paths\":\"Device.\"}", &c,
		      &err),
		0);
	assert_int_equal(c.max_inflight, -1);
	uspctl_cmd_fini(&c);
	expect_error(
		"{\"id\":\"n\",\"op\":\"get\",\"targets\":\"x\",\"paths\":\"Device.\",\"max_inflight\":0}",
		USPCTL_E_BAD_FIELD, "n");
	expect_error(
		"{\"id\":\"o\",\"op\":\"get\",\"targets\":\"x\",\"paths\":\"Device.\",\"max_inflight\":2.5}",
		USPCTL_E_BAD_FIELD, "o");
}

/* Campaign ops: the definition at the top level of create/plan (parsed by
 * fleet_spec), "campaign" as an id or a name, "id" optional, no common
 * options. */
static void test_campaign_ops(void **state)
{
	struct uspctl_cmd c;
	struct uspc_err err;
	assert_int_equal(
		parse("{\"id\":\"c\",\"op\":\"campaign_create\",\"name\":\"gw-2.0\","
		      "\"targets\":{\"model\":\"SIM-GW-1000\"},\"firmware\":{\"url\":"
		      "\"http://fw.example.net/sim-gw-2.0.0.bin\",\"version\":\"2.0.0\"},"
		      "\"waves\":[{\"percent\":10},{\"percent\":100}],"
		      "\"failure_threshold\":{\"percent\":10,\"min_sample\":20},\"max_inflight\":7}",
		      &c, &err),
		0);
	assert_int_equal(c.op, USPCTL_OP_CAMPAIGN_CREATE);
	assert_true(uspctl_op_is_campaign(c.op));
	assert_false(uspctl_op_is_usp(c.op));
	assert_non_null(c.spec);
	assert_string_equal(c.spec->name, "gw-2.0");
	assert_int_equal(c.spec->n_waves, 2);
	assert_int_equal(c.spec->max_inflight, 7); /* the campaign's, not uspctl's */
	assert_int_equal(c.max_inflight, -1);
	assert_string_equal(c.targets.model, "SIM-GW-1000");
	uspctl_cmd_fini(&c);

	assert_int_equal(parse("{\"op\":\"campaign_plan\",\"name\":\"p\",\"targets\":[\"os::A\"],"
			       "\"firmware\":{\"url\":\"http://h/x\",\"version\":\"2\"}}",
			       &c, &err),
			 0);
	assert_string_equal(c.id, "");
	assert_int_equal(c.targets.n_eids, 1);
	uspctl_cmd_fini(&c);

	assert_int_equal(parse("{\"op\":\"campaign_status\",\"campaign\":7}", &c, &err), 0);
	assert_int_equal(c.campaign_id, 7);
	assert_null(c.campaign_name);
	uspctl_cmd_fini(&c);
	assert_int_equal(
		parse("{\"id\":1,\"op\":\"campaign_pause\",\"campaign\":\"gw-2.0\"}", &c, &err), 0);
	assert_int_equal(c.campaign_id, 0);
	assert_string_equal(c.campaign_name, "gw-2.0");
	uspctl_cmd_fini(&c);
	assert_int_equal(parse("{\"id\":\"d\",\"op\":\"campaign_devices\",\"campaign\":3,"
			       "\"state\":\"failed\",\"reason\":\"download_failed\",\"wave\":2,"
			       "\"limit\":50}",
			       &c, &err),
			 0);
	assert_string_equal(c.dev_state, "failed");
	assert_string_equal(c.dev_reason, "download_failed");
	assert_int_equal(c.dev_wave, 2);
	assert_int_equal(c.dev_limit, 50);
	uspctl_cmd_fini(&c);
	assert_int_equal(parse("{\"op\":\"campaign_list\"}", &c, &err), 0);
	uspctl_cmd_fini(&c);
	assert_int_equal(
		parse("{\"op\":\"fleet_versions\",\"targets\":{\"online\":true}}", &c, &err), 0);
	assert_int_equal(c.targets.online, 1);
	uspctl_cmd_fini(&c);
	const char *const ops[] = { "campaign_resume", "campaign_abort", "campaign_retry_failed" };
	for (size_t i = 0; i < 3; i++) {
		char line[128];
		snprintf(line, sizeof(line), "{\"op\":\"%s\",\"campaign\":12}", ops[i]);
		assert_int_equal(parse(line, &c, &err), 0);
		assert_int_equal(c.campaign_id, 12);
		uspctl_cmd_fini(&c);
	}

#define CR \
	"{\"id\":\"x\",\"op\":\"campaign_create\",\"name\":\"n\",\"firmware\":{\"url\":\"http://h/x\",\"version\":\"2\"}"
	expect_error(CR "}", USPCTL_E_BAD_TARGETS, "x");
	expect_error(CR ",\"targets\":{\"all\":true},\"wait\":false}", USPCTL_E_BAD_FIELD, "x");
	expect_error(CR ",\"targets\":{\"all\":true},\"colour\":1}", USPCTL_E_BAD_FIELD, "x");
	expect_error(CR ",\"targets\":{\"online\":true}}", USPCTL_E_BAD_TARGETS, "x");
	expect_error(CR ",\"targets\":{\"all\":true},\"waves\":[{\"percent\":-5}]}",
		     USPCTL_E_BAD_FIELD, "x");
	expect_error("{\"id\":\"y\",\"op\":\"campaign_create\",\"name\":\"n\",\"targets\":\"e\"}",
		     USPCTL_E_BAD_FIELD, "y");
	expect_error("{\"op\":\"campaign_status\"}", USPCTL_E_BAD_FIELD, "");
	expect_error("{\"op\":\"campaign_status\",\"campaign\":0}", USPCTL_E_BAD_FIELD, "");
	expect_error("{\"op\":\"campaign_status\",\"campaign\":-3}", USPCTL_E_BAD_FIELD, "");
	expect_error("{\"op\":\"campaign_status\",\"campaign\":1.5}", USPCTL_E_BAD_FIELD, "");
	expect_error("{\"op\":\"campaign_status\",\"campaign\":\"\"}", USPCTL_E_BAD_FIELD, "");
	expect_error("{\"op\":\"campaign_status\",\"campaign\":[7]}", USPCTL_E_BAD_FIELD, "");
	expect_error("{\"op\":\"campaign_status\",\"campaign\":\"gw\xff\"}", USPCTL_E_BAD_FIELD,
		     "");
	expect_error("{\"id\":\"t\",\"op\":\"campaign_status\",\"campaign\":7,\"targets\":\"e\"}",
		     USPCTL_E_BAD_FIELD, "t");
	expect_error("{\"id\":\"t\",\"op\":\"campaign_abort\",\"campaign\":7,\"timeout\":5}",
		     USPCTL_E_BAD_FIELD, "t");
	expect_error("{\"id\":\"l\",\"op\":\"campaign_list\",\"campaign\":7}", USPCTL_E_BAD_FIELD,
		     "l");
	expect_error("{\"id\":\"s\",\"op\":\"campaign_devices\",\"campaign\":7,\"state\":\"done\"}",
		     USPCTL_E_BAD_FIELD, "s");
	expect_error("{\"id\":\"s\",\"op\":\"campaign_devices\",\"campaign\":7,\"wave\":0}",
		     USPCTL_E_BAD_FIELD, "s");
	expect_error("{\"id\":\"s\",\"op\":\"campaign_devices\",\"campaign\":7,\"limit\":100001}",
		     USPCTL_E_BAD_FIELD, "s");
	expect_error("{\"id\":\"s\",\"op\":\"campaign_devices\",\"campaign\":7,\"reason\":\"\"}",
		     USPCTL_E_BAD_FIELD, "s");
	expect_error("{\"id\":\"v\",\"op\":\"fleet_versions\",\"targets\":{}}",
		     USPCTL_E_BAD_TARGETS, "v");
	/* a bad "id" is still an error, and "id" stays required elsewhere */
	expect_error("{\"id\":\"\",\"op\":\"campaign_list\"}", USPCTL_E_BAD_FIELD, "");
	expect_error("{\"op\":\"list_agents\"}", USPCTL_E_BAD_FIELD, "");
}

static void test_rejections(void **state)
{
	(void)state;
	struct uspctl_cmd c;
	struct uspc_err err;
	const char *line = "{\"id\":\"r\",\"op\":\"rejections\",\"sender\":\"os::00D09E-*\","
			   "\"reason\":\"identity_mismatch\",\"since\":3600,\"limit\":5}";
	assert_int_equal(parse(line, &c, &err), 0);
	assert_int_equal(c.op, USPCTL_OP_REJECTIONS);
	assert_false(uspctl_op_is_usp(c.op));
	assert_false(uspctl_op_is_campaign(c.op));
	assert_false(uspctl_op_is_profile(c.op));
	assert_string_equal(c.rej_sender, "os::00D09E-*");
	assert_string_equal(c.rej_reason, "identity_mismatch");
	assert_true(c.since_s == 3600.0);
	assert_int_equal(c.limit, 5);
	uspctl_cmd_fini(&c);
	assert_int_equal(parse("{\"id\":\"r\",\"op\":\"rejections\"}", &c, &err), 0);
	assert_null(c.rej_sender);
	assert_null(c.rej_reason);
	assert_int_equal(c.limit, 0);
	uspctl_cmd_fini(&c);
	expect_error("{\"id\":\"x\",\"op\":\"rejections\",\"color\":1}", USPCTL_E_BAD_FIELD, "x");
	expect_error("{\"id\":\"x\",\"op\":\"rejections\",\"limit\":0}", USPCTL_E_BAD_FIELD, "x");
	expect_error("{\"id\":\"x\",\"op\":\"rejections\",\"limit\":10001}", USPCTL_E_BAD_FIELD,
		     "x");
	expect_error("{\"id\":\"x\",\"op\":\"rejections\",\"limit\":1.5}", USPCTL_E_BAD_FIELD, "x");
	expect_error("{\"id\":\"x\",\"op\":\"rejections\",\"since\":0}", USPCTL_E_BAD_FIELD, "x");
	expect_error("{\"id\":\"x\",\"op\":\"rejections\",\"sender\":\"\"}", USPCTL_E_BAD_FIELD,
		     "x");
	expect_error("{\"id\":\"x\",\"op\":\"rejections\",\"sender\":7}", USPCTL_E_BAD_FIELD, "x");
	expect_error("{\"id\":\"x\",\"op\":\"rejections\",\"reason\":\"Bad Reason\"}",
		     USPCTL_E_BAD_FIELD, "x");
	expect_error("{\"id\":\"x\",\"op\":\"rejections\",\"targets\":\"os::X\"}",
		     USPCTL_E_BAD_FIELD, "x");
}

static void test_reads(void **state)
{
	(void)state;
	struct uspctl_cmd c;
	struct uspc_err err;
	/* list_agents: a page */
	assert_int_equal(parse("{\"id\":\"p\",\"op\":\"list_agents\",\"limit\":500,"
			       "\"after\":\"os::00D09E-SIM000100\"}",
			       &c, &err),
			 0);
	assert_int_equal(c.limit, 500);
	assert_string_equal(c.after, "os::00D09E-SIM000100");
	uspctl_cmd_fini(&c);
	expect_error("{\"id\":\"p\",\"op\":\"list_agents\",\"limit\":0}", USPCTL_E_BAD_FIELD, "p");
	expect_error("{\"id\":\"p\",\"op\":\"list_agents\",\"limit\":10001}", USPCTL_E_BAD_FIELD,
		     "p");
	expect_error("{\"id\":\"p\",\"op\":\"list_agents\",\"after\":\"\"}", USPCTL_E_BAD_FIELD,
		     "p");
	expect_error("{\"id\":\"p\",\"op\":\"list_agents\",\"after\":\"a b\"}", USPCTL_E_BAD_FIELD,
		     "p");
	expect_error("{\"id\":\"p\",\"op\":\"list_agents\",\"after\":\"os::\xff\"}",
		     USPCTL_E_BAD_FIELD, "p");
	expect_error("{\"id\":\"p\",\"op\":\"list_agents\",\"after\":3}", USPCTL_E_BAD_FIELD, "p");
	expect_error("{\"id\":\"p\",\"op\":\"list_agents\",\"before\":3}", USPCTL_E_BAD_FIELD, "p");

	/* notifications: every filter */
	assert_int_equal(parse("{\"id\":\"n\",\"op\":\"notifications\",\"targets\":\"os::X\","
			       "\"kind\":\"value_change\",\"path\":\"Device.WiFi.\",\"since\":3600,"
			       "\"until\":60,\"before\":1234,\"limit\":50}",
			       &c, &err),
			 0);
	assert_int_equal(c.op, USPCTL_OP_NOTIFICATIONS);
	assert_false(uspctl_op_is_usp(c.op) || uspctl_op_is_campaign(c.op) ||
		     uspctl_op_is_profile(c.op) || uspctl_op_is_token(c.op));
	assert_int_equal(c.targets.n_eids, 1);
	assert_string_equal(c.kind, "value_change");
	assert_string_equal(c.path_prefix, "Device.WiFi.");
	assert_true(c.since_s == 3600.0 && c.until_s == 60.0);
	assert_int_equal(c.before, 1234);
	assert_int_equal(c.limit, 50);
	uspctl_cmd_fini(&c);
	assert_int_equal(parse("{\"id\":\"n\",\"op\":\"notifications\"}", &c, &err), 0);
	assert_false(c.targets.given);
	assert_null(c.kind);
	assert_int_equal(c.limit, 0);
	assert_int_equal(c.after_id, -1); /* not given */
	uspctl_cmd_fini(&c);
	/* after: following a stream from an id, 0 from the first */
	assert_int_equal(parse("{\"id\":\"n\",\"op\":\"notifications\",\"after\":0,\"limit\":1000}",
			       &c, &err),
			 0);
	assert_int_equal(c.after_id, 0);
	uspctl_cmd_fini(&c);
	expect_error("{\"id\":\"n\",\"op\":\"notifications\",\"after\":-1}", USPCTL_E_BAD_FIELD,
		     "n");
	expect_error("{\"id\":\"n\",\"op\":\"notifications\",\"after\":\"7\"}", USPCTL_E_BAD_FIELD,
		     "n");
	expect_error("{\"id\":\"n\",\"op\":\"notifications\",\"kind\":\"boot\"}",
		     USPCTL_E_BAD_FIELD, "n");
	expect_error("{\"id\":\"n\",\"op\":\"notifications\",\"path\":\"\"}", USPCTL_E_BAD_FIELD,
		     "n");
	expect_error("{\"id\":\"n\",\"op\":\"notifications\",\"path\":\"Device.\xc3\"}",
		     USPCTL_E_BAD_FIELD, "n");
	expect_error("{\"id\":\"n\",\"op\":\"notifications\",\"since\":0}", USPCTL_E_BAD_FIELD,
		     "n");
	expect_error("{\"id\":\"n\",\"op\":\"notifications\",\"since\":60,\"until\":60}",
		     USPCTL_E_BAD_FIELD, "n");
	expect_error("{\"id\":\"n\",\"op\":\"notifications\",\"before\":0}", USPCTL_E_BAD_FIELD,
		     "n");
	expect_error("{\"id\":\"n\",\"op\":\"notifications\",\"before\":1.5}", USPCTL_E_BAD_FIELD,
		     "n");
	expect_error("{\"id\":\"n\",\"op\":\"notifications\",\"limit\":10001}", USPCTL_E_BAD_FIELD,
		     "n");
	expect_error("{\"id\":\"n\",\"op\":\"notifications\",\"targets\":{}}", USPCTL_E_BAD_TARGETS,
		     "n");
	expect_error("{\"id\":\"n\",\"op\":\"notifications\",\"paths\":\"Device.\"}",
		     USPCTL_E_BAD_FIELD, "n");

	/* task_list */
	assert_int_equal(
		parse("{\"id\":\"t\",\"op\":\"task_list\",\"targets\":{\"tag\":\"beta\"},"
		      "\"state\":\"failed\",\"task_op\":\"get_instances\",\"batch\":\"b-1\","
		      "\"before\":99,\"limit\":10000}",
		      &c, &err),
		0);
	assert_string_equal(c.targets.tag, "beta");
	assert_string_equal(c.task_state, "failed");
	assert_string_equal(c.task_op, "get_instances");
	assert_string_equal(c.batch, "b-1");
	assert_int_equal(c.before, 99);
	assert_int_equal(c.limit, 10000);
	uspctl_cmd_fini(&c);
	expect_error("{\"id\":\"t\",\"op\":\"task_list\",\"state\":\"parked\"}", USPCTL_E_BAD_FIELD,
		     "t");
	/* subscribe is stored as an add: task_op names the USP request type */
	expect_error("{\"id\":\"t\",\"op\":\"task_list\",\"task_op\":\"subscribe\"}",
		     USPCTL_E_BAD_FIELD, "t");
	expect_error("{\"id\":\"t\",\"op\":\"task_list\",\"batch\":\"\"}", USPCTL_E_BAD_FIELD, "t");
	expect_error("{\"id\":\"t\",\"op\":\"task_list\",\"limit\":-1}", USPCTL_E_BAD_FIELD, "t");
	expect_error("{\"id\":\"t\",\"op\":\"task_list\",\"tasks\":[1]}", USPCTL_E_BAD_FIELD, "t");

	/* operation_results: an empty command_key is one ("" is what an
	 * agent's OperationComplete without a key is stored with) */
	assert_int_equal(parse("{\"id\":\"o\",\"op\":\"operation_results\",\"command_key\":\"\","
			       "\"limit\":1}",
			       &c, &err),
			 0);
	assert_string_equal(c.command_key, "");
	uspctl_cmd_fini(&c);
	expect_error("{\"id\":\"o\",\"op\":\"operation_results\",\"command_key\":7}",
		     USPCTL_E_BAD_FIELD, "o");
	expect_error("{\"id\":\"o\",\"op\":\"operation_results\",\"limit\":0}", USPCTL_E_BAD_FIELD,
		     "o");

	/* tag_list, fleet_summary: no fields, no targets */
	assert_int_equal(parse("{\"id\":\"g\",\"op\":\"tag_list\"}", &c, &err), 0);
	uspctl_cmd_fini(&c);
	assert_int_equal(parse("{\"id\":\"s\",\"op\":\"fleet_summary\"}", &c, &err), 0);
	uspctl_cmd_fini(&c);
	expect_error("{\"id\":\"g\",\"op\":\"tag_list\",\"targets\":\"os::X\"}", USPCTL_E_BAD_FIELD,
		     "g");
	expect_error("{\"id\":\"s\",\"op\":\"fleet_summary\",\"limit\":5}", USPCTL_E_BAD_FIELD,
		     "s");
	/* the reads keep a required id */
	expect_error("{\"op\":\"fleet_summary\"}", USPCTL_E_BAD_FIELD, "");
}

static void test_tokens(void **state)
{
	(void)state;
	struct uspctl_cmd c;
	struct uspc_err err;
	/* id is optional, as for the campaign and profile ops */
	assert_int_equal(parse("{\"op\":\"token_create\",\"name\":\"console-1.0_x\","
			       "\"role\":\"operator\",\"expires\":86400}",
			       &c, &err),
			 0);
	assert_true(uspctl_op_is_token(c.op));
	assert_string_equal(c.id, "");
	assert_string_equal(c.token_name, "console-1.0_x");
	assert_string_equal(c.token_role, "operator");
	assert_int_equal(c.token_expires_s, 86400);
	uspctl_cmd_fini(&c);
	assert_int_equal(parse("{\"id\":7,\"op\":\"token_list\"}", &c, &err), 0);
	assert_int_equal(c.op, USPCTL_OP_TOKEN_LIST);
	uspctl_cmd_fini(&c);
	assert_int_equal(parse("{\"op\":\"token_revoke\",\"token_id\":12}", &c, &err), 0);
	assert_int_equal(c.token_id, 12);
	assert_null(c.token_name);
	uspctl_cmd_fini(&c);
	assert_int_equal(parse("{\"op\":\"token_revoke\",\"name\":\"console\"}", &c, &err), 0);
	assert_int_equal(c.token_id, 0);
	assert_string_equal(c.token_name, "console");
	uspctl_cmd_fini(&c);

	expect_error("{\"id\":\"k\",\"op\":\"token_create\",\"role\":\"admin\"}",
		     USPCTL_E_BAD_FIELD, "k");
	expect_error("{\"id\":\"k\",\"op\":\"token_create\",\"name\":\"a\"}", USPCTL_E_BAD_FIELD,
		     "k");
	expect_error("{\"id\":\"k\",\"op\":\"token_create\",\"name\":\"a\",\"role\":\"root\"}",
		     USPCTL_E_BAD_FIELD, "k");
	expect_error("{\"id\":\"k\",\"op\":\"token_create\",\"name\":\"a\",\"role\":\"none\"}",
		     USPCTL_E_BAD_FIELD, "k");
	expect_error("{\"id\":\"k\",\"op\":\"token_create\",\"name\":\"a b\",\"role\":\"admin\"}",
		     USPCTL_E_BAD_FIELD, "k");
	expect_error("{\"id\":\"k\",\"op\":\"token_create\",\"name\":\"caf\xc3\xa9\","
		     "\"role\":\"admin\"}",
		     USPCTL_E_BAD_FIELD, "k");
	expect_error("{\"id\":\"k\",\"op\":\"token_create\",\"name\":"
		     "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
		     "\"role\":\"admin\"}",
		     USPCTL_E_BAD_FIELD, "k");
	expect_error("{\"id\":\"k\",\"op\":\"token_create\",\"name\":\"a\",\"role\":\"admin\","
		     "\"expires\":0}",
		     USPCTL_E_BAD_FIELD, "k");
	expect_error("{\"id\":\"k\",\"op\":\"token_create\",\"name\":\"a\",\"role\":\"admin\","
		     "\"expires\":315360001}",
		     USPCTL_E_BAD_FIELD, "k");
	/* the common options are not theirs */
	expect_error("{\"id\":\"k\",\"op\":\"token_create\",\"name\":\"a\",\"role\":\"admin\","
		     "\"timeout\":5}",
		     USPCTL_E_BAD_FIELD, "k");
	expect_error("{\"id\":\"k\",\"op\":\"token_list\",\"targets\":\"os::X\"}",
		     USPCTL_E_BAD_FIELD, "k");
	expect_error("{\"id\":\"k\",\"op\":\"token_revoke\"}", USPCTL_E_BAD_FIELD, "k");
	expect_error("{\"id\":\"k\",\"op\":\"token_revoke\",\"token_id\":1,\"name\":\"a\"}",
		     USPCTL_E_BAD_FIELD, "k");
	expect_error("{\"id\":\"k\",\"op\":\"token_revoke\",\"token_id\":0}", USPCTL_E_BAD_FIELD,
		     "k");
	expect_error("{\"id\":\"k\",\"op\":\"token_revoke\",\"name\":\"\"}", USPCTL_E_BAD_FIELD,
		     "k");
	/* an id given must still be a good one */
	expect_error("{\"id\":\"\",\"op\":\"token_list\"}", USPCTL_E_BAD_FIELD, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_set_groups_by_object),
		cmocka_unit_test(test_add_delete_operate),
		cmocka_unit_test(test_discovery_ops),
		cmocka_unit_test(test_attributes),
		cmocka_unit_test(test_subscribe),
		cmocka_unit_test(test_selectors_and_fleet_ops),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_max_inflight),
		cmocka_unit_test(test_campaign_ops),
		cmocka_unit_test(test_rejections),
		cmocka_unit_test(test_reads),
		cmocka_unit_test(test_tokens),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
