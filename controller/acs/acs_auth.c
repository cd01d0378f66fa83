/*
 * acs_auth.c — device credentials: templated usernames, derived passwords,
 * Digest HA1 (see acs_auth.h).
 */
#include "acs_auth.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

int acs_auth_username(const char *tmpl, const struct cwmp_device_id *id, const char *eid, char *out,
		      size_t outlen)
{
	size_t o = 0;
	if (!tmpl || !outlen)
		return -1;
	for (const char *p = tmpl; *p; p++) {
		const char *part = NULL;
		char pc[2] = { 0, 0 };
		if (*p != '%') {
			pc[0] = *p;
			part = pc;
		} else {
			switch (*++p) {
			case 'o':
				part = id->oui;
				break;
			case 'p':
				part = id->product_class;
				break;
			case 's':
				part = id->serial_number;
				break;
			case 'e':
				part = eid;
				break;
			case '%':
				part = "%";
				break;
			default:
				return -1;
			}
			if (!part || !*part)
				return -1;
		}
		size_t n = strlen(part);
		if (o + n >= outlen)
			return -1;
		memcpy(out + o, part, n);
		o += n;
	}
	out[o] = '\0';
	return o ? 0 : -1;
}

int acs_auth_derive(const unsigned char *key, size_t key_len, const char *username,
		    char out[ACS_DERIVED_PASSWORD_LEN + 1])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	if (!key || !key_len ||
	    !HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)username,
		  strlen(username), mac, &mac_len) ||
	    mac_len * 2 < ACS_DERIVED_PASSWORD_LEN)
		return -1;
	acs_hex(mac, ACS_DERIVED_PASSWORD_LEN / 2, out);
	OPENSSL_cleanse(mac, sizeof(mac));
	return 0;
}

void acs_auth_ha1(const char *username, const char *realm, const char *password, uint8_t raw[16])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int n = 0;
	memset(raw, 0, 16);
	if (!c)
		return;
	if (EVP_DigestInit_ex(c, EVP_md5(), NULL) == 1) {
		EVP_DigestUpdate(c, username, strlen(username));
		EVP_DigestUpdate(c, ":", 1);
		EVP_DigestUpdate(c, realm, strlen(realm));
		EVP_DigestUpdate(c, ":", 1);
		EVP_DigestUpdate(c, password, strlen(password));
		EVP_DigestFinal_ex(c, raw, &n);
	}
	EVP_MD_CTX_free(c);
}

void acs_hex(const void *raw, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	const unsigned char *b = raw;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[b[i] >> 4];
		out[2 * i + 1] = hx[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int nib(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int acs_unhex(const char *hex, void *raw, size_t n)
{
	if (!hex || strlen(hex) != 2 * n)
		return -1;
	for (size_t i = 0; i < 2 * n; i++)
		if (nib(hex[i]) < 0)
			return -1;
	unsigned char *b = raw;
	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)(nib(hex[2 * i]) << 4 | nib(hex[2 * i + 1]));
	return 0;
}

int acs_auth_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

/* ---- UDP connection requests ---------------------------------------------------------- */

static int udp_address_ok(const char *a)
{
	const char *colon = strrchr(a, ':');
	if (!*a || !colon || colon == a || !colon[1] || strlen(a) > 300)
		return 0;
	for (const char *c = a; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr(".:[]-", *c))
			return 0;
	for (const char *c = colon + 1; *c; c++)
		if (!isdigit((unsigned char)*c))
			return 0;
	return 1;
}

int acs_udp_cr_build(const char *address, const char *user, const char *password, int64_t ts,
		     uint32_t id, const char *cnonce, char *out, size_t cap)
{
	char signed_text[64 + ACS_USERNAME_MAX + 64], enc[3 * ACS_USERNAME_MAX + 1], sig[41];
	unsigned char mac[20];
	unsigned mac_len = 0;
	size_t cl = cnonce ? strlen(cnonce) : 0, e = 0;
	if (!address || !user || !password || !udp_address_ok(address) || !cl || cl > 64 ||
	    strlen(user) >= ACS_USERNAME_MAX || ts < 0)
		return -1;
	for (const char *c = cnonce; *c; c++)
		if (!isalnum((unsigned char)*c))
			return -1;
	for (const char *c = user; *c; c++) {
		if (isalnum((unsigned char)*c) || strchr("-._~", *c)) {
			enc[e++] = *c;
		} else {
			snprintf(enc + e, 4, "%%%02X", (unsigned char)*c);
			e += 3;
		}
	}
	enc[e] = '\0';
	int n = snprintf(signed_text, sizeof(signed_text), "%lld%u%s%s", (long long)ts, id, user,
			 cnonce);
	if (n < 0 || (size_t)n >= sizeof(signed_text) ||
	    !HMAC(EVP_sha1(), password, (int)strlen(password), (const unsigned char *)signed_text,
		  (size_t)n, mac, &mac_len) ||
	    mac_len != sizeof(mac))
		return -1;
	acs_hex(mac, sizeof(mac), sig);
	n = snprintf(out, cap,
		     "GET http://%s?ts=%lld&id=%u&un=%s&cn=%s&sig=%s HTTP/1.1\r\nHost: %s\r\n\r\n",
		     address, (long long)ts, id, enc, cnonce, sig, address);
	return n < 0 || (size_t)n >= cap ? -1 : n;
}
