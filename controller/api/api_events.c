/*
 * api_events.c — event streams, task waiters and fleet gauges (see
 * api_events.h).
 *
 * Owns the events thread, its LISTEN connection and the client list. One
 * mutex (h->mu) guards the list, every client's queue and the task
 * generation; each client has its own condition variable, the waiters
 * share one. The thread never blocks on a client: it only appends to
 * queues under the mutex.
 */
#include "api_events.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "api_engine.h"
#include "api_metrics.h"
#include "log.h"
#include "store_conn.h"

#define LOG_C "events"
#define TASK_IDS_MAX 1000 /* task ids read back per statement */
#define NOTIF_POLL_MS 1000
#define CAMPAIGN_POLL_MS 2000
#define FLEET_POLL_MS 15000
#define EVENT_TEXT_MAX (256 * 1024) /* one event; bigger ones lose their "result" */
#define CAMPAIGNS_TRACKED 1024

/* One event's text, shared by every queue holding it (refs counted under
 * h->mu). */
struct shared {
	int refs;
	size_t len;
	char text[]; /* "event: ...\ndata: ...\n\n" */
};

struct ev {
	struct shared *s;
	size_t len;
};

static void release(struct shared *s)
{
	if (s && --s->refs == 0)
		free(s);
}

struct api_sub {
	struct api_events *h;
	struct api_sub *prev, *next;
	int types;
	char *agent;
	pthread_cond_t cond;
	struct ev q[API_EVENTS_QUEUE];
	size_t head, n, bytes, off; /* off: bytes of q[head] already read */
	uint64_t dropped;           /* since the last "lagged" */
	int greeted;                /* the opening comment went out */
};

struct campaign_seen {
	int64_t id;
	uint32_t hash;
};

