/*
 * test_acs_auth.c — uspc-acs's device credentials (controller/acs/
 * acs_auth.c): username templates (%o %p %s %e %%, unknown escapes, empty
 * parts, buffers one byte short), the derived password against values
 * computed outside uspc with openssl, Digest HA1 against RFC 2617's
 * example, hex both ways and the constant-time compare.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "acs_auth.h"

static const struct cwmp_device_id dev = {
	.manufacturer = (char *)"Example",
	.oui = (char *)"00D09E",
	.product_class = (char *)"Gateway",
	.serial_number = (char *)"SIM000001",
};

static int user(const char *tmpl, const struct cwmp_device_id *id, const char *eid, char *out,
		size_t len)
{
	return acs_auth_username(tmpl, id, eid, out, len);
}

static void template_escapes(void **state)
{
	(void)state;
	char out[ACS_USERNAME_MAX];
	const char *eid = "ops::00D09E-Gateway-SIM000001";

	assert_int_equal(user("%o-%s", &dev, eid, out, sizeof(out)), 0);
	assert_string_equal(out, "00D09E-SIM000001");
	assert_int_equal(user("%p", &dev, eid, out, sizeof(out)), 0);
	assert_string_equal(out, "Gateway");
	assert_int_equal(user("%e", &dev, eid, out, sizeof(out)), 0);
	assert_string_equal(out, eid);
	assert_int_equal(user("cpe/%o/%p/%s/%e/100%%", &dev, eid, out, sizeof(out)), 0);
	assert_string_equal(out, "cpe/00D09E/Gateway/SIM000001/ops::00D09E-Gateway-SIM000001/100%");
	/* %% alone, and twice in a row */
	assert_int_equal(user("%%%%", &dev, eid, out, sizeof(out)), 0);
	assert_string_equal(out, "%%");
	/* literal text only: no escape at all is still a username */
	assert_int_equal(user("fixed", &dev, eid, out, sizeof(out)), 0);
	assert_string_equal(out, "fixed");
	/* a part repeated */
	assert_int_equal(user("%s%s", &dev, eid, out, sizeof(out)), 0);
	assert_string_equal(out, "SIM000001SIM000001");
}

static void template_refusals(void **state)
{
	(void)state;
	char out[ACS_USERNAME_MAX];
	const char *eid = "os::00D09E-SIM000001";

	/* unknown escapes, and a '%' at the very end */
	assert_int_equal(user("%o-%x", &dev, eid, out, sizeof(out)), -1);
	assert_int_equal(user("%O", &dev, eid, out, sizeof(out)), -1);
	assert_int_equal(user("abc%", &dev, eid, out, sizeof(out)), -1);
	/* an empty template makes no username */
	assert_int_equal(user("", &dev, eid, out, sizeof(out)), -1);
	assert_int_equal(user(NULL, &dev, eid, out, sizeof(out)), -1);
	/* empty or absent parts */
	struct cwmp_device_id no_pc = dev;
	no_pc.product_class = (char *)"";
	assert_int_equal(user("%o-%p-%s", &no_pc, eid, out, sizeof(out)), -1);
	assert_int_equal(user("%o-%s", &no_pc, eid, out, sizeof(out)), 0); /* %p unused */
	assert_string_equal(out, "00D09E-SIM000001");
	no_pc.product_class = NULL;
	assert_int_equal(user("%p", &no_pc, eid, out, sizeof(out)), -1);
	struct cwmp_device_id no_sn = dev;
	no_sn.serial_number = (char *)"";
	assert_int_equal(user("%s", &no_sn, eid, out, sizeof(out)), -1);
	assert_int_equal(user("%e", &dev, NULL, out, sizeof(out)), -1);
	assert_int_equal(user("%e", &dev, "", out, sizeof(out)), -1);
}

static void template_overflow(void **state)
{
	(void)state;
	/* "00D09E-SIM000001" is 16 bytes: 17 with its NUL fits, 16 does not */
	char out[32];
	memset(out, 'Z', sizeof(out));
	assert_int_equal(user("%o-%s", &dev, NULL, out, 17), 0);
	assert_string_equal(out, "00D09E-SIM000001");
	memset(out, 'Z', sizeof(out));
	assert_int_equal(user("%o-%s", &dev, NULL, out, 16), -1);
	assert_int_equal(out[16], 'Z'); /* nothing written past outlen */
	memset(out, 'Z', sizeof(out));
	assert_int_equal(user("%o-%s", &dev, NULL, out, 0), -1);
	assert_int_equal(out[0], 'Z'); /* outlen 0: nothing written at all */
	/* a literal character at the edge */
	assert_int_equal(user("abcd", &dev, NULL, out, 5), 0);
	assert_string_equal(out, "abcd");
	assert_int_equal(user("abcde", &dev, NULL, out, 5), -1);
	/* %% at the edge */
	assert_int_equal(user("abc%%", &dev, NULL, out, 5), 0);
	assert_string_equal(out, "abc%");
	assert_int_equal(user("abcd%%", &dev, NULL, out, 5), -1);

	/* a serial number longer than ACS_USERNAME_MAX */
	char *big = malloc(ACS_USERNAME_MAX + 10);
	assert_non_null(big);
	memset(big, 'S', ACS_USERNAME_MAX + 9);
	big[ACS_USERNAME_MAX + 9] = '\0';
	struct cwmp_device_id long_sn = dev;
	long_sn.serial_number = big;
	char u[ACS_USERNAME_MAX];
	assert_int_equal(user("%s", &long_sn, NULL, u, sizeof(u)), -1);
	big[ACS_USERNAME_MAX - 1] = '\0'; /* exactly 255 bytes: fits */
	assert_int_equal(user("%s", &long_sn, NULL, u, sizeof(u)), 0);
	assert_int_equal(strlen(u), ACS_USERNAME_MAX - 1);
	free(big);
}

