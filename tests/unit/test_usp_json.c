/*
 * test_usp_json.c — unit tests of usp_json: message -> JSON -> message
 * round trips (packed bytes compared) for all 23 message types and Record,
 * the output rules, every kind of strict-input error with its JSON path,
 * the input limits, and every example of docs/json.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "usp_json.h"
#include "usp_msg.h"
#include "usp_record.h"

/* ---- a generic filler: every field of a message set to a non-default ---- */

static unsigned fill_counter;

static const char *const sample_strings[] = {
	"Device.DeviceInfo.",
	"quote\" back\\ nl\n tab\t ctl\x01",
	"\xc3\xbcn\xc3\xaf"
	"c\xc3\xb8"
	"de \xe2\x9c\x93 \xf0\x9f\x98\x80",
	"x",
	"Device.IP.Interface.1.Stats.BytesSent",
};

static void fill_message(ProtobufCMessage *m, unsigned variant);

/* Index of oneof member f among the members sharing its case field, and
 * the group size. */
static void oneof_pos(const ProtobufCMessageDescriptor *d, const ProtobufCFieldDescriptor *f,
		      unsigned *idx, unsigned *n)
{
	*idx = *n = 0;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *g = &d->fields[i];
		if ((g->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    g->quantifier_offset == f->quantifier_offset) {
			if (g == f)
				*idx = *n;
			(*n)++;
		}
	}
}

static void fill_value(const ProtobufCFieldDescriptor *f, void *p, unsigned variant)
{
	unsigned k = fill_counter++;
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		*(int32_t *)p = (k % 2) ? INT32_MIN : (int32_t)(k + 1);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		*(uint32_t *)p = (k % 3 == 0) ? UINT32_MAX : 7000 + k;
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		*(int64_t *)p = (k % 2) ? INT64_MIN : (int64_t)k + 1;
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		*(uint64_t *)p = (k % 2) ? UINT64_MAX - k : (1ull << 53) + (k % 3) - 1;
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		*(float *)p = 0.1f * (float)(k + 1);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		*(double *)p = 0.1 * (k + 1);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)p = 1;
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumDescriptor *ed = f->descriptor;
		*(int *)p = ed->values[ed->n_values - 1 - k % ed->n_values].value;
		if (*(int *)p == 0)
			*(int *)p = ed->values[ed->n_values - 1].value;
		break;
	}
	case PROTOBUF_C_TYPE_STRING:
		*(char **)p = strdup(
			sample_strings[k % (sizeof(sample_strings) / sizeof(*sample_strings))]);
		break;
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData *b = p;
		b->len = 1 + k % 5;
		b->data = malloc(b->len);
		for (size_t i = 0; i < b->len; i++)
			b->data[i] = (uint8_t)(251 + i * 7 + k);
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		ProtobufCMessage *child = usp_pb_new(f->descriptor);
		fill_message(child, variant);
		*(ProtobufCMessage **)p = child;
		break;
	}
	}
}

static void fill_field(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, unsigned variant)
{
	char *base = (char *)m;
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t es =
			f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_STRING
				? sizeof(void *)
			: f->type == PROTOBUF_C_TYPE_BYTES ? sizeof(ProtobufCBinaryData)
			: f->type == PROTOBUF_C_TYPE_BOOL  ? sizeof(protobuf_c_boolean)
			: (f->type == PROTOBUF_C_TYPE_INT64 || f->type == PROTOBUF_C_TYPE_UINT64 ||
			   f->type == PROTOBUF_C_TYPE_SINT64 ||
			   f->type == PROTOBUF_C_TYPE_FIXED64 ||
			   f->type == PROTOBUF_C_TYPE_SFIXED64 || f->type == PROTOBUF_C_TYPE_DOUBLE)
				? 8
				: 4;
		char *arr = calloc(2, es);
		for (int i = 0; i < 2; i++)
			fill_value(f, arr + i * es, variant + (unsigned)i);
		*(char **)(base + f->offset) = arr;
		*(size_t *)(base + f->quantifier_offset) = 2;
		return;
	}
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		unsigned idx, n;
		oneof_pos(m->descriptor, f, &idx, &n);
		if (idx != variant % n)
			return;
		*(uint32_t *)(base + f->quantifier_offset) = f->id;
	}
	fill_value(f, base + f->offset, variant);
}

static void fill_message(ProtobufCMessage *m, unsigned variant)
{
	for (unsigned i = 0; i < m->descriptor->n_fields; i++)
		fill_field(m, &m->descriptor->fields[i], variant);
}

/* ---- helpers ------------------------------------------------------------- */

static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
	uint8_t *buf;
	assert_int_equal(usp_pack(m, &buf, len), 0);
	return buf;
}

