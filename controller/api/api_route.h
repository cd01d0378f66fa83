/*
 * api_route.h — the table of uspc-api's routes (docs/api.md, "Routes") and
 * the matcher from a method and a raw request path to a route and its path
 * parameters. Pure: no I/O, no allocation beyond the caller's match struct;
 * unit-tested (test_api_route) and fuzzed (fuzz_api_request).
 *
 * A route names what it does (enum api_kind), the uspctl op it runs (or
 * NULL), the least role that may call it, and its pattern: literal
 * segments and {parameter} segments. A parameter matches one whole
 * segment, percent-decoded after the split, so an Endpoint ID with a '/'
 * arrives as %2F and stays one segment.
 */
#ifndef USPC_API_ROUTE_H
#define USPC_API_ROUTE_H

#include <stddef.h>

#define API_PATH_MAX 2048  /* raw request path, bytes */
#define API_PARAM_MAX 1024 /* one decoded path parameter, bytes */
#define API_ROUTE_PARAMS 2 /* path parameters of one route, at most */

/* What a route does; api_handlers.c has one branch per kind. */
enum api_kind {
	API_K_HEALTHZ, /* GET /healthz */
	API_K_METRICS, /* GET /metrics */
	API_K_OPENAPI, /* the OpenAPI document */
	API_K_WHOAMI,  /* the token's own row */
	API_K_ONE,     /* an op whose answer is one result object */
	API_K_LIST,    /* an op whose answer is a list of result objects */
	API_K_SUBMIT,  /* POST /api/v1/tasks: USP ops, per-agent result lines */
	API_K_TASK,    /* GET /api/v1/tasks/{id}, optionally waiting */
	API_K_EVENTS,  /* Server-Sent Events */
	API_K_STATIC,  /* the console's files */
};

/* Roles, lowest first (the same numbers as store_tokens.h's). */
enum api_role { API_ROLE_NONE = 0, API_ROLE_VIEWER = 1, API_ROLE_OPERATOR = 2, API_ROLE_ADMIN = 3 };

enum api_method { API_GET, API_HEAD, API_POST, API_PUT, API_DELETE, API_METHOD_OTHER };

struct api_route {
	enum api_method method;
	const char *pattern; /* "/api/v1/agents/{eid}" — also the metrics label */
	enum api_kind kind;
	enum api_role role;
	const char *op;     /* the uspctl op it runs, or NULL */
	const char *cursor; /* API_K_LIST: the item field "next" is taken from
			       ("eid", "id"), NULL: no paging */
	const char *query;  /* the query parameters it accepts, space-separated */
	int body;           /* 1: takes a JSON object body */
};

struct api_match {
	const struct api_route *route; /* NULL: see status */
	int status;                    /* 0 matched; 404 no such path; 405 path known,
					  method not (allow says which) */
	char allow[64];                /* 405: "GET, POST" */
	char params[API_ROUTE_PARAMS][API_PARAM_MAX + 1];
	size_t n_params;
};

extern const struct api_route api_routes[];
extern const size_t api_route_count;

enum api_method api_method_from_name(const char *m);
const char *api_method_name(enum api_method m);
const char *api_role_name(enum api_role r);

/*
 * Match method and raw path (no query string; not decoded). Paths outside
 * /api/, /healthz and /metrics are the console's (API_K_STATIC, GET/HEAD).
 * A path that is malformed (over API_PATH_MAX, a bad %-escape, a decoded
 * NUL, an empty parameter) is a 404. Returns m->status.
 */
int api_route_match(enum api_method method, const char *path, struct api_match *m);

/*
 * Percent-decode n bytes of src into dst (cap bytes incl. NUL); '+' stays
 * '+' when plus_is_space is 0 (paths), becomes ' ' when 1 (query strings).
 * Returns the decoded length, or -1: bad escape, decoded NUL, too long.
 */
long api_pct_decode(const char *src, size_t n, char *dst, size_t cap, int plus_is_space);

/* 1 when name is among the route's accepted query parameters. */
int api_route_takes_query(const struct api_route *r, const char *name);

#endif
