/* test_redact.c — uspc_redact(): passwords hidden in every connection
 * string form the daemon and uspctl print or log (controller/util). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "redact.h"

static void check(const char *in, const char *want)
{
	char out[256];
	uspc_redact(in, out, sizeof(out));
	assert_string_equal(out, want);
}

static void uri_user_password(void **state)
{
	(void)state;
	check("postgresql://uspc:s3cret@127.0.0.1:5432/uspc",
	      "postgresql://uspc:***@127.0.0.1:5432/uspc");
	check("postgresql://u:@h/db", "postgresql://u:***@h/db");
	check("postgresql://u@h/db", "postgresql://u@h/db");
	check("postgresql://h/db", "postgresql://h/db");
	check("mqtts://dev:pw@broker:8883", "mqtts://dev:***@broker:8883");
	/* An '@' in the path or query is not the userinfo's. */
	check("postgresql://h/db?application_name=a@b", "postgresql://h/db?application_name=a@b");
	/* The last '@' of the authority ends the userinfo. */
	check("postgresql://u:p@ss@h/db", "postgresql://u:***@h/db");
	check("postgresql://u:pa/ss@h/db", "postgresql://u:***@h/db");
	check("mqtt://u:p/w@broker:1883", "mqtt://u:***@broker:1883");
}

static void uri_query_password(void **state)
{
	(void)state;
	check("postgresql://u@h/db?sslmode=require&password=s3cret",
	      "postgresql://u@h/db?sslmode=require&password=***");
	check("postgresql://h/db?password=s3cret&sslmode=require",
	      "postgresql://h/db?password=***&sslmode=require");
	check("postgresql://h/db?password=s3cret#frag", "postgresql://h/db?password=***#frag");
	/* Only the key "password" is masked, not keys that end in it. */
	check("postgresql://h/db?xpassword=v", "postgresql://h/db?xpassword=v");
	check("postgresql://h/db?sslpassword=k&PASSWORD=s",
	      "postgresql://h/db?sslpassword=***&PASSWORD=***");
}

static void keyword_value(void **state)
{
	(void)state;
	check("host=h password=s3cret dbname=uspc", "host=h password=*** dbname=uspc");
	check("host=h password = 'a b\\' c' dbname=uspc", "host=h password=*** dbname=uspc");
	check("password=", "password=***");
	check("host=h  passfile=/x", "host=h  passfile=/x");
	check("host=h mypassword=v", "host=h mypassword=v");
	check("host=h sslpassword=k Password=s", "host=h sslpassword=*** Password=***");
	check("", "");
	check("password='unterminated", "password=***");
}

static void null_prints_empty(void **state)
{
	(void)state;
	char out[8] = "x";
	uspc_redact(NULL, out, sizeof(out));
	assert_string_equal(out, "");
	uspc_redact("abc", out, 0); /* nothing written */
	assert_string_equal(out, "");
}

/* A buffer shorter than the string: the cut comes after the masking, so no
 * part of the password shows, and nothing is written past the buffer. */
static void short_buffer_shows_no_password(void **state)
{
	(void)state;
	const char *in[] = { "postgresql://user:abcdefghijkl@h/db", "host=h password=abcdefghijkl",
			     "postgresql://h/db?password=abcdefghijkl" };
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		for (size_t cap = 1; cap <= strlen(in[i]) + 4; cap++) {
			char out[64];
			memset(out, 'Z', sizeof(out));
			uspc_redact(in[i], out, cap);
			assert_true(strlen(out) < cap);
			assert_int_equal(out[cap], 'Z'); /* untouched past cap */
			assert_null(strstr(out, "abc"));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(uri_user_password),
		cmocka_unit_test(uri_query_password),
		cmocka_unit_test(keyword_value),
		cmocka_unit_test(null_prints_empty),
		cmocka_unit_test(short_buffer_shows_no_password),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
