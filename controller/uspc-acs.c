/*
 * uspc-acs.c — main of the TR-069 (CWMP) ACS daemon (docs/tr069.md):
 * flags and environment, the schema check, then the store writer, the
 * lease feeder, the session table, the HTTP listeners and the
 * connection-request thread (controller/acs/), and a main loop that waits
 * for signals and tells systemd how it is.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <systemd/sd-daemon.h>

#include "acs.h"
#include "acs_auth.h"
#include "acs_cr.h"
#include "acs_http.h"
#include "acs_session.h"
#include "cwmp_msg.h"
#include "cli_flags.h"
#include "log.h"
#include "store_conn.h"
#include "store_pool.h"
#include "store_schema.h"
#include "store_tasks.h"
#include "store_writer.h"

#ifndef USPC_VERSION
#define USPC_VERSION "0.1.0"
#endif

#define LOG_C "uspc-acs"
#define START_DB_TRIES_S 30
#define STATUS_EVERY_MS 5000
#define KEY_MIN 16 /* bytes of a password key file, at least */

struct opts {
	struct acs_settings s;
	const char *log_level, *auth, *cpe_key_file, *cr_key_file;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: uspc-acs [options]\n"
		"The TR-069 (CWMP) ACS of uspc: TR-069 devices in the same inventory, tasks,\n"
		"campaigns and profiles as USP agents (docs/tr069.md). Every flag can also be\n"
		"given in the environment as USPC_ACS_<FLAG> (USPC_ACS_LISTEN=...); flags win.\n"
		"\n"
		"  --db URL                    PostgreSQL conninfo or URI (default $USPC_DB)\n"
		"  --node-id NAME              this ACS's name for task and session leases\n"
		"                              (default acs-<hostname>; unique per process)\n"
		"  --listen HOST:PORT          CWMP listener (default 127.0.0.1:7547)\n"
		"  --tls-cert FILE             PEM certificate (chain): serve HTTPS\n"
		"  --tls-key FILE              PEM private key of --tls-cert\n"
		"  --metrics-listen HOST:PORT  /metrics and /healthz (default 127.0.0.1:9547;\n"
		"                              \"\": none)\n"
		"  --auth MODE                 digest (default), basic or none\n"
		"  --realm NAME                authentication realm (default uspc-acs)\n"
		"  --cpe-username-template T   CPE usernames: %%o OUI, %%p ProductClass,\n"
		"                              %%s SerialNumber, %%e endpoint id (default %%o-%%s)\n"
		"  --cpe-password-key-file F   key deriving each CPE's password (HMAC-SHA256);\n"
		"                              without it only per-device credentials work\n"
		"  --cr-username-template T    connection-request usernames (default %%o-%%s)\n"
		"  --cr-password-key-file F    key deriving connection-request passwords;\n"
		"                              without it no connection requests are sent\n"
		"  --max-sessions N            sessions at once; past it 503 (default 2000)\n"
		"  --retry-after S             503's Retry-After, plus up to as much jitter\n"
		"                              (default 60)\n"
		"  --session-idle S            end a session idle this long (default 30)\n"
		"  --session-max S             end a session this old (default 300)\n"
		"  --max-body BYTES            largest request body (default 1048576)\n"
		"  --threads N                 HTTP worker threads (default 4)\n"
		"  --db-connections N          PostgreSQL connections (default 16)\n"
		"  --tasks-per-session N       tasks claimed per round (default 16)\n"
		"  --online-factor K           online = informed within K intervals (default 2)\n"
		"  --default-interval S        periodic interval assumed when unknown\n"
		"                              (default 86400)\n"
		"  --cr-concurrency N          connection requests in flight (default 64)\n"
		"  --cr-timeout S              a connection request's time limit (default 10)\n"
		"  --cr-min-gap S              seconds before a device that did not answer\n"
		"                              a request with a session gets another\n"
		"                              (default 30)\n"
		"  --log-level L               error, warn, info, debug (default info)\n"
		"  -h, --help                  this text\n"
		"  -V, --version               print the version\n");
}

