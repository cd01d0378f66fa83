/*
 * acs_cr.c — the connection-request thread (see acs_cr.h). Owns its
 * PostgreSQL connection and its libcurl handles. It also keeps CWMP
 * devices' presence (agents.online) every 30 s.
 */
#include "acs_cr.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libpq-fe.h>

#include "acs_auth.h"
#include "log.h"
#include "store_conn.h"

#define LOG_C "acs-cr"
#define LOOK_EVERY_MS 5000
#define PICK_MAX 1000 /* devices per round */
#define PRESENCE_EVERY_MS 30000
#define UDP_COPIES 3 /* datagrams per UDP connection request: UDP may lose one */

struct acs_cr {
	struct acs *a;
	pthread_t th;
	int stop_fd;
	PGconn *db;
};

/* One device to wake. */
struct target {
	char eid[CWMP_EID_MAX];
	char url[1024];
	char udp[320]; /* UDPConnectionRequestAddress: woken by UDP instead */
	char user[ACS_USERNAME_MAX];
	char pass[ACS_DERIVED_PASSWORD_LEN + 1];
	CURL *h;
	long status;
	char err[CURL_ERROR_SIZE];
	int ok;
};

static const char PICK_SQL[] =
	"WITH d AS (SELECT c.eid FROM cwmp_devices c "
	"WHERE c.eid = ANY(ARRAY(SELECT DISTINCT t.eid FROM tasks t WHERE t.state = 'queued' "
	"AND t.not_before <= now() AND (t.expires_at IS NULL OR t.expires_at > now()))) "
	"AND ((c.conn_req_url IS NOT NULL AND c.conn_req_url <> '') OR c.udp_cr_address IS NOT NULL) "
	"AND (c.session_until IS NULL OR c.session_until < now()) "
	"AND (c.cr_sent_at IS NULL OR c.last_inform_at > c.cr_sent_at "
	"OR c.cr_sent_at < now() - make_interval(secs => $1::integer)) "
	"AND EXISTS (SELECT 1 FROM agents a WHERE a.eid = c.eid AND a.protocol = 'cwmp') "
	"LIMIT $2::integer FOR UPDATE OF c SKIP LOCKED) "
	"UPDATE cwmp_devices c SET cr_sent_at = now() FROM d, agents a "
	"WHERE c.eid = d.eid AND a.eid = d.eid "
	"RETURNING c.eid, coalesce(c.conn_req_url, ''), coalesce(a.oui, ''), "
	"coalesce(a.product_class, ''), coalesce(a.serial_number, ''), "
	"coalesce(c.udp_cr_address, '')";

static int connect_db(struct acs_cr *c)
{
	if (c->db && PQstatus(c->db) == CONNECTION_OK)
		return 0;
	if (c->db)
		PQfinish(c->db);
	c->db = NULL;
	struct uspc_err err = { 0 };
	struct store_conn_opts o = { .conninfo = c->a->set.db,
				     .application_name = "uspc-acs-cr",
				     .connect_timeout_s = 5 };
	if (store_conn_open(&o, &c->db, &err) < 0 ||
	    store_exec(c->db, "LISTEN uspc_task_new", 0, NULL, NULL, &err) < 0) {
		log_warn(LOG_C, "database: %s", err.msg);
		if (c->db)
			PQfinish(c->db);
		c->db = NULL;
		return -1;
	}
	return 0;
}

/* Wait for a notification, the stop signal or the timeout: 1 to stop. */
static int wait_wake(struct acs_cr *c, int timeout_ms)
{
	struct pollfd p[2] = { { .fd = c->stop_fd, .events = POLLIN },
			       { .fd = c->db ? PQsocket(c->db) : -1, .events = POLLIN } };
	int n = poll(p, c->db ? 2 : 1, timeout_ms);
	if (n > 0 && (p[0].revents & POLLIN))
		return 1;
	if (c->db && n > 0 && (p[1].revents & POLLIN)) {
		PQconsumeInput(c->db);
		PGnotify *nt;
		while ((nt = PQnotifies(c->db)) != NULL)
			PQfreemem(nt);
	}
	return 0;
}

