/*
 * cwmp_sim_http.h — the CPE side of CWMP's HTTP: libcurl transfers driven
 * by a worker's epoll loop (sim_loop.h) through curl_multi_socket_action,
 * never a thread per CPE and never curl's own waiting.
 *
 * A connection (struct cwmp_http_conn) is one CURL multi handle with one
 * easy handle: a session's POSTs reuse the easy handle, so they share its
 * cookie engine, its authentication state and its kept-alive TCP
 * connection. Each session gets a multi handle of its own because a multi
 * handle pools connections across all its easy handles: with one multi
 * per worker, a CPE's POST could go out on another CPE's idle connection,
 * and an ACS that ties a session to its TCP connection (as GenieACS does)
 * would see two CPEs mixed up. DNS answers are shared per worker.
 *
 * Loop thread of the worker. Completions are called from the loop, never
 * from inside a libcurl callback, exactly once per request unless the
 * connection is freed first.
 */
#ifndef USPC_CWMP_SIM_HTTP_H
#define USPC_CWMP_SIM_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "sim_loop.h"

/* Everything a worker registers in its epoll set starts with this, so the
 * loop's single I/O callback (cwmp_io_dispatch) finds its handler. */
struct cwmp_io_src {
	void (*fn)(struct cwmp_io_src *src, uint32_t events);
};
void cwmp_io_dispatch(void *ptr, uint32_t events);

struct cwmp_http;
struct cwmp_http_conn;

struct cwmp_http_result {
	int curl_code;    /* CURLcode, 0 = the exchange completed */
	long status;      /* HTTP status, 0 if none */
	const char *body; /* response body, NUL-terminated (valid during the callback) */
	size_t len;
	long retry_after;  /* Retry-After seconds, 0 if none */
	uint64_t bytes;    /* body bytes received (a GET counts, never stores them) */
	const char *error; /* libcurl's message when curl_code != 0 */
};
typedef void (*cwmp_http_done_fn)(void *arg, const struct cwmp_http_result *r);

struct cwmp_http_opts {
	const char *user, *password; /* NULL or "": no authentication */
	int cookies;                 /* libcurl's cookie engine on */
	int chunked;                 /* SOAP bodies as Transfer-Encoding: chunked */
	int empty_chunked;           /* the empty POST as a zero-length chunked body */
	double timeout_s;            /* per request */
	const char *cafile;
	int insecure;
};

/* Per worker. NULL without memory. Calls curl_global_init once. */
struct cwmp_http *cwmp_http_new(struct sim_loop *loop);
void cwmp_http_free(struct cwmp_http *h);
/* Connections alive (not yet destroyed). */
size_t cwmp_http_live(const struct cwmp_http *h);

struct cwmp_http_conn *cwmp_http_conn_new(struct cwmp_http *h, const struct cwmp_http_opts *o,
					  cwmp_http_done_fn done, void *arg);
/* Destroyed at a safe point after the current loop iteration; done is not
 * called any more. NULL is a no-op. */
void cwmp_http_conn_free(struct cwmp_http_conn *c);

/* POST body (len bytes, copied; len 0 = the empty POST) to url as
 * text/xml with an empty SOAPAction (no Content-Type for the empty POST).
 * At most one request in flight per connection. 0, or -1 (busy, memory). */
int cwmp_http_post(struct cwmp_http_conn *c, const char *url, const char *body, size_t len);
/* GET url counting the body's bytes (a firmware image: never stored),
 * following redirects, with user/password (Basic or Digest) if given. */
int cwmp_http_get(struct cwmp_http_conn *c, const char *url, const char *user,
		  const char *password);

#endif
