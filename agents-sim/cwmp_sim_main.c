/*
 * cwmp_sim_main.c — usp-agent-sim --protocol cwmp: options, the model (the
 * same TR-181 model file as the USP mode, plus Device.ManagementServer.
 * when the file has none), file-descriptor planning, and the supervisor:
 * it forks the workers, prints the status line from their shared
 * counters, forwards SIGINT/SIGTERM and reaps them. Main thread.
 */
#include "cwmp_sim_main.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "acs_auth.h"
#include "cwmp_msg.h"
#include "cwmp_sim.h"
#include "cwmp_sim_cpe.h"
#include "log.h"
#include "sim_model.h"

#define FDS_PER_SESSION 4 /* the TCP socket, libcurl's wake-up pair, a fetch's */
#define FDS_RESERVED 64

/* Device.ManagementServer. for a model file that lacks it: the CPE's CWMP
 * settings, with defaults from the command line (cwmp_sim_cpe.c expands
 * the ${...} names per CPE). */
static const char mgmt_overlay[] =
	"\nobject Device.ManagementServer.\n"
	"param Device.ManagementServer.EnableCWMP boolean rw default=true\n"
	"param Device.ManagementServer.URL string rw default=${acs_url} maxlen=256\n"
	"param Device.ManagementServer.Username string rw default=${acs_username} maxlen=256\n"
	"param Device.ManagementServer.Password string wo default=${acs_password} maxlen=256\n"
	"param Device.ManagementServer.PeriodicInformEnable boolean rw default=true\n"
	"param Device.ManagementServer.PeriodicInformInterval unsignedInt rw "
	"default=${inform_interval}\n"
	"param Device.ManagementServer.PeriodicInformTime dateTime rw "
	"default=0001-01-01T00:00:00Z\n"
	"param Device.ManagementServer.ParameterKey string ro default=\"\" maxlen=32\n"
	"param Device.ManagementServer.ConnectionRequestURL string ro default=${cr_url} "
	"maxlen=256\n"
	"param Device.ManagementServer.ConnectionRequestUsername string rw default=${cr_username} "
	"maxlen=256\n"
	"param Device.ManagementServer.ConnectionRequestPassword string wo default=${cr_password} "
	"maxlen=256\n"
	"param Device.ManagementServer.UpgradesManaged boolean rw default=false\n"
	"param Device.ManagementServer.CWMPRetryMinimumWaitInterval unsignedInt rw "
	"default=${retry_min}\n"
	"param Device.ManagementServer.CWMPRetryIntervalMultiplier unsignedInt rw "
	"default=${retry_mult}\n"
	"param Device.ManagementServer.AliasBasedAddressing boolean ro default=false\n";

void cwmp_sim_usage(FILE *f)
{
	fprintf(f,
		"With --protocol cwmp it simulates N TR-069 CPEs instead (HTTP/SOAP to an ACS);\n"
		"--agents, --first-index, --model, --seed, --connect-rate, --workers, --state-dir,\n"
		"--cafile, --tls-insecure, --fw-download-time, --fw-fail-fraction, --fw-fail-url,\n"
		"--fw-boot-fail-fraction, --fw-no-return-fraction, --fw-wrong-version-fraction,\n"
		"--fw-lose-boot-fraction, --status-interval, --run-for, --log-level, --trace and\n"
		"--check-model mean the same there, and these apply:\n"
		"  --protocol usp|cwmp    what the simulated devices speak (default usp)\n"
		"  --acs-url URL          the ACS (ManagementServer.URL; default http://127.0.0.1:7547/)\n"
		"  --acs-user-pattern P   CPE -> ACS user name, one %%d = index (Basic or Digest;\n"
		"                         default: no authentication)\n"
		"  --acs-password P       its password, %%d allowed (default empty)\n"
		"  --acs-password-key-file F\n"
		"                         derive each password from the user name with this key,\n"
		"                         as uspc-acs does (HMAC-SHA256; docs/tr069.md)\n"
		"  --cwmp-version V       1.0 .. 1.4: the cwmp namespace of the CPEs' messages\n"
		"                         (default 1.0)\n"
		"  --oui OUI              DeviceId OUI (default: the model's ManufacturerOUI)\n"
		"  --product-class C      DeviceId ProductClass (default: the model's)\n"
		"  --serial-pattern P     serial number, one %%d = index (default SIM%%06d)\n"
		"  --cr-host ADDR         IPv4 address of the connection-request listeners (default\n"
		"                         127.0.0.1)\n"
		"  --cr-port P            their port; worker w listens on P+w (default: any free port)\n"
		"  --cr-user-pattern P    connection-request Digest user, %%d = index (default cr%%06d)\n"
		"  --cr-password P        its password, %%d allowed (default crpass%%06d)\n"
		"  --cr-password-key-file F\n"
		"                         derive it from the user name with this key, as uspc-acs\n"
		"                         does\n"
		"  --inform-interval S    PeriodicInformInterval, seconds (default 3600)\n"
		"  --reboot-delay S       time down on Reboot, FactoryReset, firmware (default 3)\n"
		"  --value-change-interval S\n"
		"                         mean seconds between changes of a parameter with active\n"
		"                         notification, then 4 VALUE CHANGE (default 0 = off)\n"
		"  --retry-base S         CWMPRetryMinimumWaitInterval, fractions allowed (default 5)\n"
		"  --retry-multiplier K   CWMPRetryIntervalMultiplier, per mille (default 2000)\n"
		"  --http-timeout S       one HTTP exchange (default 30)\n"
		"  --max-sessions N       concurrent sessions, all workers (default 1000)\n"
		"  --fw-fail-code C       FaultCode of an injected download failure (default 9010)\n"
		"  --fetch                really download the Download URL, checking FileSize\n"
		"  --quirk Q              no-cookies, chunked, empty-post=content-length0|chunked\n"
		"                         (repeatable)\n");
}