static size_t discard(char *p, size_t s, size_t n, void *u)
{
	(void)p;
	(void)u;
	return s * n;
}

static void record_error(struct acs_cr *c, const struct target *t)
{
	char why[256];
	if (t->err[0])
		snprintf(why, sizeof(why), "%s", t->err);
	else
		snprintf(why, sizeof(why), "HTTP %ld", t->status);
	const char *p[2] = { t->eid, why };
	struct uspc_err err = { 0 };
	if (store_exec(c->db, "UPDATE cwmp_devices SET cr_error = $2 WHERE eid = $1", 2, p, NULL,
		       &err) < 0)
		log_warn(LOG_C, "%s: connection-request error not recorded: %s", t->eid, err.msg);
}

/* A UDP connection request (TR-069 Annex G) to x->udp: UDP_COPIES
 * datagrams of one signed message (the device acts on one id once).
 * Nothing comes back: 0 when sent, -1 with x->err set. */
static int send_udp(struct target *x)
{
	char msg[ACS_UDP_CR_MAX], host[320], cn[17];
	unsigned char rnd[12];
	uint32_t id;
	const char *colon = strrchr(x->udp, ':');
	size_t hl = colon ? (size_t)(colon - x->udp) : 0;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		snprintf(x->err, sizeof(x->err), "UDP: no random bytes");
		return -1;
	}
	memcpy(&id, rnd, sizeof(id));
	acs_hex(rnd + 4, 8, cn);
	if (acs_udp_cr_build(x->udp, x->user, x->pass, (int64_t)time(NULL), id, cn, msg,
			     sizeof(msg)) < 0 ||
	    hl >= sizeof(host)) {
		snprintf(x->err, sizeof(x->err),
			 "UDP: unusable UDPConnectionRequestAddress '%.200s'", x->udp);
		return -1;
	}
	/* "[v6]:port" or "v4:port": numeric only (what STUN reports) */
	const char *h = x->udp;
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV },
			*ai = NULL;
	int g = getaddrinfo(host, colon + 1, &hints, &ai);
	if (g != 0) {
		snprintf(x->err, sizeof(x->err), "UDP: %.200s: %s", x->udp, gai_strerror(g));
		return -1;
	}
	int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = fd < 0 ? -1 : 0;
	for (int i = 0; rc == 0 && i < UDP_COPIES; i++)
		if (sendto(fd, msg, strlen(msg), 0, ai->ai_addr, ai->ai_addrlen) < 0)
			rc = -1;
	if (rc < 0)
		snprintf(x->err, sizeof(x->err), "UDP to %.200s: %s", x->udp, strerror(errno));
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return rc;
}