static void assert_same_bytes(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
	size_t la, lb;
	uint8_t *pa = pack(a, &la), *pb = pack(b, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(pa, pb, la);
	free(pa);
	free(pb);
}

/* JSON text -> cJSON (asserting it parses) */
static cJSON *parse(const char *text)
{
	cJSON *j = cJSON_Parse(text);
	assert_non_null(j);
	return j;
}

/* Print and re-parse, so the round trip also goes through JSON text. */
static cJSON *through_text(cJSON *j)
{
	char *text = cJSON_PrintUnformatted(j);
	assert_non_null(text);
	cJSON *back = parse(text);
	free(text);
	cJSON_Delete(j);
	return back;
}

static Usp__Msg *filled_msg(Usp__Header__MsgType type, unsigned variant)
{
	Usp__Msg *msg = usp_msg_new("rt-1", type);
	assert_non_null(msg);
	fill_message(usp_msg_payload(msg), variant);
	return msg;
}

static const Usp__Header__MsgType all_types[] = {
#define T_(t, b, f, n) USP__HEADER__MSG_TYPE__##t,
	USP_MSG_TYPES(T_)
#undef T_
};
#define N_ALL_TYPES (sizeof(all_types) / sizeof(all_types[0]))

/* ---- round trips ----------------------------------------------------------- */

static void test_round_trip_full_msg_every_type(void **state)
{
	assert_int_equal(N_ALL_TYPES, 23);
	for (size_t t = 0; t < N_ALL_TYPES; t++) {
		for (unsigned variant = 0; variant < 6; variant++) {
			Usp__Msg *msg = filled_msg(all_types[t], variant);
			cJSON *j = through_text(usp_json_from_message(&msg->base));
			ProtobufCMessage *back = NULL;
			struct uspc_err err = { 0 };
			int rc = usp_json_to_message(&usp__msg__descriptor, j, &back, &err);
			if (rc != 0)
				fail_msg("%s variant %u: %s", usp_msg_type_name(all_types[t]),
					 variant, err.msg);
			assert_same_bytes(&msg->base, back);
			usp_pb_free(back);
			cJSON_Delete(j);
			usp_msg_free(msg);
		}
	}
}

static void test_round_trip_compact_every_type(void **state)
{
	for (size_t t = 0; t < N_ALL_TYPES; t++) {
		for (unsigned variant = 0; variant < 6; variant++) {
			Usp__Msg *msg = filled_msg(all_types[t], variant);
			cJSON *j = through_text(usp_json_from_msg_payload(msg));
			assert_string_equal(cJSON_GetObjectItem(j, "type")->valuestring,
					    usp_msg_type_name(all_types[t]));
			assert_string_equal(cJSON_GetObjectItem(j, "msg_id")->valuestring, "rt-1");
			Usp__Msg *back = NULL;
			struct uspc_err err = { 0 };
			if (usp_json_to_msg_payload(j, &back, &err) != 0)
				fail_msg("%s: %s", usp_msg_type_name(all_types[t]), err.msg);
			assert_same_bytes(&msg->base, &back->base);
			usp_msg_free(back);
			cJSON_Delete(j);
			usp_msg_free(msg);
		}
	}
}

static void test_round_trip_requests_via_build_request(void **state)
{
	int n_requests = 0;
	for (size_t t = 0; t < N_ALL_TYPES; t++) {
		if (!usp_msg_type_is_request(all_types[t]))
			continue;
		n_requests++;
		Usp__Msg *msg = filled_msg(all_types[t], 1);
		cJSON *args = through_text(usp_json_from_message(usp_msg_payload(msg)));
		Usp__Msg *built = NULL;
		struct uspc_err err = { 0 };
		int rc = usp_json_build_request(usp_msg_type_name(all_types[t]), args, "rt-1",
						&built, &err);
		if (rc != 0)
			fail_msg("%s: %s", usp_msg_type_name(all_types[t]), err.msg);
		assert_int_equal(built->header->msg_type, all_types[t]);
		assert_same_bytes(&msg->base, &built->base);
		usp_msg_free(built);
		cJSON_Delete(args);
		usp_msg_free(msg);
	}
	assert_int_equal(n_requests, 11);
}

static void test_round_trip_record_every_kind(void **state)
{
	for (unsigned variant = 0; variant < 7; variant++) {
		ProtobufCMessage *rec = usp_pb_new(&usp_record__record__descriptor);
		fill_message(rec, variant);
		cJSON *j = through_text(usp_json_from_message(rec));
		ProtobufCMessage *back = NULL;
		struct uspc_err err = { 0 };
		if (usp_json_to_message(&usp_record__record__descriptor, j, &back, &err) != 0)
			fail_msg("record variant %u: %s", variant, err.msg);
		assert_same_bytes(rec, back);
		usp_pb_free(back);
		usp_pb_free(rec);
		cJSON_Delete(j);
	}
}

static void test_round_trip_defaults_only(void **state)
{
	/* every type with an empty payload: nothing but presence to carry */
	for (size_t t = 0; t < N_ALL_TYPES; t++) {
		Usp__Msg *msg = usp_msg_new("d-1", all_types[t]);
		cJSON *j = through_text(usp_json_from_msg_payload(msg));
		assert_int_equal(cJSON_GetArraySize(j), 2); /* type, msg_id */
		Usp__Msg *back = NULL;
		assert_int_equal(usp_json_to_msg_payload(j, &back, NULL), 0);
		assert_same_bytes(&msg->base, &back->base);
		usp_msg_free(back);
		cJSON_Delete(j);
		usp_msg_free(msg);
	}
}

/* ---- output rules ---------------------------------------------------------- */

static void test_output_omits_defaults(void **state)
{
	const char *paths[] = { "Device.DeviceInfo." };
	Usp__Msg *msg = usp_msg_new_get("g-1", paths, 1, 0);
	cJSON *j = usp_json_from_msg_payload(msg);
	assert_null(cJSON_GetObjectItem(j, "max_depth"));
	cJSON *pp = cJSON_GetObjectItem(j, "param_paths");
	assert_true(cJSON_IsArray(pp));
	assert_string_equal(cJSON_GetArrayItem(pp, 0)->valuestring, "Device.DeviceInfo.");
	cJSON_Delete(j);
	usp_msg_free(msg);

	msg = usp_msg_new_get("g-2", paths, 1, 3);
	j = usp_json_from_msg_payload(msg);
	assert_int_equal(cJSON_GetObjectItem(j, "max_depth")->valuedouble, 3);
	cJSON_Delete(j);
	usp_msg_free(msg);

	/* err_code 0 and empty err_msg are omitted like any default */
	msg = usp_msg_new("r-1", USP__HEADER__MSG_TYPE__GET_RESP);
	Usp__GetResp *gr = msg->body->response->get_resp;
	Usp__GetResp__RequestedPathResult *rp = (Usp__GetResp__RequestedPathResult *)usp_pb_new(
		&usp__get_resp__requested_path_result__descriptor);
	rp->requested_path = strdup("Device.");
	assert_int_equal(usp_pb_push((void ***)&gr->req_path_results, &gr->n_req_path_results, rp),
			 0);
	j = usp_json_from_msg_payload(msg);
	cJSON *r0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "req_path_results"), 0);
	assert_int_equal(cJSON_GetArraySize(r0), 1);
	assert_string_equal(cJSON_GetObjectItem(r0, "requested_path")->valuestring, "Device.");
	cJSON_Delete(j);
	usp_msg_free(msg);
}

