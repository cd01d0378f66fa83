/*
 * api_http.c — uspc-api's HTTP listener (see api_http.h).
 *
 * libmicrohttpd runs one thread per connection (MHD_USE_THREAD_PER_CONNECTION):
 * a request may block on PostgreSQL or wait for a task without holding up
 * any other connection, and an event stream's reader blocks in its own
 * thread. Threads are bounded by the connection limit.
 *
 * The connection table (struct conn, one per open connection, in the
 * library's socket context) is shared by the connection threads and the
 * reaper under mu. A connection has a deadline while it owes a request:
 * from its accept, or from the end of its previous answer, until the last
 * byte of the request (headers and body) arrived. The reaper shuts down
 * the socket of one that misses it, which the library's idle timeout alone
 * would not do for a client sending a byte every few seconds. The reaper
 * only touches sockets still in the table: a connection leaves it in the
 * library's "closed" notice, before the library closes the socket.
 */
#include "api_http.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "api_map.h"
#include "api_metrics.h"
#include "listen.h"
#include "log.h"
#include "uspctl_run.h"

#define LOG_C "http"
#define CONN_SLACK 16              /* connections past the limit still answered 503 */
#define THREAD_STACK (1024 * 1024) /* per connection thread */
#define EVENT_BLOCK (32 * 1024)    /* event stream write size */

struct conn {
	struct conn *prev, *next;
	int fd;
	int64_t deadline_ms; /* 0: none (a request is being answered) */
	int over_limit;      /* answered 503 */
	int cut;             /* shut down by the reaper */
	char peer[64];       /* "address:port" */
	char ip[64];         /* the address alone: the per-address limit */
};

struct req {
	int64_t start_ms;
	char *body;
	size_t len, cap;
	int too_large;
	int answered;
};

struct api_http {
	struct MHD_Daemon *mhd;
	const struct api_ctx *ctx;
	struct api_http_opts o;
	int listen_fd;
	char address[96];
	char *cert, *key;
	pthread_mutex_t mu;
	struct conn *conns;
	int active;
	pthread_t reaper;
	pthread_cond_t reaper_cond;
	int stopping;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- connections -------------------------------------------------------------------- */

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct api_http *h = cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		struct conn *k = calloc(1, sizeof(*k));
		if (!k)
			return; /* no deadline for this one; its idle timeout still applies */
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		k->fd = ci ? ci->connect_fd : -1;
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (ci && ci->client_addr) {
			listen_format_address(ci->client_addr, k->peer, sizeof(k->peer));
			snprintf(k->ip, sizeof(k->ip), "%s", k->peer);
			char *colon = strrchr(k->ip, ':');
			if (colon)
				*colon = '\0';
		}
		k->deadline_ms = now_ms() + (int64_t)h->o.timeout_s * 1000;
		pthread_mutex_lock(&h->mu);
		k->next = h->conns;
		if (h->conns)
			h->conns->prev = k;
		h->conns = k;
		int same = 0;
		for (struct conn *o = h->conns; o; o = o->next)
			same += strcmp(o->ip, k->ip) == 0;
		k->over_limit = ++h->active > h->o.max_connections || same > h->o.max_per_ip;
		pthread_mutex_unlock(&h->mu);
		*socket_context = k;
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		struct conn *k = *socket_context;
		if (!k)
			return;
		pthread_mutex_lock(&h->mu);
		if (k->prev)
			k->prev->next = k->next;
		else
			h->conns = k->next;
		if (k->next)
			k->next->prev = k->prev;
		h->active--;
		pthread_mutex_unlock(&h->mu);
		free(k);
		*socket_context = NULL;
	}
}

static struct conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

static void set_deadline(struct api_http *h, struct conn *k, int64_t at)
{
	if (!k)
		return;
	pthread_mutex_lock(&h->mu);
	k->deadline_ms = at;
	pthread_mutex_unlock(&h->mu);
}

