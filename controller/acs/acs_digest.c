/*
 * acs_digest.c — HTTP Digest on the server side (see acs_digest.h).
 */
#include "acs_digest.h"

#include "acs_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

struct acs_digest_slot {
	uint64_t id; /* the nonce's random part; 0: empty */
	int64_t issued_us;
};

/* ---- parsing ---------------------------------------------------------- */

static int lower_eq(const char *a, size_t n, const char *b)
{
	if (strlen(b) != n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = a[i] >= 'A' && a[i] <= 'Z' ? (char)(a[i] + 32) : a[i];
		if (c != b[i])
			return 0;
	}
	return 1;
}

static char *field_of(struct acs_digest_auth *o, const char *k, size_t kn)
{
	static const struct {
		const char *name;
		size_t off;
	} f[] = {
		{ "username", offsetof(struct acs_digest_auth, username) },
		{ "realm", offsetof(struct acs_digest_auth, realm) },
		{ "nonce", offsetof(struct acs_digest_auth, nonce) },
		{ "uri", offsetof(struct acs_digest_auth, uri) },
		{ "response", offsetof(struct acs_digest_auth, response) },
		{ "qop", offsetof(struct acs_digest_auth, qop) },
		{ "nc", offsetof(struct acs_digest_auth, nc) },
		{ "cnonce", offsetof(struct acs_digest_auth, cnonce) },
		{ "opaque", offsetof(struct acs_digest_auth, opaque) },
		{ "algorithm", offsetof(struct acs_digest_auth, algorithm) },
	};
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (lower_eq(k, kn, f[i].name))
			return (char *)o + f[i].off;
	return NULL;
}

int acs_digest_parse(const char *h, struct acs_digest_auth *out)
{
	memset(out, 0, sizeof(*out));
	if (!h)
		return -1;
	while (*h == ' ' || *h == '\t')
		h++;
	if (!lower_eq(h, 6, "digest") || (h[6] != ' ' && h[6] != '\t'))
		return -1;
	const char *p = h + 6;
	unsigned seen = 0;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		const char *k = p;
		while (*p && *p != '=' && *p != ' ' && *p != '\t' && *p != ',')
			p++;
		size_t kn = (size_t)(p - k);
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '=' || kn == 0)
			return -1;
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		char *dst = field_of(out, k, kn);
		char scratch[ACS_DIGEST_FIELD_MAX + 1];
		char *d = dst ? dst : scratch;
		size_t n = 0;
		if (*p == '"') {
			p++;
			while (*p && *p != '"') {
				if (*p == '\\' && p[1])
					p++;
				if (n >= ACS_DIGEST_FIELD_MAX)
					return -1;
				d[n++] = *p++;
			}
			if (*p != '"')
				return -1;
			p++;
		} else {
			while (*p && *p != ',' && *p != ' ' && *p != '\t') {
				if (n >= ACS_DIGEST_FIELD_MAX)
					return -1;
				d[n++] = *p++;
			}
		}
		d[n] = '\0';
		if (dst) {
			unsigned bit =
				1u << ((size_t)(dst - (char *)out) / (ACS_DIGEST_FIELD_MAX + 1));
			if (seen & bit)
				return -1;
			seen |= bit;
		}
	}
	return 0;
}

/* ---- nonces ------------------------------------------------------------ */

int acs_digest_key_init(struct acs_digest_key *key)
{
	return getrandom(key->secret, sizeof(key->secret), 0) == (ssize_t)sizeof(key->secret) ? 0
											      : -1;
}

