/* test_profile_spec.c — a provisioning profile's definition
 * (profile_spec.h): the defaults, parse(to_json(spec)) == spec, every way
 * a definition is refused (code and message naming the field), the
 * selector's two forms, the paths and variables a profile names, and
 * template expansion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "profile_spec.h"

static const char *const ignore[] = { "id", "op", NULL };

static int parse_text(const char *text, struct prof_spec *s, struct uspc_err *err)
{
	cJSON *j = cJSON_Parse(text);
	if (!j)
		fail_msg("test JSON does not parse: %s", text);
	prof_spec_init(s);
	int rc = prof_spec_parse(j, ignore, s, err);
	cJSON_Delete(j);
	return rc;
}

static void parse_ok(const char *text, struct prof_spec *s)
{
	struct uspc_err err = { 0 };
	if (parse_text(text, s, &err) != 0)
		fail_msg("%s: %s", text, err.msg);
}

static char *to_text(const struct prof_spec *s)
{
	cJSON *j = prof_spec_to_json(s);
	assert_non_null(j);
	char *t = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	assert_non_null(t);
	return t;
}

#define HEAD "\"name\":\"p\",\"selector\":{\"all\":true},\"priority\":1"
#define DEF(steps) "{" HEAD ",\"steps\":[" steps "]}"
#define SET1 "{\"set\":{\"Device.Time.NTPServer1\":\"pool.ntp.org\"}}"

/* ---- defaults ------------------------------------------------------------------ */

static void test_defaults(void **state)
{
	(void)state;
	struct prof_spec s;
	parse_ok("{\"name\":\"ntp\",\"selector\":{\"all\":true},\"priority\":10,\"steps\":[" SET1
		 "],\"id\":\"x\",\"op\":\"profile_put\"}",
		 &s);
	assert_string_equal(s.name, "ntp");
	assert_int_equal(s.priority, 10);
	assert_int_equal(s.mode, PROF_ENFORCE);
	assert_int_equal(s.triggers, PROF_T_DEFAULT);
	assert_int_equal(s.triggers, PROF_T_ONBOARDING | PROF_T_SCOPE | PROF_T_VERSION);
	assert_int_equal(s.drift_every_s, 0);
	assert_int_equal(s.n_where, 0);
	char *sel = cJSON_PrintUnformatted(s.selector);
	assert_string_equal(sel, "{\"all\":true}");
	free(sel);
	assert_int_equal(s.n_steps, 1);
	assert_int_equal(s.steps[0].kind, PROF_STEP_SET);
	assert_int_equal(s.steps[0].n_params, 1);
	assert_string_equal(s.steps[0].params[0].name, "Device.Time.NTPServer1");
	assert_int_equal(s.steps[0].params[0].v.type, PROF_V_STRING);
	assert_string_equal(s.steps[0].params[0].v.text, "pool.ntp.org");
	assert_int_equal(s.steps[0].params[0].v.write_only, 0);
	assert_int_equal(s.steps[0].params[0].v.has_template, 0);
	char *t = to_text(&s);
	assert_string_equal(t, "{\"name\":\"ntp\",\"selector\":{\"all\":true},\"priority\":10,"
			       "\"mode\":\"enforce\",\"triggers\":[\"onboarding\",\"scope\","
			       "\"version\"],\"steps\":[{\"set\":{\"Device.Time.NTPServer1\":"
			       "\"pool.ntp.org\"}}]}");
	free(t);
	prof_spec_fini(&s);

	/* operate, ensure_count and subscribe defaults */
	parse_ok(DEF("{\"operate\":{\"command\":\"Device.Reboot()\"}},"
		     "{\"ensure_count\":{\"table\":\"Device.X.Y.\",\"max\":3}},"
		     "{\"ensure_count\":{\"table\":\"Device.X.Z.\",\"min\":2}},"
		     "{\"subscribe\":{\"id\":\"s1\",\"notif_type\":\"ValueChange\","
		     "\"reference_list\":\"Device.WiFi.SSID.*.SSID\"}}"),
		 &s);
	assert_int_equal(s.steps[0].kind, PROF_STEP_OPERATE);
	assert_string_equal(s.steps[0].command, "Device.Reboot()");
	assert_int_equal(s.steps[0].once_per, PROF_ONCE_VERSION);
	assert_int_equal(s.steps[0].n_args, 0);
	assert_int_equal(s.steps[1].min, 0);
	assert_int_equal(s.steps[1].max, 3);
	assert_int_equal(s.steps[2].min, 2);
	assert_int_equal(s.steps[2].max, PROF_COUNT_MAX);
	const struct prof_step *sub = &s.steps[3];
	assert_int_equal(sub->kind, PROF_STEP_SUBSCRIBE);
	assert_string_equal(sub->table, "Device.LocalAgent.Subscription.");
	assert_int_equal(sub->n_keys, 1);
	assert_string_equal(sub->keys[0].name, "ID");
	assert_string_equal(sub->keys[0].v.text, "s1");
	assert_int_equal(sub->n_params, 5);
	static const char *const names[] = { "NotifType", "ReferenceList", "Enable", "Persistent",
					     "NotifRetry" };
	static const char *const texts[] = { "ValueChange", "Device.WiFi.SSID.*.SSID", "true",
					     "true", "false" };
	for (size_t i = 0; i < 5; i++) {
		assert_string_equal(sub->params[i].name, names[i]);
		assert_string_equal(sub->params[i].v.text, texts[i]);
		assert_int_equal(sub->params[i].v.type, i < 2 ? PROF_V_STRING : PROF_V_BOOL);
	}
	prof_spec_fini(&s);

	/* notification: names and numbers, stored as numbers */
	parse_ok(DEF("{\"notification\":{\"Device.A.Off\":\"off\",\"Device.A.P\":\"passive\","
		     "\"Device.A.Act\":\"active\",\"Device.A.N\":6}}"),
		 &s);
	assert_int_equal(s.steps[0].kind, PROF_STEP_NOTIFICATION);
	assert_int_equal(s.steps[0].n_params, 4);
	static const char *const nv[] = { "0", "1", "2", "6" };
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(s.steps[0].params[i].v.type, PROF_V_NUMBER);
		assert_string_equal(s.steps[0].params[i].v.text, nv[i]);
	}
	t = to_text(&s);
	assert_non_null(strstr(t, "\"steps\":[{\"notification\":{\"Device.A.Off\":0,"
				  "\"Device.A.P\":1,\"Device.A.Act\":2,\"Device.A.N\":6}}]"));
	prof_spec_fini(&s);
	parse_ok(t, &s); /* the stored form reads back the same */
	char *t2 = to_text(&s);
	assert_string_equal(t, t2);
	free(t);
	free(t2);
	prof_spec_fini(&s);
}

/* ---- round trip ------------------------------------------------------------------ */

