/*
 * test_usp_record.c — USP Record wrap/unwrap: round trip of every record
 * type with every field set, the three builders, and one crafted input per
 * enum usp_record_error code (size caps, undecodable bytes, versions, IDs,
 * record type, payload, payload_security).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "codec_samples.h"
#include "pb_check.h"
#include "usp_record.h"

static void report_missing(const char *msg, const char *field, void *ud)
{
	(void)ud;
	print_error("field never set by any sample: %s.%s\n", msg, field);
}

static UspRecord__Record *unwrap_ok(const uint8_t *buf, size_t len,
				    const struct usp_record_limits *lim)
{
	UspRecord__Record *rec = NULL;
	struct uspc_err err = { 0, "" };
	int rc = usp_record_unwrap(buf, len, lim, &rec, &err);
	if (rc != 0)
		fail_msg("unwrap failed: %d %s", rc, err.msg);
	assert_non_null(rec);
	return rec;
}

/* ---- round trips ------------------------------------------------------- */

static void test_round_trip_every_record_type(void **state)
{
	(void)state;
	static const UspRecord__Record__RecordTypeCase all[] = {
		USP_RECORD__RECORD__RECORD_TYPE_NO_SESSION_CONTEXT,
		USP_RECORD__RECORD__RECORD_TYPE_SESSION_CONTEXT,
		USP_RECORD__RECORD__RECORD_TYPE_WEBSOCKET_CONNECT,
		USP_RECORD__RECORD__RECORD_TYPE_MQTT_CONNECT,
		USP_RECORD__RECORD__RECORD_TYPE_STOMP_CONNECT,
		USP_RECORD__RECORD__RECORD_TYPE_DISCONNECT,
		USP_RECORD__RECORD__RECORD_TYPE_UDS_CONNECT,
	};
	assert_int_equal(codec_record_sample_count, sizeof(all) / sizeof(all[0]));
	for (size_t i = 0; i < codec_record_sample_count; i++) {
		const struct record_sample *s = &codec_record_samples[i];
		assert_int_equal(s->type, all[i]);
		UspRecord__Record *built = s->build();
		uint8_t *buf;
		size_t len;
		assert_int_equal(usp_pack(&built->base, &buf, &len), 0);
		UspRecord__Record *back = unwrap_ok(buf, len, NULL);
		assert_int_equal(back->record_type_case, s->type);
		char where[256] = "";
		if (!pb_check_equal(&built->base, &back->base, where, sizeof(where)))
			fail_msg("%s: unwrapped record differs at %s", s->name, where);
		free(buf);
		usp_record_free(built);
		usp_record_free(back);
	}
}

static void test_samples_cover_every_field(void **state)
{
	(void)state;
	struct pb_cover cov = { 0 };
	for (size_t i = 0; i < codec_record_sample_count; i++) {
		UspRecord__Record *r = codec_record_samples[i].build();
		pb_cover_add(&cov, &r->base);
		usp_record_free(r);
	}
	size_t missing =
		pb_cover_missing(&cov, &usp_record__record__descriptor, report_missing, NULL);
	pb_cover_fini(&cov);
	assert_int_equal(missing, 0);
}

/* ---- builders ------------------------------------------------------------- */

static void check_header(const UspRecord__Record *r)
{
	assert_string_equal(r->version, USP_RECORD_VERSION);
	assert_string_equal(r->to_id, "os::agent-1");
	assert_string_equal(r->from_id, "self::ctl");
	assert_int_equal(r->payload_security, USP_RECORD__RECORD__PAYLOAD_SECURITY__PLAINTEXT);
	assert_int_equal(r->mac_signature.len, 0);
	assert_int_equal(r->sender_cert.len, 0);
}