struct api_events {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t tasks_cond;
	char *conninfo;
	struct store_pool *pool;
	int max_clients, n_clients, stopping;
	struct api_sub *subs;
	uint64_t task_gen;
	int64_t alive_ms;
	int64_t last_notif; /* highest notification id seen */
	struct campaign_seen seen[CAMPAIGNS_TRACKED];
	size_t n_seen;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- clients ------------------------------------------------------------------- */

int api_events_types(const char *list)
{
	if (!list || !*list)
		return API_EV_ALL;
	int mask = 0;
	const char *p = list;
	while (*p) {
		const char *c = strchr(p, ',');
		size_t l = c ? (size_t)(c - p) : strlen(p);
		if (l == 4 && !strncmp(p, "task", 4))
			mask |= API_EV_TASK;
		else if (l == 12 && !strncmp(p, "notification", 12))
			mask |= API_EV_NOTIFICATION;
		else if (l == 8 && !strncmp(p, "campaign", 8))
			mask |= API_EV_CAMPAIGN;
		else
			return -1;
		p += l;
		if (*p == ',')
			p++;
	}
	return mask ? mask : -1;
}

struct api_sub *api_events_subscribe(struct api_events *h, int types, const char *agent)
{
	struct api_sub *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	if (agent && !(s->agent = strdup(agent))) {
		free(s);
		return NULL;
	}
	s->h = h;
	s->types = types;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_lock(&h->mu);
	if (h->stopping || h->n_clients >= h->max_clients) {
		pthread_mutex_unlock(&h->mu);
		pthread_cond_destroy(&s->cond);
		free(s->agent);
		free(s);
		return NULL;
	}
	s->next = h->subs;
	if (h->subs)
		h->subs->prev = s;
	h->subs = s;
	h->n_clients++;
	pthread_mutex_unlock(&h->mu);
	api_metrics_events_clients(1);
	return s;
}

void api_sub_free(struct api_sub *s)
{
	if (!s)
		return;
	struct api_events *h = s->h;
	pthread_mutex_lock(&h->mu);
	if (s->prev)
		s->prev->next = s->next;
	else
		h->subs = s->next;
	if (s->next)
		s->next->prev = s->prev;
	h->n_clients--;
	pthread_mutex_unlock(&h->mu);
	pthread_mutex_lock(&h->mu);
	for (size_t i = 0; i < s->n; i++)
		release(s->q[(s->head + i) % API_EVENTS_QUEUE].s);
	pthread_mutex_unlock(&h->mu);
	pthread_cond_destroy(&s->cond);
	free(s->agent);
	free(s);
	api_metrics_events_clients(-1);
}

static void drop_head(struct api_sub *s)
{
	struct ev *e = &s->q[s->head];
	s->bytes -= e->len;
	release(e->s);
	e->s = NULL;
	s->head = (s->head + 1) % API_EVENTS_QUEUE;
	s->n--;
	s->off = 0;
}

/* Under h->mu. Takes a reference to ev. */
static void enqueue(struct api_sub *s, struct shared *ev, uint64_t *sent, uint64_t *dropped)
{
	size_t len = ev->len;
	/* Make room: drop the oldest, but never the one being read. */
	while (s->n && (s->n >= API_EVENTS_QUEUE || s->bytes + len > API_EVENTS_QUEUE_BYTES) &&
	       !(s->n == 1 && s->off)) {
		if (s->off) { /* keep the head being read: drop the next one */
			size_t i = (s->head + 1) % API_EVENTS_QUEUE;
			struct ev e = s->q[i];
			for (size_t k = 1; k + 1 < s->n; k++)
				s->q[(s->head + k) % API_EVENTS_QUEUE] =
					s->q[(s->head + k + 1) % API_EVENTS_QUEUE];
			s->n--;
			s->bytes -= e.len;
			release(e.s);
		} else {
			drop_head(s);
		}
		s->dropped++;
		(*dropped)++;
	}
	if (s->n >= API_EVENTS_QUEUE) {
		s->dropped++;
		(*dropped)++;
		return;
	}
	struct ev *e = &s->q[(s->head + s->n) % API_EVENTS_QUEUE];
	ev->refs++;
	e->s = ev;
	e->len = len;
	s->n++;
	s->bytes += len;
	(*sent)++;
	pthread_cond_signal(&s->cond);
}

ssize_t api_sub_read(struct api_sub *s, char *buf, size_t max)
{
	struct api_events *h = s->h;
	size_t got = 0;
	if (!s->greeted) {
		/* At once, so the response's headers leave now rather than with
		 * the first event; and a browser's reconnection delay. */
		static const char hello[] = ": uspc-api events\nretry: 5000\n\n";
		s->greeted = 1;
		got = sizeof(hello) - 1 < max ? sizeof(hello) - 1 : max;
		memcpy(buf, hello, got);
		return (ssize_t)got;
	}
	pthread_mutex_lock(&h->mu);
	if (!s->n && !s->dropped && !h->stopping) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += API_EVENTS_KEEPALIVE_S;
		while (!s->n && !s->dropped && !h->stopping)
			if (pthread_cond_timedwait(&s->cond, &h->mu, &until) == ETIMEDOUT)
				break;
	}
	if (h->stopping) {
		pthread_mutex_unlock(&h->mu);
		return -1;
	}
	if (s->dropped && !s->off) {
		int n = snprintf(buf, max, "event: lagged\ndata: {\"dropped\":%" PRIu64 "}\n\n",
				 s->dropped);
		if (n > 0 && (size_t)n < max) {
			got = (size_t)n;
			s->dropped = 0;
		}
	}
	while (s->n && got < max) {
		struct ev *e = &s->q[s->head];
		size_t take = e->len - s->off;
		if (take > max - got)
			take = max - got;
		memcpy(buf + got, e->s->text + s->off, take);
		got += take;
		s->off += take;
		if (s->off == e->len)
			drop_head(s);
	}
	pthread_mutex_unlock(&h->mu);
	if (!got) {
		static const char ka[] = ": keep-alive\n\n";
		got = sizeof(ka) - 1 < max ? sizeof(ka) - 1 : max;
		memcpy(buf, ka, got);
	}
	return (ssize_t)got;
}