static const char full[] =
	"{\"name\":\"wifi-guest.v2\",\"selector\":{\"tag\":\"beta\",\"model\":\"HGW 1\","
	"\"manufacturer\":\"ACME\",\"software_version\":\"1.0\",\"eid\":\"os::00D09E-*\","
	"\"eids\":[\"os::a\",\"os::b\"],\"all\":true,\"where\":["
	"\"Device.DeviceInfo.ProductClass == \\\"HGW\\\"\","
	"\"Device.X.Y!=\\\"a \\\\\\\"q\\\\\\\" \\\\\\\\ b\\\"\"]},"
	"\"priority\":1000000,\"mode\":\"audit\","
	"\"triggers\":[\"drift\",\"boot\",\"firmware\"],"
	"\"drift_check\":{\"every_s\":86400,\"jitter_s\":3600},"
	"\"steps\":["
	"{\"set\":{\"Device.Time.NTPServer1\":\"ntp-${tag:region}.example\","
	"\"Device.Time.Enable\":true,\"Device.X.Int\":-12,\"Device.X.Real\":1.5,"
	"\"Device.X.Pw\":{\"value\":\"${var:pw}\",\"write_only\":true},"
	"\"Device.X.Plain\":{\"value\":7,\"write_only\":false},\"Device.X.Dollar\":\"a$$b $c\"}},"
	"{\"ensure_instance\":{\"table\":\"Device.WiFi.SSID.\",\"keys\":{\"Name\":\"guest\","
	"\"Alias\":\"g-${serial}\"},\"params\":{\"SSID\":\"Guest ${serial}\",\"Enable\":true,"
	"\"Security.KeyPassphrase\":{\"value\":\"${var:psk}\",\"write_only\":true}}}},"
	"{\"ensure_absent\":{\"table\":\"Device.NAT.PortMapping.\",\"match\":{\"Description\":"
	"\"telnet\"}}},"
	"{\"ensure_count\":{\"table\":\"Device.IP.Interface.1.IPv4Address.\",\"min\":1,"
	"\"max\":4}},"
	"{\"subscribe\":{\"id\":\"uspc-wifi\",\"notif_type\":\"ObjectCreation\","
	"\"reference_list\":\"Device.WiFi.SSID., Device.Boot!\",\"enable\":false,"
	"\"notif_retry\":true}},"
	"{\"operate\":{\"command\":\"Device.DeviceInfo.FirmwareImage.1.Activate()\","
	"\"args\":{\"TimeWindow.1.Start\":0,\"TimeWindow.1.Mode\":\"AnyTime\"},"
	"\"once_per\":\"firmware\"}}]}";

static void test_round_trip(void **state)
{
	(void)state;
	struct prof_spec s, again;
	struct uspc_err err = { 0 };
	parse_ok(full, &s);
	char *a = to_text(&s);
	parse_ok(a, &again);
	char *b = to_text(&again);
	assert_string_equal(a, b);

	/* the normalised form */
	assert_non_null(strstr(a, "\"selector\":{\"eids\":[\"os::a\",\"os::b\"],\"tag\":\"beta\","
				  "\"model\":\"HGW 1\",\"manufacturer\":\"ACME\","
				  "\"software_version\":\"1.0\",\"eid_like\":\"os::00D09E-%\","
				  "\"all\":true,\"where\":[{\"path\":"
				  "\"Device.DeviceInfo.ProductClass\",\"op\":\"==\",\"value\":"
				  "\"HGW\"},{\"path\":\"Device.X.Y\",\"op\":\"!=\",\"value\":"
				  "\"a \\\"q\\\" \\\\ b\"}]}"));
	assert_non_null(strstr(a, "\"mode\":\"audit\",\"triggers\":[\"boot\",\"firmware\","
				  "\"drift\"],\"drift_check\":{\"every_s\":86400,"
				  "\"jitter_s\":3600}"));
	assert_non_null(strstr(a, "\"Device.Time.Enable\":true,\"Device.X.Int\":-12,"
				  "\"Device.X.Real\":1.5,\"Device.X.Pw\":{\"value\":\"${var:pw}\","
				  "\"write_only\":true},\"Device.X.Plain\":7,"));
	assert_non_null(strstr(a, "{\"subscribe\":{\"id\":\"uspc-wifi\",\"notif_type\":"
				  "\"ObjectCreation\",\"reference_list\":\"Device.WiFi.SSID., "
				  "Device.Boot!\",\"enable\":false,\"persistent\":true,"
				  "\"notif_retry\":true}}"));
	assert_non_null(strstr(a, "\"once_per\":\"firmware\""));
	assert_non_null(strstr(a, "{\"ensure_count\":{\"table\":"
				  "\"Device.IP.Interface.1.IPv4Address.\",\"min\":1,\"max\":4}}"));

	/* the parsed spec */
	assert_string_equal(s.name, "wifi-guest.v2");
	assert_int_equal(s.priority, PROF_PRIORITY_MAX);
	assert_int_equal(s.mode, PROF_AUDIT);
	assert_int_equal(s.triggers, PROF_T_DRIFT | PROF_T_BOOT | PROF_T_FIRMWARE);
	assert_int_equal(s.drift_every_s, 86400);
	assert_int_equal(s.drift_jitter_s, 3600);
	assert_int_equal(s.n_where, 2);
	assert_string_equal(s.where[0].path, "Device.DeviceInfo.ProductClass");
	assert_int_equal(s.where[0].negate, 0);
	assert_string_equal(s.where[0].value, "HGW");
	assert_string_equal(s.where[1].path, "Device.X.Y");
	assert_int_equal(s.where[1].negate, 1);
	assert_string_equal(s.where[1].value, "a \"q\" \\ b");
	assert_int_equal(again.n_where, 2);
	assert_string_equal(again.where[1].value, "a \"q\" \\ b");
	const struct prof_step *set = &s.steps[0];
	assert_int_equal(set->n_params, 7);
	assert_int_equal(set->params[0].v.has_template, 1);
	assert_int_equal(set->params[1].v.type, PROF_V_BOOL);
	assert_string_equal(set->params[1].v.text, "true");
	assert_int_equal(set->params[2].v.type, PROF_V_NUMBER);
	assert_string_equal(set->params[2].v.text, "-12");
	assert_string_equal(set->params[3].v.text, "1.5");
	assert_int_equal(set->params[4].v.write_only, 1);
	assert_int_equal(set->params[5].v.write_only, 0);
	assert_string_equal(set->params[5].v.text, "7");
	assert_int_equal(set->params[6].v.has_template, 1); /* "$$" needs expanding */
	assert_int_equal(s.steps[1].kind, PROF_STEP_ENSURE_INSTANCE);
	assert_int_equal(s.steps[1].n_keys, 2);
	assert_int_equal(s.steps[2].kind, PROF_STEP_ENSURE_ABSENT);
	assert_string_equal(s.steps[2].keys[0].name, "Description");
	assert_int_equal(s.steps[5].once_per, PROF_ONCE_FIRMWARE);
	assert_string_equal(s.steps[5].args[0].name, "TimeWindow.1.Start");
	free(a);
	free(b);
	prof_spec_fini(&again);
	prof_spec_fini(&s);

	/* the stored selector reads back as it is */
	assert_int_equal(parse_text("{\"name\":\"p\",\"priority\":0,\"selector\":{\"eid_like\":"
				    "\"os::\\\\_x%\",\"where\":[{\"path\":\"Device.A.B\",\"op\":"
				    "\"!=\",\"value\":\"\"}]},\"steps\":[" SET1 "]}",
				    &s, &err),
			 0);
	a = cJSON_PrintUnformatted(s.selector);
	assert_string_equal(a, "{\"eid_like\":\"os::\\\\_x%\",\"where\":[{\"path\":\"Device.A.B\","
			       "\"op\":\"!=\",\"value\":\"\"}]}");
	free(a);
	prof_spec_fini(&s);

	/* the eid glob as LIKE: * ? become % _, literal % _ \ are escaped */
	parse_ok("{\"name\":\"p\",\"priority\":0,\"selector\":{\"eid\":\"a_%?\\\\*\\\\\\\\\"},"
		 "\"steps\":[" SET1 "]}",
		 &s);
	a = cJSON_PrintUnformatted(s.selector);
	assert_string_equal(a, "{\"eid_like\":\"a\\\\_\\\\%_*\\\\\\\\\"}");
	free(a);
	prof_spec_fini(&s);
}

