/*
 * sim_main.c — usp-agent-sim: command line, model loading, then hands over
 * to the worker supervisor (sim_workers.c). Main thread only.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
		"usage: usp-agent-sim [options]\n"
		"Simulates N TR-369 USP agents, each with its own MQTT 5 connection.\n"
		"  --agents N             number of agents (default 1)\n"
		"  --first-index N        index of the first agent (default 1)\n"
		"  --broker URL           mqtt://host:port or mqtts://host:port (default $USPC_MQTT)\n"
		"  --controller-id EID    controller pre-provisioned as Controller.1 (default self::uspc)\n"
		"  --controller-topic T   its MQTT topic (default usp/controller/<controller-id>)\n"
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
		"  --fw-download-time S   firmware Download() duration (default 5)\n"
		"  --fw-fail-fraction F   fraction of agents whose downloads fail (default 0)\n"
		"  --fw-fail-url TEXT     downloads whose URL contains TEXT fail\n"
		"  --reboot-time S        time an agent stays down on reboot (default 3)\n"
		"  --churn-fraction F     fraction of agents that flap (default 0)\n"
		"  --churn-interval S     mean time online between flaps (default 300)\n"
		"  --churn-offline S      mean time offline per flap (default 30)\n"
		"  --churn-reboot         a flap is a power cycle (Boot!) instead of a network drop\n"
		"  --host-churn S         mean seconds between a host joining/leaving, 0 = off (default 600)\n"
		"  --value-rate F         multiplier of counter growth (default 1)\n"
		"  --vc-rate R            bench load: change Device.DeviceInfo.SoftwareVersion on\n"
		"                         online agents R times per second in total, firing\n"
		"                         ValueChange notifications (default 0 = off)\n"
		"  --vc-rate-file F       read that total rate from file F, re-read every second\n"
		"  --status-interval S    status line period on stderr, 0 = off (default 5)\n"
		"  --run-for S            stop after S seconds (default: run until SIGINT/SIGTERM)\n"
		"  --log-level L          error|warn|info|debug|trace (default info)\n"
		"  --trace                log every USP message in and out as JSON\n"
		"  --check-model          load the model, print a summary and exit\n",
		USPC_SIM_DEFAULT_MODEL);
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

/* Exactly one integer conversion (%d, %06d, %u, ...) and no other '%'. */
static int valid_pattern(const char *p)
{
	int convs = 0;
	for (const char *s = p; *s; s++) {
		if (*s != '%')
			continue;
		if (s[1] == '%') {
			s++;
			continue;
		}
		s++;
		while (*s >= '0' && *s <= '9')
			s++;
		if (*s != 'd' && *s != 'u')
			return 0;
		convs++;
	}
	return convs == 1 && strlen(p) < 100;
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

enum {
	O_AGENTS = 256, O_FIRST, O_BROKER, O_CTRL_ID, O_CTRL_TOPIC, O_EID, O_TOPIC, O_MODEL, O_SEED,
	O_RATE, O_STATE, O_WORKERS, O_KEEPALIVE, O_QOS, O_MAXREC, O_CA, O_CERT, O_KEY, O_INSECURE,
	O_FWTIME, O_FWFRAC, O_FWURL, O_REBOOT, O_CHFRAC, O_CHINT, O_CHOFF, O_CHREBOOT, O_HOSTS,
	O_VRATE, O_VCRATE, O_VCFILE, O_STATUS, O_RUNFOR, O_LOG, O_TRACE, O_CHECK, O_HELP
};

static const struct option opts[] = {
	{"agents", 1, 0, O_AGENTS},          {"first-index", 1, 0, O_FIRST},
	{"broker", 1, 0, O_BROKER},          {"controller-id", 1, 0, O_CTRL_ID},
	{"controller-topic", 1, 0, O_CTRL_TOPIC}, {"eid-pattern", 1, 0, O_EID},
	{"topic-pattern", 1, 0, O_TOPIC},    {"model", 1, 0, O_MODEL},
	{"seed", 1, 0, O_SEED},              {"connect-rate", 1, 0, O_RATE},
	{"state-dir", 1, 0, O_STATE},        {"workers", 1, 0, O_WORKERS},
	{"keepalive", 1, 0, O_KEEPALIVE},    {"qos", 1, 0, O_QOS},
	{"max-record", 1, 0, O_MAXREC},      {"cafile", 1, 0, O_CA},
	{"cert", 1, 0, O_CERT},              {"key", 1, 0, O_KEY},
	{"tls-insecure", 0, 0, O_INSECURE},  {"fw-download-time", 1, 0, O_FWTIME},
	{"fw-fail-fraction", 1, 0, O_FWFRAC}, {"fw-fail-url", 1, 0, O_FWURL},
	{"reboot-time", 1, 0, O_REBOOT},     {"churn-fraction", 1, 0, O_CHFRAC},
	{"churn-interval", 1, 0, O_CHINT},   {"churn-offline", 1, 0, O_CHOFF},
	{"churn-reboot", 0, 0, O_CHREBOOT},  {"host-churn", 1, 0, O_HOSTS},
	{"value-rate", 1, 0, O_VRATE},       {"vc-rate", 1, 0, O_VCRATE},
	{"vc-rate-file", 1, 0, O_VCFILE},       {"status-interval", 1, 0, O_STATUS},
	{"run-for", 1, 0, O_RUNFOR},         {"log-level", 1, 0, O_LOG},
	{"trace", 0, 0, O_TRACE},            {"check-model", 0, 0, O_CHECK},
	{"help", 0, 0, O_HELP},              {0, 0, 0, 0},
};

struct cli {
	struct sim_config cfg;
	const char *broker;
	unsigned long run_for;
	int check;
	char ctrl_topic[512];
};

static int bad(const char *opt, const char *val, const char *want)
{
	fprintf(stderr, "usp-agent-sim: --%s %s: expected %s\n", opt, val, want);
	return -1;
}

static int apply_opt(struct cli *c, int o, const char *v)
{
	struct sim_config *cfg = &c->cfg;
	unsigned long u;
	double d;
	switch (o) {
	case O_AGENTS:
		if (parse_ulong(v, 1, 1000000, &u) < 0)
			return bad("agents", v, "1..1000000");
		cfg->n_agents = (uint32_t)u;
		return 0;
	case O_FIRST:
		if (parse_ulong(v, 0, 100000000, &u) < 0)
			return bad("first-index", v, "0..100000000");
		cfg->first_index = (uint32_t)u;
		return 0;
	case O_BROKER: c->broker = v; return 0;
	case O_CTRL_ID: cfg->controller_id = v; return 0;
	case O_CTRL_TOPIC: cfg->controller_topic = v; return 0;
	case O_EID: cfg->eid_pattern = v; return valid_pattern(v) ? 0 : bad("eid-pattern", v, "one %d");
	case O_TOPIC: cfg->topic_pattern = v; return 0;
	case O_MODEL: cfg->model_file = v; return 0;
	case O_SEED:
		if (parse_ulong(v, 0, ~0ul, &u) < 0)
			return bad("seed", v, "an unsigned integer");
		cfg->seed = u;
		return 0;
	case O_RATE: return parse_double(v, 1, 1e6, &cfg->connect_rate) < 0 ? bad("connect-rate", v, "1..1e6") : 0;
	case O_STATE: cfg->state_dir = v; return 0;
	case O_WORKERS:
		if (parse_ulong(v, 1, 256, &u) < 0)
			return bad("workers", v, "1..256");
		cfg->workers = (uint32_t)u;
		return 0;
	case O_KEEPALIVE:
		if (parse_ulong(v, 5, 65535, &u) < 0)
			return bad("keepalive", v, "5..65535");
		cfg->keepalive = (int)u;
		return 0;
	case O_QOS:
		if (parse_ulong(v, 0, 1, &u) < 0)
			return bad("qos", v, "0 or 1");
		cfg->qos = (int)u;
		return 0;
	case O_MAXREC:
		if (parse_ulong(v, 512, 16u << 20, &u) < 0)
			return bad("max-record", v, "512..16777216");
		cfg->max_record = u;
		return 0;
	case O_CA: cfg->cafile = v; return 0;
	case O_CERT: cfg->certfile = v; return 0;
	case O_KEY: cfg->keyfile = v; return 0;
	case O_INSECURE: cfg->tls_insecure = 1; return 0;
	case O_FWTIME: return parse_double(v, 0, 86400, &cfg->fw_download_s) < 0 ? bad("fw-download-time", v, "0..86400") : 0;
	case O_FWFRAC: return parse_double(v, 0, 1, &cfg->fw_fail_fraction) < 0 ? bad("fw-fail-fraction", v, "0..1") : 0;
	case O_FWURL: cfg->fw_fail_url = v; return 0;
	case O_REBOOT: return parse_double(v, 0, 86400, &cfg->reboot_s) < 0 ? bad("reboot-time", v, "0..86400") : 0;
	case O_CHFRAC: return parse_double(v, 0, 1, &cfg->churn_fraction) < 0 ? bad("churn-fraction", v, "0..1") : 0;
	case O_CHINT: return parse_double(v, 0.1, 1e7, &cfg->churn_interval_s) < 0 ? bad("churn-interval", v, "0.1..1e7") : 0;
	case O_CHOFF: return parse_double(v, 0, 1e7, &cfg->churn_offline_s) < 0 ? bad("churn-offline", v, "0..1e7") : 0;
	case O_CHREBOOT: cfg->churn_reboot = 1; return 0;
	case O_HOSTS: return parse_double(v, 0, 1e7, &cfg->host_churn_s) < 0 ? bad("host-churn", v, "0..1e7") : 0;
	case O_VRATE: return parse_double(v, 0, 1e9, &d) < 0 ? bad("value-rate", v, ">= 0") : (cfg->value_rate = d, 0);
	case O_VCRATE: return parse_double(v, 0, 1e6, &cfg->vc_rate) < 0 ? bad("vc-rate", v, "0..1e6") : 0;
	case O_VCFILE: cfg->vc_rate_file = v; return 0;
	case O_STATUS:
		if (parse_ulong(v, 0, 86400, &u) < 0)
			return bad("status-interval", v, "0..86400");
		cfg->status_interval = (int)u;
		return 0;
	case O_RUNFOR:
		if (parse_ulong(v, 0, 100000000, &c->run_for) < 0)
			return bad("run-for", v, "seconds");
		return 0;
	case O_LOG: {
		int l = log_level_from_name(v);
		if (l < 0)
			return bad("log-level", v, "error|warn|info|debug|trace");
		log_set_level((enum log_level)l);
		return 0;
	}
	case O_TRACE: cfg->trace = 1; return 0;
	case O_CHECK: c->check = 1; return 0;
	default: return -1;
	}
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

int main(int argc, char **argv)
{
	struct cli c;
	struct uspc_err err = {0};
	struct sim_model *model = NULL;
	int o;
	defaults(&c);
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (o == 'h' || o == O_HELP) {
			usage(stdout);
			return 0;
		}
		if (o == '?' || apply_opt(&c, o, optarg) < 0) {
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "usp-agent-sim: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (parse_broker(&c.cfg, c.broker) < 0) {
		fprintf(stderr, "usp-agent-sim: --broker %s: expected mqtt://host:port or mqtts://host:port\n",
			c.broker);
		return 2;
	}
	if (c.cfg.tls && !c.cfg.cafile) {
		fprintf(stderr, "usp-agent-sim: mqtts:// needs --cafile (the broker's CA)\n");
		return 2;
	}
	if (!!c.cfg.certfile != !!c.cfg.keyfile) {
		fprintf(stderr, "usp-agent-sim: --cert and --key go together\n");
		return 2;
	}
	if (!c.cfg.controller_topic) {
		snprintf(c.ctrl_topic, sizeof(c.ctrl_topic), "usp/controller/%s", c.cfg.controller_id);
		c.cfg.controller_topic = c.ctrl_topic;
	}
	if (sim_model_load(c.cfg.model_file, &model, &err) < 0) {
		fprintf(stderr, "usp-agent-sim: %s\n", err.msg);
		return 2;
	}
	if (c.check) {
		check_model(model);
		sim_model_free(model);
		return 0;
	}
	if (c.cfg.state_dir) {
		FILE *probe;
		char p[1024];
		snprintf(p, sizeof(p), "%s/.write-test", c.cfg.state_dir);
		if (!(probe = fopen(p, "w"))) {
			fprintf(stderr, "usp-agent-sim: --state-dir %s: %s\n", c.cfg.state_dir, strerror(errno));
			sim_model_free(model);
			return 2;
		}
		fclose(probe);
		remove(p);
	}
	if (sim_workers_plan(&c.cfg, &err) < 0) {
		fprintf(stderr, "usp-agent-sim: %s\n", err.msg);
		sim_model_free(model);
		return 2;
	}
	int rc = sim_workers_run(&c.cfg, model, (int)c.run_for);
	sim_model_free(model);
	return rc;
}
