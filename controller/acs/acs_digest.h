/*
 * acs_digest.h — HTTP Digest authentication (RFC 7616 with MD5, qop=auth,
 * as TR-069 CPEs use it) on the server side: challenges, parsing an
 * Authorization header, checking its response against the device's HA1.
 *
 * Why not libmicrohttpd's own: in 0.9.75 (Debian 12) a nonce is built from
 * the time in whole seconds, the method, the URI and the realm only, so
 * every CPE challenged within the same second gets the same nonce; the
 * library then counts the second CPE's nc=1 as a replay of the first's and
 * refuses it (measured: 85 of 217 Informs of 200 simulated CPEs starting
 * together). Here every challenge has its own nonce, and a nonce is
 * accepted once: it opens one session, whose later requests are bound to
 * it by the session cookie.
 *
 * A nonce is 64 hex digits: 8 bytes of issue time (µs, big-endian), 8
 * random bytes, and 16 bytes of HMAC-SHA256 over both under a secret made
 * at start, so it needs no table to be checked, only its single use
 * (struct acs_digest_used).
 *
 * Pure apart from the random bytes of a new nonce; the used-nonce set is
 * thread-safe.
 */
#ifndef USPC_ACS_DIGEST_H
#define USPC_ACS_DIGEST_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define ACS_DIGEST_NONCE_LEN 64
#define ACS_DIGEST_FIELD_MAX 512 /* longest field value accepted */

/* The fields of an Authorization: Digest header (NUL-terminated; "" when
 * absent). */
struct acs_digest_auth {
	char username[ACS_DIGEST_FIELD_MAX + 1];
	char realm[ACS_DIGEST_FIELD_MAX + 1];
	char nonce[ACS_DIGEST_FIELD_MAX + 1];
	char uri[ACS_DIGEST_FIELD_MAX + 1];
	char response[ACS_DIGEST_FIELD_MAX + 1];
	char qop[ACS_DIGEST_FIELD_MAX + 1];
	char nc[ACS_DIGEST_FIELD_MAX + 1];
	char cnonce[ACS_DIGEST_FIELD_MAX + 1];
	char opaque[ACS_DIGEST_FIELD_MAX + 1];
	char algorithm[ACS_DIGEST_FIELD_MAX + 1];
};

/* Parse an Authorization header value ("Digest k=v, k=\"v\", ..."): 0, or
 * -1 when it is not Digest or is malformed (a field too long, a quote not
 * closed, a parameter given twice). Unknown parameters are skipped. */
int acs_digest_parse(const char *header, struct acs_digest_auth *out);

/* The server's secret for nonces (32 random bytes). */
struct acs_digest_key {
	unsigned char secret[32];
};
/* Fill key with random bytes: 0, or -1. */
int acs_digest_key_init(struct acs_digest_key *key);

/* A new nonce issued at now_us, into out[ACS_DIGEST_NONCE_LEN + 1]: 0, or -1
 * (no random bytes). */
int acs_digest_nonce(const struct acs_digest_key *key, int64_t now_us,
		     char out[ACS_DIGEST_NONCE_LEN + 1]);

/* The WWW-Authenticate value of a challenge with nonce: "Digest
 * realm=..., qop=\"auth\", algorithm=MD5, nonce=..., opaque=..."
 * (stale=true when stale). 0, or -1 when it does not fit in cap. */
int acs_digest_challenge(const char *realm, const char *nonce, int stale, char *out, size_t cap);

enum acs_digest_verdict {
	ACS_DIGEST_OK,
	ACS_DIGEST_STALE,   /* our nonce, but too old or used: challenge again, stale=true */
	ACS_DIGEST_BAD,     /* wrong response, realm, uri or username; a forged nonce */
	ACS_DIGEST_INVALID, /* missing fields, qop other than auth, algorithm other than MD5 */
};

/* Check a parsed answer for method and the request's URI against ha1 (the
 * 16-byte MD5 of username:realm:password): the nonce must be ours
 * (HMAC), younger than timeout_s at now_us, and the response right. Does
 * not record the nonce as used (acs_digest_used_take). */
enum acs_digest_verdict acs_digest_check(const struct acs_digest_key *key,
					 const struct acs_digest_auth *a, const char *realm,
					 const char *method, const char *request_uri,
					 const uint8_t ha1[16], int64_t now_us, int timeout_s);

/* The nonces already used, so each opens one session. Bounded: at most
 * max entries; an entry is forgotten timeout_s after its nonce was issued
 * (then the nonce is stale anyway). */
struct acs_digest_used {
	pthread_mutex_t mu;
	struct acs_digest_slot *slots;
	size_t cap, n, max;
	int timeout_s;
};
int acs_digest_used_init(struct acs_digest_used *u, size_t max, int timeout_s);
void acs_digest_used_fini(struct acs_digest_used *u);
/* 1 when nonce was not used before (it is now), 0 when it was or the set
 * is full of live entries (then the caller answers stale). */
int acs_digest_used_take(struct acs_digest_used *u, const char *nonce, int64_t now_us);

#endif
