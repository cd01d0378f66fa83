/*
 * test_acs_map.c — a uspc task as CWMP RPCs and the CPE's answers as its
 * result (controller/acs/acs_map.c), one op of acs_map.h's table at a
 * time:
 *   get      full names and partial paths as given, a '*' instance asked
 *            as the partial path before it and the answer filtered, 32
 *            names per GetParameterValues, the result equal to the
 *            get_resp example of docs/json.md;
 *   set      one SetParameterValues with the types given (xsi types,
 *            ParameterKey = task id), types learned with a
 *            GetParameterValues first, 9005 for a name the CPE lacks;
 *   add      AddObject then SetParameterValues on the new instance, or
 *            AddObject alone, add_resp's instantiated_path, a fault after
 *            AddObject saying the object exists;
 *   delete   one DeleteObject per path;
 *   operate  Reboot, FactoryReset, Download (CommandKey, fields, the
 *            oper_* outcome, Status 0 done at once);
 * then CPE faults, wrong answers, failing from outside and the refusals
 * (7001, 7004, bad JSON), and acs_model_path.
 *
 * The CPE is played by hand: each answer is a struct cwmp_msg built on the
 * stack as cwmp_parse would fill it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "acs_map.h"

/* ---- helpers ------------------------------------------------------------ */

static struct acs_run *run_new(int64_t id, const char *op, const char *json)
{
	uint32_t code = 0;
	char e[256] = "";
	struct acs_run *r = acs_run_new(id, op, json, &code, e, sizeof(e));
	if (!r)
		fail_msg("acs_run_new(%s, %s): %u %s", op, json, code, e);
	assert_false(acs_run_done(r));
	return r;
}

/* acs_run_new refuses: code and a message holding needle. */
static void refused(const char *op, const char *json, uint32_t want, const char *needle)
{
	uint32_t code = 0;
	char e[256] = "";
	struct acs_run *r = acs_run_new(1, op, json, &code, e, sizeof(e));
	if (r) {
		acs_run_free(r);
		fail_msg("%s %s: accepted, want %u", op, json ? json : "(null)", want);
	}
	if (code != want || !strstr(e, needle))
		fail_msg("%s %s: %u '%s', want %u with '%s'", op, json ? json : "(null)", code, e,
			 want, needle);
}

/* The next RPC, which must be method. */
static void next_is(struct acs_run *r, struct cwmp_msg *m, enum cwmp_method method)
{
	assert_int_equal(acs_run_next(r, m), 1);
	assert_int_equal(m->method, method);
	assert_false(acs_run_done(r));
}

/* The run is over and succeeded: its result parsed (cJSON_Delete it). */
static cJSON *succeeded(struct acs_run *r)
{
	struct cwmp_msg m;
	assert_int_equal(acs_run_next(r, &m), 0);
	assert_true(acs_run_done(r));
	const struct acs_run_outcome *o = acs_run_outcome(r);
	if (o->failed)
		fail_msg("run failed: %u %s", o->error_code, o->error_message);
	assert_non_null(o->result_json);
	cJSON *j = cJSON_Parse(o->result_json);
	assert_non_null(j);
	return j;
}

/* The run is over and failed with code; its message holds each needle. */
static void failed_with(struct acs_run *r, uint32_t code, const char *n1, const char *n2)
{
	struct cwmp_msg m;
	assert_int_equal(acs_run_next(r, &m), 0);
	assert_true(acs_run_done(r));
	const struct acs_run_outcome *o = acs_run_outcome(r);
	assert_true(o->failed);
	assert_null(o->result_json);
	if (o->error_code != code || (n1 && !strstr(o->error_message, n1)) ||
	    (n2 && !strstr(o->error_message, n2)))
		fail_msg("failed with %u '%s', want %u with '%s' and '%s'", o->error_code,
			 o->error_message, code, n1 ? n1 : "", n2 ? n2 : "");
}

/* As failed_with, after a CWMP fault: the result is the fault as a USP
 * Error (type, err_code and err_msg as the task's); its param_errs are
 * returned for the caller to check (the parsed result; free it). */
static cJSON *faulted_with(struct acs_run *r, uint32_t code, const char *n1, const char *n2)
{
	struct cwmp_msg m;
	assert_int_equal(acs_run_next(r, &m), 0);
	assert_true(acs_run_done(r));
	const struct acs_run_outcome *o = acs_run_outcome(r);
	assert_true(o->failed);
	if (o->error_code != code || (n1 && !strstr(o->error_message, n1)) ||
	    (n2 && !strstr(o->error_message, n2)))
		fail_msg("failed with %u '%s', want %u with '%s' and '%s'", o->error_code,
			 o->error_message, code, n1 ? n1 : "", n2 ? n2 : "");
	assert_non_null(o->result_json);
	cJSON *j = cJSON_Parse(o->result_json);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "type")->valuestring, "error");
	assert_int_equal(cJSON_GetObjectItem(j, "err_code")->valuedouble, code);
	assert_string_equal(cJSON_GetObjectItem(j, "err_msg")->valuestring, o->error_message);
	assert_true(cJSON_IsArray(cJSON_GetObjectItem(j, "param_errs")));
	return j;
}

static void assert_json_equal(const cJSON *got, const char *want_text)
{
	cJSON *want = cJSON_Parse(want_text);
	assert_non_null(want);
	if (!cJSON_Compare(got, want, 1)) {
		char *g = cJSON_PrintUnformatted(got);
		char *w = cJSON_PrintUnformatted(want);
		print_error("got  %s\nwant %s\n", g, w);
		free(g);
		free(w);
		cJSON_Delete(want);
		fail();
	}
	cJSON_Delete(want);
}

/* A response of method with values (GetParameterValuesResponse). */
static void answer_values(struct acs_run *r, struct cwmp_param_value *v, size_t n)
{
	struct cwmp_msg in = { .method = CWMP_M_GET_PARAMETER_VALUES_RESPONSE };
	in.values = v;
	in.n_values = n;
	acs_run_answer(r, &in);
}

static void answer_status(struct acs_run *r, enum cwmp_method method, int status)
{
	struct cwmp_msg in = { .method = method, .status = status };
	acs_run_answer(r, &in);
}

static void answer_fault(struct acs_run *r, unsigned code, const char *text,
			 struct cwmp_spv_fault *spv, size_t n_spv)
{
	struct cwmp_msg in = { .method = CWMP_M_FAULT };
	in.fault.soap_faultcode = (char *)"Client";
	in.fault.soap_faultstring = (char *)"CWMP fault";
	in.fault.code = code;
	in.fault.string = (char *)text;
	in.fault.spv = spv;
	in.fault.n_spv = n_spv;
	acs_run_answer(r, &in);
}

/* The names of a GetParameterValues, joined by spaces. */
static void names_are(const struct cwmp_msg *m, const char *want)
{
	char got[4096] = "";
	for (size_t i = 0; i < m->n_names; i++) {
		if (i)
			strcat(got, " ");
		strncat(got, m->names[i], sizeof(got) - strlen(got) - 2);
	}
	assert_string_equal(got, want);
}

/* The last snapshot row of name (the one the store ends with). */
static const struct cwmp_param_value *row(const struct acs_run *r, const char *name)
{
	const struct acs_run_outcome *o = acs_run_outcome(r);
	for (size_t i = o->n_rows; i-- > 0;)
		if (!strcmp(o->rows[i].name, name))
			return &o->rows[i];
	fail_msg("no snapshot row %s", name);
	return NULL;
}

/* A fenced block of docs/json.md: the first "```json <tag>" after the
 * heading, as JSON. */
static cJSON *doc_block(const char *heading, const char *tag)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/../docs/json.md", USPC_TEST_DATA_DIR);
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("cannot read %s", path);
	static char doc[256 * 1024];
	size_t n = fread(doc, 1, sizeof(doc) - 1, f);
	fclose(f);
	doc[n] = '\0';
	const char *h = strstr(doc, heading);
	assert_non_null(h);
	char fence[64];
	snprintf(fence, sizeof(fence), "```json %s\n", tag);
	const char *b = strstr(h, fence);
	assert_non_null(b);
	b += strlen(fence);
	const char *e = strstr(b, "```");
	assert_non_null(e);
	char *text = strndup(b, (size_t)(e - b));
	assert_non_null(text);
	cJSON *j = cJSON_Parse(text);
	if (!j)
		fail_msg("docs/json.md %s %s is not JSON", heading, tag);
	free(text);
	return j;
}

/* ---- acs_model_path ------------------------------------------------------ */

static void model_path(void **state)
{
	(void)state;
	char b[128];
	acs_model_path("Device.WiFi.SSID.2.SSID", b, sizeof(b));
	assert_string_equal(b, "Device.WiFi.SSID.{i}.SSID");
	acs_model_path("Device.WiFi.AccessPoint.1.AssociatedDevice.12.MACAddress", b, sizeof(b));
	assert_string_equal(b, "Device.WiFi.AccessPoint.{i}.AssociatedDevice.{i}.MACAddress");
	acs_model_path("Device.IP.Interface.1.", b, sizeof(b));
	assert_string_equal(b, "Device.IP.Interface.{i}.");
	acs_model_path("Device.DeviceInfo.SoftwareVersion", b, sizeof(b));
	assert_string_equal(b, "Device.DeviceInfo.SoftwareVersion");
	/* only whole segments of digits are instances */
	acs_model_path("Device.X.1a.2b3.IPv6.007", b, sizeof(b));
	assert_string_equal(b, "Device.X.1a.2b3.IPv6.{i}");
	/* already in model form, and empty */
	acs_model_path("Device.NAT.PortMapping.{i}.Enable", b, sizeof(b));
	assert_string_equal(b, "Device.NAT.PortMapping.{i}.Enable");
	acs_model_path("", b, sizeof(b));
	assert_string_equal(b, "");
	/* cut to the buffer, always terminated, nothing written past it */
	memset(b, 'Z', sizeof(b));
	acs_model_path("Device.WiFi.SSID.2.SSID", b, 12);
	assert_string_equal(b, "Device.WiFi");
	assert_int_equal(b[12], 'Z');
	memset(b, 'Z', sizeof(b));
	acs_model_path("Device.A.1.B", b, 12);
	assert_string_equal(b, "Device.A.{i");
	acs_model_path("Device.A.1.B", b, 1);
	assert_string_equal(b, "");
	b[0] = 'Z';
	acs_model_path("Device.A.1.B", b, 0);
	assert_int_equal(b[0], 'Z');
}

/* ---- get ------------------------------------------------------------------ */