static void test_output_enum_names_and_maps(void **state)
{
	Usp__Msg *msg = usp_msg_new("r-2", USP__HEADER__MSG_TYPE__GET_SUPPORTED_DM_RESP);
	Usp__GetSupportedDMResp *r = msg->body->response->get_supported_dm_resp;
	Usp__GetSupportedDMResp__RequestedObjectResult *ro =
		(void *)usp_pb_new(&usp__get_supported_dmresp__requested_object_result__descriptor);
	Usp__GetSupportedDMResp__SupportedObjectResult *so =
		(void *)usp_pb_new(&usp__get_supported_dmresp__supported_object_result__descriptor);
	so->access = USP__GET_SUPPORTED_DMRESP__OBJ_ACCESS_TYPE__OBJ_ADD_DELETE;
	so->supported_obj_path = strdup("Device.IP.Interface.{i}.");
	assert_int_equal(usp_pb_push((void ***)&ro->supported_objs, &ro->n_supported_objs, so), 0);
	assert_int_equal(usp_pb_push((void ***)&r->req_obj_results, &r->n_req_obj_results, ro), 0);
	cJSON *j = usp_json_from_msg_payload(msg);
	cJSON *jso = cJSON_GetArrayItem(
		cJSON_GetObjectItem(
			cJSON_GetArrayItem(cJSON_GetObjectItem(j, "req_obj_results"), 0),
			"supported_objs"),
		0);
	assert_string_equal(cJSON_GetObjectItem(jso, "access")->valuestring, "OBJ_ADD_DELETE");
	cJSON_Delete(j);
	usp_msg_free(msg);

	/* header enum in the full form */
	msg = usp_msg_new("r-3", USP__HEADER__MSG_TYPE__NOTIFY_RESP);
	j = usp_json_from_message(&msg->base);
	assert_string_equal(
		cJSON_GetObjectItem(cJSON_GetObjectItem(j, "header"), "msg_type")->valuestring,
		"NOTIFY_RESP");
	assert_non_null(cJSON_GetObjectItem(
		cJSON_GetObjectItem(cJSON_GetObjectItem(j, "body"), "response"), "notify_resp"));
	cJSON_Delete(j);
	usp_msg_free(msg);

	/* map<string,string> -> object, in wire order */
	msg = usp_msg_new("o-1", USP__HEADER__MSG_TYPE__OPERATE);
	Usp__Operate *op = msg->body->request->operate;
	assert_int_equal(USP_PB_MAP_PUT(op, input_args, "Host", "example.com"), 0);
	assert_int_equal(USP_PB_MAP_PUT(op, input_args, "NumberOfRepetitions", "3"), 0);
	j = usp_json_from_msg_payload(msg);
	cJSON *args = cJSON_GetObjectItem(j, "input_args");
	assert_true(cJSON_IsObject(args));
	assert_string_equal(args->child->string, "Host");
	assert_string_equal(args->child->valuestring, "example.com");
	assert_string_equal(args->child->next->string, "NumberOfRepetitions");
	assert_string_equal(args->child->next->valuestring, "3");
	cJSON_Delete(j);
	usp_msg_free(msg);
}

static void test_output_oneof_presence_and_empty_message(void **state)
{
	/* a selected oneof string member is written even when empty */
	Usp__Msg *msg = usp_msg_new("o-2", USP__HEADER__MSG_TYPE__OPERATE_RESP);
	Usp__OperateResp *r = msg->body->response->operate_resp;
	Usp__OperateResp__OperationResult *res =
		(void *)usp_pb_new(&usp__operate_resp__operation_result__descriptor);
	res->operation_resp_case = USP__OPERATE_RESP__OPERATION_RESULT__OPERATION_RESP_REQ_OBJ_PATH;
	res->req_obj_path = strdup("");
	assert_int_equal(usp_pb_push((void ***)&r->operation_results, &r->n_operation_results, res),
			 0);
	/* and a present but empty sub-message is written as {} */
	Usp__OperateResp__OperationResult *res2 =
		(void *)usp_pb_new(&usp__operate_resp__operation_result__descriptor);
	assert_non_null(USP_PB_CHILD(res2, req_output_args));
	assert_int_equal(
		usp_pb_push((void ***)&r->operation_results, &r->n_operation_results, res2), 0);
	cJSON *j = usp_json_from_msg_payload(msg);
	cJSON *arr = cJSON_GetObjectItem(j, "operation_results");
	cJSON *p = cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 0), "req_obj_path");
	assert_true(cJSON_IsString(p));
	assert_string_equal(p->valuestring, "");
	cJSON *o = cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 1), "req_output_args");
	assert_true(cJSON_IsObject(o));
	assert_null(o->child);
	j = through_text(j);
	Usp__Msg *back = NULL;
	assert_int_equal(usp_json_to_msg_payload(j, &back, NULL), 0);
	assert_same_bytes(&msg->base, &back->base);
	usp_msg_free(back);
	cJSON_Delete(j);
	usp_msg_free(msg);
}

static void test_output_uint64_bytes_utf8(void **state)
{
	UspRecord__SessionContextRecord *s =
		(void *)usp_pb_new(&usp_record__session_context_record__descriptor);
	s->session_id = 999999999999999ull; /* 10^15 - 1: still a number */
	s->sequence_id = 1000000000000000ull;
	s->expected_id = (1ull << 53) - 1;
	s->payload = calloc(1, sizeof(ProtobufCBinaryData));
	s->payload[0].data = (uint8_t *)strdup("hello");
	s->payload[0].len = 5;
	s->n_payload = 1;
	cJSON *j = usp_json_from_message(&s->base);
	cJSON *sid = cJSON_GetObjectItem(j, "session_id");
	assert_true(cJSON_IsNumber(sid));
	cJSON *seq = cJSON_GetObjectItem(j, "sequence_id");
	assert_true(cJSON_IsString(seq));
	assert_string_equal(seq->valuestring, "1000000000000000");
	assert_string_equal(cJSON_GetObjectItem(j, "expected_id")->valuestring, "9007199254740991");
	/* the printed text is exact (cJSON would round a 16-digit number) */
	char *text = cJSON_PrintUnformatted(j);
	assert_non_null(strstr(text, "\"session_id\":999999999999999,"));
	free(text);
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "payload"), 0)->valuestring,
			    "aGVsbG8=");
	cJSON_Delete(j);
	usp_pb_free(&s->base);

	/* invalid UTF-8 in a decoded string is written with U+FFFD */
	Usp__Msg *msg = usp_msg_new_error("e-1", 7004, "bad \xff byte \xc3");
	j = usp_json_from_msg_payload(msg);
	assert_string_equal(cJSON_GetObjectItem(j, "err_msg")->valuestring,
			    "bad \xef\xbf\xbd byte \xef\xbf\xbd");
	assert_int_equal(cJSON_GetObjectItem(j, "err_code")->valuedouble, 7004);
	cJSON_Delete(j);
	usp_msg_free(msg);
}