/* ---- publishing ---------------------------------------------------------------- */

static int wanted(struct api_events *h, int type)
{
	int any = 0;
	pthread_mutex_lock(&h->mu);
	for (struct api_sub *s = h->subs; s && !any; s = s->next)
		any = (s->types & type) != 0;
	pthread_mutex_unlock(&h->mu);
	return any;
}

static struct shared *event_text(const char *name, const char *data)
{
	size_t cap = strlen(data) + strlen(name) + 32;
	struct shared *e = malloc(sizeof(*e) + cap);
	if (!e)
		return NULL;
	int n = snprintf(e->text, cap, "event: %s\ndata: %s\n\n", name, data);
	e->len = (size_t)n;
	e->refs = 1; /* the publisher's, until every queue took its own */
	return e;
}

/*
 * Send data (a JSON text) as event name to the clients that want it:
 * clients following one agent get data, the others brief when given (a
 * task without its request and result: a fleet-wide stream during a
 * fan-out would otherwise carry every answer to every console).
 */
static void publish(struct api_events *h, int type, const char *name, const char *agent,
		    const char *data, const char *brief)
{
	struct shared *full = event_text(name, data);
	struct shared *small = brief ? event_text(name, brief) : NULL;
	uint64_t sent = 0, dropped = 0;
	pthread_mutex_lock(&h->mu);
	for (struct api_sub *s = h->subs; s; s = s->next) {
		if (!(s->types & type))
			continue;
		if (s->agent && (!agent || strcmp(agent, s->agent) != 0))
			continue;
		struct shared *e = s->agent || !small ? full : small;
		if (e)
			enqueue(s, e, &sent, &dropped);
		else
			dropped++;
	}
	release(full);
	release(small);
	pthread_mutex_unlock(&h->mu);
	api_metrics_events(sent, dropped);
}

/* Run cmd on a pooled connection; NULL on failure (logged). */
static cJSON *run(struct api_events *h, cJSON *cmd)
{
	if (!cJSON_GetObjectItemCaseSensitive(cmd, "id"))
		cJSON_AddStringToObject(cmd, "id", "events");
	int slot, busy, lost = 0;
	struct uspc_err err = { 0 };
	cJSON *lines = NULL;
	char msg[256];
	PGconn *db = store_pool_get(h->pool, 5000, &slot, &busy, &err);
	if (!db) {
		log_warn(LOG_C, "no database connection for the event stream: %s", err.msg);
		return NULL;
	}
	if (api_engine_run(db, cmd, "api:events", &lines, &lost, msg, sizeof(msg)) < 0)
		log_warn(LOG_C, "reading events: %s", msg);
	store_pool_put(h->pool, slot, lost);
	return lines;
}

/* Publish each ok line's result as an event; cursor: highest "id". */
static void publish_lines(struct api_events *h, int type, const char *name, cJSON *lines,
			  int64_t *max_id)
{
	for (cJSON *l = lines ? lines->child : NULL; l; l = l->next) {
		if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(l, "ok")))
			continue;
		cJSON *res = cJSON_GetObjectItemCaseSensitive(l, "result");
		const cJSON *agent = cJSON_GetObjectItemCaseSensitive(l, "agent");
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(res, "id");
		if (max_id && cJSON_IsNumber(id) && (int64_t)id->valuedouble > *max_id)
			*max_id = (int64_t)id->valuedouble;
		char *text = cJSON_PrintUnformatted(res);
		if (text && strlen(text) > EVENT_TEXT_MAX) {
			cJSON_free(text);
			cJSON *copy = cJSON_Duplicate(res, 1);
			cJSON_DeleteItemFromObjectCaseSensitive(copy, "result");
			cJSON_DeleteItemFromObjectCaseSensitive(copy, "payload");
			cJSON_AddTrueToObject(copy, "truncated");
			text = cJSON_PrintUnformatted(copy);
			cJSON_Delete(copy);
		}
		char *brief = NULL;
		if (type == API_EV_TASK) {
			cJSON *b = cJSON_Duplicate(res, 1);
			cJSON_DeleteItemFromObjectCaseSensitive(b, "request");
			cJSON_DeleteItemFromObjectCaseSensitive(b, "result");
			cJSON_AddTrueToObject(b, "brief");
			brief = cJSON_PrintUnformatted(b);
			cJSON_Delete(b);
		}
		if (text)
			publish(h, type, name, cJSON_IsString(agent) ? agent->valuestring : NULL,
				text, brief);
		cJSON_free(text);
		cJSON_free(brief);
	}
}

