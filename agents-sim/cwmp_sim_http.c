/*
 * cwmp_sim_http.c — libcurl multi handles on a worker's epoll loop (see
 * cwmp_sim_http.h). Owns the connections, their sockets' epoll
 * registrations and the worker's DNS share. Memory that an epoll event of
 * the current iteration may still point to (a socket's record, a
 * connection) is put on a graveyard and destroyed by a zero-delay timer,
 * which sim_loop fires after all I/O of the iteration: freeing a socket
 * record inside curl's callback would leave a dangling pointer in the
 * event array. Loop thread of the worker.
 */
#include "cwmp_sim_http.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "cwmp_msg.h"

struct sock {
	struct cwmp_io_src src; /* first: the epoll pointer */
	struct cwmp_http_conn *conn;
	struct sock *next; /* the connection's list, or the graveyard */
	curl_socket_t fd;
	int dead;
};

enum req_kind { R_NONE, R_POST, R_GET };

struct cwmp_http_conn {
	struct cwmp_http *h;
	CURLM *multi;
	CURL *easy;
	struct sim_timer timer;
	struct sock *socks;
	struct cwmp_http_conn *next_dead;
	cwmp_http_done_fn done;
	void *arg;
	int chunked, empty_chunked;
	uint8_t kind;     /* enum req_kind in flight */
	uint8_t attached; /* easy is in multi */
	uint8_t dying;
	char *body; /* request body (owned) */
	size_t body_len, body_off;
	char *rbuf; /* response */
	size_t rlen, rcap;
	uint64_t bytes;
	char errbuf[CURL_ERROR_SIZE];
};

struct cwmp_http {
	struct sim_loop *loop;
	CURLSH *share;
	struct curl_slist *h_soap, *h_soap_chunked, *h_empty, *h_empty_chunked;
	struct cwmp_http_conn *dead_conns;
	struct sock *dead_socks;
	struct sim_timer reaper;
	size_t live;
};

void cwmp_io_dispatch(void *ptr, uint32_t events)
{
	struct cwmp_io_src *src = ptr;
	src->fn(src, events);
}

/* ---- destruction at a safe point ---- */

static void destroy_conn(struct cwmp_http_conn *c)
{
	struct cwmp_http *h = c->h;
	c->dying = 1; /* curl's callbacks during cleanup do nothing */
	sim_timer_cancel(h->loop, &c->timer);
	for (struct sock *s = c->socks, *n; s; s = n) {
		n = s->next;
		sim_loop_del(h->loop, s->fd);
		free(s);
	}
	c->socks = NULL;
	if (c->attached)
		curl_multi_remove_handle(c->multi, c->easy);
	curl_easy_cleanup(c->easy);
	curl_multi_cleanup(c->multi);
	free(c->body);
	free(c->rbuf);
	free(c);
	h->live--;
}

static void reap(struct sim_timer *t)
{
	struct cwmp_http *h = sim_container_of(t, struct cwmp_http, reaper);
	while (h->dead_conns) {
		struct cwmp_http_conn *c = h->dead_conns;
		h->dead_conns = c->next_dead;
		destroy_conn(c);
	}
	while (h->dead_socks) {
		struct sock *s = h->dead_socks;
		h->dead_socks = s->next;
		free(s);
	}
}

static void arm_reaper(struct cwmp_http *h)
{
	if (!sim_timer_armed(&h->reaper))
		sim_timer_arm(h->loop, &h->reaper, 0);
}

void cwmp_http_conn_free(struct cwmp_http_conn *c)
{
	if (!c || c->dying)
		return;
	c->dying = 1;
	sim_timer_cancel(c->h->loop, &c->timer);
	c->next_dead = c->h->dead_conns;
	c->h->dead_conns = c;
	arm_reaper(c->h);
}

/* ---- completions ---- */

