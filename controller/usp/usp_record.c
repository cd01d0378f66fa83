/*
 * usp_record.c — USP Record wrap/unwrap. Owns the validation rules applied
 * to every inbound Record (size cap, version, endpoint IDs, record type,
 * payload) and the three Record kinds uspc builds: NoSessionContext (carrying
 * a Msg), MQTTConnect and Disconnect. Pure: no I/O, no globals, any thread.
 */
#include "usp_record.h"
#include "usp_pb.h"

#include <stdlib.h>
#include <string.h>

static const char *const record_error_names[] = {
#define USP_REC_NAME_(ident, name, text) name,
	USP_RECORD_ERRORS(USP_REC_NAME_)
#undef USP_REC_NAME_
};

int usp_record_error_index(int code)
{
	if (code <= USP_RECORD_E_BASE_ || code >= USP_RECORD_E_END_)
		return -1;
	return code - USP_RECORD_E_BASE_ - 1;
}

const char *usp_record_error_name(int code)
{
	int i = usp_record_error_index(code);
	return i < 0 ? "unknown" : record_error_names[i];
}

void usp_record_free(UspRecord__Record *rec)
{
	if (rec)
		usp_record__record__free_unpacked(rec, NULL);
}

/* "1.x" where x is one or more digits. */
static int version_ok(const char *v)
{
	if (!v || v[0] != '1' || v[1] != '.' || v[2] == '\0')
		return 0;
	for (const char *p = v + 2; *p; p++)
		if (*p < '0' || *p > '9' || p - v > 8)
			return 0;
	return 1;
}

/* Printable ASCII without space: a superset of the TR-369 endpoint ID syntax. */
static int eid_chars_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

static int get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t r = 0;
	for (unsigned shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;
		r |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = r;
			return 0;
		}
	}
	return -1;
}

/*
 * Wire length of the last occurrence (the one protobuf-c keeps) of the
 * top-level length-delimited field `field`, or -1. protobuf-c stores strings
 * NUL-terminated without their length, so this bounded walk over the raw
 * bytes is how an embedded NUL, which would silently shorten an ID, is seen.
 */
static long raw_field_len(const uint8_t *p, size_t len, uint32_t field)
{
	const uint8_t *end = p + len;
	long found = -1;
	while (p < end) {
		uint64_t tag, n;
		if (get_varint(&p, end, &tag) < 0)
			return -1;
		switch (tag & 7) {
		case 0:
			if (get_varint(&p, end, &n) < 0)
				return -1;
			break;
		case 1:
		case 5:
			n = (tag & 7) == 1 ? 8 : 4;
			if (n > (uint64_t)(end - p))
				return -1;
			p += n;
			break;
		case 2:
			if (get_varint(&p, end, &n) < 0 || n > (uint64_t)(end - p))
				return -1;
			if (tag >> 3 == field)
				found = (long)n;
			p += n;
			break;
		default:
			return -1;
		}
	}
	return found;
}

static int check_eid(const char *what, const char *eid, uint32_t field, const uint8_t *buf,
		     size_t len, struct uspc_err *err)
{
	if (!eid_chars_ok(eid))
		return uspc_err_set(err, USP_RECORD_E_BAD_EID,
				    "%s contains a byte outside printable ASCII", what);
	if (raw_field_len(buf, len, field) != (long)strlen(eid))
		return uspc_err_set(err, USP_RECORD_E_BAD_EID, "%s contains a NUL byte", what);
	return 0;
}

static int validate(const UspRecord__Record *rec, struct uspc_err *err)
{
	if (!version_ok(rec->version))
		return uspc_err_set(err, USP_RECORD_E_BAD_VERSION,
				    "unsupported record version '%.16s'",
				    rec->version ? rec->version : "");
	if (!rec->to_id || !rec->to_id[0])
		return uspc_err_set(err, USP_RECORD_E_NO_TO_ID, "record has no to_id");
	if (!rec->from_id || !rec->from_id[0])
		return uspc_err_set(err, USP_RECORD_E_NO_FROM_ID, "record has no from_id");
	if (strlen(rec->to_id) > USP_EID_MAX_LEN || strlen(rec->from_id) > USP_EID_MAX_LEN)
		return uspc_err_set(err, USP_RECORD_E_EID_TOO_LONG,
				    "endpoint ID longer than %d bytes", USP_EID_MAX_LEN);
	if (rec->payload_security != USP_RECORD__RECORD__PAYLOAD_SECURITY__PLAINTEXT &&
	    rec->payload_security != USP_RECORD__RECORD__PAYLOAD_SECURITY__TLS12)
		return uspc_err_set(err, USP_RECORD_E_BAD_PAYLOAD_SECURITY,
				    "unknown payload_security %d", (int)rec->payload_security);
	switch (rec->record_type_case) {
	case USP_RECORD__RECORD__RECORD_TYPE_NO_SESSION_CONTEXT:
		if (!rec->no_session_context || rec->no_session_context->payload.len == 0)
			return uspc_err_set(err, USP_RECORD_E_EMPTY_PAYLOAD,
					    "no_session_context record with empty payload");
		return 0;
	case USP_RECORD__RECORD__RECORD_TYPE_SESSION_CONTEXT:
	case USP_RECORD__RECORD__RECORD_TYPE_WEBSOCKET_CONNECT:
	case USP_RECORD__RECORD__RECORD_TYPE_MQTT_CONNECT:
	case USP_RECORD__RECORD__RECORD_TYPE_STOMP_CONNECT:
	case USP_RECORD__RECORD__RECORD_TYPE_DISCONNECT:
	case USP_RECORD__RECORD__RECORD_TYPE_UDS_CONNECT:
		return 0;
	default:
		return uspc_err_set(err, USP_RECORD_E_NO_RECORD_TYPE,
				    "record carries no record type");
	}
}