static void tasks_done(struct api_events *h, const int64_t *ids, size_t n)
{
	pthread_mutex_lock(&h->mu);
	h->task_gen++;
	pthread_cond_broadcast(&h->tasks_cond);
	pthread_mutex_unlock(&h->mu);
	if (!n || !wanted(h, API_EV_TASK))
		return;
	cJSON *cmd = cJSON_CreateObject();
	cJSON_AddStringToObject(cmd, "op", "task_status");
	cJSON *a = cJSON_AddArrayToObject(cmd, "tasks");
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber((double)ids[i]));
	cJSON *lines = run(h, cmd);
	publish_lines(h, API_EV_TASK, "task", lines, NULL);
	cJSON_Delete(lines);
	cJSON_Delete(cmd);
}

static void poll_notifications(struct api_events *h)
{
	if (!wanted(h, API_EV_NOTIFICATION))
		return;
	cJSON *cmd = cJSON_CreateObject();
	cJSON_AddStringToObject(cmd, "op", "notifications");
	cJSON_AddNumberToObject(cmd, "after", (double)h->last_notif);
	cJSON_AddNumberToObject(cmd, "limit", 1000);
	cJSON *lines = run(h, cmd);
	publish_lines(h, API_EV_NOTIFICATION, "notification", lines, &h->last_notif);
	cJSON_Delete(lines);
	cJSON_Delete(cmd);
}

static uint32_t fnv(const char *s)
{
	uint32_t x = 2166136261u;
	for (; *s; s++)
		x = (x ^ (uint8_t)*s) * 16777619u;
	return x;
}

static void poll_campaigns(struct api_events *h)
{
	if (!wanted(h, API_EV_CAMPAIGN))
		return;
	cJSON *cmd = cJSON_CreateObject();
	cJSON_AddStringToObject(cmd, "op", "campaign_list");
	cJSON *lines = run(h, cmd);
	for (cJSON *l = lines ? lines->child : NULL; l; l = l->next) {
		cJSON *res = cJSON_GetObjectItemCaseSensitive(l, "result");
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(res, "campaign");
		char *text = res ? cJSON_PrintUnformatted(res) : NULL;
		if (!text || !cJSON_IsNumber(id)) {
			cJSON_free(text);
			continue;
		}
		uint32_t hs = fnv(text);
		size_t i = 0;
		while (i < h->n_seen && h->seen[i].id != (int64_t)id->valuedouble)
			i++;
		if (i == h->n_seen && h->n_seen < CAMPAIGNS_TRACKED)
			h->seen[h->n_seen++] =
				(struct campaign_seen){ (int64_t)id->valuedouble, 0 };
		if (i < h->n_seen && h->seen[i].hash != hs) {
			h->seen[i].hash = hs;
			publish(h, API_EV_CAMPAIGN, "campaign", NULL, text, NULL);
		}
		cJSON_free(text);
	}
	cJSON_Delete(lines);
	cJSON_Delete(cmd);
}

static int64_t num(const cJSON *o, const char *a, const char *b)
{
	const cJSON *x =
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, a), b);
	return cJSON_IsNumber(x) ? (int64_t)x->valuedouble : 0;
}

