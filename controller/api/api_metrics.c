/*
 * api_metrics.c — uspc-api's counters and their exposition text (see
 * api_metrics.h). Counters: fixed arrays indexed by route, method and
 * status slot, bumped with relaxed atomics; no lock on the request path.
 * The fleet gauges are copied in and out under a mutex.
 */
#include "api_metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROUTES 64
#define N_METHODS (API_METHOD_OTHER + 1)

static const int statuses[] = { 200, 201, 202, 204, 304, 400, 401, 403, 404,
				431, 405, 409, 413, 415, 500, 503, 504, 0 /* other */ };
#define N_STATUS (sizeof(statuses) / sizeof(statuses[0]))

static const double buckets[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
				  0.25,  0.5,    1,     2.5,  5,     10,   30 };
#define N_BUCKETS (sizeof(buckets) / sizeof(buckets[0]))

static uint64_t requests[MAX_ROUTES][N_METHODS][N_STATUS];
static uint64_t hist[MAX_ROUTES][N_BUCKETS + 1]; /* cumulative later; here per bucket */
static uint64_t hist_sum_us[MAX_ROUTES];
static int64_t events_clients;
static uint64_t events_sent, events_dropped;

static pthread_mutex_t fleet_mu = PTHREAD_MUTEX_INITIALIZER;
static struct api_fleet_gauges fleet;

#define ADD(p, v) __atomic_fetch_add((p), (v), __ATOMIC_RELAXED)
#define GET(p) __atomic_load_n((p), __ATOMIC_RELAXED)

static int status_slot(int status)
{
	for (size_t i = 0; i + 1 < N_STATUS; i++)
		if (statuses[i] == status)
			return (int)i;
	return (int)N_STATUS - 1;
}

void api_metrics_request(int route, enum api_method method, int status, double seconds)
{
	if (route < 0 || route >= MAX_ROUTES || route > API_METRIC_ROUTE_NONE)
		route = API_METRIC_ROUTE_NONE;
	if ((unsigned)method >= N_METHODS)
		method = API_METHOD_OTHER;
	ADD(&requests[route][method][status_slot(status)], 1);
	size_t b = 0;
	while (b < N_BUCKETS && seconds > buckets[b])
		b++;
	ADD(&hist[route][b], 1);
	ADD(&hist_sum_us[route], (uint64_t)(seconds > 0 ? seconds * 1e6 : 0));
}

void api_metrics_events_clients(int delta)
{
	ADD(&events_clients, delta);
}

void api_metrics_events(uint64_t sent, uint64_t dropped)
{
	ADD(&events_sent, sent);
	ADD(&events_dropped, dropped);
}

void api_metrics_set_fleet(const struct api_fleet_gauges *g)
{
	pthread_mutex_lock(&fleet_mu);
	fleet = *g;
	pthread_mutex_unlock(&fleet_mu);
}

void api_metrics_status(const struct store_pool_stats *pool, char *buf, size_t cap)
{
	uint64_t n = 0;
	for (int r = 0; r < MAX_ROUTES; r++)
		for (int m = 0; m < N_METHODS; m++)
			for (size_t s = 0; s < N_STATUS; s++)
				n += GET(&requests[r][m][s]);
	snprintf(buf, cap,
		 "%llu requests answered, %lld event streams, %d of %d db connections busy",
		 (unsigned long long)n, (long long)GET(&events_clients), pool ? pool->busy : 0,
		 pool ? pool->size : 0);
}

/* ---- text ---------------------------------------------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
	int oom;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct buf *b, const char *fmt, ...)
{
	for (int tries = 0; !b->oom && tries < 2; tries++) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = 1;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = (b->cap + (size_t)n + 1) * 2;
		char *q = realloc(b->p, cap);
		if (!q) {
			b->oom = 1;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
}

/* The method a route row answers (the histogram's second label: several
 * rows share one pattern). */
static const char *route_method(int r)
{
	if (r == API_METRIC_ROUTE_STATIC)
		return "GET";
	if (r == API_METRIC_ROUTE_NONE)
		return "other";
	return api_method_name(api_routes[r].method);
}

static const char *route_label(int r)
{
	if (r == API_METRIC_ROUTE_STATIC)
		return "/{file}";
	if (r == API_METRIC_ROUTE_NONE)
		return "none";
	return api_routes[r].pattern;
}

