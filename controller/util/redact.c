/*
 * redact.c — uspc_redact(): the one place that hides passwords in
 * connection strings (see redact.h for the forms it knows).
 *
 * The output is built in a scratch buffer big enough for the worst case
 * (each masked value may grow to "***"), then cut to the caller's size, so
 * it never writes past the caller's buffer and never leaves the start of a
 * password behind a cut.
 */
#include "redact.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MASK "***"

/* libpq's secrets: the password, and the password of the client key. Any
 * case: a misspelt keyword is printed in libpq's error, value and all. */
static int secret_key(const char *k, size_t n)
{
	return (n == 8 && strncasecmp(k, "password", 8) == 0) ||
	       (n == 11 && strncasecmp(k, "sslpassword", 11) == 0);
}

struct out {
	char *p;
	size_t n;
};

static void put(struct out *o, const char *s, size_t n)
{
	memcpy(o->p + o->n, s, n);
	o->n += n;
}

/* URI form: scheme://[user[:password]@]host.../path?k=v&password=x#frag
 * The userinfo ends at the last '@' before the query: a password with an
 * unencoded '/' or '@' is still hidden (an '@' in the path hides more than
 * it needs to, never less). */
static void redact_uri(const char *s, const char *authority, struct out *o)
{
	size_t before_query = strcspn(authority, "?#");
	const char *at = NULL;
	for (const char *p = authority; p < authority + before_query; p++)
		if (*p == '@')
			at = p;
	size_t alen = strcspn(at ? at : authority, "/?#") + (size_t)(at ? at - authority : 0);
	put(o, s, (size_t)(authority - s));
	if (at) {
		const char *colon = memchr(authority, ':', (size_t)(at - authority));
		if (colon) {
			put(o, authority, (size_t)(colon - authority) + 1);
			put(o, MASK, strlen(MASK));
			put(o, at, (size_t)(authority + alen - at));
		} else {
			put(o, authority, alen);
		}
	} else {
		put(o, authority, alen);
	}
	const char *p = authority + alen;
	const char *query = strchr(p, '?');
	if (!query) {
		put(o, p, strlen(p));
		return;
	}
	put(o, p, (size_t)(query - p) + 1);
	p = query + 1;
	while (*p) {
		size_t plen = strcspn(p, "&#");
		size_t klen = strcspn(p, "=&#");
		if (klen < plen && secret_key(p, klen)) {
			put(o, p, klen + 1);
			put(o, MASK, strlen(MASK));
		} else {
			put(o, p, plen);
		}
		p += plen;
		if (*p == '#') {
			put(o, p, strlen(p));
			return;
		}
		if (*p == '&')
			put(o, p++, 1);
	}
}

/* key = value form; values may be 'quoted' with \ escapes. */
static void redact_kv(const char *s, struct out *o)
{
	const char *p = s;
	while (*p) {
		if (isspace((unsigned char)*p)) {
			put(o, p++, 1);
			continue;
		}
		const char *key = p;
		while (*p && *p != '=' && !isspace((unsigned char)*p))
			p++;
		size_t klen = (size_t)(p - key);
		const char *e = p;
		while (isspace((unsigned char)*e))
			e++;
		if (*e != '=') { /* not a key = value pair: copy the word */
			put(o, key, klen);
			continue;
		}
		e++;
		while (isspace((unsigned char)*e))
			e++;
		const char *val = e;
		if (*e == '\'') {
			for (e++; *e && *e != '\''; e++)
				if (*e == '\\' && e[1])
					e++;
			if (*e)
				e++;
		} else {
			while (*e && !isspace((unsigned char)*e))
				e++;
		}
		put(o, key, klen);
		put(o, "=", 1);
		if (secret_key(key, klen))
			put(o, MASK, strlen(MASK));
		else
			put(o, val, (size_t)(e - val));
		p = e;
	}
}

void uspc_redact(const char *in, char *buf, size_t cap)
{
	if (!cap)
		return;
	const char *s = in ? in : "";
	size_t len = strlen(s);
	/* Worst case: every value masked grows by strlen(MASK); a value takes
	 * at least one byte of the input for its '=' or '@'. */
	struct out o = { malloc(len * (1 + strlen(MASK)) + 1), 0 };
	if (!o.p) {
		snprintf(buf, cap, "(connection string hidden)");
		return;
	}
	const char *authority = strstr(s, "://");
	if (authority)
		redact_uri(s, authority + 3, &o);
	else
		redact_kv(s, &o);
	o.p[o.n] = '\0';
	snprintf(buf, cap, "%s", o.p);
	free(o.p);
}
