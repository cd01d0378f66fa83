/*
 * test_cwmp_parse.c — the CWMP parser (controller/cwmp/cwmp_parse*.c,
 * cwmp_xml.c) on envelopes shaped as CPEs and ACSs send them
 * (tests/vectors/cwmp/parse/: other prefixes, no arrayType, qualified
 * children, CDATA, whitespace, comments) with every field checked; all
 * five namespaces answered in the one received; and the inputs it must
 * refuse (tests/vectors/cwmp/bad/ and built here: DOCTYPE, billion laughs,
 * XXE, truncated, wrong namespaces, limits, bad numbers, missing fields,
 * Body shapes), with the error code, the element named in errbuf, *out
 * zeroed and nothing printed on stderr. Also several threads parsing at
 * once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "cwmp_msg.h"
#include "cwmp_samples.h"

#define VEC USPC_TEST_DATA_DIR "/vectors/cwmp"

static char *read_file(const char *rel, size_t *len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", VEC, rel);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	char *buf = malloc(CWMP_MAX_BODY + 1);
	size_t n = fread(buf, 1, CWMP_MAX_BODY, f);
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void parse_file(const char *rel, struct cwmp_msg *m)
{
	size_t len;
	char errbuf[200];
	char *doc = read_file(rel, &len);
	int rc = cwmp_parse(doc, len, m, errbuf, sizeof(errbuf));
	if (rc != 0)
		fail_msg("%s: %d %s", rel, rc, errbuf);
	free(doc);
}

/* Parse must fail with code, name want in errbuf, leave *out zeroed. */
static void parse_bad_mem(const char *what, const char *doc, size_t len, int code, const char *want)
{
	struct cwmp_msg m, zero;
	char errbuf[200];
	memset(&m, 0xab, sizeof(m));
	memset(&zero, 0, sizeof(zero));
	int rc = cwmp_parse(doc, len, &m, errbuf, sizeof(errbuf));
	if (rc != code)
		fail_msg("%s: got %d (%s) want %d; errbuf: %s", what, rc, cwmp_err_str(rc), code,
			 errbuf);
	if (want && !strstr(errbuf, want))
		fail_msg("%s: errbuf '%s' lacks '%s'", what, errbuf, want);
	assert_memory_equal(&m, &zero, sizeof(m));
}

static void parse_bad(const char *rel, int code, const char *want)
{
	size_t len;
	char *doc = read_file(rel, &len);
	parse_bad_mem(rel, doc, len, code, want);
	free(doc);
}

static void test_inform_1_0(void **state)
{
	(void)state;
	struct cwmp_msg m;
	parse_file("parse/inform-1-0.xml", &m);
	assert_int_equal(m.method, CWMP_M_INFORM);
	assert_int_equal(m.ns, CWMP_NS_1_0);
	assert_string_equal(m.header.id, "1");
	assert_int_equal(m.header.hold_requests, -1);
	assert_int_equal(m.header.session_timeout, -1);
	assert_null(m.header.use_cwmp_version);
	const struct cwmp_inform *in = &m.inform;
	assert_string_equal(in->device_id.manufacturer, "ExampleTel");
	assert_string_equal(in->device_id.oui, "00259E");
	assert_string_equal(in->device_id.product_class, "HG8245");
	assert_string_equal(in->device_id.serial_number, "4857544300000001");
	assert_int_equal(in->n_events, 2);
	assert_string_equal(in->events[0].code, "1 BOOT");
	assert_string_equal(in->events[0].command_key, "");
	assert_string_equal(in->events[1].code, "M Reboot");
	assert_string_equal(in->events[1].command_key, "uspc-51");
	assert_int_equal(in->max_envelopes, 1);
	assert_string_equal(in->current_time, "2024-05-01T10:15:30+02:00");
	assert_int_equal(in->retry_count, 0);
	assert_int_equal(in->n_params, 4);
	assert_string_equal(in->params[1].name,
			    "InternetGatewayDevice.ManagementServer.ConnectionRequestURL");
	assert_string_equal(in->params[1].value, "http://198.51.100.23:7547/ConnReq");
	assert_string_equal(in->params[1].type, "string");
	assert_string_equal(in->params[2].value, "86400");
	assert_string_equal(in->params[2].type, "unsignedInt");
	assert_string_equal(in->params[3].value, "");
	char eid[CWMP_EID_MAX];
	assert_int_equal(cwmp_endpoint_id(&in->device_id, eid, sizeof(eid)), 35);
	assert_string_equal(eid, "ops::00259E-HG8245-4857544300000001");
	cwmp_msg_free(&m);
}

