/*
 * acs_http.c — uspc-acs's HTTP listeners (see acs_http.h).
 *
 * The CWMP listener runs libmicrohttpd with a pool of `threads` worker
 * threads on epoll: thousands of CPE connections cost a socket each, not
 * a thread, and a request's database work (a few milliseconds) holds up
 * only the connections of its worker. Each connection carries a struct
 * conn (the library's socket context): its peer address and the session
 * it carries, so a CPE that drops cookies keeps its session while it
 * keeps its connection.
 *
 * Responses: 200 with a SOAP envelope, 204 to end a session, 401 with a
 * challenge, 400 for a message that is not CWMP or a session that must
 * start with an Inform, 405 for another method, 413 for a body over
 * max_body (before or after it is inflated: gzip and deflate bodies are
 * accepted, as some CPEs send them), 415 for another Content-Encoding, 503
 * with Retry-After when full.
 */
#include "acs_http.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>
#include <zlib.h>

#include "acs_auth.h"
#include "acs_db.h"
#include "acs_digest.h"
#include "acs_session.h"
#include "listen.h"
#include "log.h"
#include "store_conn.h"
#include "store_pool.h"

#define LOG_C "acs-http"
#define NONCE_TIMEOUT_S 300
#define NONCES_USED_MAX 1000000   /* nonces remembered as used (about 40 MB at most) */
#define CREDENTIALS_LOOK_MS 10000 /* how stale "no per-device credentials" may be */

struct acs_http {
	struct acs *a;
	struct MHD_Daemon *mhd, *metrics;
	int fd, metrics_fd;
	char address[80], metrics_address[80];
	char *cert, *key;
	struct acs_digest_key digest_key;
	struct acs_digest_used nonces_used;
	atomic_int cred_rows;      /* cwmp_credentials has rows */
	atomic_llong cred_next_ms; /* look again from here */
};

struct conn {
	char peer[64];
	char sid[ACS_SID_LEN + 1]; /* the session this connection carries, or "" */
};

struct req {
	char *body;
	size_t len, cap;
	int too_big;
	int compressed; /* Content-Encoding gzip or deflate */
};

enum inflated { INFLATE_OK, INFLATE_TOO_BIG, INFLATE_BAD };

/* Inflate a gzip or deflate body (zlib or raw) into a new buffer of at
 * most max bytes: a small body that inflates beyond max (a "zip bomb") is
 * refused as too big, having used at most max bytes. */
static enum inflated inflate_body(struct req *r, size_t max)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		z_stream z = { 0 };
		/* 15 + 32: zlib or gzip header, told apart by zlib; -15: raw */
		if (inflateInit2(&z, attempt ? -15 : 15 + 32) != Z_OK)
			return INFLATE_BAD;
		size_t cap = 16384 < max ? 16384 : max;
		char *out = malloc(cap + 1);
		if (!out) {
			inflateEnd(&z);
			return INFLATE_BAD;
		}
		z.next_in = (unsigned char *)r->body;
		z.avail_in = (uInt)r->len;
		size_t len = 0;
		int rc = Z_OK;
		while (rc == Z_OK) {
			if (len == cap) {
				if (cap >= max) {
					rc = Z_BUF_ERROR;
					break;
				}
				size_t nc = cap * 2 < max ? cap * 2 : max;
				char *no = realloc(out, nc + 1);
				if (!no)
					break;
				out = no;
				cap = nc;
			}
			z.next_out = (unsigned char *)out + len;
			z.avail_out = (uInt)(cap - len);
			rc = inflate(&z, Z_NO_FLUSH);
			len = cap - z.avail_out;
			if (rc == Z_BUF_ERROR && z.avail_in == 0)
				break; /* truncated */
		}
		inflateEnd(&z);
		if (rc == Z_STREAM_END) {
			out[len] = '\0';
			free(r->body);
			r->body = out;
			r->len = len;
			r->cap = cap + 1;
			return INFLATE_OK;
		}
		free(out);
		if (rc == Z_BUF_ERROR && len == cap && cap >= max)
			return INFLATE_TOO_BIG;
		if (rc != Z_DATA_ERROR)
			return INFLATE_BAD;
	}
	return INFLATE_BAD;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char buf[512];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	size_t n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	log_debug(LOG_C, "libmicrohttpd: %s", buf);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	(void)cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		struct conn *k = calloc(1, sizeof(*k));
		if (!k)
			return;
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (ci && ci->client_addr)
			listen_format_address(ci->client_addr, k->peer, sizeof(k->peer));
		*socket_context = k;
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		free(*socket_context);
		*socket_context = NULL;
	}
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	struct req *r = *req_cls;
	if (r) {
		free(r->body);
		free(r);
	}
	*req_cls = NULL;
}