static void get_full_names(void **state)
{
	(void)state;
	struct acs_run *r = run_new(11, "get",
				    "{\"param_paths\": [\"Device.DeviceInfo.SoftwareVersion\","
				    " \"Device.DeviceInfo.ModelName\"]}");
	assert_true(acs_run_idempotent(r));
	const char *tn[8];
	assert_int_equal(acs_run_type_names(r, tn, 8), 0);

	struct cwmp_msg m;
	next_is(r, &m, CWMP_M_GET_PARAMETER_VALUES);
	names_are(&m, "Device.DeviceInfo.SoftwareVersion Device.DeviceInfo.ModelName");
	/* the CPE's order, and a value the task did not ask for */
	struct cwmp_param_value v[] = {
		{ (char *)"Device.DeviceInfo.ModelName", (char *)"GW-1", (char *)"string" },
		{ (char *)"Device.DeviceInfo.SoftwareVersion", (char *)"4.2.1", (char *)"string" },
		{ (char *)"Device.DeviceInfo.SoftwareVersionX", (char *)"no", NULL },
	};
	answer_values(r, v, 3);
	cJSON *j = succeeded(r);
	assert_json_equal(j, "{\"type\":\"get_resp\",\"req_path_results\":["
			     "{\"requested_path\":\"Device.DeviceInfo.SoftwareVersion\","
			     "\"resolved_path_results\":[{\"resolved_path\":\"Device.DeviceInfo.\","
			     "\"result_params\":{\"SoftwareVersion\":\"4.2.1\"}}]},"
			     "{\"requested_path\":\"Device.DeviceInfo.ModelName\","
			     "\"resolved_path_results\":[{\"resolved_path\":\"Device.DeviceInfo.\","
			     "\"result_params\":{\"ModelName\":\"GW-1\"}}]}]}");
	cJSON_Delete(j);
	/* every value the CPE sent is a snapshot row, with its type */
	const struct acs_run_outcome *o = acs_run_outcome(r);
	assert_int_equal(o->n_rows, 3);
	assert_string_equal(row(r, "Device.DeviceInfo.SoftwareVersion")->value, "4.2.1");
	assert_string_equal(row(r, "Device.DeviceInfo.ModelName")->type, "string");
	assert_null(row(r, "Device.DeviceInfo.SoftwareVersionX")->type);
	assert_false(o->oper_requested);
	assert_int_equal(o->n_deleted, 0);
	acs_run_free(r);
}

static void get_partial_path(void **state)
{
	(void)state;
	struct acs_run *r = run_new(12, "get", "{\"param_paths\": [\"Device.DeviceInfo.\"]}");
	struct cwmp_msg m;
	next_is(r, &m, CWMP_M_GET_PARAMETER_VALUES);
	names_are(&m, "Device.DeviceInfo.");
	struct cwmp_param_value v[] = {
		{ (char *)"Device.DeviceInfo.Manufacturer", (char *)"Example", (char *)"string" },
		{ (char *)"Device.DeviceInfo.MemoryStatus.Total", (char *)"65536",
		  (char *)"unsignedInt" },
		{ (char *)"Device.DeviceInfo.UpTime", (char *)"42", (char *)"unsignedInt" },
		{ (char *)"Device.DeviceInfo.MemoryStatus.Free", (char *)"1024",
		  (char *)"unsignedInt" },
		{ (char *)"Device.DeviceInfoX.Nope", (char *)"x", NULL }, /* not under it */
		{ (char *)"Device.DeviceInfo.Description", NULL, NULL },  /* no value: "" */
	};
	answer_values(r, v, 6);
	cJSON *j = succeeded(r);
	assert_json_equal(
		j, "{\"type\":\"get_resp\",\"req_path_results\":["
		   "{\"requested_path\":\"Device.DeviceInfo.\",\"resolved_path_results\":["
		   "{\"resolved_path\":\"Device.DeviceInfo.\",\"result_params\":"
		   "{\"Manufacturer\":\"Example\",\"UpTime\":\"42\",\"Description\":\"\"}},"
		   "{\"resolved_path\":\"Device.DeviceInfo.MemoryStatus.\",\"result_params\":"
		   "{\"Total\":\"65536\",\"Free\":\"1024\"}}]}]}");
	cJSON_Delete(j);
	assert_int_equal(acs_run_outcome(r)->n_rows, 6);
	assert_string_equal(row(r, "Device.DeviceInfo.Description")->value, "");
	acs_run_free(r);
}

static void get_pattern_filtered(void **state)
{
	(void)state;
	struct acs_run *r = run_new(13, "get",
				    "{\"param_paths\": [\"Device.WiFi.SSID.*.SSID\","
				    " \"Device.WiFi.SSID.*.Stats.\"]}");
	struct cwmp_msg m;
	next_is(r, &m, CWMP_M_GET_PARAMETER_VALUES);
	/* both ask for the same partial path: sent once */
	names_are(&m, "Device.WiFi.SSID.");
	struct cwmp_param_value v[] = {
		{ (char *)"Device.WiFi.SSID.1.Enable", (char *)"true", (char *)"boolean" },
		{ (char *)"Device.WiFi.SSID.1.SSID", (char *)"home", (char *)"string" },
		{ (char *)"Device.WiFi.SSID.1.Stats.BytesSent", (char *)"7",
		  (char *)"unsignedLong" },
		{ (char *)"Device.WiFi.SSID.2.SSID", (char *)"home-5G", (char *)"string" },
		{ (char *)"Device.WiFi.SSID.2.SSIDReference", (char *)"x", (char *)"string" },
		{ (char *)"Device.WiFi.SSID.2.Stats.SSID", (char *)"deep", (char *)"string" },
		{ (char *)"Device.WiFi.SSIDNumberOfEntries", (char *)"2", (char *)"unsignedInt" },
	};
	answer_values(r, v, 7);
	cJSON *j = succeeded(r);
	assert_json_equal(
		j, "{\"type\":\"get_resp\",\"req_path_results\":["
		   "{\"requested_path\":\"Device.WiFi.SSID.*.SSID\",\"resolved_path_results\":["
		   "{\"resolved_path\":\"Device.WiFi.SSID.1.\",\"result_params\":{\"SSID\":"
		   "\"home\"}},"
		   "{\"resolved_path\":\"Device.WiFi.SSID.2.\",\"result_params\":{\"SSID\":"
		   "\"home-5G\"}}]},"
		   "{\"requested_path\":\"Device.WiFi.SSID.*.Stats.\",\"resolved_path_results\":["
		   "{\"resolved_path\":\"Device.WiFi.SSID.1.Stats.\",\"result_params\":"
		   "{\"BytesSent\":\"7\"}},"
		   "{\"resolved_path\":\"Device.WiFi.SSID.2.Stats.\",\"result_params\":"
		   "{\"SSID\":\"deep\"}}]}]}");
	cJSON_Delete(j);
	/* the snapshot keeps all the CPE said, filtered or not */
	assert_int_equal(acs_run_outcome(r)->n_rows, 7);
	acs_run_free(r);
}

/* The get_resp example of docs/json.md, from its own get request: the
 * result is the same document, less msg_id and the path the CPE (here)
 * does not answer for. */
static void get_docs_shape(void **state)
{
	(void)state;
	cJSON *req = doc_block("### Get / GetResp", "request get");
	cJSON *want = doc_block("### Get / GetResp", "response");
	/* a CWMP device fails a whole GetParameterValues on a bad name: drop
	 * the path the example's agent refused, and the example's msg_id */
	cJSON *pp = cJSON_GetObjectItemCaseSensitive(req, "param_paths");
	cJSON *rpr = cJSON_GetObjectItemCaseSensitive(want, "req_path_results");
	assert_int_equal(cJSON_GetArraySize(pp), 3);
	assert_int_equal(cJSON_GetArraySize(rpr), 3);
	assert_non_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(rpr, 2), "err_code"));
	cJSON_DeleteItemFromArray(pp, 2);
	cJSON_DeleteItemFromArray(rpr, 2);
	cJSON_DeleteItemFromObjectCaseSensitive(want, "msg_id");
	char *req_text = cJSON_PrintUnformatted(req);

	struct acs_run *r = run_new(17, "get", req_text);
	struct cwmp_msg m;
	next_is(r, &m, CWMP_M_GET_PARAMETER_VALUES);
	names_are(&m, "Device.DeviceInfo.SoftwareVersion Device.WiFi.SSID.");
	struct cwmp_param_value v[] = {
		{ (char *)"Device.DeviceInfo.SoftwareVersion", (char *)"4.2.1", (char *)"string" },
		{ (char *)"Device.WiFi.SSID.1.Enable", (char *)"true", (char *)"boolean" },
		{ (char *)"Device.WiFi.SSID.1.SSID", (char *)"home", (char *)"string" },
		{ (char *)"Device.WiFi.SSID.2.SSID", (char *)"home-5G", (char *)"string" },
	};
	answer_values(r, v, 4);
	cJSON *got = succeeded(r);
	if (!cJSON_Compare(got, want, 1)) {
		char *g = cJSON_PrintUnformatted(got), *w = cJSON_PrintUnformatted(want);
		print_error("got  %s\nwant %s\n", g, w);
		free(g);
		free(w);
		fail();
	}
	cJSON_Delete(got);
	cJSON_Delete(want);
	cJSON_Delete(req);
	free(req_text);
	acs_run_free(r);
}

static void get_batches_of_32(void **state)
{
	(void)state;
	enum { N = 2 * ACS_GPV_BATCH + 5 };
	char names[N][48];
	cJSON *req = cJSON_CreateObject();
	cJSON *pp = cJSON_AddArrayToObject(req, "param_paths");
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "Device.X.P%02d", i);
		cJSON_AddItemToArray(pp, cJSON_CreateString(names[i]));
	}
	char *text = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	struct acs_run *r = run_new(14, "get", text);
	free(text);

	int sent = 0, rpcs = 0;
	struct cwmp_msg m;
	while (acs_run_next(r, &m) == 1) {
		assert_int_equal(m.method, CWMP_M_GET_PARAMETER_VALUES);
		size_t want = sent + ACS_GPV_BATCH <= N ? ACS_GPV_BATCH : (size_t)(N - sent);
		assert_int_equal(m.n_names, want);
		struct cwmp_param_value v[ACS_GPV_BATCH];
		for (size_t i = 0; i < m.n_names; i++) {
			assert_string_equal(m.names[i], names[sent + i]);
			v[i].name = m.names[i];
			v[i].value = m.names[i] + 9; /* "Pnn" */
			v[i].type = (char *)"string";
		}
		sent += (int)m.n_names;
		rpcs++;
		answer_values(r, v, m.n_names);
	}
	assert_int_equal(rpcs, 3);
	assert_int_equal(sent, N);
	cJSON *j = succeeded(r);
	cJSON *rpr = cJSON_GetObjectItemCaseSensitive(j, "req_path_results");
	assert_int_equal(cJSON_GetArraySize(rpr), N);
	for (int i = 0; i < N; i++) {
		cJSON *one = cJSON_GetArrayItem(rpr, i);
		assert_string_equal(
			cJSON_GetObjectItemCaseSensitive(one, "requested_path")->valuestring,
			names[i]);
		cJSON *res = cJSON_GetArrayItem(
			cJSON_GetObjectItemCaseSensitive(one, "resolved_path_results"), 0);
		cJSON *params = cJSON_GetObjectItemCaseSensitive(res, "result_params");
		assert_string_equal(
			cJSON_GetObjectItemCaseSensitive(params, names[i] + 9)->valuestring,
			names[i] + 9);
	}
	cJSON_Delete(j);
	assert_int_equal(acs_run_outcome(r)->n_rows, N);
	acs_run_free(r);
}

/* ---- set ------------------------------------------------------------------ */

static const char set_req[] = "{\"update_objs\": ["
			      " {\"obj_path\": \"Device.WiFi.SSID.1.\", \"param_settings\": ["
			      "   {\"param\": \"SSID\", \"value\": \"office\", \"required\": true},"
			      "   {\"param\": \"Enable\", \"value\": \"true\"}]},"
			      " {\"obj_path\": \"Device.Time.\", \"param_settings\": ["
			      "   {\"param\": \"NTPServer1\", \"value\": \"pool.ntp.org\"}]}]}";

