/*
 * test_usp_msg.c — USP Msg codec: type table, round trip of every message
 * type with every field set, rejection of every malformed input class
 * (each enum usp_msg_error code), builders and the msg_id generator.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_samples.h"
#include "pb_check.h"
#include "usp_msg.h"

/* ---- helpers ------------------------------------------------------------ */

static void expect_error(const uint8_t *buf, size_t len, int code);

static void encode_ok(const Usp__Msg *m, uint8_t **buf, size_t *len)
{
	assert_int_equal(usp_msg_encode(m, buf, len), 0);
	assert_non_null(*buf);
}

/* Pack an arbitrary (possibly invalid) Msg built by hand on the stack. */
static void pack_raw(const Usp__Msg *m, uint8_t **buf, size_t *len)
{
	assert_int_equal(usp_pack(&m->base, buf, len), 0);
}

static int decode_expect(const uint8_t *buf, size_t len, int want, Usp__Msg **out)
{
	struct uspc_err err = { 0, "" };
	int rc = usp_msg_decode(buf, len, out, &err);
	assert_int_equal(rc, want);
	if (want < 0) {
		assert_int_equal(err.code, want);
		assert_true(strlen(err.msg) > 0);
	}
	return rc;
}

static void report_missing(const char *msg, const char *field, void *ud)
{
	(void)ud;
	print_error("field never set by any sample: %s.%s\n", msg, field);
}

/* ---- type table --------------------------------------------------------- */

struct type_expect {
	Usp__Header__MsgType type;
	char body;
	const char *name;
};

static const struct type_expect all_types[] = {
#define TE_(t, b, f, n) { USP__HEADER__MSG_TYPE__##t, b, n },
	USP_MSG_TYPES(TE_)
#undef TE_
};
#define N_ALL_TYPES (sizeof(all_types) / sizeof(all_types[0]))

static void test_type_table(void **state)
{
	(void)state;
	assert_int_equal(N_ALL_TYPES, 23);
	for (size_t i = 0; i < N_ALL_TYPES; i++) {
		const struct type_expect *t = &all_types[i];
		assert_string_equal(usp_msg_type_name(t->type), t->name);
		assert_int_equal(usp_msg_type_from_name(t->name), t->type);
		assert_int_equal(usp_msg_type_is_request(t->type), t->body == 'q');
		assert_int_equal(usp_msg_type_is_response(t->type), t->body == 'r');
		Usp__Msg *m = usp_msg_new("v-type", t->type);
		assert_non_null(m);
		assert_int_equal(m->header->msg_type, t->type);
		assert_int_equal(usp_msg_type(m), t->type);
		assert_non_null(usp_msg_payload(m));
		usp_msg_free(m);
	}
	assert_int_equal(usp_msg_type_from_name("nope"), USP_MSG_TYPE_INVALID);
	assert_int_equal(usp_msg_type_from_name(NULL), USP_MSG_TYPE_INVALID);
	assert_string_equal(usp_msg_type_name(USP_MSG_TYPE_INVALID), "unknown");
	assert_string_equal(usp_msg_type_name((Usp__Header__MsgType)23), "unknown");
	assert_null(usp_msg_new("v-bad", (Usp__Header__MsgType)23));
	assert_false(usp_msg_type_is_request(USP_MSG_TYPE_INVALID));
	assert_false(usp_msg_type_is_response(USP__HEADER__MSG_TYPE__ERROR));
}

static void test_every_type_has_a_sample(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ALL_TYPES; i++) {
		int found = 0;
		for (size_t k = 0; k < codec_msg_sample_count; k++)
			found |= codec_msg_samples[k].type == all_types[i].type;
		if (!found)
			fail_msg("no sample for message type %s", all_types[i].name);
	}
}

/* ---- round trips ---------------------------------------------------------- */

static void test_round_trip_every_sample(void **state)
{
	(void)state;
	for (size_t i = 0; i < codec_msg_sample_count; i++) {
		const struct msg_sample *s = &codec_msg_samples[i];
		Usp__Msg *built = s->build(), *back = NULL;
		uint8_t *buf = NULL, *again = NULL;
		size_t len = 0, again_len = 0;
		assert_int_equal(usp_msg_type(built), s->type);
		encode_ok(built, &buf, &len);
		decode_expect(buf, len, 0, &back);
		assert_non_null(back);
		char where[256] = "";
		if (!pb_check_equal(&built->base, &back->base, where, sizeof(where)))
			fail_msg("%s: decoded message differs at %s", s->name, where);
		assert_int_equal(usp_msg_type(back), s->type);
		assert_string_equal(usp_msg_id(back), s->msg_id);
		/* re-encoding the decoded message gives the same bytes */
		encode_ok(back, &again, &again_len);
		assert_int_equal(again_len, len);
		assert_memory_equal(again, buf, len);
		free(buf);
		free(again);
		usp_msg_free(built);
		usp_msg_free(back);
	}
}

