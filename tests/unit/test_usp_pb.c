/*
 * test_usp_pb.c — the descriptor-driven builders of usp_pb.c, and the rule
 * that makes USP_PB_CHILD / USP_PB_MAP_PUT / USP_PB_MAP_GET safe: the macros
 * check the member name at compile time and look it up by that name at run
 * time, so every field of every message the codec knows (all reachable from
 * Msg and Record) must resolve by its generated member name. This walk
 * covers every name the code can use, not only the ones it uses today.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "usp-record.pb-c.h"
#include "usp_msg.h"

#define MAX_SEEN 256

struct walk {
	const ProtobufCMessageDescriptor *seen[MAX_SEEN];
	size_t n_seen;
	size_t n_fields;
};

static void walk(struct walk *w, const ProtobufCMessageDescriptor *d)
{
	for (size_t i = 0; i < w->n_seen; i++)
		if (w->seen[i] == d)
			return;
	assert_true(w->n_seen < MAX_SEEN);
	w->seen[w->n_seen++] = d;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		char member[128];
		/* the proto name, and the spelling protoc-c gives a C keyword */
		if (usp_pb_field_named(d, f->name) != f)
			fail_msg("%s.%s does not resolve by its name", d->name, f->name);
		snprintf(member, sizeof(member), "%s_", f->name);
		if (usp_pb_field_named(d, member) != f)
			fail_msg("%s.%s does not resolve as %s", d->name, f->name, member);
		w->n_fields++;
		if (f->type == PROTOBUF_C_TYPE_MESSAGE)
			walk(w, f->descriptor);
	}
}

static void test_every_field_resolves_by_member_name(void **state)
{
	(void)state;
	struct walk w = { .n_seen = 0 };
	walk(&w, &usp__msg__descriptor);
	walk(&w, &usp_record__record__descriptor);
	/* Msg reaches some 90 message types; a short walk means a broken one */
	assert_true(w.n_seen > 80);
	assert_true(w.n_fields > 200);
	/* the two fields protoc-c renames */
	const ProtobufCFieldDescriptor *f =
		usp_pb_field_named(&usp__request__descriptor, "delete_");
	assert_non_null(f);
	assert_string_equal(f->name, "delete");
	f = usp_pb_field_named(&usp__request__descriptor, "register_");
	assert_non_null(f);
	assert_string_equal(f->name, "register");
}

static void test_unknown_names_fail(void **state)
{
	(void)state;
	Usp__Msg *msg = usp_msg_new("pb-1", USP__HEADER__MSG_TYPE__OPERATE);
	assert_non_null(msg);
	Usp__Operate *op = msg->body->request->operate;
	assert_null(usp_pb_field_named(&usp__operate__descriptor, "no_such_field"));
	assert_null(usp_pb_field_named(&usp__operate__descriptor, "_"));
	assert_null(usp_pb_field_named(&usp__operate__descriptor, ""));
	assert_null(usp_pb_set_child_named(&op->base, "no_such_field"));
	/* a field that is not a sub-message, not a map */
	assert_null(usp_pb_set_child_named(&op->base, "command"));
	assert_int_equal(usp_pb_map_put(&op->base, "command", "k", "v"), USPC_E_INVAL);
	assert_int_equal(usp_pb_map_put(&op->base, "no_such_field", "k", "v"), USPC_E_INVAL);
	assert_null(usp_pb_map_get(&op->base, "command", "k"));
	usp_msg_free(msg);
}

static void test_map_put_get(void **state)
{
	(void)state;
	Usp__Msg *msg = usp_msg_new("pb-2", USP__HEADER__MSG_TYPE__OPERATE);
	Usp__Operate *op = msg->body->request->operate;
	assert_int_equal(USP_PB_MAP_PUT(op, input_args, "Host", "example.com"), 0);
	assert_int_equal(USP_PB_MAP_PUT(op, input_args, "Count", NULL), 0);
	assert_int_equal(op->n_input_args, 2);
	assert_string_equal(op->input_args[0]->key, "Host");
	assert_string_equal(USP_PB_MAP_GET(op, input_args, "Host"), "example.com");
	assert_string_equal(USP_PB_MAP_GET(op, input_args, "Count"), "");
	assert_null(USP_PB_MAP_GET(op, input_args, "Missing"));
	usp_msg_free(msg);
}

static void test_child_selects_and_replaces(void **state)
{
	(void)state;
	Usp__OperateResp__OperationResult *res =
		(void *)usp_pb_new(&usp__operate_resp__operation_result__descriptor);
	assert_non_null(res);
	Usp__OperateResp__OperationResult__OutputArgs *out = USP_PB_CHILD(res, req_output_args);
	assert_non_null(out);
	assert_int_equal(res->operation_resp_case,
			 USP__OPERATE_RESP__OPERATION_RESULT__OPERATION_RESP_REQ_OUTPUT_ARGS);
	/* the same member again: the same child */
	assert_ptr_equal(USP_PB_CHILD(res, req_output_args), out);
	assert_int_equal(USP_PB_MAP_PUT(out, output_args, "Status", "Complete"), 0);
	/* another member: the first is released (ASan checks) and replaced */
	Usp__OperateResp__OperationResult__CommandFailure *cf = USP_PB_CHILD(res, cmd_failure);
	assert_non_null(cf);
	assert_int_equal(res->operation_resp_case,
			 USP__OPERATE_RESP__OPERATION_RESULT__OPERATION_RESP_CMD_FAILURE);
	assert_ptr_equal(usp_pb_child(&res->base, res->operation_resp_case), cf);
	assert_null(usp_pb_child(
		&res->base, USP__OPERATE_RESP__OPERATION_RESULT__OPERATION_RESP_REQ_OUTPUT_ARGS));
	/* by a generated case value, as a oneof's *_case is */
	assert_non_null(usp_pb_set_child(
		&res->base, USP__OPERATE_RESP__OPERATION_RESULT__OPERATION_RESP_REQ_OUTPUT_ARGS));
	assert_int_equal(res->operation_resp_case,
			 USP__OPERATE_RESP__OPERATION_RESULT__OPERATION_RESP_REQ_OUTPUT_ARGS);
	usp_pb_free(&res->base);
}

static void test_payload_is_the_selected_member(void **state)
{
	(void)state;
	Usp__Msg *msg = usp_msg_new("pb-3", USP__HEADER__MSG_TYPE__GET_RESP);
	assert_ptr_equal(usp_msg_payload(msg), &msg->body->response->get_resp->base);
	usp_msg_free(msg);
	msg = usp_msg_new("pb-4", USP__HEADER__MSG_TYPE__DELETE);
	assert_ptr_equal(usp_msg_payload(msg), &msg->body->request->delete_->base);
	usp_msg_free(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_field_resolves_by_member_name),
		cmocka_unit_test(test_unknown_names_fail),
		cmocka_unit_test(test_map_put_get),
		cmocka_unit_test(test_child_selects_and_replaces),
		cmocka_unit_test(test_payload_is_the_selected_member),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