static void test_output_no_body_is_null(void **state)
{
	Usp__Msg *msg = (Usp__Msg *)usp_pb_new(&usp__msg__descriptor);
	assert_null(usp_json_from_msg_payload(msg));
	assert_null(usp_json_from_message(NULL));
	usp_msg_free(msg);
}

/* ---- strict input ----------------------------------------------------------- */

/* Build a request from text; expect failure with code and message. */
static void expect_request_error(const char *type, const char *text, int code, const char *msg)
{
	cJSON *j = parse(text);
	Usp__Msg *out = (Usp__Msg *)1;
	struct uspc_err err = { 0 };
	int rc = usp_json_build_request(type, j, "x-1", &out, &err);
	if (rc != code || strcmp(err.msg, msg) != 0)
		fail_msg("%s %s: got %d (%s) \"%s\", want %d \"%s\"", type, text, rc,
			 usp_json_error_name(rc), err.msg, code, msg);
	assert_null(out);
	cJSON_Delete(j);
}

static void test_error_unknown_and_duplicate_keys(void **state)
{
	expect_request_error("add", "{\"create_objs\":[{\"obj_path\":\"Device.X.\",\"bogus\":1}]}",
			     USP_JSON_E_UNKNOWN_KEY,
			     "create_objs[0].bogus: unknown field of usp.Add.CreateObject");
	expect_request_error("get", "{\"param_paths\":[],\"nope\":null}", USP_JSON_E_UNKNOWN_KEY,
			     "nope: unknown field of usp.Get");
	expect_request_error("get", "{\"max_depth\":1,\"max_depth\":2}", USP_JSON_E_DUPLICATE_KEY,
			     "max_depth: key appears twice");
}

static void test_error_wrong_types(void **state)
{
	expect_request_error(
		"add",
		"{\"create_objs\":[{\"obj_path\":\"Device.A.\"},{\"obj_path\":\"Device.B.\","
		"\"param_settings\":[{\"param\":\"P\",\"value\":5}]}]}",
		USP_JSON_E_WRONG_TYPE, "create_objs[1].param_settings[0].value: expected string");
	expect_request_error("get", "{\"param_paths\":\"Device.\"}", USP_JSON_E_WRONG_TYPE,
			     "param_paths: expected array");
	expect_request_error("get", "{\"param_paths\":[\"a\",null]}", USP_JSON_E_WRONG_TYPE,
			     "param_paths[1]: expected string");
	expect_request_error("set", "{\"allow_partial\":1}", USP_JSON_E_WRONG_TYPE,
			     "allow_partial: expected boolean");
	expect_request_error("get", "{\"max_depth\":\"2\"}", USP_JSON_E_WRONG_TYPE,
			     "max_depth: expected integer");
	expect_request_error("get", "{\"max_depth\":1.5}", USP_JSON_E_WRONG_TYPE,
			     "max_depth: expected integer");
	expect_request_error("operate", "{\"input_args\":[\"a\"]}", USP_JSON_E_WRONG_TYPE,
			     "input_args: expected object (map of strings)");
	expect_request_error("operate", "{\"input_args\":{\"Host\":1}}", USP_JSON_E_WRONG_TYPE,
			     "input_args[\"Host\"]: expected string");
	expect_request_error("notify", "{\"event\":[]}", USP_JSON_E_WRONG_TYPE,
			     "event: expected object (usp.Notify.Event)");
	expect_request_error("get", "[]", USP_JSON_E_WRONG_TYPE,
			     "<root>: expected object (usp.Get)");
}

static void test_error_ranges(void **state)
{
	expect_request_error("get", "{\"max_depth\":-1}", USP_JSON_E_RANGE,
			     "max_depth: -1 is out of range [0, 4294967295]");
	expect_request_error("get", "{\"max_depth\":4294967296}", USP_JSON_E_RANGE,
			     "max_depth: 4294967296 is out of range [0, 4294967295]");
	expect_request_error("get", "{\"max_depth\":1e300}", USP_JSON_E_RANGE,
			     "max_depth: integer beyond 2^53 must be written as a decimal string");

	/* 64-bit fields: numbers up to 2^53, decimal strings for the rest */
	const char *ok =
		"{\"session_id\":\"18446744073709551615\",\"sequence_id\":9007199254740992}";
	cJSON *j = parse(ok);
	ProtobufCMessage *m = NULL;
	assert_int_equal(
		usp_json_to_message(&usp_record__session_context_record__descriptor, j, &m, NULL),
		0);
	UspRecord__SessionContextRecord *s = (void *)m;
	assert_true(s->session_id == UINT64_MAX);
	assert_true(s->sequence_id == (1ull << 53));
	usp_pb_free(m);
	cJSON_Delete(j);

	struct {
		const char *text, *msg;
		int code;
	} bad[] = {
		{ "{\"session_id\":\"18446744073709551616\"}",
		  "session_id: 18446744073709551616 is out of range for a 64-bit field",
		  USP_JSON_E_RANGE },
		{ "{\"session_id\":\"-1\"}", "session_id: expected a decimal integer string",
		  USP_JSON_E_WRONG_TYPE },
		{ "{\"session_id\":-1}", "session_id: -1 is out of range for an unsigned field",
		  USP_JSON_E_RANGE },
		{ "{\"session_id\":\"012\"}", "session_id: expected a decimal integer string",
		  USP_JSON_E_WRONG_TYPE },
		{ "{\"session_id\":\" 12\"}", "session_id: expected a decimal integer string",
		  USP_JSON_E_WRONG_TYPE },
		{ "{\"session_id\":true}",
		  "session_id: expected integer (number or decimal string)",
		  USP_JSON_E_WRONG_TYPE },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct uspc_err err = { 0 };
		j = parse(bad[i].text);
		m = (ProtobufCMessage *)1;
		int rc = usp_json_to_message(&usp_record__session_context_record__descriptor, j, &m,
					     &err);
		assert_int_equal(rc, bad[i].code);
		assert_string_equal(err.msg, bad[i].msg);
		assert_null(m);
		cJSON_Delete(j);
	}
}

