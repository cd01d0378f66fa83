/*
 * uspctl.c — main of the batch tool: flags, input file, then the engine
 * (uspctl_run.h). JSON commands in (stdin or -f FILE), JSON results out;
 * docs/uspctl.md is the manual. Exit status 0 all ok, 1 something failed,
 * 2 usage or database errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "uspctl_run.h"

#ifndef USPC_VERSION
#define USPC_VERSION "0.1.0"
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"usage: uspctl [options] [-f FILE]\n"
		"       uspctl [options] --follow CAMPAIGN\n"
		"Reads one JSON command per line (stdin, or FILE), queues USP requests for\n"
		"agents as tasks in PostgreSQL for the uspc daemon, and prints one JSON\n"
		"result per command and agent on stdout. See docs/uspctl.md.\n"
		"\n"
		"  -f, --file FILE         read commands from FILE instead of stdin\n"
		"      --db URL            PostgreSQL conninfo or URI (default $USPC_DB);\n"
		"                          put passwords in PGPASSFILE or $USPC_DB_PASSWORD\n"
		"      --no-wait           print the task ids and return without waiting\n"
		"      --timeout S         seconds to wait for each result (default %.0f)\n"
		"      --expires S         seconds a task may wait for an offline agent\n"
		"                          (default: the timeout; with --no-wait %.0f)\n"
		"      --max-inflight N    tasks in flight at once (default 10000)\n"
		"      --poll S            safety-net poll of the task table (default 2)\n"
		"  -q, --quiet             no summary or progress on stderr\n"
		"      --progress          always show the progress line on stderr\n"
		"      --no-progress       never show it (default: on a terminal)\n"
		"      --log-level L       error, warn, info, debug (default warn)\n"
		"      --follow CAMPAIGN   show a campaign's progress (id or name) on stderr\n"
		"                          until it is finished or aborted, then print its\n"
		"                          campaign_status line (reads no commands)\n"
		"  -h, --help              this text\n"
		"  -V, --version           print the version\n"
		"\n"
		"Ops: get, set, add, delete, operate, get_supported_dm, get_instances,\n"
		"get_supported_protocol, subscribe, unsubscribe, set_attributes,\n"
		"get_attributes (TR-069 devices), list_agents, show_agent,\n"
		"tag, untag, snapshot, task_status, cancel, rejections, notifications,\n"
		"task_list, operation_results, tag_list, fleet_summary, campaign_create,\n"
		"campaign_plan, campaign_status, campaign_pause, campaign_resume,\n"
		"campaign_abort, campaign_retry_failed, campaign_devices, campaign_list,\n"
		"fleet_versions, profile_put, profile_plan, profile_status, profile_list,\n"
		"profile_delete, profile_reconcile, profile_history, profile_paths,\n"
		"profile_vars, token_create, token_list, token_revoke.\n"
		"\n"
		"Exit status: 0 every command succeeded, 1 any command or agent failed,\n"
		"2 usage error or the database could not be used. With --follow: 0 the\n"
		"campaign finished without failed devices, 1 it was aborted, a device\n"
		"failed or the following was interrupted, 2 usage or database errors.\n",
		USPCTL_DEFAULT_TIMEOUT_S, USPCTL_DEFAULT_NOWAIT_EXPIRES_S);
}

static int seconds(const char *flag, const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > 366.0 * 86400) {
		fprintf(stderr, "uspctl: %s wants seconds between 0 and 31622400, got '%s'\n", flag,
			s);
		return -1;
	}
	*out = v;
	return 0;
}

enum {
	OPT_DB = 256,
	OPT_NO_WAIT,
	OPT_TIMEOUT,
	OPT_EXPIRES,
	OPT_MAX_INFLIGHT,
	OPT_POLL,
	OPT_PROGRESS,
	OPT_NO_PROGRESS,
	OPT_LOG_LEVEL,
	OPT_FOLLOW
};

static const struct option long_opts[] = {
	{ "file", required_argument, NULL, 'f' },
	{ "db", required_argument, NULL, OPT_DB },
	{ "no-wait", no_argument, NULL, OPT_NO_WAIT },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "expires", required_argument, NULL, OPT_EXPIRES },
	{ "max-inflight", required_argument, NULL, OPT_MAX_INFLIGHT },
	{ "poll", required_argument, NULL, OPT_POLL },
	{ "quiet", no_argument, NULL, 'q' },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
	{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "follow", required_argument, NULL, OPT_FOLLOW },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* Returns -1 to exit 2, 1 to exit 0 (help/version), 0 to run. */