static void help(struct buf *b, const char *name, const char *type, const char *text)
{
	put(b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

char *api_metrics_render(const struct store_pool_stats *pool, size_t *len)
{
	struct buf b = { 0 };
	b.cap = 16384;
	if (!(b.p = malloc(b.cap)))
		return NULL;
	b.p[0] = '\0';
	int nroutes = API_METRIC_ROUTE_NONE + 1;
	if (nroutes > MAX_ROUTES)
		nroutes = MAX_ROUTES;

	help(&b, "uspc_api_requests_total", "counter",
	     "HTTP requests answered by uspc-api, by route pattern, method and status.");
	for (int r = 0; r < nroutes; r++)
		for (int m = 0; m < N_METHODS; m++)
			for (size_t s = 0; s < N_STATUS; s++) {
				uint64_t v = GET(&requests[r][m][s]);
				if (!v)
					continue;
				char code[8];
				if (statuses[s])
					snprintf(code, sizeof(code), "%d", statuses[s]);
				else
					snprintf(code, sizeof(code), "other");
				put(&b,
				    "uspc_api_requests_total{route=\"%s\",method=\"%s\",code=\"%s\"} "
				    "%llu\n",
				    route_label(r), api_method_name((enum api_method)m), code,
				    (unsigned long long)v);
			}

	help(&b, "uspc_api_request_duration_seconds", "histogram",
	     "Time from a request's arrival to its answer, by route pattern and method.");
	for (int r = 0; r < nroutes; r++) {
		uint64_t total = 0, per[N_BUCKETS + 1];
		for (size_t i = 0; i <= N_BUCKETS; i++)
			total += per[i] = GET(&hist[r][i]);
		if (!total)
			continue;
		uint64_t cum = 0;
		for (size_t i = 0; i < N_BUCKETS; i++) {
			cum += per[i];
			put(&b,
			    "uspc_api_request_duration_seconds_bucket{route=\"%s\",method=\"%s\",le=\"%g\"} %llu\n",
			    route_label(r), route_method(r), buckets[i], (unsigned long long)cum);
		}
		put(&b,
		    "uspc_api_request_duration_seconds_bucket{route=\"%s\",method=\"%s\",le=\"+Inf\"} %llu\n",
		    route_label(r), route_method(r), (unsigned long long)total);
		put(&b, "uspc_api_request_duration_seconds_sum{route=\"%s\",method=\"%s\"} %.6f\n",
		    route_label(r), route_method(r), (double)GET(&hist_sum_us[r]) / 1e6);
		put(&b,
		    "uspc_api_request_duration_seconds_count{route=\"%s\",method=\"%s\"} %llu\n",
		    route_label(r), route_method(r), (unsigned long long)total);
	}

	help(&b, "uspc_api_events_clients", "gauge", "Event streams (GET /api/v1/events) open.");
	put(&b, "uspc_api_events_clients %lld\n", (long long)GET(&events_clients));
	help(&b, "uspc_api_events_sent_total", "counter", "Events queued to event-stream clients.");
	put(&b, "uspc_api_events_sent_total %llu\n", (unsigned long long)GET(&events_sent));
	help(&b, "uspc_api_events_dropped_total", "counter",
	     "Events dropped because a client read too slowly.");
	put(&b, "uspc_api_events_dropped_total %llu\n", (unsigned long long)GET(&events_dropped));

	help(&b, "uspc_api_db_connections", "gauge", "PostgreSQL connections uspc-api may use.");
	put(&b, "uspc_api_db_connections %d\n", pool ? pool->size : 0);
	help(&b, "uspc_api_db_connections_busy", "gauge",
	     "PostgreSQL connections lent to requests.");
	put(&b, "uspc_api_db_connections_busy %d\n", pool ? pool->busy : 0);
	help(&b, "uspc_api_db_waits_total", "counter",
	     "Requests that waited for a free PostgreSQL connection.");
	put(&b, "uspc_api_db_waits_total %llu\n", (unsigned long long)(pool ? pool->waits : 0));
	help(&b, "uspc_api_db_wait_timeouts_total", "counter",
	     "Requests answered 503 because no PostgreSQL connection became free.");
	put(&b, "uspc_api_db_wait_timeouts_total %llu\n",
	    (unsigned long long)(pool ? pool->timeouts : 0));

	struct api_fleet_gauges f;
	pthread_mutex_lock(&fleet_mu);
	f = fleet;
	pthread_mutex_unlock(&fleet_mu);
	if (f.valid) {
		help(&b, "uspc_fleet_agents", "gauge",
		     "Agents in the inventory by state (ready: online and onboarded since).");
		put(&b, "uspc_fleet_agents{state=\"online\"} %lld\n", (long long)f.online);
		put(&b, "uspc_fleet_agents{state=\"offline\"} %lld\n", (long long)f.offline);
		put(&b, "uspc_fleet_agents{state=\"ready\"} %lld\n", (long long)f.ready);
		help(&b, "uspc_fleet_tasks", "gauge", "Tasks not yet finished, by state.");
		put(&b, "uspc_fleet_tasks{state=\"queued\"} %lld\n", (long long)f.queued);
		put(&b, "uspc_fleet_tasks{state=\"parked\"} %lld\n", (long long)f.parked);
		put(&b, "uspc_fleet_tasks{state=\"sent\"} %lld\n", (long long)f.sent);
		help(&b, "uspc_fleet_campaigns", "gauge", "Firmware campaigns by state.");
		for (int i = 0; i < f.n_campaign_states && i < 16; i++)
			put(&b, "uspc_fleet_campaigns{state=\"%s\"} %lld\n", f.campaign_state[i],
			    (long long)f.campaign_count[i]);
		help(&b, "uspc_fleet_rejections_senders_last_hour", "gauge",
		     "Senders whose records a daemon rejected in the last hour.");
		put(&b, "uspc_fleet_rejections_senders_last_hour %lld\n",
		    (long long)f.rejection_senders_last_hour);
	}
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}
