/*
 * test_cwmp_msg.c — the CWMP builder (controller/cwmp/cwmp_build*.c) and
 * round trips: every buildable method in all five namespaces is built from
 * its sample, parsed back and compared field by field; our bytes are
 * compared with the golden files tests/vectors/cwmp/build/<Method>.xml;
 * the builder's refusals (bad UTF-8, control characters, limits, missing
 * required fields) and its escaping.
 *
 * `test_cwmp_msg --write DIR` writes the golden files from the samples
 * (tests/vectors/README.md: read every line against the XSD before
 * committing them).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cwmp_msg.h"
#include "cwmp_samples.h"

#define BUILD_DIR USPC_TEST_DATA_DIR "/vectors/cwmp/build"

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(CWMP_MAX_BODY + 1);
	size_t n = buf ? fread(buf, 1, CWMP_MAX_BODY, f) : 0;
	fclose(f);
	if (buf)
		buf[n] = '\0';
	*len = n;
	return buf;
}

/* Build m, parse the result, compare with m. */
static void round_trip(const struct cwmp_msg *m)
{
	size_t len;
	int err = 1;
	char *doc = cwmp_build(m, &len, &err);
	if (!doc)
		fail_msg("%s: build failed: %s", cwmp_method_name(m->method), cwmp_err_str(err));
	assert_int_equal(err, CWMP_OK);
	assert_int_equal(strlen(doc), len);
	struct cwmp_msg back;
	char errbuf[200], why[300];
	int rc = cwmp_parse(doc, len, &back, errbuf, sizeof(errbuf));
	if (rc != 0)
		fail_msg("%s: parse of our build failed: %s\n%s", cwmp_method_name(m->method),
			 errbuf, doc);
	if (!cwmp_msg_equal(m, &back, why, sizeof(why)))
		fail_msg("%s: round trip differs: %s\n%s", cwmp_method_name(m->method), why, doc);
	cwmp_msg_free(&back);
	free(doc);
}

static void test_round_trip_every_method(void **state)
{
	(void)state;
	int n = 0;
	for (int ns = 0; ns < CWMP_NS_COUNT; ns++) {
		for (int meth = 0; meth < CWMP_M_COUNT; meth++) {
			struct cwmp_msg m;
			if (cwmp_sample((enum cwmp_method)meth, (enum cwmp_ns)ns, "id-1", &m) != 0)
				continue;
			round_trip(&m);
			m.header.id = NULL; /* no Header at all */
			round_trip(&m);
			cwmp_sample_fini(&m);
			n++;
		}
	}
	assert_int_equal(n, (CWMP_M_COUNT - 2) * CWMP_NS_COUNT);
}

static void test_round_trip_header(void **state)
{
	(void)state;
	struct cwmp_msg m;
	cwmp_sample(CWMP_M_INFORM_RESPONSE, CWMP_NS_1_4, "a&b<c>", &m);
	m.header.hold_requests = 1;
	m.header.no_more_requests = 0;
	m.header.session_timeout = 120;
	m.header.supported_cwmp_versions = (char *)"1.0,1.1,1.2,1.3,1.4";
	m.header.use_cwmp_version = (char *)"1.4";
	round_trip(&m);
	m.header.hold_requests = 0;
	m.header.id = NULL;
	round_trip(&m);
	m.header.hold_requests = 2;
	size_t len;
	int err;
	assert_null(cwmp_build(&m, &len, &err));
	assert_int_equal(err, CWMP_E_ARG);
}

/* The golden files: our exact bytes for every method. */
struct golden {
	const char *file;
	enum cwmp_method method;
	enum cwmp_ns ns;
	const char *id;
};

