/*
 * fuzz_cwmp_parse.c — libFuzzer target for the CWMP codec
 * (controller/cwmp).
 *
 * Feeds arbitrary bytes to cwmp_parse and checks the contract: a known
 * error code with *out zeroed and errbuf NUL-terminated, or a message. A
 * parsed message of a known method is built again; the build may only fail
 * for size (escaping can make the text longer than CWMP_MAX_BODY), since
 * everything the parser accepts must be sendable. What we built must parse
 * and equal the first parse in every field (a value without xsi:type
 * counting as xsd:string). Any violation aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cwmp_msg.h"
#include "cwmp_samples.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_failure(int rc, const struct cwmp_msg *m, const char *errbuf, size_t errlen)
{
	static const struct cwmp_msg zero;
	if (rc < CWMP_E_ARG || rc >= 0)
		abort();
	if (memcmp(m, &zero, sizeof(zero)) != 0)
		abort();
	if (!memchr(errbuf, '\0', errlen) || !errbuf[0])
		abort();
}

/* A value sent without xsi:type is built as xsd:string (cwmp_msg.h): the
 * one field a round trip changes by design. RequestDownload's ArgStructs
 * have no type at all. */
static void untyped_as_string(struct cwmp_param_value *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!v[i].type && !(v[i].type = strdup("string")))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cwmp_msg m, back;
	char errbuf[160], why[300];
	int rc = cwmp_parse((const char *)data, size, &m, errbuf, sizeof(errbuf));
	if (rc != 0) {
		check_failure(rc, &m, errbuf, sizeof(errbuf));
		return 0;
	}
	if (m.method == CWMP_M_EMPTY || m.method == CWMP_M_UNKNOWN) {
		if (m.method == CWMP_M_UNKNOWN && (!m.unknown_name || !m.unknown_name[0]))
			abort();
		cwmp_msg_free(&m);
		return 0;
	}
	untyped_as_string(m.inform.params, m.inform.n_params);
	if (m.method != CWMP_M_REQUEST_DOWNLOAD)
		untyped_as_string(m.values, m.n_values);
	size_t len;
	int err = 1;
	char *doc = cwmp_build(&m, &len, &err);
	if (!doc) {
		if (err != CWMP_E_LIMIT) {
			fprintf(stderr, "build of a parsed %s failed: %s\n",
				cwmp_method_name(m.method), cwmp_err_str(err));
			abort();
		}
		cwmp_msg_free(&m);
		return 0;
	}
	if (err != CWMP_OK || strlen(doc) != len)
		abort();
	rc = cwmp_parse(doc, len, &back, errbuf, sizeof(errbuf));
	if (rc != 0) {
		fprintf(stderr, "our build does not parse: %s\n%s\n", errbuf, doc);
		abort();
	}
	if (!cwmp_msg_equal(&m, &back, why, sizeof(why))) {
		fprintf(stderr, "round trip differs: %s\n", why);
		abort();
	}
	cwmp_msg_free(&back);
	cwmp_msg_free(&m);
	free(doc);
	return 0;
}