/* ---- values ------------------------------------------------------------------------ */

static void value_is(const char *json, enum prof_vtype type, const char *text)
{
	char def[512];
	struct prof_spec s;
	snprintf(def, sizeof(def), DEF("{\"set\":{\"Device.X.Y\":%s}}"), json);
	parse_ok(def, &s);
	assert_int_equal(s.steps[0].params[0].v.type, type);
	assert_string_equal(s.steps[0].params[0].v.text, text);
	prof_spec_fini(&s);
}

static void test_values(void **state)
{
	(void)state;
	value_is("true", PROF_V_BOOL, "true");
	value_is("false", PROF_V_BOOL, "false");
	value_is("42", PROF_V_NUMBER, "42");
	value_is("-0", PROF_V_NUMBER, "0");
	value_is("4.0", PROF_V_NUMBER, "4");
	value_is("8999999999999998", PROF_V_NUMBER, "8999999999999998");
	value_is("1e20", PROF_V_NUMBER, "1e+20");
	value_is("0.25", PROF_V_NUMBER, "0.25");
	value_is("0.1", PROF_V_NUMBER, "0.1");
	value_is("\"\"", PROF_V_STRING, "");
	value_is("\"caf\xc3\xa9\"", PROF_V_STRING, "caf\xc3\xa9");
	value_is("{\"value\":false}", PROF_V_BOOL, "false");

	/* PROF_VALUE_MAX bytes are fine, one more is not */
	size_t n = PROF_VALUE_MAX + 200;
	char *def = malloc(n), *v = malloc(PROF_VALUE_MAX + 2);
	struct prof_spec s;
	struct uspc_err err = { 0 };
	memset(v, 'a', PROF_VALUE_MAX);
	v[PROF_VALUE_MAX] = '\0';
	snprintf(def, n, DEF("{\"set\":{\"Device.X.Y\":\"%s\"}}"), v);
	parse_ok(def, &s);
	prof_spec_fini(&s);
	strcat(v, "a");
	snprintf(def, n, DEF("{\"set\":{\"Device.X.Y\":\"%s\"}}"), v);
	assert_int_equal(parse_text(def, &s, &err), USPCTL_E_BAD_FIELD);
	assert_string_equal(err.msg, "steps[1].set.Device.X.Y: longer than 4096 bytes");
	prof_spec_fini(&s);
	free(def);
	free(v);
}

/* ---- refusals ------------------------------------------------------------------------ */

struct refusal {
	const char *json;
	int code;
	const char *msg; /* the whole message */
};

#define F USPCTL_E_BAD_FIELD
#define P USPCTL_E_INVALID_PATH
#define T USPCTL_E_BAD_TARGETS
#define EI(body) DEF("{\"ensure_instance\":{\"table\":\"Device.WiFi.SSID.\"," body "}}")