static void test_enums_by_name_or_number(void **state)
{
	const ProtobufCMessageDescriptor *d =
		&usp__get_supported_dmresp__supported_param_result__descriptor;
	struct uspc_err err = { 0 };
	ProtobufCMessage *m = NULL;
	cJSON *j = parse("{\"access\":\"PARAM_READ_WRITE\",\"value_type\":6}");
	assert_int_equal(usp_json_to_message(d, j, &m, &err), 0);
	Usp__GetSupportedDMResp__SupportedParamResult *p = (void *)m;
	assert_int_equal(p->access, USP__GET_SUPPORTED_DMRESP__PARAM_ACCESS_TYPE__PARAM_READ_WRITE);
	assert_int_equal(p->value_type, USP__GET_SUPPORTED_DMRESP__PARAM_VALUE_TYPE__PARAM_INT);
	usp_pb_free(m);
	cJSON_Delete(j);

	j = parse("{\"access\":\"READ_WRITE\"}");
	m = (ProtobufCMessage *)1;
	assert_int_equal(usp_json_to_message(d, j, &m, &err), USP_JSON_E_BAD_ENUM);
	assert_string_equal(err.msg, "access: unknown value \"READ_WRITE\" for enum "
				     "usp.GetSupportedDMResp.ParamAccessType");
	assert_null(m);
	cJSON_Delete(j);

	j = parse("{\"header\":{\"msg_id\":\"a\",\"msg_type\":\"FOO\"}}");
	assert_int_equal(usp_json_to_message(&usp__msg__descriptor, j, &m, &err),
			 USP_JSON_E_BAD_ENUM);
	assert_string_equal(err.msg,
			    "header.msg_type: unknown value \"FOO\" for enum usp.Header.MsgType");
	cJSON_Delete(j);

	j = parse("{\"access\":2.5}");
	assert_int_equal(usp_json_to_message(d, j, &m, &err), USP_JSON_E_WRONG_TYPE);
	assert_string_equal(err.msg, "access: expected integer");
	cJSON_Delete(j);
}

static void test_error_oneof_conflict(void **state)
{
	expect_request_error("notify",
			     "{\"subscription_id\":\"s\",\"event\":{\"obj_path\":\"Device.\"},"
			     "\"value_change\":{\"param_path\":\"Device.X\"}}",
			     USP_JSON_E_ONEOF,
			     "value_change: conflicts with \"event\": a oneof takes one member");
	/* null does not select a member */
	cJSON *j = parse("{\"event\":null,\"value_change\":{\"param_path\":\"Device.X\"}}");
	Usp__Msg *m = NULL;
	assert_int_equal(usp_json_build_request("notify", j, "n-1", &m, NULL), 0);
	assert_int_equal(m->body->request->notify->notification_case,
			 USP__NOTIFY__NOTIFICATION_VALUE_CHANGE);
	usp_msg_free(m);
	cJSON_Delete(j);
	/* and nested oneofs are checked with their path */
	j = parse("{\"type\":\"operate_resp\",\"msg_id\":\"1\",\"operation_results\":[{},"
		  "{\"req_obj_path\":\"Device.LocalAgent.Request.1.\",\"cmd_failure\":{}}]}");
	struct uspc_err err = { 0 };
	assert_int_equal(usp_json_to_msg_payload(j, &m, &err), USP_JSON_E_ONEOF);
	assert_string_equal(err.msg,
			    "operation_results[1].cmd_failure: conflicts with \"req_obj_path\": "
			    "a oneof takes one member");
	assert_null(m);
	cJSON_Delete(j);
}

static void test_error_strings_and_base64(void **state)
{
	/* cJSON passes raw bytes through: invalid UTF-8 must be refused */
	expect_request_error("get", "{\"param_paths\":[\"ok\",\"bad\xc0\xaf\"]}",
			     USP_JSON_E_BAD_STRING, "param_paths[1]: string is not valid UTF-8");
	expect_request_error("operate", "{\"input_args\":{\"k\xed\xa0\x80\":\"v\"}}",
			     USP_JSON_E_BAD_STRING,
			     "input_args[\"k\xed\xa0\x80\"]: string is not valid UTF-8");

	const char *bad[] = { "{\"payload\":\"aGVsbG8\"}", "{\"payload\":\"aGV=sbG8\"}",
			      "{\"payload\":\"aGVs bG8=\"}", "{\"payload\":\"aGVsbG8===\"}",
			      "{\"payload\":\"aGVsbG8_\"}" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cJSON *j = parse(bad[i]);
		ProtobufCMessage *m = (ProtobufCMessage *)1;
		struct uspc_err err = { 0 };
		assert_int_equal(
			usp_json_to_message(&usp_record__no_session_context_record__descriptor, j,
					    &m, &err),
			USP_JSON_E_BAD_BASE64);
		assert_string_equal(err.msg, "payload: invalid base64 (standard alphabet, padded)");
		assert_null(m);
		cJSON_Delete(j);
	}
	const char *good[][2] = {
		{ "", "" }, { "aA==", "h" }, { "aGk=", "hi" }, { "aGVsbG8=", "hello" }
	};
	for (size_t i = 0; i < 4; i++) {
		char text[64];
		snprintf(text, sizeof(text), "{\"payload\":\"%s\"}", good[i][0]);
		cJSON *j = parse(text);
		ProtobufCMessage *m = NULL;
		assert_int_equal(
			usp_json_to_message(&usp_record__no_session_context_record__descriptor, j,
					    &m, NULL),
			0);
		UspRecord__NoSessionContextRecord *r = (void *)m;
		assert_int_equal(r->payload.len, strlen(good[i][1]));
		if (r->payload.len)
			assert_memory_equal(r->payload.data, good[i][1], r->payload.len);
		usp_pb_free(m);
		cJSON_Delete(j);
	}
}