static void test_inform_quirky(void **state)
{
	(void)state;
	struct cwmp_msg m;
	parse_file("parse/inform-1-4-quirky.xml", &m);
	assert_int_equal(m.method, CWMP_M_INFORM);
	assert_int_equal(m.ns, CWMP_NS_1_4);
	assert_string_equal(m.header.id, "  cpe-session 7  "); /* echoed as sent */
	assert_int_equal(m.header.session_timeout, 60);
	assert_string_equal(m.header.supported_cwmp_versions, "1.0,1.1,1.2,1.3,1.4");
	const struct cwmp_inform *in = &m.inform;
	assert_string_equal(in->device_id.manufacturer, "Caf\xc3\xa9 & Co");
	assert_string_equal(in->device_id.oui, "A0B1C2");
	assert_string_equal(in->device_id.product_class, "");
	assert_string_equal(in->device_id.serial_number, "SN 01/\xc3\xa4");
	assert_int_equal(in->n_events, 2);
	assert_string_equal(in->events[0].code, "0 BOOTSTRAP");
	assert_string_equal(in->events[0].command_key, "");
	assert_string_equal(in->events[1].command_key, ""); /* absent */
	assert_int_equal(in->max_envelopes, 1);
	assert_int_equal(in->retry_count, 3);
	assert_int_equal(in->n_params, 3);
	assert_string_equal(in->params[0].value, "<code&1>");
	assert_string_equal(in->params[0].type, "string");
	assert_string_equal(in->params[1].value, "1234");
	assert_string_equal(in->params[1].type, "unsignedInt");
	assert_string_equal(in->params[2].value, "  spaced  ");
	assert_null(in->params[2].type);
	char eid[CWMP_EID_MAX];
	assert_true(cwmp_endpoint_id(&in->device_id, eid, sizeof(eid)) > 0);
	assert_string_equal(eid, "os::A0B1C2-SN%2001%2F%C3%A4");
	cwmp_msg_free(&m);
}

static void test_transfer_complete(void **state)
{
	(void)state;
	struct cwmp_msg m;
	parse_file("parse/transfer-complete-1-1.xml", &m);
	assert_int_equal(m.method, CWMP_M_TRANSFER_COMPLETE);
	assert_int_equal(m.ns, CWMP_NS_1_1);
	assert_string_equal(m.header.id, "tc-1");
	assert_string_equal(m.transfer.command_key, "uspc-88");
	assert_int_equal(m.transfer.fault.code, 9010);
	assert_string_equal(m.transfer.fault.string, "Download failure: HTTP 404");
	assert_string_equal(m.transfer.start_time, "2024-05-01T10:16:00Z");
	assert_string_equal(m.transfer.complete_time, "2024-05-01T10:16:02Z");
	assert_null(m.transfer.announce_url);
	assert_null(m.transfer.file_type);
	cwmp_msg_free(&m);
}

static void test_fault(void **state)
{
	(void)state;
	struct cwmp_msg m;
	parse_file("parse/fault-9003-1-2.xml", &m);
	assert_int_equal(m.method, CWMP_M_FAULT);
	assert_int_equal(m.ns, CWMP_NS_1_2);
	assert_string_equal(m.header.id, "uspc-90-2");
	assert_string_equal(m.fault.soap_faultcode, "Client");
	assert_string_equal(m.fault.soap_faultstring, "CWMP fault");
	assert_int_equal(m.fault.code, 9003);
	assert_string_equal(m.fault.string, "Invalid arguments");
	assert_int_equal(m.fault.n_spv, 2);
	assert_string_equal(m.fault.spv[0].name, "Device.WiFi.SSID.1.SSID");
	assert_int_equal(m.fault.spv[0].code, 9007);
	assert_string_equal(m.fault.spv[0].string, "Invalid parameter value");
	assert_int_equal(m.fault.spv[1].code, 9008);
	assert_string_equal(m.fault.spv[1].string, "");
	cwmp_msg_free(&m);
}

