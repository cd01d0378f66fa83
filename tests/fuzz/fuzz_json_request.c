/*
 * fuzz_json_request.c — libFuzzer target for usp_json_build_request: the
 * first byte picks the type (the 11 request types, one response type and
 * an unknown name, which must be refused), the rest is JSON text. A request
 * that builds must encode, and its compact JSON must read back to the same
 * bytes; anything else is a bug and aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "usp_json.h"
#include "usp_msg.h"
#include "usp_record.h"

static const char *const types[] = {
	"get",           "set",
	"add",           "delete",
	"operate",       "get_supported_dm",
	"get_instances", "get_supported_protocol",
	"notify",        "register",
	"deregister",    "get_resp",
	"nope",
};
#define N_TYPES (sizeof(types) / sizeof(types[0]))

static void check_round_trip(const Usp__Msg *msg, const uint8_t *bytes, size_t len)
{
	cJSON *j = usp_json_from_msg_payload(msg);
	if (!j)
		abort();
	char *text = cJSON_PrintUnformatted(j);
	cJSON *again = text ? cJSON_Parse(text) : NULL;
	Usp__Msg *back = NULL;
	struct uspc_err err;
	if (!again || usp_json_to_msg_payload(again, &back, &err) != 0)
		abort();
	uint8_t *b2 = NULL;
	size_t l2 = 0;
	if (usp_msg_encode(back, &b2, &l2) != 0 || l2 != len || memcmp(b2, bytes, len) != 0)
		abort();
	free(b2);
	usp_msg_free(back);
	cJSON_Delete(again);
	free(text);
	cJSON_Delete(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *type = types[data[0] % N_TYPES];
	cJSON *args = cJSON_ParseWithLength((const char *)data + 1, size - 1);
	if (!args)
		return 0;
	Usp__Msg *msg = NULL;
	struct uspc_err err;
	int rc = usp_json_build_request(type, args, "fuzz-1", &msg, &err);
	if (rc == 0) {
		if (!usp_msg_type_is_request(usp_msg_type(msg)))
			abort();
		uint8_t *bytes = NULL;
		size_t len = 0;
		if (usp_msg_encode(msg, &bytes, &len) != 0)
			abort();
		check_round_trip(msg, bytes, len);
		free(bytes);
		usp_msg_free(msg);
	} else if (msg != NULL || err.msg[0] == '\0') {
		abort(); /* a failure must leave nothing behind and say why */
	}
	cJSON_Delete(args);
	return 0;
}