struct cli {
	struct cwmp_sim_config cfg;
	unsigned long run_for;
	int check;
};

static int parse_num(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double d = strtod(s, &end);
	if (errno || end == s || *end || d < lo || d > hi)
		return -1;
	*out = d;
	return 0;
}

enum kind { K_STR, K_PAT, K_PAT1, K_SET, K_U32, K_U64, K_INT, K_DBL, K_FN, K_HELP, K_VERSION };

struct opt {
	const char *name;
	enum kind kind;
	size_t off;
	double lo, hi;
	int (*fn)(struct cli *c, const char *v);
	const char *want;
};

static int opt_version(struct cli *c, const char *v)
{
	static const char *const vs[] = { "1.0", "1.1", "1.2", "1.3", "1.4" };
	for (int i = 0; i < 5; i++)
		if (!strcmp(v, vs[i])) {
			c->cfg.ns = i;
			return 0;
		}
	return -1;
}

static int opt_quirk(struct cli *c, const char *v)
{
	if (!strcmp(v, "no-cookies"))
		c->cfg.quirk_no_cookies = 1;
	else if (!strcmp(v, "chunked"))
		c->cfg.quirk_chunked = 1;
	else if (!strcmp(v, "empty-post=chunked"))
		c->cfg.quirk_empty_post_chunked = 1;
	else if (!strcmp(v, "empty-post=content-length0"))
		c->cfg.quirk_empty_post_chunked = 0;
	else
		return -1;
	return 0;
}

/* A key file as uspc-acs reads it (trailing newlines are not part of it). */
static int read_key(const char *path, unsigned char **key, size_t *len)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	unsigned char *buf = malloc(ACS_KEY_MAX + 1);
	size_t n = buf ? fread(buf, 1, ACS_KEY_MAX + 1, f) : 0;
	fclose(f);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (!buf || n == 0 || n > ACS_KEY_MAX) {
		free(buf);
		return -1;
	}
	free(*key);
	*key = buf;
	*len = n;
	return 0;
}

static int opt_acs_key(struct cli *c, const char *v)
{
	return read_key(v, &c->cfg.acs_key, &c->cfg.acs_key_len);
}

static int opt_cr_key(struct cli *c, const char *v)
{
	return read_key(v, &c->cfg.cr_key, &c->cfg.cr_key_len);
}

static int opt_protocol(struct cli *c, const char *v)
{
	(void)c;
	return strcmp(v, "cwmp") ? -1 : 0;
}

static int opt_log_level(struct cli *c, const char *v)
{
	(void)c;
	int l = log_level_from_name(v);
	if (l < 0)
		return -1;
	log_set_level((enum log_level)l);
	return 0;
}

