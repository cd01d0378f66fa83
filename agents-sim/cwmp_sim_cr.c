/*
 * cwmp_sim_cr.c — connection requests (ACS -> CPE) for one worker's CPEs:
 * one libmicrohttpd daemon driven by the worker's epoll loop (see
 * cwmp_sim_cr.h). Owns the daemon, its epoll registration, a timer for
 * its connection timeouts and its Digest nonces. Digest is checked with
 * acs_digest (the ACS's own, fuzzed and unit-tested), not libmicrohttpd's:
 * in 0.9.75 that one refused a share of concurrent requests (42 of 242 in
 * a 200-CPE fan-out). Loop thread of the worker.
 */
#include "cwmp_sim_cr.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "acs_auth.h"
#include "acs_digest.h"
#include "cwmp_sim_http.h"

#define CR_REALM "uspc-cwmp-sim"
#define CR_NONCE_TIMEOUT 300 /* seconds a nonce stays good */
#define CR_NONCES_USED 65536 /* nonces remembered as used */

struct cwmp_sim_cr {
	struct cwmp_io_src src; /* first: the epoll pointer */
	struct sim_loop *loop;
	struct MHD_Daemon *d;
	struct cwmp_sim_cr_ops ops;
	struct sim_timer timer;
	int epfd;
	int port;
	struct acs_digest_key key;
	struct acs_digest_used used;
};

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* 401 with a new nonce. */
static enum MHD_Result challenge(struct cwmp_sim_cr *cr, struct MHD_Connection *conn, int stale)
{
	char nonce[ACS_DIGEST_NONCE_LEN + 1], hdr[512];
	struct MHD_Response *r = MHD_create_response_from_buffer(13, (void *)"unauthorized\n",
								 MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	if (acs_digest_nonce(&cr->key, now_us(), nonce) < 0 ||
	    acs_digest_challenge(CR_REALM, nonce, stale, hdr, sizeof(hdr)) < 0 ||
	    MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, hdr) != MHD_YES) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	enum MHD_Result rc = MHD_queue_response(conn, MHD_HTTP_UNAUTHORIZED, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned code, const char *text)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	enum MHD_Result rc = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return rc;
}

/* "/cr/<index>" -> index; -1 for anything else. */
static long parse_index(const char *url)
{
	if (strncmp(url, "/cr/", 4) || !url[4])
		return -1;
	long v = 0;
	for (const char *s = url + 4; *s; s++) {
		if (*s < '0' || *s > '9' || v > 100000000)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_len, void **con_cls)
{
	struct cwmp_sim_cr *cr = cls;
	char user[CWMP_SIM_CR_CRED_MAX], pass[CWMP_SIM_CR_CRED_MAX];
	(void)version;
	(void)upload;
	if (*upload_len) { /* a body is not expected; read and drop it */
		*upload_len = 0;
		return MHD_YES;
	}
	if (!*con_cls) { /* first call: headers only; answer on the next */
		*con_cls = cr;
		return MHD_YES;
	}
	if (strcmp(method, "GET") && strcmp(method, "POST"))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	long idx = parse_index(url);
	int found = idx < 0 ? -1 : cr->ops.lookup(cr->ops.arg, (uint32_t)idx, user, pass);
	if (found < 0)
		return reply(conn, MHD_HTTP_NOT_FOUND, "no such CPE\n");
	if (found > 0)
		return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "CPE is down\n");
	const char *hv =
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (!hv) /* the first, unauthenticated request */
		return challenge(cr, conn, 0);
	struct acs_digest_auth a;
	enum acs_digest_verdict v = ACS_DIGEST_BAD;
	int64_t now = now_us();
	if (acs_digest_parse(hv, &a) == 0 && !strcmp(a.username, user)) {
		uint8_t ha1[16];
		acs_auth_ha1(user, CR_REALM, pass, ha1);
		v = acs_digest_check(&cr->key, &a, CR_REALM, method, url, ha1, now,
				     CR_NONCE_TIMEOUT);
		if (v == ACS_DIGEST_OK && !acs_digest_used_take(&cr->used, a.nonce, now))
			v = ACS_DIGEST_STALE;
	}
	if (v != ACS_DIGEST_OK) {
		if (v != ACS_DIGEST_STALE)
			cr->ops.denied(cr->ops.arg, (uint32_t)idx);
		return challenge(cr, conn, v == ACS_DIGEST_STALE);
	}
	enum MHD_Result rc = reply(conn, MHD_HTTP_OK, "");
	cr->ops.request(cr->ops.arg, (uint32_t)idx);
	return rc;
}