static void test_builders(void **state)
{
	(void)state;
	static const uint8_t msg[] = { 0x0a, 0x03, 'a', 'b', 'c' };
	uint8_t *buf;
	size_t len;
	assert_int_equal(
		usp_record_wrap_msg("os::agent-1", "self::ctl", msg, sizeof(msg), &buf, &len), 0);
	UspRecord__Record *r = unwrap_ok(buf, len, NULL);
	check_header(r);
	assert_int_equal(r->record_type_case, USP_RECORD__RECORD__RECORD_TYPE_NO_SESSION_CONTEXT);
	assert_int_equal(r->no_session_context->payload.len, sizeof(msg));
	assert_memory_equal(r->no_session_context->payload.data, msg, sizeof(msg));
	usp_record_free(r);
	free(buf);

	for (int v5 = 0; v5 <= 1; v5++) {
		assert_int_equal(usp_record_build_mqtt_connect("os::agent-1", "self::ctl", v5,
							       "usp/ctl/self", &buf, &len),
				 0);
		r = unwrap_ok(buf, len, NULL);
		check_header(r);
		assert_int_equal(r->record_type_case, USP_RECORD__RECORD__RECORD_TYPE_MQTT_CONNECT);
		assert_int_equal(r->mqtt_connect->version,
				 v5 ? USP_RECORD__MQTTCONNECT_RECORD__MQTTVERSION__V5
				    : USP_RECORD__MQTTCONNECT_RECORD__MQTTVERSION__V3_1_1);
		assert_string_equal(r->mqtt_connect->subscribed_topic, "usp/ctl/self");
		usp_record_free(r);
		free(buf);
	}

	assert_int_equal(
		usp_record_build_disconnect("os::agent-1", "self::ctl", "bye", 7105, &buf, &len),
		0);
	r = unwrap_ok(buf, len, NULL);
	check_header(r);
	assert_int_equal(r->record_type_case, USP_RECORD__RECORD__RECORD_TYPE_DISCONNECT);
	assert_string_equal(r->disconnect->reason, "bye");
	assert_int_equal(r->disconnect->reason_code, 7105);
	usp_record_free(r);
	free(buf);

	assert_int_equal(
		usp_record_build_disconnect("os::agent-1", "self::ctl", NULL, 7100, &buf, &len), 0);
	r = unwrap_ok(buf, len, NULL);
	assert_string_equal(r->disconnect->reason, "");
	assert_int_equal(r->disconnect->reason_code, 7100);
	usp_record_free(r);
	free(buf);
}

/* ---- negative: one crafted input per error code ------------------------------ */

static int produced[USP_RECORD_ERROR_COUNT];

static void expect_error(const uint8_t *buf, size_t len, const struct usp_record_limits *lim,
			 int code)
{
	UspRecord__Record *out = (UspRecord__Record *)&out; /* must become NULL */
	struct uspc_err err = { 0, "" };
	int rc = usp_record_unwrap(buf, len, lim, &out, &err);
	if (rc != code)
		fail_msg("expected %s, got %d (%s)", usp_record_error_name(code), rc, err.msg);
	assert_null(out);
	assert_int_equal(err.code, code);
	assert_true(strlen(err.msg) > 0);
	/* err is optional */
	out = (UspRecord__Record *)&out;
	assert_int_equal(usp_record_unwrap(buf, len, lim, &out, NULL), code);
	assert_null(out);
	produced[usp_record_error_index(code)] = 1;
}

/* A valid no_session_context record on the stack; tests break one field. */
struct rec_parts {
	UspRecord__Record rec;
	UspRecord__NoSessionContextRecord nsc;
};

static void rec_init(struct rec_parts *p)
{
	static uint8_t payload[] = { 0x0a, 0x00 };
	usp_record__record__init(&p->rec);
	usp_record__no_session_context_record__init(&p->nsc);
	p->rec.version = "1.4";
	p->rec.to_id = "os::agent-1";
	p->rec.from_id = "self::ctl";
	p->nsc.payload.data = payload;
	p->nsc.payload.len = sizeof(payload);
	p->rec.record_type_case = USP_RECORD__RECORD__RECORD_TYPE_NO_SESSION_CONTEXT;
	p->rec.no_session_context = &p->nsc;
}