static const char set_resp_want[] =
	"{\"type\":\"set_resp\",\"updated_obj_results\":["
	"{\"requested_path\":\"Device.WiFi.SSID.1.\",\"oper_status\":{\"oper_success\":"
	"{\"updated_inst_results\":[{\"affected_path\":\"Device.WiFi.SSID.1.\","
	"\"updated_params\":{\"SSID\":\"office\",\"Enable\":\"true\"}}]}}},"
	"{\"requested_path\":\"Device.Time.\",\"oper_status\":{\"oper_success\":"
	"{\"updated_inst_results\":[{\"affected_path\":\"Device.Time.\","
	"\"updated_params\":{\"NTPServer1\":\"pool.ntp.org\"}}]}}}],"
	"\"cwmp_status\":%d}";

static void spv_is(const struct cwmp_msg *m, const char *key, const char *const want[][3], size_t n)
{
	assert_int_equal(m->method, CWMP_M_SET_PARAMETER_VALUES);
	assert_non_null(m->parameter_key);
	assert_string_equal(m->parameter_key, key);
	assert_int_equal(m->n_values, n);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(m->values[i].name, want[i][0]);
		assert_string_equal(m->values[i].value, want[i][1]);
		assert_non_null(m->values[i].type);
		assert_string_equal(m->values[i].type, want[i][2]);
	}
}

static void set_types_given(void **state)
{
	(void)state;
	struct acs_run *r = run_new(42, "set", set_req);
	assert_false(acs_run_idempotent(r));
	const char *tn[8];
	assert_int_equal(acs_run_type_names(r, tn, 8), 3);
	assert_string_equal(tn[0], "Device.WiFi.SSID.1.SSID");
	assert_string_equal(tn[1], "Device.WiFi.SSID.1.Enable");
	assert_string_equal(tn[2], "Device.Time.NTPServer1");
	/* as the session gives them: model paths from cwmp_param_types */
	acs_run_set_type(r, "Device.WiFi.SSID.{i}.SSID", "string");
	acs_run_set_type(r, "Device.WiFi.SSID.{i}.Enable", "boolean");
	acs_run_set_type(r, "Device.Time.NTPServer1", "string");
	acs_run_set_type(r, "Device.WiFi.SSID.{i}.Enable", "int"); /* the first one stays */
	acs_run_set_type(r, "Device.Other.{i}.SSID", "int");       /* no such parameter */

	struct cwmp_msg m;
	assert_int_equal(acs_run_next(r, &m), 1);
	static const char *const want[][3] = {
		{ "Device.WiFi.SSID.1.SSID", "office", "string" },
		{ "Device.WiFi.SSID.1.Enable", "true", "boolean" },
		{ "Device.Time.NTPServer1", "pool.ntp.org", "string" },
	};
	spv_is(&m, "42", want, 3);
	answer_status(r, CWMP_M_SET_PARAMETER_VALUES_RESPONSE, 0);
	cJSON *j = succeeded(r);
	char w[sizeof(set_resp_want) + 8];
	snprintf(w, sizeof(w), set_resp_want, 0);
	assert_json_equal(j, w);
	cJSON_Delete(j);
	/* the values set are the device's now, with their types */
	assert_int_equal(acs_run_outcome(r)->n_rows, 3);
	assert_string_equal(row(r, "Device.WiFi.SSID.1.Enable")->value, "true");
	assert_string_equal(row(r, "Device.WiFi.SSID.1.Enable")->type, "boolean");
	acs_run_free(r);
}

/* Status 1: the CPE applies the values later; the result says so. */
static void set_status_one(void **state)
{
	(void)state;
	struct acs_run *r = run_new(43, "set", set_req);
	acs_run_set_type(r, "Device.WiFi.SSID.1.SSID", "string"); /* instance form works too */
	acs_run_set_type(r, "Device.WiFi.SSID.1.Enable", "boolean");
	acs_run_set_type(r, "Device.Time.NTPServer1", "string");
	struct cwmp_msg m;
	next_is(r, &m, CWMP_M_SET_PARAMETER_VALUES);
	answer_status(r, CWMP_M_SET_PARAMETER_VALUES_RESPONSE, 1);
	cJSON *j = succeeded(r);
	char w[sizeof(set_resp_want) + 8];
	snprintf(w, sizeof(w), set_resp_want, 1);
	assert_json_equal(j, w);
	cJSON_Delete(j);
	acs_run_free(r);
}

static void set_learns_types(void **state)
{
	(void)state;
	struct acs_run *r = run_new(44, "set", set_req);
	acs_run_set_type(r, "Device.Time.NTPServer1", "string"); /* one known */
	struct cwmp_msg m;
	next_is(r, &m, CWMP_M_GET_PARAMETER_VALUES);
	names_are(&m, "Device.WiFi.SSID.1.SSID Device.WiFi.SSID.1.Enable");
	struct cwmp_param_value v[] = {
		{ (char *)"Device.WiFi.SSID.1.Enable", (char *)"false", (char *)"boolean" },
		{ (char *)"Device.WiFi.SSID.1.SSID", (char *)"home", NULL }, /* no type: string */
	};
	answer_values(r, v, 2);
	next_is(r, &m, CWMP_M_SET_PARAMETER_VALUES);
	static const char *const want[][3] = {
		{ "Device.WiFi.SSID.1.SSID", "office", "string" },
		{ "Device.WiFi.SSID.1.Enable", "true", "boolean" },
		{ "Device.Time.NTPServer1", "pool.ntp.org", "string" },
	};
	spv_is(&m, "44", want, 3);
	answer_status(r, CWMP_M_SET_PARAMETER_VALUES_RESPONSE, 0);
	cJSON *j = succeeded(r);
	char w[sizeof(set_resp_want) + 8];
	snprintf(w, sizeof(w), set_resp_want, 0);
	assert_json_equal(j, w);
	cJSON_Delete(j);
	/* the values read, then the values set with the types learned */
	assert_int_equal(acs_run_outcome(r)->n_rows, 2 + 3);
	assert_string_equal(row(r, "Device.WiFi.SSID.1.SSID")->value, "office");
	assert_string_equal(row(r, "Device.WiFi.SSID.1.SSID")->type, "string");
	assert_string_equal(row(r, "Device.WiFi.SSID.1.Enable")->type, "boolean");
	acs_run_free(r);
}

static void set_unknown_name_9005(void **state)
{
	(void)state;
	struct acs_run *r = run_new(45, "set", set_req);
	struct cwmp_msg m;
	next_is(r, &m, CWMP_M_GET_PARAMETER_VALUES);
	names_are(&m, "Device.WiFi.SSID.1.SSID Device.WiFi.SSID.1.Enable Device.Time.NTPServer1");
	struct cwmp_param_value v[] = {
		{ (char *)"Device.WiFi.SSID.1.SSID", (char *)"home", (char *)"string" },
		{ (char *)"Device.Time.NTPServer1", (char *)"a", (char *)"string" },
	};
	answer_values(r, v, 2); /* no Enable */
	failed_with(r, 9005, "Device.WiFi.SSID.1.Enable", NULL);
	acs_run_free(r);
}

static void set_refusals(void **state)
{
	(void)state;
	refused("set", "{}", 7004, "update_objs");
	refused("set", "{\"update_objs\": []}", 7004, "update_objs");
	refused("set", "{\"update_objs\": [{\"obj_path\": \"Device.Time.\"}]}", 7004,
		"no parameter");
	refused("set",
		"{\"update_objs\": [{\"obj_path\": \"Device.Time\", \"param_settings\":"
		" [{\"param\": \"NTPServer1\", \"value\": \"x\"}]}]}",
		7004, "Device.Time");
	refused("set",
		"{\"update_objs\": [{\"obj_path\": \"Device.WiFi.SSID.*.\", \"param_settings\":"
		" [{\"param\": \"SSID\", \"value\": \"x\"}]}]}",
		7004, "wildcard");
	refused("set",
		"{\"update_objs\": [{\"obj_path\": \"Device.WiFi.SSID.[Alias==\\\"a\\\"].\","
		" \"param_settings\": [{\"param\": \"SSID\", \"value\": \"x\"}]}]}",
		7004, "search");
	refused("set",
		"{\"update_objs\": [{\"obj_path\": \"Device.WiFi.\", \"param_settings\":"
		" [{\"param\": \"SSID.1.SSID\", \"value\": \"x\"}]}]}",
		7004, "param and value");
	refused("set",
		"{\"update_objs\": [{\"obj_path\": \"Device.Time.\", \"param_settings\":"
		" [{\"param\": \"NTPServer1\", \"value\": 5}]}]}",
		7004, "param and value");
}

/* ---- add ------------------------------------------------------------------ */

static const char add_req[] = "{\"create_objs\": [{\"obj_path\": \"Device.NAT.PortMapping.\","
			      " \"param_settings\": [{\"param\": \"Enable\", \"value\": \"true\"},"
			      " {\"param\": \"ExternalPort\", \"value\": \"8080\"}]}]}";

static const char add_resp_want[] =
	"{\"type\":\"add_resp\",\"created_obj_results\":[{\"requested_path\":"
	"\"Device.NAT.PortMapping.\",\"oper_status\":{\"oper_success\":"
	"{\"instantiated_path\":\"Device.NAT.PortMapping.3.\"}}}],\"cwmp_status\":0}";

static void add_object_then_spv(void **state)
{
	(void)state;
	struct acs_run *r = run_new(7, "add", add_req);
	assert_false(acs_run_idempotent(r));
	const char *tn[8];
	assert_int_equal(acs_run_type_names(r, tn, 8), 2);
	assert_string_equal(tn[0], "Device.NAT.PortMapping.{i}.Enable");
	assert_string_equal(tn[1], "Device.NAT.PortMapping.{i}.ExternalPort");
	acs_run_set_type(r, "Device.NAT.PortMapping.{i}.Enable", "boolean");
	acs_run_set_type(r, "Device.NAT.PortMapping.{i}.ExternalPort", "unsignedInt");

	struct cwmp_msg m;
	next_is(r, &m, CWMP_M_ADD_OBJECT);
	assert_string_equal(m.object_name, "Device.NAT.PortMapping.");
	assert_string_equal(m.parameter_key, "7");
	struct cwmp_msg in = { .method = CWMP_M_ADD_OBJECT_RESPONSE, .instance_number = 3 };
	acs_run_answer(r, &in);
	assert_false(acs_run_done(r));
	assert_int_equal(acs_run_next(r, &m), 1);
	static const char *const want[][3] = {
		{ "Device.NAT.PortMapping.3.Enable", "true", "boolean" },
		{ "Device.NAT.PortMapping.3.ExternalPort", "8080", "unsignedInt" },
	};
	spv_is(&m, "7", want, 2);
	answer_status(r, CWMP_M_SET_PARAMETER_VALUES_RESPONSE, 0);
	cJSON *j = succeeded(r);
	assert_json_equal(j, add_resp_want);
	cJSON_Delete(j);
	assert_int_equal(acs_run_outcome(r)->n_rows, 2);
	assert_string_equal(row(r, "Device.NAT.PortMapping.3.ExternalPort")->type, "unsignedInt");
	acs_run_free(r);
}

