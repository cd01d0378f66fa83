/*
 * core_metrics.c — the HTTP listener of /metrics and /healthz. It owns the
 * listening socket, one libmicrohttpd daemon and the thread that drives it
 * ("uspc-metrics"); it never touches the core's state: the core thread
 * hands it a copy of its numbers (core_metrics_publish, under mu) and the
 * listener renders that copy.
 *
 * libmicrohttpd runs in its external-event mode (MHD_USE_EPOLL, MHD_run) on
 * our thread rather than in a thread of its own, so that the loop can also
 * enforce what the library has no option for: a deadline for a whole
 * request. Its own connection timeout is an idle timeout, which a client
 * sending its headers a byte a second (slowloris) never reaches; here each
 * connection gets CORE_METRICS_CONN_TIMEOUT_S to deliver a complete request
 * (counted from its accept, or from the end of its previous response), and
 * the loop shuts down the socket of one that does not. Everything the
 * library calls back (the request handler, the connection and completion
 * notices) runs on this thread, and so does the reaper: the connection
 * table needs no lock, and a socket is never shut down after the library
 * closed it.
 *
 * Limits: CORE_METRICS_MAX_CONN connections (the library leaves the ones
 * past that in the kernel's listen queue until a slot frees, which the
 * deadline makes at most CORE_METRICS_CONN_TIMEOUT_S away),
 * CORE_METRICS_MEMORY_LIMIT bytes of request line and headers per
 * connection, GET and HEAD only (405 with Allow), no request body (413),
 * two paths (404 for the others).
 */
#include "core_metrics.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "core_config.h"
#include "log.h"

#define METRICS_LOG "metrics"
#define CT_METRICS "text/plain; version=0.0.4; charset=utf-8"
#define CT_TEXT "text/plain; charset=utf-8"
#define LOOP_WAIT_MS 250 /* the reaper's resolution */

/* A connection the library holds (metrics thread only). */
struct conn_slot {
	int used;
	int fd;
	int64_t waiting_since_ms; /* waiting for a request since; 0: serving one */
	int cut;                  /* its socket was shut down by the reaper */
};

struct core_metrics {
	pthread_mutex_t mu;
	struct core_metrics_snap snap; /* under mu: the core's latest */
	/* set at start, read-only after */
	char version[CORE_METRICS_VERSION_MAX];
	char address[300];
	int listen_fd; /* closed by MHD_stop_daemon once the daemon exists */
	struct MHD_Daemon *mhd;
	int loop_ep, stop_fd;
	pthread_t thread;
	int thread_started;
	/* metrics thread only */
	struct conn_slot conns[CORE_METRICS_MAX_CONN + 4];
	uint64_t scrapes;
	uint64_t cut_total;
	struct core_metrics_snap view; /* the copy a scrape renders */
	char *text;
	size_t text_cap;
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- connections and the request deadline --------------------------------- */

static struct conn_slot *slot_of(struct core_metrics *m, struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct core_metrics *m = cls;
	struct conn_slot *s = *socket_context;
	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (s)
			s->used = 0;
		*socket_context = NULL;
		return;
	}
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	for (size_t i = 0; ci && i < sizeof(m->conns) / sizeof(m->conns[0]); i++) {
		if (m->conns[i].used)
			continue;
		m->conns[i] = (struct conn_slot){ 1, ci->connect_fd, mono_ms(), 0 };
		*socket_context = &m->conns[i];
		return;
	}
	/* Not reached: the library's connection limit is below the table's
	 * size. Such a connection would still have the library's idle timeout. */
	*socket_context = NULL;
}

/* A response was sent (or the request failed): a kept-alive connection
 * waits for its next request from now. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct conn_slot *s = slot_of(cls, conn);
	if (s)
		s->waiting_since_ms = mono_ms();
}

/* Shut down the sockets of connections past their deadline; the library
 * then reads EOF and closes them in its next run. */
static void reap(struct core_metrics *m)
{
	int64_t now = mono_ms();
	for (size_t i = 0; i < sizeof(m->conns) / sizeof(m->conns[0]); i++) {
		struct conn_slot *s = &m->conns[i];
		if (!s->used || s->cut || !s->waiting_since_ms ||
		    now - s->waiting_since_ms < CORE_METRICS_CONN_TIMEOUT_S * 1000)
			continue;
		shutdown(s->fd, SHUT_RDWR);
		s->cut = 1;
		m->cut_total++;
		log_debug(METRICS_LOG,
			  "connection cut: no complete request within %d s (%llu so far)",
			  CORE_METRICS_CONN_TIMEOUT_S, (unsigned long long)m->cut_total);
	}
}

/* ---- requests ---------------------------------------------------------------- */

