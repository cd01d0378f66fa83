/* fuzz_api_request.c — libFuzzer target: an HTTP request as uspc-api sees
 * it (method, raw path, raw query, body) through the route matcher, the
 * query parser, the mapping to a uspctl line and the console path check.
 * Input: one method byte, then "path\nquery\nbody". */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api_map.h"
#include "api_route.h"
#include "api_static.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 1 << 20)
		return 0;
	enum api_method m = (enum api_method)(data[0] % (API_METHOD_OTHER + 1));
	char *text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	char *path = text, *query = NULL, *body = NULL;
	char *nl = strchr(path, '\n');
	if (nl) {
		*nl = '\0';
		query = nl + 1;
		if ((nl = strchr(query, '\n'))) {
			*nl = '\0';
			body = nl + 1;
		}
	}
	struct api_match match;
	struct api_query q;
	static char buf[8192];
	char msg[256], rel[256];
	api_static_path(path, rel, sizeof(rel));
	if (api_route_match(m, path, &match) == 0 &&
	    api_query_parse(query, buf, sizeof(buf), &q, msg, sizeof(msg)) == 0) {
		struct api_mapped out;
		api_map_request(&match, &q, body, body ? strlen(body) : 0, &out);
		api_mapped_fini(&out);
	}
	free(text);
	return 0;
}
