/*
 * usp_utf8.c — UTF-8 validation and U+FFFD repair (see usp_utf8.h).
 */
#include "usp_utf8.h"

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

int usp_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		size_t n = usp_utf8_seq(p + i, len - i);
		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
}

char *usp_utf8_sanitize(const char *s, size_t len)
{
	char *out = malloc(len * 3 + 1), *w = out;
	const unsigned char *p = (const unsigned char *)s;
	if (!out)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t n = usp_utf8_seq(p + i, len - i);
		if (n == 0) {
			memcpy(w, "\xEF\xBF\xBD", 3);
			w += 3;
			i++;
		} else {
			memcpy(w, p + i, n);
			w += n;
			i += n;
		}
	}
	*w = '\0';
	return out;
}