/* Types unknown: AddObject, then a GetParameterValues of the new
 * instance's parameters, then the SetParameterValues. */
static void add_learns_types(void **state)
{
	(void)state;
	struct acs_run *r = run_new(8, "add", add_req);
	struct cwmp_msg m;
	next_is(r, &m, CWMP_M_ADD_OBJECT);
	struct cwmp_msg in = { .method = CWMP_M_ADD_OBJECT_RESPONSE, .instance_number = 3 };
	acs_run_answer(r, &in);
	next_is(r, &m, CWMP_M_GET_PARAMETER_VALUES);
	names_are(&m, "Device.NAT.PortMapping.3.Enable Device.NAT.PortMapping.3.ExternalPort");
	struct cwmp_param_value v[] = {
		{ (char *)"Device.NAT.PortMapping.3.Enable", (char *)"false", (char *)"boolean" },
		{ (char *)"Device.NAT.PortMapping.3.ExternalPort", (char *)"0",
		  (char *)"unsignedInt" },
	};
	answer_values(r, v, 2);
	assert_int_equal(acs_run_next(r, &m), 1);
	static const char *const want[][3] = {
		{ "Device.NAT.PortMapping.3.Enable", "true", "boolean" },
		{ "Device.NAT.PortMapping.3.ExternalPort", "8080", "unsignedInt" },
	};
	spv_is(&m, "8", want, 2);
	answer_status(r, CWMP_M_SET_PARAMETER_VALUES_RESPONSE, 0);
	cJSON *j = succeeded(r);
	assert_json_equal(j, add_resp_want);
	cJSON_Delete(j);
	acs_run_free(r);
}

/* A parameter the CPE does not list after AddObject: the error says the
 * object was created. */
static void add_unknown_parameter_says_created(void **state)
{
	(void)state;
	struct acs_run *r = run_new(8, "add", add_req);
	struct cwmp_msg m;
	next_is(r, &m, CWMP_M_ADD_OBJECT);
	struct cwmp_msg in = { .method = CWMP_M_ADD_OBJECT_RESPONSE, .instance_number = 3 };
	acs_run_answer(r, &in);
	next_is(r, &m, CWMP_M_GET_PARAMETER_VALUES);
	struct cwmp_param_value v[] = {
		{ (char *)"Device.NAT.PortMapping.3.Enable", (char *)"false", (char *)"boolean" },
	};
	answer_values(r, v, 1);
	assert_int_equal(acs_run_next(r, &m), 0);
	failed_with(r, 9005, "AddObject created Device.NAT.PortMapping.3.",
		    "Device.NAT.PortMapping.3.ExternalPort");
	acs_run_free(r);
}

static void add_object_alone(void **state)
{
	(void)state;
	struct acs_run *r = run_new(
		9, "add", "{\"create_objs\": [{\"obj_path\": \"Device.NAT.PortMapping.\"}]}");
	const char *tn[8];
	assert_int_equal(acs_run_type_names(r, tn, 8), 0);
	struct cwmp_msg m;
	next_is(r, &m, CWMP_M_ADD_OBJECT);
	assert_string_equal(m.parameter_key, "9");
	struct cwmp_msg in = { .method = CWMP_M_ADD_OBJECT_RESPONSE, .instance_number = 3 };
	acs_run_answer(r, &in);
	assert_true(acs_run_done(r)); /* no SetParameterValues follows */
	cJSON *j = succeeded(r);
	assert_json_equal(j, add_resp_want);
	cJSON_Delete(j);
	assert_int_equal(acs_run_outcome(r)->n_rows, 0);
	acs_run_free(r);
}

static void add_spv_fault_after_create(void **state)
{
	(void)state;
	struct acs_run *r = run_new(10, "add", add_req);
	acs_run_set_type(r, "Device.NAT.PortMapping.{i}.Enable", "boolean");
	acs_run_set_type(r, "Device.NAT.PortMapping.{i}.ExternalPort", "unsignedInt");
	struct cwmp_msg m;
	next_is(r, &m, CWMP_M_ADD_OBJECT);
	struct cwmp_msg in = { .method = CWMP_M_ADD_OBJECT_RESPONSE, .instance_number = 3 };
	acs_run_answer(r, &in);
	next_is(r, &m, CWMP_M_SET_PARAMETER_VALUES);
	struct cwmp_spv_fault spv[] = {
		{ (char *)"Device.NAT.PortMapping.3.ExternalPort", 9007, (char *)"out of range" },
	};
	answer_fault(r, 9003, "Invalid arguments", spv, 1);
	cJSON_Delete(faulted_with(r, 9007, "AddObject created Device.NAT.PortMapping.3.",
				  "Device.NAT.PortMapping.3.ExternalPort"));
	acs_run_free(r);
}

/* AddObject itself refused: nothing was created, and the message does not
 * claim it was. */
static void add_object_fault(void **state)
{
	(void)state;
	struct acs_run *r = run_new(10, "add", add_req);
	struct cwmp_msg m;
	next_is(r, &m, CWMP_M_ADD_OBJECT);
	answer_fault(r, 9005, "", NULL, 0);
	cJSON_Delete(faulted_with(r, 9005, "AddObject: CWMP fault 9005", NULL));
	assert_null(strstr(acs_run_outcome(r)->error_message, "created"));
	acs_run_free(r);
}

static void add_refusals(void **state)
{
	(void)state;
	refused("add", "{}", 7004, "one object");
	refused("add",
		"{\"create_objs\": [{\"obj_path\": \"Device.NAT.PortMapping.\"},"
		" {\"obj_path\": \"Device.NAT.PortMapping.\"}]}",
		7004, "one object");
	refused("add", "{\"create_objs\": [{\"obj_path\": \"Device.NAT.PortMapping\"}]}", 7004,
		"ending in '.'");
	refused("add",
		"{\"create_objs\": [{\"obj_path\": \"Device.IP.Interface.*.IPv4Address.\"}]}", 7004,
		"wildcard");
	refused("add",
		"{\"create_objs\": [{\"obj_path\": \"Device.IP.Interface.[Name==\\\"wan\\\"]."
		"IPv4Address.\"}]}",
		7004, "search");
}

/* ---- delete --------------------------------------------------------------- */

static void delete_each_path(void **state)
{
	(void)state;
	struct acs_run *r = run_new(20, "delete",
				    "{\"obj_paths\": [\"Device.NAT.PortMapping.9.\","
				    " \"Device.LocalAgent.Subscription.3.\"]}");
	assert_false(acs_run_idempotent(r));
	struct cwmp_msg m;
	next_is(r, &m, CWMP_M_DELETE_OBJECT);
	assert_string_equal(m.object_name, "Device.NAT.PortMapping.9.");
	assert_string_equal(m.parameter_key, "20");
	answer_status(r, CWMP_M_DELETE_OBJECT_RESPONSE, 0);
	next_is(r, &m, CWMP_M_DELETE_OBJECT);
	assert_string_equal(m.object_name, "Device.LocalAgent.Subscription.3.");
	assert_string_equal(m.parameter_key, "20");
	answer_status(r, CWMP_M_DELETE_OBJECT_RESPONSE, 0);
	cJSON *j = succeeded(r);
	assert_json_equal(j, "{\"type\":\"delete_resp\",\"deleted_obj_results\":["
			     "{\"oper_status\":{\"oper_success\":{\"affected_paths\":"
			     "[\"Device.NAT.PortMapping.9.\"]}},\"requested_path\":"
			     "\"Device.NAT.PortMapping.9.\"},"
			     "{\"oper_status\":{\"oper_success\":{\"affected_paths\":"
			     "[\"Device.LocalAgent.Subscription.3.\"]}},\"requested_path\":"
			     "\"Device.LocalAgent.Subscription.3.\"}]}");
	cJSON_Delete(j);
	const struct acs_run_outcome *o = acs_run_outcome(r);
	assert_int_equal(o->n_deleted, 2);
	assert_string_equal(o->deleted[0], "Device.NAT.PortMapping.9.");
	assert_string_equal(o->deleted[1], "Device.LocalAgent.Subscription.3.");
	acs_run_free(r);
}

static void delete_fault_midway(void **state)
{
	(void)state;
	struct acs_run *r = run_new(21, "delete",
				    "{\"obj_paths\": [\"Device.NAT.PortMapping.9.\","
				    " \"Device.NAT.PortMapping.10.\"]}");
	struct cwmp_msg m;
	next_is(r, &m, CWMP_M_DELETE_OBJECT);
	answer_status(r, CWMP_M_DELETE_OBJECT_RESPONSE, 0);
	next_is(r, &m, CWMP_M_DELETE_OBJECT);
	answer_fault(r, 9005, "no such instance", NULL, 0);
	cJSON_Delete(faulted_with(r, 9005, "DeleteObject", "no such instance"));
	/* the first one is gone all the same: its snapshot rows go too */
	assert_int_equal(acs_run_outcome(r)->n_deleted, 1);
	acs_run_free(r);
}

static void delete_refusals(void **state)
{
	(void)state;
	refused("delete", "{}", 7004, "obj_paths");
	refused("delete", "{\"obj_paths\": []}", 7004, "obj_paths");
	refused("delete", "{\"obj_paths\": [\"Device.NAT.PortMapping.9\"]}", 7004,
		"Device.NAT.PortMapping.9");
	refused("delete", "{\"obj_paths\": [\"Device.NAT.PortMapping.*.\"]}", 7004, "wildcard");
	refused("delete",
		"{\"obj_paths\": [\"Device.LocalAgent.Subscription.[ID==\\\"uspc-vc-1\\\"].\"]}",
		7004, "search");
	refused("delete", "{\"obj_paths\": [7]}", 7004, "cannot be deleted");
}

/* ---- operate -------------------------------------------------------------- */

static void reboot_default_key(void **state)
{
	(void)state;
	struct acs_run *r = run_new(31, "operate", "{\"command\": \"Device.Reboot()\"}");
	assert_false(acs_run_idempotent(r));
	struct cwmp_msg m;
	next_is(r, &m, CWMP_M_REBOOT);
	assert_string_equal(m.command_key, "31");
	answer_status(r, CWMP_M_REBOOT_RESPONSE, 0);
	cJSON *j = succeeded(r);
	assert_json_equal(j, "{\"type\":\"operate_resp\",\"operation_results\":["
			     "{\"executed_command\":\"Device.Reboot()\",\"req_obj_path\":"
			     "\"Device.\",\"command_key\":\"31\"}]}");
	cJSON_Delete(j);
	const struct acs_run_outcome *o = acs_run_outcome(r);
	assert_true(o->oper_requested);
	assert_false(o->oper_async_done); /* complete at the "M Reboot" Inform */
	assert_string_equal(o->oper_command_key, "31");
	assert_string_equal(o->oper_obj_path, "Device.");
	assert_string_equal(o->oper_command_name, "Reboot()");
	acs_run_free(r);
}