#define F(f) offsetof(struct cli, cfg.f)
static const struct opt opts[] = {
	{ "protocol", K_FN, 0, 0, 0, opt_protocol, "cwmp" },
	{ "agents", K_U32, F(n_cpes), 1, 1000000, NULL, "1..1000000" },
	{ "first-index", K_U32, F(first_index), 0, 100000000, NULL, "0..100000000" },
	{ "seed", K_U64, F(seed), 0, 1.8e19, NULL, "an unsigned integer" },
	{ "model", K_STR, F(model_file), 0, 0, NULL, NULL },
	{ "state-dir", K_STR, F(state_dir), 0, 0, NULL, NULL },
	{ "acs-url", K_STR, F(acs_url), 0, 0, NULL, NULL },
	{ "acs-user-pattern", K_PAT, F(acs_user_pattern), 0, 0, NULL, "at most one %d" },
	{ "acs-password", K_PAT, F(acs_password_pattern), 0, 0, NULL, "at most one %d" },
	{ "acs-password-key-file", K_FN, 0, 0, 0, opt_acs_key, "a readable key file" },
	{ "cafile", K_STR, F(cafile), 0, 0, NULL, NULL },
	{ "tls-insecure", K_SET, F(tls_insecure), 0, 0, NULL, NULL },
	{ "cwmp-version", K_FN, 0, 0, 0, opt_version, "1.0, 1.1, 1.2, 1.3 or 1.4" },
	{ "oui", K_STR, F(oui), 0, 0, NULL, NULL },
	{ "product-class", K_STR, F(product_class), 0, 0, NULL, NULL },
	{ "serial-pattern", K_PAT1, F(serial_pattern), 0, 0, NULL, "exactly one %d" },
	{ "cr-host", K_STR, F(cr_host), 0, 0, NULL, NULL },
	{ "cr-port", K_INT, F(cr_port), 0, 65535, NULL, "0..65535" },
	{ "cr-user-pattern", K_PAT, F(cr_user_pattern), 0, 0, NULL, "at most one %d" },
	{ "cr-password", K_PAT, F(cr_password_pattern), 0, 0, NULL, "at most one %d" },
	{ "cr-password-key-file", K_FN, 0, 0, 0, opt_cr_key, "a readable key file" },
	{ "inform-interval", K_U32, F(inform_interval), 1, 31536000, NULL, "1..31536000" },
	{ "reboot-delay", K_DBL, F(reboot_delay_s), 0, 86400, NULL, "0..86400" },
	{ "value-change-interval", K_DBL, F(value_change_s), 0, 1e7, NULL, "0..1e7" },
	{ "retry-base", K_DBL, F(retry_base_s), 0.001, 86400, NULL, "0.001..86400" },
	{ "retry-multiplier", K_U32, F(retry_multiplier), 1000, 65535, NULL, "1000..65535" },
	{ "http-timeout", K_DBL, F(http_timeout_s), 1, 3600, NULL, "1..3600" },
	{ "connect-rate", K_DBL, F(connect_rate), 1, 1e6, NULL, "1..1e6" },
	{ "max-sessions", K_U32, F(max_sessions), 1, 1000000, NULL, "1..1000000" },
	{ "workers", K_U32, F(workers), 1, 256, NULL, "1..256" },
	{ "fw-download-time", K_DBL, F(fw_download_s), 0, 86400, NULL, "0..86400" },
	{ "fw-fail-fraction", K_DBL, F(fw_fail_fraction), 0, 1, NULL, "0..1" },
	{ "fw-fail-url", K_STR, F(fw_fail_url), 0, 0, NULL, NULL },
	{ "fw-fail-code", K_U32, F(fw_fail_code), 9000, 9899, NULL, "9000..9899" },
	{ "fw-boot-fail-fraction", K_DBL, F(fw_boot_fail_fraction), 0, 1, NULL, "0..1" },
	{ "fw-no-return-fraction", K_DBL, F(fw_no_return_fraction), 0, 1, NULL, "0..1" },
	{ "fw-wrong-version-fraction", K_DBL, F(fw_wrong_version_fraction), 0, 1, NULL, "0..1" },
	{ "fw-lose-boot-fraction", K_DBL, F(fw_lose_boot_fraction), 0, 1, NULL, "0..1" },
	{ "fetch", K_SET, F(fetch), 0, 0, NULL, NULL },
	{ "quirk", K_FN, 0, 0, 0, opt_quirk,
	  "no-cookies, chunked, empty-post=content-length0 or empty-post=chunked" },
	{ "status-interval", K_INT, F(status_interval), 0, 86400, NULL, "0..86400" },
	{ "run-for", K_DBL, offsetof(struct cli, run_for), 0, 1e8, NULL, "seconds" },
	{ "log-level", K_FN, 0, 0, 0, opt_log_level, "error|warn|info|debug|trace" },
	{ "trace", K_SET, F(trace), 0, 0, NULL, NULL },
	{ "check-model", K_SET, offsetof(struct cli, check), 0, 0, NULL, NULL },
	{ "help", K_HELP, 0, 0, 0, NULL, NULL },
	{ "version", K_VERSION, 0, 0, 0, NULL, NULL },
};
#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

