/* fuzz_uspctl_cmd.c — libFuzzer target: one uspctl input line through the
 * command parser (JSON, targets, paths, request building). */
#include <stddef.h>
#include <stdint.h>

#include "uspctl_cmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uspctl_cmd c;
	struct uspc_err err;
	uspctl_cmd_parse((const char *)data, size, &c, &err);
	uspctl_cmd_fini(&c);
	return 0;
}
