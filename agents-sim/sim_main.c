/*
 * sim_main.c — usp-agent-sim: command line, model loading, then hands over
 * to the worker supervisor (sim_workers.c). Main thread only.
 */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cwmp_sim_main.h"
#include "log.h"
#include "sim_agent.h"
#include "sim_model.h"
#include "sim_workers.h"

#ifndef USPC_SIM_DEFAULT_MODEL
#define USPC_SIM_DEFAULT_MODEL "agents-sim/models/tr181-gateway.model"
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"usage: usp-agent-sim [--protocol usp|cwmp] [options]\n"
		"Simulates N TR-369 USP agents, each with its own MQTT 5 connection.\n"
		"  --agents N             number of agents (default 1)\n"
		"  --first-index N        index of the first agent (default 1)\n"
		"  --broker URL           mqtt://host:port or mqtts://host:port (default $USPC_MQTT)\n"
		"  --controller-id EID    controller pre-provisioned as Controller.1 (default self::uspc)\n"
		"  --controller-topic T   its MQTT topic, %%s = the agent's EID (at most one; %%%% = %%):\n"
		"                         where each agent sends connect records, notifications and\n"
		"                         its Will (default usp/controller/<controller-id>/%%s)\n"
		"  --eid-pattern P        agent endpoint IDs, printf with one %%d (default os::00D09E-SIM%%06d)\n"
		"  --topic-pattern P      agent reply topic, %%s = EID (default usp/agent/%%s)\n"
		"  --model FILE           data-model file (default %s)\n"
		"  --seed S               seed of per-agent values (default 1)\n"
		"  --connect-rate R       new connections per second, all workers (default 500)\n"
		"  --state-dir D          keep agents' persistent state in D (default: none)\n"
		"  --workers W            worker processes (default: one per core above 1000 agents)\n"
		"  --keepalive S          MQTT keep-alive seconds (default 60)\n"
		"  --qos Q                MQTT QoS for subscribe and publish, 0 or 1 (default 1)\n"
		"  --max-record BYTES     larger inbound records are dropped (default 65536)\n"
		"  --cafile F --cert F --key F --tls-insecure   TLS (mqtts://)\n"
		"  --fw-download-time S   firmware Download() duration, fractions allowed (default 5)\n"
		"  --fw-fail-fraction F   fraction of agents whose downloads fail (default 0)\n"
		"  --fw-fail-url TEXT     downloads whose URL contains TEXT fail\n"
		"  --fw-activate-fail-fraction F\n"
		"                         fraction of agents whose Activate() fails: image Status\n"
		"                         ActivationFailed, no reboot (default 0)\n"
		"  --fw-boot-fail-fraction F\n"
		"                         fraction of agents on which a new image does not boot:\n"
		"                         they reboot and come back on the old one (default 0)\n"
		"  --fw-no-return-fraction F\n"
		"                         fraction of agents that never come back from a firmware\n"
		"                         reboot while the simulator runs (default 0)\n"
		"  --fw-wrong-version-fraction F\n"
		"                         fraction of agents that report SoftwareVersion\n"
		"                         <Version>-rc0 after booting a new image (default 0)\n"
		"  --fw-lose-boot-fraction F\n"
		"                         fraction of agents that send no Boot! (and no Activate()\n"
		"                         completion) after a firmware reboot (default 0)\n"
		"  --single-bank-fraction F\n"
		"                         fraction of agents with one firmware bank,\n"
		"                         FirmwareImage.1 only (default 0)\n"
		"  --no-activate-fraction F\n"
		"                         fraction of agents without FirmwareImage.{i}.Activate():\n"
		"                         set BootFirmwareImage, then Reboot() (default 0)\n"
		"  --reboot-time S        time an agent stays down on reboot, fractions allowed\n"
		"                         (default 3)\n"
		"  --reconnect-delay S    after losing its broker connection an agent waits S s\n"
		"                         (0..600, fractions allowed) before it reconnects, like\n"
		"                         obuspa's 6-9 s retry (default 0: the usual 1-2 s back-off)\n"
		"  --churn-fraction F     fraction of agents that flap (default 0)\n"
		"  --churn-interval S     mean time online between flaps (default 300)\n"
		"  --churn-offline S      mean time offline per flap (default 30)\n"
		"  --churn-reboot         a flap is a power cycle (Boot!) instead of a network drop\n"
		"  --host-churn S         mean seconds between a host joining/leaving, 0 = off (default 600)\n"
		"  --value-rate F         multiplier of counter growth (default 1)\n"
		"  --vc-rate R            bench load: change Device.DeviceInfo.SoftwareVersion on\n"
		"                         online agents R times per second in total, firing\n"
		"                         ValueChange notifications (default 0 = off)\n"
		"  --vc-rate-file F       read that total rate from file F, re-read every 50 ms\n"
		"  --status-interval S    status line period on stderr, 0 = off (default 5)\n"
		"  --run-for S            stop after S seconds (default: run until SIGINT/SIGTERM)\n"
		"  --log-level L          error|warn|info|debug|trace (default info)\n"
		"  --no-will              no MQTT Will (default: a DisconnectRecord to Controller.1\n"
		"                         that the broker publishes if the connection drops)\n"
		"  --trace                log every USP message in and out as JSON\n"
		"  --check-model          load the model, print a summary and exit\n"
		"  --help                 this text\n"
		"  --version              print the version and exit\n",
		USPC_SIM_DEFAULT_MODEL);
	cwmp_sim_usage(f);
}

