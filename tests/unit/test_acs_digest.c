/*
 * test_acs_digest.c — uspc-acs's HTTP Digest (controller/acs/acs_digest.c):
 * parsing Authorization headers as clients write them, our nonces, the
 * check of a response computed here independently (RFC 7616's formula with
 * OpenSSL's MD5), and the single use of a nonce.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "acs_digest.h"

/* MD5 of a:b:c... as 32 hex digits. */
static void md5_colon(char out[33], int n, ...)
{
	unsigned char md[16];
	unsigned int len = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	EVP_DigestInit_ex(c, EVP_md5(), NULL);
	va_list ap;
	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		const char *s = va_arg(ap, const char *);
		if (i)
			EVP_DigestUpdate(c, ":", 1);
		EVP_DigestUpdate(c, s, strlen(s));
	}
	va_end(ap);
	EVP_DigestFinal_ex(c, md, &len);
	EVP_MD_CTX_free(c);
	for (int i = 0; i < 16; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

static void raw_ha1(const char *hex, uint8_t raw[16])
{
	for (int i = 0; i < 16; i++) {
		unsigned v;
		sscanf(hex + 2 * i, "%2x", &v);
		raw[i] = (uint8_t)v;
	}
}

static void parse_forms(void **state)
{
	(void)state;
	struct acs_digest_auth a;
	assert_int_equal(acs_digest_parse("Digest username=\"u\", realm=\"r\", nonce=\"n\", "
					  "uri=\"/x?y=1\", response=\"abc\", qop=auth, "
					  "nc=00000001, cnonce=\"c\", algorithm=MD5, "
					  "opaque=\"o\", other=\"skipped\"",
					  &a),
			 0);
	assert_string_equal(a.username, "u");
	assert_string_equal(a.uri, "/x?y=1");
	assert_string_equal(a.qop, "auth");
	assert_string_equal(a.nc, "00000001");
	assert_string_equal(a.algorithm, "MD5");
	/* any case of the scheme and keys, no spaces, escapes in quotes */
	assert_int_equal(acs_digest_parse("digest USERNAME=\"a\\\"b\",realm=r", &a), 0);
	assert_string_equal(a.username, "a\"b");
	assert_string_equal(a.realm, "r");
	/* refused */
	assert_int_equal(acs_digest_parse("Basic dXNlcjpwYXNz", &a), -1);
	assert_int_equal(acs_digest_parse("Digestusername=\"u\"", &a), -1);
	assert_int_equal(acs_digest_parse("Digest username=\"u", &a), -1);
	assert_int_equal(acs_digest_parse("Digest username=\"u\", username=\"v\"", &a), -1);
	assert_int_equal(acs_digest_parse("Digest =x", &a), -1);
	assert_int_equal(acs_digest_parse("Digest username", &a), -1);
	assert_int_equal(acs_digest_parse(NULL, &a), -1);
	char big[ACS_DIGEST_FIELD_MAX + 64];
	int n = snprintf(big, sizeof(big), "Digest username=\"");
	memset(big + n, 'x', ACS_DIGEST_FIELD_MAX + 1);
	strcpy(big + n + ACS_DIGEST_FIELD_MAX + 1, "\"");
	assert_int_equal(acs_digest_parse(big, &a), -1);
	big[n + ACS_DIGEST_FIELD_MAX] = '"';
	big[n + ACS_DIGEST_FIELD_MAX + 1] = '\0';
	assert_int_equal(acs_digest_parse(big, &a), 0);
}

/* An answer to nonce as a client computes it. */
static void answer(struct acs_digest_auth *a, const char *nonce, const char *pass, const char *uri,
		   const char *qop)
{
	memset(a, 0, sizeof(*a));
	strcpy(a->username, "00D09E-SIM000001");
	strcpy(a->realm, "uspc-acs");
	strcpy(a->nonce, nonce);
	strcpy(a->uri, uri);
	char ha1[33], ha2[33];
	md5_colon(ha1, 3, a->username, a->realm, pass);
	md5_colon(ha2, 2, "POST", uri);
	if (qop) {
		strcpy(a->qop, qop);
		strcpy(a->nc, "00000001");
		strcpy(a->cnonce, "0a4f113b");
		md5_colon(a->response, 6, ha1, nonce, a->nc, a->cnonce, qop, ha2);
	} else {
		md5_colon(a->response, 3, ha1, nonce, ha2);
	}
}

static void check_answers(void **state)
{
	(void)state;
	struct acs_digest_key key, other;
	assert_int_equal(acs_digest_key_init(&key), 0);
	assert_int_equal(acs_digest_key_init(&other), 0);
	char nonce[ACS_DIGEST_NONCE_LEN + 1], n2[ACS_DIGEST_NONCE_LEN + 1];
	int64_t t = 1765000000000000;
	assert_int_equal(acs_digest_nonce(&key, t, nonce), 0);
	assert_int_equal(acs_digest_nonce(&key, t, n2), 0);
	assert_int_equal(strlen(nonce), ACS_DIGEST_NONCE_LEN);
	assert_string_not_equal(nonce, n2); /* one per challenge, even in the same µs */
	char hex[33];
	uint8_t ha1[16];
	md5_colon(hex, 3, "00D09E-SIM000001", "uspc-acs", "secret");
	raw_ha1(hex, ha1);
	struct acs_digest_auth a;
	answer(&a, nonce, "secret", "/", "auth");
	assert_int_equal(acs_digest_check(&key, &a, "uspc-acs", "POST", "/", ha1, t + 1000000, 300),
			 ACS_DIGEST_OK);
	/* an absolute URI in the request line names the same path */
	assert_int_equal(
		acs_digest_check(&key, &a, "uspc-acs", "POST", "http://acs:7547/", ha1, t, 300),
		ACS_DIGEST_OK);
	/* upper-case hex in the response is the same answer */
	for (char *p = a.response; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 32);
	assert_int_equal(acs_digest_check(&key, &a, "uspc-acs", "POST", "/", ha1, t, 300),
			 ACS_DIGEST_OK);
	/* RFC 2069 form, without qop */
	answer(&a, nonce, "secret", "/", NULL);
	assert_int_equal(acs_digest_check(&key, &a, "uspc-acs", "POST", "/", ha1, t, 300),
			 ACS_DIGEST_OK);
	/* wrong password, realm, uri, method */
	answer(&a, nonce, "wrong", "/", "auth");
	assert_int_equal(acs_digest_check(&key, &a, "uspc-acs", "POST", "/", ha1, t, 300),
			 ACS_DIGEST_BAD);
	answer(&a, nonce, "secret", "/", "auth");
	assert_int_equal(acs_digest_check(&key, &a, "other", "POST", "/", ha1, t, 300),
			 ACS_DIGEST_BAD);
	assert_int_equal(acs_digest_check(&key, &a, "uspc-acs", "POST", "/cwmp", ha1, t, 300),
			 ACS_DIGEST_BAD);
	assert_int_equal(acs_digest_check(&key, &a, "uspc-acs", "GET", "/", ha1, t, 300),
			 ACS_DIGEST_BAD);
	/* a nonce of another key (forged, or of a restarted ACS) */
	char forged[ACS_DIGEST_NONCE_LEN + 1];
	assert_int_equal(acs_digest_nonce(&other, t, forged), 0);
	answer(&a, forged, "secret", "/", "auth");
	assert_int_equal(acs_digest_check(&key, &a, "uspc-acs", "POST", "/", ha1, t, 300),
			 ACS_DIGEST_BAD);
	/* a nonce edited by one digit */
	answer(&a, nonce, "secret", "/", "auth");
	a.nonce[3] = a.nonce[3] == '0' ? '1' : '0';
	assert_int_equal(acs_digest_check(&key, &a, "uspc-acs", "POST", "/", ha1, t, 300),
			 ACS_DIGEST_BAD);
	/* too old: stale, so the client retries with a new nonce */
	answer(&a, nonce, "secret", "/", "auth");
	assert_int_equal(
		acs_digest_check(&key, &a, "uspc-acs", "POST", "/", ha1, t + 301 * 1000000LL, 300),
		ACS_DIGEST_STALE);
	/* what is not supported or missing */
	answer(&a, nonce, "secret", "/", "auth-int");
	assert_int_equal(acs_digest_check(&key, &a, "uspc-acs", "POST", "/", ha1, t, 300),
			 ACS_DIGEST_INVALID);
	answer(&a, nonce, "secret", "/", "auth");
	strcpy(a.algorithm, "MD5-sess");
	assert_int_equal(acs_digest_check(&key, &a, "uspc-acs", "POST", "/", ha1, t, 300),
			 ACS_DIGEST_INVALID);
	answer(&a, nonce, "secret", "/", "auth");
	a.cnonce[0] = '\0';
	assert_int_equal(acs_digest_check(&key, &a, "uspc-acs", "POST", "/", ha1, t, 300),
			 ACS_DIGEST_INVALID);
}

static void challenge_text(void **state)
{
	(void)state;
	char h[256];
	assert_int_equal(acs_digest_challenge("uspc-acs", "abc", 1, h, sizeof(h)), 0);
	assert_non_null(strstr(h, "Digest realm=\"uspc-acs\""));
	assert_non_null(strstr(h, "qop=\"auth\""));
	assert_non_null(strstr(h, "nonce=\"abc\""));
	assert_non_null(strstr(h, "stale=true"));
	assert_int_equal(acs_digest_challenge("uspc-acs", "abc", 0, h, 20), -1);
}

static void nonce_used_once(void **state)
{
	(void)state;
	struct acs_digest_key key;
	struct acs_digest_used u;
	assert_int_equal(acs_digest_key_init(&key), 0);
	assert_int_equal(acs_digest_used_init(&u, 4, 300), 0);
	int64_t t = 1765000000000000;
	char n[6][ACS_DIGEST_NONCE_LEN + 1];
	for (int i = 0; i < 6; i++)
		assert_int_equal(acs_digest_nonce(&key, t + i, n[i]), 0);
	assert_int_equal(acs_digest_used_take(&u, n[0], t), 1);
	assert_int_equal(acs_digest_used_take(&u, n[0], t), 0);
	for (int i = 1; i < 4; i++)
		assert_int_equal(acs_digest_used_take(&u, n[i], t), 1);
	/* full of live nonces: the next is refused (the client gets a new one) */
	assert_int_equal(acs_digest_used_take(&u, n[4], t), 0);
	/* once they are stale they are forgotten and room is made */
	assert_int_equal(acs_digest_used_take(&u, n[5], t + 301 * 1000000LL), 1);
	assert_int_equal(acs_digest_used_take(&u, "zz", t), 0);
	acs_digest_used_fini(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_forms),
		cmocka_unit_test(check_answers),
		cmocka_unit_test(challenge_text),
		cmocka_unit_test(nonce_used_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
