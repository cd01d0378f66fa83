/*
 * usp_err.h — error reporting shared by every uspc layer: struct uspc_err,
 * every internal error code of every module (one list each, below), one
 * lookup that names any of them, and the table of TR-369 error codes (wire
 * values 7000-7031, 7100-7106).
 *
 * Functions return int: 0 on success, a negative value on failure. Details
 * go into a caller-owned struct uspc_err (never a global).
 *
 * Internal codes are negative and each module keeps its own range, so a
 * code says which layer failed and uspc_err_name() / uspc_strerror() (the
 * model is libuv's uv_err_name / uv_strerror) turn any of them into text.
 * A module's codes count up from its BASE_ (STORE_E_BASE_ = -600, so
 * STORE_E_DB is -599); the generic ones count down from -1:
 *
 *      -1 ..  -49  USPC_E_*        generic: no module's own (out of memory, ...)
 *     -99 ..  -50  USP_RECORD_E_*  a USP Record rejected       (usp_record.h)
 *    -199 .. -101  USP_MSG_E_*     a USP Msg rejected          (usp_msg.h)
 *    -299 .. -201  USP_PATH_E_*    a malformed data-model path (usp_path.h)
 *    -399 .. -301  USPCTL_E_*      uspctl's result lines       (uspctl_cmd.h)
 *    -499 .. -401  USP_JSON_E_*    JSON input rejected         (usp_json.h)
 *    -599 .. -501  STORE_E_*       PostgreSQL store            (store_conn.h)
 *    -699 .. -601  MQTT_MTP_E_*    MQTT transport              (mqtt_mtp.h)
 *    7000 .. 7999  USP_ERR_*       TR-369 wire codes: only in struct uspc_err
 *                                  and Error messages, never returned
 *
 * The lists live here, not in the modules' headers, so that this one
 * lookup sees every code without the codec depending on the store or the
 * transport; each module's header says which of them it returns. Codes
 * are numbered by their place in their list: add new ones at the end, so
 * a number once logged keeps its meaning.
 */
#ifndef USPC_USP_ERR_H
#define USPC_USP_ERR_H

#include <stddef.h>
#include <stdint.h>

struct uspc_err {
	int code;      /* negative internal code, or a USP wire code (7xxx) */
	char msg[256]; /* human-readable detail, always NUL-terminated */
};

/* Fill err (if non-NULL) and return code when it is negative, else
 * USPC_E_FAILED (-1). err->code is code, or USPC_E_FAILED when code is
 * neither negative nor a wire code (7xxx). */