static void reboot_given_key(void **state)
{
	(void)state;
	struct acs_run *r = run_new(
		32, "operate", "{\"command\": \"Device.Reboot()\", \"command_key\": \"night-1\"}");
	struct cwmp_msg m;
	next_is(r, &m, CWMP_M_REBOOT);
	assert_string_equal(m.command_key, "night-1");
	answer_status(r, CWMP_M_REBOOT_RESPONSE, 0);
	cJSON_Delete(succeeded(r));
	assert_string_equal(acs_run_outcome(r)->oper_command_key, "night-1");
	acs_run_free(r);

	/* an empty command_key is no key: the task id */
	r = run_new(33, "operate", "{\"command\": \"Device.Reboot()\", \"command_key\": \"\"}");
	next_is(r, &m, CWMP_M_REBOOT);
	assert_string_equal(m.command_key, "33");
	acs_run_free(r);

	/* 32 characters is the most CWMP's CommandKey holds */
	r = run_new(34, "operate",
		    "{\"command\": \"Device.Reboot()\","
		    " \"command_key\": \"0123456789abcdef0123456789abcdef\"}");
	next_is(r, &m, CWMP_M_REBOOT);
	acs_run_free(r);
	refused("operate",
		"{\"command\": \"Device.Reboot()\","
		" \"command_key\": \"0123456789abcdef0123456789abcdefX\"}",
		7004, "CommandKey");
}

static void factory_reset(void **state)
{
	(void)state;
	struct acs_run *r = run_new(35, "operate", "{\"command\": \"Device.FactoryReset()\"}");
	struct cwmp_msg m;
	next_is(r, &m, CWMP_M_FACTORY_RESET);
	answer_status(r, CWMP_M_FACTORY_RESET_RESPONSE, 0);
	cJSON *j = succeeded(r);
	assert_json_equal(j, "{\"type\":\"operate_resp\",\"operation_results\":["
			     "{\"executed_command\":\"Device.FactoryReset()\",\"req_obj_path\":"
			     "\"Device.\",\"command_key\":\"35\"}]}");
	cJSON_Delete(j);
	const struct acs_run_outcome *o = acs_run_outcome(r);
	assert_true(o->oper_requested);
	assert_false(o->oper_async_done);
	assert_string_equal(o->oper_command_name, "FactoryReset()");
	assert_string_equal(o->oper_obj_path, "Device.");
	acs_run_free(r);

	/* the TR-098 root too */
	r = run_new(36, "operate", "{\"command\": \"InternetGatewayDevice.FactoryReset()\"}");
	next_is(r, &m, CWMP_M_FACTORY_RESET);
	answer_status(r, CWMP_M_FACTORY_RESET_RESPONSE, 0);
	cJSON_Delete(succeeded(r));
	assert_string_equal(acs_run_outcome(r)->oper_obj_path, "InternetGatewayDevice.");
	acs_run_free(r);
	r = run_new(37, "operate", "{\"command\": \"InternetGatewayDevice.Reboot()\"}");
	next_is(r, &m, CWMP_M_REBOOT);
	acs_run_free(r);
}

static const char dl_req[] =
	"{\"command\": \"Device.DeviceInfo.FirmwareImage.2.Download()\","
	" \"input_args\": {\"URL\": \"http://fw.example.net/images/gw-4.2.1.bin\","
	" \"FileSize\": \"18874368\", \"Username\": \"fw\", \"Password\": \"pw\","
	" \"TargetFileName\": \"gw.bin\", \"AutoActivate\": \"true\"}}";

static void download_fields(void **state)
{
	(void)state;
	struct acs_run *r = run_new(38, "operate", dl_req);
	struct cwmp_msg m;
	next_is(r, &m, CWMP_M_DOWNLOAD);
	const struct cwmp_download *d = &m.download;
	assert_string_equal(d->command_key, "38");
	assert_string_equal(d->file_type, "1 Firmware Upgrade Image");
	assert_string_equal(d->url, "http://fw.example.net/images/gw-4.2.1.bin");
	assert_true(d->file_size == 18874368u);
	assert_string_equal(d->username, "fw");
	assert_string_equal(d->password, "pw");
	assert_string_equal(d->target_file_name, "gw.bin");
	assert_int_equal(d->delay_seconds, 0);
	assert_string_equal(d->success_url, "");
	assert_string_equal(d->failure_url, "");
	/* Status 1: the CPE downloads later; TransferComplete completes it */
	answer_status(r, CWMP_M_DOWNLOAD_RESPONSE, 1);
	cJSON *j = succeeded(r);
	assert_json_equal(j, "{\"type\":\"operate_resp\",\"operation_results\":["
			     "{\"executed_command\":\"Device.DeviceInfo.FirmwareImage.2.Download()"
			     "\",\"req_obj_path\":\"Device.DeviceInfo.FirmwareImage.2.\","
			     "\"command_key\":\"38\"}]}");
	cJSON_Delete(j);
	const struct acs_run_outcome *o = acs_run_outcome(r);
	assert_true(o->oper_requested);
	assert_false(o->oper_async_done);
	assert_string_equal(o->oper_command_key, "38");
	assert_string_equal(o->oper_obj_path, "Device.DeviceInfo.FirmwareImage.2.");
	assert_string_equal(o->oper_command_name, "Download()");
	acs_run_free(r);
}

static void download_done_at_once(void **state)
{
	(void)state;
	struct acs_run *r =
		run_new(39, "operate",
			"{\"command\": \"Device.DeviceInfo.FirmwareImage.1.Download()\","
			" \"command_key\": \"fw-7\","
			" \"input_args\": {\"URL\": \"http://fw/x.bin\"}}");
	struct cwmp_msg m;
	next_is(r, &m, CWMP_M_DOWNLOAD);
	assert_string_equal(m.download.command_key, "fw-7");
	/* arguments not given are empty, not NULL */
	assert_string_equal(m.download.username, "");
	assert_string_equal(m.download.password, "");
	assert_string_equal(m.download.target_file_name, "");
	assert_true(m.download.file_size == 0);
	answer_status(r, CWMP_M_DOWNLOAD_RESPONSE, 0);
	cJSON_Delete(succeeded(r));
	const struct acs_run_outcome *o = acs_run_outcome(r);
	assert_true(o->oper_requested);
	assert_true(o->oper_async_done);
	assert_string_equal(o->oper_command_key, "fw-7");
	acs_run_free(r);
}

static void operate_refusals(void **state)
{
	(void)state;
	refused("operate", "{}", 7004, "command");
	refused("operate", "{\"command\": 5}", 7004, "command");
	/* commands without a CWMP method */
	refused("operate", "{\"command\": \"Device.IP.Diagnostics.IPPing()\"}", 7001,
		"Device.IP.Diagnostics.IPPing()");
	refused("operate", "{\"command\": \"Device.WiFi.Reboot()\"}", 7001, "no TR-069 method");
	refused("operate", "{\"command\": \"Device.Reboot\"}", 7001, "no TR-069 method");
	refused("operate", "{\"command\": \"Other.Reboot()\"}", 7001, "no TR-069 method");
	refused("operate", "{\"command\": \"Device.DeviceInfo.FirmwareImage.1.Activate()\"}", 7001,
		"no TR-069 method");
	/* Download's arguments */
	refused("operate", "{\"command\": \"Device.DeviceInfo.FirmwareImage.1.Download()\"}", 7004,
		"URL");
	refused("operate",
		"{\"command\": \"Device.DeviceInfo.FirmwareImage.1.Download()\","
		" \"input_args\": {\"URL\": \"\"}}",
		7004, "URL");
	refused("operate",
		"{\"command\": \"Device.DeviceInfo.FirmwareImage.1.Download()\","
		" \"input_args\": {\"URL\": \"http://x/y\", \"FileSize\": \"12x\"}}",
		7004, "FileSize");
	refused("operate",
		"{\"command\": \"Device.DeviceInfo.FirmwareImage.1.Download()\","
		" \"input_args\": {\"URL\": \"http://x/y\", \"FileSize\": \"\"}}",
		7004, "FileSize");
	/* FileSize is an unsignedInt */
	refused("operate",
		"{\"command\": \"Device.DeviceInfo.FirmwareImage.1.Download()\","
		" \"input_args\": {\"URL\": \"http://x/y\", \"FileSize\": \"-1\"}}",
		7004, "FileSize");
	refused("operate",
		"{\"command\": \"Device.DeviceInfo.FirmwareImage.1.Download()\","
		" \"input_args\": {\"URL\": \"http://x/y\", \"FileSize\": \"4294967296\"}}",
		7004, "FileSize");
	refused("operate",
		"{\"command\": \"Device.DeviceInfo.FirmwareImage.1.Download()\","
		" \"input_args\": {\"URL\": \"http://x/y\", \"FileSize\": \" +7\"}}",
		7004, "FileSize");
	/* the Download's object: one FirmwareImage row by its number */
	refused("operate", "{\"command\": \"Device.DeviceInfo.FirmwareImage.*.Download()\"}", 7001,
		"no TR-069 method");
	refused("operate",
		"{\"command\": \"Device.DeviceInfo.FirmwareImage.[Alias==\\\"a\\\"].Download()\"}",
		7001, "no TR-069 method");
	refused("operate", "{\"command\": \"Device.X.DeviceInfo.FirmwareImage.1.Download()\"}",
		7001, "no TR-069 method");
	refused("operate", "{\"command\": \"Device.DeviceInfo.FirmwareImage.01.Download()\"}", 7001,
		"no TR-069 method");
	char big[600];
	int n = snprintf(big, sizeof(big),
			 "{\"command\": \"Device.DeviceInfo.FirmwareImage.1.Download()\","
			 " \"input_args\": {\"URL\": \"http://x/");
	memset(big + n, 'a', 257);
	strcpy(big + n + 257, "\"}}");
	refused("operate", big, 7004, "URL");
}

/* ---- notification attributes ------------------------------------------------ */

static void set_attributes_one_spa(void **state)
{
	(void)state;
	struct acs_run *r = run_new(31, "set_attributes",
				    "{\"attributes\": [{\"path\": \"Device.WiFi.SSID.1.SSID\", "
				    "\"notification\": 2}, {\"path\": \"Device.DeviceInfo.\", "
				    "\"notification\": 0, \"access_list\": [\"Subscriber\"]}]}");
	assert_false(acs_run_idempotent(r));
	struct cwmp_msg m;
	next_is(r, &m, CWMP_M_SET_PARAMETER_ATTRIBUTES);
	assert_int_equal(m.n_set_attrs, 2);
	assert_string_equal(m.set_attrs[0].name, "Device.WiFi.SSID.1.SSID");
	assert_int_equal(m.set_attrs[0].notification_change, 1);
	assert_int_equal(m.set_attrs[0].notification, 2);
	assert_int_equal(m.set_attrs[0].access_list_change, 0);
	assert_int_equal(m.set_attrs[1].notification, 0);
	assert_int_equal(m.set_attrs[1].access_list_change, 1);
	assert_int_equal(m.set_attrs[1].n_access_list, 1);
	assert_string_equal(m.set_attrs[1].access_list[0], "Subscriber");
	struct cwmp_msg in = { .method = CWMP_M_SET_PARAMETER_ATTRIBUTES_RESPONSE };
	acs_run_answer(r, &in);
	cJSON *j = succeeded(r);
	assert_json_equal(j, "{\"type\": \"set_attributes_resp\", \"attributes\": ["
			     "{\"path\": \"Device.WiFi.SSID.1.SSID\", \"notification\": 2}, "
			     "{\"path\": \"Device.DeviceInfo.\", \"notification\": 0}]}");
	cJSON_Delete(j);
	acs_run_free(r);
	/* the CPE refuses active notification on a parameter: 9009 */
	r = run_new(32, "set_attributes",
		    "{\"attributes\": [{\"path\": \"Device.DeviceInfo.UpTime\", "
		    "\"notification\": 2}]}");
	next_is(r, &m, CWMP_M_SET_PARAMETER_ATTRIBUTES);
	answer_fault(r, 9009, "Notification request rejected", NULL, 0);
	cJSON_Delete(faulted_with(r, 9009, "SetParameterAttributes", "9009"));
	acs_run_free(r);
	refused("set_attributes", "{\"attributes\": []}", 7004, "attributes");
	refused("set_attributes",
		"{\"attributes\": [{\"path\": \"Device.WiFi.SSID.*.SSID\", \"notification\": 1}]}",
		7004, "path");
	refused("set_attributes",
		"{\"attributes\": [{\"path\": \"Device.X\", \"notification\": 9}]}", 7004,
		"notification");
}