static const struct refusal refusals[] = {
	/* the definition */
	{ "[]", F, "a profile definition must be a JSON object" },
	{ "{" HEAD ",\"steps\":[" SET1 "],\"bogus\":1}", F, "bogus: unknown field" },
	{ "{" HEAD ",\"steps\":[" SET1 "],\"mode\":\"audit\",\"mode\":\"once\"}", F,
	  "mode: given twice" },
	{ "{\"selector\":{\"all\":true},\"priority\":1,\"steps\":[" SET1 "]}", F,
	  "name: required: 1 to 64 characters of [a-z0-9_.-], starting with a letter or digit" },
	{ "{\"name\":\"Ntp\",\"selector\":{\"all\":true},\"priority\":1,\"steps\":[" SET1 "]}", F,
	  "name: must be 1 to 64 characters of [a-z0-9_.-], starting with a letter or digit" },
	{ "{\"name\":\"-ntp\",\"selector\":{\"all\":true},\"priority\":1,\"steps\":[" SET1 "]}", F,
	  "name: must be 1 to 64 characters of [a-z0-9_.-], starting with a letter or digit" },
	{ "{\"name\":\"a1234567890123456789012345678901234567890123456789012345678901234\","
	  "\"selector\":{\"all\":true},\"priority\":1,\"steps\":[" SET1 "]}",
	  F, "name: must be 1 to 64 characters of [a-z0-9_.-], starting with a letter or digit" },
	{ "{\"name\":\"p\",\"selector\":{\"all\":true},\"steps\":[" SET1 "]}", F,
	  "priority: required: an integer from 0 to 1000000 (higher wins a path)" },
	{ "{\"name\":\"p\",\"selector\":{\"all\":true},\"priority\":1000001,\"steps\":[" SET1 "]}",
	  F, "priority: must be an integer from 0 to 1000000" },
	{ "{\"name\":\"p\",\"selector\":{\"all\":true},\"priority\":-1,\"steps\":[" SET1 "]}", F,
	  "priority: must be an integer from 0 to 1000000" },
	{ "{\"name\":\"p\",\"selector\":{\"all\":true},\"priority\":1.5,\"steps\":[" SET1 "]}", F,
	  "priority: must be an integer from 0 to 1000000" },
	{ "{\"name\":\"p\",\"selector\":{\"all\":true},\"priority\":\"1\",\"steps\":[" SET1 "]}", F,
	  "priority: must be an integer from 0 to 1000000" },
	{ "{" HEAD ",\"mode\":\"strict\",\"steps\":[" SET1 "]}", F,
	  "mode: must be \"enforce\", \"audit\" or \"once\"" },
	{ "{" HEAD ",\"triggers\":[\"boot\",\"reboot\"],\"steps\":[" SET1 "]}", F,
	  "triggers: unknown trigger 'reboot' (onboarding, boot, firmware, scope, version or "
	  "drift)" },
	{ "{" HEAD ",\"triggers\":[],\"steps\":[" SET1 "]}", F,
	  "triggers: must be a non-empty array of onboarding, boot, firmware, scope, version or "
	  "drift" },
	{ "{" HEAD ",\"triggers\":[\"drift\"],\"steps\":[" SET1 "]}", F,
	  "drift_check: required by the \"drift\" trigger: {\"every_s\":86400,\"jitter_s\":3600}" },
	{ "{" HEAD ",\"drift_check\":{\"every_s\":60},\"steps\":[" SET1 "]}", F,
	  "drift_check: only with the \"drift\" trigger" },
	{ "{" HEAD ",\"triggers\":[\"drift\"],\"drift_check\":{\"every_s\":60,\"jitter_s\":61},"
	  "\"steps\":[" SET1 "]}",
	  F, "drift_check.jitter_s: must be an integer from 0 to 60" },
	{ "{" HEAD ",\"triggers\":[\"drift\"],\"drift_check\":{\"every_s\":0},\"steps\":[" SET1
	  "]}",
	  F, "drift_check.every_s: must be an integer from 1 to 31536000" },
	{ "{" HEAD ",\"triggers\":[\"drift\"],\"drift_check\":{\"jitter_s\":0},\"steps\":[" SET1
	  "]}",
	  F, "drift_check.every_s: required" },
	{ "{" HEAD "}", F, "steps: required: an array of 1 to 64 steps" },
	{ "{" HEAD ",\"steps\":[]}", F, "steps: must be an array of 1 to 64 steps" },
	/* steps */
	{ DEF(SET1 ",{\"reboot\":{}}"), F,
	  "steps[2].reboot: unknown step kind (set, ensure_instance, ensure_absent, ensure_count, "
	  "subscribe, operate or notification)" },
	{ DEF("{\"set\":{\"Device.A.B\":1},\"operate\":{\"command\":\"Device.Reboot()\"}}"), F,
	  "steps[1]: must be an object with one key: set, ensure_instance, ensure_absent, "
	  "ensure_count, subscribe, operate or notification" },
	{ DEF("{}"), F,
	  "steps[1]: must be an object with one key: set, ensure_instance, ensure_absent, "
	  "ensure_count, subscribe, operate or notification" },
	{ DEF("{\"set\":{}}"), F, "steps[1].set: must have 1 to 256 entries (has 0)" },
	/* notification */
	{ DEF("{\"notification\":{}}"), F,
	  "steps[1].notification: must have 1 to 256 entries (has 0)" },
	{ DEF("{\"notification\":[\"Device.A.B\"]}"), F,
	  "steps[1].notification: must be an object" },
	{ DEF("{\"notification\":{\"Device.A.B\":\"loud\"}}"), F,
	  "steps[1].notification.Device.A.B: must be \"off\", \"passive\", \"active\" or a TR-069 "
	  "notification value 0 to 6" },
	{ DEF("{\"notification\":{\"Device.A.B\":7}}"), F,
	  "steps[1].notification.Device.A.B: must be \"off\", \"passive\", \"active\" or a TR-069 "
	  "notification value 0 to 6" },
	{ DEF("{\"notification\":{\"Device.A.B\":1.5}}"), F,
	  "steps[1].notification.Device.A.B: must be \"off\", \"passive\", \"active\" or a TR-069 "
	  "notification value 0 to 6" },
	{ DEF("{\"notification\":{\"Device.A.B\":true}}"), F,
	  "steps[1].notification.Device.A.B: must be \"off\", \"passive\", \"active\" or a TR-069 "
	  "notification value 0 to 6" },
	{ DEF("{\"notification\":{\"Device.A.B\":\"active\",\"Device.A.B\":0}}"), F,
	  "steps[1].notification: 'Device.A.B' given twice" },
	{ DEF("{\"notification\":{\"Device.WiFi.SSID.*.SSID\":2}}"), P,
	  "steps[1].notification: 'Device.WiFi.SSID.*.SSID' has a wildcard or search expression: "
	  "name one parameter" },
	{ DEF("{\"notification\":{\"Device.WiFi.\":2}}"), P,
	  "steps[1].notification: 'Device.WiFi.' ends in '.': name a parameter" },
	{ DEF("{\"notification\":{\"Device.A.B\":2}},{\"notification\":{\"Device.A.B\":1}}"), F,
	  "steps[2]: 'Device.A.B#notification' is already written by steps[1]" },
	{ DEF("{\"set\":[]}"), F, "steps[1].set: must be an object {NAME: VALUE, ...}" },
	{ DEF("{\"set\":{\"Device.Time.\":\"x\"}}"), P,
	  "steps[1].set: 'Device.Time.' ends in '.': name a parameter" },
	{ DEF("{\"set\":{\"Device.WiFi.SSID.*.SSID\":\"x\"}}"), P,
	  "steps[1].set: 'Device.WiFi.SSID.*.SSID' has a wildcard or search expression: name one "
	  "parameter" },
	{ DEF("{\"set\":{\"Device.WiFi.SSID.[Name==\\\"a\\\"].SSID\":\"x\"}}"), P,
	  "steps[1].set: 'Device.WiFi.SSID.[Name==\"a\"].SSID' has a wildcard or search "
	  "expression: name one parameter" },
	{ DEF("{\"set\":{\"Device..X\":\"x\"}}"), P,
	  "steps[1].set: 'Device..X' is not a valid path: empty segment ('..') at byte 7" },
	{ DEF("{\"set\":{\"Device.Reboot()\":\"x\"}}"), P,
	  "steps[1].set: 'Device.Reboot()' is a command or event, not a parameter" },
	{ DEF("{\"set\":{\"Device.X.${serial}\":\"x\"}}"), P,
	  "steps[1].set: 'Device.X.${serial}': templates are only for values, not paths" },
	{ DEF("{\"set\":{\"Device.X.Y\":1,\"Device.X.Y\":2}}"), F,
	  "steps[1].set: 'Device.X.Y' given twice" },
	{ DEF(SET1 "," SET1), F,
	  "steps[2]: 'Device.Time.NTPServer1' is already written by steps[1]" },
	{ DEF("{\"ensure_instance\":{\"table\":\"Device.WiFi.SSID.\",\"keys\":{\"Name\":\"g\"},"
	      "\"params\":{\"SSID\":\"a\"}}},{\"ensure_instance\":{\"table\":"
	      "\"Device.WiFi.SSID.\",\"keys\":{\"Name\":\"g\"},\"params\":{\"SSID\":\"b\"}}}"),
	  F, "steps[2]: 'Device.WiFi.SSID.[Name==\"g\"].SSID' is already written by steps[1]" },
	/* values */
	{ DEF("{\"set\":{\"Device.X.Y\":[1]}}"), F,
	  "steps[1].set.Device.X.Y: must be a string, number or boolean, or "
	  "{\"value\":..,\"write_only\":true}" },
	{ DEF("{\"set\":{\"Device.X.Y\":null}}"), F,
	  "steps[1].set.Device.X.Y: must be a string, number or boolean, or "
	  "{\"value\":..,\"write_only\":true}" },
	{ DEF("{\"set\":{\"Device.X.Y\":{\"write_only\":true}}}"), F,
	  "steps[1].set.Device.X.Y: an object value needs \"value\": "
	  "{\"value\":..,\"write_only\":true}" },
	{ DEF("{\"set\":{\"Device.X.Y\":{\"value\":{\"value\":1}}}}"), F,
	  "steps[1].set.Device.X.Y: must be a string, number or boolean, or "
	  "{\"value\":..,\"write_only\":true}" },
	{ DEF("{\"set\":{\"Device.X.Y\":{\"value\":\"a\",\"write_only\":\"yes\"}}}"), F,
	  "steps[1].set.Device.X.Y.write_only: must be true or false" },
	{ DEF("{\"set\":{\"Device.X.Y\":{\"value\":\"a\",\"secret\":true}}}"), F,
	  "steps[1].set.Device.X.Y.secret: unknown field" },
	{ DEF("{\"set\":{\"Device.X.Y\":\"a-${foo}\"}}"), F,
	  "steps[1].set.Device.X.Y: unknown template '${foo}' (known: ${eid}, ${serial}, ${oui}, "
	  "${model}, ${manufacturer}, ${product_class}, ${software_version}, ${tag:NAME}, "
	  "${var:NAME}; $$ for '$')" },
	{ DEF("{\"set\":{\"Device.X.Y\":\"a-${serial\"}}"), F,
	  "steps[1].set.Device.X.Y: unterminated template '${serial' (no '}')" },
	{ DEF("{\"set\":{\"Device.X.Y\":\"${var:}\"}}"), F,
	  "steps[1].set.Device.X.Y: unknown template '${var:}' (known: ${eid}, ${serial}, "
	  "${oui}, ${model}, ${manufacturer}, ${product_class}, ${software_version}, ${tag:NAME}, "
	  "${var:NAME}; $$ for '$')" },
	{ DEF("{\"set\":{\"Device.X.Y\":\"\xff\"}}"), F,
	  "steps[1].set.Device.X.Y: not valid UTF-8" },
	{ DEF("{\"set\":{\"Device.X.Y\":\"\xc0\xaf\"}}"), F,
	  "steps[1].set.Device.X.Y: not valid UTF-8" },
	/* ensure_instance */
	{ DEF("{\"ensure_instance\":{\"table\":\"Device.WiFi.SSID\",\"keys\":{\"Name\":\"g\"}}}"),
	  P, "steps[1].ensure_instance.table: 'Device.WiFi.SSID' must end in '.'" },
	{ DEF("{\"ensure_instance\":{\"table\":\"Device.WiFi.SSID.1.\",\"keys\":{\"N\":\"g\"}}}"),
	  P,
	  "steps[1].ensure_instance.table: 'Device.WiFi.SSID.1.' ends in an instance number: name "
	  "the table (e.g. 'Device.WiFi.SSID.'), the keys find the row" },
	{ DEF("{\"ensure_instance\":{\"table\":\"Device.WiFi.SSID.*.\",\"keys\":{\"N\":\"g\"}}}"),
	  P,
	  "steps[1].ensure_instance.table: 'Device.WiFi.SSID.*.' has a wildcard or search "
	  "expression: name one table" },
	{ DEF("{\"ensure_instance\":{\"table\":\"Device.${oui}.\",\"keys\":{\"N\":\"g\"}}}"), P,
	  "steps[1].ensure_instance.table: 'Device.${oui}.': templates are only for values, not "
	  "table names" },
	{ DEF("{\"ensure_instance\":{\"table\":\"Device.\",\"keys\":{\"N\":\"g\"}}}"), P,
	  "steps[1].ensure_instance.table: 'Device.' is the root, not a table" },
	{ DEF("{\"ensure_instance\":{\"keys\":{\"N\":\"g\"}}}"), F,
	  "steps[1].ensure_instance.table: required (e.g. \"Device.WiFi.SSID.\")" },
	{ EI("\"params\":{\"SSID\":\"x\"}"), F,
	  "steps[1].ensure_instance.keys: required: the unique keys that find the row, e.g. "
	  "{\"Alias\":\"guest\"}" },
	{ EI("\"keys\":{}"), F, "steps[1].ensure_instance.keys: must have 1 to 8 entries (has 0)" },
	{ EI("\"keys\":{\"Name\":\"g\"},\"extra\":1"), F,
	  "steps[1].ensure_instance.extra: unknown field" },
	{ EI("\"keys\":{\"Name\":\"say \\\"hi\\\"\"}"), F,
	  "steps[1].ensure_instance.keys.Name: a key value cannot hold '\"', '\\' or %22/%25 (the "
	  "row is found with a USP search expression)" },
	{ EI("\"keys\":{\"Name\":\"a%22b\"}"), F,
	  "steps[1].ensure_instance.keys.Name: a key value cannot hold '\"', '\\' or %22/%25 (the "
	  "row is found with a USP search expression)" },
	{ EI("\"keys\":{\"${serial}\":\"x\"}"), P,
	  "steps[1].ensure_instance.keys: '${serial}': templates are only for values, not names" },
	{ EI("\"keys\":{\"Name\":\"g\"},\"params\":{\"Bad Name\":1}"), P,
	  "steps[1].ensure_instance.params: 'Bad Name' is not a name relative to the row (e.g. "
	  "SSID or Security.KeyPassphrase)" },
	{ EI("\"keys\":{\"Name\":\"g\"},\"params\":{\"Radio.1.X\":1}"), P,
	  "steps[1].ensure_instance.params: 'Radio.1.X' is not a name relative to the row (e.g. "
	  "SSID or Security.KeyPassphrase)" },
	{ EI("\"keys\":{\"Name\":\"g\"},\"params\":{\"Name\":\"h\"}"), F,
	  "steps[1].ensure_instance.params.Name: is also a key" },
	/* ensure_absent */
	{ DEF("{\"ensure_absent\":{\"table\":\"Device.NAT.PortMapping.\"}}"), F,
	  "steps[1].ensure_absent.match: required: the values that find the rows to delete, e.g. "
	  "{\"Description\":\"telnet\"}" },
	{ DEF("{\"ensure_absent\":{\"table\":\"Device.NAT.PortMapping.\",\"match\":{\"A\":1,"
	      "\"B\":1,\"C\":1,\"D\":1,\"E\":1,\"F\":1,\"G\":1,\"H\":1,\"I\":1}}}"),
	  F, "steps[1].ensure_absent.match: must have 1 to 8 entries (has 9)" },
	/* ensure_count */
	{ DEF("{\"ensure_count\":{\"table\":\"Device.X.\",\"min\":5,\"max\":4}}"), F,
	  "steps[1].ensure_count.max: 4 is less than min (5)" },
	{ DEF("{\"ensure_count\":{\"table\":\"Device.X.\",\"min\":-1}}"), F,
	  "steps[1].ensure_count.min: must be an integer from 0 to 1000" },
	{ DEF("{\"ensure_count\":{\"table\":\"Device.X.\",\"max\":1001}}"), F,
	  "steps[1].ensure_count.max: must be an integer from 0 to 1000" },
	{ DEF("{\"ensure_count\":{\"table\":\"Device.X.\"}}"), F,
	  "steps[1].ensure_count: give \"min\", \"max\" or both" },
	{ DEF("{\"ensure_count\":[]}"), F, "steps[1].ensure_count: must be an object" },
	/* subscribe */
	{ DEF("{\"subscribe\":{\"notif_type\":\"Event\",\"reference_list\":\"Device.Boot!\"}}"), F,
	  "steps[1].subscribe.id: required: 1 to 64 characters of [A-Za-z0-9_.:-]" },
	{ DEF("{\"subscribe\":{\"id\":\"a b\",\"notif_type\":\"Event\",\"reference_list\":"
	      "\"Device.Boot!\"}}"),
	  F, "steps[1].subscribe.id: required: 1 to 64 characters of [A-Za-z0-9_.:-]" },
	{ DEF("{\"subscribe\":{\"id\":\"s\",\"notif_type\":\"Periodic\",\"reference_list\":"
	      "\"Device.Boot!\"}}"),
	  F,
	  "steps[1].subscribe.notif_type: must be ValueChange, ObjectCreation, ObjectDeletion, "
	  "OperationComplete or Event" },
	{ DEF("{\"subscribe\":{\"id\":\"s\",\"notif_type\":\"Event\"}}"), F,
	  "steps[1].subscribe.reference_list: required: the paths to watch, e.g. "
	  "\"Device.WiFi.SSID.*.SSID\"" },
	{ DEF("{\"subscribe\":{\"id\":\"s\",\"notif_type\":\"Event\",\"reference_list\":\"\"}}"), F,
	  "steps[1].subscribe.reference_list: must be 1 to 1024 bytes of UTF-8 without control "
	  "characters" },
	{ DEF("{\"subscribe\":{\"id\":\"s\",\"notif_type\":\"Event\",\"reference_list\":"
	      "\"Device.Boot!,Device..X\"}}"),
	  P,
	  "steps[1].subscribe.reference_list: 'Device..X' is not a valid path: empty segment "
	  "('..') at byte 7" },
	{ DEF("{\"subscribe\":{\"id\":\"s\",\"notif_type\":\"Event\",\"reference_list\":"
	      "\"Device.Boot!\",\"enable\":1}}"),
	  F, "steps[1].subscribe.enable: must be true or false" },
	/* operate */
	{ DEF("{\"operate\":{\"command\":\"Device.Reboot\"}}"), P,
	  "steps[1].operate.command: 'Device.Reboot' must end in \"()\"" },
	{ DEF("{\"operate\":{\"command\":\"Device.X.*.Reset()\"}}"), P,
	  "steps[1].operate.command: 'Device.X.*.Reset()' has a wildcard or search expression: "
	  "name one command" },
	{ DEF("{\"operate\":{\"command\":\"Device.X..Reset()\"}}"), P,
	  "steps[1].operate.command: 'Device.X..Reset()' is not a valid path: empty segment "
	  "('..') at byte 9" },
	{ DEF("{\"operate\":{\"args\":{}}}"), F,
	  "steps[1].operate.command: required: a command path, e.g. \"Device.Reboot()\"" },
	{ DEF("{\"operate\":{\"command\":\"Device.Reboot()\",\"once_per\":\"day\"}}"), F,
	  "steps[1].operate.once_per: must be \"version\", \"boot\" or \"firmware\"" },
	{ DEF("{\"operate\":{\"command\":\"Device.Reboot()\",\"args\":{\"1.X\":1}}}"), P,
	  "steps[1].operate.args: '1.X' is not a name relative to the command (e.g. Cause or "
	  "TimeWindow.1.Start)" },
	/* selector */
	{ "{\"name\":\"p\",\"priority\":1,\"steps\":[" SET1 "]}", T,
	  "selector: required (use {\"all\":true} to target every agent)" },
	{ "{\"name\":\"p\",\"selector\":{},\"priority\":1,\"steps\":[" SET1 "]}", T,
	  "selector: empty: use {\"all\":true} to target every agent" },
	{ "{\"name\":\"p\",\"selector\":\"all\",\"priority\":1,\"steps\":[" SET1 "]}", T,
	  "selector: must be an object such as {\"tag\":\"beta\"} or {\"all\":true}" },
	{ "{\"name\":\"p\",\"selector\":{\"online\":true},\"priority\":1,\"steps\":[" SET1 "]}", T,
	  "selector.online: unknown selector key (all, tag, model, manufacturer, "
	  "software_version, eid, eids, where)" },
	{ "{\"name\":\"p\",\"selector\":{\"all\":false},\"priority\":1,\"steps\":[" SET1 "]}", T,
	  "selector.all: must be true" },
	{ "{\"name\":\"p\",\"selector\":{\"tag\":\"\"},\"priority\":1,\"steps\":[" SET1 "]}", T,
	  "selector.tag: must be a non-empty string of at most 256 bytes" },
	{ "{\"name\":\"p\",\"selector\":{\"model\":\"\xe9t\xe9\"},\"priority\":1,\"steps\":[" SET1
	  "]}",
	  T, "selector.model: must be a non-empty string of at most 256 bytes" },
	{ "{\"name\":\"p\",\"selector\":{\"eid\":\"os::\\\\\"},\"priority\":1,\"steps\":[" SET1
	  "]}",
	  T,
	  "selector.eid: must be a glob of 1 to 256 bytes (* ? and \\ escapes, not ending in a "
	  "lone \\)" },
	{ "{\"name\":\"p\",\"selector\":{\"eid\":\"a\",\"eid_like\":\"a\"},\"priority\":1,"
	  "\"steps\":[" SET1 "]}",
	  T, "selector: give \"eid\" (a glob) or \"eid_like\", not both" },
	{ "{\"name\":\"p\",\"selector\":{\"eids\":[]},\"priority\":1,\"steps\":[" SET1 "]}", T,
	  "selector.eids: must be an array of 1 to 100000 endpoint IDs" },
	{ "{\"name\":\"p\",\"selector\":{\"eids\":[\"a\",\"\"]},\"priority\":1,\"steps\":[" SET1
	  "]}",
	  T, "selector.eids[2]: must be an endpoint ID (1 to 256 bytes, no spaces)" },
	{ "{\"name\":\"p\",\"selector\":{\"where\":[\"Device.A.B == \\\"x\\\"\"]},\"priority\":1,"
	  "\"steps\":[" SET1 "]}",
	  T, "selector: \"where\" only narrows a selection: add \"all\": true or another key" },
	{ "{\"name\":\"p\",\"selector\":{\"all\":true,\"where\":[]},\"priority\":1,\"steps\":[" SET1
	  "]}",
	  T,
	  "selector.where: must be an array of 1 to 16 predicates such as "
	  "\"Device.DeviceInfo.ProductClass == \\\"HGW\\\"\"" },
	{ "{\"name\":\"p\",\"selector\":{\"all\":true,\"where\":[\"Device.A.B = \\\"x\\\"\"]},"
	  "\"priority\":1,\"steps\":[" SET1 "]}",
	  T, "selector.where[1]: expected PATH == \"VALUE\" or PATH != \"VALUE\"" },
	{ "{\"name\":\"p\",\"selector\":{\"all\":true,\"where\":[\"Device.A.B == x\"]},"
	  "\"priority\":1,\"steps\":[" SET1 "]}",
	  T, "selector.where[1]: the value must be in double quotes" },
	{ "{\"name\":\"p\",\"selector\":{\"all\":true,\"where\":[\"Device.A.B == \\\"x\"]},"
	  "\"priority\":1,\"steps\":[" SET1 "]}",
	  T, "selector.where[1]: the value lacks its closing '\"'" },
	{ "{\"name\":\"p\",\"selector\":{\"all\":true,\"where\":[\"Device.A.B == \\\"x\\\" y\"]},"
	  "\"priority\":1,\"steps\":[" SET1 "]}",
	  T, "selector.where[1]: text after the value's closing '\"'" },
	{ "{\"name\":\"p\",\"selector\":{\"all\":true,\"where\":[\"Device.A.B==\\\"\\\\n\\\"\"]},"
	  "\"priority\":1,\"steps\":[" SET1 "]}",
	  T, "selector.where[1]: only \\\" and \\\\ are escapes in the value" },
	{ "{\"name\":\"p\",\"selector\":{\"all\":true,\"where\":[\"Device.A.*.B==\\\"x\\\"\"]},"
	  "\"priority\":1,\"steps\":[" SET1 "]}",
	  T,
	  "selector.where[1]: 'Device.A.*.B' has a wildcard or search expression: name one "
	  "parameter" },
	{ "{\"name\":\"p\",\"selector\":{\"all\":true,\"where\":[\"Device.A. == \\\"x\\\"\"]},"
	  "\"priority\":1,\"steps\":[" SET1 "]}",
	  T, "selector.where[1]: 'Device.A.' ends in '.': name a parameter" },
	{ "{\"name\":\"p\",\"selector\":{\"all\":true,\"where\":[{\"path\":\"Device.A.B\","
	  "\"op\":\"<\",\"value\":\"1\"}]},\"priority\":1,\"steps\":[" SET1 "]}",
	  T,
	  "selector.where[1]: must be {\"path\":..,\"op\":\"==\"|\"!=\",\"value\":..} (strings)" },
	{ "{\"name\":\"p\",\"selector\":{\"all\":true,\"where\":[{\"path\":\"Device.A.B\","
	  "\"op\":\"==\",\"value\":\"1\",\"x\":1}]},\"priority\":1,\"steps\":[" SET1 "]}",
	  T, "selector.where[1].x: unknown field" },
	{ "{\"name\":\"p\",\"selector\":{\"all\":true,\"where\":[\"Device.A.B==\\\"\xff\\\"\"]},"
	  "\"priority\":1,\"steps\":[" SET1 "]}",
	  T, "selector.where[1]: not valid UTF-8, or too long" },
};

