/*
 * fuzz_msg_json.c — libFuzzer target for the message -> JSON direction: any
 * bytes go through usp_msg_decode; a decoded Msg is printed in compact form
 * and must be accepted back by usp_json_to_msg_payload (output is always
 * valid, strict-readable JSON). Failures abort.
 */
#include <stdint.h>
#include <stdlib.h>

#include "usp_json.h"
#include "usp_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Usp__Msg *msg = NULL;
	struct uspc_err err;
	if (size > 60000) /* keep every decoded string under USP_JSON_MAX_STRING */
		return 0;
	int rc = usp_msg_decode(data, size, &msg, &err);
	if (rc != 0) {
		usp_msg_free(msg); /* set for USP_MSG_E_EMPTY_BODY */
		return 0;
	}
	cJSON *j = usp_json_from_msg_payload(msg);
	if (!j)
		abort();
	char *text = cJSON_PrintUnformatted(j);
	cJSON *again = text ? cJSON_Parse(text) : NULL;
	Usp__Msg *back = NULL;
	if (!again || usp_json_to_msg_payload(again, &back, &err) != 0)
		abort();
	if (usp_msg_type(back) != usp_msg_type(msg))
		abort();
	usp_msg_free(back);
	cJSON_Delete(again);
	free(text);
	cJSON_Delete(j);
	usp_msg_free(msg);
	return 0;
}