/* Send the requests of one round, cr_concurrency at a time. */
static void send_all(struct acs_cr *c, struct target *t, size_t n)
{
	struct acs *a = c->a;
	CURLM *m = curl_multi_init();
	if (!m)
		return;
	curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)a->set.cr_concurrency);
	size_t next = 0, running = 0;
	for (;;) {
		while (next < n && running < (size_t)a->set.cr_concurrency) {
			struct target *x = &t[next++];
			if (x->udp[0]) {
				/* a device behind NAT: its URL is out of reach */
				ACS_COUNT(a, cr_sent);
				ACS_COUNT(a, cr_udp);
				if (send_udp(x) < 0) {
					ACS_COUNT(a, cr_failed);
					log_info(LOG_C, "%s: connection request not sent: %s",
						 x->eid, x->err);
					record_error(c, x);
				} else {
					log_debug(LOG_C, "%s: UDP connection request sent to %s",
						  x->eid, x->udp);
				}
				memset(x->pass, 0, sizeof(x->pass));
				continue;
			}
			x->h = curl_easy_init();
			if (!x->h)
				continue;
			curl_easy_setopt(x->h, CURLOPT_URL, x->url);
			curl_easy_setopt(x->h, CURLOPT_PROTOCOLS_STR, "http,https");
			curl_easy_setopt(x->h, CURLOPT_FOLLOWLOCATION, 0L);
			curl_easy_setopt(x->h, CURLOPT_HTTPAUTH, CURLAUTH_DIGEST | CURLAUTH_BASIC);
			curl_easy_setopt(x->h, CURLOPT_USERNAME, x->user);
			curl_easy_setopt(x->h, CURLOPT_PASSWORD, x->pass);
			curl_easy_setopt(x->h, CURLOPT_TIMEOUT, (long)a->set.cr_timeout_s);
			curl_easy_setopt(x->h, CURLOPT_CONNECTTIMEOUT, (long)a->set.cr_timeout_s);
			curl_easy_setopt(x->h, CURLOPT_NOSIGNAL, 1L);
			curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, discard);
			curl_easy_setopt(x->h, CURLOPT_ERRORBUFFER, x->err);
			curl_easy_setopt(x->h, CURLOPT_PRIVATE, x);
			curl_easy_setopt(x->h, CURLOPT_USERAGENT, "uspc-acs");
			curl_multi_add_handle(m, x->h);
			running++;
			ACS_COUNT(a, cr_sent);
		}
		if (!running)
			break;
		int still = 0;
		curl_multi_perform(m, &still);
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct target *x = NULL;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &x->status);
			x->ok = msg->data.result == CURLE_OK &&
				(x->status == 200 || x->status == 204);
			if (msg->data.result != CURLE_OK && !x->err[0])
				snprintf(x->err, sizeof(x->err), "%s",
					 curl_easy_strerror(msg->data.result));
			curl_multi_remove_handle(m, msg->easy_handle);
			curl_easy_cleanup(msg->easy_handle);
			x->h = NULL;
			running--;
			if (x->ok) {
				ACS_COUNT(a, cr_ok);
				log_debug(LOG_C, "%s: connection request accepted", x->eid);
			} else {
				ACS_COUNT(a, cr_failed);
				log_info(LOG_C, "%s: connection request to %s failed: %s%s%ld",
					 x->eid, x->url, x->err, x->err[0] ? "" : "HTTP ",
					 x->err[0] ? 0L : x->status);
				record_error(c, x);
			}
			memset(x->pass, 0, sizeof(x->pass));
		}
		if (running)
			curl_multi_poll(m, NULL, 0, 200, NULL);
	}
	curl_multi_cleanup(m);
}

/* One round: pick and wake. Returns how many were picked. */
static int round_once(struct acs_cr *c)
{
	struct acs *a = c->a;
	char gap[16], lim[16];
	snprintf(gap, sizeof(gap), "%d", a->set.cr_min_gap_s);
	snprintf(lim, sizeof(lim), "%d", PICK_MAX);
	const char *p[2] = { gap, lim };
	PGresult *r = NULL;
	struct uspc_err err = { 0 };
	if (store_exec(c->db, PICK_SQL, 2, p, &r, &err) < 0) {
		ACS_COUNT(a, db_errors);
		log_warn(LOG_C, "devices to wake not read: %s", err.msg);
		if (PQstatus(c->db) != CONNECTION_OK) {
			PQfinish(c->db);
			c->db = NULL;
		}
		return 0;
	}
	int rows = PQntuples(r);
	struct target *t = rows ? calloc((size_t)rows, sizeof(*t)) : NULL;
	size_t n = 0;
	for (int i = 0; t && i < rows; i++) {
		struct target *x = &t[n];
		snprintf(x->eid, sizeof(x->eid), "%s", PQgetvalue(r, i, 0));
		if ((size_t)PQgetlength(r, i, 1) >= sizeof(x->url)) {
			/* the device's own report: never sent cut short */
			log_warn(LOG_C, "%s: ConnectionRequestURL over %zu bytes: not used", x->eid,
				 sizeof(x->url) - 1);
			continue;
		}
		snprintf(x->url, sizeof(x->url), "%s", PQgetvalue(r, i, 1));
		if ((size_t)PQgetlength(r, i, 5) < sizeof(x->udp))
			snprintf(x->udp, sizeof(x->udp), "%s", PQgetvalue(r, i, 5));
		struct cwmp_device_id id = { .oui = PQgetvalue(r, i, 2),
					     .product_class = PQgetvalue(r, i, 3),
					     .serial_number = PQgetvalue(r, i, 4) };
		if (acs_auth_username(a->set.cr_username_template, &id, x->eid, x->user,
				      sizeof(x->user)) < 0 ||
		    acs_auth_derive(a->set.cr_key, a->set.cr_key_len, x->user, x->pass) < 0) {
			log_warn(LOG_C, "%s: no connection-request credentials (template '%s')",
				 x->eid, a->set.cr_username_template);
			continue;
		}
		n++;
	}
	PQclear(r);
	if (n)
		send_all(c, t, n);
	free(t);
	return rows;
}