static const struct golden goldens[] = {
	{ "Inform.xml", CWMP_M_INFORM, CWMP_NS_1_0, "1" },
	{ "InformResponse.xml", CWMP_M_INFORM_RESPONSE, CWMP_NS_1_0, "1" },
	{ "TransferComplete.xml", CWMP_M_TRANSFER_COMPLETE, CWMP_NS_1_1, "tc-1" },
	{ "TransferCompleteResponse.xml", CWMP_M_TRANSFER_COMPLETE_RESPONSE, CWMP_NS_1_1, "tc-1" },
	{ "AutonomousTransferComplete.xml", CWMP_M_AUTONOMOUS_TRANSFER_COMPLETE, CWMP_NS_1_2, "a" },
	{ "AutonomousTransferCompleteResponse.xml", CWMP_M_AUTONOMOUS_TRANSFER_COMPLETE_RESPONSE,
	  CWMP_NS_1_2, "a" },
	{ "RequestDownload.xml", CWMP_M_REQUEST_DOWNLOAD, CWMP_NS_1_2, "rd" },
	{ "RequestDownloadResponse.xml", CWMP_M_REQUEST_DOWNLOAD_RESPONSE, CWMP_NS_1_2, "rd" },
	{ "GetRPCMethods.xml", CWMP_M_GET_RPC_METHODS, CWMP_NS_1_0, "g" },
	{ "GetRPCMethodsResponse.xml", CWMP_M_GET_RPC_METHODS_RESPONSE, CWMP_NS_1_0, "g" },
	{ "GetParameterValues.xml", CWMP_M_GET_PARAMETER_VALUES, CWMP_NS_1_2, "uspc-17-1" },
	{ "GetParameterValuesResponse.xml", CWMP_M_GET_PARAMETER_VALUES_RESPONSE, CWMP_NS_1_2,
	  "uspc-17-1" },
	{ "GetParameterNames.xml", CWMP_M_GET_PARAMETER_NAMES, CWMP_NS_1_0, "uspc-18-1" },
	{ "GetParameterNamesResponse.xml", CWMP_M_GET_PARAMETER_NAMES_RESPONSE, CWMP_NS_1_0,
	  "uspc-18-1" },
	{ "GetParameterAttributes.xml", CWMP_M_GET_PARAMETER_ATTRIBUTES, CWMP_NS_1_0, "uspc-19-1" },
	{ "GetParameterAttributesResponse.xml", CWMP_M_GET_PARAMETER_ATTRIBUTES_RESPONSE,
	  CWMP_NS_1_4, "uspc-19-1" },
	{ "SetParameterValues.xml", CWMP_M_SET_PARAMETER_VALUES, CWMP_NS_1_0, "uspc-20-1" },
	{ "SetParameterValuesResponse.xml", CWMP_M_SET_PARAMETER_VALUES_RESPONSE, CWMP_NS_1_0,
	  "uspc-20-1" },
	{ "SetParameterAttributes.xml", CWMP_M_SET_PARAMETER_ATTRIBUTES, CWMP_NS_1_4, "uspc-21-1" },
	{ "SetParameterAttributesResponse.xml", CWMP_M_SET_PARAMETER_ATTRIBUTES_RESPONSE,
	  CWMP_NS_1_4, "uspc-21-1" },
	{ "AddObject.xml", CWMP_M_ADD_OBJECT, CWMP_NS_1_0, "uspc-22-1" },
	{ "AddObjectResponse.xml", CWMP_M_ADD_OBJECT_RESPONSE, CWMP_NS_1_0, "uspc-22-1" },
	{ "DeleteObject.xml", CWMP_M_DELETE_OBJECT, CWMP_NS_1_0, "uspc-23-1" },
	{ "DeleteObjectResponse.xml", CWMP_M_DELETE_OBJECT_RESPONSE, CWMP_NS_1_0, "uspc-23-1" },
	{ "Reboot.xml", CWMP_M_REBOOT, CWMP_NS_1_3, "uspc-24-1" },
	{ "RebootResponse.xml", CWMP_M_REBOOT_RESPONSE, CWMP_NS_1_3, "uspc-24-1" },
	{ "FactoryReset.xml", CWMP_M_FACTORY_RESET, CWMP_NS_1_0, "uspc-25-1" },
	{ "FactoryResetResponse.xml", CWMP_M_FACTORY_RESET_RESPONSE, CWMP_NS_1_0, "uspc-25-1" },
	{ "Download.xml", CWMP_M_DOWNLOAD, CWMP_NS_1_0, "uspc-26-1" },
	{ "DownloadResponse.xml", CWMP_M_DOWNLOAD_RESPONSE, CWMP_NS_1_0, "uspc-26-1" },
	{ "Fault-9003.xml", CWMP_M_FAULT, CWMP_NS_1_2, "uspc-20-1" },
};

