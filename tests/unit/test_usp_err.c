/*
 * test_usp_err.c — struct uspc_err helpers, the TR-369 error code table
 * (texts, identifiers, ranges 7200-7299 / 7800-7999, unknown codes) and the
 * names and texts of every internal code (uspc_err_name / uspc_strerror).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
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

/* Every internal code of every module's list, as the lists define it. */
struct icode {
	int code;
	const char *ident; /* enum name */
	int lo, hi;        /* its module's range */
};

#define GEN_(i, v, t) { USPC_E_##i, "USPC_E_" #i, -49, -1 },
#define MOD_(prefix, lo, hi, i) { prefix##i, #prefix #i, lo, hi },
#define REC_(i, n, t) MOD_(USP_RECORD_E_, -99, -50, i)
#define MSG_(i, n, t) MOD_(USP_MSG_E_, -199, -101, i)
#define PATH_(i, n, t) MOD_(USP_PATH_E_, -299, -201, i)
#define CTL_(i, n, t) MOD_(USPCTL_E_, -399, -301, i)
#define JSON_(i, n, t) MOD_(USP_JSON_E_, -499, -401, i)
#define STORE_(i, n, t) MOD_(STORE_E_, -599, -501, i)
#define MQTT_(i, n, t) MOD_(MQTT_MTP_E_, -699, -601, i)
static const struct icode icodes[] = { USPC_ERRORS(GEN_) USP_RECORD_ERRORS(REC_) USP_MSG_ERRORS(
	MSG_) USP_PATH_ERRORS(PATH_) USPCTL_ERRORS(CTL_) USP_JSON_ERRORS(JSON_) STORE_ERRORS(STORE_)
					       MQTT_MTP_ERRORS(MQTT_) };
#define N_ICODES (sizeof(icodes) / sizeof(icodes[0]))

static void test_internal_codes_named(void **state)
{
	(void)state;
	assert_true(N_ICODES > 90);
	for (size_t i = 0; i < N_ICODES; i++) {
		const struct icode *c = &icodes[i];
		const char *name = uspc_err_name(c->code);
		const char *text = uspc_strerror(c->code);
		/* negative, inside its module's hundred */
		assert_true(c->code >= c->lo && c->code <= c->hi);
		/* the name is the enum's own identifier; the text says something */
		assert_string_equal(name, c->ident);
		assert_true(strlen(text) > 5);
		assert_null(strstr(text, "unknown error"));
		/* the _r forms give the same constant text */
		char buf[USPC_ERR_BUFSZ];
		assert_ptr_equal(uspc_err_name_r(c->code, buf, sizeof(buf)), name);
		assert_ptr_equal(uspc_strerror_r(c->code, buf, sizeof(buf)), text);
		for (size_t j = 0; j < i; j++) {
			assert_int_not_equal(icodes[j].code, c->code);
			assert_string_not_equal(uspc_err_name(icodes[j].code), name);
			assert_string_not_equal(uspc_strerror(icodes[j].code), text);
		}
	}
}

static void test_internal_codes_examples(void **state)
{
	(void)state;
	/* the generic failure stays -1; the transport no longer shares it */
	assert_int_equal(USPC_E_FAILED, -1);
	assert_int_equal(MQTT_MTP_E_INVAL, -699);
	assert_int_equal(STORE_E_DB, -599);
	assert_int_equal(USP_RECORD_E_TOO_LARGE, -99);
	assert_string_equal(uspc_err_name(-1), "USPC_E_FAILED");
	assert_string_equal(uspc_err_name(MQTT_MTP_E_BUSY), "MQTT_MTP_E_BUSY");
	assert_string_equal(uspc_strerror(STORE_E_CONN),
			    "store: could not connect, or the connection was lost");
	assert_string_equal(uspc_strerror(USP_PATH_E_EMPTY), "USP path: path is empty");
	assert_string_equal(uspc_strerror(USPC_E_NOMEM), "out of memory");
	assert_string_equal(uspc_err_name(0), "OK");
	assert_string_equal(uspc_strerror(0), "success");
	/* wire codes a struct uspc_err may carry */
	assert_string_equal(uspc_err_name(7026), "USP_ERR_INVALID_PATH");
	assert_string_equal(uspc_strerror(7026), "Invalid path");
	assert_string_equal(uspc_err_name(7250), "USP_ERR_DATA_MODEL");
	assert_string_equal(uspc_strerror(7850), "Vendor defined error");
}

static void test_unknown_codes(void **state)
{
	(void)state;
	/* between and past the lists, each range's BASE_ and END_, odd values */
	static const int unknown[] = { -12,
				       -49,
				       USP_RECORD_E_BASE_,
				       USP_RECORD_E_END_,
				       USP_MSG_E_END_,
				       USP_PATH_E_END_,
				       USPCTL_E_END_,
				       USP_JSON_E_END_,
				       STORE_E_BASE_,
				       STORE_E_END_,
				       MQTT_MTP_E_BASE_,
				       MQTT_MTP_E_END_,
				       -700,
				       -800,
				       -100000,
				       INT32_MIN,
				       1,
				       6999,
				       7032,
				       INT32_MAX };
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		char want[USPC_ERR_BUFSZ];
		snprintf(want, sizeof(want), "unknown error %d", unknown[i]);
		assert_string_equal(uspc_err_name(unknown[i]), want);
		assert_string_equal(uspc_strerror(unknown[i]), want);
	}
	/* two in one call keep their own buffers */
	char line[128];
	snprintf(line, sizeof(line), "%s %s", uspc_strerror(-12), uspc_err_name(-13));
	assert_string_equal(line, "unknown error -12 unknown error -13");
	/* INT32_MIN fits USPC_ERR_BUFSZ; a short buffer is cut, still terminated */
	char small[10];
	assert_string_equal(uspc_strerror_r(-12345, small, sizeof(small)), "unknown e");
	assert_string_equal(uspc_err_name_r(-12345, NULL, 0), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_lookups),
		cmocka_unit_test(test_well_known_codes),
		cmocka_unit_test(test_ranges_and_unknown),
		cmocka_unit_test(test_err_set_and_clear),
		cmocka_unit_test(test_internal_codes_named),
		cmocka_unit_test(test_internal_codes_examples),
		cmocka_unit_test(test_unknown_codes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