enum {
	O_DB = 256,
	O_NODE_ID,
	O_LISTEN,
	O_TLS_CERT,
	O_TLS_KEY,
	O_METRICS_LISTEN,
	O_AUTH,
	O_REALM,
	O_CPE_TMPL,
	O_CPE_KEY,
	O_CR_TMPL,
	O_CR_KEY,
	O_MAX_SESSIONS,
	O_RETRY_AFTER,
	O_SESSION_IDLE,
	O_SESSION_MAX,
	O_MAX_BODY,
	O_THREADS,
	O_DB_CONNECTIONS,
	O_TASKS_PER_SESSION,
	O_ONLINE_FACTOR,
	O_DEFAULT_INTERVAL,
	O_CR_CONCURRENCY,
	O_CR_TIMEOUT,
	O_CR_MIN_GAP,
	O_LOG_LEVEL
};

static const struct option long_opts[] = {
	{ "db", required_argument, NULL, O_DB },
	{ "node-id", required_argument, NULL, O_NODE_ID },
	{ "listen", required_argument, NULL, O_LISTEN },
	{ "tls-cert", required_argument, NULL, O_TLS_CERT },
	{ "tls-key", required_argument, NULL, O_TLS_KEY },
	{ "metrics-listen", required_argument, NULL, O_METRICS_LISTEN },
	{ "auth", required_argument, NULL, O_AUTH },
	{ "realm", required_argument, NULL, O_REALM },
	{ "cpe-username-template", required_argument, NULL, O_CPE_TMPL },
	{ "cpe-password-key-file", required_argument, NULL, O_CPE_KEY },
	{ "cr-username-template", required_argument, NULL, O_CR_TMPL },
	{ "cr-password-key-file", required_argument, NULL, O_CR_KEY },
	{ "max-sessions", required_argument, NULL, O_MAX_SESSIONS },
	{ "retry-after", required_argument, NULL, O_RETRY_AFTER },
	{ "session-idle", required_argument, NULL, O_SESSION_IDLE },
	{ "session-max", required_argument, NULL, O_SESSION_MAX },
	{ "max-body", required_argument, NULL, O_MAX_BODY },
	{ "threads", required_argument, NULL, O_THREADS },
	{ "db-connections", required_argument, NULL, O_DB_CONNECTIONS },
	{ "tasks-per-session", required_argument, NULL, O_TASKS_PER_SESSION },
	{ "online-factor", required_argument, NULL, O_ONLINE_FACTOR },
	{ "default-interval", required_argument, NULL, O_DEFAULT_INTERVAL },
	{ "cr-concurrency", required_argument, NULL, O_CR_CONCURRENCY },
	{ "cr-timeout", required_argument, NULL, O_CR_TIMEOUT },
	{ "cr-min-gap", required_argument, NULL, O_CR_MIN_GAP },
	{ "log-level", required_argument, NULL, O_LOG_LEVEL },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static int template_ok(const char *flag, const char *t)
{
	int uses = 0;
	for (const char *p = t; *p; p++) {
		if (*p != '%')
			continue;
		p++;
		if (*p == 'o' || *p == 'p' || *p == 's' || *p == 'e')
			uses = 1;
		else if (*p != '%') {
			fprintf(stderr,
				"uspc-acs: %s '%s': unknown %%-escape (%%o %%p %%s %%e %%%%)\n",
				flag, t);
			return -1;
		}
	}
	if (!uses) {
		fprintf(stderr, "uspc-acs: %s '%s' names no device (%%o %%p %%s or %%e)\n", flag,
			t);
		return -1;
	}
	return 0;
}

/* One setting from a flag's value: 0, or -1 after a message. */
static int apply(void *ctx, int id, const char *v)
{
	struct opts *o = ctx;
	struct acs_settings *s = &o->s;
	switch (id) {
	case O_DB:
		s->db = v;
		return 0;
	case O_NODE_ID:
		if (!*v || strlen(v) > 64) {
			fprintf(stderr, "uspc-acs: --node-id wants 1 to 64 characters\n");
			return -1;
		}
		s->node_id = v;
		return 0;
	case O_LISTEN:
		s->listen = v;
		return 0;
	case O_TLS_CERT:
		s->tls_cert = *v ? v : NULL;
		return 0;
	case O_TLS_KEY:
		s->tls_key = *v ? v : NULL;
		return 0;
	case O_METRICS_LISTEN:
		s->metrics_listen = v;
		return 0;
	case O_AUTH:
		if (strcmp(v, "digest") && strcmp(v, "basic") && strcmp(v, "none")) {
			fprintf(stderr, "uspc-acs: --auth is digest, basic or none, not '%s'\n", v);
			return -1;
		}
		o->auth = v;
		return 0;
	case O_REALM:
		if (!*v || strlen(v) > 128 || strchr(v, '"')) {
			fprintf(stderr, "uspc-acs: --realm wants 1 to 128 characters, no '\"'\n");
			return -1;
		}
		s->realm = v;
		return 0;
	case O_CPE_TMPL:
		s->cpe_username_template = v;
		return template_ok("--cpe-username-template", v);
	case O_CPE_KEY:
		o->cpe_key_file = *v ? v : NULL;
		return 0;
	case O_CR_TMPL:
		s->cr_username_template = v;
		return template_ok("--cr-username-template", v);
	case O_CR_KEY:
		o->cr_key_file = *v ? v : NULL;
		return 0;
	case O_MAX_SESSIONS:
		return cli_int_in("uspc-acs", "--max-sessions", v, 1, 100000, &s->max_sessions);
	case O_RETRY_AFTER:
		return cli_int_in("uspc-acs", "--retry-after", v, 1, 86400, &s->retry_after_s);
	case O_SESSION_IDLE:
		return cli_int_in("uspc-acs", "--session-idle", v, 1, 3600, &s->session_idle_s);
	case O_SESSION_MAX:
		return cli_int_in("uspc-acs", "--session-max", v, 1, 86400, &s->session_max_s);
	case O_MAX_BODY:
		return cli_int_in("uspc-acs", "--max-body", v, 4096, 4 * 1024 * 1024, &s->max_body);
	case O_THREADS:
		return cli_int_in("uspc-acs", "--threads", v, 1, 256, &s->threads);
	case O_DB_CONNECTIONS:
		return cli_int_in("uspc-acs", "--db-connections", v, 1, 256, &s->db_connections);
	case O_TASKS_PER_SESSION:
		return cli_int_in("uspc-acs", "--tasks-per-session", v, 1, 1000,
				  &s->tasks_per_session);
	case O_ONLINE_FACTOR:
		return cli_int_in("uspc-acs", "--online-factor", v, 1, 100, &s->online_factor);
	case O_DEFAULT_INTERVAL:
		return cli_int_in("uspc-acs", "--default-interval", v, 1, 31536000,
				  &s->default_interval_s);
	case O_CR_CONCURRENCY:
		return cli_int_in("uspc-acs", "--cr-concurrency", v, 1, 4096, &s->cr_concurrency);
	case O_CR_TIMEOUT:
		return cli_int_in("uspc-acs", "--cr-timeout", v, 1, 300, &s->cr_timeout_s);
	case O_CR_MIN_GAP:
		return cli_int_in("uspc-acs", "--cr-min-gap", v, 0, 86400, &s->cr_min_gap_s);
	case O_LOG_LEVEL:
		if (log_level_from_name(v) < 0) {
			fprintf(stderr, "uspc-acs: unknown log level '%s'\n", v);
			return -1;
		}
		o->log_level = v;
		return 0;
	default:
		return -1;
	}
}

/* -1 exit 2, 1 exit 0, 0 run. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	int rc = cli_parse("uspc-acs", USPC_VERSION, "USPC_ACS_", argc, argv, long_opts, apply, o,
			   usage);
	if (rc)
		return rc;
	o->s.auth = !strcmp(o->auth, "basic")  ? ACS_AUTH_BASIC
		    : !strcmp(o->auth, "none") ? ACS_AUTH_NONE
					       : ACS_AUTH_DIGEST;
	return 0;
}

/* A key file's bytes (trailing newlines dropped): at least KEY_MIN. */
static unsigned char *read_key(const char *flag, const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "uspc-acs: %s %s: %s\n", flag, path, strerror(errno));
		return NULL;
	}
	unsigned char *buf = malloc(ACS_KEY_MAX + 1);
	size_t n = buf ? fread(buf, 1, ACS_KEY_MAX + 1, f) : 0;
	fclose(f);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (!buf || n < KEY_MIN || n > ACS_KEY_MAX) {
		fprintf(stderr, "uspc-acs: %s %s: want %d to %d bytes of key\n", flag, path,
			KEY_MIN, ACS_KEY_MAX);
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

static int prepare_db(const struct opts *o)
{
	struct uspc_err err = { 0 };
	if (store_schema_ready(o->s.db, "uspc-acs", START_DB_TRIES_S, &err) == 0)
		return 0;
	log_error(LOG_C, "cannot use the database: %s", err.msg);
	return -1;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	static char node[80];
	char host[64] = "localhost";
	gethostname(host, sizeof(host) - 1);
	snprintf(node, sizeof(node), "acs-%s", host);
	struct opts o = { .s = { .node_id = node,
				 .listen = "127.0.0.1:7547",
				 .metrics_listen = "127.0.0.1:9547",
				 .realm = "uspc-acs",
				 .cpe_username_template = "%o-%s",
				 .cr_username_template = "%o-%s",
				 .max_sessions = 2000,
				 .retry_after_s = 60,
				 .session_idle_s = 30,
				 .session_max_s = 300,
				 .max_body = 1024 * 1024,
				 .threads = 4,
				 .db_connections = 16,
				 .tasks_per_session = 16,
				 .online_factor = 2,
				 .default_interval_s = 86400,
				 .cr_concurrency = 64,
				 .cr_timeout_s = 10,
				 .cr_min_gap_s = 30 },
			  .log_level = "info",
			  .auth = "digest" };
	log_journal_detect();
	int rc = parse_args(argc, argv, &o);
	if (rc)
		return rc > 0 ? 0 : 2;
	log_set_level((enum log_level)log_level_from_name(o.log_level));
	unsigned char *cpe_key = NULL, *cr_key = NULL;
	if (o.cpe_key_file &&
	    !(cpe_key = read_key("--cpe-password-key-file", o.cpe_key_file, &o.s.cpe_key_len)))
		return 2;
	if (o.cr_key_file &&
	    !(cr_key = read_key("--cr-password-key-file", o.cr_key_file, &o.s.cr_key_len))) {
		free(cpe_key);
		return 2;
	}
	o.s.cpe_key = cpe_key;
	o.s.cr_key = cr_key;
	if (o.s.auth != ACS_AUTH_NONE && !cpe_key)
		log_warn(LOG_C, "no --cpe-password-key-file: only devices with their own row in "
				"cwmp_credentials can start a session");
	if (o.s.auth == ACS_AUTH_NONE)
		log_warn(LOG_C, "--auth none: any client can speak for any device (tests only)");
	if (!cr_key)
		log_info(LOG_C, "no --cr-password-key-file: no connection requests; tasks wait "
				"for each device's next Inform");

	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	cwmp_init();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error(LOG_C, "libcurl did not initialise");
		return 1;
	}
	if (prepare_db(&o) < 0)
		return 1;

	struct acs a = { .set = o.s };
	struct uspc_err err = { 0 };
	struct store_conn_opts co = { .conninfo = o.s.db };
	struct store_writer_opts wo = { .conn = co,
					.node_id = o.s.node_id,
					.statement_timeout_ms = 60000 };
	struct store_tasks_opts to = {
		.conn = co, .node_id = o.s.node_id, .claim_none = 1, .statement_timeout_ms = 60000
	};
	struct store_tasks *feeder = NULL;
	struct acs_http *http = NULL;
	struct acs_cr *cr = NULL;
	char msg[512] = "";
	int ret = 1;
	a.pool = store_pool_new(o.s.db, o.s.db_connections, "uspc-acs");
	if (!a.pool) {
		log_error(LOG_C, "out of memory at start");
		goto out;
	}
	if (store_tasks_start(&to, &feeder, &err) < 0) {
		log_error(LOG_C, "task leases: %s", err.msg);
		goto out;
	}
	if (store_writer_start(&wo, &a.writer, &err) < 0) {
		log_error(LOG_C, "store writer: %s", err.msg);
		goto out;
	}
	a.sessions = acs_sessions_new(&a);
	if (!a.sessions || acs_sessions_start(a.sessions) < 0) {
		log_error(LOG_C, "cannot start the session reaper");
		goto out;
	}
	http = acs_http_start(&a, msg, sizeof(msg));
	if (!http) {
		log_error(LOG_C, "%s", msg);
		goto out;
	}
	cr = acs_cr_start(&a, msg, sizeof(msg));
	if (!cr) {
		log_error(LOG_C, "%s", msg);
		goto out;
	}
	log_info(LOG_C, "node %s: CWMP on %s://%s/, metrics on %s, auth %s", o.s.node_id,
		 o.s.tls_cert ? "https" : "http", acs_http_address(http),
		 *acs_http_metrics_address(http) ? acs_http_metrics_address(http) : "(off)",
		 o.auth);
	sd_notifyf(0, "READY=1\nSTATUS=serving CWMP on %s", acs_http_address(http));

	uint64_t wd_usec = 0;
	int64_t wd_ms = sd_watchdog_enabled(0, &wd_usec) > 0 ? (int64_t)(wd_usec / 1000) : 0;
	int64_t next_wd = 0, next_status = mono_ms() + STATUS_EVERY_MS;
	for (;;) {
		int64_t tick_ms = wd_ms > 0 && wd_ms / 4 < 1000 ? wd_ms / 4 : 1000;
		struct timespec tick = { tick_ms / 1000, (long)(tick_ms % 1000) * 1000000L };
		int sig = sigtimedwait(&sigs, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT) {
			log_info(LOG_C, "signal %d: stopping", sig);
			break;
		}
		if (sig == SIGHUP)
			log_info(LOG_C, "SIGHUP: nothing to reload (restart to change settings)");
		int64_t now = mono_ms();
		if (wd_ms > 0 && now >= next_wd) {
			sd_notify(0, "WATCHDOG=1");
			next_wd = now + wd_ms / 4;
		}
		if (now >= next_status) {
			sd_notifyf(0, "STATUS=serving CWMP on %s: %d sessions, %llu informs",
				   acs_http_address(http), atomic_load(&a.n.sessions_active),
				   (unsigned long long)atomic_load(&a.n.informs));
			next_status = now + STATUS_EVERY_MS;
		}
	}
	sd_notify(0, "STOPPING=1\nSTATUS=stopping: ending sessions");
	ret = 0;
out:
	acs_cr_stop(cr);
	acs_http_stop(http);
	acs_sessions_free(a.sessions);
	if (a.writer) {
		size_t lost = store_writer_stop(a.writer, 10000);
		if (lost)
			ret = 1;
	}
	store_tasks_stop(feeder);
	store_pool_free(a.pool);
	curl_global_cleanup();
	free(cpe_key);
	free(cr_key);
	log_info(LOG_C, "stopped");
	return ret;
}