static void test_samples_cover_every_field(void **state)
{
	(void)state;
	struct pb_cover cov = { 0 };
	for (size_t i = 0; i < codec_msg_sample_count; i++) {
		Usp__Msg *m = codec_msg_samples[i].build();
		pb_cover_add(&cov, &m->base);
		usp_msg_free(m);
	}
	size_t missing = pb_cover_missing(&cov, &usp__msg__descriptor, report_missing, NULL);
	pb_cover_fini(&cov);
	assert_int_equal(missing, 0);
}

/* The comparator must see a change in a fixed32, a map value and a oneof. */
static void test_compare_detects_differences(void **state)
{
	(void)state;
	char where[256] = "";
	Usp__Msg *a = codec_msg_samples[1].build(), *b = codec_msg_samples[1].build();
	assert_int_equal(codec_msg_samples[1].type, USP__HEADER__MSG_TYPE__GET);
	assert_true(pb_check_equal(&a->base, &b->base, where, sizeof(where)));
	b->body->request->get->max_depth = 3;
	where[0] = '\0';
	assert_false(pb_check_equal(&a->base, &b->base, where, sizeof(where)));
	assert_non_null(strstr(where, "max_depth"));
	usp_msg_free(b);

	b = codec_msg_samples[1].build();
	free(b->body->request->get->param_paths[1]);
	b->body->request->get->param_paths[1] = usp_pb_strdup("Device.WiFi.SSID.*.BSSID");
	where[0] = '\0';
	assert_false(pb_check_equal(&a->base, &b->base, where, sizeof(where)));
	assert_non_null(strstr(where, "param_paths[1]"));
	usp_msg_free(a);
	usp_msg_free(b);

	Usp__Msg *ok = NULL, *fail = NULL;
	for (size_t i = 0; i < codec_msg_sample_count; i++) {
		if (strcmp(codec_msg_samples[i].name, "msg_notify_oper_complete_ok") == 0)
			ok = codec_msg_samples[i].build();
		if (strcmp(codec_msg_samples[i].name, "msg_notify_oper_complete_fail") == 0)
			fail = codec_msg_samples[i].build();
	}
	assert_non_null(ok);
	assert_non_null(fail);
	free(fail->header->msg_id);
	fail->header->msg_id = usp_pb_strdup(ok->header->msg_id);
	where[0] = '\0';
	assert_false(pb_check_equal(&ok->base, &fail->base, where, sizeof(where)));
	assert_non_null(strstr(where, "oper_complete"));
	usp_msg_free(ok);
	usp_msg_free(fail);

	Usp__Msg *r1 = codec_msg_samples[2].build(), *r2 = codec_msg_samples[2].build();
	Usp__GetResp__ResolvedPathResult *rp =
		r2->body->response->get_resp->req_path_results[0]->resolved_path_results[0];
	free(rp->result_params[1]->value);
	rp->result_params[1]->value = usp_pb_strdup("1.0.3");
	where[0] = '\0';
	assert_false(pb_check_equal(&r1->base, &r2->base, where, sizeof(where)));
	assert_non_null(strstr(where, "result_params[1]"));
	usp_msg_free(r1);
	usp_msg_free(r2);
}

/* R-MSG.10: the body decides the type, whatever the header says. */
static void test_body_wins_over_header(void **state)
{
	(void)state;
	Usp__Msg *m = codec_msg_samples[1].build(), *back = NULL;
	m->header->msg_type = USP__HEADER__MSG_TYPE__SET;
	uint8_t *buf;
	size_t len;
	encode_ok(m, &buf, &len);
	decode_expect(buf, len, 0, &back);
	assert_int_equal(back->header->msg_type, USP__HEADER__MSG_TYPE__SET);
	assert_int_equal(usp_msg_type(back), USP__HEADER__MSG_TYPE__GET);
	free(buf);
	usp_msg_free(m);
	usp_msg_free(back);
}