static void expect_rec(const struct rec_parts *p, int code)
{
	uint8_t *buf;
	size_t len;
	assert_int_equal(usp_pack(&p->rec.base, &buf, &len), 0);
	if (code == 0) {
		usp_record_free(unwrap_ok(buf, len, NULL));
	} else {
		expect_error(buf, len, NULL, code);
	}
	free(buf);
}

static void test_size_caps(void **state)
{
	(void)state;
	struct rec_parts p;
	rec_init(&p);
	/* default cap: a valid record one byte over 64 KiB is refused unread */
	size_t big_len = USP_RECORD_DEFAULT_MAX_SIZE + 100;
	uint8_t *big_payload = calloc(1, big_len);
	assert_non_null(big_payload);
	p.nsc.payload.data = big_payload;
	p.nsc.payload.len = big_len;
	uint8_t *buf;
	size_t len;
	assert_int_equal(usp_pack(&p.rec.base, &buf, &len), 0);
	assert_true(len > USP_RECORD_DEFAULT_MAX_SIZE);
	expect_error(buf, len, NULL, USP_RECORD_E_TOO_LARGE);
	struct usp_record_limits zero = { 0 }; /* 0 = default */
	expect_error(buf, len, &zero, USP_RECORD_E_TOO_LARGE);
	/* a larger custom cap lets the same record through */
	struct usp_record_limits roomy = { .max_record_size = 2 * USP_RECORD_DEFAULT_MAX_SIZE };
	usp_record_free(unwrap_ok(buf, len, &roomy));
	/* the default cap itself is inclusive */
	expect_error(buf, USP_RECORD_DEFAULT_MAX_SIZE + 1, NULL, USP_RECORD_E_TOO_LARGE);
	free(buf);
	free(big_payload);

	/* custom small cap: exactly at the cap passes, one byte over fails */
	rec_init(&p);
	assert_int_equal(usp_pack(&p.rec.base, &buf, &len), 0);
	struct usp_record_limits exact = { .max_record_size = len };
	struct usp_record_limits under = { .max_record_size = len - 1 };
	usp_record_free(unwrap_ok(buf, len, &exact));
	expect_error(buf, len, &under, USP_RECORD_E_TOO_LARGE);
	free(buf);
}

static void test_undecodable(void **state)
{
	(void)state;
	static const uint8_t trunc[] = { 0x0a, 0x10, '1', '.' }; /* length past end */
	static const uint8_t badwire[] = { 0x0e, 0x00 };         /* wire type 6 */
	static const uint8_t badvarint[] = { 0x20, 0xff, 0xff, 0xff, 0xff, 0xff,
					     0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
	expect_error(trunc, sizeof(trunc), NULL, USP_RECORD_E_UNDECODABLE);
	expect_error(badwire, sizeof(badwire), NULL, USP_RECORD_E_UNDECODABLE);
	expect_error(badvarint, sizeof(badvarint), NULL, USP_RECORD_E_UNDECODABLE);
	/* a truncated valid record */
	struct rec_parts p;
	rec_init(&p);
	uint8_t *buf;
	size_t len;
	assert_int_equal(usp_pack(&p.rec.base, &buf, &len), 0);
	expect_error(buf, len - 1, NULL, USP_RECORD_E_UNDECODABLE);
	free(buf);
}

static void test_versions(void **state)
{
	(void)state;
	static const char *const bad[] = { "2.0",   "",     "1.",   "1.x",  "1",          "0.9",
					   "1.4.1", "10.1", " 1.3", "1.3 ", "1.123456789" };
	static const char *const good[] = { "1.0", "1.3", "1.4", "1.15" };
	struct rec_parts p;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rec_init(&p);
		p.rec.version = (char *)bad[i];
		expect_rec(&p, USP_RECORD_E_BAD_VERSION);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		rec_init(&p);
		p.rec.version = (char *)good[i];
		expect_rec(&p, 0);
	}
}