static int apply(struct cli *c, const struct opt *o, const char *v)
{
	char *field = (char *)c + o->off;
	double d;
	switch (o->kind) {
	case K_STR:
		*(const char **)(void *)field = v;
		return 0;
	case K_PAT:
	case K_PAT1:
		*(const char **)(void *)field = v;
		return sim_index_pattern_ok(v, o->kind == K_PAT1) ? 0 : -1;
	case K_SET:
		*(int *)(void *)field = 1;
		return 0;
	case K_FN:
		return o->fn(c, v);
	default:
		break;
	}
	if (parse_num(v, o->lo, o->hi, &d) < 0)
		return -1;
	if (o->kind != K_DBL && d != (double)(uint64_t)d)
		return -1;
	if (o->kind == K_U32)
		*(uint32_t *)(void *)field = (uint32_t)d;
	else if (o->kind == K_U64)
		*(uint64_t *)(void *)field = (uint64_t)d;
	else if (o->kind == K_INT)
		*(int *)(void *)field = (int)d;
	else if (o->off == offsetof(struct cli, run_for))
		c->run_for = (unsigned long)d;
	else
		*(double *)(void *)field = d;
	return 0;
}

static void defaults(struct cli *c, const char *default_model)
{
	struct cwmp_sim_config *g = &c->cfg;
	memset(c, 0, sizeof(*c));
	g->n_cpes = 1;
	g->first_index = 1;
	g->seed = 1;
	g->model_file = default_model;
	g->acs_url = "http://127.0.0.1:7547/";
	g->acs_password_pattern = "";
	g->ns = CWMP_NS_1_0;
	g->serial_pattern = "SIM%06d";
	g->cr_host = "127.0.0.1";
	g->cr_user_pattern = "cr%06d";
	g->cr_password_pattern = "crpass%06d";
	g->inform_interval = 3600;
	g->reboot_delay_s = 3;
	g->retry_base_s = 5;
	g->retry_multiplier = 2000;
	g->http_timeout_s = 30;
	g->connect_rate = 100;
	g->max_sessions = 1000;
	g->fw_download_s = 5;
	g->fw_fail_code = 9010;
	g->status_interval = 5;
}