/* A newer peer's unknown field (here: number 15, varint) is skipped. */
static void test_unknown_field_is_skipped(void **state)
{
	(void)state;
	Usp__Msg *m = codec_msg_samples[1].build(), *back = NULL;
	uint8_t *buf;
	size_t len;
	encode_ok(m, &buf, &len);
	uint8_t *longer = malloc(len + 2);
	assert_non_null(longer);
	memcpy(longer, buf, len);
	longer[len] = 15 << 3; /* field 15, wire type 0 */
	longer[len + 1] = 0x2a;
	decode_expect(longer, len + 2, 0, &back);
	char where[256] = "";
	assert_true(pb_check_equal(&m->base, &back->base, where, sizeof(where)));
	free(buf);
	free(longer);
	usp_msg_free(m);
	usp_msg_free(back);
}

/*
 * Field number 0 written as an over-long varint tag (80 00) is accepted by
 * protobuf-c as an unknown field and would be re-encoded as 00 00, which no
 * decoder accepts (found by fuzz_record_msg). It must be refused, at the top
 * level and nested.
 */
static void test_field_number_zero_rejected(void **state)
{
	(void)state;
	Usp__Msg *m = codec_msg_samples[1].build();
	uint8_t *buf;
	size_t len;
	encode_ok(m, &buf, &len);
	uint8_t *longer = malloc(len + 3);
	assert_non_null(longer);
	memcpy(longer, buf, len);
	memcpy(longer + len, "\x80\x00\x00", 3);
	expect_error(longer, len + 3, USP_MSG_E_UNDECODABLE);
	/* same in the header: Msg{header{msg_id "abc", <80 00 00>}, body{request{get{}}}} */
	static const uint8_t nested[] = { 0x0a, 0x08, 0x0a, 0x03, 'a',  'b',  'c',  0x80,
					  0x00, 0x00, 0x12, 0x04, 0x0a, 0x02, 0x0a, 0x00 };
	expect_error(nested, sizeof(nested), USP_MSG_E_UNDECODABLE);
	/* without the bad tag the same message is fine */
	static const uint8_t fine[] = { 0x0a, 0x05, 0x0a, 0x03, 'a',  'b', 'c',
					0x12, 0x04, 0x0a, 0x02, 0x0a, 0x00 };
	Usp__Msg *out = NULL;
	decode_expect(fine, sizeof(fine), 0, &out);
	assert_int_equal(usp_msg_type(out), USP__HEADER__MSG_TYPE__GET);
	usp_msg_free(out);
	free(longer);
	free(buf);
	usp_msg_free(m);
}

/* Every prefix of every sample decodes to success or a documented error. */
static void test_every_prefix_is_handled(void **state)
{
	(void)state;
	for (size_t i = 0; i < codec_msg_sample_count; i++) {
		Usp__Msg *m = codec_msg_samples[i].build();
		uint8_t *buf;
		size_t len;
		encode_ok(m, &buf, &len);
		for (size_t cut = 0; cut < len; cut++) {
			uint8_t *copy = malloc(cut ? cut : 1); /* exact size: ASan sees overreads */
			assert_non_null(copy);
			memcpy(copy, buf, cut);
			Usp__Msg *out = NULL;
			int rc = usp_msg_decode(copy, cut, &out, NULL);
			assert_true(rc == 0 || (rc > USP_MSG_E_BASE_ && rc < USP_MSG_E_END_));
			assert_int_equal(out != NULL, rc == 0 || rc == USP_MSG_E_EMPTY_BODY);
			usp_msg_free(out);
			free(copy);
		}
		free(buf);
		usp_msg_free(m);
	}
}

/* ---- negative: one crafted input per error code ---------------------------- */

static int produced[USP_MSG_E_END_ - USP_MSG_E_BASE_];

static void expect_error(const uint8_t *buf, size_t len, int code)
{
	Usp__Msg *out = (Usp__Msg *)&out; /* must be overwritten with NULL */
	decode_expect(buf, len, code, &out);
	assert_null(out);
	produced[code - USP_MSG_E_BASE_] = 1;
}