static void test_endpoint_ids(void **state)
{
	(void)state;
	struct rec_parts p;
	rec_init(&p);
	p.rec.to_id = "";
	expect_rec(&p, USP_RECORD_E_NO_TO_ID);
	rec_init(&p);
	p.rec.from_id = "";
	expect_rec(&p, USP_RECORD_E_NO_FROM_ID);

	char longest[USP_EID_MAX_LEN + 2];
	memset(longest, 'e', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0'; /* USP_EID_MAX_LEN + 1 bytes */
	rec_init(&p);
	p.rec.to_id = longest;
	expect_rec(&p, USP_RECORD_E_EID_TOO_LONG);
	rec_init(&p);
	p.rec.from_id = longest;
	expect_rec(&p, USP_RECORD_E_EID_TOO_LONG);
	longest[USP_EID_MAX_LEN] = '\0'; /* exactly at the cap */
	rec_init(&p);
	p.rec.to_id = longest;
	p.rec.from_id = longest;
	expect_rec(&p, 0);
}

/* Endpoint IDs: printable ASCII, and no NUL hiding a longer wire value. */
static void test_endpoint_id_bytes(void **state)
{
	(void)state;
	static const char *const bad[] = { "os::agent 1", "os::agent\x01", "os::agent\xff",
					   "\xc3\xa9t\xc3\xa9", "os::agent\x7f" };
	struct rec_parts p;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rec_init(&p);
		p.rec.to_id = (char *)bad[i];
		expect_rec(&p, USP_RECORD_E_BAD_EID);
		rec_init(&p);
		p.rec.from_id = (char *)bad[i];
		expect_rec(&p, USP_RECORD_E_BAD_EID);
	}
	rec_init(&p);
	p.rec.to_id = "proto::a-b_c.d~e%2F:f";
	expect_rec(&p, 0);

	/* "self::ctl\0evil" on the wire: protobuf-c would hand us "self::ctl" */
	for (int field = 2; field <= 3; field++) {
		rec_init(&p);
		uint8_t *buf;
		size_t len;
		assert_int_equal(usp_pack(&p.rec.base, &buf, &len), 0);
		static const char id[] = "self::ctl\0evil";
		uint8_t *bigger = malloc(len + sizeof(id) + 1);
		assert_non_null(bigger);
		memcpy(bigger, buf, len);
		bigger[len] = (uint8_t)(field << 3 | 2); /* a later occurrence wins */
		bigger[len + 1] = sizeof(id) - 1;
		memcpy(bigger + len + 2, id, sizeof(id) - 1);
		expect_error(bigger, len + 2 + sizeof(id) - 1, NULL, USP_RECORD_E_BAD_EID);
		/* the same ID without the NUL tail is fine */
		bigger[len + 1] = 9;
		usp_record_free(unwrap_ok(bigger, len + 2 + 9, NULL));
		free(bigger);
		free(buf);
	}
}

static void test_record_type_and_payload(void **state)
{
	(void)state;
	struct rec_parts p;
	rec_init(&p);
	p.rec.record_type_case = USP_RECORD__RECORD__RECORD_TYPE__NOT_SET;
	expect_rec(&p, USP_RECORD_E_NO_RECORD_TYPE);

	rec_init(&p);
	p.nsc.payload.len = 0;
	expect_rec(&p, USP_RECORD_E_EMPTY_PAYLOAD);

	/* session records may legitimately carry no payload (1.2+) */
	UspRecord__SessionContextRecord sc = USP_RECORD__SESSION_CONTEXT_RECORD__INIT;
	sc.session_id = 2;
	sc.sequence_id = 1;
	rec_init(&p);
	p.rec.record_type_case = USP_RECORD__RECORD__RECORD_TYPE_SESSION_CONTEXT;
	p.rec.session_context = &sc;
	expect_rec(&p, 0);
}

