/*
 * usp_msg.c — USP Msg decode with validation, encode, type mapping between
 * the header enum / body oneof / JSON names (one X-macro table in
 * usp_msg.h), generic builders and the msg_id generator. Pure: no I/O, no
 * globals besides constant tables; any thread.
 */
#include "usp_msg.h"
#include "usp_record.h"
#include "usp_utf8.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct type_row {
	Usp__Header__MsgType type;
	char body;      /* 'q' request, 'r' response, 'e' error */
	unsigned field; /* the member's *_case value in Request/Response/Body */
	const char *name;
};

static const struct type_row type_rows[] = {
#define USP_TYPE_ROW_(t, b, f, n) { USP__HEADER__MSG_TYPE__##t, b, f, n },
	USP_MSG_TYPES(USP_TYPE_ROW_)
#undef USP_TYPE_ROW_
};
#define N_TYPES (sizeof(type_rows) / sizeof(type_rows[0]))

static const char *const msg_error_names[] = {
#define USP_MSG_NAME_(ident, name, text) name,
	USP_MSG_ERRORS(USP_MSG_NAME_)
#undef USP_MSG_NAME_
};

const char *usp_msg_error_name(int code)
{
	if (code <= USP_MSG_E_BASE_ || code >= USP_MSG_E_END_)
		return "unknown";
	return msg_error_names[code - USP_MSG_E_BASE_ - 1];
}

static const struct type_row *row_of(Usp__Header__MsgType t)
{
	for (size_t i = 0; i < N_TYPES; i++)
		if (type_rows[i].type == t)
			return &type_rows[i];
	return NULL;
}

const char *usp_msg_type_name(Usp__Header__MsgType type)
{
	const struct type_row *r = row_of(type);
	return r ? r->name : "unknown";
}

Usp__Header__MsgType usp_msg_type_from_name(const char *name)
{
	for (size_t i = 0; name && i < N_TYPES; i++)
		if (strcmp(type_rows[i].name, name) == 0)
			return type_rows[i].type;
	return USP_MSG_TYPE_INVALID;
}

Usp__Header__MsgType usp_msg_response_type(Usp__Header__MsgType request)
{
	const struct type_row *r = row_of(request);
	char name[64];
	if (!r || r->body != 'q')
		return USP_MSG_TYPE_INVALID;
	snprintf(name, sizeof(name), "%s_resp", r->name);
	return usp_msg_type_from_name(name);
}

int usp_msg_type_is_request(Usp__Header__MsgType type)
{
	const struct type_row *r = row_of(type);
	return r && r->body == 'q';
}

int usp_msg_type_is_response(Usp__Header__MsgType type)
{
	const struct type_row *r = row_of(type);
	return r && r->body == 'r';
}

Usp__Header__MsgType usp_msg_type(const Usp__Msg *msg)
{
	if (!msg || !msg->body)
		return USP_MSG_TYPE_INVALID;
	const Usp__Body *b = msg->body;
	char body;
	unsigned field;
	switch (b->msg_body_case) {
	case USP__BODY__MSG_BODY_REQUEST:
		if (!b->request || b->request->req_type_case == USP__REQUEST__REQ_TYPE__NOT_SET)
			return USP_MSG_TYPE_INVALID;
		body = 'q';
		field = b->request->req_type_case;
		break;
	case USP__BODY__MSG_BODY_RESPONSE:
		if (!b->response ||
		    b->response->resp_type_case == USP__RESPONSE__RESP_TYPE__NOT_SET)
			return USP_MSG_TYPE_INVALID;
		body = 'r';
		field = b->response->resp_type_case;
		break;
	case USP__BODY__MSG_BODY_ERROR:
		return b->error ? USP__HEADER__MSG_TYPE__ERROR : USP_MSG_TYPE_INVALID;
	default:
		return USP_MSG_TYPE_INVALID;
	}
	for (size_t i = 0; i < N_TYPES; i++)
		if (type_rows[i].body == body && type_rows[i].field == field)
			return type_rows[i].type;
	return USP_MSG_TYPE_INVALID;
}