static void finish(struct cwmp_http_conn *c, CURLcode code)
{
	struct cwmp_http_result r = { .curl_code = (int)code };
	curl_off_t ra = 0;
	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &r.status);
	if (curl_easy_getinfo(c->easy, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
		r.retry_after = (long)ra;
	curl_multi_remove_handle(c->multi, c->easy);
	c->attached = 0;
	c->kind = R_NONE;
	r.body = c->rbuf ? c->rbuf : "";
	r.len = c->rlen;
	r.bytes = c->bytes;
	r.error = code ? (c->errbuf[0] ? c->errbuf : curl_easy_strerror(code)) : NULL;
	c->done(c->arg, &r);
}

static void check_done(struct cwmp_http_conn *c)
{
	CURLMsg *m;
	int left;
	while (!c->dying && (m = curl_multi_info_read(c->multi, &left)))
		if (m->msg == CURLMSG_DONE && m->easy_handle == c->easy && c->attached)
			finish(c, m->data.result);
}

/* ---- libcurl's callbacks ---- */

static void on_sock_io(struct cwmp_io_src *src, uint32_t events)
{
	struct sock *s = (struct sock *)src;
	int running, flags = 0;
	if (s->dead || s->conn->dying)
		return;
	struct cwmp_http_conn *c = s->conn;
	if (events & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (events & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(c->multi, s->fd, flags, &running);
	check_done(c);
}

static void unlink_sock(struct cwmp_http_conn *c, struct sock *s)
{
	for (struct sock **pp = &c->socks; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			return;
		}
}

static int sock_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct cwmp_http_conn *c = userp;
	struct sock *s = socketp;
	(void)easy;
	if (c->dying)
		return 0;
	if (what == CURL_POLL_REMOVE) {
		if (s) {
			sim_loop_del(c->h->loop, fd);
			unlink_sock(c, s);
			s->dead = 1;
			s->next = c->h->dead_socks;
			c->h->dead_socks = s;
			arm_reaper(c->h);
			curl_multi_assign(c->multi, fd, NULL);
		}
		return 0;
	}
	uint32_t ev = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	if (!s) {
		if (!(s = calloc(1, sizeof(*s))))
			return -1;
		s->src.fn = on_sock_io;
		s->conn = c;
		s->fd = fd;
		s->next = c->socks;
		c->socks = s;
		curl_multi_assign(c->multi, fd, s);
		return sim_loop_add(c->h->loop, fd, ev, s) < 0 ? -1 : 0;
	}
	return sim_loop_mod(c->h->loop, fd, ev, s) < 0 ? -1 : 0;
}

static void on_timer(struct sim_timer *t)
{
	struct cwmp_http_conn *c = sim_container_of(t, struct cwmp_http_conn, timer);
	int running;
	if (c->dying)
		return;
	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(c);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct cwmp_http_conn *c = userp;
	(void)multi;
	if (c->dying)
		return 0;
	if (timeout_ms < 0)
		sim_timer_cancel(c->h->loop, &c->timer);
	else if (sim_timer_arm(c->h->loop, &c->timer, (uint64_t)timeout_ms) < 0)
		return -1;
	return 0;
}

static size_t write_cb(char *p, size_t size, size_t n, void *userp)
{
	struct cwmp_http_conn *c = userp;
	size_t len = size * n;
	c->bytes += len;
	if (c->kind == R_GET)
		return len;
	if (c->rlen + len > CWMP_MAX_BODY)
		return 0; /* too large: the transfer fails (CURLE_WRITE_ERROR) */
	if (c->rlen + len + 1 > c->rcap) {
		size_t nc = c->rcap ? c->rcap : 4096;
		while (nc < c->rlen + len + 1)
			nc *= 2;
		char *nb = realloc(c->rbuf, nc);
		if (!nb)
			return 0;
		c->rbuf = nb;
		c->rcap = nc;
	}
	memcpy(c->rbuf + c->rlen, p, len);
	c->rlen += len;
	c->rbuf[c->rlen] = '\0';
	return len;
}

/* Chunked request bodies come from here (libcurl frames the chunks). */
static size_t read_cb(char *buf, size_t size, size_t n, void *userp)
{
	struct cwmp_http_conn *c = userp;
	size_t want = size * n, left = c->body_len - c->body_off;
	if (want > left)
		want = left;
	if (!want)
		return 0;
	memcpy(buf, c->body + c->body_off, want);
	c->body_off += want;
	return want;
}

/* libcurl rewinds the body to send it again (after a 401 challenge). */
static int seek_cb(void *userp, curl_off_t off, int origin)
{
	struct cwmp_http_conn *c = userp;
	if (origin != SEEK_SET || off < 0 || (size_t)off > c->body_len)
		return CURL_SEEKFUNC_FAIL;
	c->body_off = (size_t)off;
	return CURL_SEEKFUNC_OK;
}

/* ---- set-up ---- */

static struct curl_slist *headers(const char *a, const char *b, const char *c)
{
	struct curl_slist *l = NULL, *t;
	const char *v[3] = { a, b, c };
	for (int i = 0; i < 3; i++) {
		if (!v[i])
			continue;
		if (!(t = curl_slist_append(l, v[i]))) {
			curl_slist_free_all(l);
			return NULL;
		}
		l = t;
	}
	return l;
}

struct cwmp_http *cwmp_http_new(struct sim_loop *loop)
{
	static int global_done;
	if (!global_done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return NULL;
		global_done = 1;
	}
	struct cwmp_http *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->loop = loop;
	sim_timer_init(&h->reaper, reap);
	h->share = curl_share_init();
	/* Content-Type: (nothing) drops libcurl's form type; "Expect:" stops a
	 * wait for 100-continue; "SOAPAction;" sends the header empty */
	h->h_soap = headers("Content-Type: text/xml; charset=\"utf-8\"", "SOAPAction;", "Expect:");
	h->h_soap_chunked = headers("Content-Type: text/xml; charset=\"utf-8\"", "SOAPAction;",
				    "Transfer-Encoding: chunked");
	h->h_empty = headers("Content-Type:", "Expect:", NULL);
	h->h_empty_chunked = headers("Content-Type:", "Transfer-Encoding: chunked", "Expect:");
	if (!h->share || !h->h_soap || !h->h_soap_chunked || !h->h_empty || !h->h_empty_chunked) {
		cwmp_http_free(h);
		return NULL;
	}
	curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	return h;
}

void cwmp_http_free(struct cwmp_http *h)
{
	if (!h)
		return;
	sim_timer_cancel(h->loop, &h->reaper);
	reap(&h->reaper);
	curl_share_cleanup(h->share);
	curl_slist_free_all(h->h_soap);
	curl_slist_free_all(h->h_soap_chunked);
	curl_slist_free_all(h->h_empty);
	curl_slist_free_all(h->h_empty_chunked);
	free(h);
}

size_t cwmp_http_live(const struct cwmp_http *h)
{
	return h->live;
}

static void easy_common(struct cwmp_http_conn *c, const struct cwmp_http_opts *o)
{
	CURL *e = c->easy;
	long ms = (long)(o->timeout_s * 1000);
	curl_easy_setopt(e, CURLOPT_PRIVATE, c);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_SHARE, c->h->share);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "uspc-cwmp-sim/" USPC_VERSION);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, ms < 10000 ? ms : 10000L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, ms);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(e, CURLOPT_READDATA, c);
	curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, seek_cb);
	curl_easy_setopt(e, CURLOPT_SEEKDATA, c);
	/* an ACS may redirect a session (TR-069 allows 301/302/307); keep POST */
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(e, CURLOPT_POSTREDIR, (long)CURL_REDIR_POST_ALL);
	if (o->cookies)
		curl_easy_setopt(e, CURLOPT_COOKIEFILE, ""); /* engine on, nothing read */
	if (o->user && *o->user) {
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)(CURLAUTH_BASIC | CURLAUTH_DIGEST));
		curl_easy_setopt(e, CURLOPT_USERNAME, o->user);
		curl_easy_setopt(e, CURLOPT_PASSWORD, o->password ? o->password : "");
	}
	if (o->cafile)
		curl_easy_setopt(e, CURLOPT_CAINFO, o->cafile);
	if (o->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
}

