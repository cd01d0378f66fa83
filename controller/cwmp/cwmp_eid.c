/*
 * cwmp_eid.c — the uspc endpoint id of a TR-069 DeviceId (cwmp_msg.h):
 * TR-369's "os::" / "ops::" authority scheme, so that a CPE managed over
 * CWMP and the same device's USP agent share one inventory row.
 *
 * Owns: nothing; pure and thread-safe. Each part is percent-encoded as a
 * USP instance identifier: bytes outside [A-Za-z0-9._-] (the '-' that
 * joins the parts must stay unambiguous, so any other byte, UTF-8 ones
 * included, becomes %HH with upper-case hex).
 */
#include "cwmp_msg.h"

#include <string.h>

#define EID_PART_MAX 64 /* raw bytes of one part (the XSD's DeviceId lengths) */

static int keep_byte(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_';
}

/* Appends s encoded at *pos; 0, or -1 when it does not fit (NUL kept). */
static int put_part(char *buf, size_t buflen, size_t *pos, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		size_t need = keep_byte(*p) ? 1 : 3;
		if (*pos + need >= buflen)
			return -1;
		if (need == 1) {
			buf[(*pos)++] = (char)*p;
		} else {
			buf[(*pos)++] = '%';
			buf[(*pos)++] = hex[*p >> 4];
			buf[(*pos)++] = hex[*p & 15];
		}
	}
	return 0;
}

static int put_raw(char *buf, size_t buflen, size_t *pos, const char *s)
{
	size_t n = strlen(s);
	if (*pos + n >= buflen)
		return -1;
	memcpy(buf + *pos, s, n);
	*pos += n;
	return 0;
}

int cwmp_endpoint_id(const struct cwmp_device_id *id, char *buf, size_t buflen)
{
	if (!buf || buflen == 0)
		return -1;
	buf[0] = '\0';
	if (!id || !id->oui || !id->oui[0] || !id->serial_number || !id->serial_number[0])
		return -1;
	const char *pc = id->product_class ? id->product_class : "";
	if (strlen(id->oui) > EID_PART_MAX || strlen(pc) > EID_PART_MAX ||
	    strlen(id->serial_number) > EID_PART_MAX)
		return -1;

	size_t pos = 0;
	int rc = put_raw(buf, buflen, &pos, pc[0] ? "ops::" : "os::");
	if (rc == 0)
		rc = put_part(buf, buflen, &pos, id->oui);
	if (rc == 0 && pc[0]) {
		rc = put_raw(buf, buflen, &pos, "-");
		if (rc == 0)
			rc = put_part(buf, buflen, &pos, pc);
	}
	if (rc == 0)
		rc = put_raw(buf, buflen, &pos, "-");
	if (rc == 0)
		rc = put_part(buf, buflen, &pos, id->serial_number);
	if (rc != 0) {
		buf[0] = '\0';
		return -1;
	}
	buf[pos] = '\0';
	return (int)pos;
}