static void test_payload_security(void **state)
{
	(void)state;
	struct rec_parts p;
	rec_init(&p);
	p.rec.payload_security = (UspRecord__Record__PayloadSecurity)2;
	expect_rec(&p, USP_RECORD_E_BAD_PAYLOAD_SECURITY);
	rec_init(&p);
	p.rec.payload_security = (UspRecord__Record__PayloadSecurity)-1;
	expect_rec(&p, USP_RECORD_E_BAD_PAYLOAD_SECURITY);
	rec_init(&p);
	p.rec.payload_security = USP_RECORD__RECORD__PAYLOAD_SECURITY__TLS12;
	expect_rec(&p, 0);
}

/* Fields of a newer Record (1.5 adds 14/15) are skipped, not fatal. */
static void test_unknown_field_is_skipped(void **state)
{
	(void)state;
	struct rec_parts p;
	rec_init(&p);
	uint8_t *buf;
	size_t len;
	assert_int_equal(usp_pack(&p.rec.base, &buf, &len), 0);
	uint8_t *longer = malloc(len + 4);
	assert_non_null(longer);
	memcpy(longer, buf, len);
	memcpy(longer + len, "\x72\x02ok", 4); /* field 14, length-delimited "ok" */
	UspRecord__Record *r = unwrap_ok(longer, len + 4, NULL);
	assert_string_equal(r->from_id, "self::ctl");
	usp_record_free(r);
	free(longer);
	free(buf);
}

/* Field number 0 as an over-long tag (80 00): see test_usp_msg. */
static void test_field_number_zero_rejected(void **state)
{
	(void)state;
	struct rec_parts p;
	rec_init(&p);
	uint8_t *buf;
	size_t len;
	assert_int_equal(usp_pack(&p.rec.base, &buf, &len), 0);
	uint8_t *longer = malloc(len + 3);
	assert_non_null(longer);
	memcpy(longer, buf, len);
	memcpy(longer + len, "\x80\x00\x00", 3);
	expect_error(longer, len + 3, NULL, USP_RECORD_E_UNDECODABLE);
	free(longer);
	free(buf);
}

/* Runs last: every code of enum usp_record_error was produced above. */
static void test_every_error_code_produced(void **state)
{
	(void)state;
	for (int i = 0; i < USP_RECORD_ERROR_COUNT; i++)
		if (!produced[i])
			fail_msg("error %s never produced",
				 usp_record_error_name(USP_RECORD_E_BASE_ + 1 + i));
}

static void test_error_names(void **state)
{
	(void)state;
	static const char *const names[] = {
#define N_(ident, name, text) name,
		USP_RECORD_ERRORS(N_)
#undef N_
	};
	assert_int_equal(sizeof(names) / sizeof(names[0]), USP_RECORD_ERROR_COUNT);
	for (int i = 0; i < USP_RECORD_ERROR_COUNT; i++) {
		int code = USP_RECORD_E_BASE_ + 1 + i;
		assert_int_equal(usp_record_error_index(code), i);
		assert_string_equal(usp_record_error_name(code), names[i]);
	}
	assert_string_equal(usp_record_error_name(USP_RECORD_E_TOO_LARGE), "record_too_large");
	assert_int_equal(usp_record_error_index(USP_RECORD_E_BASE_), -1);
	assert_int_equal(usp_record_error_index(USP_RECORD_E_END_), -1);
	assert_int_equal(usp_record_error_index(0), -1);
	assert_string_equal(usp_record_error_name(-1), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_every_record_type),
		cmocka_unit_test(test_samples_cover_every_field),
		cmocka_unit_test(test_builders),
		cmocka_unit_test(test_size_caps),
		cmocka_unit_test(test_undecodable),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_endpoint_ids),
		cmocka_unit_test(test_endpoint_id_bytes),
		cmocka_unit_test(test_record_type_and_payload),
		cmocka_unit_test(test_payload_security),
		cmocka_unit_test(test_unknown_field_is_skipped),
		cmocka_unit_test(test_field_number_zero_rejected),
		cmocka_unit_test(test_every_error_code_produced),
		cmocka_unit_test(test_error_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