/* Queue a response of len bytes of text (copied). */
static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status, const char *ctype,
			       const char *text, size_t len, const char *allow)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	enum MHD_Result rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result respond_text(struct MHD_Connection *conn, unsigned status, const char *text,
				    const char *allow)
{
	return respond(conn, status, CT_TEXT, text, strlen(text), allow);
}

static enum MHD_Result serve_metrics(struct core_metrics *m, struct MHD_Connection *conn)
{
	pthread_mutex_lock(&m->mu);
	m->view = m->snap;
	pthread_mutex_unlock(&m->mu);
	m->view.scrapes = ++m->scrapes;
	memcpy(m->view.version, m->version, sizeof(m->view.version));
	size_t n = core_metrics_render(&m->view, m->text, m->text_cap);
	if (n >= m->text_cap) {
		char *t = realloc(m->text, n + 1);
		if (!t)
			return respond_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n",
					    NULL);
		m->text = t;
		m->text_cap = n + 1;
		n = core_metrics_render(&m->view, m->text, m->text_cap);
	}
	return respond(conn, MHD_HTTP_OK, CT_METRICS, m->text, n, NULL);
}

/* 200 "ready" only with the broker and the database connected and no stop
 * under way; else 503 naming what is not. */
static enum MHD_Result serve_health(struct core_metrics *m, struct MHD_Connection *conn)
{
	pthread_mutex_lock(&m->mu);
	int mqtt = m->snap.mqtt_connected, db = m->snap.db_connected;
	int draining = m->snap.draining;
	pthread_mutex_unlock(&m->mu);
	if (mqtt && db && !draining)
		return respond_text(conn, MHD_HTTP_OK, "ready\n", NULL);
	char buf[128];
	snprintf(buf, sizeof(buf), "not ready: %s%s%s%s%s\n", mqtt ? "" : "mqtt down",
		 !mqtt && !db ? ", " : "", db ? "" : "database down",
		 draining && !(mqtt && db) ? ", " : "", draining ? "draining" : "");
	return respond_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, buf, NULL);
}

/* A request body announced (Content-Length other than 0, or chunked). */
static int has_body(struct MHD_Connection *conn)
{
	const char *cl =
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_TRANSFER_ENCODING);
	return te != NULL || (cl != NULL && strspn(cl, "0") != strlen(cl));
}

/* Called once the request line and headers are in: every request is
 * answered at once, a body is never read. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	struct core_metrics *m = cls;
	if (*req_cls) {
		/* Not reached: the first call already queued the response. */
		*upload_data_size = 0;
		return MHD_NO;
	}
	*req_cls = m;
	struct conn_slot *s = slot_of(m, conn);
	if (s)
		s->waiting_since_ms = 0;
	int get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
	if (!get && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return respond_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n",
				    "GET, HEAD");
	if (has_body(conn))
		return respond_text(conn, MHD_HTTP_CONTENT_TOO_LARGE, "no request body accepted\n",
				    NULL);
	if (strcmp(url, "/metrics") == 0)
		return serve_metrics(m, conn);
	if (strcmp(url, "/healthz") == 0)
		return serve_health(m, conn);
	return respond_text(conn, MHD_HTTP_NOT_FOUND, "not found: try /metrics or /healthz\n",
			    NULL);
}

/* The library's own messages (a refused connection, a malformed request):
 * debug lines of this component. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[256];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	size_t n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	log_debug(METRICS_LOG, "libmicrohttpd: %s", buf);
}

/* ---- the thread ---------------------------------------------------------------- */

static void *metrics_main(void *arg)
{
	struct core_metrics *m = arg;
	pthread_setname_np(pthread_self(), "uspc-metrics");
	for (;;) {
		int wait_ms = LOOP_WAIT_MS;
		MHD_UNSIGNED_LONG_LONG to;
		if (MHD_get_timeout(m->mhd, &to) == MHD_YES && to < (MHD_UNSIGNED_LONG_LONG)wait_ms)
			wait_ms = (int)to;
		struct epoll_event ev[2];
		int n = epoll_wait(m->loop_ep, ev, 2, wait_ms);
		if (n < 0 && errno != EINTR) {
			log_error(METRICS_LOG, "epoll_wait: %s; /metrics and /healthz stop",
				  strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++)
			if (ev[i].data.fd == m->stop_fd)
				return NULL;
		MHD_run(m->mhd);
		reap(m);
	}
	return NULL;
}

/* ---- start and stop ------------------------------------------------------------ */

static void format_address(const struct sockaddr_storage *sa, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		snprintf(buf, cap, "[%s]:%u", ip, (unsigned)ntohs(a->sin6_port));
	} else {
		const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		snprintf(buf, cap, "%s:%u", ip, (unsigned)ntohs(a->sin_port));
	}
}

