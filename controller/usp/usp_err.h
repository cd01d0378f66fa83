/*
 * usp_err.h — error reporting shared by every uspc layer, and the table of
 * TR-369 error codes (wire values 7000-7031, 7100-7106).
 *
 * Functions return int: 0 on success, a negative value on failure. Details
 * go into a caller-owned struct uspc_err (never a global).
 */
#ifndef USPC_USP_ERR_H
#define USPC_USP_ERR_H

#include <stdint.h>

struct uspc_err {
	int code;      /* negative internal code, or a USP wire code (7xxx) */
	char msg[256]; /* human-readable detail, always NUL-terminated */
};

/* Fill err (if non-NULL) and return -1 when code is not negative, else code. */
int uspc_err_set(struct uspc_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void uspc_err_clear(struct uspc_err *err);

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