static int parse_broker(struct sim_config *cfg, const char *url)
{
	const char *rest;
	int def_port;
	if (!strncmp(url, "mqtt://", 7)) {
		rest = url + 7;
		def_port = 1883;
		cfg->tls = 0;
	} else if (!strncmp(url, "mqtts://", 8)) {
		rest = url + 8;
		def_port = 8883;
		cfg->tls = 1;
	} else {
		return -1;
	}
	const char *colon = strrchr(rest, ':');
	size_t hl = colon ? (size_t)(colon - rest) : strcspn(rest, "/");
	if (hl == 0 || hl >= sizeof(cfg->host))
		return -1;
	memcpy(cfg->host, rest, hl);
	cfg->host[hl] = '\0';
	cfg->port = def_port;
	if (colon) {
		char *end;
		long p = strtol(colon + 1, &end, 10);
		if ((*end && *end != '/') || p <= 0 || p > 65535)
			return -1;
		cfg->port = (int)p;
	}
	cfg->broker = url;
	return 0;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double d = strtod(s, &end);
	if (errno || *end || d < lo || d > hi)
		return -1;
	*out = d;
	return 0;
}

static int parse_ulong(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || !*s || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

struct cli {
	struct sim_config cfg;
	const char *broker;
	unsigned long run_for;
	int check;
	char ctrl_topic[512];
};

/* How an option's value lands in struct cli. */
enum opt_kind {
	K_STR,    /* const char * = the argument */
	K_SET,    /* int = 1 (no argument) */
	K_CLEAR,  /* int = 0 (no argument) */
	K_U32,    /* uint32_t in [ulo, uhi] */
	K_INT,    /* int in [ulo, uhi] */
	K_U64,    /* uint64_t in [ulo, uhi] */
	K_SIZE,   /* size_t in [ulo, uhi] */
	K_ULONG,  /* unsigned long in [ulo, uhi] */
	K_DOUBLE, /* double in [dlo, dhi] */
	K_FN,     /* fn(c, arg) */
	K_HELP,
	K_VERSION,
};

struct opt_def {
	const char *name;
	enum opt_kind kind;
	size_t off; /* offsetof(struct cli, ...) */
	unsigned long ulo, uhi;
	double dlo, dhi;
	const char *want; /* for the error message */
	int (*fn)(struct cli *c, const char *v);
};

static int opt_eid_pattern(struct cli *c, const char *v)
{
	c->cfg.eid_pattern = v;
	return sim_index_pattern_ok(v, 1) ? 0 : -1;
}

static int opt_topic(const char **dst, const char *v)
{
	*dst = v;
	return sim_topic_pattern_ok(v) ? 0 : -1;
}

static int opt_controller_topic(struct cli *c, const char *v)
{
	return opt_topic(&c->cfg.controller_topic, v);
}

static int opt_topic_pattern(struct cli *c, const char *v)
{
	return opt_topic(&c->cfg.topic_pattern, v);
}

/* --protocol cwmp never gets here (main hands it over first). */
static int opt_protocol(struct cli *c, const char *v)
{
	(void)c;
	return strcmp(v, "usp") ? -1 : 0;
}

static int opt_log_level(struct cli *c, const char *v)
{
	int l = log_level_from_name(v);
	if (l < 0)
		return -1;
	log_set_level((enum log_level)l);
	return 0;
}

#define CFG(f) offsetof(struct cli, cfg.f)
#define STR(n, f)                                  \
	{                                          \
		.name = n, .kind = K_STR, .off = f \
	}
#define SET(n, f)                                  \
	{                                          \
		.name = n, .kind = K_SET, .off = f \
	}
#define UINT(n, k, f, lo, hi, w)                                                \
	{                                                                       \
		.name = n, .kind = k, .off = f, .ulo = lo, .uhi = hi, .want = w \
	}
#define DBL(n, f, lo, hi, w)                                                           \
	{                                                                              \
		.name = n, .kind = K_DOUBLE, .off = f, .dlo = lo, .dhi = hi, .want = w \
	}

#define TOPIC_WANT "a topic with at most one %s (the EID), %% for '%', no '+' or '#'"

static const struct opt_def opt_defs[] = {
	{ .name = "protocol", .kind = K_FN, .fn = opt_protocol, .want = "usp or cwmp" },
	UINT("agents", K_U32, CFG(n_agents), 1, 1000000, "1..1000000"),
	UINT("first-index", K_U32, CFG(first_index), 0, 100000000, "0..100000000"),
	STR("broker", offsetof(struct cli, broker)),
	STR("controller-id", CFG(controller_id)),
	{ .name = "controller-topic",
	  .kind = K_FN,
	  .fn = opt_controller_topic,
	  .want = TOPIC_WANT },
	{ .name = "eid-pattern", .kind = K_FN, .fn = opt_eid_pattern, .want = "one %d" },
	{ .name = "topic-pattern", .kind = K_FN, .fn = opt_topic_pattern, .want = TOPIC_WANT },
	STR("model", CFG(model_file)),
	UINT("seed", K_U64, CFG(seed), 0, ~0ul, "an unsigned integer"),
	DBL("connect-rate", CFG(connect_rate), 1, 1e6, "1..1e6"),
	STR("state-dir", CFG(state_dir)),
	UINT("workers", K_U32, CFG(workers), 1, 256, "1..256"),
	UINT("keepalive", K_INT, CFG(keepalive), 5, 65535, "5..65535"),
	UINT("qos", K_INT, CFG(qos), 0, 1, "0 or 1"),
	UINT("max-record", K_SIZE, CFG(max_record), 512, 16u << 20, "512..16777216"),
	STR("cafile", CFG(cafile)),
	STR("cert", CFG(certfile)),
	STR("key", CFG(keyfile)),
	SET("tls-insecure", CFG(tls_insecure)),
	SET("will", CFG(will)),
	{ .name = "no-will", .kind = K_CLEAR, .off = CFG(will) },
	DBL("fw-download-time", CFG(fw_download_s), 0, 86400, "0..86400"),
	DBL("fw-fail-fraction", CFG(fw_fail_fraction), 0, 1, "0..1"),
	STR("fw-fail-url", CFG(fw_fail_url)),
	DBL("fw-activate-fail-fraction", CFG(fw_activate_fail_fraction), 0, 1, "0..1"),
	DBL("fw-boot-fail-fraction", CFG(fw_boot_fail_fraction), 0, 1, "0..1"),
	DBL("fw-no-return-fraction", CFG(fw_no_return_fraction), 0, 1, "0..1"),
	DBL("fw-wrong-version-fraction", CFG(fw_wrong_version_fraction), 0, 1, "0..1"),
	DBL("fw-lose-boot-fraction", CFG(fw_lose_boot_fraction), 0, 1, "0..1"),
	DBL("single-bank-fraction", CFG(single_bank_fraction), 0, 1, "0..1"),
	DBL("no-activate-fraction", CFG(no_activate_fraction), 0, 1, "0..1"),
	DBL("reboot-time", CFG(reboot_s), 0, 86400, "0..86400"),
	DBL("reconnect-delay", CFG(reconnect_delay_s), 0, 600, "0..600 seconds"),
	DBL("churn-fraction", CFG(churn_fraction), 0, 1, "0..1"),
	DBL("churn-interval", CFG(churn_interval_s), 0.1, 1e7, "0.1..1e7"),
	DBL("churn-offline", CFG(churn_offline_s), 0, 1e7, "0..1e7"),
	SET("churn-reboot", CFG(churn_reboot)),
	DBL("host-churn", CFG(host_churn_s), 0, 1e7, "0..1e7"),
	DBL("value-rate", CFG(value_rate), 0, 1e9, ">= 0"),
	DBL("vc-rate", CFG(vc_rate), 0, 1e6, "0..1e6"),
	STR("vc-rate-file", CFG(vc_rate_file)),
	UINT("status-interval", K_INT, CFG(status_interval), 0, 86400, "0..86400"),
	UINT("run-for", K_ULONG, offsetof(struct cli, run_for), 0, 100000000, "seconds"),
	{ .name = "log-level",
	  .kind = K_FN,
	  .fn = opt_log_level,
	  .want = "error|warn|info|debug|trace" },
	SET("trace", CFG(trace)),
	SET("check-model", offsetof(struct cli, check)),
	{ .name = "help", .kind = K_HELP },
	{ .name = "version", .kind = K_VERSION },
};
#define N_OPTS (sizeof(opt_defs) / sizeof(opt_defs[0]))

static int bad(const char *opt, const char *val, const char *want)
{
	fprintf(stderr, "usp-agent-sim: --%s %s: expected %s\n", opt, val, want);
	return -1;
}

/* Store v for option d. 0, or -1 after printing why. */
static int apply_opt(struct cli *c, const struct opt_def *d, const char *v)
{
	char *field = (char *)c + d->off;
	unsigned long u = 0;
	double x;
	switch (d->kind) {
	case K_STR:
		*(const char **)(void *)field = v;
		return 0;
	case K_SET:
		*(int *)(void *)field = 1;
		return 0;
	case K_CLEAR:
		*(int *)(void *)field = 0;
		return 0;
	case K_FN:
		return d->fn(c, v) < 0 ? bad(d->name, v, d->want) : 0;
	case K_DOUBLE:
		if (parse_double(v, d->dlo, d->dhi, &x) < 0)
			return bad(d->name, v, d->want);
		*(double *)(void *)field = x;
		return 0;
	case K_HELP:
	case K_VERSION:
		return -1;
	default:
		break;
	}
	if (parse_ulong(v, d->ulo, d->uhi, &u) < 0)
		return bad(d->name, v, d->want);
	if (d->kind == K_U32)
		*(uint32_t *)(void *)field = (uint32_t)u;
	else if (d->kind == K_INT)
		*(int *)(void *)field = (int)u;
	else if (d->kind == K_U64)
		*(uint64_t *)(void *)field = u;
	else if (d->kind == K_SIZE)
		*(size_t *)(void *)field = u;
	else
		*(unsigned long *)(void *)field = u;
	return 0;
}

static void defaults(struct cli *c)
{
	struct sim_config *cfg = &c->cfg;
	memset(c, 0, sizeof(*c));
	cfg->n_agents = 1;
	cfg->first_index = 1;
	cfg->controller_id = "self::uspc";
	cfg->eid_pattern = "os::00D09E-SIM%06d";
	cfg->topic_pattern = "usp/agent/%s";
	cfg->model_file = USPC_SIM_DEFAULT_MODEL;
	cfg->seed = 1;
	cfg->connect_rate = 500;
	cfg->keepalive = 60;
	cfg->qos = 1;
	cfg->max_record = 65536;
	cfg->fw_download_s = 5;
	cfg->reboot_s = 3;
	cfg->churn_interval_s = 300;
	cfg->churn_offline_s = 30;
	cfg->host_churn_s = 600;
	cfg->value_rate = 1;
	cfg->status_interval = 5;
	cfg->will = 1;
	c->broker = getenv("USPC_MQTT");
	if (!c->broker || !*c->broker)
		c->broker = "mqtt://127.0.0.1:1883";
}

static int check_model(const struct sim_model *m)
{
	printf("model ok: %zu objects (%zu tables), %zu parameters, %zu commands, %zu events, "
	       "%zu factory instances\n",
	       m->n_objs, m->n_tables, m->n_params, m->n_cmds, m->n_events, m->n_finsts);
	return 0;
}

/* Options into c: 0 ok, 1 help printed, -1 usage error (printed). */
static int parse_cli(struct cli *c, int argc, char **argv)
{
	struct option lopts[N_OPTS + 1];
	int o;
	memset(lopts, 0, sizeof(lopts));
	for (size_t i = 0; i < N_OPTS; i++) {
		enum opt_kind k = opt_defs[i].kind;
		lopts[i].name = opt_defs[i].name;
		lopts[i].has_arg = k == K_SET || k == K_CLEAR || k == K_HELP || k == K_VERSION
					   ? no_argument
					   : required_argument;
		lopts[i].val = 256 + (int)i;
	}
	while ((o = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		const struct opt_def *d =
			o >= 256 && o < 256 + (int)N_OPTS ? &opt_defs[o - 256] : NULL;
		if (o == 'h' || (d && d->kind == K_HELP)) {
			usage(stdout);
			return 1;
		}
		if (d && d->kind == K_VERSION) {
			printf("usp-agent-sim %s\n", USPC_VERSION);
			return 1;
		}
		if (!d || apply_opt(c, d, optarg) < 0) {
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "usp-agent-sim: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

/* Checks across options, derived defaults. 0 or -1 (printed). */
static int check_cli(struct cli *c)
{
	if (parse_broker(&c->cfg, c->broker) < 0) {
		fprintf(stderr,
			"usp-agent-sim: --broker %s: expected mqtt://host:port or mqtts://host:port\n",
			c->broker);
		return -1;
	}
	if (c->cfg.tls && !c->cfg.cafile) {
		fprintf(stderr, "usp-agent-sim: mqtts:// needs --cafile (the broker's CA)\n");
		return -1;
	}
	if (!!c->cfg.certfile != !!c->cfg.keyfile) {
		fprintf(stderr, "usp-agent-sim: --cert and --key go together\n");
		return -1;
	}
	if (!c->cfg.controller_topic) { /* identity topic: usp/controller/<id>/<agent EID> */
		size_t o =
			(size_t)snprintf(c->ctrl_topic, sizeof(c->ctrl_topic), "usp/controller/");
		for (const char *s = c->cfg.controller_id; *s && o + 4 < sizeof(c->ctrl_topic);
		     s++) {
			if (*s == '%')
				c->ctrl_topic[o++] = '%';
			c->ctrl_topic[o++] = *s;
		}
		snprintf(c->ctrl_topic + o, sizeof(c->ctrl_topic) - o, "/%%s");
		if (!sim_topic_pattern_ok(c->ctrl_topic)) {
			fprintf(stderr,
				"usp-agent-sim: --controller-id %s cannot make a topic: give "
				"--controller-topic\n",
				c->cfg.controller_id);
			return -1;
		}
		c->cfg.controller_topic = c->ctrl_topic;
	}
	return 0;
}

static int check_state_dir(const char *dir)
{
	FILE *probe;
	char p[1024];
	snprintf(p, sizeof(p), "%s/.write-test", dir);
	if (!(probe = fopen(p, "w"))) {
		fprintf(stderr, "usp-agent-sim: --state-dir %s: %s\n", dir, strerror(errno));
		return -1;
	}
	fclose(probe);
	remove(p);
	return 0;
}

/* Does the command line ask for --protocol cwmp? */
static int wants_cwmp(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--protocol=cwmp") ||
		    (!strcmp(argv[i], "--protocol") && i + 1 < argc &&
		     !strcmp(argv[i + 1], "cwmp")))
			return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct cli c;
	struct uspc_err err = { 0 };
	struct sim_model *model = NULL;
	int rc = 2;
	if (wants_cwmp(argc, argv))
		return cwmp_sim_main(argc, argv, USPC_SIM_DEFAULT_MODEL);
	defaults(&c);
	int prc = parse_cli(&c, argc, argv);
	if (prc)
		return prc > 0 ? 0 : 2;
	if (check_cli(&c) < 0)
		return 2;
	if (sim_model_load(c.cfg.model_file, &model, &err) < 0) {
		fprintf(stderr, "usp-agent-sim: %s\n", err.msg);
		return 2;
	}
	if (c.check) {
		rc = check_model(model);
		goto out;
	}
	if (c.cfg.state_dir && check_state_dir(c.cfg.state_dir) < 0)
		goto out;
	if (sim_workers_plan(&c.cfg, &err) < 0) {
		fprintf(stderr, "usp-agent-sim: %s\n", err.msg);
		goto out;
	}
	rc = sim_workers_run(&c.cfg, model, (int)c.run_for);
out:
	sim_model_free(model);
	return rc;
}