/* Resolve and bind listen; the socket listens, non-blocking. */
static int open_listener(struct core_metrics *m, const char *listen_at, struct uspc_err *err)
{
	char host[256], port_s[8];
	int port;
	const char *why = NULL;
	if (core_config_parse_listen(listen_at, host, sizeof(host), &port, &why) != 0)
		return uspc_err_set(err, USPC_E_CONFIG, "metrics_listen \"%.300s\": %s", listen_at,
				    why);
	snprintf(port_s, sizeof(port_s), "%d", port);
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
				  .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	int gai = getaddrinfo(host, port_s, &hints, &res);
	if (gai != 0)
		return uspc_err_set(err, USPC_E_CONFIG,
				    "metrics_listen %.300s: cannot resolve %s: %s", listen_at, host,
				    gai_strerror(gai));
	int e = 0;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
				ai->ai_protocol);
		if (fd < 0) {
			e = e ? e : errno;
			continue;
		}
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 64) == 0) {
			m->listen_fd = fd;
			break;
		}
		e = e ? e : errno;
		close(fd);
	}
	freeaddrinfo(res);
	if (m->listen_fd < 0)
		return uspc_err_set(err, USPC_E_CONFIG,
				    "metrics_listen %.300s: cannot listen: %s (errno %d)",
				    listen_at, strerror(e), e);
	struct sockaddr_storage sa;
	socklen_t sl = sizeof(sa);
	if (getsockname(m->listen_fd, (struct sockaddr *)&sa, &sl) != 0)
		return uspc_err_set(err, USPC_E_SYS, "metrics listener: getsockname: %s",
				    strerror(errno));
	format_address(&sa, m->address, sizeof(m->address));
	return 0;
}

static int start_mhd(struct core_metrics *m, struct uspc_err *err)
{
	m->mhd = MHD_start_daemon(
		MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, m,
		MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, m, MHD_OPTION_LISTEN_SOCKET, m->listen_fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)CORE_METRICS_MAX_CONN,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CORE_METRICS_CONN_TIMEOUT_S,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CORE_METRICS_MEMORY_LIMIT,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, m, MHD_OPTION_NOTIFY_COMPLETED,
		on_completed, m, MHD_OPTION_END);
	if (!m->mhd)
		return uspc_err_set(err, USPC_E_SYS,
				    "metrics listener on %s: libmicrohttpd did not start",
				    m->address);
	m->listen_fd = -1; /* the daemon's now: MHD_stop_daemon closes it */
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	m->loop_ep = epoll_create1(EPOLL_CLOEXEC);
	m->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!di || m->loop_ep < 0 || m->stop_fd < 0)
		return uspc_err_set(err, USPC_E_SYS, "metrics listener: epoll/eventfd: %s",
				    strerror(errno));
	int fds[2] = { di->epoll_fd, m->stop_fd };
	for (int i = 0; i < 2; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = fds[i] };
		if (epoll_ctl(m->loop_ep, EPOLL_CTL_ADD, fds[i], &ev) != 0)
			return uspc_err_set(err, USPC_E_SYS, "metrics listener: epoll_ctl: %s",
					    strerror(errno));
	}
	return 0;
}

int core_metrics_start(const char *listen_at, const char *version, struct core_metrics **out,
		       struct uspc_err *err)
{
	*out = NULL;
	struct core_metrics *m = calloc(1, sizeof(*m));
	if (!m)
		return uspc_err_set(err, USPC_E_NOMEM, "out of memory");
	pthread_mutex_init(&m->mu, NULL);
	m->listen_fd = m->loop_ep = m->stop_fd = -1;
	snprintf(m->version, sizeof(m->version), "%s", version ? version : "");
	int rc = open_listener(m, listen_at, err);
	if (rc == 0)
		rc = start_mhd(m, err);
	if (rc == 0 && pthread_create(&m->thread, NULL, metrics_main, m) != 0)
		rc = uspc_err_set(err, USPC_E_SYS, "metrics listener: thread not started");
	if (rc != 0) {
		core_metrics_stop(m);
		return rc;
	}
	m->thread_started = 1;
	*out = m;
	return 0;
}

const char *core_metrics_address(const struct core_metrics *m)
{
	return m->address;
}

void core_metrics_publish(struct core_metrics *m, const struct core_metrics_snap *s)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->mu);
	m->snap = *s;
	pthread_mutex_unlock(&m->mu);
}

void core_metrics_stop(struct core_metrics *m)
{
	if (!m)
		return;
	if (m->thread_started) {
		uint64_t one = 1;
		if (write(m->stop_fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
			log_warn(METRICS_LOG, "stop: eventfd write: %s", strerror(errno));
		pthread_join(m->thread, NULL);
	}
	if (m->mhd)
		MHD_stop_daemon(m->mhd);
	if (m->listen_fd >= 0)
		close(m->listen_fd);
	if (m->loop_ep >= 0)
		close(m->loop_ep);
	if (m->stop_fd >= 0)
		close(m->stop_fd);
	pthread_mutex_destroy(&m->mu);
	free(m->text);
	free(m);
}
