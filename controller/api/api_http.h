/*
 * api_http.h — uspc-api's HTTP listener on libmicrohttpd: where an HTTP
 * request arrives. It owns the listening socket, the library's daemon (one
 * thread per connection, so a request may block on the database or wait
 * for a task), the table of open connections and the reaper thread that
 * enforces what the library has no option for: a deadline for receiving a
 * whole request (slowloris), and a clear 503 past the connection limit.
 * Complete requests go to api_handle (api_handle.h).
 */
#ifndef USPC_API_HTTP_H
#define USPC_API_HTTP_H

#include <stddef.h>

#include "api_handle.h"

struct api_http_opts {
	const char *listen;             /* "host:port", "[v6]:port"; port 0: any free one */
	const char *tls_cert, *tls_key; /* PEM files; both or neither */
	int max_connections;            /* answered; past it 503 */
	int max_per_ip;                 /* from one address; past it 503 */
	int timeout_s;                  /* idle connection, and the deadline of one request */
};

#define API_HEADER_MAX (16 * 1024) /* request line + headers: past it 431 in JSON */
#define API_HEADER_MEMORY \
	(64 * 1024) /* the library's buffer per connection; past it,
					 its own 431 (a page, not JSON) */

struct api_http;

/* Start listening. NULL with msg (cap bytes) on failure. */
struct api_http *api_http_start(const struct api_http_opts *o, const struct api_ctx *ctx, char *msg,
				size_t cap);
/* "127.0.0.1:8480" as bound (the real port when 0 was asked). */
const char *api_http_address(const struct api_http *h);
/* Stop accepting; requests in progress go on. */
void api_http_quiesce(struct api_http *h);
/* Stop: close every connection (waiting for their threads) and free. */
void api_http_stop(struct api_http *h);

#endif
