/*
 * api_reply.h — from the engine's result lines to an HTTP status and JSON
 * body (docs/api.md, "Conventions"): one result object, a page of them
 * with its "next" cursor, or a submission's per-agent lines; an error line
 * becomes {"error":{...}} with the status its code calls for. Pure:
 * unit-tested (test_api_reply).
 */
#ifndef USPC_API_REPLY_H
#define USPC_API_REPLY_H

#include <cjson/cJSON.h>

#include "api_route.h"

/* The HTTP status for a uspctl error code (docs/api.md's table); 500 for
 * an unknown one. */
int api_status_of_code(const char *code);

/* {"error":{"code":..,"message":..}} as a new string (cJSON_free). */
char *api_error_body(const char *code, const char *message);

/*
 * Build the answer for route r from lines (the engine's array). limit: the
 * page size asked (API_K_LIST), waited: a submission that waited. Returns
 * the status; *body is a new string (cJSON_free).
 */
int api_reply_from_lines(const struct api_route *r, const cJSON *lines, int limit, int waited,
			 char **body);

#endif