static void test_responses(void **state)
{
	(void)state;
	struct cwmp_msg m;
	parse_file("parse/gpv-response-1-0.xml", &m);
	assert_int_equal(m.method, CWMP_M_GET_PARAMETER_VALUES_RESPONSE);
	assert_int_equal(m.n_values, 3);
	assert_string_equal(m.values[0].type, "boolean");
	assert_string_equal(m.values[1].value, "home <5G>");
	assert_string_equal(m.values[2].value, "4294967295");
	cwmp_msg_free(&m);

	parse_file("parse/gpn-response-1-3.xml", &m);
	assert_int_equal(m.method, CWMP_M_GET_PARAMETER_NAMES_RESPONSE);
	assert_int_equal(m.ns, CWMP_NS_1_3);
	assert_int_equal(m.n_infos, 2);
	assert_string_equal(m.infos[0].name, "Device.DeviceInfo.");
	assert_int_equal(m.infos[0].writable, 0);
	assert_int_equal(m.infos[1].writable, 1);
	cwmp_msg_free(&m);

	parse_file("parse/add-object-response-1-2.xml", &m);
	assert_int_equal(m.method, CWMP_M_ADD_OBJECT_RESPONSE);
	assert_int_equal(m.instance_number, 3);
	assert_int_equal(m.status, 0);
	cwmp_msg_free(&m);

	parse_file("parse/inform-response-1-0.xml", &m);
	assert_int_equal(m.method, CWMP_M_INFORM_RESPONSE);
	assert_int_equal(m.max_envelopes, 1);
	assert_int_equal(m.header.hold_requests, 1);
	assert_int_equal(m.header.no_more_requests, 0);
	cwmp_msg_free(&m);
}

static void test_empty(void **state)
{
	(void)state;
	struct cwmp_msg m;
	parse_file("parse/empty-whitespace.xml", &m);
	assert_int_equal(m.method, CWMP_M_EMPTY);
	cwmp_msg_free(&m);
	assert_int_equal(cwmp_parse("", 0, &m, NULL, 0), 0);
	assert_int_equal(m.method, CWMP_M_EMPTY);
	assert_int_equal(cwmp_parse(NULL, 0, &m, NULL, 0), 0);
	assert_int_equal(m.method, CWMP_M_EMPTY);
	/* Not whitespace: a lone NUL byte is not an empty body. */
	parse_bad_mem("NUL", "\0", 1, CWMP_E_XML, "XML");
	parse_bad_mem("NULL body", NULL, 5, CWMP_E_ARG, NULL);
}

#define NS_TEMPLATE                                                                         \
	"<e:Envelope xmlns:e=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:c=\"%s\">" \
	"<e:Header><c:ID e:mustUnderstand=\"1\">n%d</c:ID></e:Header>"                      \
	"<e:Body><c:GetRPCMethods/></e:Body></e:Envelope>"

/* Each URN is recorded and the answer is built in it. */
static void test_five_namespaces(void **state)
{
	(void)state;
	for (int ns = 0; ns < CWMP_NS_COUNT; ns++) {
		char doc[512];
		int n = snprintf(doc, sizeof(doc), NS_TEMPLATE, cwmp_ns_urn((enum cwmp_ns)ns), ns);
		struct cwmp_msg req, resp;
		assert_int_equal(cwmp_parse(doc, (size_t)n, &req, NULL, 0), 0);
		assert_int_equal(req.method, CWMP_M_GET_RPC_METHODS);
		assert_int_equal(req.ns, ns);

		cwmp_sample(CWMP_M_GET_RPC_METHODS_RESPONSE, req.ns, req.header.id, &resp);
		size_t len;
		int err;
		char *out = cwmp_build(&resp, &len, &err);
		assert_non_null(out);
		char want[128];
		snprintf(want, sizeof(want), "xmlns:cwmp=\"%s\"", cwmp_ns_urn((enum cwmp_ns)ns));
		assert_non_null(strstr(out, want));
		for (int other = 0; other < CWMP_NS_COUNT; other++)
			if (other != ns)
				assert_null(strstr(out, cwmp_ns_urn((enum cwmp_ns)other)));
		struct cwmp_msg back;
		assert_int_equal(cwmp_parse(out, len, &back, NULL, 0), 0);
		assert_int_equal(back.ns, ns);
		assert_string_equal(back.header.id, req.header.id);
		cwmp_msg_free(&back);
		free(out);
		cwmp_msg_free(&req);
	}
}

