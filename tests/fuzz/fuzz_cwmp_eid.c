/*
 * fuzz_cwmp_eid.c — libFuzzer target for cwmp_endpoint_id
 * (controller/cwmp/cwmp_eid.c).
 *
 * The input is split at NUL bytes into OUI, ProductClass and SerialNumber.
 * On success the id must start with "os::" / "ops::" as the product class
 * says, hold only [A-Za-z0-9._-], ':' in the prefix and %HH escapes, decode
 * back to the three parts, fit CWMP_EID_MAX, and give the same answer in a
 * buffer of exactly its size (and -1 in one byte less). Failure must match
 * the documented reasons. Any violation aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cwmp_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1; /* lower case is not what we write */
}

/* Decodes s (n bytes) into out, aborting on a byte we should have
 * escaped or a malformed escape. '-' is kept unescaped in parts too, so the
 * whole rest is decoded and compared with the parts joined by '-'. */
static size_t decode(const char *s, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			if (i + 2 >= n)
				abort();
			int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
			if (h < 0 || l < 0)
				abort();
			out[o++] = (char)(h * 16 + l);
			i += 2;
			continue;
		}
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '_'))
			abort();
		out[o++] = c;
	}
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1024)
		return 0;
	char in[1027];
	memcpy(in, data, size);
	in[size] = in[size + 1] = in[size + 2] = '\0';
	/* in[size..size+2] are NUL, so each part ends inside the buffer. */
	char *oui = in;
	char *pc = oui + strlen(oui) + 1;
	char *sn = pc + strlen(pc) + 1;
	struct cwmp_device_id id = { NULL, oui, pc, sn };
	char buf[CWMP_EID_MAX];
	int n = cwmp_endpoint_id(&id, buf, sizeof(buf));
	size_t lo = strlen(oui), lp = strlen(pc), ls = strlen(sn);
	int should_fail = !lo || !ls || lo > 64 || lp > 64 || ls > 64;
	if (n < 0) {
		if (!should_fail || buf[0] != '\0')
			abort();
		return 0;
	}
	if (should_fail || (size_t)n != strlen(buf) || n >= CWMP_EID_MAX)
		abort();
	const char *prefix = lp ? "ops::" : "os::";
	size_t pl = strlen(prefix);
	if (strncmp(buf, prefix, pl) != 0)
		abort();
	/* The decoded rest is the parts joined by '-'. */
	char want[200], got[CWMP_EID_MAX];
	size_t w = 0;
	memcpy(want + w, oui, lo), w += lo;
	want[w++] = '-';
	if (lp) {
		memcpy(want + w, pc, lp), w += lp;
		want[w++] = '-';
	}
	memcpy(want + w, sn, ls), w += ls;
	size_t g = decode(buf + pl, (size_t)n - pl, got);
	if (g != w || memcmp(want, got, w) != 0)
		abort();
	char exact[CWMP_EID_MAX];
	if (cwmp_endpoint_id(&id, exact, (size_t)n + 1) != n || strcmp(exact, buf) != 0)
		abort();
	if (cwmp_endpoint_id(&id, exact, (size_t)n) != -1)
		abort();
	return 0;
}