static void test_msg_errors(void **state)
{
	(void)state;
	Usp__Header hdr = USP__HEADER__INIT;
	Usp__Body body = USP__BODY__INIT;
	Usp__Request req = USP__REQUEST__INIT;
	Usp__Get get = USP__GET__INIT;
	Usp__Msg msg = USP__MSG__INIT;
	uint8_t *buf;
	size_t len;

	/* undecodable: length runs past the end; then an invalid wire type */
	static const uint8_t trunc[] = { 0x0a, 0x10, 0x0a };
	static const uint8_t badwire[] = { 0x0f, 0x00 };
	expect_error(trunc, sizeof(trunc), USP_MSG_E_UNDECODABLE);
	expect_error(badwire, sizeof(badwire), USP_MSG_E_UNDECODABLE);

	/* a Msg with a body but no header */
	req.req_type_case = USP__REQUEST__REQ_TYPE_GET;
	req.get = &get;
	body.msg_body_case = USP__BODY__MSG_BODY_REQUEST;
	body.request = &req;
	msg.body = &body;
	pack_raw(&msg, &buf, &len);
	expect_error(buf, len, USP_MSG_E_NO_HEADER);
	free(buf);
	/* the empty buffer is a Msg with nothing at all */
	expect_error((const uint8_t *)"", 0, USP_MSG_E_NO_HEADER);

	/* header present, msg_id empty */
	msg.header = &hdr;
	hdr.msg_type = USP__HEADER__MSG_TYPE__GET;
	pack_raw(&msg, &buf, &len);
	expect_error(buf, len, USP_MSG_E_NO_MSG_ID);
	free(buf);

	/* msg_id one byte over the cap; exactly at the cap is accepted */
	char id[USP_MSG_ID_MAX_LEN + 2];
	memset(id, 'x', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	hdr.msg_id = id;
	pack_raw(&msg, &buf, &len);
	expect_error(buf, len, USP_MSG_E_MSG_ID_TOO_LONG);
	free(buf);
	id[USP_MSG_ID_MAX_LEN] = '\0';
	pack_raw(&msg, &buf, &len);
	Usp__Msg *out = NULL;
	decode_expect(buf, len, 0, &out);
	assert_int_equal(strlen(usp_msg_id(out)), USP_MSG_ID_MAX_LEN);
	usp_msg_free(out);
	free(buf);

	/* msg_id that is not UTF-8 (a lone 0xff; an overlong '/'); two-,
	 * three- and four-byte sequences are accepted */
	const char *bad_ids[] = { "id-\xff", "id-\xc0\xaf", "\xed\xa0\x80" };
	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		hdr.msg_id = (char *)bad_ids[i];
		pack_raw(&msg, &buf, &len);
		expect_error(buf, len, USP_MSG_E_MSG_ID_NOT_UTF8);
		free(buf);
	}
	hdr.msg_id = "id-\xc3\xa9-\xe2\x82\xac-\xf0\x9f\x98\x80";
	pack_raw(&msg, &buf, &len);
	out = NULL;
	decode_expect(buf, len, 0, &out);
	assert_string_equal(usp_msg_id(out), hdr.msg_id);
	usp_msg_free(out);
	free(buf);

	/* header but no body */
	hdr.msg_id = "v-nobody";
	msg.body = NULL;
	pack_raw(&msg, &buf, &len);
	expect_error(buf, len, USP_MSG_E_NO_BODY);
	free(buf);

	for (int code = USP_MSG_E_BASE_ + 1; code < USP_MSG_E_END_; code++)
		if (code != USP_MSG_E_EMPTY_BODY && !produced[code - USP_MSG_E_BASE_])
			fail_msg("error %s never produced", usp_msg_error_name(code));
}

/* Body present but selecting nothing: *out stays set so the caller can
 * answer Error 7004 with the msg_id (R-ENC.5). Three shapes of it. */
static void test_empty_body_keeps_msg(void **state)
{
	(void)state;
	Usp__Header hdr = USP__HEADER__INIT;
	Usp__Body body = USP__BODY__INIT;
	Usp__Request req = USP__REQUEST__INIT;
	Usp__Response resp = USP__RESPONSE__INIT;
	Usp__Msg msg = USP__MSG__INIT;
	hdr.msg_id = "v-empty";
	hdr.msg_type = USP__HEADER__MSG_TYPE__GET;
	msg.header = &hdr;
	msg.body = &body;

	for (int shape = 0; shape < 3; shape++) {
		if (shape == 1) {
			body.msg_body_case = USP__BODY__MSG_BODY_REQUEST;
			body.request = &req;
		} else if (shape == 2) {
			body.msg_body_case = USP__BODY__MSG_BODY_RESPONSE;
			body.response = &resp;
		}
		uint8_t *buf;
		size_t len;
		pack_raw(&msg, &buf, &len);
		Usp__Msg *out = NULL;
		decode_expect(buf, len, USP_MSG_E_EMPTY_BODY, &out);
		assert_non_null(out);
		assert_string_equal(usp_msg_id(out), "v-empty");
		assert_int_equal(usp_msg_type(out), USP_MSG_TYPE_INVALID);
		assert_null(usp_msg_payload(out));
		usp_msg_free(out);
		free(buf);
	}
}