static void test_build_request_arguments(void **state)
{
	cJSON *j = parse("{\"param_paths\":[\"Device.DeviceInfo.\"],\"max_depth\":2}");
	Usp__Msg *m = NULL;
	struct uspc_err err = { 0 };
	assert_int_equal(usp_json_build_request("get", j, "id-1", &m, &err), 0);
	assert_string_equal(usp_msg_id(m), "id-1");
	assert_int_equal(m->header->msg_type, USP__HEADER__MSG_TYPE__GET);
	assert_int_equal(usp_msg_type(m), USP__HEADER__MSG_TYPE__GET);
	assert_int_equal(m->body->request->get->max_depth, 2);
	assert_int_equal(m->body->request->get->n_param_paths, 1);
	assert_string_equal(m->body->request->get->param_paths[0], "Device.DeviceInfo.");
	usp_msg_free(m);

	m = (Usp__Msg *)1;
	assert_int_equal(usp_json_build_request("get_resp", j, "id-1", &m, &err),
			 USP_JSON_E_BAD_TYPE_NAME);
	assert_string_equal(err.msg, "type: \"get_resp\" is not a request type");
	assert_null(m);
	assert_int_equal(usp_json_build_request("error", j, "id-1", &m, &err),
			 USP_JSON_E_BAD_TYPE_NAME);
	assert_int_equal(usp_json_build_request("fetch", j, "id-1", &m, &err),
			 USP_JSON_E_BAD_TYPE_NAME);
	assert_string_equal(err.msg, "type: unknown message type \"fetch\"");
	assert_int_equal(usp_json_build_request(NULL, j, "id-1", &m, &err),
			 USP_JSON_E_BAD_TYPE_NAME);
	assert_int_equal(usp_json_build_request("get", j, "", &m, &err), USP_JSON_E_BAD_MSG_ID);
	assert_int_equal(usp_json_build_request("get", j, NULL, &m, &err), USP_JSON_E_BAD_MSG_ID);
	char long_id[USP_MSG_ID_MAX_LEN + 2];
	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	assert_int_equal(usp_json_build_request("get", j, long_id, &m, &err),
			 USP_JSON_E_BAD_MSG_ID);
	long_id[USP_MSG_ID_MAX_LEN] = '\0';
	assert_int_equal(usp_json_build_request("get", j, long_id, &m, &err), 0);
	usp_msg_free(m);
	cJSON_Delete(j);

	/* args NULL: every field default */
	assert_int_equal(usp_json_build_request("get_supported_protocol", NULL, "id-2", &m, &err),
			 0);
	assert_int_equal(usp_msg_type(m), USP__HEADER__MSG_TYPE__GET_SUPPORTED_PROTO);
	usp_msg_free(m);

	/* compact form needs type and msg_id */
	const char *bad[][2] = {
		{ "{\"msg_id\":\"1\"}", "type: expected string" },
		{ "{\"type\":\"gett\",\"msg_id\":\"1\"}", "type: unknown message type \"gett\"" },
		{ "{\"type\":\"get\"}", "msg_id: expected string" },
		{ "{\"type\":\"get\",\"msg_id\":\"\"}", "msg_id: must be 1..128 bytes of UTF-8" },
		{ "{\"type\":\"get\",\"type\":\"get\",\"msg_id\":\"1\"}",
		  "type: key appears twice" },
		{ "[1]", "<root>: expected object" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = parse(bad[i][0]);
		m = (Usp__Msg *)1;
		assert_true(usp_json_to_msg_payload(j, &m, &err) < 0);
		assert_string_equal(err.msg, bad[i][1]);
		assert_null(m);
		cJSON_Delete(j);
	}
}

/* ---- limits --------------------------------------------------------------- */

static void test_limits(void **state)
{
	struct uspc_err err = { 0 };
	Usp__Msg *m = (Usp__Msg *)1;

	/* array length */
	cJSON *args = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(args, "param_paths");
	for (int i = 0; i < USP_JSON_MAX_ITEMS; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString("Device."));
	assert_int_equal(usp_json_build_request("get", args, "l-1", &m, &err), 0);
	assert_int_equal(m->body->request->get->n_param_paths, USP_JSON_MAX_ITEMS);
	usp_msg_free(m);
	cJSON_AddItemToArray(arr, cJSON_CreateString("Device."));
	assert_int_equal(usp_json_build_request("get", args, "l-1", &m, &err), USP_JSON_E_LIMIT);
	assert_string_equal(err.msg, "param_paths: more than 100000 elements");
	assert_null(m);
	cJSON_Delete(args);

	/* string length */
	char *big = malloc(USP_JSON_MAX_STRING + 2);
	memset(big, 'x', USP_JSON_MAX_STRING + 1);
	big[USP_JSON_MAX_STRING] = '\0';
	args = cJSON_CreateObject();
	cJSON *s = cJSON_AddStringToObject(args, "controller_supported_protocol_versions", big);
	assert_int_equal(usp_json_build_request("get_supported_protocol", args, "l-2", &m, &err),
			 0);
	usp_msg_free(m);
	big[USP_JSON_MAX_STRING] = 'x';
	big[USP_JSON_MAX_STRING + 1] = '\0';
	cJSON_SetValuestring(s, big);
	assert_int_equal(usp_json_build_request("get_supported_protocol", args, "l-2", &m, &err),
			 USP_JSON_E_LIMIT);
	assert_string_equal(err.msg,
			    "controller_supported_protocol_versions: string of 65537 bytes "
			    "exceeds the limit of 65536");
	cJSON_Delete(args);
	free(big);

	/* map keys are bounded too */
	big = malloc(USP_JSON_MAX_STRING + 2);
	memset(big, 'k', USP_JSON_MAX_STRING + 1);
	big[USP_JSON_MAX_STRING + 1] = '\0';
	args = cJSON_CreateObject();
	cJSON_AddStringToObject(cJSON_AddObjectToObject(args, "input_args"), big, "v");
	assert_int_equal(usp_json_build_request("operate", args, "l-3", &m, &err),
			 USP_JSON_E_LIMIT);
	assert_non_null(strstr(err.msg, "string of 65537 bytes exceeds the limit of 65536"));
	cJSON_Delete(args);
	free(big);

	/* base64 text */
	size_t n = USP_JSON_MAX_BYTES_B64 + 4;
	big = malloc(n + 1);
	memset(big, 'A', n);
	big[n] = '\0';
	cJSON *rec = cJSON_CreateObject();
	cJSON_AddStringToObject(rec, "payload", big);
	ProtobufCMessage *pm = (ProtobufCMessage *)1;
	assert_int_equal(usp_json_to_message(&usp_record__no_session_context_record__descriptor,
					     rec, &pm, &err),
			 USP_JSON_E_LIMIT);
	assert_null(pm);
	cJSON_Delete(rec);
	free(big);

	/* deep nesting is refused cleanly: the schema bounds real depth
	 * (at most 12 levels), so a deeper document fails at the first
	 * level the schema does not allow */
	size_t depth = 500;
	char *deep = malloc(depth * 2 + 64);
	strcpy(deep, "{\"param_paths\":");
	size_t off = strlen(deep);
	for (size_t i = 0; i < depth; i++)
		deep[off++] = '[';
	for (size_t i = 0; i < depth; i++)
		deep[off++] = ']';
	deep[off++] = '}';
	deep[off] = '\0';
	args = parse(deep);
	assert_int_equal(usp_json_build_request("get", args, "l-4", &m, &err),
			 USP_JSON_E_WRONG_TYPE);
	assert_string_equal(err.msg, "param_paths[0]: expected string");
	cJSON_Delete(args);
	free(deep);
}

/* ---- allocation failures ------------------------------------------------
 * The test is linked with -Wl,--wrap for malloc, calloc, realloc and strdup
 * (the codec's own allocations) and routes cJSON's allocations through the
 * same hook: each operation is run with its 1st, 2nd, ... allocation
 * failing until it needs none to fail. Every run must fail cleanly (and
 * leak nothing: ASan's leak checker watches the whole test). */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);

