/*
 * test_sim_model.c — usp-agent-sim's data-model file loader: the shipped
 * model loads, lookups, every kind of file error is reported with its line,
 * and value checks per type.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sim_model.h"

#define DEFAULT_MODEL USPC_TEST_DATA_DIR "/../agents-sim/models/tr181-gateway.model"

static void test_default_model_loads(void **state)
{
	(void)state;
	struct sim_model *m = NULL;
	struct uspc_err err = { 0 };
	assert_int_equal(sim_model_load(DEFAULT_MODEL, &m, &err), 0);
	assert_non_null(m);
	assert_string_equal(m->objs[0].path, "Device.");
	uint16_t ssid = sim_model_find_obj(m, "Device.WiFi.SSID.{i}.");
	assert_int_not_equal(ssid, SM_NONE);
	assert_int_equal(sim_model_find_obj(m, "Device.WiFi.SSID."), ssid); /* {i}. optional */
	assert_true(m->objs[ssid].is_table);
	assert_int_equal(m->objs[ssid].access, SM_OBJ_ADD_DELETE);
	uint16_t sub = sim_model_find_obj(m, "Device.LocalAgent.Subscription.{i}.");
	assert_int_equal(m->objs[sub].n_keysets, 2);
	uint16_t id = sim_model_param(m, sub, "ID");
	assert_true(sim_model_is_key(m, id));
	assert_false(sim_model_is_key(m, sim_model_param(m, sub, "Enable")));
	uint16_t dl = sim_model_cmd(
		m, sim_model_find_obj(m, "Device.DeviceInfo.FirmwareImage.{i}."), "Download");
	assert_int_not_equal(dl, SM_NONE);
	assert_true(m->cmds[dl].async);
	assert_int_equal(m->cmds[dl].handler, SM_H_FW_DOWNLOAD);
	assert_string_equal(m->cmds[dl].in[0], "URL");
	assert_true(m->cmds[dl].in_mandatory[0]);
	assert_int_not_equal(sim_model_event(m, 0, "Boot"), SM_NONE);
	uint16_t owner = SM_NONE;
	uint16_t topic = sim_model_rel_param(
		m, sim_model_find_obj(m, "Device.LocalAgent.Controller.{i}.MTP.{i}."), "MQTT.Topic",
		&owner);
	assert_int_not_equal(topic, SM_NONE);
	assert_string_equal(m->objs[owner].path, "Device.LocalAgent.Controller.{i}.MTP.{i}.MQTT.");
	/* relative paths never enter a table */
	assert_int_equal(sim_model_rel_param(m, 0, "WiFi.SSID.Name", NULL), SM_NONE);
	assert_int_equal(sim_model_find_obj(m, "Device.NoSuch."), SM_NONE);
	sim_model_free(m);
}

static const char base[] = "object Device.\n";

/* Each bad text must fail with "name:LINE:" and a word of the reason. */
static void expect_error(const char *body, int line, const char *what)
{
	char prefix[32];
	struct sim_model *m = NULL;
	struct uspc_err err = { 0 };
	size_t n = strlen(base) + strlen(body) + 1;
	char *text = malloc(n);
	assert_non_null(text);
	snprintf(text, n, "%s%s", base, body);
	int rc = sim_model_parse(text, "t.model", &m, &err);
	free(text);
	assert_int_not_equal(rc, 0);
	assert_null(m);
	snprintf(prefix, sizeof(prefix), "t.model:%d:", line);
	if (!strstr(err.msg, prefix) || !strstr(err.msg, what))
		fail_msg("for '%.60s' got '%s' (want '%s' and '%s')", body, err.msg, prefix, what);
}

static void test_file_errors(void **state)
{
	(void)state;
	expect_error("frob Device.X.\n", 2, "unknown keyword");
	expect_error("object Device.A.B.\n", 2, "not declared");
	expect_error("object Device.A\n", 2, "must end in '.'");
	expect_error("table Device.T.\n", 2, "must end in '.{i}.'");
	expect_error("object Device.A.\nobject Device.A.\n", 3, "declared twice");
	expect_error("param Device.X unknownType ro\n", 2, "unknown type");
	expect_error("param Device.X string sometimes\n", 2, "unknown access");
	expect_error("param Device.X string ro\nparam Device.X string ro\n", 3, "declared twice");
	expect_error("param Device.X string ro default=\"open\n", 2, "unterminated quote");
	expect_error("param Device.X string ro colour=red\n", 2, "unknown or malformed attribute");
	expect_error("param Device.X string ro dyn=sometimes\n", 2, "unknown dyn");
	expect_error("command Device.Go sync\n", 2, "must end in '()'");
	expect_error("command Device.Go() later\n", 2, "usage");
	expect_error("command Device.Go() sync handler=teleport\n", 2, "unknown handler");
	expect_error("command Device.Go() sync out=!X\n", 2, "mandatory");
	expect_error("event Device.Boom\n", 2, "must end in '!'");
	expect_error("table Device.T.{i}. count=two\n", 2, "bad count");
	expect_error("table Device.T.{i}. access=sometimes\n", 2, "bad table access");
	expect_error("object Device.A.\ninstance Device.A.1.\n", 3,
		     "not an instance of a declared table");
	expect_error("table Device.T.{i}.\ninstance Device.T.1. Nope=1\n", 3, "not a parameter");
	expect_error("table Device.T.{i}. keys=Name\n", 2, "unique key 'Name'");
	expect_error("object Device.9bad.\n", 2, "bad object name");
	char longline[SM_MAX_LINE + 100];
	memset(longline, 'x', sizeof(longline) - 2);
	longline[sizeof(longline) - 2] = '\n';
	longline[sizeof(longline) - 1] = '\0';
	expect_error(longline, 2, "longer than");
	struct sim_model *m = NULL;
	struct uspc_err err = { 0 };
	assert_int_not_equal(sim_model_parse("# nothing\n", "e.model", &m, &err), 0);
	assert_non_null(strstr(err.msg, "no objects"));
	assert_int_not_equal(sim_model_load("/nonexistent/x.model", &m, &err), 0);
	assert_non_null(strstr(err.msg, "/nonexistent/x.model"));
}

