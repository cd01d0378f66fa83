/*
 * store_sql.c — pure text helpers for statement parameters (see
 * store_sql.h). Owns nothing global; each buffer belongs to its caller.
 * Invariant: a store_buf never grows past its max; once failed it ignores
 * further appends.
 */
#include "store_sql.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_conn.h"
#include "usp_utf8.h"

void store_buf_init(struct store_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void store_buf_fini(struct store_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void store_buf_reset(struct store_buf *b)
{
	b->len = 0;
	b->failed = 0;
	if (b->p)
		b->p[0] = '\0';
}

static int buf_reserve(struct store_buf *b, size_t extra)
{
	if (b->failed)
		return -1;
	if (extra > b->max || b->len > b->max - extra) {
		b->failed = 1;
		return -1;
	}
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p) {
		b->failed = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void store_buf_add(struct store_buf *b, const char *s, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void store_buf_adds(struct store_buf *b, const char *s)
{
	store_buf_add(b, s, strlen(s));
}

const char *store_buf_str(struct store_buf *b)
{
	if (b->failed)
		return NULL;
	return b->len ? b->p : "";
}

void store_arr_begin(struct store_buf *b)
{
	store_buf_add(b, "{", 1);
}

void store_arr_end(struct store_buf *b)
{
	/* Drop the separator left by the last element. */
	if (!b->failed && b->len > 0 && b->p[b->len - 1] == ',')
		b->len--;
	store_buf_add(b, "}", 1);
}

void store_json_str(struct store_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	store_buf_add(b, "\"", 1);
	const char *run = s;
	for (;; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch >= 0x20 && ch != '"' && ch != '\\')
			continue;
		store_buf_add(b, run, (size_t)(s - run));
		if (!ch)
			break;
		char esc[6] = { '\\', (char)ch, '0', '0', hex[ch >> 4], hex[ch & 15] };
		if (ch < 0x20)
			esc[1] = 'u';
		store_buf_add(b, esc, ch < 0x20 ? 6 : 2);
		run = s + 1;
	}
	store_buf_add(b, "\"", 1);
}

void store_arr_add(struct store_buf *b, const char *elem)
{
	if (!elem) {
		store_buf_add(b, "NULL,", 5);
		return;
	}
	store_arr_addn(b, elem, strlen(elem));
}

void store_arr_addn(struct store_buf *b, const char *elem, size_t n)
{
	size_t extra = 0;
	for (size_t i = 0; i < n; i++)
		if (elem[i] == '"' || elem[i] == '\\')
			extra++;
	if (buf_reserve(b, n + extra + 3) < 0)
		return;
	char *o = b->p + b->len;
	*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		if (elem[i] == '"' || elem[i] == '\\')
			*o++ = '\\';
		*o++ = elem[i];
	}
	*o++ = '"';
	*o++ = ',';
	b->len = (size_t)(o - b->p);
	b->p[b->len] = '\0';
}

void store_arr_add_i64(struct store_buf *b, int64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRId64 ",", v);
	store_buf_add(b, tmp, (size_t)n);
}

int store_glob_to_like(const char *glob, char *out, size_t len)
{
	size_t o = 0;
	for (const char *g = glob; *g; g++) {
		char c = *g;
		const char *emit;
		char lit[3] = { 0 };
		if (c == '*') {
			emit = "%";
		} else if (c == '?') {
			emit = "_";
		} else {
			if (c == '\\') {
				if (!g[1])
					return STORE_E_ARG;
				c = *++g;
			}
			if (c == '%' || c == '_' || c == '\\') {
				lit[0] = '\\';
				lit[1] = c;
			} else {
				lit[0] = c;
			}
			emit = lit;
		}
		size_t n = strlen(emit);
		if (o + n >= len)
			return STORE_E_ARG;
		memcpy(out + o, emit, n);
		o += n;
	}
	if (o >= len)
		return STORE_E_ARG;
	out[o] = '\0';
	return 0;
}

int store_prefix_to_like(const char *prefix, char *out, size_t len)
{
	size_t o = 0;
	for (const char *p = prefix; *p; p++) {
		int esc = *p == '%' || *p == '_' || *p == '\\';
		if (o + 1 + (size_t)esc >= len)
			return STORE_E_ARG;
		if (esc)
			out[o++] = '\\';
		out[o++] = *p;
	}
	if (o + 2 > len)
		return STORE_E_ARG;
	out[o++] = '%';
	out[o] = '\0';
	return 0;
}

size_t store_utf8_repair(char *s, size_t len)
{
	size_t bad = 0;
	for (size_t i = 0; i < len;) {
		i += usp_utf8_valid_prefix(s + i, len - i);
		if (i < len) { /* s[i] starts no valid sequence */
			s[i++] = '?';
			bad++;
		}
	}
	return bad;
}

int store_tag_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > STORE_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == ':' || c == '-' || c == '/' || c == '+'))
			return 0;
	}
	return 1;
}