static void test_unknown_method(void **state)
{
	(void)state;
	static const char doc[] =
		"<e:Envelope xmlns:e=\"http://schemas.xmlsoap.org/soap/envelope/\" "
		"xmlns:c=\"urn:dslforum-org:cwmp-1-2\"><e:Body><c:ScheduleInform>"
		"<DelaySeconds>5</DelaySeconds><CommandKey>k</CommandKey></c:ScheduleInform>"
		"</e:Body></e:Envelope>";
	struct cwmp_msg m;
	assert_int_equal(cwmp_parse(doc, sizeof(doc) - 1, &m, NULL, 0), 0);
	assert_int_equal(m.method, CWMP_M_UNKNOWN);
	assert_int_equal(m.ns, CWMP_NS_1_2);
	assert_string_equal(m.unknown_name, "ScheduleInform");
	cwmp_msg_free(&m);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_doctype_refused(void **state)
{
	(void)state;
	double t0 = now_s();
	parse_bad("bad/billion-laughs.xml", CWMP_E_XML, "DOCTYPE not allowed in SOAP");
	assert_true(now_s() - t0 < 0.5); /* refused, not expanded */
	parse_bad("bad/xxe-file.xml", CWMP_E_XML, "DOCTYPE not allowed in SOAP");
	parse_bad("bad/xxe-external-dtd.xml", CWMP_E_XML, "DOCTYPE not allowed in SOAP");
	static const char bare[] = "<!DOCTYPE a><a/>";
	parse_bad_mem("bare DOCTYPE", bare, sizeof(bare) - 1, CWMP_E_XML, "DOCTYPE");
	/* An entity reference without a DOCTYPE is simply undeclared. */
	static const char undeclared[] =
		"<e:Envelope xmlns:e=\"http://schemas.xmlsoap.org/soap/envelope/\" "
		"xmlns:c=\"urn:dslforum-org:cwmp-1-0\"><e:Body><c:Reboot><CommandKey>&x;"
		"</CommandKey></c:Reboot></e:Body></e:Envelope>";
	parse_bad_mem("undeclared entity", undeclared, sizeof(undeclared) - 1, CWMP_E_XML,
		      "XML: line 1");
}

static void test_bad_structure(void **state)
{
	(void)state;
	parse_bad("bad/truncated.xml", CWMP_E_XML, "XML: line");
	parse_bad("bad/wrong-namespace.xml", CWMP_E_NS, "TransferComplete");
	parse_bad("bad/soap-1-2.xml", CWMP_E_SOAP, "Envelope");
	parse_bad("bad/no-body.xml", CWMP_E_SOAP, "no Body");
	parse_bad("bad/two-body-elements.xml", CWMP_E_SOAP, "more than one element");
	parse_bad("bad/two-bodies.xml", CWMP_E_SOAP, "two Body");
	static const char empty_body[] =
		"<e:Envelope xmlns:e=\"http://schemas.xmlsoap.org/soap/envelope/\">"
		"<e:Body> </e:Body></e:Envelope>";
	parse_bad_mem("empty Body", empty_body, sizeof(empty_body) - 1, CWMP_E_SOAP, "Body");
	static const char no_ns[] = "<e:Envelope xmlns:e=\"http://schemas.xmlsoap.org/soap/"
				    "envelope/\"><e:Body><Inform/></e:Body></e:Envelope>";
	parse_bad_mem("unqualified method", no_ns, sizeof(no_ns) - 1, CWMP_E_NS, "Inform");
	static const char soap_fault_only[] =
		"<e:Envelope xmlns:e=\"http://schemas.xmlsoap.org/soap/envelope/\"><e:Body>"
		"<e:Fault><faultcode>Server</faultcode><faultstring>x</faultstring></e:Fault>"
		"</e:Body></e:Envelope>";
	parse_bad_mem("soap Fault without cwmp detail", soap_fault_only,
		      sizeof(soap_fault_only) - 1, CWMP_E_FIELD, "cwmp:Fault");
	static const char not_xml[] = "HTTP/1.1 200 OK";
	parse_bad_mem("not XML", not_xml, sizeof(not_xml) - 1, CWMP_E_XML, "XML");
}

static void test_bad_fields(void **state)
{
	(void)state;
	parse_bad("bad/non-numeric-uint.xml", CWMP_E_FIELD, "RetryCount");
	parse_bad("bad/uint-overflow.xml", CWMP_E_FIELD, "RetryCount");
	parse_bad("bad/missing-oui.xml", CWMP_E_FIELD, "DeviceId: missing OUI");
	parse_bad("bad/empty-serial.xml", CWMP_E_FIELD, "SerialNumber");

	static const char *const bodies[][3] = {
		{ "<c:AddObjectResponse><InstanceNumber>-1</InstanceNumber><Status>0</Status>"
		  "</c:AddObjectResponse>",
		  "InstanceNumber" },
		{ "<c:AddObjectResponse><InstanceNumber>1</InstanceNumber><Status>2</Status>"
		  "</c:AddObjectResponse>",
		  "Status" },
		{ "<c:SetParameterValuesResponse/>", "missing Status" },
		{ "<c:GetParameterNames><ParameterPath>A.</ParameterPath><NextLevel>yes"
		  "</NextLevel></c:GetParameterNames>",
		  "NextLevel" },
		{ "<c:InformResponse><MaxEnvelopes>1<x/></MaxEnvelopes></c:InformResponse>",
		  "MaxEnvelopes" },
		{ "<c:GetParameterValues/>", "missing ParameterNames" },
		{ "<c:GetParameterValuesResponse><ParameterList><P><Name>A</Name></P>"
		  "</ParameterList></c:GetParameterValuesResponse>",
		  "missing Value" },
		{ "<c:GetParameterValuesResponse><ParameterList><P><Name>A</Name><Value "
		  "xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\" i:type=\"x:a b\">1"
		  "</Value></P></ParameterList></c:GetParameterValuesResponse>",
		  "xsi:type" },
		{ "<c:TransferComplete><CommandKey/><StartTime/><CompleteTime/>"
		  "</c:TransferComplete>",
		  "FaultStruct" },
		{ "<c:Download><CommandKey/><FileType>1 Firmware Upgrade Image</FileType>"
		  "<URL>u</URL><FileSize>18446744073709551616</FileSize></c:Download>",
		  "FileSize" },
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		char doc[1024];
		int n = snprintf(doc, sizeof(doc),
				 "<e:Envelope xmlns:e=\"http://schemas.xmlsoap.org/soap/envelope/\""
				 " xmlns:c=\"urn:dslforum-org:cwmp-1-0\"><e:Body>%s</e:Body>"
				 "</e:Envelope>",
				 bodies[i][0]);
		parse_bad_mem(bodies[i][0], doc, (size_t)n, CWMP_E_FIELD, bodies[i][1]);
	}
}

/* Appends s to a growing buffer. */
static void cat(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t n = strlen(s);
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*buf = realloc(*buf, *cap);
	}
	memcpy(*buf + *len, s, n + 1);
	*len += n;
}