struct cwmp_http_conn *cwmp_http_conn_new(struct cwmp_http *h, const struct cwmp_http_opts *o,
					  cwmp_http_done_fn done, void *arg)
{
	struct cwmp_http_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->h = h;
	c->done = done;
	c->arg = arg;
	c->chunked = o->chunked;
	c->empty_chunked = o->empty_chunked;
	sim_timer_init(&c->timer, on_timer);
	c->multi = curl_multi_init();
	c->easy = curl_easy_init();
	if (!c->multi || !c->easy) {
		curl_multi_cleanup(c->multi);
		curl_easy_cleanup(c->easy);
		free(c);
		return NULL;
	}
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	easy_common(c, o);
	h->live++;
	return c;
}

static int start(struct cwmp_http_conn *c)
{
	c->rlen = 0;
	c->bytes = 0;
	c->errbuf[0] = '\0';
	if (c->rbuf)
		c->rbuf[0] = '\0';
	if (curl_multi_add_handle(c->multi, c->easy) != CURLM_OK)
		return -1;
	c->attached = 1;
	return 0;
}

int cwmp_http_post(struct cwmp_http_conn *c, const char *url, const char *body, size_t len)
{
	CURL *e = c->easy;
	if (c->dying || c->kind != R_NONE)
		return -1;
	free(c->body);
	c->body = NULL;
	c->body_len = c->body_off = 0;
	if (len) {
		if (!(c->body = malloc(len)))
			return -1;
		memcpy(c->body, body, len);
		c->body_len = len;
	}
	int chunked = len ? c->chunked : c->empty_chunked;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	if (chunked) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, NULL);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)-1);
	} else {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->body ? c->body : "");
	}
	struct cwmp_http *h = c->h;
	curl_easy_setopt(e, CURLOPT_HTTPHEADER,
			 len ? (chunked ? h->h_soap_chunked : h->h_soap)
			     : (chunked ? h->h_empty_chunked : h->h_empty));
	c->kind = R_POST;
	if (start(c) < 0) {
		c->kind = R_NONE;
		return -1;
	}
	return 0;
}

int cwmp_http_get(struct cwmp_http_conn *c, const char *url, const char *user, const char *password)
{
	CURL *e = c->easy;
	if (c->dying || c->kind != R_NONE)
		return -1;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(e, CURLOPT_FAILONERROR, 0L);
	if (user && *user) {
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)(CURLAUTH_BASIC | CURLAUTH_DIGEST));
		curl_easy_setopt(e, CURLOPT_USERNAME, user);
		curl_easy_setopt(e, CURLOPT_PASSWORD, password ? password : "");
	}
	c->kind = R_GET;
	if (start(c) < 0) {
		c->kind = R_NONE;
		return -1;
	}
	return 0;
}
