/*
 * usp_json.h — the JSON form of USP messages: what uspctl reads and prints
 * and what the store keeps (task requests, results). One generic walker over
 * protobuf-c descriptors covers every message of usp-msg.proto and
 * usp-record.proto; docs/json.md is the normative description of the shape.
 *
 * Mapping (message -> JSON), in short:
 *  - keys are the .proto field names; a field holding its proto3 default
 *    ("" / 0 / false / enum value 0 / empty list / empty bytes / absent
 *    sub-message) is omitted, with no exception (err_code 0 is omitted too);
 *  - a present sub-message is written even when empty ({}), and the selected
 *    member of a oneof is always written (even "" or 0): presence matters;
 *  - repeated -> array; map<string,V> -> object (wire order kept);
 *  - enum -> its value name ("OBJ_ADD_DELETE"), a number if unknown;
 *  - bytes -> standard base64 with padding;
 *  - 64-bit integers -> number when |v| < 10^15, else decimal string
 *    (cJSON prints only 15 exact digits; input takes numbers up to 2^53);
 *  - strings with invalid UTF-8 are written with U+FFFD replacements.
 * JSON -> message is strict: unknown keys, repeated keys, wrong JSON types,
 * non-integers, out-of-range numbers, unknown enum names, two members of one
 * oneof, invalid UTF-8 / base64 and exceeded limits are errors whose message
 * starts with the JSON path, e.g.
 *   "create_objs[1].param_settings[0].value: expected string".
 * JSON null is accepted for any field and means "absent".
 *
 * Pure: no I/O, no globals besides constant tables; any thread.
 * Every message built here is malloc'd throughout and is released with
 * usp_msg_free() / protobuf_c_message_free_unpacked(m, NULL).
 */
#ifndef USPC_USP_JSON_H
#define USPC_USP_JSON_H

#include <cjson/cJSON.h>
#include <protobuf-c/protobuf-c.h>

#include "usp_err.h"
#include "usp_msg.h"

/* Limits on JSON input (untrusted: operator lines, stored rows). */
#define USP_JSON_MAX_DEPTH 32            /* nested objects + arrays */
#define USP_JSON_MAX_ITEMS 100000        /* elements of one array / entries of one map */
#define USP_JSON_MAX_STRING 65536        /* bytes of one string or map key */
#define USP_JSON_MAX_BYTES_B64 (1 << 20) /* base64 characters of one bytes field */

/* Ways JSON input can be rejected: USP_JSON_E_* (USP_JSON_ERRORS in usp_err.h). */
/* Short name of a USP_JSON_E_* code ("json_wrong_type"), "unknown" otherwise. */
const char *usp_json_error_name(int code);

/*
 * Any message (a Msg, a Record, or an inner payload such as a Usp__GetResp)
 * to a new cJSON object. m is borrowed. Returns NULL only on allocation
 * failure (or m == NULL). Caller: cJSON_Delete().
 */
cJSON *usp_json_from_message(const ProtobufCMessage *m);

/*
 * The compact form used for results and stored requests:
 *   {"type":"get_resp","msg_id":"id-1", ...fields of the GetResp...}
 * type names come from usp_msg_type_name(). msg is borrowed; NULL when the
 * body selects no message, or on allocation failure. Caller: cJSON_Delete().
 */
cJSON *usp_json_from_msg_payload(const Usp__Msg *msg);

/*
 * Strict JSON -> message of descriptor d. j is borrowed. On success *out is
 * a new heap message (caller: protobuf_c_message_free_unpacked(*out, NULL));
 * on failure *out is NULL, nothing leaks, and err names the JSON path.
 */
int usp_json_to_message(const ProtobufCMessageDescriptor *d, const cJSON *j, ProtobufCMessage **out,
			struct uspc_err *err);

/*
 * Build a full request Msg (header with msg_id and msg_type, body) of the
 * named request type — get, set, add, delete, operate, get_supported_dm,
 * get_instances, get_supported_protocol, notify, register, deregister —
 * from args, the object of the payload's fields, e.g. for "get"
 *   {"param_paths":["Device.DeviceInfo."],"max_depth":2}.
 * args may be NULL (all fields default). Response and error types are
 * rejected. msg_id: 1..USP_MSG_ID_MAX_LEN bytes of UTF-8, copied.
 * On success *out is a new Msg (caller: usp_msg_free); on failure NULL.
 */
int usp_json_build_request(const char *type_name, const cJSON *args, const char *msg_id,
			   Usp__Msg **out, struct uspc_err *err);

/*
 * Inverse of usp_json_from_msg_payload(): the compact form of any type
 * (request, response or error; "type" and "msg_id" required) to a full Msg.
 * On success *out is a new Msg (caller: usp_msg_free); on failure NULL.
 */
int usp_json_to_msg_payload(const cJSON *j, Usp__Msg **out, struct uspc_err *err);

#endif
