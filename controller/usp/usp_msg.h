/*
 * usp_msg.h — USP Msg decode/encode and builders.
 *
 * The in-memory form is protobuf-c's own Usp__Msg, for both directions:
 *  - decoded messages come from usp_msg_decode() (protobuf-c heap);
 *  - built messages are heap-built with usp_msg_new() plus the usp_pb_*
 *    helpers, or with the convenience builders below, or from JSON
 *    (usp_json.h).
 * Either way the owner releases it with usp_msg_free(). We chose the
 * generated structs over a parallel "friendly" struct so that the codec
 * never copies field by field, the JSON mapping can be generic over
 * descriptors, and the controller and the simulator share one shape.
 *
 * The type of a message is taken from its body, not from the header's
 * msg_type (the body wins, R-MSG.10).
 */
#ifndef USPC_USP_MSG_H
#define USPC_USP_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "usp-msg.pb-c.h"
#include "usp_err.h"
#include "usp_pb.h"

#define USP_MSG_ID_MAX_LEN 128

/*
 * X(TYPE, body: 'q' request / 'r' response / 'e' error, the body member's
 * field number as protoc-c names it (the oneof's *_case value), "json name")
 */
#define USP_MSG_TYPES(X)                                                                       \
	X(ERROR, 'e', USP__BODY__MSG_BODY_ERROR, "error")                                      \
	X(GET, 'q', USP__REQUEST__REQ_TYPE_GET, "get")                                         \
	X(GET_RESP, 'r', USP__RESPONSE__RESP_TYPE_GET_RESP, "get_resp")                        \
	X(NOTIFY, 'q', USP__REQUEST__REQ_TYPE_NOTIFY, "notify")                                \
	X(SET, 'q', USP__REQUEST__REQ_TYPE_SET, "set")                                         \
	X(SET_RESP, 'r', USP__RESPONSE__RESP_TYPE_SET_RESP, "set_resp")                        \
	X(OPERATE, 'q', USP__REQUEST__REQ_TYPE_OPERATE, "operate")                             \
	X(OPERATE_RESP, 'r', USP__RESPONSE__RESP_TYPE_OPERATE_RESP, "operate_resp")            \
	X(ADD, 'q', USP__REQUEST__REQ_TYPE_ADD, "add")                                         \
	X(ADD_RESP, 'r', USP__RESPONSE__RESP_TYPE_ADD_RESP, "add_resp")                        \
	X(DELETE, 'q', USP__REQUEST__REQ_TYPE_DELETE, "delete")                                \
	X(DELETE_RESP, 'r', USP__RESPONSE__RESP_TYPE_DELETE_RESP, "delete_resp")               \
	X(GET_SUPPORTED_DM, 'q', USP__REQUEST__REQ_TYPE_GET_SUPPORTED_DM, "get_supported_dm")  \
	X(GET_SUPPORTED_DM_RESP, 'r', USP__RESPONSE__RESP_TYPE_GET_SUPPORTED_DM_RESP,          \
	  "get_supported_dm_resp")                                                             \
	X(GET_INSTANCES, 'q', USP__REQUEST__REQ_TYPE_GET_INSTANCES, "get_instances")           \
	X(GET_INSTANCES_RESP, 'r', USP__RESPONSE__RESP_TYPE_GET_INSTANCES_RESP,                \
	  "get_instances_resp")                                                                \
	X(NOTIFY_RESP, 'r', USP__RESPONSE__RESP_TYPE_NOTIFY_RESP, "notify_resp")               \
	X(GET_SUPPORTED_PROTO, 'q', USP__REQUEST__REQ_TYPE_GET_SUPPORTED_PROTOCOL,             \
	  "get_supported_protocol")                                                            \
	X(GET_SUPPORTED_PROTO_RESP, 'r', USP__RESPONSE__RESP_TYPE_GET_SUPPORTED_PROTOCOL_RESP, \
	  "get_supported_protocol_resp")                                                       \
	X(REGISTER, 'q', USP__REQUEST__REQ_TYPE_REGISTER, "register")                          \
	X(REGISTER_RESP, 'r', USP__RESPONSE__RESP_TYPE_REGISTER_RESP, "register_resp")         \
	X(DEREGISTER, 'q', USP__REQUEST__REQ_TYPE_DEREGISTER, "deregister")                    \
	X(DEREGISTER_RESP, 'r', USP__RESPONSE__RESP_TYPE_DEREGISTER_RESP, "deregister_resp")