static void get_attributes_filtered(void **state)
{
	(void)state;
	struct acs_run *r =
		run_new(33, "get_attributes", "{\"param_paths\": [\"Device.WiFi.SSID.*.SSID\"]}");
	assert_true(acs_run_idempotent(r));
	struct cwmp_msg m;
	next_is(r, &m, CWMP_M_GET_PARAMETER_ATTRIBUTES);
	names_are(&m, "Device.WiFi.SSID.");
	char *acl[] = { (char *)"Subscriber" };
	struct cwmp_param_attr a[] = {
		{ (char *)"Device.WiFi.SSID.1.SSID", 2, acl, 1 },
		{ (char *)"Device.WiFi.SSID.1.Enable", 0, NULL, 0 },
	};
	struct cwmp_msg in = { .method = CWMP_M_GET_PARAMETER_ATTRIBUTES_RESPONSE,
			       .attrs = a,
			       .n_attrs = 2 };
	acs_run_answer(r, &in);
	assert_int_equal(acs_run_next(r, &m), 0);
	cJSON *j = succeeded(r);
	assert_json_equal(j, "{\"type\": \"get_attributes_resp\", \"req_path_results\": ["
			     "{\"requested_path\": \"Device.WiFi.SSID.*.SSID\", \"attributes\": ["
			     "{\"path\": \"Device.WiFi.SSID.1.SSID\", \"notification\": 2, "
			     "\"access_list\": [\"Subscriber\"]}]}]}");
	cJSON_Delete(j);
	acs_run_free(r);
}

/* ---- faults and wrong answers ---------------------------------------------- */

static void fault_9003_names_first_parameter(void **state)
{
	(void)state;
	struct acs_run *r = run_new(50, "set", set_req);
	acs_run_set_type(r, "Device.WiFi.SSID.{i}.SSID", "string");
	acs_run_set_type(r, "Device.WiFi.SSID.{i}.Enable", "boolean");
	acs_run_set_type(r, "Device.Time.NTPServer1", "string");
	struct cwmp_msg m;
	next_is(r, &m, CWMP_M_SET_PARAMETER_VALUES);
	struct cwmp_spv_fault spv[] = {
		{ (char *)"Device.WiFi.SSID.1.Enable", 9007, (char *)"not a boolean" },
		{ (char *)"Device.Time.NTPServer1", 9008, (char *)"read-only" },
	};
	answer_fault(r, 9003, "Invalid arguments", spv, 2);
	cJSON *res = faulted_with(r, 9007, "Device.WiFi.SSID.1.Enable", "9007");
	/* every parameter's fault, for a client to attribute */
	assert_json_equal(
		cJSON_GetObjectItem(res, "param_errs"),
		"[{\"param_path\": \"Device.WiFi.SSID.1.Enable\", \"err_code\": 9007, "
		"\"err_msg\": \"not a boolean\"}, {\"param_path\": "
		"\"Device.Time.NTPServer1\", \"err_code\": 9008, \"err_msg\": \"read-only\"}]");
	cJSON_Delete(res);
	const char *e = acs_run_outcome(r)->error_message;
	assert_non_null(strstr(e, "SetParameterValues"));
	assert_non_null(strstr(e, "not a boolean"));
	assert_null(strstr(e, "NTPServer1"));
	acs_run_free(r);
}

static void fault_plain(void **state)
{
	(void)state;
	struct acs_run *r = run_new(51, "get", "{\"param_paths\": [\"Device.Nope.X\"]}");
	struct cwmp_msg m;
	next_is(r, &m, CWMP_M_GET_PARAMETER_VALUES);
	answer_fault(r, 9005, "Device.Nope.X is not in the data model", NULL, 0);
	cJSON *res = faulted_with(r, 9005, "GetParameterValues: CWMP fault 9005",
				  "Device.Nope.X is not in the data model");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(res, "param_errs")), 0);
	cJSON_Delete(res);
	/* no more answers change it */
	answer_values(r, NULL, 0);
	assert_int_equal(acs_run_outcome(r)->error_code, 9005);
	acs_run_free(r);

	/* a vendor fault code is kept as it is */
	r = run_new(52, "operate", "{\"command\": \"Device.Reboot()\"}");
	next_is(r, &m, CWMP_M_REBOOT);
	answer_fault(r, 9801, NULL, NULL, 0);
	cJSON_Delete(faulted_with(r, 9801, "9801", NULL));
	assert_false(acs_run_outcome(r)->oper_requested);
	acs_run_free(r);
}

/* A CPE that refuses GetParameterValues of a partial path is asked
 * GetParameterNames of it, then GetParameterValues of the names found;
 * the answer is the one a partial-path read would have given. */
static void get_partial_refused_uses_names(void **state)
{
	(void)state;
	struct acs_run *r =
		run_new(60, "get",
			"{\"param_paths\": [\"Device.WiFi.\", \"Device.Time.NTPServer1\","
			" \"Device.WiFi.SSID.*.SSID\", \"Device.WiFi.\"]}");
	struct cwmp_msg m;
	next_is(r, &m, CWMP_M_GET_PARAMETER_VALUES);
	names_are(&m, "Device.WiFi. Device.Time.NTPServer1 Device.WiFi.SSID.");
	answer_fault(r, 9002, "Internal error", NULL, 0);
	assert_false(acs_run_done(r));
	next_is(r, &m, CWMP_M_GET_PARAMETER_NAMES);
	assert_string_equal(m.parameter_path, "Device.WiFi.");
	assert_int_equal(m.next_level, 0);
	struct cwmp_param_info wifi[] = {
		{ (char *)"Device.WiFi.", 0 },
		{ (char *)"Device.WiFi.SSIDNumberOfEntries", 0 },
		{ (char *)"Device.WiFi.SSID.", 0 },
		{ (char *)"Device.WiFi.SSID.1.", 0 },
		{ (char *)"Device.WiFi.SSID.1.SSID", 1 },
		{ (char *)"Device.WiFi.SSID.1.Enable", 1 },
		{ (char *)"Device.WiFi.SSID.2.SSID", 1 },
	};
	struct cwmp_msg in = { .method = CWMP_M_GET_PARAMETER_NAMES_RESPONSE,
			       .infos = wifi,
			       .n_infos = 7 };
	acs_run_answer(r, &in);
	/* the same partial path twice is asked once; the pattern's own */
	next_is(r, &m, CWMP_M_GET_PARAMETER_NAMES);
	assert_string_equal(m.parameter_path, "Device.WiFi.SSID.");
	in.infos = wifi + 2;
	in.n_infos = 5;
	acs_run_answer(r, &in);
	/* every parameter found, once, and the full name */
	next_is(r, &m, CWMP_M_GET_PARAMETER_VALUES);
	names_are(&m, "Device.Time.NTPServer1 Device.WiFi.SSID.1.Enable Device.WiFi.SSID.1.SSID "
		      "Device.WiFi.SSID.2.SSID Device.WiFi.SSIDNumberOfEntries");
	struct cwmp_param_value v[] = {
		{ (char *)"Device.Time.NTPServer1", (char *)"pool.ntp.org", (char *)"string" },
		{ (char *)"Device.WiFi.SSID.1.Enable", (char *)"true", (char *)"boolean" },
		{ (char *)"Device.WiFi.SSID.1.SSID", (char *)"home", (char *)"string" },
		{ (char *)"Device.WiFi.SSID.2.SSID", (char *)"home-5G", (char *)"string" },
		{ (char *)"Device.WiFi.SSIDNumberOfEntries", (char *)"2", (char *)"unsignedInt" },
	};
	answer_values(r, v, 5);
	cJSON *j = succeeded(r);
	assert_json_equal(
		j, "{\"type\":\"get_resp\",\"req_path_results\":["
		   "{\"requested_path\":\"Device.WiFi.\",\"resolved_path_results\":["
		   "{\"resolved_path\":\"Device.WiFi.SSID.1.\",\"result_params\":{\"Enable\":"
		   "\"true\",\"SSID\":\"home\"}},"
		   "{\"resolved_path\":\"Device.WiFi.SSID.2.\",\"result_params\":{\"SSID\":"
		   "\"home-5G\"}},"
		   "{\"resolved_path\":\"Device.WiFi.\",\"result_params\":{"
		   "\"SSIDNumberOfEntries\":\"2\"}}]},"
		   "{\"requested_path\":\"Device.Time.NTPServer1\",\"resolved_path_results\":["
		   "{\"resolved_path\":\"Device.Time.\",\"result_params\":{\"NTPServer1\":"
		   "\"pool.ntp.org\"}}]},"
		   "{\"requested_path\":\"Device.WiFi.SSID.*.SSID\",\"resolved_path_results\":["
		   "{\"resolved_path\":\"Device.WiFi.SSID.1.\",\"result_params\":{\"SSID\":"
		   "\"home\"}},"
		   "{\"resolved_path\":\"Device.WiFi.SSID.2.\",\"result_params\":{\"SSID\":"
		   "\"home-5G\"}}]},"
		   "{\"requested_path\":\"Device.WiFi.\",\"resolved_path_results\":["
		   "{\"resolved_path\":\"Device.WiFi.SSID.1.\",\"result_params\":{\"Enable\":"
		   "\"true\",\"SSID\":\"home\"}},"
		   "{\"resolved_path\":\"Device.WiFi.SSID.2.\",\"result_params\":{\"SSID\":"
		   "\"home-5G\"}},"
		   "{\"resolved_path\":\"Device.WiFi.\",\"result_params\":{"
		   "\"SSIDNumberOfEntries\":\"2\"}}]}]}");
	cJSON_Delete(j);
	assert_int_equal(acs_run_outcome(r)->n_rows, 5);
	acs_run_free(r);

	/* a fault of the names themselves ends the task with it */
	r = run_new(61, "get", "{\"param_paths\": [\"Device.Nope.\"]}");
	next_is(r, &m, CWMP_M_GET_PARAMETER_VALUES);
	answer_fault(r, 9005, "", NULL, 0);
	next_is(r, &m, CWMP_M_GET_PARAMETER_NAMES);
	answer_fault(r, 9005, "Device.Nope. is not in the data model", NULL, 0);
	cJSON_Delete(faulted_with(r, 9005, "GetParameterNames: CWMP fault 9005",
				  "Device.Nope. is not in the data model"));
	acs_run_free(r);

	/* another fault fails at once */
	r = run_new(62, "get", "{\"param_paths\": [\"Device.WiFi.\"]}");
	next_is(r, &m, CWMP_M_GET_PARAMETER_VALUES);
	answer_fault(r, 9004, "Resources exceeded", NULL, 0);
	cJSON_Delete(faulted_with(r, 9004, "GetParameterValues: CWMP fault 9004", NULL));
	acs_run_free(r);

	/* a GetParameterNames that finds nothing: an empty answer */
	r = run_new(63, "get", "{\"param_paths\": [\"Device.Empty.\"]}");
	next_is(r, &m, CWMP_M_GET_PARAMETER_VALUES);
	answer_fault(r, 9003, "Invalid arguments", NULL, 0);
	next_is(r, &m, CWMP_M_GET_PARAMETER_NAMES);
	struct cwmp_msg none = { .method = CWMP_M_GET_PARAMETER_NAMES_RESPONSE };
	acs_run_answer(r, &none);
	j = succeeded(r);
	assert_json_equal(j, "{\"type\":\"get_resp\",\"req_path_results\":[{\"requested_path\":"
			     "\"Device.Empty.\",\"resolved_path_results\":[]}]}");
	cJSON_Delete(j);
	acs_run_free(r);
}