static char *build_golden(const struct golden *g, size_t *len)
{
	struct cwmp_msg m;
	int err;
	assert_int_equal(cwmp_sample(g->method, g->ns, g->id, &m), 0);
	char *doc = cwmp_build(&m, len, &err);
	if (!doc)
		fail_msg("%s: %s", g->file, cwmp_err_str(err));
	cwmp_sample_fini(&m);
	return doc;
}

/* First differing line of two documents, for the failure message. */
static void report_diff(const char *file, const char *want, const char *got)
{
	int line = 1;
	const char *w = want, *g = got;
	while (*w && *w == *g) {
		if (*w == '\n') {
			line++;
			want = w + 1;
			got = g + 1;
		}
		w++, g++;
	}
	fail_msg("%s: line %d differs\n want: %.*s\n  got: %.*s", file, line,
		 (int)strcspn(want, "\n"), want, (int)strcspn(got, "\n"), got);
}

static void compare_with_file(const char *file, const char *doc, size_t len)
{
	char path[512];
	size_t flen;
	snprintf(path, sizeof(path), "%s/%s", BUILD_DIR, file);
	char *want = read_file(path, &flen);
	if (!want)
		fail_msg("%s: cannot read", path);
	if (flen != len || memcmp(want, doc, len) != 0)
		report_diff(file, want, doc);
	free(want);
}

static void test_golden_build(void **state)
{
	(void)state;
	int covered[CWMP_M_COUNT] = { 0 };
	for (size_t i = 0; i < sizeof(goldens) / sizeof(goldens[0]); i++) {
		size_t len;
		char *doc = build_golden(&goldens[i], &len);
		compare_with_file(goldens[i].file, doc, len);
		covered[goldens[i].method] = 1;
		free(doc);
	}
	for (int meth = CWMP_M_FAULT; meth < CWMP_M_COUNT; meth++)
		if (!covered[meth])
			fail_msg("no golden file for %s", cwmp_method_name((enum cwmp_method)meth));
}

/* The ACS's own faults and the headers of an InformResponse in 1.4. */
static void test_golden_fault_and_headers(void **state)
{
	(void)state;
	size_t len;
	int err;
	char *doc = cwmp_build_fault(CWMP_NS_1_4, "cpe-7", 8005, NULL, &len, &err);
	assert_non_null(doc);
	compare_with_file("Fault-8005.xml", doc, len);
	free(doc);

	struct cwmp_msg m;
	cwmp_sample(CWMP_M_INFORM_RESPONSE, CWMP_NS_1_2, "cpe-7", &m);
	m.header.hold_requests = 0;
	m.header.session_timeout = 60;
	m.header.use_cwmp_version = (char *)"1.4";
	m.header.supported_cwmp_versions = (char *)"1.0,1.1,1.2,1.3,1.4";
	doc = cwmp_build(&m, &len, &err);
	assert_non_null(doc);
	compare_with_file("InformResponse-headers.xml", doc, len);
	free(doc);
}

static void test_build_fault(void **state)
{
	(void)state;
	size_t len;
	int err;
	struct cwmp_msg back;
	char errbuf[200];
	/* Unknown code, no text: an empty FaultString; Server side. */
	char *doc = cwmp_build_fault(CWMP_NS_1_1, NULL, 9899, NULL, &len, &err);
	assert_non_null(doc);
	assert_int_equal(cwmp_parse(doc, len, &back, errbuf, sizeof(errbuf)), 0);
	assert_int_equal(back.method, CWMP_M_FAULT);
	assert_int_equal(back.ns, CWMP_NS_1_1);
	assert_int_equal(back.fault.code, 9899);
	assert_string_equal(back.fault.string, "");
	assert_string_equal(back.fault.soap_faultcode, "Server");
	assert_null(back.header.id);
	cwmp_msg_free(&back);
	free(doc);
	/* 8003 is the request's fault: Client. */
	doc = cwmp_build_fault(CWMP_NS_1_0, "x", 8003, "bad ParameterKey", &len, &err);
	assert_non_null(doc);
	assert_int_equal(cwmp_parse(doc, len, &back, errbuf, sizeof(errbuf)), 0);
	assert_string_equal(back.fault.soap_faultcode, "Client");
	assert_string_equal(back.fault.soap_faultstring, "CWMP fault");
	assert_string_equal(back.fault.string, "bad ParameterKey");
	assert_string_equal(back.header.id, "x");
	cwmp_msg_free(&back);
	free(doc);
	assert_null(cwmp_build_fault(CWMP_NS_COUNT, "x", 8000, NULL, &len, &err));
	assert_int_equal(err, CWMP_E_ARG);
}