static void test_refusals(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		const struct refusal *r = &refusals[i];
		struct prof_spec s;
		struct uspc_err err = { 0 };
		int rc = parse_text(r->json, &s, &err);
		if (rc != r->code || strcmp(err.msg, r->msg) != 0)
			fail_msg("case %zu %s:\n got %d '%s'\nwant %d '%s'", i, r->json, rc,
				 err.msg, r->code, r->msg);
		assert_int_equal(err.code, r->code);
		prof_spec_fini(&s);
	}
}

/* Counts: steps, params per step, paths per profile. */
static void test_limits(void **state)
{
	(void)state;
	size_t cap = 200000;
	char *def = malloc(cap);
	struct prof_spec s;
	struct uspc_err err = { 0 };
	size_t o;

	/* 64 steps fine, 65 not */
	for (int n = 64; n <= 65; n++) {
		o = (size_t)snprintf(def, cap, "{" HEAD ",\"steps\":[");
		for (int i = 0; i < n; i++)
			o += (size_t)snprintf(def + o, cap - o, "%s{\"set\":{\"Device.X.P%d\":1}}",
					      i ? "," : "", i);
		snprintf(def + o, cap - o, "]}");
		int rc = parse_text(def, &s, &err);
		if (n == 64) {
			assert_int_equal(rc, 0);
		} else {
			assert_int_equal(rc, USPCTL_E_BAD_FIELD);
			assert_string_equal(err.msg, "steps: must be an array of 1 to 64 steps");
		}
		prof_spec_fini(&s);
	}
	/* 257 params in one set */
	o = (size_t)snprintf(def, cap, "{" HEAD ",\"steps\":[{\"set\":{");
	for (int i = 0; i < 257; i++)
		o += (size_t)snprintf(def + o, cap - o, "%s\"Device.X.P%d\":1", i ? "," : "", i);
	snprintf(def + o, cap - o, "}}]}");
	assert_int_equal(parse_text(def, &s, &err), USPCTL_E_BAD_FIELD);
	assert_string_equal(err.msg, "steps[1].set: must have 1 to 256 entries (has 257)");
	prof_spec_fini(&s);
	/* 5 steps of 256 paths: 1280 > PROF_PATHS_MAX */
	o = (size_t)snprintf(def, cap, "{" HEAD ",\"steps\":[");
	for (int st = 0; st < 5; st++) {
		o += (size_t)snprintf(def + o, cap - o, "%s{\"set\":{", st ? "," : "");
		for (int i = 0; i < 256; i++)
			o += (size_t)snprintf(def + o, cap - o, "%s\"Device.S%d.P%d\":1",
					      i ? "," : "", st, i);
		o += (size_t)snprintf(def + o, cap - o, "}}");
	}
	snprintf(def + o, cap - o, "]}");
	assert_int_equal(parse_text(def, &s, &err), USPCTL_E_BAD_FIELD);
	assert_string_equal(err.msg, "steps: the profile names 1280 paths, more than 1024");
	prof_spec_fini(&s);
	/* 65 distinct variables */
	o = (size_t)snprintf(def, cap, "{" HEAD ",\"steps\":[{\"set\":{");
	for (int i = 0; i < 65; i++)
		o += (size_t)snprintf(def + o, cap - o, "%s\"Device.X.P%d\":\"${var:v%d}\"",
				      i ? "," : "", i, i);
	snprintf(def + o, cap - o, "}}]}");
	assert_int_equal(parse_text(def, &s, &err), USPCTL_E_BAD_FIELD);
	assert_string_equal(err.msg, "steps: 65 distinct ${var:NAME}, more than 64");
	prof_spec_fini(&s);
	free(def);
}