/* mac of the first 16 bytes (time, random) into 16 bytes. */
static void nonce_mac(const struct acs_digest_key *key, const unsigned char head[16],
		      unsigned char mac[16])
{
	unsigned char full[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	HMAC(EVP_sha256(), key->secret, (int)sizeof(key->secret), head, 16, full, &n);
	memcpy(mac, full, 16);
}

int acs_digest_nonce(const struct acs_digest_key *key, int64_t now_us,
		     char out[ACS_DIGEST_NONCE_LEN + 1])
{
	unsigned char b[32];
	uint64_t t = (uint64_t)now_us;
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(t >> (56 - 8 * i));
	if (getrandom(b + 8, 8, 0) != 8)
		return -1;
	nonce_mac(key, b, b + 16);
	acs_hex(b, 32, out);
	return 0;
}

int acs_digest_challenge(const char *realm, const char *nonce, int stale, char *out, size_t cap)
{
	int n = snprintf(out, cap,
			 "Digest realm=\"%s\", qop=\"auth\", algorithm=MD5, nonce=\"%s\", "
			 "opaque=\"uspc-acs\"%s",
			 realm, nonce, stale ? ", stale=true" : "");
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* ---- checking ----------------------------------------------------------- */

static void md5_hex(const char *const *parts, size_t n, char out[33])
{
	unsigned char md[16];
	unsigned int len = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	memset(md, 0, sizeof(md));
	if (c && EVP_DigestInit_ex(c, EVP_md5(), NULL) == 1) {
		for (size_t i = 0; i < n; i++) {
			if (i)
				EVP_DigestUpdate(c, ":", 1);
			EVP_DigestUpdate(c, parts[i], strlen(parts[i]));
		}
		EVP_DigestFinal_ex(c, md, &len);
	}
	EVP_MD_CTX_free(c);
	acs_hex(md, 16, out);
}

/* The path of a request-target ("/x?y" or "http://h/x?y" → "/x?y"). */
static const char *uri_path(const char *u)
{
	const char *s = strstr(u, "://");
	if (!s)
		return u;
	s = strchr(s + 3, '/');
	return s ? s : "/";
}

/* The digest-uri names the request's target: the same path (and query). */
static int uri_matches(const char *digest_uri, const char *request_uri)
{
	const char *a = uri_path(digest_uri), *b = uri_path(request_uri);
	size_t an = strcspn(a, "?"), bn = strcspn(b, "?");
	return an == bn && memcmp(a, b, an) == 0;
}

enum acs_digest_verdict acs_digest_check(const struct acs_digest_key *key,
					 const struct acs_digest_auth *a, const char *realm,
					 const char *method, const char *request_uri,
					 const uint8_t ha1[16], int64_t now_us, int timeout_s)
{
	if (!a->username[0] || !a->nonce[0] || !a->uri[0] || !a->response[0])
		return ACS_DIGEST_INVALID;
	if (a->algorithm[0] && !lower_eq(a->algorithm, strlen(a->algorithm), "md5"))
		return ACS_DIGEST_INVALID;
	if (a->qop[0] && strcmp(a->qop, "auth") != 0)
		return ACS_DIGEST_INVALID;
	if (a->qop[0] && (!a->nc[0] || !a->cnonce[0]))
		return ACS_DIGEST_INVALID;
	if (strcmp(a->realm, realm) != 0 || !uri_matches(a->uri, request_uri))
		return ACS_DIGEST_BAD;
	unsigned char b[32], mac[16];
	if (acs_unhex(a->nonce, b, 32) < 0)
		return ACS_DIGEST_BAD;
	nonce_mac(key, b, mac);
	if (CRYPTO_memcmp(mac, b + 16, 16) != 0)
		return ACS_DIGEST_BAD;
	char h1[33], h2[33], want[33];
	acs_hex(ha1, 16, h1);
	const char *p2[] = { method, a->uri };
	md5_hex(p2, 2, h2);
	if (a->qop[0]) {
		const char *p[] = { h1, a->nonce, a->nc, a->cnonce, a->qop, h2 };
		md5_hex(p, 6, want);
	} else {
		const char *p[] = { h1, a->nonce, h2 };
		md5_hex(p, 3, want);
	}
	char got[33];
	size_t rl = strlen(a->response);
	if (rl != 32)
		return ACS_DIGEST_BAD;
	for (size_t i = 0; i < 32; i++)
		got[i] = a->response[i] >= 'A' && a->response[i] <= 'F'
				 ? (char)(a->response[i] + 32)
				 : a->response[i];
	got[32] = '\0';
	if (CRYPTO_memcmp(got, want, 32) != 0)
		return ACS_DIGEST_BAD;
	uint64_t t = 0;
	for (int i = 0; i < 8; i++)
		t = t << 8 | b[i];
	int64_t age = now_us - (int64_t)t;
	if (age < -5000000 || age > (int64_t)timeout_s * 1000000)
		return ACS_DIGEST_STALE;
	return ACS_DIGEST_OK;
}

/* ---- the used nonces ---------------------------------------------------- */

int acs_digest_used_init(struct acs_digest_used *u, size_t max, int timeout_s)
{
	memset(u, 0, sizeof(*u));
	size_t cap = 16;
	while (cap < max * 2)
		cap *= 2;
	u->slots = calloc(cap, sizeof(*u->slots));
	if (!u->slots)
		return -1;
	u->cap = cap;
	u->max = max;
	u->timeout_s = timeout_s;
	pthread_mutex_init(&u->mu, NULL);
	return 0;
}

void acs_digest_used_fini(struct acs_digest_used *u)
{
	if (!u->slots)
		return;
	pthread_mutex_destroy(&u->mu);
	free(u->slots);
	u->slots = NULL;
}

static size_t slot_of(const struct acs_digest_used *u, uint64_t id)
{
	return (size_t)((id * 0x9e3779b97f4a7c15ull) >> 20) & (u->cap - 1);
}

static void put(struct acs_digest_used *u, uint64_t id, int64_t issued)
{
	size_t i = slot_of(u, id);
	while (u->slots[i].id)
		i = (i + 1) & (u->cap - 1);
	u->slots[i].id = id;
	u->slots[i].issued_us = issued;
	u->n++;
}

/* Drop the entries whose nonces are stale anyway (rehash the live ones). */
static void purge(struct acs_digest_used *u, int64_t now_us)
{
	struct acs_digest_slot *old = u->slots;
	struct acs_digest_slot *fresh = calloc(u->cap, sizeof(*fresh));
	if (!fresh)
		return;
	u->slots = fresh;
	u->n = 0;
	for (size_t i = 0; i < u->cap; i++)
		if (old[i].id && now_us - old[i].issued_us <= (int64_t)u->timeout_s * 1000000)
			put(u, old[i].id, old[i].issued_us);
	free(old);
}

int acs_digest_used_take(struct acs_digest_used *u, const char *nonce, int64_t now_us)
{
	unsigned char b[32];
	if (acs_unhex(nonce, b, sizeof(b)) < 0)
		return 0;
	uint64_t id = 0, issued = 0;
	for (int i = 0; i < 8; i++) {
		issued = issued << 8 | b[i];
		id = id << 8 | b[8 + i];
	}
	if (!id)
		id = 1;
	pthread_mutex_lock(&u->mu);
	int fresh = 1;
	for (size_t i = slot_of(u, id); u->slots[i].id; i = (i + 1) & (u->cap - 1))
		if (u->slots[i].id == id && u->slots[i].issued_us == (int64_t)issued) {
			fresh = 0;
			break;
		}
	if (fresh && u->n >= u->max)
		purge(u, now_us);
	if (fresh && u->n >= u->max)
		fresh = 0; /* full of live nonces: the client gets a new one */
	if (fresh)
		put(u, id, (int64_t)issued);
	pthread_mutex_unlock(&u->mu);
	return fresh;
}