static void *reaper_main(void *arg)
{
	struct api_http *h = arg;
	pthread_mutex_lock(&h->mu);
	while (!h->stopping) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += 500 * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&h->reaper_cond, &h->mu, &until);
		int64_t now = now_ms();
		for (struct conn *k = h->conns; k; k = k->next) {
			if (k->cut || !k->deadline_ms || now < k->deadline_ms || k->fd < 0)
				continue;
			k->cut = 1;
			shutdown(k->fd, SHUT_RDWR);
			log_info(LOG_C,
				 "closed the connection from %s: no complete request within %d s",
				 k->peer, h->o.timeout_s);
		}
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

/* ---- requests ------------------------------------------------------------------------- */

struct qbuild {
	char *buf;
	size_t len, cap;
	int over;
};

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key,
			       const char *value)
{
	(void)kind;
	struct qbuild *q = cls;
	size_t need = strlen(key) + (value ? strlen(value) + 1 : 0) + 2;
	if (q->len + need >= q->cap) {
		q->over = 1;
		return MHD_NO;
	}
	q->len += (size_t)snprintf(q->buf + q->len, q->cap - q->len, "%s%s%s%s", q->len ? "&" : "",
				   key, value ? "=" : "", value ? value : "");
	return MHD_YES;
}

static void add_common_headers(struct MHD_Response *r, const struct api_answer *a)
{
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'self'; img-src 'self' data:; "
				"frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
	if (a->content_type)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, a->content_type);
	if (a->no_cache)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (*a->allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, a->allow);
	if (a->unauthorized)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer realm=\"uspc\"");
	if (a->retry_after > 0) {
		char s[16];
		snprintf(s, sizeof(s), "%d", a->retry_after);
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, s);
	}
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	ssize_t n = api_sub_read(cls, buf, max);
	return n < 0 ? MHD_CONTENT_READER_END_OF_STREAM : n;
}

static void sse_free(void *cls)
{
	api_sub_free(cls);
}

/* Queue a's answer on c; takes a's body, fd and stream. */
static enum MHD_Result send_answer(struct api_http *h, struct MHD_Connection *c,
				   struct api_answer *a, int close_after, enum api_method method,
				   int64_t start_ms)
{
	struct MHD_Response *r;
	if (a->sub) {
		r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, EVENT_BLOCK, sse_read,
						      a->sub, sse_free);
		if (r) {
			MHD_add_response_header(r, "X-Accel-Buffering", "no");
			a->sub = NULL;
		}
	} else if (a->fd >= 0) {
		r = MHD_create_response_from_fd(a->fd_size, a->fd);
		if (r)
			a->fd = -1;
	} else {
		r = MHD_create_response_from_buffer(a->len, a->body ? a->body : (char *)"",
						    a->body ? MHD_RESPMEM_MUST_FREE
							    : MHD_RESPMEM_PERSISTENT);
		if (r)
			a->body = NULL;
	}
	if (!r) {
		if (a->sub)
			api_sub_free(a->sub);
		if (a->fd >= 0)
			close(a->fd);
		free(a->body);
		a->body = NULL;
		return MHD_NO;
	}
	add_common_headers(r, a);
	if (close_after)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	enum MHD_Result ok = MHD_queue_response(c, (unsigned)a->status, r);
	MHD_destroy_response(r);
	api_metrics_request(a->metric_route, method, a->status,
			    (double)(now_ms() - start_ms) / 1000.0);
	(void)h;
	return ok;
}