static void arm(struct cwmp_sim_cr *cr)
{
	MHD_UNSIGNED_LONG_LONG t = 1000;
	if (MHD_get_timeout(cr->d, &t) != MHD_YES || t > 1000)
		t = 1000; /* at least once a second */
	sim_timer_arm(cr->loop, &cr->timer, (uint64_t)t);
}

static void on_io(struct cwmp_io_src *src, uint32_t events)
{
	struct cwmp_sim_cr *cr = (struct cwmp_sim_cr *)src;
	(void)events;
	MHD_run(cr->d);
	arm(cr);
}

static void on_timer(struct sim_timer *t)
{
	struct cwmp_sim_cr *cr = sim_container_of(t, struct cwmp_sim_cr, timer);
	MHD_run(cr->d);
	arm(cr);
}

struct cwmp_sim_cr *cwmp_sim_cr_new(struct sim_loop *loop, const char *host, int port,
				    const struct cwmp_sim_cr_ops *ops, char *errbuf, size_t errlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		snprintf(errbuf, errlen, "--cr-host %s: not an IPv4 address", host);
		return NULL;
	}
	struct cwmp_sim_cr *cr = calloc(1, sizeof(*cr));
	if (!cr) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	cr->src.fn = on_io;
	cr->loop = loop;
	cr->ops = *ops;
	sim_timer_init(&cr->timer, on_timer);
	if (acs_digest_key_init(&cr->key) < 0 ||
	    acs_digest_used_init(&cr->used, CR_NONCES_USED, CR_NONCE_TIMEOUT) < 0) {
		snprintf(errbuf, errlen, "no random bytes or memory for Digest nonces");
		free(cr);
		return NULL;
	}
	cr->d = MHD_start_daemon(MHD_USE_EPOLL, 0, NULL, NULL, on_request, cr, MHD_OPTION_SOCK_ADDR,
				 (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_TIMEOUT,
				 (unsigned)10, MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
				 MHD_OPTION_END);
	if (!cr->d) {
		snprintf(errbuf, errlen, "cannot listen on %s:%d for connection requests", host,
			 port);
		acs_digest_used_fini(&cr->used);
		free(cr);
		return NULL;
	}
	const union MHD_DaemonInfo *ei = MHD_get_daemon_info(cr->d, MHD_DAEMON_INFO_EPOLL_FD);
	const union MHD_DaemonInfo *pi = MHD_get_daemon_info(cr->d, MHD_DAEMON_INFO_BIND_PORT);
	cr->epfd = ei ? ei->epoll_fd : -1;
	cr->port = pi ? pi->port : port;
	if (cr->epfd < 0 || sim_loop_add(loop, cr->epfd, EPOLLIN, cr) < 0) {
		snprintf(errbuf, errlen, "cannot watch the connection-request listener");
		MHD_stop_daemon(cr->d);
		acs_digest_used_fini(&cr->used);
		free(cr);
		return NULL;
	}
	arm(cr);
	return cr;
}

void cwmp_sim_cr_free(struct cwmp_sim_cr *cr)
{
	if (!cr)
		return;
	sim_timer_cancel(cr->loop, &cr->timer);
	sim_loop_del(cr->loop, cr->epfd);
	MHD_stop_daemon(cr->d);
	acs_digest_used_fini(&cr->used);
	free(cr);
}

int cwmp_sim_cr_port(const struct cwmp_sim_cr *cr)
{
	return cr->port;
}
