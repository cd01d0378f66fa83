/*
 * test_usp_err.c — struct uspc_err helpers and the TR-369 error code table
 * (texts, identifiers, ranges 7200-7299 / 7800-7999, unknown codes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "usp_err.h"

struct row {
	uint32_t code;
	const char *ident;
	const char *text;
};

static const struct row rows[] = {
#define ROW_(code, ident, text) { code, #ident, text },
	USP_ERROR_CODES(ROW_)
#undef ROW_
};
#define N_ROWS (sizeof(rows) / sizeof(rows[0]))

static void test_table_lookups(void **state)
{
	(void)state;
	/* 7000-7031 and 7100-7106, each once, ascending */
	assert_int_equal(N_ROWS, 32 + 7);
	for (size_t i = 0; i < N_ROWS; i++) {
		if (i > 0)
			assert_true(rows[i].code > rows[i - 1].code);
		assert_string_equal(usp_err_text(rows[i].code), rows[i].text);
		assert_string_equal(usp_err_ident(rows[i].code), rows[i].ident);
		assert_true(usp_err_is_known(rows[i].code));
	}
	for (uint32_t c = 7000; c <= 7031; c++)
		assert_non_null(usp_err_ident(c));
	for (uint32_t c = 7100; c <= 7106; c++)
		assert_non_null(usp_err_ident(c));
}

static void test_well_known_codes(void **state)
{
	(void)state;
	assert_int_equal(USP_ERR_MESSAGE_NOT_SUPPORTED, 7001);
	assert_int_equal(USP_ERR_INVALID_ARGUMENTS, 7004);
	assert_int_equal(USP_ERR_INVALID_PATH, 7026);
	assert_int_equal(USP_ERR_RECORD_NOT_PARSED, 7100);
	assert_int_equal(USP_ERR_SESSION_CONTEXT_NOT_ALLOWED, 7106);
	assert_string_equal(usp_err_text(7000), "Message failed");
	assert_string_equal(usp_err_text(7026), "Invalid path");
	assert_string_equal(usp_err_ident(7026), "INVALID_PATH");
	assert_string_equal(usp_err_text(7100), "Record could not be parsed");
	assert_string_equal(usp_err_ident(7105), "SESSION_CONTEXT_TERMINATED");
}

static void test_ranges_and_unknown(void **state)
{
	(void)state;
	static const uint32_t dm[] = { 7200, 7250, 7299 };
	static const uint32_t vendor[] = { 7800, 7900, 7999 };
	static const uint32_t unknown[] = { 0,    1,    6999, 7032, 7099,      7107,
					    7199, 7300, 7799, 8000, UINT32_MAX };
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(usp_err_text(dm[i]), "Data-model defined error");
		assert_null(usp_err_ident(dm[i]));
		assert_true(usp_err_is_known(dm[i]));
		assert_string_equal(usp_err_text(vendor[i]), "Vendor defined error");
		assert_null(usp_err_ident(vendor[i]));
		assert_true(usp_err_is_known(vendor[i]));
	}
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		assert_string_equal(usp_err_text(unknown[i]), "Unknown error code");
		assert_null(usp_err_ident(unknown[i]));
		assert_false(usp_err_is_known(unknown[i]));
	}
}

static void test_err_set_and_clear(void **state)
{
	(void)state;
	struct uspc_err e;
	assert_int_equal(uspc_err_set(&e, -42, "bad %s %d", "thing", 7), -42);
	assert_int_equal(e.code, -42);
	assert_string_equal(e.msg, "bad thing 7");

	/* a wire code is kept in err, the return value stays negative */
	assert_int_equal(uspc_err_set(&e, 7026, "path %s", "Device.X"), -1);
	assert_int_equal(e.code, 7026);
	assert_string_equal(e.msg, "path Device.X");

	/* 0..6999 are not error codes: normalised to -1 */
	assert_int_equal(uspc_err_set(&e, 0, "zero"), -1);
	assert_int_equal(e.code, -1);
	assert_int_equal(uspc_err_set(&e, 500, "x"), -1);
	assert_int_equal(e.code, -1);

	/* NULL err is allowed */
	assert_int_equal(uspc_err_set(NULL, -7, "ignored"), -7);
	assert_int_equal(uspc_err_set(NULL, 7004, "ignored"), -1);

	/* long messages are truncated and stay terminated */
	char big[600];
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	uspc_err_set(&e, -1, "%s", big);
	assert_int_equal(strlen(e.msg), sizeof(e.msg) - 1);

	uspc_err_clear(&e);
	assert_int_equal(e.code, 0);
	assert_string_equal(e.msg, "");
	uspc_err_clear(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_lookups),
		cmocka_unit_test(test_well_known_codes),
		cmocka_unit_test(test_ranges_and_unknown),
		cmocka_unit_test(test_err_set_and_clear),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