static struct conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

static enum MHD_Result send_status(struct MHD_Connection *c, unsigned status, int retry_after_s,
				   int close_conn)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	if (retry_after_s > 0) {
		char ra[16];
		snprintf(ra, sizeof(ra), "%d", retry_after_s);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	if (close_conn)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	enum MHD_Result ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* 405 with the Allow header HTTP requires on it. */
static enum MHD_Result send_not_allowed(struct MHD_Connection *c, const char *allow)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result send_reply(struct MHD_Connection *c, struct acs_reply *r)
{
	struct MHD_Response *resp =
		r->body ? MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE)
			: MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		acs_reply_fini(r);
		return MHD_NO;
	}
	r->body = NULL; /* the response owns it */
	if (r->len)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
					"text/xml; charset=\"utf-8\"");
	if (r->sid[0]) {
		char cookie[96];
		snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; HttpOnly", ACS_COOKIE, r->sid);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, cookie);
	}
	if (r->retry_after_s > 0) {
		char ra[16];
		snprintf(ra, sizeof(ra), "%d", r->retry_after_s);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	if (r->close)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	enum MHD_Result ret = MHD_queue_response(c, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* The session id from our cookie; some CPEs send several cookies or odd
 * separators, so the header is searched by hand rather than trusted to a
 * strict parser. */
static int cookie_sid(struct MHD_Connection *c, char sid[ACS_SID_LEN + 1])
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE);
	const char *p = h;
	size_t kl = strlen(ACS_COOKIE);
	while (p && (p = strstr(p, ACS_COOKIE)) != NULL) {
		int starts = p == h || p[-1] == ' ' || p[-1] == ';' || p[-1] == ',';
		p += kl;
		if (!starts || *p != '=')
			continue;
		p++;
		size_t n = strspn(p, "0123456789abcdef");
		if (n == ACS_SID_LEN) {
			memcpy(sid, p, ACS_SID_LEN);
			sid[ACS_SID_LEN] = '\0';
			return 1;
		}
	}
	return 0;
}

/* ---- authentication --------------------------------------------------- */

/* Whether cwmp_credentials has rows, looked at most every
 * CREDENTIALS_LOOK_MS: most fleets use derived credentials only, and then
 * an Inform costs no lookup. */
static int per_device_credentials(struct acs_http *h, PGconn *c)
{
	int64_t now = store_now_us() / 1000;
	if (now < atomic_load(&h->cred_next_ms))
		return atomic_load(&h->cred_rows);
	struct uspc_err err = { 0 };
	PGresult *r = NULL;
	int rows = 1; /* unknown: look */
	if (store_exec(c, "SELECT EXISTS (SELECT 1 FROM cwmp_credentials)", 0, NULL, &r, &err) ==
	    0) {
		rows = PQgetvalue(r, 0, 0)[0] == 't';
		PQclear(r);
		atomic_store(&h->cred_rows, rows);
		atomic_store(&h->cred_next_ms, now + CREDENTIALS_LOOK_MS);
	}
	return rows;
}

/* The credentials device eid must present: 1 and user/ha1, 0 when it has
 * none, -1 when the database failed. */
static int expected_credentials(struct acs_http *h, const struct cwmp_msg *m, const char *eid,
				char *user, size_t ulen, uint8_t ha1[16])
{
	struct acs *a = h->a;
	int slot = -1, busy = 0, rc = 0;
	struct uspc_err err = { 0 };
	char realm[256], hex[33];
	PGconn *c = store_pool_get(a->pool, 5000, &slot, &busy, &err);
	if (!c) {
		log_warn(LOG_C, "%s: credentials not read: %s", eid, err.msg);
		return -1;
	}
	if (per_device_credentials(h, c))
		rc = acs_db_credentials(c, eid, user, ulen, realm, sizeof(realm), hex, &err);
	store_pool_put(a->pool, slot, rc == STORE_E_CONN);
	if (rc < 0) {
		log_warn(LOG_C, "%s: credentials not read: %s", eid, err.msg);
		return -1;
	}
	if (rc == 1) {
		if (strcmp(realm, a->set.realm) != 0) {
			log_warn(LOG_C, "%s: its credentials are for realm '%s', this ACS is '%s'",
				 eid, realm, a->set.realm);
			return 0;
		}
		return acs_unhex(hex, ha1, 16) == 0 ? 1 : 0;
	}
	if (!a->set.cpe_key)
		return 0;
	char pw[ACS_DERIVED_PASSWORD_LEN + 1];
	if (acs_auth_username(a->set.cpe_username_template, &m->inform.device_id, eid, user, ulen) <
		    0 ||
	    acs_auth_derive(a->set.cpe_key, a->set.cpe_key_len, user, pw) < 0)
		return 0;
	acs_auth_ha1(user, a->set.realm, pw, ha1);
	memset(pw, 0, sizeof(pw));
	return 1;
}