static void derived_password(void **state)
{
	(void)state;
	char pw[ACS_DERIVED_PASSWORD_LEN + 1];
	static const char key[] = "uspc-test-key-0123456789";

	/* printf %s 00D09E-SIM000001 | openssl dgst -sha256 -hmac uspc-test-key-0123456789
	 * SHA2-256(stdin)= b43c1cddbe4e62744df552c97ff603352a522d62c6b0a31734181952fa9c2828
	 * (docs/tr069.md: the first 24 hex digits) */
	memset(pw, 'Z', sizeof(pw));
	assert_int_equal(
		acs_auth_derive((const unsigned char *)key, strlen(key), "00D09E-SIM000001", pw),
		0);
	assert_string_equal(pw, "b43c1cddbe4e62744df552c9");
	assert_int_equal(strlen(pw), ACS_DERIVED_PASSWORD_LEN);

	/* printf %s 'ops::00D09E-Gateway-AB%2FC' | openssl dgst -sha256 -hmac k
	 * SHA2-256(stdin)= 08156d708e2f877c82cd332e9f0651e08dc0945a88463a6476be879b8a142619 */
	assert_int_equal(
		acs_auth_derive((const unsigned char *)"k", 1, "ops::00D09E-Gateway-AB%2FC", pw),
		0);
	assert_string_equal(pw, "08156d708e2f877c82cd332e");

	/* The key is key_len bytes, NULs included:
	 * printf %s 00D09E-SIM000001 | openssl dgst -sha256 -mac HMAC -macopt hexkey:6162006364
	 * SHA2-256(stdin)= ca65fec392c899a27d2b721b4365088df561012cccf2a349db8761c4b60ac950
	 * while the key "ab" alone gives 8050c4148aab27788620758f... */
	static const unsigned char bin[] = { 'a', 'b', 0, 'c', 'd' };
	assert_int_equal(acs_auth_derive(bin, sizeof(bin), "00D09E-SIM000001", pw), 0);
	assert_string_equal(pw, "ca65fec392c899a27d2b721b");
	assert_int_equal(acs_auth_derive(bin, 2, "00D09E-SIM000001", pw), 0);
	assert_string_equal(pw, "8050c4148aab27788620758f");

	/* no key */
	assert_int_equal(acs_auth_derive(NULL, 5, "u", pw), -1);
	assert_int_equal(acs_auth_derive(bin, 0, "u", pw), -1);
}

static void digest_ha1(void **state)
{
	(void)state;
	uint8_t raw[16];
	char hex[33];

	/* RFC 2617 section 3.5: HA1 of Mufasa / testrealm@host.com / Circle Of Life */
	acs_auth_ha1("Mufasa", "testrealm@host.com", "Circle Of Life", raw);
	acs_hex(raw, 16, hex);
	assert_string_equal(hex, "939e7578ed9e3c518a452acee763bce9");
	assert_int_equal(raw[0], 0x93);
	assert_int_equal(raw[15], 0xe9);

	/* docs/tr069.md's cwmp_credentials row: md5('abc123:uspc-acs:s3cret') */
	acs_auth_ha1("abc123", "uspc-acs", "s3cret", raw);
	acs_hex(raw, 16, hex);
	assert_string_equal(hex, "2f385b970619490c8a5f36c9f185e532");

	/* the separators are in it: "ab" + "c" differs from "a" + "bc" */
	uint8_t other[16];
	acs_auth_ha1("ab", "c", "", raw);
	acs_auth_ha1("a", "bc", "", other);
	assert_memory_not_equal(raw, other, 16);
}

