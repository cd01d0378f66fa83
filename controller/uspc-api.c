/*
 * uspc-api.c — main of the HTTP API daemon (docs/api.md): flags and
 * environment, the database schema check, then the pool, the events
 * thread and the HTTP listener (controller/api/), and a main loop that
 * waits for signals and tells systemd how it is (READY=1, STATUS=,
 * WATCHDOG=1, STOPPING=1).
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

#include <systemd/sd-daemon.h>

#include "api_events.h"
#include "api_handle.h"
#include "api_http.h"
#include "api_metrics.h"
#include "store_pool.h"
#include "cli_flags.h"
#include "log.h"
#include "store_conn.h"
#include "store_schema.h"

#ifndef USPC_VERSION
#define USPC_VERSION "0.1.0"
#endif
#ifndef USPC_CONSOLE_DIR
#define USPC_CONSOLE_DIR "/usr/share/uspc/console"
#endif

#define LOG_C "uspc-api"
#define START_DB_TRIES_S 30
#define STATUS_EVERY_MS 5000 /* systemd's STATUS= line */

struct opts {
	const char *db, *listen, *tls_cert, *tls_key, *console, *log_level;
	int db_connections, max_connections, max_per_ip, max_events_clients, timeout_s;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: uspc-api [options]\n"
		"The HTTP API, event streams, metrics and web console of uspc, over its\n"
		"PostgreSQL database (docs/api.md). Every flag can also be given in the\n"
		"environment as USPC_API_<FLAG> (USPC_API_LISTEN=...); flags win.\n"
		"\n"
		"  --db URL                 PostgreSQL conninfo or URI (default $USPC_DB);\n"
		"                           the password from PGPASSFILE or $USPC_DB_PASSWORD\n"
		"  --listen HOST:PORT       address (default 127.0.0.1:8480; [::1]:8480 for\n"
		"                           IPv6; port 0: any free port, logged at start)\n"
		"  --tls-cert FILE          PEM certificate (chain): serve HTTPS\n"
		"  --tls-key FILE           PEM private key of --tls-cert\n"
		"  --console DIR            the web console's files (default %s;\n"
		"                           \"\": no console)\n"
		"  --db-connections N       PostgreSQL connections (default 8, 1..256)\n"
		"  --max-connections N      HTTP connections at once (default 256, 1..4096)\n"
		"  --max-per-ip N           HTTP connections from one address (default 64)\n"
		"  --max-events-clients N   event streams at once (default 200)\n"
		"  --timeout S              idle connection and request deadline, seconds\n"
		"                           (default 30, 1..3600)\n"
		"  --log-level L            error, warn, info, debug (default info)\n"
		"  -h, --help               this text\n"
		"  -V, --version            print the version\n",
		USPC_CONSOLE_DIR);
}

enum {
	O_DB = 256,
	O_LISTEN,
	O_TLS_CERT,
	O_TLS_KEY,
	O_CONSOLE,
	O_DB_CONNECTIONS,
	O_MAX_CONNECTIONS,
	O_MAX_PER_IP,
	O_MAX_EVENTS,
	O_TIMEOUT,
	O_LOG_LEVEL
};

static const struct option long_opts[] = {
	{ "db", required_argument, NULL, O_DB },
	{ "listen", required_argument, NULL, O_LISTEN },
	{ "tls-cert", required_argument, NULL, O_TLS_CERT },
	{ "tls-key", required_argument, NULL, O_TLS_KEY },
	{ "console", required_argument, NULL, O_CONSOLE },
	{ "db-connections", required_argument, NULL, O_DB_CONNECTIONS },
	{ "max-connections", required_argument, NULL, O_MAX_CONNECTIONS },
	{ "max-per-ip", required_argument, NULL, O_MAX_PER_IP },
	{ "max-events-clients", required_argument, NULL, O_MAX_EVENTS },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "log-level", required_argument, NULL, O_LOG_LEVEL },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* One setting from a flag's value: 0, or -1 after a message. */