static enum MHD_Result refuse(struct api_http *h, struct MHD_Connection *c, struct req *rq,
			      int status, const char *code, const char *msg, enum api_method m,
			      int route)
{
	struct api_answer a;
	memset(&a, 0, sizeof(a));
	a.fd = -1;
	a.metric_route = route;
	api_answer_error(&a, status, code, msg);
	if (status == 503)
		a.retry_after = 2;
	rq->answered = 1;
	return send_answer(h, c, &a, 1, m, rq->start_ms);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	(void)version;
	struct api_http *h = cls;
	struct req *rq = *con_cls;
	enum api_method m = api_method_from_name(method);
	if (!rq) {
		if (!(rq = calloc(1, sizeof(*rq))))
			return MHD_NO;
		rq->start_ms = now_ms();
		*con_cls = rq;
		struct conn *k = conn_of(c);
		if (k && k->over_limit)
			return refuse(
				h, c, rq, 503, "unavailable",
				"too many connections (from this address, or in all); try again", m,
				API_METRIC_ROUTE_NONE);
		const union MHD_ConnectionInfo *hs =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
		if (hs && hs->header_size > API_HEADER_MAX)
			return refuse(h, c, rq, 431, "headers_too_large",
				      "the request line and headers are over 16 KiB", m,
				      API_METRIC_ROUTE_NONE);
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > API_BODY_MAX)
			return refuse(h, c, rq, 413, "too_large", "the body is over 1 MiB", m,
				      API_METRIC_ROUTE_NONE);
		return MHD_YES;
	}
	if (rq->answered) { /* refused already: drop the rest of the body */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (rq->too_large || rq->len + n > API_BODY_MAX) {
			rq->too_large = 1;
			return MHD_YES;
		}
		if (rq->len + n + 1 > rq->cap) {
			size_t cap = rq->cap ? rq->cap : 4096;
			while (cap < rq->len + n + 1)
				cap *= 2;
			char *b = realloc(rq->body, cap);
			if (!b)
				return MHD_NO;
			rq->body = b;
			rq->cap = cap;
		}
		memcpy(rq->body + rq->len, upload_data, n);
		rq->len += n;
		rq->body[rq->len] = '\0';
		return MHD_YES;
	}
	/* The whole request is here. */
	set_deadline(h, conn_of(c), 0);
	if (rq->too_large)
		return refuse(h, c, rq, 413, "too_large", "the body is over 1 MiB", m,
			      API_METRIC_ROUTE_NONE);
	char qtext[8192];
	struct qbuild qb = { qtext, 0, sizeof(qtext), 0 };
	qtext[0] = '\0';
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_arg, &qb);
	if (qb.over)
		return refuse(h, c, rq, 400, "bad_query", "the query string is too long", m,
			      API_METRIC_ROUTE_NONE);
	struct api_request in = {
		.method = m,
		.path = url,
		.query = qb.len ? qtext : NULL,
		.authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_AUTHORIZATION),
		.content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							    MHD_HTTP_HEADER_CONTENT_TYPE),
		.body = rq->body,
		.len = rq->len,
	};
	struct api_answer a;
	api_handle(h->ctx, &in, &a);
	rq->answered = 1;
	if (a.status >= 500)
		log_warn(LOG_C, "%s %s: %d %.300s", method, url, a.status, a.body ? a.body : "");
	else
		log_debug(LOG_C, "%s %s: %d", method, url, a.status);
	return send_answer(h, c, &a, 0, m, rq->start_ms);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)toe;
	struct api_http *h = cls;
	struct req *rq = *con_cls;
	if (rq) {
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
	/* The connection may carry another request: it owes one again. */
	set_deadline(h, conn_of(c), now_ms() + (int64_t)h->o.timeout_s * 1000);
}

/* URLs and query arguments arrive raw: api_route.c decodes each path
 * parameter after the split, api_map.c each query value. */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char buf[256];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	size_t n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	log_debug(LOG_C, "libmicrohttpd: %s", buf);
}

/* ---- start and stop ------------------------------------------------------------------ */

static void reaper_stop(struct api_http *h)
{
	pthread_mutex_lock(&h->mu);
	h->stopping = 1;
	pthread_cond_signal(&h->reaper_cond);
	pthread_mutex_unlock(&h->mu);
	pthread_join(h->reaper, NULL);
}