ProtobufCMessage *usp_msg_payload(const Usp__Msg *msg)
{
	if (!msg || !msg->body)
		return NULL;
	switch (msg->body->msg_body_case) {
	case USP__BODY__MSG_BODY_REQUEST:
		return msg->body->request ? usp_pb_child(&msg->body->request->base,
							 msg->body->request->req_type_case)
					  : NULL;
	case USP__BODY__MSG_BODY_RESPONSE:
		return msg->body->response ? usp_pb_child(&msg->body->response->base,
							  msg->body->response->resp_type_case)
					   : NULL;
	case USP__BODY__MSG_BODY_ERROR:
		return msg->body->error ? &msg->body->error->base : NULL;
	default:
		return NULL;
	}
}

const char *usp_msg_id(const Usp__Msg *msg)
{
	return msg && msg->header && msg->header->msg_id ? msg->header->msg_id : "";
}

int usp_msg_decode(const uint8_t *buf, size_t len, Usp__Msg **out, struct uspc_err *err)
{
	*out = NULL;
	Usp__Msg *msg = usp__msg__unpack(NULL, len, buf);
	if (!msg)
		return uspc_err_set(err, USP_MSG_E_UNDECODABLE,
				    "msg could not be decoded (%zu bytes)", len);
	int rc;
	if (usp_pb_check_unknown(&msg->base) < 0) {
		rc = uspc_err_set(err, USP_MSG_E_UNDECODABLE, "msg carries field number 0");
		goto fail;
	}
	if (!msg->header) {
		rc = uspc_err_set(err, USP_MSG_E_NO_HEADER, "msg has no header");
		goto fail;
	}
	if (!msg->header->msg_id || !msg->header->msg_id[0]) {
		rc = uspc_err_set(err, USP_MSG_E_NO_MSG_ID, "msg has an empty msg_id");
		goto fail;
	}
	size_t id_len = strlen(msg->header->msg_id);
	if (id_len > USP_MSG_ID_MAX_LEN) {
		rc = uspc_err_set(err, USP_MSG_E_MSG_ID_TOO_LONG, "msg_id longer than %d bytes",
				  USP_MSG_ID_MAX_LEN);
		goto fail;
	}
	/* It is matched, stored and printed as text: two invalid ids must not
	 * become one after a U+FFFD repair. */
	if (!usp_utf8_valid(msg->header->msg_id, id_len)) {
		rc = uspc_err_set(err, USP_MSG_E_MSG_ID_NOT_UTF8, "msg_id is not valid UTF-8");
		goto fail;
	}
	if (!msg->body) {
		rc = uspc_err_set(err, USP_MSG_E_NO_BODY, "msg has no body");
		goto fail;
	}
	if (usp_msg_type(msg) == USP_MSG_TYPE_INVALID) {
		*out = msg; /* keep it: the caller answers 7004 with this msg_id */
		return uspc_err_set(err, USP_MSG_E_EMPTY_BODY, "msg body selects no message");
	}
	*out = msg;
	return 0;
fail:
	usp__msg__free_unpacked(msg, NULL);
	return rc;
}

int usp_msg_encode(const Usp__Msg *msg, uint8_t **out, size_t *out_len)
{
	return usp_pack(&msg->base, out, out_len);
}

void usp_msg_free(Usp__Msg *msg)
{
	if (msg)
		usp__msg__free_unpacked(msg, NULL);
}

Usp__Msg *usp_msg_new(const char *msg_id, Usp__Header__MsgType type)
{
	const struct type_row *r = row_of(type);
	if (!r)
		return NULL;
	Usp__Msg *msg = (Usp__Msg *)usp_pb_new(&usp__msg__descriptor);
	if (!msg)
		return NULL;
	Usp__Header *h = USP_PB_CHILD(msg, header);
	Usp__Body *b = USP_PB_CHILD(msg, body);
	if (!h || !b)
		goto fail;
	h->msg_id = usp_pb_strdup(msg_id);
	if (!h->msg_id)
		goto fail;
	h->msg_type = type;
	if (r->body == 'e') {
		if (!usp_pb_set_child(&b->base, USP__BODY__MSG_BODY_ERROR))
			goto fail;
	} else {
		ProtobufCMessage *rr =
			usp_pb_set_child(&b->base, r->body == 'q' ? USP__BODY__MSG_BODY_REQUEST
								  : USP__BODY__MSG_BODY_RESPONSE);
		if (!rr || !usp_pb_set_child(rr, r->field))
			goto fail;
	}
	return msg;
fail:
	usp_msg_free(msg);
	return NULL;
}