static int apply(void *ctx, int id, const char *v)
{
	struct opts *o = ctx;
	switch (id) {
	case O_DB:
		o->db = v;
		return 0;
	case O_LISTEN:
		o->listen = v;
		return 0;
	case O_TLS_CERT:
		o->tls_cert = *v ? v : NULL;
		return 0;
	case O_TLS_KEY:
		o->tls_key = *v ? v : NULL;
		return 0;
	case O_CONSOLE:
		o->console = v;
		return 0;
	case O_DB_CONNECTIONS:
		return cli_int_in("uspc-api", "--db-connections", v, 1, 256, &o->db_connections);
	case O_MAX_CONNECTIONS:
		return cli_int_in("uspc-api", "--max-connections", v, 1, 4096, &o->max_connections);
	case O_MAX_PER_IP:
		return cli_int_in("uspc-api", "--max-per-ip", v, 1, 4096, &o->max_per_ip);
	case O_MAX_EVENTS:
		return cli_int_in("uspc-api", "--max-events-clients", v, 0, 4096,
				  &o->max_events_clients);
	case O_TIMEOUT:
		return cli_int_in("uspc-api", "--timeout", v, 1, 3600, &o->timeout_s);
	case O_LOG_LEVEL:
		if (log_level_from_name(v) < 0) {
			fprintf(stderr, "uspc-api: unknown log level '%s'\n", v);
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
	int rc = cli_parse("uspc-api", USPC_VERSION, "USPC_API_", argc, argv, long_opts, apply, o,
			   usage);
	if (rc)
		return rc;
	if (o->max_per_ip > o->max_connections)
		o->max_per_ip = o->max_connections;
	return 0;
}

/* The schema must be there and current: migrate as uspctl does, retrying
 * for a while when the database is not up yet. */
static int prepare_db(const struct opts *o)
{
	struct uspc_err err = { 0 };
	if (store_schema_ready(o->db, "uspc-api", START_DB_TRIES_S, &err) == 0)
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
	struct opts o = { .listen = "127.0.0.1:8480",
			  .console = USPC_CONSOLE_DIR,
			  .log_level = "info",
			  .db_connections = 8,
			  .max_connections = 256,
			  .max_per_ip = 64,
			  .max_events_clients = 200,
			  .timeout_s = 30 };
	log_journal_detect();
	int rc = parse_args(argc, argv, &o);
	if (rc)
		return rc > 0 ? 0 : 2;
	log_set_level((enum log_level)log_level_from_name(o.log_level));
	if (o.console && *o.console) {
		struct stat st;
		if (stat(o.console, &st) != 0 || !S_ISDIR(st.st_mode)) {
			log_warn(LOG_C, "no console directory %s: the console is not served",
				 o.console);
			o.console = NULL;
		}
	}
	/* Signals go to the main loop only (sigtimedwait); every thread
	 * started below inherits the mask. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (prepare_db(&o) < 0)
		return 1;
	struct store_pool *pool = store_pool_new(o.db, o.db_connections, "uspc-api");
	struct api_events *ev = pool ? api_events_start(o.db, pool, o.max_events_clients) : NULL;
	if (!ev) {
		log_error(LOG_C, "out of memory or threads at start");
		store_pool_free(pool);
		return 1;
	}
	static int waiting;
	struct api_ctx ctx = { .pool = pool,
			       .events = ev,
			       .console_dir = o.console,
			       .db_wait_ms = 5000,
			       .max_waiting = o.db_connections / 2 > 0 ? o.db_connections / 2 : 1,
			       .waiting = &waiting };
	struct api_http_opts ho = { .listen = o.listen,
				    .tls_cert = o.tls_cert,
				    .tls_key = o.tls_key,
				    .max_connections = o.max_connections,
				    .max_per_ip = o.max_per_ip,
				    .timeout_s = o.timeout_s };
	char msg[512];
	struct api_http *http = api_http_start(&ho, &ctx, msg, sizeof(msg));
	if (!http) {
		log_error(LOG_C, "%s", msg);
		api_events_stop(ev);
		api_events_free(ev);
		store_pool_free(pool);
		return 1;
	}
	log_info(LOG_C, "listening on %s://%s/ (console: %s)", o.tls_cert ? "https" : "http",
		 api_http_address(http), o.console ? o.console : "off");
	sd_notifyf(0, "READY=1\nSTATUS=serving on %s", api_http_address(http));

	uint64_t wd_usec = 0;
	int64_t wd_ms = sd_watchdog_enabled(0, &wd_usec) > 0 ? (int64_t)(wd_usec / 1000) : 0;
	int64_t next_wd = 0, next_status = mono_ms() + STATUS_EVERY_MS;
	for (;;) {
		/* Wake for the watchdog's quarter interval, at least every second. */
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
		/* Alive while the events thread turns (it would not while
		 * wedged); a database outage alone does not stop it. */
		if (wd_ms > 0 && now >= next_wd && now - api_events_alive_ms(ev) < wd_ms / 2) {
			sd_notify(0, "WATCHDOG=1");
			next_wd = now + wd_ms / 4;
		}
		if (now >= next_status) { /* systemctl status uspc-api */
			struct store_pool_stats ps;
			char line[200];
			store_pool_stats(pool, &ps);
			api_metrics_status(&ps, line, sizeof(line));
			sd_notifyf(0, "STATUS=serving on %s: %s", api_http_address(http), line);
			next_status = now + STATUS_EVERY_MS;
		}
	}
	sd_notify(0, "STOPPING=1\nSTATUS=stopping: closing event streams and connections");
	api_http_quiesce(http);
	api_events_stop(ev);
	api_http_stop(http);
	api_events_free(ev);
	store_pool_free(pool);
	log_info(LOG_C, "stopped");
	return 0;
}