static enum MHD_Result challenge(struct acs_http *h, struct MHD_Connection *c, int stale)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	enum MHD_Result ret;
	if (h->a->set.auth == ACS_AUTH_BASIC) {
		ret = MHD_queue_basic_auth_fail_response(c, h->a->set.realm, resp);
	} else {
		char nonce[ACS_DIGEST_NONCE_LEN + 1], hdr[512];
		if (acs_digest_nonce(&h->digest_key, store_now_us(), nonce) < 0 ||
		    acs_digest_challenge(h->a->set.realm, nonce, stale, hdr, sizeof(hdr)) < 0 ||
		    MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, hdr) !=
			    MHD_YES) {
			MHD_destroy_response(resp);
			return MHD_NO;
		}
		ret = MHD_queue_response(c, MHD_HTTP_UNAUTHORIZED, resp);
	}
	MHD_destroy_response(resp);
	return ret;
}

/* 1: the request carries the device's credentials. 0: *ret is the
 * answer already queued (a challenge, or 503). */
static int authenticate(struct acs_http *h, struct MHD_Connection *c, const char *url,
			const struct cwmp_msg *m, const char *eid, const char *peer,
			enum MHD_Result *ret)
{
	struct acs *a = h->a;
	if (a->set.auth == ACS_AUTH_NONE)
		return 1;
	/* Most sessions begin with a request without credentials: it is
	 * challenged before the device's credentials are looked up. */
	if (!MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION)) {
		*ret = challenge(h, c, 0);
		return 0;
	}
	char user[ACS_USERNAME_MAX], want[ACS_USERNAME_MAX];
	uint8_t ha1[16];
	int ok = 0, stale = 0, presented = 0;
	int have = expected_credentials(h, m, eid, want, sizeof(want), ha1);
	if (have < 0) {
		*ret = send_status(c, MHD_HTTP_SERVICE_UNAVAILABLE, a->set.retry_after_s, 1);
		return 0;
	}
	if (a->set.auth == ACS_AUTH_BASIC) {
		char *pass = NULL;
		char *u = MHD_basic_auth_get_username_password(c, &pass);
		if (u) {
			presented = 1;
			snprintf(user, sizeof(user), "%s", u);
			if (have && !strcmp(u, want) && pass) {
				uint8_t got[16];
				acs_auth_ha1(u, a->set.realm, pass, got);
				ok = acs_auth_equal(got, ha1, 16);
			}
			MHD_free(u);
		}
		if (pass) {
			memset(pass, 0, strlen(pass));
			MHD_free(pass);
		}
	} else {
		const char *hv = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_AUTHORIZATION);
		struct acs_digest_auth da;
		if (hv && acs_digest_parse(hv, &da) == 0) {
			presented = 1;
			snprintf(user, sizeof(user), "%.200s", da.username);
			if (have && !strcmp(da.username, want)) {
				int64_t now = store_now_us();
				enum acs_digest_verdict v = acs_digest_check(
					&h->digest_key, &da, a->set.realm, MHD_HTTP_METHOD_POST,
					url, ha1, now, NONCE_TIMEOUT_S);
				/* each nonce opens one session */
				if (v == ACS_DIGEST_OK &&
				    !acs_digest_used_take(&h->nonces_used, da.nonce, now))
					v = ACS_DIGEST_STALE;
				ok = v == ACS_DIGEST_OK;
				stale = v == ACS_DIGEST_STALE;
			}
		} else if (hv) {
			presented = 1;
			snprintf(user, sizeof(user), "(unreadable Authorization)");
		}
	}
	if (ok)
		return 1;
	if (presented && !stale) {
		ACS_COUNT(a, auth_failures);
		log_warn(LOG_C, "%s (%s): authentication failed for user '%s'%s", eid, peer, user,
			 have ? "" : " (no credentials for this device)");
	}
	*ret = challenge(h, c, stale);
	return 0;
}