static void hex_both_ways(void **state)
{
	(void)state;
	uint8_t raw[16], back[16];
	char hex[33];
	for (int i = 0; i < 16; i++)
		raw[i] = (uint8_t)(i * 17 + 3);
	acs_hex(raw, 16, hex);
	assert_string_equal(hex, "031425364758697a8b9cadbecfe0f102");
	assert_int_equal(acs_unhex(hex, back, 16), 0);
	assert_memory_equal(raw, back, 16);

	/* upper case is read too */
	assert_int_equal(acs_unhex("939E7578ED9E3C518A452ACEE763BCE9", back, 16), 0);
	acs_hex(back, 16, hex);
	assert_string_equal(hex, "939e7578ed9e3c518a452acee763bce9");

	/* wrong length, non-hex digits, NULL */
	memset(back, 0xAA, sizeof(back));
	assert_int_equal(acs_unhex("939e7578ed9e3c518a452acee763bce", back, 16), -1);
	assert_int_equal(acs_unhex("939e7578ed9e3c518a452acee763bce90", back, 16), -1);
	assert_int_equal(acs_unhex("", back, 16), -1);
	assert_int_equal(acs_unhex(NULL, back, 16), -1);
	assert_int_equal(back[0], 0xAA); /* a wrong length writes nothing */
	assert_int_equal(acs_unhex("939e7578ed9e3c518a452acee763bceg", back, 16), -1);
	assert_int_equal(acs_unhex("g39e7578ed9e3c518a452acee763bce9", back, 16), -1);
	assert_int_equal(acs_unhex("939e7578ed9e3c51 a452acee763bce9", back, 16), -1);
	assert_int_equal(acs_unhex("0x9e7578ed9e3c518a452acee763bce9", back, 16), -1);
}

static void equal_compare(void **state)
{
	(void)state;
	assert_true(acs_auth_equal("abcdef", "abcdef", 6));
	assert_false(acs_auth_equal("abcdef", "abcdeg", 6));
	assert_false(acs_auth_equal("Xbcdef", "abcdef", 6));
	assert_true(acs_auth_equal("abcX", "abcY", 3));
	assert_true(acs_auth_equal("", "", 0));
}

/* The UDP connection request: the message and its signature, the
 * HMAC-SHA1 values computed independently (Python's hmac module). */
static void udp_connection_request(void **state)
{
	(void)state;
	char out[ACS_UDP_CR_MAX];
	int n = acs_udp_cr_build("192.0.2.7:5060", "00D09E-SIM000001", "cr-secret", 1120673700,
				 1234, "XTGRWIPC6D3IPXS3", out, sizeof(out));
	const char *want = "GET http://192.0.2.7:5060?ts=1120673700&id=1234&un=00D09E-SIM000001"
			   "&cn=XTGRWIPC6D3IPXS3&sig=ee9ece68978fb29fbe00b11026c0cc5a68fc342c "
			   "HTTP/1.1\r\nHost: 192.0.2.7:5060\r\n\r\n";
	assert_string_equal(out, want);
	assert_int_equal(n, (int)strlen(want));
	/* the username percent-encoded in the query, signed as it is */
	n = acs_udp_cr_build("[2001:db8::1]:7547", "a b/\xc3\xa9", "p", 1120673700, 1234, "c1", out,
			     sizeof(out));
	assert_true(n > 0);
	assert_non_null(strstr(out, "GET http://[2001:db8::1]:7547?ts=1120673700&id=1234"
				    "&un=a%20b%2F%C3%A9&cn=c1&sig="
				    "c497df1625ae1f414fd4ea82b50fae7020d8e744 HTTP/1.1\r\n"));
	/* refusals: the address, the cnonce, no room */
	static const char *const bad_addr[] = { "",          "192.0.2.7", ":5060", "192.0.2.7:",
						"host:80/x", "a b:80",    "h:8a",  "h:80\r\nX: y" };
	for (size_t i = 0; i < sizeof(bad_addr) / sizeof(bad_addr[0]); i++)
		if (acs_udp_cr_build(bad_addr[i], "u", "p", 1, 1, "c", out, sizeof(out)) != -1)
			fail_msg("address '%s' accepted", bad_addr[i]);
	assert_int_equal(acs_udp_cr_build("h:80", "u", "p", 1, 1, "", out, sizeof(out)), -1);
	assert_int_equal(acs_udp_cr_build("h:80", "u", "p", 1, 1, "c&d", out, sizeof(out)), -1);
	assert_int_equal(acs_udp_cr_build("h:80", "u", "p", -1, 1, "c", out, sizeof(out)), -1);
	assert_int_equal(acs_udp_cr_build("h:80", "u", "p", 1, 1, "c", out, 40), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(template_escapes),  cmocka_unit_test(template_refusals),
		cmocka_unit_test(template_overflow), cmocka_unit_test(derived_password),
		cmocka_unit_test(digest_ha1),        cmocka_unit_test(hex_both_ways),
		cmocka_unit_test(equal_compare),     cmocka_unit_test(udp_connection_request),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