/* 0 ok, 1 help/version printed, -1 usage error (printed). */
static int parse_cli(struct cli *c, int argc, char **argv)
{
	struct option lo[N_OPTS + 1];
	memset(lo, 0, sizeof(lo));
	for (size_t i = 0; i < N_OPTS; i++) {
		enum kind k = opts[i].kind;
		lo[i].name = opts[i].name;
		lo[i].has_arg = (k == K_SET || k == K_HELP || k == K_VERSION) ? no_argument
									      : required_argument;
		lo[i].val = 256 + (int)i;
	}
	optind = 1;
	int o;
	while ((o = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		const struct opt *d = o >= 256 && o < 256 + (int)N_OPTS ? &opts[o - 256] : NULL;
		if (o == 'h' || (d && d->kind == K_HELP)) {
			printf("usage: usp-agent-sim --protocol cwmp [options]\n");
			cwmp_sim_usage(stdout);
			return 1;
		}
		if (d && d->kind == K_VERSION) {
			printf("usp-agent-sim %s\n", USPC_VERSION);
			return 1;
		}
		if (!d) {
			fprintf(stderr, "usp-agent-sim: that option has no meaning with --protocol "
					"cwmp (see --help)\n");
			return -1;
		}
		if (apply(c, d, optarg) < 0) {
			fprintf(stderr, "usp-agent-sim: --%s %s: expected %s\n", d->name, optarg,
				d->want ? d->want : "a value");
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "usp-agent-sim: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (strncmp(c->cfg.acs_url, "http://", 7) && strncmp(c->cfg.acs_url, "https://", 8)) {
		fprintf(stderr, "usp-agent-sim: --acs-url %s: expected http:// or https://\n",
			c->cfg.acs_url);
		return -1;
	}
	return 0;
}

/* The model file, with the management object appended if it has none. */
static int load_model(const char *file, struct sim_model **out, int *overlaid)
{
	struct uspc_err err = { 0 };
	*overlaid = 0;
	if (sim_model_load(file, out, &err) < 0) {
		fprintf(stderr, "usp-agent-sim: %s\n", err.msg);
		return -1;
	}
	if (sim_model_find_obj(*out, "Device.ManagementServer.") != SM_NONE)
		return 0;
	sim_model_free(*out);
	*out = NULL;
	FILE *f = fopen(file, "rb");
	size_t cap = SM_MAX_FILE + sizeof(mgmt_overlay) + 1;
	char *buf = malloc(cap);
	size_t n = f && buf ? fread(buf, 1, SM_MAX_FILE, f) : 0;
	if (f)
		fclose(f);
	if (!buf || !n) {
		free(buf);
		fprintf(stderr, "usp-agent-sim: %s: cannot read it again\n", file);
		return -1;
	}
	memcpy(buf + n, mgmt_overlay, sizeof(mgmt_overlay));
	int rc = sim_model_parse(buf, file, out, &err);
	free(buf);
	if (rc < 0) {
		fprintf(stderr, "usp-agent-sim: %s (with Device.ManagementServer. added)\n",
			err.msg);
		return -1;
	}
	*overlaid = 1;
	return 0;
}

/* ---- file descriptors and workers ---- */

static int plan(struct cwmp_sim_config *cfg)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (cfg->workers == 0) {
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		cfg->workers = cfg->n_cpes >= 1000 && ncpu > 1 ? (uint32_t)ncpu : 1;
	}
	if (cfg->workers > cfg->n_cpes)
		cfg->workers = cfg->n_cpes;
	uint64_t per = (cfg->max_sessions + cfg->workers - 1) / cfg->workers;
	uint64_t need = per * FDS_PER_SESSION + FDS_RESERVED;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && need > rl.rlim_cur) {
		fprintf(stderr,
			"usp-agent-sim: %llu concurrent sessions per worker need about %llu file "
			"descriptors, the limit is %llu: lower --max-sessions or add --workers\n",
			(unsigned long long)per, (unsigned long long)need,
			(unsigned long long)rl.rlim_cur);
		return -1;
	}
	return 0;
}

static volatile sig_atomic_t g_stop;
static volatile int g_worker_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
	g_worker_stop = 1;
}

static int worker_main(const struct cwmp_sim_config *cfg, const struct sim_model *model,
		       uint32_t first, uint32_t count, uint32_t no, struct cwmp_sim_stats *st)
{
	struct cwmp_sim_worker w;
	int rc = 1;
	if (cwmp_sim_worker_init(&w, cfg, model, first, count, no, st) == 0)
		rc = cwmp_sim_worker_run(&w, &g_worker_stop) == 0 ? 0 : 1;
	cwmp_sim_worker_fini(&w);
	return rc;
}