/* ---- paths and variables ------------------------------------------------------------ */

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void test_paths(void **state)
{
	(void)state;
	static const char *const want[] = {
		"Device.Time.NTPServer1",
		"Device.Time.Enable",
		"Device.X.Int",
		"Device.X.Real",
		"Device.X.Pw",
		"Device.X.Plain",
		"Device.X.Dollar",
		"Device.WiFi.SSID.[Name==\"guest\"&&Alias==\"g-${serial}\"].SSID",
		"Device.WiFi.SSID.[Name==\"guest\"&&Alias==\"g-${serial}\"].Enable",
		"Device.WiFi.SSID.[Name==\"guest\"&&Alias==\"g-${serial}\"].Security.KeyPassphrase",
		"Device.NAT.PortMapping.",
		"Device.IP.Interface.1.IPv4Address.",
		"Device.LocalAgent.Subscription.[ID==\"uspc-wifi\"].NotifType",
		"Device.LocalAgent.Subscription.[ID==\"uspc-wifi\"].ReferenceList",
		"Device.LocalAgent.Subscription.[ID==\"uspc-wifi\"].Enable",
		"Device.LocalAgent.Subscription.[ID==\"uspc-wifi\"].Persistent",
		"Device.LocalAgent.Subscription.[ID==\"uspc-wifi\"].NotifRetry",
	};
	struct prof_spec s;
	char **v;
	size_t n;
	parse_ok(full, &s);
	assert_int_equal(prof_spec_paths(&s, &v, &n), 0);
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < n; i++)
		assert_string_equal(v[i], want[i]);
	free_strv(v, n);

	assert_int_equal(prof_spec_vars(&s, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0], "pw");
	assert_string_equal(v[1], "psk");
	free_strv(v, n);
	prof_spec_fini(&s);

	/* the form of the brief's example, and a profile without variables */
	parse_ok(DEF("{\"ensure_instance\":{\"table\":\"Device.WiFi.SSID.\",\"keys\":"
		     "{\"Name\":\"guest\"},\"params\":{\"SSID\":\"Guest\"}}},"
		     "{\"operate\":{\"command\":\"Device.Reboot()\",\"args\":{\"Cause\":"
		     "\"${var:why}\"}}},{\"set\":{\"Device.A.B\":\"${var:why}${var:x}\"}}"),
		 &s);
	assert_int_equal(prof_spec_paths(&s, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0], "Device.WiFi.SSID.[Name==\"guest\"].SSID");
	assert_string_equal(v[1], "Device.A.B");
	free_strv(v, n);
	assert_int_equal(prof_spec_vars(&s, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0], "why");
	assert_string_equal(v[1], "x");
	free_strv(v, n);
	prof_spec_fini(&s);

	parse_ok(DEF(SET1), &s);
	assert_int_equal(prof_spec_vars(&s, &v, &n), 0);
	assert_int_equal(n, 0);
	assert_non_null(v);
	free_strv(v, n);
	prof_spec_fini(&s);

	/* a profile of operate steps only names no path (and parses: the
	 * duplicate check sorts an empty list) */
	parse_ok(DEF("{\"operate\":{\"command\":\"Device.Reboot()\"}}"), &s);
	assert_int_equal(prof_spec_paths(&s, &v, &n), 0);
	assert_int_equal(n, 0);
	free_strv(v, n);
	prof_spec_fini(&s);

	/* a notification attribute is named apart from its parameter's value:
	 * one profile may set both */
	parse_ok(DEF("{\"set\":{\"Device.A.B\":\"x\"}},{\"notification\":{\"Device.A.B\":"
		     "\"passive\",\"Device.A.C\":6}}"),
		 &s);
	assert_int_equal(prof_spec_paths(&s, &v, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0], "Device.A.B");
	assert_string_equal(v[1], "Device.A.B#notification");
	assert_string_equal(v[2], "Device.A.C#notification");
	free_strv(v, n);
	prof_spec_fini(&s);

	/* ensure_absent twice on one table is fine (two row sets) */
	parse_ok(DEF("{\"ensure_absent\":{\"table\":\"Device.NAT.PortMapping.\",\"match\":"
		     "{\"Description\":\"a\"}}},{\"ensure_absent\":{\"table\":"
		     "\"Device.NAT.PortMapping.\",\"match\":{\"Description\":\"b\"}}}"),
		 &s);
	prof_spec_fini(&s);
}