#define USP_MSG_TYPE_INVALID ((Usp__Header__MsgType)-1)

/* Ways a Msg can be rejected: USP_MSG_E_* (USP_MSG_ERRORS in usp_err.h). */
const char *usp_msg_error_name(int code);

/*
 * Decode and validate a Msg: header with a non-empty msg_id of at most
 * USP_MSG_ID_MAX_LEN bytes of valid UTF-8, a body with exactly one of request/response/
 * error, and the request/response selecting one message.
 * On success returns 0 and *out owns the message.
 * On USP_MSG_E_EMPTY_BODY (a malformed oneof, R-ENC.5) *out is STILL set so
 * the caller can answer Error 7004 with its msg_id; the caller frees it.
 * On any other error *out is NULL.
 */
int usp_msg_decode(const uint8_t *buf, size_t len, Usp__Msg **out, struct uspc_err *err);
/* Pack; *out is malloc'd (caller frees). */
int usp_msg_encode(const Usp__Msg *msg, uint8_t **out, size_t *out_len);
void usp_msg_free(Usp__Msg *msg);

/* Type from the body; USP_MSG_TYPE_INVALID if the body selects nothing. */
Usp__Header__MsgType usp_msg_type(const Usp__Msg *msg);
/* "get", "get_resp", ... (the JSON name); "unknown" if out of range. */
const char *usp_msg_type_name(Usp__Header__MsgType type);
/* Inverse of usp_msg_type_name; USP_MSG_TYPE_INVALID if unknown. */
Usp__Header__MsgType usp_msg_type_from_name(const char *name);
int usp_msg_type_is_request(Usp__Header__MsgType type);
int usp_msg_type_is_response(Usp__Header__MsgType type);
/* The response type that answers a request type ("get" → "get_resp");
 * USP_MSG_TYPE_INVALID when the type is not a request with a response. */
Usp__Header__MsgType usp_msg_response_type(Usp__Header__MsgType request);

/* The inner message selected by the body (e.g. the Usp__Get), or NULL. */
ProtobufCMessage *usp_msg_payload(const Usp__Msg *msg);
const char *usp_msg_id(const Usp__Msg *msg);

/*
 * New heap Msg with header (msg_id copied, msg_type set) and the body shell
 * for type: for GET, msg->body->request->get exists, initialised and empty.
 * Fill it with the generated fields and the usp_pb_* helpers.
 */
Usp__Msg *usp_msg_new(const char *msg_id, Usp__Header__MsgType type);

/* Convenience builders (all copy their arguments). */
Usp__Msg *usp_msg_new_error(const char *msg_id, uint32_t err_code, const char *err_msg);
/* USPC_E_INVAL if error_msg is not an Error, USPC_E_NOMEM. */
int usp_msg_error_add_param(Usp__Msg *error_msg, const char *path, uint32_t err_code,
			    const char *err_msg);
Usp__Msg *usp_msg_new_notify_resp(const char *msg_id, const char *subscription_id);
Usp__Msg *usp_msg_new_get(const char *msg_id, const char *const *paths, size_t n_paths,
			  uint32_t max_depth);

/*
 * Message ID generator: "<prefix>-<counter>" where the prefix encodes the
 * caller's random 64-bit value and start time, so IDs are not reused after a
 * restart. Not thread-safe: one generator per owner thread.
 */
struct usp_msgid_gen {
	char prefix[40];
	uint64_t counter;
};
void usp_msgid_init(struct usp_msgid_gen *g, const char *tag, uint64_t random, uint64_t start_time);
/* Writes the next ID into buf (cap >= 64 is always enough). */
void usp_msgid_next(struct usp_msgid_gen *g, char *buf, size_t cap);
/* The same with 64 random bits of the caller's (a CSPRNG) appended, so an
 * ID cannot be guessed from earlier ones: "<prefix>-<n>-<16 hex>"
 * (cap >= 72 is always enough). */
void usp_msgid_next_random(struct usp_msgid_gen *g, uint64_t random, char *buf, size_t cap);

#endif
