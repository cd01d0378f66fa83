/*
 * acs_http.h — where a CPE's HTTP request arrives: uspc-acs's CWMP
 * listener on libmicrohttpd. It reads the body (chunked or not, at most
 * max_body bytes), finds the request's session (cookie, or the connection
 * it started on for CPEs that drop cookies), authenticates a session's
 * Inform (Basic or Digest against the device's credentials, acs_auth.h)
 * and hands the message to acs_session.c; and it serves /metrics and
 * /healthz on a separate listener when asked.
 */
#ifndef USPC_ACS_HTTP_H
#define USPC_ACS_HTTP_H

#include <stddef.h>

#include "acs.h"

#define ACS_COOKIE "uspc-acs-session"

struct acs_http;

/* Start the listeners: NULL with msg when an address, a TLS file or the
 * library refuses. */
struct acs_http *acs_http_start(struct acs *a, char *msg, size_t cap);
/* "ip:port" of the CWMP listener, and of /metrics ("" when off). */
const char *acs_http_address(const struct acs_http *h);
const char *acs_http_metrics_address(const struct acs_http *h);
void acs_http_stop(struct acs_http *h);

#endif