static int parse_args(int argc, char **argv, struct uspctl_opts *o, const char **file,
		      const char **follow)
{
	int c;
	double d;
	char *end;
	while ((c = getopt_long(argc, argv, "f:qhV", long_opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			*file = optarg;
			break;
		case OPT_DB:
			o->db = optarg;
			break;
		case OPT_NO_WAIT:
			o->wait = 0;
			break;
		case OPT_TIMEOUT:
			if (seconds("--timeout", optarg, &o->timeout_s) < 0)
				return -1;
			break;
		case OPT_EXPIRES:
			if (seconds("--expires", optarg, &o->expires_s) < 0)
				return -1;
			break;
		case OPT_POLL:
			if (seconds("--poll", optarg, &d) < 0 || d < 0.05 || d > 600) {
				fprintf(stderr, "uspctl: --poll wants 0.05 to 600 seconds\n");
				return -1;
			}
			o->poll_ms = (int)(d * 1000);
			break;
		case OPT_MAX_INFLIGHT:
			o->max_inflight = strtol(optarg, &end, 10);
			if (*end || o->max_inflight < 1 ||
			    o->max_inflight > USPCTL_MAX_INFLIGHT_LIMIT) {
				fprintf(stderr, "uspctl: --max-inflight wants 1 to %d\n",
					USPCTL_MAX_INFLIGHT_LIMIT);
				return -1;
			}
			break;
		case 'q':
			o->quiet = 1;
			break;
		case OPT_PROGRESS:
			o->progress = 1;
			break;
		case OPT_NO_PROGRESS:
			o->progress = 0;
			break;
		case OPT_LOG_LEVEL:
			if (log_level_from_name(optarg) < 0) {
				fprintf(stderr, "uspctl: unknown log level '%s'\n", optarg);
				return -1;
			}
			log_set_level((enum log_level)log_level_from_name(optarg));
			break;
		case OPT_FOLLOW:
			if (!*optarg || strlen(optarg) > 128) {
				fprintf(stderr, "uspctl: --follow wants a campaign id or name\n");
				return -1;
			}
			*follow = optarg;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 'V':
			printf("uspctl %s\n", USPC_VERSION);
			return 1;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr,
			"uspctl: unexpected argument '%s' (commands are read from stdin or -f FILE)\n",
			argv[optind]);
		return -1;
	}
	if (*follow && *file) {
		fprintf(stderr, "uspctl: --follow reads no commands: drop -f\n");
		return -1;
	}
	return 0;
}

/* USPC_CLOCK_OFFSET_S: seconds added to the clock campaign windows are
 * read with (tests; the daemon's campaign_clock_offset_s). */
static int clock_offset(struct uspctl_opts *o)
{
	const char *s = getenv("USPC_CLOCK_OFFSET_S");
	char *end;
	if (!s || !*s)
		return 0;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || v < -315360000LL || v > 315360000LL) {
		fprintf(stderr, "uspctl: USPC_CLOCK_OFFSET_S must be a whole number of seconds "
				"(at most ten years either way)\n");
		return -1;
	}
	o->clock_offset_s = v;
	return 0;
}

/* First SIGINT/SIGTERM: stop the batch gracefully (queued tasks are
 * canceled); a second one: the default action. */
static volatile sig_atomic_t signals_seen;

static void on_signal(int sig)
{
	if (signals_seen++) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	uspctl_run_interrupt();
}

static void catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: a blocked read returns */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int main(int argc, char **argv)
{
	/* Result lines are ~1 KB each: into a pipe or file, write 64 KiB at a
	 * time instead of 4 KiB. uspctl_run still flushes after every round of
	 * results, so a reader sees them as they arrive. */
	static char out_buf[1 << 16];
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, out_buf, _IOFBF, sizeof(out_buf));
	struct uspctl_opts o;
	const char *file = NULL, *follow = NULL;
	int fd = STDIN_FILENO;
	uspctl_opts_init(&o);
	log_set_level(LOG_LVL_WARN);
	int rc = parse_args(argc, argv, &o, &file, &follow);
	if (rc != 0)
		return rc > 0 ? USPCTL_EXIT_OK : USPCTL_EXIT_USAGE;
	if (clock_offset(&o) < 0)
		return USPCTL_EXIT_USAGE;
	if (o.quiet)
		log_set_level(LOG_LVL_ERROR);
	if (follow) {
		catch_signals();
		return uspctl_follow(&o, follow, stdout, stderr);
	}
	if (file && strcmp(file, "-") != 0 && (fd = open(file, O_RDONLY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "uspctl: cannot open %s: %s\n", file, strerror(errno));
		return USPCTL_EXIT_USAGE;
	}
	catch_signals();
	rc = uspctl_run(&o, fd, stdout, stderr);
	if (fd != STDIN_FILENO)
		close(fd);
	return rc;
}