static void print_status(const struct cwmp_sim_config *cfg, const struct cwmp_sim_stats *st,
			 uint32_t n, struct cwmp_sim_stats *prev, double dt)
{
	struct cwmp_sim_stats t = { 0 };
	for (uint32_t i = 0; i < n; i++) {
		const uint64_t *a = (const uint64_t *)&st[i];
		uint64_t *s = (uint64_t *)&t;
		for (size_t k = 0; k < sizeof(t) / sizeof(uint64_t); k++)
			s[k] += a[k];
	}
	double rate = dt > 0 ? (double)(t.sessions_ok - prev->sessions_ok) / dt : 0;
	fprintf(stderr,
		"usp-agent-sim: cpes %llu/%u in-session %llu down %llu | sessions ok %llu (%.0f/s) "
		"failed %llu 503 %llu | informs %llu rpcs %llu faults %llu | crs %llu denied %llu "
		"| downloads ok %llu failed %llu | boots %llu value-changes %llu\n",
		(unsigned long long)t.cpes, cfg->n_cpes, (unsigned long long)t.in_session,
		(unsigned long long)t.down, (unsigned long long)t.sessions_ok, rate,
		(unsigned long long)t.sessions_failed, (unsigned long long)t.http_503,
		(unsigned long long)t.informs, (unsigned long long)t.rpcs,
		(unsigned long long)t.faults_sent, (unsigned long long)t.crs,
		(unsigned long long)t.cr_denied, (unsigned long long)t.downloads_ok,
		(unsigned long long)t.downloads_failed, (unsigned long long)t.boots,
		(unsigned long long)t.value_changes);
	*prev = t;
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int reap(pid_t *pids, uint32_t n)
{
	int rc = 0;
	double until = mono_s() + 10;
	for (;;) {
		uint32_t left = 0;
		for (uint32_t i = 0; i < n; i++) {
			int status;
			if (pids[i] <= 0)
				continue;
			if (waitpid(pids[i], &status, WNOHANG) == pids[i]) {
				if (!WIFEXITED(status) || WEXITSTATUS(status))
					rc = 1;
				pids[i] = 0;
			} else {
				left++;
			}
		}
		if (!left)
			return rc;
		if (mono_s() > until) {
			for (uint32_t i = 0; i < n; i++)
				if (pids[i] > 0)
					kill(pids[i], SIGKILL);
			until = mono_s() + 5;
			rc = 1;
		}
		usleep(20000);
	}
}

static int supervise(const struct cwmp_sim_config *cfg, const struct sim_model *model,
		     double run_for)
{
	uint32_t n = cfg->workers;
	struct cwmp_sim_stats *st = mmap(NULL, n * sizeof(*st), PROT_READ | PROT_WRITE,
					 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t *pids = calloc(n, sizeof(*pids));
	int rc = 0;
	if (st == MAP_FAILED || !pids) {
		free(pids);
		return 1;
	}
	memset(st, 0, n * sizeof(*st));
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	uint32_t base = cfg->n_cpes / n, extra = cfg->n_cpes % n, first = cfg->first_index;
	pid_t parent = getpid();
	for (uint32_t i = 0; i < n && !g_stop; i++) {
		uint32_t count = base + (i < extra ? 1 : 0);
		fflush(stderr);
		pid_t pid = fork();
		if (pid < 0) {
			log_error("cwmp-sim", "fork: %s", strerror(errno));
			g_stop = 1;
			rc = 1;
			break;
		}
		if (pid == 0) {
			free(pids);
			if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
				exit(1);
			exit(worker_main(cfg, model, first, count, i, &st[i]));
		}
		pids[i] = pid;
		first += count;
	}
	log_info("cwmp-sim", "%u CPEs in %u worker process(es), ACS %s", cfg->n_cpes, n,
		 cfg->acs_url);
	double start = mono_s(), last = start;
	struct cwmp_sim_stats prev = { 0 };
	while (!g_stop) {
		usleep(100000);
		double now = mono_s();
		for (uint32_t i = 0; i < n; i++) {
			int status;
			if (pids[i] > 0 && waitpid(pids[i], &status, WNOHANG) == pids[i]) {
				log_error("cwmp-sim", "worker %u exited unexpectedly; stopping", i);
				pids[i] = 0;
				g_stop = 1;
				rc = 1;
			}
		}
		if (cfg->status_interval > 0 && now - last >= cfg->status_interval) {
			print_status(cfg, st, n, &prev, now - last);
			last = now;
		}
		if (run_for > 0 && now - start >= run_for)
			g_stop = 1;
	}
	for (uint32_t i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
	if (reap(pids, n))
		rc = 1;
	if (cfg->status_interval > 0)
		print_status(cfg, st, n, &prev, mono_s() - last);
	log_info("cwmp-sim", "stopped");
	munmap(st, n * sizeof(*st));
	free(pids);
	return rc;
}

int cwmp_sim_main(int argc, char **argv, const char *default_model)
{
	struct cli c;
	struct sim_model *model = NULL;
	int overlaid = 0, rc = 2;
	defaults(&c, default_model);
	int prc = parse_cli(&c, argc, argv);
	if (prc) {
		rc = prc > 0 ? 0 : 2;
		goto out;
	}
	cwmp_init(); /* libxml2's globals, before the workers fork */
	if (load_model(c.cfg.model_file, &model, &overlaid) < 0)
		goto out;
	if (c.check) {
		printf("model ok: %zu objects (%zu tables), %zu parameters, %zu factory "
		       "instances%s\n",
		       model->n_objs, model->n_tables, model->n_params, model->n_finsts,
		       overlaid ? "; Device.ManagementServer. added for CWMP" : "");
		rc = 0;
		goto out;
	}
	if (c.cfg.state_dir && access(c.cfg.state_dir, W_OK) < 0) {
		fprintf(stderr, "usp-agent-sim: --state-dir %s: %s\n", c.cfg.state_dir,
			strerror(errno));
		goto out;
	}
	if (plan(&c.cfg) < 0)
		goto out;
	rc = supervise(&c.cfg, model, (double)c.run_for);
out:
	sim_model_free(model);
	free(c.cfg.acs_key);
	free(c.cfg.cr_key);
	return rc;
}