static long alloc_countdown = -1; /* fail when it reaches 0; -1: never */
static int alloc_failed;

static int alloc_should_fail(void)
{
	if (alloc_countdown < 0)
		return 0;
	if (alloc_countdown-- == 0) {
		alloc_failed = 1;
		return 1;
	}
	return 0;
}

void *__wrap_malloc(size_t n)
{
	return alloc_should_fail() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return alloc_should_fail() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
	return alloc_should_fail() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
	return alloc_should_fail() ? NULL : __real_strdup(s);
}

static void hook_free(void *p)
{
	free(p);
}

static cJSON *alloc_fixture_args;   /* add request arguments */
static cJSON *alloc_fixture_resp;   /* a filled set_resp, compact form */
static Usp__Msg *alloc_fixture_msg; /* a filled notify */

static int op_build_request(void)
{
	Usp__Msg *m = (Usp__Msg *)1;
	int rc = usp_json_build_request("add", alloc_fixture_args, "a-1", &m, NULL);
	assert_true(rc == 0 ? m != NULL : m == NULL);
	usp_msg_free(m);
	return rc;
}

static int op_to_msg_payload(void)
{
	Usp__Msg *m = (Usp__Msg *)1;
	int rc = usp_json_to_msg_payload(alloc_fixture_resp, &m, NULL);
	assert_true(rc == 0 ? m != NULL : m == NULL);
	usp_msg_free(m);
	return rc;
}

static int op_from_msg_payload(void)
{
	cJSON *j = usp_json_from_msg_payload(alloc_fixture_msg);
	cJSON_Delete(j);
	return j ? 0 : -1;
}

static int op_from_message(void)
{
	cJSON *j = usp_json_from_message(&alloc_fixture_msg->base);
	cJSON_Delete(j);
	return j ? 0 : -1;
}

static void run_failing(int (*op)(void), const char *name)
{
	long k;
	for (k = 0; k < 100000; k++) {
		alloc_failed = 0;
		alloc_countdown = k;
		int rc = op();
		alloc_countdown = -1;
		if (!alloc_failed) {
			assert_int_equal(rc, 0);
			break;
		}
		if (rc == 0)
			fail_msg("%s: allocation %ld failed but the call succeeded", name, k + 1);
	}
	assert_true(k > 3); /* the operation did allocate */
}

static void test_allocation_failures(void **state)
{
	cJSON_Hooks hooks = { __wrap_malloc, hook_free };
	cJSON_InitHooks(&hooks);
	alloc_fixture_args = parse(
		"{\"allow_partial\":true,\"create_objs\":[{\"obj_path\":\"Device.A.\",\"param_settings\":"
		"[{\"param\":\"X\",\"value\":\"1\",\"required\":true},{\"param\":\"Y\",\"value\":\"\xc3\xa9\"}]},"
		"{\"obj_path\":\"Device.B.\"}]}");
	Usp__Msg *resp = filled_msg(USP__HEADER__MSG_TYPE__SET_RESP, 1);
	alloc_fixture_resp = usp_json_from_msg_payload(resp);
	usp_msg_free(resp);
	alloc_fixture_msg = filled_msg(USP__HEADER__MSG_TYPE__NOTIFY, 2);
	run_failing(op_build_request, "build_request");
	run_failing(op_to_msg_payload, "to_msg_payload");
	run_failing(op_from_msg_payload, "from_msg_payload");
	run_failing(op_from_message, "from_message");
	/* the U+FFFD path allocates too */
	usp_msg_free(alloc_fixture_msg);
	alloc_fixture_msg = usp_msg_new_error("e-\xff", 7003, "bad \xfe");
	run_failing(op_from_msg_payload, "from_msg_payload (sanitized)");
	usp_msg_free(alloc_fixture_msg);
	cJSON_Delete(alloc_fixture_resp);
	cJSON_Delete(alloc_fixture_args);
	cJSON_InitHooks(NULL);
}

/* ---- docs/json.md ------------------------------------------------------- */

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