int usp_record_unwrap(const uint8_t *buf, size_t len, const struct usp_record_limits *limits,
		      UspRecord__Record **out, struct uspc_err *err)
{
	size_t cap = limits && limits->max_record_size ? limits->max_record_size
						       : USP_RECORD_DEFAULT_MAX_SIZE;
	*out = NULL;
	if (len > cap)
		return uspc_err_set(err, USP_RECORD_E_TOO_LARGE,
				    "record of %zu bytes exceeds cap of %zu", len, cap);
	UspRecord__Record *rec = usp_record__record__unpack(NULL, len, buf);
	if (!rec)
		return uspc_err_set(err, USP_RECORD_E_UNDECODABLE,
				    "record could not be decoded (%zu bytes)", len);
	int rc = usp_pb_check_unknown(&rec->base) < 0
			 ? uspc_err_set(err, USP_RECORD_E_UNDECODABLE,
					"record carries field number 0")
			 : validate(rec, err);
	if (rc == 0)
		rc = check_eid("to_id", rec->to_id, 2, buf, len, err);
	if (rc == 0)
		rc = check_eid("from_id", rec->from_id, 3, buf, len, err);
	if (rc < 0) {
		usp_record__record__free_unpacked(rec, NULL);
		return rc;
	}
	*out = rec;
	return 0;
}

int usp_pack(const ProtobufCMessage *m, uint8_t **out, size_t *out_len)
{
	size_t need = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(need ? need : 1);
	if (!buf)
		return USPC_E_NOMEM;
	size_t got = protobuf_c_message_pack(m, buf);
	if (got != need) {
		free(buf);
		return USPC_E_ENCODE;
	}
	*out = buf;
	*out_len = got;
	return 0;
}

static void record_init(UspRecord__Record *rec, const char *to_id, const char *from_id)
{
	usp_record__record__init(rec);
	rec->version = (char *)USP_RECORD_VERSION;
	rec->to_id = (char *)to_id;
	rec->from_id = (char *)from_id;
	rec->payload_security = USP_RECORD__RECORD__PAYLOAD_SECURITY__PLAINTEXT;
}

int usp_record_wrap_msg(const char *to_id, const char *from_id, const uint8_t *msg, size_t msg_len,
			uint8_t **out, size_t *out_len)
{
	UspRecord__Record rec;
	UspRecord__NoSessionContextRecord nsc;
	record_init(&rec, to_id, from_id);
	usp_record__no_session_context_record__init(&nsc);
	nsc.payload.data = (uint8_t *)msg;
	nsc.payload.len = msg_len;
	rec.record_type_case = USP_RECORD__RECORD__RECORD_TYPE_NO_SESSION_CONTEXT;
	rec.no_session_context = &nsc;
	return usp_pack(&rec.base, out, out_len);
}

int usp_record_build_mqtt_connect(const char *to_id, const char *from_id, int mqtt_v5,
				  const char *subscribed_topic, uint8_t **out, size_t *out_len)
{
	UspRecord__Record rec;
	UspRecord__MQTTConnectRecord mc;
	record_init(&rec, to_id, from_id);
	usp_record__mqttconnect_record__init(&mc);
	mc.version = mqtt_v5 ? USP_RECORD__MQTTCONNECT_RECORD__MQTTVERSION__V5
			     : USP_RECORD__MQTTCONNECT_RECORD__MQTTVERSION__V3_1_1;
	mc.subscribed_topic = (char *)subscribed_topic;
	rec.record_type_case = USP_RECORD__RECORD__RECORD_TYPE_MQTT_CONNECT;
	rec.mqtt_connect = &mc;
	return usp_pack(&rec.base, out, out_len);
}

int usp_record_build_disconnect(const char *to_id, const char *from_id, const char *reason,
				uint32_t reason_code, uint8_t **out, size_t *out_len)
{
	UspRecord__Record rec;
	UspRecord__DisconnectRecord dc;
	record_init(&rec, to_id, from_id);
	usp_record__disconnect_record__init(&dc);
	dc.reason = (char *)(reason ? reason : "");
	dc.reason_code = reason_code;
	rec.record_type_case = USP_RECORD__RECORD__RECORD_TYPE_DISCONNECT;
	rec.disconnect = &dc;
	return usp_pack(&rec.base, out, out_len);
}