/* Build a GPV response with one value and return the build error. */
static int build_value(const char *name, const char *value, const char *type)
{
	struct cwmp_param_value pv = { (char *)name, (char *)value, (char *)type };
	struct cwmp_msg m;
	cwmp_sample(CWMP_M_GET_PARAMETER_VALUES_RESPONSE, CWMP_NS_1_0, "e", &m);
	m.values = &pv;
	m.n_values = 1;
	size_t len;
	int err = 99;
	char *doc = cwmp_build(&m, &len, &err);
	if (doc) {
		struct cwmp_msg back;
		assert_int_equal(cwmp_parse(doc, len, &back, NULL, 0), 0);
		assert_string_equal(back.values[0].value, value);
		assert_string_equal(back.values[0].type, type ? type : "string");
		cwmp_msg_free(&back);
	}
	free(doc);
	return err;
}

static void test_build_text_rules(void **state)
{
	(void)state;
	assert_int_equal(build_value("A.B", "x & <y> \"z\" 'q'\r\n\ttab", NULL), CWMP_OK);
	assert_int_equal(build_value("A.B", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "string"),
			 CWMP_OK);
	assert_int_equal(build_value("A.B", "", "hexBinary"), CWMP_OK);
	assert_int_equal(build_value("A.B", "bell\x07", NULL), CWMP_E_ARG);
	assert_int_equal(build_value("A.B", "esc\x1b[0m", NULL), CWMP_E_ARG);
	assert_int_equal(build_value("A.\x01", "v", NULL), CWMP_E_ARG);
	assert_int_equal(build_value("A.B", "bad \xc3(", NULL), CWMP_E_ARG);
	assert_int_equal(build_value("A.B", "overlong \xc0\xaf", NULL), CWMP_E_ARG);
	assert_int_equal(build_value("A.B", "surrogate \xed\xa0\x80", NULL), CWMP_E_ARG);
	assert_int_equal(build_value("A.B", "nonchar \xef\xbf\xbe", NULL), CWMP_E_ARG);
	assert_int_equal(build_value("A.B", "cut \xe2\x82", NULL), CWMP_E_ARG);
	assert_int_equal(build_value("A.B", "v", "xsd:int"), CWMP_E_ARG);
	assert_int_equal(build_value("A.B", "v", "in t"), CWMP_E_ARG);
	assert_int_equal(build_value("A.B", "v", ""), CWMP_E_ARG);
}

static void test_build_limits(void **state)
{
	(void)state;
	char *big = malloc(CWMP_MAX_VALUE + 2);
	memset(big, 'v', CWMP_MAX_VALUE + 1);
	big[CWMP_MAX_VALUE] = '\0';
	assert_int_equal(build_value("A.B", big, NULL), CWMP_OK);
	big[CWMP_MAX_VALUE] = 'v';
	big[CWMP_MAX_VALUE + 1] = '\0';
	assert_int_equal(build_value("A.B", big, NULL), CWMP_E_LIMIT);
	big[CWMP_MAX_STR] = '\0';
	assert_int_equal(build_value(big, "v", NULL), CWMP_OK);
	big[CWMP_MAX_STR] = 'v';
	big[CWMP_MAX_STR + 1] = '\0';
	assert_int_equal(build_value(big, "v", NULL), CWMP_E_LIMIT);
	free(big);

	/* A list at the cap builds and parses; one more is refused. */
	char **names = calloc(CWMP_MAX_LIST + 1, sizeof(*names));
	for (size_t i = 0; i <= CWMP_MAX_LIST; i++)
		names[i] = (char *)"Device.DeviceInfo.UpTime";
	struct cwmp_msg m;
	cwmp_sample(CWMP_M_GET_PARAMETER_VALUES, CWMP_NS_1_0, "l", &m);
	m.names = names;
	m.n_names = CWMP_MAX_LIST;
	round_trip(&m);
	m.n_names = CWMP_MAX_LIST + 1;
	size_t len;
	int err;
	assert_null(cwmp_build(&m, &len, &err));
	assert_int_equal(err, CWMP_E_LIMIT);
	free(names);
}