static void test_error_names(void **state)
{
	(void)state;
	static const char *const names[] = {
#define N_(ident, name, text) name,
		USP_MSG_ERRORS(N_)
#undef N_
	};
	assert_int_equal(sizeof(names) / sizeof(names[0]), USP_MSG_E_END_ - USP_MSG_E_BASE_ - 1);
	for (int code = USP_MSG_E_BASE_ + 1; code < USP_MSG_E_END_; code++)
		assert_string_equal(usp_msg_error_name(code), names[code - USP_MSG_E_BASE_ - 1]);
	assert_string_equal(usp_msg_error_name(USP_MSG_E_UNDECODABLE), "msg_undecodable");
	assert_string_equal(usp_msg_error_name(USP_MSG_E_BASE_), "unknown");
	assert_string_equal(usp_msg_error_name(USP_MSG_E_END_), "unknown");
	assert_string_equal(usp_msg_error_name(0), "unknown");
}

/* ---- builders and msg_id generator ---------------------------------------- */

static Usp__Msg *round_trip(const Usp__Msg *m)
{
	uint8_t *buf;
	size_t len;
	Usp__Msg *back = NULL;
	encode_ok(m, &buf, &len);
	decode_expect(buf, len, 0, &back);
	free(buf);
	return back;
}

static void test_builders(void **state)
{
	(void)state;
	Usp__Msg *e = usp_msg_new_error("v-e1", 7026, NULL);
	assert_non_null(e);
	assert_int_equal(usp_msg_error_add_param(e, "Device.X.", 7016, NULL), 0);
	assert_int_equal(usp_msg_error_add_param(e, "Device.Y.", 7026, "custom"), 0);
	Usp__Msg *back = round_trip(e);
	Usp__Error *err = back->body->error;
	assert_int_equal(usp_msg_type(back), USP__HEADER__MSG_TYPE__ERROR);
	assert_int_equal(err->err_code, 7026);
	assert_string_equal(err->err_msg, usp_err_text(7026));
	assert_int_equal(err->n_param_errs, 2);
	assert_string_equal(err->param_errs[0]->param_path, "Device.X.");
	assert_int_equal(err->param_errs[0]->err_code, 7016);
	assert_string_equal(err->param_errs[0]->err_msg, usp_err_text(7016));
	assert_string_equal(err->param_errs[1]->err_msg, "custom");
	usp_msg_free(back);
	usp_msg_free(e);

	Usp__Msg *get = usp_msg_new_get("v-g", NULL, 0, 0);
	assert_int_equal(usp_msg_error_add_param(get, "Device.", 7000, NULL), USPC_E_INVAL);
	usp_msg_free(get);

	const char *paths[] = { "Device.A.", "Device.B.C", "Device.D.*.E" };
	get = usp_msg_new_get("v-g3", paths, 3, 1);
	back = round_trip(get);
	assert_int_equal(back->body->request->get->n_param_paths, 3);
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(back->body->request->get->param_paths[i], paths[i]);
	assert_int_equal(back->body->request->get->max_depth, 1);
	usp_msg_free(back);
	usp_msg_free(get);

	Usp__Msg *nr = usp_msg_new_notify_resp("v-n1", "sub-9");
	back = round_trip(nr);
	assert_int_equal(usp_msg_type(back), USP__HEADER__MSG_TYPE__NOTIFY_RESP);
	assert_string_equal(back->body->response->notify_resp->subscription_id, "sub-9");
	assert_string_equal(usp_msg_id(back), "v-n1");
	usp_msg_free(back);
	usp_msg_free(nr);
	assert_string_equal(usp_msg_id(NULL), "");
	assert_int_equal(usp_msg_type(NULL), USP_MSG_TYPE_INVALID);
}