Usp__Msg *usp_msg_new_error(const char *msg_id, uint32_t err_code, const char *err_msg)
{
	Usp__Msg *msg = usp_msg_new(msg_id, USP__HEADER__MSG_TYPE__ERROR);
	if (!msg)
		return NULL;
	Usp__Error *e = msg->body->error;
	e->err_code = err_code;
	e->err_msg = usp_pb_strdup(err_msg ? err_msg : usp_err_text(err_code));
	if (!e->err_msg) {
		e->err_msg = (char *)protobuf_c_empty_string;
		usp_msg_free(msg);
		return NULL;
	}
	return msg;
}

int usp_msg_error_add_param(Usp__Msg *error_msg, const char *path, uint32_t err_code,
			    const char *err_msg)
{
	if (usp_msg_type(error_msg) != USP__HEADER__MSG_TYPE__ERROR)
		return USPC_E_INVAL;
	Usp__Error *e = error_msg->body->error;
	Usp__Error__ParamError *pe =
		(Usp__Error__ParamError *)usp_pb_new(&usp__error__param_error__descriptor);
	if (!pe)
		return USPC_E_NOMEM;
	pe->param_path = usp_pb_strdup(path);
	pe->err_msg = usp_pb_strdup(err_msg ? err_msg : usp_err_text(err_code));
	pe->err_code = err_code;
	if (!pe->param_path || !pe->err_msg ||
	    usp_pb_push((void ***)&e->param_errs, &e->n_param_errs, pe) < 0) {
		usp_pb_free(&pe->base);
		return USPC_E_NOMEM;
	}
	return 0;
}

Usp__Msg *usp_msg_new_notify_resp(const char *msg_id, const char *subscription_id)
{
	Usp__Msg *msg = usp_msg_new(msg_id, USP__HEADER__MSG_TYPE__NOTIFY_RESP);
	if (!msg)
		return NULL;
	Usp__NotifyResp *nr = msg->body->response->notify_resp;
	nr->subscription_id = usp_pb_strdup(subscription_id);
	if (!nr->subscription_id) {
		nr->subscription_id = (char *)protobuf_c_empty_string;
		usp_msg_free(msg);
		return NULL;
	}
	return msg;
}

Usp__Msg *usp_msg_new_get(const char *msg_id, const char *const *paths, size_t n_paths,
			  uint32_t max_depth)
{
	Usp__Msg *msg = usp_msg_new(msg_id, USP__HEADER__MSG_TYPE__GET);
	if (!msg)
		return NULL;
	Usp__Get *g = msg->body->request->get;
	g->max_depth = max_depth;
	for (size_t i = 0; i < n_paths; i++) {
		if (usp_pb_push_str(&g->param_paths, &g->n_param_paths, paths[i]) < 0) {
			usp_msg_free(msg);
			return NULL;
		}
	}
	return msg;
}

void usp_msgid_init(struct usp_msgid_gen *g, const char *tag, uint64_t random, uint64_t start_time)
{
	snprintf(g->prefix, sizeof(g->prefix), "%.8s%s%08" PRIx64 "%08" PRIx32, tag ? tag : "",
		 tag && tag[0] ? "-" : "", start_time & 0xffffffffu,
		 (uint32_t)(random ^ (random >> 32)));
	g->counter = 0;
}

void usp_msgid_next(struct usp_msgid_gen *g, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s-%" PRIu64, g->prefix, ++g->counter);
}

void usp_msgid_next_random(struct usp_msgid_gen *g, uint64_t random, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s-%" PRIu64 "-%016" PRIx64, g->prefix, ++g->counter, random);
}
