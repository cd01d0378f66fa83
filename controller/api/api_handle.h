/*
 * api_handle.h — what uspc-api answers to one complete request, whatever
 * carried it: authentication and roles, the route's mapping to a uspctl
 * command, the engine run, the reply, the console's files, the event
 * stream, /healthz and /metrics. api_http.c owns the HTTP plumbing and
 * calls api_handle once per request, on the connection's thread.
 */
#ifndef USPC_API_HANDLE_H
#define USPC_API_HANDLE_H

#include <stddef.h>

#include "api_events.h"
#include "store_pool.h"
#include "api_route.h"

struct api_ctx {
	struct store_pool *pool;
	struct api_events *events;
	const char *console_dir; /* NULL: no console */
	int db_wait_ms;          /* a request's wait for a connection (5000) */
	int max_waiting;         /* submissions waiting for agents at once (each holds a
				    connection): half the pool, so reads always find one */
	int *waiting;            /* how many now (relaxed atomics) */
};

struct api_request {
	enum api_method method;
	const char *path;          /* raw, no query string */
	const char *query;         /* raw query string (no '?'), or NULL */
	const char *authorization; /* header value or NULL */
	const char *content_type;  /* header value or NULL */
	const char *body;          /* NULL or len bytes */
	size_t len;
};

/* The answer: a body (malloc'd), a file, or an event stream. */
struct api_answer {
	int status;
	char *body; /* owned; NULL with fd or sub */
	size_t len;
	const char *content_type;
	int fd; /* >= 0: send fd_size bytes of this file (closed by the sender) */
	size_t fd_size;
	struct api_sub *sub; /* an event stream to send (freed by the sender) */
	char allow[64];      /* 405: the Allow header */
	int retry_after;     /* > 0: the Retry-After header */
	int unauthorized;    /* 401: add WWW-Authenticate */
	int no_cache;        /* Cache-Control: no-store */
	int metric_route;    /* the route's index for /metrics */
};

void api_handle(const struct api_ctx *ctx, const struct api_request *rq, struct api_answer *a);

/* An error answer (used by api_http.c for its own refusals too). */
void api_answer_error(struct api_answer *a, int status, const char *code, const char *message);

#endif