static char *gpv_request(size_t n_names, size_t name_len, size_t *len)
{
	char *buf = NULL, *name = malloc(name_len + 32);
	size_t cap = 0;
	*len = 0;
	memset(name, 'N', name_len);
	name[name_len] = '\0';
	cat(&buf, len, &cap,
	    "<e:Envelope xmlns:e=\"http://schemas.xmlsoap.org/soap/envelope/\" "
	    "xmlns:c=\"urn:dslforum-org:cwmp-1-0\"><e:Body><c:GetParameterValues>"
	    "<ParameterNames>");
	for (size_t i = 0; i < n_names; i++) {
		cat(&buf, len, &cap, "<string>");
		cat(&buf, len, &cap, name);
		cat(&buf, len, &cap, "</string>");
	}
	cat(&buf, len, &cap, "</ParameterNames></c:GetParameterValues></e:Body></e:Envelope>");
	free(name);
	return buf;
}

static void test_limits(void **state)
{
	(void)state;
	size_t len;
	struct cwmp_msg m;
	char *doc = gpv_request(CWMP_MAX_LIST, 1, &len);
	assert_int_equal(cwmp_parse(doc, len, &m, NULL, 0), 0);
	assert_int_equal(m.n_names, CWMP_MAX_LIST);
	cwmp_msg_free(&m);
	free(doc);
	doc = gpv_request(CWMP_MAX_LIST + 1, 1, &len);
	parse_bad_mem("list over the cap", doc, len, CWMP_E_LIMIT, "ParameterNames");
	free(doc);

	doc = gpv_request(1, CWMP_MAX_STR, &len);
	assert_int_equal(cwmp_parse(doc, len, &m, NULL, 0), 0);
	cwmp_msg_free(&m);
	free(doc);
	doc = gpv_request(1, CWMP_MAX_STR + 1, &len);
	parse_bad_mem("name over the cap", doc, len, CWMP_E_LIMIT, "string");
	free(doc);

	/* Over CWMP_MAX_BODY: refused before any parsing (the bytes are not
	 * even XML). */
	char *big = calloc(1, CWMP_MAX_BODY + 1);
	memset(big, '<', CWMP_MAX_BODY + 1);
	parse_bad_mem("oversize", big, CWMP_MAX_BODY + 1, CWMP_E_LIMIT, "body");
	free(big);

	/* A value over CWMP_MAX_VALUE. */
	char *v = malloc(CWMP_MAX_VALUE + 400);
	int n = snprintf(v, 400,
			 "<e:Envelope xmlns:e=\"http://schemas.xmlsoap.org/soap/envelope/\" "
			 "xmlns:c=\"urn:dslforum-org:cwmp-1-0\"><e:Body>"
			 "<c:GetParameterValuesResponse><ParameterList><P><Name>A</Name><Value>");
	memset(v + n, 'x', CWMP_MAX_VALUE + 1);
	strcpy(v + n + CWMP_MAX_VALUE + 1, "</Value></P></ParameterList>"
					   "</c:GetParameterValuesResponse></e:Body></e:Envelope>");
	parse_bad_mem("value over the cap", v, strlen(v), CWMP_E_LIMIT, "Value");
	free(v);
}