/* Search expressions in a get: the table is read, the expressions are
 * evaluated on its values (what lets profiles find rows by their keys). */
static void get_search_expressions(void **state)
{
	(void)state;
	struct acs_run *r = run_new(
		70, "get",
		"{\"param_paths\": [\"Device.WiFi.SSID.[Alias==\\\"guest\\\"].\","
		" \"Device.WiFi.SSID.[Alias==\\\"guest\\\"&&Enable==true].SSID\","
		" \"Device.WiFi.SSID.[Alias==\\\"none\\\"].\","
		" \"Device.WiFi.SSID.[Stats.BytesSent>4].Alias\","
		" \"Device.WiFi.AccessPoint.*.AssociatedDevice.[Active==true].MACAddress\"]}");
	struct cwmp_msg m;
	next_is(r, &m, CWMP_M_GET_PARAMETER_VALUES);
	names_are(&m, "Device.WiFi.SSID. Device.WiFi.AccessPoint.");
	struct cwmp_param_value v[] = {
		{ (char *)"Device.WiFi.SSID.1.Alias", (char *)"main", (char *)"string" },
		{ (char *)"Device.WiFi.SSID.1.Enable", (char *)"true", (char *)"boolean" },
		{ (char *)"Device.WiFi.SSID.1.SSID", (char *)"home", (char *)"string" },
		{ (char *)"Device.WiFi.SSID.1.Stats.BytesSent", (char *)"3",
		  (char *)"unsignedInt" },
		{ (char *)"Device.WiFi.SSID.12.Alias", (char *)"guest", (char *)"string" },
		{ (char *)"Device.WiFi.SSID.12.Enable", (char *)"1", (char *)"boolean" },
		{ (char *)"Device.WiFi.SSID.12.SSID", (char *)"guest-wifi", (char *)"string" },
		{ (char *)"Device.WiFi.SSID.12.Stats.BytesSent", (char *)"17",
		  (char *)"unsignedInt" },
		{ (char *)"Device.WiFi.SSIDNumberOfEntries", (char *)"2", (char *)"unsignedInt" },
		{ (char *)"Device.WiFi.AccessPoint.1.AssociatedDevice.1.Active", (char *)"false",
		  (char *)"boolean" },
		{ (char *)"Device.WiFi.AccessPoint.1.AssociatedDevice.1.MACAddress",
		  (char *)"00:00:00:00:00:01", (char *)"string" },
		{ (char *)"Device.WiFi.AccessPoint.2.AssociatedDevice.3.Active", (char *)"true",
		  (char *)"boolean" },
		{ (char *)"Device.WiFi.AccessPoint.2.AssociatedDevice.3.MACAddress",
		  (char *)"00:00:00:00:00:03", (char *)"string" },
	};
	answer_values(r, v, sizeof(v) / sizeof(v[0]));
	cJSON *j = succeeded(r);
	assert_json_equal(
		j,
		"{\"type\":\"get_resp\",\"req_path_results\":["
		"{\"requested_path\":\"Device.WiFi.SSID.[Alias==\\\"guest\\\"].\","
		"\"resolved_path_results\":["
		"{\"resolved_path\":\"Device.WiFi.SSID.12.\",\"result_params\":{\"Alias\":"
		"\"guest\",\"Enable\":\"1\",\"SSID\":\"guest-wifi\"}},"
		"{\"resolved_path\":\"Device.WiFi.SSID.12.Stats.\",\"result_params\":"
		"{\"BytesSent\":\"17\"}}]},"
		"{\"requested_path\":\"Device.WiFi.SSID.[Alias==\\\"guest\\\"&&Enable==true].SSID\","
		"\"resolved_path_results\":["
		"{\"resolved_path\":\"Device.WiFi.SSID.12.\",\"result_params\":{\"SSID\":"
		"\"guest-wifi\"}}]},"
		"{\"requested_path\":\"Device.WiFi.SSID.[Alias==\\\"none\\\"].\","
		"\"resolved_path_results\":[]},"
		"{\"requested_path\":\"Device.WiFi.SSID.[Stats.BytesSent>4].Alias\","
		"\"resolved_path_results\":["
		"{\"resolved_path\":\"Device.WiFi.SSID.12.\",\"result_params\":{\"Alias\":"
		"\"guest\"}}]},"
		"{\"requested_path\":"
		"\"Device.WiFi.AccessPoint.*.AssociatedDevice.[Active==true].MACAddress\","
		"\"resolved_path_results\":["
		"{\"resolved_path\":\"Device.WiFi.AccessPoint.2.AssociatedDevice.3.\","
		"\"result_params\":{\"MACAddress\":\"00:00:00:00:00:03\"}}]}]}");
	cJSON_Delete(j);
	acs_run_free(r);
}

/* get_instances: GetParameterNames of each object path (NextLevel =
 * first_level_only); the instances are the object names below it whose
 * last segment is a number. */
static void get_instances_by_names(void **state)
{
	(void)state;
	struct acs_run *r = run_new(80, "get_instances",
				    "{\"obj_paths\": [\"Device.WiFi.SSID.\", \"Device.NAT.\"],"
				    " \"first_level_only\": false}");
	assert_true(acs_run_idempotent(r));
	struct cwmp_msg m;
	next_is(r, &m, CWMP_M_GET_PARAMETER_NAMES);
	assert_string_equal(m.parameter_path, "Device.WiFi.SSID.");
	assert_int_equal(m.next_level, 0);
	struct cwmp_param_info ssid[] = {
		{ (char *)"Device.WiFi.SSID.", 1 },
		{ (char *)"Device.WiFi.SSID.1.", 1 },
		{ (char *)"Device.WiFi.SSID.1.SSID", 1 },
		{ (char *)"Device.WiFi.SSID.1.Stats.", 0 },
		{ (char *)"Device.WiFi.SSID.10.", 1 },
		{ (char *)"Device.WiFi.SSID.0.", 1 },
		{ (char *)"Device.WiFi.SSIDX.3.", 1 },
	};
	struct cwmp_msg in = { .method = CWMP_M_GET_PARAMETER_NAMES_RESPONSE,
			       .infos = ssid,
			       .n_infos = 7 };
	acs_run_answer(r, &in);
	next_is(r, &m, CWMP_M_GET_PARAMETER_NAMES);
	assert_string_equal(m.parameter_path, "Device.NAT.");
	struct cwmp_param_info nat[] = {
		{ (char *)"Device.NAT.PortMapping.", 1 },
		{ (char *)"Device.NAT.PortMapping.2.", 1 },
		{ (char *)"Device.NAT.PortMapping.2.Description", 1 },
		{ (char *)"Device.NAT.InterfaceSetting.1.", 0 },
	};
	in.infos = nat;
	in.n_infos = 4;
	acs_run_answer(r, &in);
	cJSON *j = succeeded(r);
	assert_json_equal(
		j, "{\"type\":\"get_instances_resp\",\"req_path_results\":["
		   "{\"curr_insts\":[{\"instantiated_obj_path\":\"Device.WiFi.SSID.1.\","
		   "\"unique_keys\":{}},{\"instantiated_obj_path\":\"Device.WiFi.SSID.10.\","
		   "\"unique_keys\":{}}],\"requested_path\":\"Device.WiFi.SSID.\"},"
		   "{\"curr_insts\":[{\"instantiated_obj_path\":\"Device.NAT.PortMapping.2.\","
		   "\"unique_keys\":{}},{\"instantiated_obj_path\":"
		   "\"Device.NAT.InterfaceSetting.1.\",\"unique_keys\":{}}],"
		   "\"requested_path\":\"Device.NAT.\"}]}");
	cJSON_Delete(j);
	acs_run_free(r);

	/* first_level_only: NextLevel true; a fault ends the task with it */
	r = run_new(81, "get_instances",
		    "{\"obj_paths\": [\"Device.Nope.\"], \"first_level_only\": true}");
	next_is(r, &m, CWMP_M_GET_PARAMETER_NAMES);
	assert_int_equal(m.next_level, 1);
	answer_fault(r, 9005, "Invalid parameter name", NULL, 0);
	cJSON_Delete(faulted_with(r, 9005, "GetParameterNames: CWMP fault 9005", NULL));
	acs_run_free(r);
}

/* A TR-098 device: Device. paths go to it under InternetGatewayDevice.,
 * the result names them under Device. again; the snapshot rows keep the
 * device's names; paths given under InternetGatewayDevice. stay. */
