/*
 * api_map.h — from an HTTP request to the uspctl command line that answers
 * it: path parameters, query parameters and the JSON body of a matched
 * route (api_route.h) become one command object in uspctl's input format
 * (docs/uspctl.md), which the engine (api_engine.h) then runs exactly as
 * uspctl would. Pure: unit-tested (test_api_map) and fuzzed
 * (fuzz_api_request); the checks of the fields themselves are uspctl's
 * parser's, not repeated here.
 */
#ifndef USPC_API_MAP_H
#define USPC_API_MAP_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "api_route.h"

#define API_BODY_MAX (1024 * 1024) /* request body, bytes */
#define API_QUERY_MAX 64           /* query parameters of one request */
#define API_PAGE_MAX 1000          /* limit of one page */
#define API_PAGE_DEFAULT 100
#define API_WAIT_MAX_S 120   /* POST /tasks "wait", GET /tasks/{id}?wait= */
#define API_WAIT_AGENTS 1000 /* agents a waiting submission may target */

struct api_query {
	const char *name[API_QUERY_MAX];
	const char *value[API_QUERY_MAX]; /* decoded; "" for a name without '=' */
	size_t n;
};

/*
 * Split a raw query string (after '?', not decoded) into q, decoding into
 * buf (cap bytes; the names and values point into it). Returns 0, or -1
 * with msg (cap msg_cap) saying what is wrong.
 */
int api_query_parse(const char *raw, char *buf, size_t cap, struct api_query *q, char *msg,
		    size_t msg_cap);

/* The mapping's outcome. */
struct api_mapped {
	cJSON *cmd;        /* the command line (owned), NULL on error */
	int wait_s;        /* API_K_SUBMIT / API_K_TASK: seconds to wait (0 none) */
	int status;        /* 0 ok, else the HTTP status of the error */
	char code[32];     /* error code, e.g. "bad_query" */
	char message[256]; /* for the operator */
};

/*
 * Build the command for route r with m's path parameters, query q and
 * body (NULL or body_len bytes; must be a JSON object for routes that take
 * one, and absent for the others). Returns 0 (out->cmd set) or the HTTP
 * status of the error (out->status, code, message).
 */
int api_map_request(const struct api_match *m, const struct api_query *q, const char *body,
		    size_t body_len, struct api_mapped *out);

void api_mapped_fini(struct api_mapped *out);

#endif
