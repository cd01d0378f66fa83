/*
 * fuzz_record_msg.c — libFuzzer target for the USP Record and Msg codec
 * (controller/usp/usp_record.c, usp_msg.c, usp_pb.c).
 *
 * The input is unwrapped as a Record; if that succeeds the Record is packed
 * and unwrapped again (must succeed and compare equal) and every payload it
 * carries is decoded as a Msg. The input is also decoded as a Msg directly,
 * so the Msg decoder sees arbitrary bytes too. Every decoded Msg is encoded,
 * decoded and encoded again: the two encodings must be identical, and the
 * result code and type must not change. The failure contract is checked on
 * every error (*out NULL except for USP_MSG_E_EMPTY_BODY, err.code == rc).
 * Any violation aborts; ASan/UBSan/LeakSanitizer report the rest.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "usp_msg.h"
#include "usp_record.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

static void msg_round_trip(const uint8_t *buf, size_t len)
{
	struct uspc_err err = { 0, "" };
	Usp__Msg *m = NULL, *m2 = NULL;
	uint8_t *enc = NULL, *enc2 = NULL;
	size_t enc_len = 0, enc2_len = 0;
	int rc = usp_msg_decode(buf, len, &m, &err);
	if (rc != 0 && rc != USP_MSG_E_EMPTY_BODY) {
		check(m == NULL && err.code == rc && rc > USP_MSG_E_BASE_ && rc < USP_MSG_E_END_);
		return;
	}
	check(m != NULL && m->header && m->body);
	check(strlen(usp_msg_id(m)) > 0 && strlen(usp_msg_id(m)) <= USP_MSG_ID_MAX_LEN);
	Usp__Header__MsgType t = usp_msg_type(m);
	check((rc == 0) == (t != USP_MSG_TYPE_INVALID));
	check((rc == 0) == (usp_msg_payload(m) != NULL));
	check(strcmp(usp_msg_type_name(t), "unknown") != 0 || rc != 0);
	check(usp_msg_encode(m, &enc, &enc_len) == 0);
	int rc2 = usp_msg_decode(enc, enc_len, &m2, NULL);
	check(rc2 == rc && m2 != NULL && usp_msg_type(m2) == t);
	check(strcmp(usp_msg_id(m2), usp_msg_id(m)) == 0);
	check(usp_msg_encode(m2, &enc2, &enc2_len) == 0);
	check(enc2_len == enc_len && memcmp(enc, enc2, enc_len) == 0);
	free(enc);
	free(enc2);
	usp_msg_free(m);
	usp_msg_free(m2);
}

static void record_round_trip(const UspRecord__Record *rec)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	UspRecord__Record *again = NULL;
	check(usp_pack(&rec->base, &buf, &len) == 0);
	struct usp_record_limits roomy = { .max_record_size = len + 1 };
	check(usp_record_unwrap(buf, len, &roomy, &again, NULL) == 0);
	check(again->record_type_case == rec->record_type_case);
	check(strcmp(again->to_id, rec->to_id) == 0 && strcmp(again->from_id, rec->from_id) == 0);
	usp_record_free(again);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	UspRecord__Record *rec = NULL;
	struct uspc_err err = { 0, "" };
	int rc = usp_record_unwrap(data, size, NULL, &rec, &err);
	if (rc == 0) {
		check(rec != NULL && rec->to_id[0] && rec->from_id[0]);
		record_round_trip(rec);
		if (rec->record_type_case == USP_RECORD__RECORD__RECORD_TYPE_NO_SESSION_CONTEXT) {
			msg_round_trip(rec->no_session_context->payload.data,
				       rec->no_session_context->payload.len);
		} else if (rec->record_type_case ==
			   USP_RECORD__RECORD__RECORD_TYPE_SESSION_CONTEXT) {
			for (size_t i = 0; i < rec->session_context->n_payload; i++)
				msg_round_trip(rec->session_context->payload[i].data,
					       rec->session_context->payload[i].len);
		}
		usp_record_free(rec);
	} else {
		check(rec == NULL && err.code == rc && usp_record_error_index(rc) >= 0);
	}
	msg_round_trip(data, size);
	return 0;
}