/* Presence: a CWMP device is online while in session or within
 * online_factor periodic intervals of its last Inform; mark the others
 * offline (their agents row, as uspc does for a USP agent that left). */
static void presence(struct acs_cr *c)
{
	struct acs *a = c->a;
	char k[16], def[16];
	snprintf(k, sizeof(k), "%d", a->set.online_factor);
	snprintf(def, sizeof(def), "%d", a->set.default_interval_s);
	const char *p[2] = { k, def };
	PGresult *r = NULL;
	struct uspc_err err = { 0 };
	if (store_exec(
		    c->db,
		    "UPDATE agents a SET online = false, state_at = now(), updated_at = now() "
		    "FROM cwmp_devices c WHERE a.eid = c.eid AND a.protocol = 'cwmp' AND a.online "
		    "AND (c.session_until IS NULL OR c.session_until < now()) "
		    "AND c.last_inform_at < now() - make_interval(secs => $1::integer * "
		    "coalesce(c.periodic_inform_interval, $2::integer))",
		    2, p, &r, &err) < 0) {
		ACS_COUNT(a, db_errors);
		log_warn(LOG_C, "presence not updated: %s", err.msg);
		return;
	}
	const char *n = PQcmdTuples(r);
	if (n && strcmp(n, "0") != 0)
		log_info(LOG_C, "%s CWMP devices went offline (no Inform within %d intervals)", n,
			 a->set.online_factor);
	PQclear(r);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *cr_main(void *arg)
{
	struct acs_cr *c = arg;
	pthread_setname_np(pthread_self(), "uspc-acs-cr");
	int delay = 0;
	int64_t next_presence = 0;
	for (;;) {
		if (wait_wake(c, delay))
			break;
		if (connect_db(c) < 0) {
			delay = LOOK_EVERY_MS;
			continue;
		}
		if (mono_ms() >= next_presence) {
			presence(c);
			next_presence = mono_ms() + PRESENCE_EVERY_MS;
		}
		if (!c->a->set.cr_key) {
			delay = LOOK_EVERY_MS;
			continue;
		}
		/* A full round may have more behind it: go again at once. */
		delay = round_once(c) >= PICK_MAX ? 0 : LOOK_EVERY_MS;
	}
	if (c->db)
		PQfinish(c->db);
	c->db = NULL;
	return NULL;
}

struct acs_cr *acs_cr_start(struct acs *a, char *msg, size_t cap)
{
	struct acs_cr *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(msg, cap, "out of memory");
		return NULL;
	}
	c->a = a;
	c->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->stop_fd < 0 || pthread_create(&c->th, NULL, cr_main, c) != 0) {
		snprintf(msg, cap, "cannot start the connection-request thread");
		if (c->stop_fd >= 0)
			close(c->stop_fd);
		free(c);
		return NULL;
	}
	return c;
}

void acs_cr_stop(struct acs_cr *c)
{
	if (!c)
		return;
	uint64_t one = 1;
	if (write(c->stop_fd, &one, sizeof(one)) < 0)
		log_warn(LOG_C, "cannot signal the connection-request thread");
	pthread_join(c->th, NULL);
	close(c->stop_fd);
	free(c);
}