int uspc_err_set(struct uspc_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void uspc_err_clear(struct uspc_err *err);

/* Generic codes: X(IDENT, value, "text"). USPC_E_FAILED is what a caller
 * gets when nothing more precise is known (err->msg then says why). */
#define USPC_ERRORS(X)                                            \
	X(FAILED, -1, "operation failed")                         \
	X(NOMEM, -2, "out of memory")                             \
	X(INVAL, -3, "invalid argument")                          \
	X(TOOLONG, -4, "result does not fit its buffer or limit") \
	X(SYS, -5, "system call failed")                          \
	X(NOTFOUND, -6, "no such entry")                          \
	X(EXISTS, -7, "entry already present")                    \
	X(FULL, -8, "table full")                                 \
	X(STATE, -9, "not possible in the current state")         \
	X(ENCODE, -10, "protobuf encoding failed")                \
	X(CONFIG, -11, "invalid configuration")

enum uspc_error {
#define USPC_E_(ident, value, text) USPC_E_##ident = value,
	USPC_ERRORS(USPC_E_)
#undef USPC_E_
};

/* Module codes: X(IDENT, "short name", "text"), numbered upwards from the
 * module's BASE_. The short names are what the modules already report in
 * counters and result lines (usp_record_error_name(), store_error_name(),
 * uspctl's error.code); the texts are what uspc_strerror() returns. */

/* Every way a Record can be rejected, one code each so callers can count them. */
#define USP_RECORD_ERRORS(X)                                                                  \
	X(TOO_LARGE, "record_too_large", "record exceeds the size limit")                     \
	X(UNDECODABLE, "record_undecodable", "record is not a decodable protobuf")            \
	X(BAD_VERSION, "record_bad_version", "record version is not 1.x")                     \
	X(NO_TO_ID, "record_no_to_id", "record has no to_id")                                 \
	X(NO_FROM_ID, "record_no_from_id", "record has no from_id")                           \
	X(EID_TOO_LONG, "record_eid_too_long", "record endpoint ID is too long")              \
	X(NO_RECORD_TYPE, "record_no_record_type", "record has no record type or no payload") \
	X(EMPTY_PAYLOAD, "record_empty_payload", "record payload is empty")                   \
	X(BAD_PAYLOAD_SECURITY, "record_bad_payload_security",                                \
	  "record payload_security is not a known value")                                     \
	X(BAD_EID, "record_bad_eid", "record endpoint ID has a byte outside printable ASCII")

enum usp_record_error {
	USP_RECORD_E_BASE_ = -100,
#define USP_RECORD_E_(ident, name, text) USP_RECORD_E_##ident,
	USP_RECORD_ERRORS(USP_RECORD_E_)
#undef USP_RECORD_E_
		USP_RECORD_E_END_
};

/* Ways a Msg can be rejected. */
#define USP_MSG_ERRORS(X)                                                          \
	X(UNDECODABLE, "msg_undecodable", "message is not a decodable protobuf")   \
	X(NO_HEADER, "msg_no_header", "message has no header")                     \
	X(NO_MSG_ID, "msg_no_msg_id", "message has no msg_id")                     \
	X(MSG_ID_TOO_LONG, "msg_id_too_long", "message msg_id is too long")        \
	X(MSG_ID_NOT_UTF8, "msg_id_not_utf8", "message msg_id is not valid UTF-8") \
	X(NO_BODY, "msg_no_body", "message has no body")                           \
	X(EMPTY_BODY, "msg_empty_body", "message body selects no request or response")

enum usp_msg_error {
	USP_MSG_E_BASE_ = -200,
#define USP_MSG_E_(ident, name, text) USP_MSG_E_##ident,
	USP_MSG_ERRORS(USP_MSG_E_)
#undef USP_MSG_E_
		USP_MSG_E_END_
};

/* One code per malformed path form (the text is also usp_path_error_text()). */
#define USP_PATH_ERRORS(X)                                                                      \
	X(EMPTY, "path_empty", "path is empty")                                                 \
	X(TOO_LONG, "path_too_long", "path exceeds the maximum length")                         \
	X(TOO_MANY_SEGMENTS, "path_too_many_segments", "path has too many segments")            \
	X(NOT_DEVICE_ROOT, "path_not_device_root", "path does not start with 'Device.'")        \
	X(EMPTY_SEGMENT, "path_empty_segment", "path has an empty segment ('..')")              \
	X(BAD_NAME, "path_bad_name", "segment name has an invalid character")                   \
	X(BAD_INSTANCE, "path_bad_instance", "instance number is zero, too large or malformed") \
	X(UNTERMINATED_EXPR, "path_unterminated_expr", "search expression lacks ']'")           \
	X(EMPTY_EXPR, "path_empty_expr", "search expression is empty")                          \
	X(BAD_EXPR_PARAM, "path_bad_expr_param",                                                \
	  "search expression has an invalid parameter name")                                    \
	X(BAD_OPERATOR, "path_bad_operator", "search expression has no valid operator")         \
	X(BAD_VALUE, "path_bad_value", "search expression value is malformed")                  \
	X(TOO_MANY_CONDS, "path_too_many_conds", "search expression has too many conditions")   \
	X(MISPLACED_SELECTOR, "path_misplaced_selector",                                        \
	  "instance selector follows a non-object name")                                        \
	X(TRAILING_TEXT, "path_trailing_text", "text follows a command or event name")          \
	X(BAD_COMMAND, "path_bad_command", "command or event name is malformed")                \
	X(UNTERMINATED_SELECTOR, "path_unterminated_selector",                                  \
	  "instance selector is not followed by '.'")                                           \
	X(NO_MEMORY, "path_no_memory", "out of memory")

enum usp_path_error {
	USP_PATH_E_BASE_ = -300,
#define USP_PATH_E_(ident, name, text) USP_PATH_E_##ident,
	USP_PATH_ERRORS(USP_PATH_E_)
#undef USP_PATH_E_
		USP_PATH_E_END_
};

/* uspctl's result lines: the short name is error.code (docs/uspctl.md). */
#define USPCTL_ERRORS(X)                                                                     \
	X(MALFORMED_JSON, "malformed_json", "the line is not one JSON object")               \
	X(LINE_TOO_LONG, "line_too_long", "the line is too long")                            \
	X(BAD_FIELD, "bad_field", "a missing, unknown or ill-typed field")                   \
	X(UNKNOWN_OP, "unknown_op", "unknown op")                                            \
	X(INVALID_PATH, "invalid_path", "invalid USP path")                                  \
	X(BAD_TARGETS, "bad_targets", "targets is not an Endpoint ID, a list or a selector") \
	X(UNKNOWN_AGENT, "unknown_agent", "an Endpoint ID not in the inventory")             \
	X(NO_TARGETS, "no_targets", "the selector matched no agent")                         \
	X(TIMEOUT, "timeout", "no result within the timeout")                                \
	X(EXPIRED, "expired", "the task expired before it was sent")                         \
	X(CANCELED, "canceled", "the task was canceled before it was sent")                  \
	X(OUTCOME_UNKNOWN, "outcome_unknown", "the task's outcome is unknown")               \
	X(USP_ERROR, "usp_error", "the agent answered with a USP Error")                     \
	X(DATABASE, "database_error", "the database refused a statement or is unreachable")  \
	X(TASK_FAILED, "task_failed", "the daemon gave up on the task")                      \
	X(UNKNOWN_TASK, "unknown_task", "no such task id")                                   \
	X(NOT_CANCELABLE, "not_cancelable", "the task was already sent or finished")         \
	X(INTERNAL, "internal_error", "internal error")                                      \
	X(UNKNOWN_CAMPAIGN, "unknown_campaign", "no such campaign")                          \
	X(CAMPAIGN_EXISTS, "campaign_exists", "a campaign with that name exists")            \
	X(CAMPAIGN_CONFLICT, "campaign_conflict", "a target is in another active campaign")  \
	X(CAMPAIGN_STATE, "campaign_state", "the campaign's state does not allow the op")    \
	X(UNKNOWN_PROFILE, "unknown_profile", "no such profile")                             \
	X(PROFILE_CONFLICT, "profile_conflict",                                              \
	  "another profile with the same priority names the same path")                      \
	X(TOKEN_EXISTS, "token_exists", "a live API token with that name exists")            \
	X(UNKNOWN_TOKEN, "unknown_token", "no live API token with that id or name")

enum uspctl_error {
	USPCTL_E_BASE_ = -400,
#define USPCTL_E_(ident, name, text) USPCTL_E_##ident,
	USPCTL_ERRORS(USPCTL_E_)
#undef USPCTL_E_
		USPCTL_E_END_
};

/* Ways JSON input can be rejected. */
#define USP_JSON_ERRORS(X)                                                        \
	X(NOMEM, "json_nomem", "out of memory")                                   \
	X(BAD_TYPE_NAME, "json_bad_type_name", "unknown message type name")       \
	X(BAD_MSG_ID, "json_bad_msg_id", "msg_id missing, empty or too long")     \
	X(UNKNOWN_KEY, "json_unknown_key", "unknown key")                         \
	X(DUPLICATE_KEY, "json_duplicate_key", "duplicate key")                   \
	X(WRONG_TYPE, "json_wrong_type", "value of the wrong JSON type")          \
	X(RANGE, "json_out_of_range", "number out of range")                      \
	X(BAD_ENUM, "json_bad_enum", "unknown enum value")                        \
	X(ONEOF, "json_oneof_conflict", "more than one member of a oneof")        \
	X(BAD_STRING, "json_bad_string", "string is not valid UTF-8 or too long") \
	X(BAD_BASE64, "json_bad_base64", "bytes value is not valid base64")       \
	X(LIMIT, "json_limit_exceeded", "nesting, item or size limit exceeded")

enum usp_json_error {
	USP_JSON_E_BASE_ = -500,
#define USP_JSON_E_(ident, name, text) USP_JSON_E_##ident,
	USP_JSON_ERRORS(USP_JSON_E_)
#undef USP_JSON_E_
		USP_JSON_E_END_
};

/* The PostgreSQL store (struct uspc_err.code carries them). */
#define STORE_ERRORS(X)                                                            \
	X(DB, "db", "PostgreSQL rejected a statement")                             \
	X(CONN, "conn", "could not connect, or the connection was lost")           \
	X(FULL, "full", "bounded queue full: retry later")                         \
	X(ARG, "arg", "invalid argument (NULL, too long, bad JSON, ...)")          \
	X(NOMEM, "nomem", "out of memory")                                         \
	X(SCHEMA, "schema", "database schema is newer than this build, or broken") \
	X(NOTFOUND, "notfound", "no such agent or task")                           \
	X(STOPPED, "stopped", "the writer or feeder is stopping")                  \
	X(TIMEOUT, "timeout", "a wait timed out")                                  \
	X(BUSY, "busy", "held by another live session")                            \
	X(EXISTS, "exists", "already exists (a unique name is taken)")

enum store_error {
	STORE_E_BASE_ = -600,
#define STORE_E_(ident, name, text) STORE_E_##ident,
	STORE_ERRORS(STORE_E_)
#undef STORE_E_
		STORE_E_END_
};

/* The MQTT transport. */
#define MQTT_MTP_ERRORS(X)                                                    \
	X(INVAL, "inval", "bad argument or configuration")                    \
	X(NOMEM, "nomem", "out of memory")                                    \
	X(BUSY, "busy", "out-queue full: keep the message, retry after wake") \
	X(STATE, "state", "not started, or stopping/stopped")                 \
	X(PAHO, "paho", "Paho refused the call")                              \
	X(TOOBIG, "toobig", "payload above max_payload, or topic too long")   \
	X(TIMEOUT, "timeout", "window not drained in time")                   \
	X(SYS, "sys", "eventfd, socket or thread creation failed")

enum mqtt_mtp_error {
	MQTT_MTP_E_BASE_ = -700,
#define MQTT_MTP_E_(ident, name, text) MQTT_MTP_E_##ident,
	MQTT_MTP_ERRORS(MQTT_MTP_E_)
#undef MQTT_MTP_E_
		MQTT_MTP_E_END_
};

/*
 * Any code to text, never NULL; the model is libuv's uv_err_name and
 * uv_strerror. uspc_err_name(STORE_E_CONN) is "STORE_E_CONN",
 * uspc_strerror(STORE_E_CONN) is "store: could not connect, or the
 * connection was lost"; 0 is "OK" / "success"; a wire code gives its
 * USP_ERR_* identifier and TR-369 text. A code that is in no list gives
 * "unknown error -N" in both.
 *
 * The _r forms return the constant text, or buf (len bytes, at least
 * USPC_ERR_BUFSZ to hold every number) filled with "unknown error -N".
 * uspc_err_name() and uspc_strerror() are those with a buffer in the
 * caller's block, so several can be used in one log line; no global state,
 * nothing to free.
 */
#define USPC_ERR_BUFSZ 32
const char *uspc_err_name_r(int code, char *buf, size_t len);
const char *uspc_strerror_r(int code, char *buf, size_t len);
#define uspc_err_name(code) uspc_err_name_r((code), (char[USPC_ERR_BUFSZ]){ 0 }, USPC_ERR_BUFSZ)
#define uspc_strerror(code) uspc_strerror_r((code), (char[USPC_ERR_BUFSZ]){ 0 }, USPC_ERR_BUFSZ)

/* X(code, IDENT, "name as in TR-369") — one list, so codes and texts stay in step. */
#define USP_ERROR_CODES(X)                                                      \
	X(7000, MESSAGE_FAILED, "Message failed")                               \
	X(7001, MESSAGE_NOT_SUPPORTED, "Message not supported")                 \
	X(7002, REQUEST_DENIED, "Request denied")                               \
	X(7003, INTERNAL_ERROR, "Internal error")                               \
	X(7004, INVALID_ARGUMENTS, "Invalid arguments")                         \
	X(7005, RESOURCES_EXCEEDED, "Resources exceeded")                       \
	X(7006, PERMISSION_DENIED, "Permission denied")                         \
	X(7007, INVALID_CONFIGURATION, "Invalid configuration")                 \
	X(7008, INVALID_PATH_SYNTAX, "Invalid path syntax")                     \
	X(7009, PARAM_ACTION_FAILED, "Parameter action failed")                 \
	X(7010, UNSUPPORTED_PARAM, "Unsupported parameter")                     \
	X(7011, INVALID_TYPE, "Invalid type")                                   \
	X(7012, INVALID_VALUE, "Invalid value")                                 \
	X(7013, PARAM_READ_ONLY, "Attempt to update non-writeable parameter")   \
	X(7014, VALUE_CONFLICT, "Value conflict")                               \
	X(7015, CRUD_FAILURE, "Error while processing object")                  \
	X(7016, OBJECT_DOES_NOT_EXIST, "Object does not exist")                 \
	X(7017, CREATION_FAILURE, "Object could not be created")                \
	X(7018, NOT_A_TABLE, "Object is not a table")                           \
	X(7019, OBJECT_NOT_CREATABLE, "Attempt to create non-creatable object") \
	X(7020, SET_FAILURE, "Object could not be updated")                     \
	X(7021, REQUIRED_PARAM_FAILED, "Required parameter failed")             \
	X(7022, COMMAND_FAILURE, "Command failure")                             \
	X(7023, COMMAND_CANCELLED, "Command canceled")                          \
	X(7024, OBJECT_NOT_DELETABLE, "Delete failure")                         \
	X(7025, UNIQUE_KEY_CONFLICT, "Object exists with duplicate key")        \
	X(7026, INVALID_PATH, "Invalid path")                                   \
	X(7027, INVALID_CMD_ARGS, "Invalid command arguments")                  \
	X(7028, REGISTER_FAILURE, "Register failure")                           \
	X(7029, PATH_ALREADY_REGISTERED, "Path already registered")             \
	X(7030, DEREGISTER_FAILURE, "Deregister failure")                       \
	X(7031, PATH_REGISTERED_BY_OTHER, "Path registered by other")           \
	X(7100, RECORD_NOT_PARSED, "Record could not be parsed")                \
	X(7101, SECURE_SESSION_REQUIRED, "Secure session required")             \
	X(7102, SECURE_SESSION_NOT_SUPPORTED, "Secure session not supported")   \
	X(7103, SEG_NOT_SUPPORTED, "Segmentation and reassembly not supported") \
	X(7104, RECORD_FIELD_INVALID, "Invalid Record value")                   \
	X(7105, SESSION_CONTEXT_TERMINATED, "Session context terminated")       \
	X(7106, SESSION_CONTEXT_NOT_ALLOWED, "Session context not allowed")

enum usp_error_code {
#define USP_ERR_ENUM_(code, ident, text) USP_ERR_##ident = code,
	USP_ERROR_CODES(USP_ERR_ENUM_)
#undef USP_ERR_ENUM_
};

/* Text for a wire code: the table entry, a range description for
 * 7200-7299 / 7800-7999, or "Unknown error code". Never NULL. */
const char *usp_err_text(uint32_t code);
/* Identifier (e.g. "INVALID_PATH") or NULL for codes outside the table. */
const char *usp_err_ident(uint32_t code);
/* True for codes a peer may legitimately send (table, 7200-7299, 7800-7999). */
int usp_err_is_known(uint32_t code);

#endif