/* ---- templates -------------------------------------------------------------------------- */

static void test_tpl_expand(void **state)
{
	(void)state;
	static const char *const tags[] = { "beta", "region:eu-west", "region:us", "site:" };
	cJSON *vars = cJSON_Parse("{\"ssid\":\"Home\",\"n\":12,\"b\":true,\"o\":{}}");
	struct prof_tpl_ctx c = { .eid = "os::00D09E-1",
				  .serial = "SN1",
				  .oui = "00D09E",
				  .model = "HGW",
				  .manufacturer = "ACME",
				  .product_class = "GW",
				  .software_version = "1.2",
				  .tags = tags,
				  .n_tags = 4,
				  .vars = vars };
	char out[128], why[160];

	assert_int_equal(prof_tpl_expand("${eid}|${serial}|${oui}|${model}|${manufacturer}|"
					 "${product_class}|${software_version}",
					 &c, out, sizeof(out), why, sizeof(why)),
			 0);
	assert_string_equal(out, "os::00D09E-1|SN1|00D09E|HGW|ACME|GW|1.2");
	assert_int_equal(prof_tpl_expand("r=${tag:region} s=${tag:site}.", &c, out, sizeof(out),
					 why, sizeof(why)),
			 0);
	assert_string_equal(out, "r=eu-west s=.");
	assert_int_equal(prof_tpl_expand("${var:ssid}-${var:n}-${var:b}", &c, out, sizeof(out), why,
					 sizeof(why)),
			 0);
	assert_string_equal(out, "Home-12-true");
	assert_int_equal(
		prof_tpl_expand("$$5 $x $ ${serial}$$", &c, out, sizeof(out), why, sizeof(why)), 0);
	assert_string_equal(out, "$5 $x $ SN1$");
	assert_int_equal(prof_tpl_expand("", &c, out, sizeof(out), why, sizeof(why)), 0);
	assert_string_equal(out, "");

	/* no value for this agent */
	assert_int_equal(prof_tpl_expand("${var:psk}", &c, out, sizeof(out), why, sizeof(why)), -1);
	assert_string_equal(why, "${var:psk}: no such variable for this agent");
	assert_string_equal(out, "");
	assert_int_equal(prof_tpl_expand("${var:o}", &c, out, sizeof(out), why, sizeof(why)), -1);
	assert_string_equal(why, "${var:o}: no such variable for this agent");
	assert_int_equal(prof_tpl_expand("x${tag:zone}", &c, out, sizeof(out), why, sizeof(why)),
			 -1);
	assert_string_equal(why, "${tag:zone}: no tag zone:... on this agent");
	assert_int_equal(prof_tpl_expand("${tag:regio}", &c, out, sizeof(out), why, sizeof(why)),
			 -1);
	c.serial = "";
	assert_int_equal(prof_tpl_expand("${serial}", &c, out, sizeof(out), why, sizeof(why)), -1);
	assert_string_equal(why, "${serial}: this agent has no serial in the inventory");
	c.serial = NULL;
	assert_int_equal(prof_tpl_expand("${serial}", &c, out, sizeof(out), why, sizeof(why)), -1);
	c.vars = NULL;
	assert_int_equal(prof_tpl_expand("${var:ssid}", &c, out, sizeof(out), why, sizeof(why)),
			 -1);
	assert_int_equal(prof_tpl_expand("${eid}", NULL, out, sizeof(out), why, sizeof(why)), -1);
	assert_string_equal(why, "${eid}: this agent has no eid in the inventory");
	/* malformed */
	assert_int_equal(prof_tpl_expand("${serial", &c, out, sizeof(out), why, sizeof(why)), -1);
	assert_string_equal(why, "unterminated template '${serial' (no '}')");
	assert_int_equal(prof_tpl_expand("${nope}", &c, out, sizeof(out), NULL, 0), -1);

	/* too long: cap, and PROF_VALUE_MAX */
	assert_int_equal(prof_tpl_expand("${eid}", &c, out, 12, why, sizeof(why)), -1);
	assert_string_equal(why, "the value is longer than 11 bytes once its templates are "
				 "expanded");
	assert_int_equal(prof_tpl_expand("${eid}", &c, out, 13, why, sizeof(why)), 0);
	assert_string_equal(out, "os::00D09E-1");
	char *big = malloc(PROF_VALUE_MAX + 16), *res = malloc(2 * PROF_VALUE_MAX);
	memset(big, 'a', PROF_VALUE_MAX - 3);
	strcpy(big + PROF_VALUE_MAX - 3, "${oui}");
	assert_int_equal(prof_tpl_expand(big, &c, res, 2 * PROF_VALUE_MAX, why, sizeof(why)), -1);
	assert_string_equal(why, "the value is longer than 4096 bytes once its templates are "
				 "expanded");
	strcpy(big + PROF_VALUE_MAX - 3, "$$");
	assert_int_equal(prof_tpl_expand(big, &c, res, 2 * PROF_VALUE_MAX, why, sizeof(why)), 0);
	assert_int_equal(strlen(res), PROF_VALUE_MAX - 2);
	free(big);
	free(res);
	cJSON_Delete(vars);
}

/* The fuzz seeds are valid definitions (after their part byte). */
static void test_seeds(void **state)
{
	(void)state;
	static const char *const seeds[] = { "def-full.json", "def-ntp.json", "def-stored.json",
					     "def-notification.json" };
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		char path[512], buf[8192];
		snprintf(path, sizeof(path), "%s/vectors/fuzz_profile/%s", USPC_TEST_DATA_DIR,
			 seeds[i]);
		FILE *f = fopen(path, "rb");
		if (!f)
			fail_msg("cannot open %s", path);
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		assert_true(n > 1 && buf[0] == '0');
		struct prof_spec s;
		parse_ok(buf + 1, &s);
		prof_spec_fini(&s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),   cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_values),     cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_limits),     cmocka_unit_test(test_paths),
		cmocka_unit_test(test_tpl_expand), cmocka_unit_test(test_seeds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