static void test_quoting_and_attrs(void **state)
{
	(void)state;
	const char *text =
		"object Device.\n"
		"# comment line\n"
		"param Device.A string rw default=\"two words\" # trailing comment\n"
		"param Device.B string ro default=\"say \\\"hi\\\"\" maxlen=12\n"
		"param Device.C unsignedLong ro dyn=counter rate=2.5\n"
		"table Device.T.{i}. access=add_only count=3 max=5 persist=no keys=Name;Alias\n"
		"param Device.T.{i}.Name string rw\n"
		"param Device.T.{i}.Alias string rw\n";
	struct sim_model *m = NULL;
	struct uspc_err err = { 0 };
	assert_int_equal(sim_model_parse(text, "q.model", &m, &err), 0);
	assert_string_equal(m->params[sim_model_param(m, 0, "A")].def, "two words");
	const struct sm_param *b = &m->params[sim_model_param(m, 0, "B")];
	assert_string_equal(b->def, "say \"hi\"");
	assert_int_equal(b->max_len, 12);
	const struct sm_param *c = &m->params[sim_model_param(m, 0, "C")];
	assert_int_equal(c->dyn, SM_DYN_COUNTER);
	assert_true(c->vc_ignore);
	assert_true(c->rate > 2.4 && c->rate < 2.6);
	const struct sm_obj *t = &m->objs[sim_model_find_obj(m, "Device.T.{i}.")];
	assert_int_equal(t->access, SM_OBJ_ADD_ONLY);
	assert_int_equal(t->count, 3);
	assert_int_equal(t->max_instances, 5);
	assert_false(t->persist);
	assert_int_equal(t->n_keysets, 2);
	sim_model_free(m);
}

static void test_check_value(void **state)
{
	(void)state;
	struct sm_param p = { .type = SM_T_BOOL };
	assert_int_equal(sim_model_check_value(&p, "true"), 0);
	assert_int_equal(sim_model_check_value(&p, "0"), 0);
	assert_int_equal(sim_model_check_value(&p, "yes"), USP_ERR_INVALID_TYPE);
	p.type = SM_T_INT;
	assert_int_equal(sim_model_check_value(&p, "-2147483648"), 0);
	assert_int_equal(sim_model_check_value(&p, "2147483648"), USP_ERR_INVALID_TYPE);
	assert_int_equal(sim_model_check_value(&p, "12a"), USP_ERR_INVALID_TYPE);
	p.type = SM_T_UINT;
	assert_int_equal(sim_model_check_value(&p, "4294967295"), 0);
	assert_int_equal(sim_model_check_value(&p, "-1"), USP_ERR_INVALID_TYPE);
	p.type = SM_T_ULONG;
	assert_int_equal(sim_model_check_value(&p, "18446744073709551615"), 0);
	p.type = SM_T_DECIMAL;
	assert_int_equal(sim_model_check_value(&p, "-3.25"), 0);
	assert_int_equal(sim_model_check_value(&p, "3."), USP_ERR_INVALID_TYPE);
	p.type = SM_T_DATETIME;
	assert_int_equal(sim_model_check_value(&p, "2024-01-31T12:00:00Z"), 0);
	assert_int_equal(sim_model_check_value(&p, "2024-01-31T12:00:00.5+01:00"), 0);
	assert_int_equal(sim_model_check_value(&p, "2024-01-31 12:00:00"), USP_ERR_INVALID_TYPE);
	p.type = SM_T_HEX;
	assert_int_equal(sim_model_check_value(&p, "0aFF"), 0);
	assert_int_equal(sim_model_check_value(&p, "0aF"), USP_ERR_INVALID_TYPE);
	p.type = SM_T_STRING;
	p.enums = (char *)"Up|Down";
	assert_int_equal(sim_model_check_value(&p, "Up"), 0);
	assert_int_equal(sim_model_check_value(&p, "Sideways"), USP_ERR_INVALID_VALUE);
	assert_int_equal(sim_model_check_value(&p, "U"), USP_ERR_INVALID_VALUE);
	p.enums = NULL;
	p.max_len = 3;
	assert_int_equal(sim_model_check_value(&p, "abcd"), USP_ERR_INVALID_VALUE);
	assert_int_equal(sim_model_check_value(&p, "abc"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_model_loads),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_quoting_and_attrs),
		cmocka_unit_test(test_check_value),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
