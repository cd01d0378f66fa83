/*
 * usp_record.h — USP Record wrap/unwrap (the MQTT payload).
 *
 * Decoded records are protobuf-c's own UspRecord__Record, heap-allocated by
 * protobuf-c and released with usp_record_free(). Built records come back as
 * packed bytes owned by the caller (free()).
 */
#ifndef USPC_USP_RECORD_H
#define USPC_USP_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "usp-record.pb-c.h"
#include "usp_err.h"

#define USP_RECORD_DEFAULT_MAX_SIZE (64u * 1024u)
#define USP_RECORD_VERSION "1.4" /* stamped in every Record we build */
#define USP_EID_MAX_LEN 256      /* cap on to_id / from_id we accept */

/* Every way a Record can be rejected has its own code: USP_RECORD_E_* (the
 * list is USP_RECORD_ERRORS in usp_err.h). */
#define USP_RECORD_ERROR_COUNT (USP_RECORD_E_END_ - USP_RECORD_E_BASE_ - 1)

/* Index 0..USP_RECORD_ERROR_COUNT-1 for a negative code, or -1. */
int usp_record_error_index(int code);
/* Short counter name for a code ("record_too_large"), "unknown" otherwise. */
const char *usp_record_error_name(int code);

struct usp_record_limits {
	size_t max_record_size; /* 0 means USP_RECORD_DEFAULT_MAX_SIZE */
};

/*
 * Decode and validate one record: size cap, protobuf decode, version "1.x",
 * non-empty to_id/from_id (each at most USP_EID_MAX_LEN bytes of printable
 * ASCII without space, and no embedded NUL), exactly one record type,
 * non-empty payload for no_session_context, known payload_security.
 * On success *out is a new record (caller: usp_record_free). On failure
 * returns one of enum usp_record_error, *out is NULL, err says why.
 * limits may be NULL (defaults).
 */
int usp_record_unwrap(const uint8_t *buf, size_t len, const struct usp_record_limits *limits,
		      UspRecord__Record **out, struct uspc_err *err);
void usp_record_free(UspRecord__Record *rec);

/* Builders: on success *out is malloc'd packed bytes (caller frees) and
 * *out_len their size. Strings are borrowed. */
int usp_record_wrap_msg(const char *to_id, const char *from_id, const uint8_t *msg, size_t msg_len,
			uint8_t **out, size_t *out_len);
int usp_record_build_mqtt_connect(const char *to_id, const char *from_id, int mqtt_v5,
				  const char *subscribed_topic, uint8_t **out, size_t *out_len);
int usp_record_build_disconnect(const char *to_id, const char *from_id, const char *reason,
				uint32_t reason_code, uint8_t **out, size_t *out_len);

/* Pack any protobuf-c message: size → allocate → pack → check. Caller frees.
 * USPC_E_NOMEM, or USPC_E_ENCODE when the packed size differs from the
 * computed one. */
int usp_pack(const ProtobufCMessage *m, uint8_t **out, size_t *out_len);

#endif