/* Free what start made (the listening socket when still ours). */
static void release(struct api_http *h)
{
	if (h->listen_fd >= 0)
		close(h->listen_fd);
	free(h->cert);
	free(h->key);
	pthread_cond_destroy(&h->reaper_cond);
	pthread_mutex_destroy(&h->mu);
	free(h);
}

struct api_http *api_http_start(const struct api_http_opts *o, const struct api_ctx *ctx, char *msg,
				size_t cap)
{
	struct api_http *h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(msg, cap, "out of memory");
		return NULL;
	}
	h->o = *o;
	h->ctx = ctx;
	h->listen_fd = -1;
	pthread_mutex_init(&h->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->reaper_cond, &ca);
	pthread_condattr_destroy(&ca);
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	if ((!o->tls_cert) != (!o->tls_key)) {
		snprintf(msg, cap, "--tls-cert and --tls-key go together");
		goto fail;
	}
	if (o->tls_cert) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			snprintf(msg, cap, "this libmicrohttpd has no TLS support");
			goto fail;
		}
		if (!(h->cert = listen_read_pem(o->tls_cert, "--tls-cert", msg, cap)) ||
		    !(h->key = listen_read_pem(o->tls_key, "--tls-key", msg, cap)))
			goto fail;
		flags |= MHD_USE_TLS;
	}
	if (listen_open("--listen", h->o.listen, 128, &h->listen_fd, h->address, sizeof(h->address),
			msg, cap) < 0)
		goto fail;
	if (pthread_create(&h->reaper, NULL, reaper_main, h) != 0) {
		snprintf(msg, cap, "cannot start the reaper thread");
		goto fail;
	}
	pthread_setname_np(h->reaper, "uspc-api-reaper");
	struct MHD_OptionItem tls[] = {
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, h->cert },
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, h->key },
		{ MHD_OPTION_END, 0, NULL },
	};
	/* The library gets its own descriptor of the socket: whether it closes
	 * it when it fails to start or not, ours stays ours to close, and a
	 * number is never closed twice (a second close could hit a descriptor
	 * another thread opened meanwhile, such as a database connection). */
	int lib_fd = fcntl(h->listen_fd, F_DUPFD_CLOEXEC, 0);
	if (lib_fd < 0) {
		snprintf(msg, cap, "dup of the listening socket: %s", strerror(errno));
		reaper_stop(h);
		goto fail;
	}
	h->mhd = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
		MHD_OPTION_LISTEN_SOCKET, lib_fd, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)(o->max_connections + CONN_SLACK), MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		(unsigned)(o->max_per_ip + CONN_SLACK), MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)o->timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)API_HEADER_MEMORY, MHD_OPTION_THREAD_STACK_SIZE, (size_t)THREAD_STACK,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, h, MHD_OPTION_NOTIFY_COMPLETED,
		on_completed, h, MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, h, MHD_OPTION_ARRAY,
		o->tls_cert ? tls : tls + 2, MHD_OPTION_END);
	close(h->listen_fd); /* the library's copy listens */
	h->listen_fd = -1;
	if (!h->mhd) {
		snprintf(msg, cap, "libmicrohttpd did not start%s",
			 o->tls_cert ? " (check the TLS certificate and key)" : "");
		reaper_stop(h);
		goto fail;
	}
	return h;
fail:
	release(h);
	return NULL;
}

const char *api_http_address(const struct api_http *h)
{
	return h->address;
}

void api_http_quiesce(struct api_http *h)
{
	if (h && h->mhd) {
		MHD_socket fd = MHD_quiesce_daemon(h->mhd);
		if (fd != MHD_INVALID_SOCKET)
			close(fd);
	}
}

void api_http_stop(struct api_http *h)
{
	if (!h)
		return;
	/* Requests still waiting on the engine end now (their tasks not yet
	 * sent are canceled, as when uspctl is interrupted). */
	uspctl_run_interrupt();
	MHD_stop_daemon(h->mhd);
	reaper_stop(h);
	release(h);
}
