/*
 * test_store_tokens.c — the pure side of the HTTP API's tokens
 * (store_tokens.h): role names, the token's form (made by generate,
 * checked by well_formed), its SHA-256 and the names a token may have.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "store_tokens.h"

/* 43 'A's: base64url of 32 zero bytes. */
#define ZERO_TOKEN "uspc_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

static void roles_by_name(void **state)
{
	(void)state;
	assert_int_equal(store_role_from_name("viewer"), STORE_ROLE_VIEWER);
	assert_int_equal(store_role_from_name("operator"), STORE_ROLE_OPERATOR);
	assert_int_equal(store_role_from_name("admin"), STORE_ROLE_ADMIN);
	assert_int_equal(store_role_from_name("none"), -1); /* not a role a token has */
	assert_int_equal(store_role_from_name("Admin"), -1);
	assert_int_equal(store_role_from_name(""), -1);
	assert_int_equal(store_role_from_name(NULL), -1);
	assert_string_equal(store_role_name(STORE_ROLE_NONE), "none");
	assert_string_equal(store_role_name(STORE_ROLE_VIEWER), "viewer");
	assert_string_equal(store_role_name(STORE_ROLE_OPERATOR), "operator");
	assert_string_equal(store_role_name(STORE_ROLE_ADMIN), "admin");
	assert_string_equal(store_role_name((enum store_role)4), "?");
	assert_string_equal(store_role_name((enum store_role) - 1), "?");
	/* ordered: a check is "at least" */
	assert_true(STORE_ROLE_ADMIN > STORE_ROLE_OPERATOR &&
		    STORE_ROLE_OPERATOR > STORE_ROLE_VIEWER && STORE_ROLE_VIEWER > STORE_ROLE_NONE);
}

static void generated_tokens_are_well_formed_and_differ(void **state)
{
	(void)state;
	char a[STORE_TOKEN_TEXT_MAX], b[STORE_TOKEN_TEXT_MAX];
	assert_int_equal(store_token_generate(a), 0);
	assert_int_equal(store_token_generate(b), 0);
	assert_int_equal(strlen(a), 48);
	assert_memory_equal(a, "uspc_", 5);
	assert_true(store_token_well_formed(a));
	assert_true(store_token_well_formed(b));
	assert_string_not_equal(a, b);
	/* 32 bytes in 43 characters: the last one carries 4 bits, so it is
	 * one of the 16 characters whose low 2 bits are 0 */
	assert_non_null(strchr("AEIMQUYcgkosw048", a[47]));
	/* many tokens: every character of the alphabet shows up, no other */
	int seen[256] = { 0 };
	for (int i = 0; i < 200; i++) {
		assert_int_equal(store_token_generate(a), 0);
		assert_true(store_token_well_formed(a));
		for (int k = 5; k < 47; k++)
			seen[(unsigned char)a[k]] = 1;
	}
	int n = 0;
	for (int ch = 0; ch < 256; ch++)
		n += seen[ch];
	assert_int_equal(n, 64);
	assert_true(seen['-'] && seen['_']);
}

static void well_formed_checks_prefix_length_alphabet(void **state)
{
	(void)state;
	assert_true(store_token_well_formed(ZERO_TOKEN));
	assert_true(store_token_well_formed("uspc_-_09azAZ-_09azAZ-_09azAZ-_09azAZ-_09azAZ-_A"));
	assert_false(store_token_well_formed(NULL));
	assert_false(store_token_well_formed(""));
	assert_false(store_token_well_formed("uspc_"));
	/* one character short, one too many */
	assert_false(store_token_well_formed("uspc_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	assert_false(store_token_well_formed("uspc_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	/* another prefix, another case */
	assert_false(store_token_well_formed("USPC_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	assert_false(store_token_well_formed("uspc-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	/* base64 (not url), padding, space, non-ASCII */
	assert_false(store_token_well_formed("uspc_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+"));
	assert_false(store_token_well_formed("uspc_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/"));
	assert_false(store_token_well_formed("uspc_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
	assert_false(store_token_well_formed("uspc_AAAAAAAAAAAAAAAAAAAAA AAAAAAAAAAAAAAAAAAAAA"));
	assert_false(store_token_well_formed("uspc_AAAAAAAAAAAAAAAAAAAAA\xc3\xa9"
					     "AAAAAAAAAAAAAAAAAAAA"));
	/* a Bearer header value is not a token */
	assert_false(store_token_well_formed("Bearer " ZERO_TOKEN));
}

static void hash_is_sha256_of_the_text(void **state)
{
	(void)state;
	static const unsigned char abc[32] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
		0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
		0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
	};
	/* sha256sum of the 48 bytes of ZERO_TOKEN */
	static const unsigned char zero[32] = {
		0xb3, 0xb4, 0xfc, 0xce, 0x6f, 0x6d, 0x64, 0xe5, 0x88, 0x99, 0x6d,
		0x24, 0xb6, 0x4b, 0x5f, 0x11, 0x5b, 0x58, 0x9c, 0x88, 0xfd, 0x71,
		0xf9, 0xc5, 0x1e, 0x04, 0x45, 0x83, 0xf6, 0xe4, 0xbf, 0x6f,
	};
	unsigned char h[32];
	store_token_hash("abc", h); /* FIPS 180-2, appendix B.1 */
	assert_memory_equal(h, abc, 32);
	store_token_hash(ZERO_TOKEN, h);
	assert_memory_equal(h, zero, 32);
}

static void token_names(void **state)
{
	(void)state;
	char long_name[STORE_TOKEN_NAME_MAX + 2];
	assert_true(store_token_name_valid("console"));
	assert_true(store_token_name_valid("ci-deploy_2.0"));
	assert_false(store_token_name_valid(""));
	assert_false(store_token_name_valid(NULL));
	assert_false(store_token_name_valid("with space"));
	assert_false(store_token_name_valid("a/b"));
	assert_false(store_token_name_valid("caf\xc3\xa9"));
	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_false(store_token_name_valid(long_name));
	long_name[STORE_TOKEN_NAME_MAX] = '\0';
	assert_true(store_token_name_valid(long_name));
}

/* A malformed token is refused without touching the database (no
 * connection is needed to say so). */
static void check_refuses_malformed_without_a_query(void **state)
{
	(void)state;
	struct store_token_who who = { .id = 9, .role = STORE_ROLE_ADMIN };
	struct uspc_err err;
	assert_int_equal(store_token_check(NULL, "uspc_short", &who, &err), STORE_E_NOTFOUND);
	assert_int_equal(who.id, 0);
	assert_int_equal(who.role, STORE_ROLE_NONE);
	assert_int_equal(store_token_check(NULL, "", &who, &err), STORE_E_NOTFOUND);
	assert_int_equal(store_token_check(NULL, NULL, &who, &err), STORE_E_NOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roles_by_name),
		cmocka_unit_test(generated_tokens_are_well_formed_and_differ),
		cmocka_unit_test(well_formed_checks_prefix_length_alphabet),
		cmocka_unit_test(hash_is_sha256_of_the_text),
		cmocka_unit_test(token_names),
		cmocka_unit_test(check_refuses_malformed_without_a_query),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