/* ---- requests ------------------------------------------------------------ */

static enum MHD_Result bad_request(struct acs_http *h, struct MHD_Connection *c, const char *peer,
				   const char *what, const char *why)
{
	ACS_COUNT(h->a, bad_requests);
	log_warn(LOG_C, "%s: %s%s%s", peer, what, why && *why ? ": " : "", why ? why : "");
	return send_status(c, MHD_HTTP_BAD_REQUEST, 0, 1);
}

/* A whole request body of connection k. */
static enum MHD_Result on_body(struct acs_http *h, struct MHD_Connection *c, const char *url,
			       struct conn *k, struct req *r)
{
	struct acs *a = h->a;
	const char *peer = k ? k->peer : "?";
	char sid[ACS_SID_LEN + 1] = "";
	int had_cookie = cookie_sid(c, sid);
	if (!had_cookie && k && k->sid[0])
		memcpy(sid, k->sid, sizeof(sid));
	struct acs_reply out;
	if (sid[0] && acs_session_request(a, sid, r->body ? r->body : "", r->len, &out)) {
		/* 204 ends the session; 400 ended it for a protocol error. */
		if (k && (out.status == 204 || out.status == 400))
			k->sid[0] = '\0';
		return send_reply(c, &out);
	}
	/* No session: this must be an Inform that opens one. */
	struct cwmp_msg m;
	char why[200] = "";
	int rc = cwmp_parse(r->body ? r->body : "", r->len, &m, why, sizeof(why));
	if (rc < 0)
		return bad_request(h, c, peer, "not a CWMP message", why);
	if (m.method == CWMP_M_EMPTY && h->a->set.auth != ACS_AUTH_NONE && !had_cookie &&
	    !MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION)) {
		/* libcurl with Digest alone (CURLAUTH_DIGEST, curl --digest) first
		 * sends its POST empty, without credentials, to be challenged;
		 * then the Inform with them. (An empty POST with our cookie is a
		 * session that ended: 400 below.) */
		cwmp_msg_free(&m);
		return challenge(h, c, 0);
	}
	if (m.method != CWMP_M_INFORM) {
		enum MHD_Result ret = bad_request(
			h, c, peer,
			m.method == CWMP_M_EMPTY ? "empty POST outside a session (it must begin "
						   "with an Inform)"
						 : "a session must begin with an Inform, got",
			m.method == CWMP_M_EMPTY ? NULL : cwmp_method_name(m.method));
		cwmp_msg_free(&m);
		return ret;
	}
	char eid[CWMP_EID_MAX];
	if (cwmp_endpoint_id(&m.inform.device_id, eid, sizeof(eid)) < 0) {
		cwmp_msg_free(&m);
		return bad_request(h, c, peer, "Inform without a usable DeviceId",
				   "OUI and SerialNumber are required, 64 bytes each at most");
	}
	enum MHD_Result ret;
	if (!authenticate(h, c, url, &m, eid, peer, &ret)) {
		cwmp_msg_free(&m);
		return ret;
	}
	acs_session_begin(a, &m, eid, peer, &out);
	cwmp_msg_free(&m);
	if (k && out.sid[0])
		memcpy(k->sid, out.sid, sizeof(k->sid));
	return send_reply(c, &out);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **req_cls)
{
	struct acs_http *h = cls;
	(void)version;
	struct req *r = *req_cls;
	if (!r) {
		if (strcmp(method, MHD_HTTP_METHOD_POST) != 0) {
			ACS_COUNT(h->a, bad_requests);
			return send_not_allowed(c, MHD_HTTP_METHOD_POST);
		}
		const char *enc =
			MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Encoding");
		int compressed = enc && (!strcasecmp(enc, "gzip") || !strcasecmp(enc, "x-gzip") ||
					 !strcasecmp(enc, "deflate"));
		if (enc && !compressed && strcasecmp(enc, "identity") != 0) {
			ACS_COUNT(h->a, bad_requests);
			return send_status(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, 0, 1);
		}
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		r->compressed = compressed;
		*req_cls = r;
		return MHD_YES;
	}
	if (*upload_size) {
		size_t n = *upload_size;
		*upload_size = 0;
		if (r->too_big || r->len + n > (size_t)h->a->set.max_body) {
			r->too_big = 1;
			return MHD_YES;
		}
		if (r->len + n + 1 > r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 8192;
			while (cap < r->len + n + 1)
				cap *= 2;
			char *nb = realloc(r->body, cap);
			if (!nb)
				return MHD_NO;
			r->body = nb;
			r->cap = cap;
		}
		memcpy(r->body + r->len, upload, n);
		r->len += n;
		r->body[r->len] = '\0';
		return MHD_YES;
	}
	enum inflated inf = INFLATE_OK;
	if (!r->too_big && r->compressed && r->len)
		inf = inflate_body(r, (size_t)h->a->set.max_body);
	if (r->too_big || inf == INFLATE_TOO_BIG) {
		struct conn *k = conn_of(c);
		ACS_COUNT(h->a, bad_requests);
		log_warn(LOG_C, "%s: request body over %d bytes%s refused", k ? k->peer : "?",
			 h->a->set.max_body, r->too_big ? "" : " once inflated");
		return send_status(c, MHD_HTTP_CONTENT_TOO_LARGE, 0, 1);
	}
	if (inf == INFLATE_BAD) {
		struct conn *k = conn_of(c);
		return bad_request(h, c, k ? k->peer : "?",
				   "a compressed body that does not inflate", NULL);
	}
	return on_body(h, c, url, conn_of(c), r);
}