static void tr098_root(void **state)
{
	(void)state;
	struct acs_run *r =
		run_new(90, "get",
			"{\"param_paths\": [\"Device.DeviceInfo.SoftwareVersion\","
			" \"Device.WiFi.SSID.*.SSID\", \"Device.NAT.PortMapping.[Description"
			"==\\\"web\\\"].ExternalPort\"]}");
	acs_run_set_tr098(r);
	struct cwmp_msg m;
	next_is(r, &m, CWMP_M_GET_PARAMETER_VALUES);
	names_are(
		&m,
		"InternetGatewayDevice.DeviceInfo.SoftwareVersion InternetGatewayDevice.WiFi.SSID. "
		"InternetGatewayDevice.NAT.PortMapping.");
	struct cwmp_param_value v[] = {
		{ (char *)"InternetGatewayDevice.DeviceInfo.SoftwareVersion", (char *)"3.1",
		  (char *)"string" },
		{ (char *)"InternetGatewayDevice.WiFi.SSID.1.SSID", (char *)"home",
		  (char *)"string" },
		{ (char *)"InternetGatewayDevice.NAT.PortMapping.4.Description", (char *)"web",
		  (char *)"string" },
		{ (char *)"InternetGatewayDevice.NAT.PortMapping.4.ExternalPort", (char *)"80",
		  (char *)"unsignedInt" },
		{ (char *)"InternetGatewayDevice.NAT.PortMapping.5.Description",
		  (char *)"InternetGatewayDevice.LANDevice.1.", (char *)"string" },
	};
	answer_values(r, v, 5);
	cJSON *j = succeeded(r);
	assert_json_equal(
		j,
		"{\"type\":\"get_resp\",\"req_path_results\":["
		"{\"requested_path\":\"Device.DeviceInfo.SoftwareVersion\",\"resolved_path_results\":"
		"[{\"resolved_path\":\"Device.DeviceInfo.\",\"result_params\":{\"SoftwareVersion\":"
		"\"3.1\"}}]},"
		"{\"requested_path\":\"Device.WiFi.SSID.*.SSID\",\"resolved_path_results\":"
		"[{\"resolved_path\":\"Device.WiFi.SSID.1.\",\"result_params\":{\"SSID\":"
		"\"home\"}}]},"
		"{\"requested_path\":\"Device.NAT.PortMapping.[Description==\\\"web\\\"]."
		"ExternalPort\",\"resolved_path_results\":[{\"resolved_path\":"
		"\"Device.NAT.PortMapping.4.\",\"result_params\":{\"ExternalPort\":\"80\"}}]}]}");
	cJSON_Delete(j);
	const struct acs_run_outcome *o = acs_run_outcome(r);
	assert_int_equal(o->n_rows, 5);
	assert_string_equal(o->rows[0].name, "InternetGatewayDevice.DeviceInfo.SoftwareVersion");
	acs_run_free(r);

	/* a set: its names (and the types asked) under the device's root */
	r = run_new(
		91, "set",
		"{\"update_objs\": [{\"obj_path\": \"Device.ManagementServer.\","
		" \"param_settings\": [{\"param\": \"PeriodicInformInterval\", \"value\": \"900\"}]}]}");
	acs_run_set_tr098(r);
	const char *tn[4];
	assert_int_equal(acs_run_type_names(r, tn, 4), 1);
	assert_string_equal(tn[0], "InternetGatewayDevice.ManagementServer.PeriodicInformInterval");
	acs_run_set_type(r, "InternetGatewayDevice.ManagementServer.PeriodicInformInterval",
			 "unsignedInt");
	next_is(r, &m, CWMP_M_SET_PARAMETER_VALUES);
	assert_string_equal(m.values[0].name,
			    "InternetGatewayDevice.ManagementServer.PeriodicInformInterval");
	answer_status(r, CWMP_M_SET_PARAMETER_VALUES_RESPONSE, 0);
	j = succeeded(r);
	assert_string_equal(
		cJSON_GetObjectItem(
			cJSON_GetArrayItem(cJSON_GetObjectItem(j, "updated_obj_results"), 0),
			"requested_path")
			->valuestring,
		"Device.ManagementServer.");
	cJSON_Delete(j);
	acs_run_free(r);

	/* add and delete: the object names too */
	r = run_new(92, "add", "{\"create_objs\": [{\"obj_path\": \"Device.NAT.PortMapping.\"}]}");
	acs_run_set_tr098(r);
	next_is(r, &m, CWMP_M_ADD_OBJECT);
	assert_string_equal(m.object_name, "InternetGatewayDevice.NAT.PortMapping.");
	struct cwmp_msg in = { .method = CWMP_M_ADD_OBJECT_RESPONSE, .instance_number = 3 };
	acs_run_answer(r, &in);
	j = succeeded(r);
	assert_json_equal(j, add_resp_want);
	cJSON_Delete(j);
	acs_run_free(r);
	r = run_new(93, "delete", "{\"obj_paths\": [\"Device.NAT.PortMapping.3.\"]}");
	acs_run_set_tr098(r);
	next_is(r, &m, CWMP_M_DELETE_OBJECT);
	assert_string_equal(m.object_name, "InternetGatewayDevice.NAT.PortMapping.3.");
	answer_status(r, CWMP_M_DELETE_OBJECT_RESPONSE, 0);
	j = succeeded(r);
	assert_string_equal(
		cJSON_GetObjectItem(
			cJSON_GetArrayItem(cJSON_GetObjectItem(j, "deleted_obj_results"), 0),
			"requested_path")
			->valuestring,
		"Device.NAT.PortMapping.3.");
	cJSON_Delete(j);
	/* the snapshot drops the device's own name */
	assert_string_equal(acs_run_outcome(r)->deleted[0],
			    "InternetGatewayDevice.NAT.PortMapping.3.");
	acs_run_free(r);

	/* a path given under the TR-098 root: as it is, both ways */
	r = run_new(94, "get",
		    "{\"param_paths\": [\"InternetGatewayDevice.DeviceInfo.SoftwareVersion\"]}");
	acs_run_set_tr098(r);
	next_is(r, &m, CWMP_M_GET_PARAMETER_VALUES);
	names_are(&m, "InternetGatewayDevice.DeviceInfo.SoftwareVersion");
	answer_values(r, v, 1);
	j = succeeded(r);
	assert_string_equal(
		cJSON_GetObjectItem(
			cJSON_GetArrayItem(
				cJSON_GetObjectItem(
					cJSON_GetArrayItem(
						cJSON_GetObjectItem(j, "req_path_results"), 0),
					"resolved_path_results"),
				0),
			"resolved_path")
			->valuestring,
		"InternetGatewayDevice.DeviceInfo.");
	cJSON_Delete(j);
	acs_run_free(r);
}

static void wrong_answer_fails(void **state)
{
	(void)state;
	struct acs_run *r = run_new(53, "get", "{\"param_paths\": [\"Device.DeviceInfo.\"]}");
	struct cwmp_msg m;
	next_is(r, &m, CWMP_M_GET_PARAMETER_VALUES);
	answer_status(r, CWMP_M_SET_PARAMETER_VALUES_RESPONSE, 0);
	failed_with(r, 7003, "SetParameterValuesResponse", "GetParameterValues");
	acs_run_free(r);

	r = run_new(54, "operate", "{\"command\": \"Device.Reboot()\"}");
	next_is(r, &m, CWMP_M_REBOOT);
	answer_status(r, CWMP_M_EMPTY, 0);
	failed_with(r, 7003, "an empty message", NULL);
	assert_false(acs_run_outcome(r)->oper_requested);
	acs_run_free(r);

	/* FactoryReset answered as if it were a Reboot */
	r = run_new(55, "operate", "{\"command\": \"Device.FactoryReset()\"}");
	next_is(r, &m, CWMP_M_FACTORY_RESET);
	answer_status(r, CWMP_M_REBOOT_RESPONSE, 0);
	failed_with(r, 7003, "RebootResponse", NULL);
	acs_run_free(r);
}

static void fail_from_outside(void **state)
{
	(void)state;
	struct acs_run *r =
		run_new(56, "delete", "{\"obj_paths\": [\"Device.NAT.PortMapping.9.\"]}");
	struct cwmp_msg m;
	next_is(r, &m, CWMP_M_DELETE_OBJECT);
	acs_run_fail(r, 7002, "the session ended");
	failed_with(r, 7002, "the session ended", NULL);
	/* a late answer changes nothing */
	answer_status(r, CWMP_M_DELETE_OBJECT_RESPONSE, 0);
	failed_with(r, 7002, "the session ended", NULL);
	assert_int_equal(acs_run_outcome(r)->n_deleted, 0);
	acs_run_free(r);
}

/* ---- refusals --------------------------------------------------------------- */

static void request_refusals(void **state)
{
	(void)state;
	/* ops without a CWMP meaning */
	refused("get_supported_protocol", "{}", 7001, "no TR-069 equivalent");
	refused("get_instances", "{\"obj_paths\": [\"Device.WiFi.SSID.*.\"]}", 7004,
		"no wildcard or search");
	refused("get_instances", "{\"obj_paths\": [\"Device.WiFi.SSID.1.SSID\"]}", 7004,
		"cannot be listed");
	refused("get_instances", "{\"obj_paths\": []}", 7004, "obj_paths");
	refused("get_supported_dm", "{}", 7001, "no TR-069 equivalent");
	refused("notify", "{}", 7001, "no TR-069 equivalent");
	/* search expressions: a get only, well formed */
	refused("get_attributes", "{\"param_paths\": [\"Device.WiFi.SSID.[Enable==true].SSID\"]}",
		7004, "only for a get");
	refused("set",
		"{\"update_objs\": [{\"obj_path\": \"Device.IP.Interface.[Name==\\\"wan\\\"].\", "
		"\"param_settings\": [{\"param\": \"Enable\", \"value\": \"true\"}]}]}",
		7004, "no wildcard or search");
	refused("delete", "{\"obj_paths\": [\"Device.NAT.PortMapping.[Description==\\\"x\\\"].\"]}",
		7004, "no wildcard or search");
	refused("get", "{\"param_paths\": [\"Device.WiFi.SSID.[Enable==].SSID\"]}", 7008,
		"Device.WiFi.SSID.[Enable==].SSID");
	refused("get", "{\"param_paths\": [\"Device.WiFi.SSID.[Enable==true].Reset()\"]}", 7008,
		"not a parameter or object path");
	/* paths no CPE can be asked */
	refused("get", "{\"param_paths\": [\"Device..X\"]}", 7004, "Device..X");
	refused("get", "{\"param_paths\": [\".Device\"]}", 7004, ".Device");
	refused("get", "{\"param_paths\": [\"\"]}", 7004, "cannot be asked");
	refused("get", "{\"param_paths\": [\"Device.A B\"]}", 7004, "cannot be asked");
	refused("get", "{\"param_paths\": [\"Device.DeviceInfo.\", 3]}", 7004, "non-string");
	refused("get", "{\"param_paths\": []}", 7004, "param_paths");
	refused("get", "{\"param_paths\": \"Device.DeviceInfo.\"}", 7004, "param_paths");
	/* not JSON */
	refused("get", "{\"param_paths\": [", 7004, "not JSON");
	refused("get", "", 7004, "not JSON");
	refused("get", NULL, 7004, "not JSON");
	refused("set", "[1, 2", 7004, "not JSON");
	/* JSON, but not an object */
	refused("get", "[\"Device.\"]", 7004, "param_paths");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(model_path),
		cmocka_unit_test(get_full_names),
		cmocka_unit_test(get_partial_path),
		cmocka_unit_test(get_pattern_filtered),
		cmocka_unit_test(get_docs_shape),
		cmocka_unit_test(get_batches_of_32),
		cmocka_unit_test(set_types_given),
		cmocka_unit_test(set_status_one),
		cmocka_unit_test(set_learns_types),
		cmocka_unit_test(set_unknown_name_9005),
		cmocka_unit_test(set_refusals),
		cmocka_unit_test(add_object_then_spv),
		cmocka_unit_test(add_learns_types),
		cmocka_unit_test(add_unknown_parameter_says_created),
		cmocka_unit_test(add_object_alone),
		cmocka_unit_test(add_spv_fault_after_create),
		cmocka_unit_test(add_object_fault),
		cmocka_unit_test(add_refusals),
		cmocka_unit_test(delete_each_path),
		cmocka_unit_test(delete_fault_midway),
		cmocka_unit_test(delete_refusals),
		cmocka_unit_test(reboot_default_key),
		cmocka_unit_test(reboot_given_key),
		cmocka_unit_test(factory_reset),
		cmocka_unit_test(download_fields),
		cmocka_unit_test(download_done_at_once),
		cmocka_unit_test(operate_refusals),
		cmocka_unit_test(set_attributes_one_spa),
		cmocka_unit_test(get_attributes_filtered),
		cmocka_unit_test(fault_9003_names_first_parameter),
		cmocka_unit_test(fault_plain),
		cmocka_unit_test(get_partial_refused_uses_names),
		cmocka_unit_test(get_search_expressions),
		cmocka_unit_test(get_instances_by_names),
		cmocka_unit_test(tr098_root),
		cmocka_unit_test(wrong_answer_fails),
		cmocka_unit_test(fail_from_outside),
		cmocka_unit_test(request_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