static void poll_fleet(struct api_events *h)
{
	struct api_fleet_gauges g;
	memset(&g, 0, sizeof(g));
	cJSON *cmd = cJSON_CreateObject();
	cJSON_AddStringToObject(cmd, "op", "fleet_summary");
	cJSON *lines = run(h, cmd);
	cJSON_Delete(cmd);
	cJSON *l = lines ? lines->child : NULL;
	cJSON *r = l && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(l, "ok"))
			   ? cJSON_GetObjectItemCaseSensitive(l, "result")
			   : NULL;
	if (r) {
		g.valid = 1;
		g.online = num(r, "agents", "online");
		g.offline = num(r, "agents", "offline");
		g.ready = num(r, "agents", "ready");
		g.queued = num(r, "tasks", "queued");
		g.parked = num(r, "tasks", "parked");
		g.sent = num(r, "tasks", "sent");
		g.rejection_senders_last_hour = num(r, "rejections", "senders_last_hour");
	}
	cJSON_Delete(lines);
	if (!g.valid)
		return;
	cmd = cJSON_CreateObject();
	cJSON_AddStringToObject(cmd, "op", "campaign_list");
	lines = run(h, cmd);
	cJSON_Delete(cmd);
	for (l = lines ? lines->child : NULL; l; l = l->next) {
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(l, "result"), "state");
		if (!cJSON_IsString(st) || strlen(st->valuestring) >= sizeof(g.campaign_state[0]) ||
		    strspn(st->valuestring, "abcdefghijklmnopqrstuvwxyz_") !=
			    strlen(st->valuestring))
			continue;
		int i = 0;
		while (i < g.n_campaign_states && strcmp(g.campaign_state[i], st->valuestring))
			i++;
		if (i == g.n_campaign_states) {
			if (i >= 16)
				continue;
			strcpy(g.campaign_state[i], st->valuestring);
			g.n_campaign_states++;
		}
		g.campaign_count[i]++;
	}
	cJSON_Delete(lines);
	api_metrics_set_fleet(&g);
}

/* ---- the thread ------------------------------------------------------------------ */

