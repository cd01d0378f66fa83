/*
 * usp_utf8.c — UTF-8 validation and U+FFFD repair (see usp_utf8.h).
 */
#include "usp_utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

size_t usp_utf8_seq(const unsigned char *s, size_t avail)
{
	unsigned c = s[0], cp, min;
	size_t n;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2, cp = c & 0x1F, min = 0x80;
	} else if ((c & 0xF0) == 0xE0) {
		n = 3, cp = c & 0x0F, min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4, cp = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (avail < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

/* Most strings off the wire are ASCII: skip it eight bytes at a time
 * before decoding sequences one by one. */
static size_t ascii_run(const unsigned char *p, size_t len)
{
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, sizeof(w));
		if (w & UINT64_C(0x8080808080808080))
			break;
	}
	while (i < len && p[i] < 0x80)
		i++;
	return i;
}

size_t usp_utf8_valid_prefix(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		i += ascii_run(p + i, len - i);
		if (i == len)
			break;
		size_t n = usp_utf8_seq(p + i, len - i);
		if (n == 0)
			break;
		i += n;
	}
	return i;
}

int usp_utf8_valid(const char *s, size_t len)
{
	return usp_utf8_valid_prefix(s, len) == len;
}

char *usp_utf8_sanitize(const char *s, size_t len)
{
	char *out = malloc(len * 3 + 1), *w = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t n = usp_utf8_valid_prefix(s + i, len - i);
		memcpy(w, s + i, n);
		w += n;
		i += n;
		if (i < len) { /* s[i] starts no valid sequence */
			memcpy(w, "\xEF\xBF\xBD", 3);
			w += 3;
			i++;
		}
	}
	*w = '\0';
	return out;
}