struct doc_cover {
	int type_seen[N_ALL_TYPES];
	int notify_kind_seen[9]; /* by Notify.notification case */
	int blocks;
};

static void mark_type(struct doc_cover *cov, Usp__Msg *m)
{
	Usp__Header__MsgType t = usp_msg_type(m);
	for (size_t i = 0; i < N_ALL_TYPES; i++)
		if (all_types[i] == t)
			cov->type_seen[i] = 1;
	if (t == USP__HEADER__MSG_TYPE__NOTIFY)
		cov->notify_kind_seen[m->body->request->notify->notification_case] = 1;
}

/* The JSON we would print for m must be the example itself (canonical). */
static void assert_canonical(const cJSON *example, cJSON *printed, int line)
{
	if (!cJSON_Compare(example, printed, 1)) {
		char *a = cJSON_PrintUnformatted(example), *b = cJSON_PrintUnformatted(printed);
		fail_msg("docs/json.md:%d: example is not in canonical form:\n  doc: %s\n  out: %s",
			 line, a, b);
	}
	cJSON_Delete(printed);
}

/* One block: tag words after ```json, e.g. "request get", "response", "message usp.Msg". */
static void check_block(struct doc_cover *cov, const char *tag, const char *text, int line)
{
	char kind[32] = "", arg[64] = "";
	sscanf(tag, "%31s %63s", kind, arg);
	cJSON *j = cJSON_Parse(text);
	if (!j)
		fail_msg("docs/json.md:%d: ```json %s block does not parse", line, tag);
	struct uspc_err err = { 0 };
	Usp__Msg *m = NULL;
	if (strcmp(kind, "request") == 0) {
		if (usp_json_build_request(arg, j, "doc-1", &m, &err) != 0)
			fail_msg("docs/json.md:%d: request %s: %s", line, arg, err.msg);
		cJSON *printed = usp_json_from_msg_payload(m);
		cJSON_DeleteItemFromObjectCaseSensitive(printed, "type");
		cJSON_DeleteItemFromObjectCaseSensitive(printed, "msg_id");
		assert_canonical(j, printed, line);
		mark_type(cov, m);
		usp_msg_free(m);
	} else if (strcmp(kind, "response") == 0) {
		if (usp_json_to_msg_payload(j, &m, &err) != 0)
			fail_msg("docs/json.md:%d: response: %s", line, err.msg);
		if (usp_msg_type_is_request(usp_msg_type(m)))
			fail_msg("docs/json.md:%d: block tagged response holds a request", line);
		assert_canonical(j, usp_json_from_msg_payload(m), line);
		mark_type(cov, m);
		usp_msg_free(m);
	} else if (strcmp(kind, "message") == 0) {
		const ProtobufCMessageDescriptor *d =
			strcmp(arg, "usp.Msg") == 0             ? &usp__msg__descriptor
			: strcmp(arg, "usp_record.Record") == 0 ? &usp_record__record__descriptor
								: NULL;
		if (!d)
			fail_msg("docs/json.md:%d: unknown message %s", line, arg);
		ProtobufCMessage *pm = NULL;
		if (usp_json_to_message(d, j, &pm, &err) != 0)
			fail_msg("docs/json.md:%d: %s: %s", line, arg, err.msg);
		assert_canonical(j, usp_json_from_message(pm), line);
		usp_pb_free(pm);
	} else if (strcmp(kind, "invalid") == 0) {
		/* examples of rejected input: must really be rejected */
		if (usp_json_build_request(arg, j, "doc-1", &m, &err) == 0)
			fail_msg("docs/json.md:%d: invalid example was accepted", line);
	} else {
		fail_msg("docs/json.md:%d: unknown tag \"%s\"", line, tag);
	}
	cJSON_Delete(j);
	cov->blocks++;
}

static void test_docs_examples(void **state)
{
	char *doc = read_file(USPC_JSON_DOC);
	struct doc_cover cov;
	memset(&cov, 0, sizeof(cov));
	int line = 1;
	for (char *p = doc; *p;) {
		char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len >= 7 && strncmp(p, "```json", 7) == 0) {
			/* every json block carries a tag, so none escapes this test */
			char tag[128] = "";
			if (len > 8)
				snprintf(tag, sizeof(tag), "%.*s", (int)(len - 8), p + 8);
			int start = line;
			char *body = eol + 1, *end = strstr(body, "\n```");
			assert_non_null(end);
			*end = '\0';
			check_block(&cov, tag, body, start);
			for (char *q = body; q < end; q++)
				line += *q == '\n';
			line += 1;
			p = end + 1;
			continue;
		}
		line++;
		p = eol ? eol + 1 : p + len;
	}
	for (size_t i = 0; i < N_ALL_TYPES; i++)
		if (!cov.type_seen[i])
			fail_msg("docs/json.md has no example of %s",
				 usp_msg_type_name(all_types[i]));
	for (int k = 3; k <= 8; k++)
		if (!cov.notify_kind_seen[k])
			fail_msg("docs/json.md has no Notify example with notification field %d",
				 k);
	assert_true(cov.blocks >= 23 + 5);
	free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_full_msg_every_type),
		cmocka_unit_test(test_round_trip_compact_every_type),
		cmocka_unit_test(test_round_trip_requests_via_build_request),
		cmocka_unit_test(test_round_trip_record_every_kind),
		cmocka_unit_test(test_round_trip_defaults_only),
		cmocka_unit_test(test_output_omits_defaults),
		cmocka_unit_test(test_output_enum_names_and_maps),
		cmocka_unit_test(test_output_oneof_presence_and_empty_message),
		cmocka_unit_test(test_output_uint64_bytes_utf8),
		cmocka_unit_test(test_output_no_body_is_null),
		cmocka_unit_test(test_error_unknown_and_duplicate_keys),
		cmocka_unit_test(test_error_wrong_types),
		cmocka_unit_test(test_error_ranges),
		cmocka_unit_test(test_enums_by_name_or_number),
		cmocka_unit_test(test_error_oneof_conflict),
		cmocka_unit_test(test_error_strings_and_base64),
		cmocka_unit_test(test_build_request_arguments),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_allocation_failures),
		cmocka_unit_test(test_docs_examples),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