/* ---- /metrics and /healthz ----------------------------------------------- */

static char *metrics_text(struct acs *a, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	if (!f)
		return NULL;
#define C(name, field, help)                                               \
	fprintf(f,                                                         \
		"# HELP uspc_acs_" name " " help "\n# TYPE uspc_acs_" name \
		" counter\nuspc_acs_" name " %llu\n",                      \
		(unsigned long long)atomic_load_explicit(&a->n.field, memory_order_relaxed))
	C("sessions_started_total", sessions_started, "CWMP sessions begun (Inform accepted).");
	C("sessions_completed_total", sessions_completed, "Sessions that ended with HTTP 204.");
	C("sessions_timed_out_total", sessions_timed_out,
	  "Sessions ended for inactivity, length or shutdown.");
	C("sessions_dropped_total", sessions_dropped, "Sessions ended for a protocol error.");
	C("informs_total", informs, "Authenticated Informs received.");
	C("informs_duplicate_total", informs_duplicate,
	  "Informs re-sending events already stored (RetryCount > 0).");
	C("auth_failures_total", auth_failures, "Requests with wrong credentials.");
	C("overload_rejections_total", overload_503,
	  "New sessions refused with 503: max_sessions reached.");
	C("lease_rejections_total", lease_503,
	  "New sessions refused with 503: the device is in session on another node.");
	C("bad_requests_total", bad_requests, "Requests refused as malformed or out of order.");
	C("rpcs_sent_total", rpcs_sent, "ACS requests sent to CPEs.");
	C("cpe_faults_total", cpe_faults, "SOAP Faults received from CPEs.");
	C("tasks_done_total", tasks_done, "Tasks ended done.");
	C("tasks_failed_total", tasks_failed, "Tasks ended failed.");
	C("tasks_unknown_total", tasks_unknown, "Tasks whose outcome was lost with the session.");
	C("transfer_completes_total", transfer_completes, "TransferComplete reports stored.");
	C("connection_requests_total", cr_sent, "Connection requests sent.");
	C("connection_requests_ok_total", cr_ok, "Connection requests the CPE accepted.");
	C("connection_requests_udp_total", cr_udp,
	  "UDP connection requests sent (three datagrams each; no answer comes back).");
	C("connection_requests_failed_total", cr_failed,
	  "Connection requests refused, unanswered or unreachable.");
	C("db_errors_total", db_errors, "Database operations that failed.");
#undef C
	fprintf(f,
		"# HELP uspc_acs_sessions_active CWMP sessions in progress on this node.\n"
		"# TYPE uspc_acs_sessions_active gauge\nuspc_acs_sessions_active %d\n",
		atomic_load(&a->n.sessions_active));
	struct store_pool_stats ps;
	store_pool_stats(a->pool, &ps);
	fprintf(f,
		"# HELP uspc_acs_db_pool_busy Database connections lent out.\n"
		"# TYPE uspc_acs_db_pool_busy gauge\nuspc_acs_db_pool_busy %d\n"
		"# HELP uspc_acs_db_pool_timeouts_total Requests that found no free connection.\n"
		"# TYPE uspc_acs_db_pool_timeouts_total counter\n"
		"uspc_acs_db_pool_timeouts_total %llu\n",
		ps.busy, (unsigned long long)ps.timeouts);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static enum MHD_Result on_metrics(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **req_cls)
{
	struct acs_http *h = cls;
	(void)version;
	(void)upload;
	(void)upload_size;
	(void)req_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
		return send_not_allowed(c, MHD_HTTP_METHOD_GET);
	char *body = NULL;
	size_t len = 0;
	if (!strcmp(url, "/metrics"))
		body = metrics_text(h->a, &len);
	else if (!strcmp(url, "/healthz"))
		body = strdup("ok\n"), len = 3;
	else
		return send_status(c, MHD_HTTP_NOT_FOUND, 0, 0);
	if (!body)
		return send_status(c, MHD_HTTP_INTERNAL_SERVER_ERROR, 0, 0);
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; version=0.0.4; charset=utf-8");
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ---- start and stop ------------------------------------------------------ */

struct acs_http *acs_http_start(struct acs *a, char *msg, size_t cap)
{
	struct acs_http *h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(msg, cap, "out of memory");
		return NULL;
	}
	h->a = a;
	h->fd = h->metrics_fd = -1;
	const struct acs_settings *s = &a->set;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	if ((!s->tls_cert) != (!s->tls_key)) {
		snprintf(msg, cap, "--tls-cert and --tls-key go together");
		goto fail;
	}
	if (s->tls_cert) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			snprintf(msg, cap, "this libmicrohttpd has no TLS support");
			goto fail;
		}
		if (!(h->cert = listen_read_pem(s->tls_cert, "--tls-cert", msg, cap)) ||
		    !(h->key = listen_read_pem(s->tls_key, "--tls-key", msg, cap)))
			goto fail;
		flags |= MHD_USE_TLS;
	}
	if (acs_digest_key_init(&h->digest_key) < 0 ||
	    acs_digest_used_init(&h->nonces_used, NONCES_USED_MAX, NONCE_TIMEOUT_S) < 0) {
		snprintf(msg, cap, "no random bytes or memory for the Digest nonces");
		goto fail;
	}
	if (listen_open("--listen", s->listen, 4096, &h->fd, h->address, sizeof(h->address), msg,
			cap) < 0)
		goto fail;
	struct MHD_OptionItem tls[] = {
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, h->cert },
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, h->key },
		{ MHD_OPTION_END, 0, NULL },
	};
	int lib_fd = h->fd;
	h->mhd = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
		MHD_OPTION_LISTEN_SOCKET, lib_fd, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)s->threads,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)(s->max_sessions * 2 + 64),
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)s->session_idle_s,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, h, MHD_OPTION_NOTIFY_COMPLETED,
		on_completed, h, MHD_OPTION_ARRAY, s->tls_cert ? tls : tls + 2, MHD_OPTION_END);
	if (!h->mhd) {
		snprintf(msg, cap, "libmicrohttpd did not start on %s", h->address);
		goto fail;
	}
	h->fd = -1; /* the library's now */
	if (s->metrics_listen && *s->metrics_listen) {
		if (listen_open("--metrics-listen", s->metrics_listen, 64, &h->metrics_fd,
				h->metrics_address, sizeof(h->metrics_address), msg, cap) < 0)
			goto fail;
		h->metrics = MHD_start_daemon(
			MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
			on_metrics, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
			MHD_OPTION_LISTEN_SOCKET, h->metrics_fd, MHD_OPTION_CONNECTION_LIMIT, 64u,
			MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
		if (!h->metrics) {
			snprintf(msg, cap, "libmicrohttpd did not start on %s", h->metrics_address);
			goto fail;
		}
		h->metrics_fd = -1;
	}
	return h;
fail:
	acs_http_stop(h);
	return NULL;
}

const char *acs_http_address(const struct acs_http *h)
{
	return h->address;
}

const char *acs_http_metrics_address(const struct acs_http *h)
{
	return h->metrics_address;
}

void acs_http_stop(struct acs_http *h)
{
	if (!h)
		return;
	if (h->metrics)
		MHD_stop_daemon(h->metrics);
	if (h->mhd)
		MHD_stop_daemon(h->mhd);
	if (h->fd >= 0)
		close(h->fd);
	if (h->metrics_fd >= 0)
		close(h->metrics_fd);
	free(h->cert);
	free(h->key);
	acs_digest_used_fini(&h->nonces_used);
	free(h);
}