static void test_build_refusals(void **state)
{
	(void)state;
	struct cwmp_msg m;
	size_t len = 7;
	int err;
	memset(&m, 0, sizeof(m));
	m.method = CWMP_M_EMPTY;
	assert_null(cwmp_build(&m, &len, &err));
	assert_int_equal(err, CWMP_E_ARG);
	assert_int_equal(len, 0);
	m.method = CWMP_M_UNKNOWN;
	assert_null(cwmp_build(&m, &len, &err));
	assert_int_equal(err, CWMP_E_ARG);
	m.method = CWMP_M_COUNT;
	assert_null(cwmp_build(&m, &len, &err));
	assert_null(cwmp_build(NULL, &len, &err));
	assert_int_equal(err, CWMP_E_ARG);

	cwmp_sample(CWMP_M_GET_PARAMETER_VALUES, CWMP_NS_1_0, "r", &m);
	m.ns = CWMP_NS_COUNT;
	assert_null(cwmp_build(&m, &len, &err));
	assert_int_equal(err, CWMP_E_ARG);
	m.ns = CWMP_NS_1_0;
	m.names = NULL; /* n_names 2 but no array */
	assert_null(cwmp_build(&m, &len, &err));
	assert_int_equal(err, CWMP_E_ARG);

	cwmp_sample(CWMP_M_ADD_OBJECT, CWMP_NS_1_0, "r", &m);
	m.object_name = NULL;
	assert_null(cwmp_build(&m, &len, &err));
	assert_int_equal(err, CWMP_E_ARG);

	cwmp_sample(CWMP_M_INFORM, CWMP_NS_1_0, "r", &m);
	m.inform.device_id.serial_number = (char *)"";
	assert_null(cwmp_build(&m, &len, &err));
	assert_int_equal(err, CWMP_E_ARG);

	cwmp_sample(CWMP_M_SET_PARAMETER_VALUES_RESPONSE, CWMP_NS_1_0, "r", &m);
	m.status = 2;
	assert_null(cwmp_build(&m, &len, &err));
	assert_int_equal(err, CWMP_E_ARG);

	cwmp_sample(CWMP_M_DOWNLOAD, CWMP_NS_1_0, "r", &m);
	m.download.url = NULL;
	assert_null(cwmp_build(&m, &len, &err));
	assert_int_equal(err, CWMP_E_ARG);
}

/* A NULL optional string is written empty and reads back as "". */
static void test_build_null_optional(void **state)
{
	(void)state;
	struct cwmp_msg m, back;
	size_t len;
	int err;
	cwmp_sample(CWMP_M_REBOOT, CWMP_NS_1_0, NULL, &m);
	m.command_key = NULL;
	char *doc = cwmp_build(&m, &len, &err);
	assert_non_null(doc);
	assert_non_null(strstr(doc, "<CommandKey></CommandKey>"));
	assert_null(strstr(doc, "Header"));
	assert_int_equal(cwmp_parse(doc, len, &back, NULL, 0), 0);
	assert_string_equal(back.command_key, "");
	assert_int_equal(back.header.hold_requests, -1);
	assert_int_equal(back.header.session_timeout, -1);
	cwmp_msg_free(&back);
	free(doc);
}

static int write_goldens(const char *dir)
{
	for (size_t i = 0; i < sizeof(goldens) / sizeof(goldens[0]); i++) {
		struct cwmp_msg m;
		size_t len;
		int err;
		cwmp_sample(goldens[i].method, goldens[i].ns, goldens[i].id, &m);
		char *doc = cwmp_build(&m, &len, &err);
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", dir, goldens[i].file);
		FILE *f = fopen(path, "wb");
		if (!doc || !f || fwrite(doc, 1, len, f) != len) {
			fprintf(stderr, "cannot write %s\n", path);
			return 1;
		}
		fclose(f);
		free(doc);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--write") == 0)
		return write_goldens(argv[2]);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_every_method),
		cmocka_unit_test(test_round_trip_header),
		cmocka_unit_test(test_golden_build),
		cmocka_unit_test(test_golden_fault_and_headers),
		cmocka_unit_test(test_build_fault),
		cmocka_unit_test(test_build_text_rules),
		cmocka_unit_test(test_build_limits),
		cmocka_unit_test(test_build_refusals),
		cmocka_unit_test(test_build_null_optional),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