static PGconn *listen_open(struct api_events *h)
{
	PGconn *c = NULL;
	struct uspc_err err = { 0 };
	struct store_conn_opts co = { .conninfo = h->conninfo,
				      .application_name = "uspc-api-events",
				      .connect_timeout_s = 5 };
	if (store_conn_open(&co, &c, &err) < 0) {
		log_warn(LOG_C, "cannot connect for task events: %s", err.msg);
		if (c)
			PQfinish(c);
		return NULL;
	}
	PGresult *r = PQexec(c, "LISTEN uspc_task_done");
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	if (!ok) {
		log_warn(LOG_C, "LISTEN uspc_task_done failed: %s", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	return c;
}

/* The newest notification id, so that a fresh start sends no history. */
static void notif_start(struct api_events *h, PGconn *c)
{
	PGresult *r = PQexec(c, "SELECT coalesce(max(id), 0) FROM notifications");
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		h->last_notif = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
}

/* Task ids from the notifications waiting on c (up to cap). */
static size_t drain(PGconn *c, int64_t *ids, size_t cap, int *any)
{
	size_t n = 0;
	PGnotify *nt;
	while ((nt = PQnotifies(c))) {
		*any = 1;
		for (char *p = nt->extra; p && *p && n < cap;) {
			char *end;
			long long v = strtoll(p, &end, 10);
			if (end == p)
				break;
			if (v > 0)
				ids[n++] = v;
			p = *end == ',' ? end + 1 : end;
		}
		PQfreemem(nt);
	}
	return n;
}

static void *events_main(void *arg)
{
	struct api_events *h = arg;
	PGconn *c = NULL;
	int64_t next_notif = 0, next_camp = 0, next_fleet = 0, next_connect = 0;
	int64_t *ids = malloc(TASK_IDS_MAX * sizeof(*ids));
	for (;;) {
		int64_t now = now_ms();
		pthread_mutex_lock(&h->mu);
		int stop = h->stopping;
		h->alive_ms = now;
		pthread_mutex_unlock(&h->mu);
		if (stop || !ids)
			break;
		if (!c && now >= next_connect) {
			if ((c = listen_open(h)) && !h->last_notif)
				notif_start(h, c);
			next_connect = now + 2000;
		}
		if (c) {
			struct pollfd pfd = { .fd = PQsocket(c), .events = POLLIN };
			poll(&pfd, 1, 250);
			if (!PQconsumeInput(c) || PQstatus(c) != CONNECTION_OK) {
				log_warn(LOG_C, "task events connection lost; reconnecting");
				PQfinish(c);
				c = NULL;
				continue;
			}
			int any = 0;
			size_t n;
			while ((n = drain(c, ids, TASK_IDS_MAX, &any)) > 0 || any) {
				tasks_done(h, ids, n);
				any = 0;
				if (n < TASK_IDS_MAX)
					break;
			}
		} else {
			struct timespec ts = { 0, 250 * 1000000L };
			nanosleep(&ts, NULL);
		}
		now = now_ms();
		if (now >= next_notif) {
			poll_notifications(h);
			next_notif = now + NOTIF_POLL_MS;
		}
		if (now >= next_camp) {
			poll_campaigns(h);
			next_camp = now + CAMPAIGN_POLL_MS;
		}
		if (now >= next_fleet) {
			poll_fleet(h);
			next_fleet = now + FLEET_POLL_MS;
		}
	}
	free(ids);
	if (c)
		PQfinish(c);
	return NULL;
}

struct api_events *api_events_start(const char *conninfo, struct store_pool *pool, int max_clients)
{
	struct api_events *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->conninfo = conninfo ? strdup(conninfo) : NULL;
	h->pool = pool;
	h->max_clients = max_clients;
	h->alive_ms = now_ms();
	pthread_mutex_init(&h->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->tasks_cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&h->thread, NULL, events_main, h) != 0) {
		pthread_cond_destroy(&h->tasks_cond);
		pthread_mutex_destroy(&h->mu);
		free(h->conninfo);
		free(h);
		return NULL;
	}
	pthread_setname_np(h->thread, "uspc-api-events");
	return h;
}

/* Wake every stream and waiter; streams end at their next read. */
static void wake_all(struct api_events *h)
{
	pthread_mutex_lock(&h->mu);
	h->stopping = 1;
	for (struct api_sub *s = h->subs; s; s = s->next)
		pthread_cond_signal(&s->cond);
	pthread_cond_broadcast(&h->tasks_cond);
	pthread_mutex_unlock(&h->mu);
}

void api_events_stop(struct api_events *h)
{
	if (!h)
		return;
	wake_all(h);
	pthread_join(h->thread, NULL);
}

void api_events_free(struct api_events *h)
{
	if (!h)
		return;
	pthread_cond_destroy(&h->tasks_cond);
	pthread_mutex_destroy(&h->mu);
	free(h->conninfo);
	free(h);
}

int api_events_stopping(struct api_events *h)
{
	pthread_mutex_lock(&h->mu);
	int s = h->stopping;
	pthread_mutex_unlock(&h->mu);
	return s;
}

int64_t api_events_alive_ms(struct api_events *h)
{
	pthread_mutex_lock(&h->mu);
	int64_t t = h->alive_ms;
	pthread_mutex_unlock(&h->mu);
	return t;
}

uint64_t api_events_task_gen(struct api_events *h)
{
	pthread_mutex_lock(&h->mu);
	uint64_t g = h->task_gen;
	pthread_mutex_unlock(&h->mu);
	return g;
}

void api_events_wait_tasks(struct api_events *h, uint64_t gen, int ms)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&h->mu);
	while (h->task_gen == gen && !h->stopping)
		if (pthread_cond_timedwait(&h->tasks_cond, &h->mu, &until) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&h->mu);
}
