/*
 * api_metrics.h — uspc-api's own numbers for GET /metrics: requests by
 * route, method and status, latency per route, event streams, database
 * connections, and the fleet gauges read from the database. Counters are
 * relaxed atomics any request thread bumps; the fleet gauges are a
 * snapshot the events thread refreshes (api_metrics_set_fleet). The text
 * renderer is pure (unit-tested with the strict exposition checker).
 */
#ifndef USPC_API_METRICS_H
#define USPC_API_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "store_pool.h"
#include "api_route.h"

/* Route index for a request: api_routes[i], or one of these two. */
#define API_METRIC_ROUTE_STATIC ((int)api_route_count)
#define API_METRIC_ROUTE_NONE ((int)api_route_count + 1) /* no route (404, 405) */

void api_metrics_request(int route, enum api_method method, int status, double seconds);

/* Event streams: a client came (+1) or went (-1); events sent, dropped. */
void api_metrics_events_clients(int delta);
void api_metrics_events(uint64_t sent, uint64_t dropped);

/* The fleet as last read (the events thread, every 15 s). */
struct api_fleet_gauges {
	int valid;
	int64_t online, offline, ready;
	int64_t queued, parked, sent;
	int64_t rejection_senders_last_hour;
	/* campaigns per state */
	int n_campaign_states;
	char campaign_state[16][24];
	int64_t campaign_count[16];
};
void api_metrics_set_fleet(const struct api_fleet_gauges *g);

/* A one-line summary for systemd's STATUS=: requests answered, event
 * streams open, database connections busy. */
void api_metrics_status(const struct store_pool_stats *pool, char *buf, size_t cap);

/* The whole exposition text (malloc'd, caller frees) with pool's numbers. */
char *api_metrics_render(const struct store_pool_stats *pool, size_t *len);

#endif