/* libxml2 must not print: run bad inputs with stderr on a temp file. */
static void test_silent(void **state)
{
	(void)state;
	fflush(stderr);
	int saved = dup(2);
	FILE *tmp = tmpfile();
	assert_non_null(tmp);
	dup2(fileno(tmp), 2);
	static const char *const files[] = { "bad/truncated.xml", "bad/billion-laughs.xml",
					     "bad/xxe-file.xml", "bad/wrong-namespace.xml" };
	for (size_t i = 0; i < 4; i++) {
		size_t len;
		struct cwmp_msg m;
		char *doc = read_file(files[i], &len);
		assert_true(cwmp_parse(doc, len, &m, NULL, 0) < 0);
		free(doc);
	}
	struct cwmp_msg m;
	assert_true(cwmp_parse("<a><b></a>", 10, &m, NULL, 0) < 0);
	fflush(stderr);
	long size = lseek(2, 0, SEEK_END);
	dup2(saved, 2);
	close(saved);
	fclose(tmp);
	assert_int_equal(size, 0);
}

static void *parse_loop(void *arg)
{
	const char *doc = arg;
	size_t len = strlen(doc);
	for (int i = 0; i < 200; i++) {
		struct cwmp_msg m;
		char errbuf[100];
		if (cwmp_parse(doc, len, &m, errbuf, sizeof(errbuf)) != 0 ||
		    m.method != CWMP_M_INFORM || m.inform.n_params != 4)
			return (void *)1;
		cwmp_msg_free(&m);
		if (cwmp_parse(doc, len / 2, &m, errbuf, sizeof(errbuf)) != CWMP_E_XML)
			return (void *)1;
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	size_t len;
	char *doc = read_file("parse/inform-1-0.xml", &len);
	cwmp_init();
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, parse_loop, doc), 0);
	for (int i = 0; i < 4; i++) {
		void *rv;
		pthread_join(t[i], &rv);
		assert_null(rv);
	}
	free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inform_1_0),
		cmocka_unit_test(test_inform_quirky),
		cmocka_unit_test(test_transfer_complete),
		cmocka_unit_test(test_fault),
		cmocka_unit_test(test_responses),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_five_namespaces),
		cmocka_unit_test(test_unknown_method),
		cmocka_unit_test(test_doctype_refused),
		cmocka_unit_test(test_bad_structure),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_silent),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
