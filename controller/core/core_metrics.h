/*
 * core_metrics.h — the daemon's HTTP listener for /metrics (Prometheus text
 * format 0.0.4, core_metrics_text.h) and /healthz, on libmicrohttpd, in a
 * thread of its own ("uspc-metrics"). The core publishes a snapshot of its
 * numbers (core_metrics_publish); the listener only ever reads that copy.
 *
 * Lifecycle (core thread):
 *     core_metrics_start("127.0.0.1:9469", "0.1.0", &m, &err);
 *     core_metrics_publish(m, &snap);       at start and about once a second
 *     core_metrics_stop(m);                 joins the thread, closes the port
 */
#ifndef USPC_CORE_METRICS_H
#define USPC_CORE_METRICS_H

#include "core_metrics_text.h"
#include "usp_err.h"

#define CORE_METRICS_MAX_CONN 16       /* connections served at once */
#define CORE_METRICS_CONN_TIMEOUT_S 5  /* to send a whole request, or idle */
#define CORE_METRICS_MEMORY_LIMIT 8192 /* per connection: request line and headers */

struct core_metrics;

/*
 * Bind listen ("host:port", core_config_parse_listen; port 0: an ephemeral
 * port) and start the listener thread. version becomes build_info's label
 * (copied). Returns 0 and *out, or a negative code with err set:
 * USPC_E_CONFIG when the address does not parse, resolve or bind (the
 * message names it and the errno text), USPC_E_SYS / USPC_E_NOMEM.
 */
int core_metrics_start(const char *listen, const char *version, struct core_metrics **out,
		       struct uspc_err *err);

/* The address bound, e.g. "127.0.0.1:40123" or "[::1]:9469". */
const char *core_metrics_address(const struct core_metrics *m);

/* Replace the snapshot the listener serves (copied; its scrapes and version
 * fields are the listener's own and ignored). Any thread; NULL m: no-op. */
void core_metrics_publish(struct core_metrics *m, const struct core_metrics_snap *s);

/* Stop the thread, close every connection and the listening socket, free
 * m. NULL is a no-op. */
void core_metrics_stop(struct core_metrics *m);

#endif
