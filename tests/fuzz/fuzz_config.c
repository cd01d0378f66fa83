/* fuzz_config.c — libFuzzer target: any bytes as the daemon's config file
 * (controller/core/core_config.c): parse, finish (derived values and
 * validation), print with secrets and URL passwords masked, and the SIGHUP
 * path that copies the reloadable settings into a running config. After a
 * parse or validation error the struct must still print and free cleanly. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;
	if (!sink)
		sink = fopen("/dev/null", "w");
	struct core_config c, running;
	struct uspc_err err;
	core_config_init(&c);
	core_config_init(&running);
	if (core_config_parse_text(&c, (const char *)data, size, "fuzz.conf", &err) == 0 &&
	    core_config_finish(&c, &err) == 0) {
		int fixed = 0;
		core_config_apply_reloadable(&running, &c, &fixed);
	}
	if (sink)
		core_config_print(&c, sink);
	core_config_fini(&running);
	core_config_fini(&c);
	return 0;
}