static void test_msgid_generator(void **state)
{
	(void)state;
	struct usp_msgid_gen a, b, c;
	char ida[64], ida2[64], idb[64], idc[64];
	usp_msgid_init(&a, "uspc", 0x1122334455667788ull, 1700000000);
	usp_msgid_init(&b, "uspc", 0x0123456789abcdefull, 1700000000);
	usp_msgid_init(&c, NULL, 0x1122334455667788ull, 1700000001);
	usp_msgid_next(&a, ida, sizeof(ida));
	usp_msgid_next(&a, ida2, sizeof(ida2));
	usp_msgid_next(&b, idb, sizeof(idb));
	usp_msgid_next(&c, idc, sizeof(idc));
	assert_string_not_equal(ida, ida2);
	assert_string_not_equal(ida, idb); /* another random value: another prefix */
	assert_string_not_equal(ida, idc); /* another start time: another prefix */
	assert_int_equal(strncmp(ida, "uspc-", 5), 0);
	size_t n = strlen(ida);
	assert_string_equal(ida + n - 2, "-1");
	assert_string_equal(ida2 + strlen(ida2) - 2, "-2");
	assert_true(strlen(ida) <= USP_MSG_ID_MAX_LEN);
	/* the longest tag and a huge counter still fit in 64 bytes */
	struct usp_msgid_gen big;
	char idbig[64];
	usp_msgid_init(&big, "a-very-long-tag-indeed", UINT64_MAX, UINT64_MAX);
	big.counter = UINT64_MAX - 1;
	usp_msgid_next(&big, idbig, sizeof(idbig));
	assert_true(strlen(idbig) < sizeof(idbig) - 1);
	assert_non_null(strstr(idbig, "18446744073709551615"));
}

/* Two ids that differ only in their random part; the longest fits 72. */
static void test_msgid_random(void **state)
{
	(void)state;
	struct usp_msgid_gen a, big;
	char id1[72], id2[72], idbig[72];
	usp_msgid_init(&a, "uspc", 1, 1700000000);
	usp_msgid_next_random(&a, 0x0123456789abcdefull, id1, sizeof(id1));
	a.counter = 0;
	usp_msgid_next_random(&a, 0xfedcba9876543210ull, id2, sizeof(id2));
	assert_string_not_equal(id1, id2);
	assert_string_equal(id1 + strlen(id1) - 19, "-1-0123456789abcdef");
	assert_string_equal(id2 + strlen(id2) - 19, "-1-fedcba9876543210");
	usp_msgid_init(&big, "a-very-long-tag-indeed", UINT64_MAX, UINT64_MAX);
	big.counter = UINT64_MAX - 1;
	usp_msgid_next_random(&big, UINT64_MAX, idbig, sizeof(idbig));
	assert_true(strlen(idbig) < sizeof(idbig) - 1);
	assert_non_null(strstr(idbig, "-18446744073709551615-ffffffffffffffff"));
}

/* Every request with a response maps to it; nothing else maps. */
static void test_response_type(void **state)
{
	(void)state;
	assert_int_equal(usp_msg_response_type(USP__HEADER__MSG_TYPE__GET),
			 USP__HEADER__MSG_TYPE__GET_RESP);
	assert_int_equal(usp_msg_response_type(USP__HEADER__MSG_TYPE__DELETE),
			 USP__HEADER__MSG_TYPE__DELETE_RESP);
	assert_int_equal(usp_msg_response_type(USP__HEADER__MSG_TYPE__GET_SUPPORTED_PROTO),
			 USP__HEADER__MSG_TYPE__GET_SUPPORTED_PROTO_RESP);
	assert_int_equal(usp_msg_response_type(USP__HEADER__MSG_TYPE__NOTIFY),
			 USP__HEADER__MSG_TYPE__NOTIFY_RESP);
	assert_int_equal(usp_msg_response_type(USP__HEADER__MSG_TYPE__GET_RESP),
			 USP_MSG_TYPE_INVALID);
	assert_int_equal(usp_msg_response_type(USP__HEADER__MSG_TYPE__ERROR), USP_MSG_TYPE_INVALID);
	assert_int_equal(usp_msg_response_type(USP_MSG_TYPE_INVALID), USP_MSG_TYPE_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msgid_random),
		cmocka_unit_test(test_response_type),
		cmocka_unit_test(test_type_table),
		cmocka_unit_test(test_every_type_has_a_sample),
		cmocka_unit_test(test_round_trip_every_sample),
		cmocka_unit_test(test_samples_cover_every_field),
		cmocka_unit_test(test_compare_detects_differences),
		cmocka_unit_test(test_body_wins_over_header),
		cmocka_unit_test(test_unknown_field_is_skipped),
		cmocka_unit_test(test_field_number_zero_rejected),
		cmocka_unit_test(test_every_prefix_is_handled),
		cmocka_unit_test(test_msg_errors),
		cmocka_unit_test(test_empty_body_keeps_msg),
		cmocka_unit_test(test_error_names),
		cmocka_unit_test(test_builders),
		cmocka_unit_test(test_msgid_generator),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
