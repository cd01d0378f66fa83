/*
 * fuzz_acs_map.c — libFuzzer target for uspc-acs's task mapping
 * (controller/acs/acs_map.c): what a CPE answers, fed to a run of each op.
 *
 * Byte 0 picks one of the requests below (every op acs_map maps, and the
 * types a Set needs known or not); the rest is up to MSGS_MAX SOAP
 * envelopes separated by NUL bytes, for cwmp_parse (what uspc-acs does
 * with a CPE's POST). The k-th RPC of the run is answered with the k-th
 * message (the last one for the rest), an empty message when it does not
 * parse.
 * The contract checked:
 *   - a run ends within RUN_STEPS_MAX RPCs, and acs_run_next says so;
 *   - a failed run has an error code and a NUL-terminated message; its
 *     result is NULL or a USP Error's ({"type": "error"} with the same
 *     err_code and err_msg, a param_errs array);
 *   - a run that did not fail has a result: a JSON object with a "type";
 *   - every snapshot row and deleted path it gives is a string.
 * Any violation aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "acs_map.h"
#include "cwmp_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RUN_STEPS_MAX 64
#define MSGS_MAX 4

static const struct {
	const char *op, *request;
	int types; /* give the types a Set asks for */
} runs[] = {
	{ "get",
	  "{\"param_paths\":[\"Device.DeviceInfo.\",\"Device.WiFi.SSID.*.SSID\","
	  "\"Device.Time.NTPServer1\"]}",
	  0 },
	{ "set",
	  "{\"update_objs\":[{\"obj_path\":\"Device.WiFi.SSID.1.\",\"param_settings\":["
	  "{\"param\":\"SSID\",\"value\":\"office\",\"required\":true},{\"param\":\"Enable\","
	  "\"value\":\"true\"}]},{\"obj_path\":\"Device.Time.\",\"param_settings\":[{\"param\":"
	  "\"NTPServer1\",\"value\":\"pool.ntp.org\"}]}]}",
	  0 },
	{ "set",
	  "{\"update_objs\":[{\"obj_path\":\"Device.WiFi.SSID.1.\",\"param_settings\":["
	  "{\"param\":\"SSID\",\"value\":\"office\",\"required\":true}]}]}",
	  1 },
	{ "add",
	  "{\"create_objs\":[{\"obj_path\":\"Device.NAT.PortMapping.\",\"param_settings\":["
	  "{\"param\":\"Enable\",\"value\":\"true\"},{\"param\":\"ExternalPort\",\"value\":"
	  "\"8080\"}]}]}",
	  1 },
	{ "add", "{\"create_objs\":[{\"obj_path\":\"Device.NAT.PortMapping.\"}]}", 0 },
	{ "delete", "{\"obj_paths\":[\"Device.NAT.PortMapping.3.\",\"Device.NAT.PortMapping.4.\"]}",
	  0 },
	{ "operate", "{\"command\":\"Device.Reboot()\",\"command_key\":\"k1\"}", 0 },
	{ "operate", "{\"command\":\"Device.FactoryReset()\"}", 0 },
	{ "operate",
	  "{\"command\":\"Device.DeviceInfo.FirmwareImage.2.Download()\",\"command_key\":\"c1d2\","
	  "\"input_args\":{\"URL\":\"http://127.0.0.1/i.bin\",\"FileSize\":\"4096\"}}",
	  0 },
	{ "set_attributes",
	  "{\"attributes\":[{\"path\":\"Device.Time.NTPServer1\",\"notification\":2},"
	  "{\"path\":\"Device.WiFi.SSID.1.SSID\",\"notification\":1,\"access_list\":"
	  "[\"Subscriber\"]}]}",
	  0 },
	{ "get_attributes", "{\"param_paths\":[\"Device.Time.NTPServer1\",\"Device.WiFi.\"]}", 0 },
	{ "get",
	  "{\"param_paths\":[\"Device.WiFi.SSID.[Alias==\\\"g\\\"&&Enable==true].SSID\","
	  "\"Device.DeviceInfo.[Manufacturer!=\\\"x\\\"].\",\"Device.WiFi.AccessPoint.*."
	  "AssociatedDevice.[Stats.BytesSent>=10].\"]}",
	  0 },
	{ "get_instances",
	  "{\"obj_paths\":[\"Device.WiFi.SSID.\",\"Device.\"],\"first_level_only\":false}", 0 },
};
#define N_RUNS (sizeof(runs) / sizeof(runs[0]))

static void check_outcome(const struct acs_run_outcome *o)
{
	if (o->failed) {
		if (!o->error_code || !memchr(o->error_message, '\0', sizeof(o->error_message)))
			abort();
		if (!o->result_json)
			return;
		cJSON *j = cJSON_Parse(o->result_json);
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "type");
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "err_code");
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "err_msg");
		if (!j || !cJSON_IsString(t) || strcmp(t->valuestring, "error") != 0 ||
		    !cJSON_IsNumber(c) || c->valuedouble != (double)o->error_code ||
		    !cJSON_IsString(m) || strcmp(m->valuestring, o->error_message) != 0 ||
		    !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "param_errs")))
			abort();
		cJSON_Delete(j);
		return;
	}
	cJSON *j = o->result_json ? cJSON_Parse(o->result_json) : NULL;
	if (!cJSON_IsObject(j) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "type")))
		abort();
	cJSON_Delete(j);
	for (size_t i = 0; i < o->n_rows; i++)
		if (!o->rows[i].name || !o->rows[i].value)
			abort();
	for (size_t i = 0; i < o->n_deleted; i++)
		if (!o->deleted[i])
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const size_t which = data[0] % N_RUNS;
	struct cwmp_msg in[MSGS_MAX];
	size_t n_in = 0;
	char errbuf[160];
	for (size_t at = 1; at <= size && n_in < MSGS_MAX;) {
		const uint8_t *end = memchr(data + at, '\0', size - at);
		size_t len = end ? (size_t)(end - (data + at)) : size - at;
		if (n_in == MSGS_MAX - 1)
			len = size - at; /* the last message takes the rest */
		if (cwmp_parse((const char *)data + at, len, &in[n_in], errbuf, sizeof(errbuf)) !=
		    0) {
			memset(&in[n_in], 0, sizeof(in[n_in]));
			in[n_in].method = CWMP_M_EMPTY;
		}
		n_in++;
		at += len + 1;
	}
	uint32_t code = 0;
	char why[256];
	struct acs_run *r =
		acs_run_new(7, runs[which].op, runs[which].request, &code, why, sizeof(why));
	if (!r)
		abort(); /* every request above maps */
	if (runs[which].types) {
		const char *names[16];
		size_t n = acs_run_type_names(r, names, 16);
		for (size_t i = 0; i < n && i < 16; i++)
			acs_run_set_type(r, names[i], i % 2 ? "boolean" : "string");
	}
	struct cwmp_msg out;
	int steps = 0;
	while (acs_run_next(r, &out)) {
		if (acs_run_done(r) || ++steps > RUN_STEPS_MAX)
			abort(); /* an RPC after the end, or a run that never ends */
		acs_run_answer(r, &in[(size_t)steps - 1 < n_in ? (size_t)steps - 1 : n_in - 1]);
	}
	if (!acs_run_done(r))
		abort();
	check_outcome(acs_run_outcome(r));
	acs_run_free(r);
	for (size_t i = 0; i < n_in; i++)
		cwmp_msg_free(&in[i]);
	return 0;
}
