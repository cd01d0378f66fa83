/*
 * core_config.c — the daemon's configuration as one table (key, type,
 * default, range, environment variable, flag, reloadable, secret), in the
 * spirit of Redis' static_configs[]. Layers are applied in order: defaults,
 * file, environment, flags, secret files, derived values, validation.
 *
 * Called from the main thread at start-up and on SIGHUP (from the core
 * thread, which builds a fresh struct and copies the reloadable part).
 * Invariants: every string field is either NULL or malloc'd and owned by the
 * struct; secrets never enter error messages or printed output.
 */
#include "core_config.h"

#include "log.h"
#include "redact.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum cfg_type { CFG_STR, CFG_INT, CFG_BOOL };

#define CFG_RELOAD 1u /* applied on SIGHUP */
#define CFG_SECRET 2u /* env or file only; never printed */
#define CFG_NOFLAG 4u /* no --flag form */

struct cfg_key {
	const char *name;
	enum cfg_type type;
	size_t off;
	const char *def;
	long min, max;
	const char *env;  /* NULL → USPC_<NAME upper-cased> */
	const char *flag; /* NULL → --<name with '-' for '_'> */
	unsigned flags;
	const char *help;
};

#define S(f) CFG_STR, offsetof(struct core_config, f)
#define I(f) CFG_INT, offsetof(struct core_config, f)
#define B(f) CFG_BOOL, offsetof(struct core_config, f)

static const struct cfg_key keys[] = {
	{ "endpoint_id", S(endpoint_id), "self::uspc", 1, 256, NULL, NULL, 0,
	  "USP endpoint ID of this controller" },
	{ "node_id", S(node_id), "", 0, 64, NULL, NULL, 0,
	  "name of this daemon (default: host name)" },
	{ "controller_topic", S(controller_topic), "", 0, 512, "USPC_TOPIC", "--topic", 0,
	  "topic agents publish to (default usp/controller/<endpoint_id>)" },
	{ "reply_topic", S(reply_topic), "", 0, 512, NULL, NULL, 0,
	  "this daemon's response topic (default <controller_topic>/reply/<node_id>)" },
	{ "shared_group", S(shared_group), "", 0, 64, NULL, NULL, 0,
	  "if set, subscribe $share/<group>/<controller_topic>" },
	{ "agent_identity", S(agent_identity), "required", 1, 16, NULL, NULL, 0,
	  "required: a record counts only when it arrives on <topic>/<its from_id>; optional: "
	  "records on the bare topics are accepted unchecked (development only)" },
	{ "agent_topic_template", S(agent_topic_template), "", 0, 512, NULL, NULL, 0,
	  "if set, every agent's topic is this with %e replaced by its EID (e.g. usp/agent/%e)" },
	{ "mqtt_url", S(mqtt_url), "mqtt://127.0.0.1:1883", 1, 512, "USPC_MQTT", "--mqtt", 0,
	  "broker, mqtt://host:port or mqtts://host:port" },
	{ "mqtt_client_id", S(mqtt_client_id), "", 0, 128, NULL, NULL, 0,
	  "MQTT client id (default uspc-<node_id>)" },
	{ "mqtt_username", S(mqtt_username), "", 0, 256, NULL, NULL, 0, "MQTT user name" },
	{ "mqtt_password", S(mqtt_password), "", 0, CORE_CONFIG_SECRET_MAX, "USPC_MQTT_PASSWORD",
	  NULL, CFG_SECRET | CFG_NOFLAG, "MQTT password (environment only)" },
	{ "mqtt_password_file", S(mqtt_password_file), "", 0, PATH_MAX, NULL, NULL, 0,
	  "file holding the MQTT password" },
	{ "mqtt_keepalive", I(mqtt_keepalive_s), "60", 5, 3600, NULL, NULL, 0,
	  "MQTT keep-alive, seconds" },
	{ "mqtt_clean_start", B(mqtt_clean_start), "false", 0, 1, NULL, NULL, 0,
	  "MQTT 5 clean start: true discards the broker's session of this client id" },
	{ "mqtt_session_expiry", I(mqtt_session_expiry_s), "86400", 0, INT_MAX, NULL, NULL, 0,
	  "seconds the broker keeps our session (subscriptions, queued messages) while we are away; 0 = ends at disconnect" },
	{ "mqtt_tcp_nodelay", B(mqtt_tcp_nodelay), "true", 0, 1, NULL, NULL, 0,
	  "set TCP_NODELAY on the broker connection (Nagle adds ~40 ms per message)" },
	{ "mqtt_ca_file", S(mqtt_ca_file), "", 0, PATH_MAX, NULL, NULL, 0,
	  "CA bundle to verify the broker (mqtts)" },
	{ "mqtt_cert_file", S(mqtt_cert_file), "", 0, PATH_MAX, NULL, NULL, 0,
	  "client certificate (mTLS)" },
	{ "mqtt_key_file", S(mqtt_key_file), "", 0, PATH_MAX, NULL, NULL, 0,
	  "client private key (mTLS)" },
	{ "mqtt_tls_verify", B(mqtt_tls_verify), "true", 0, 1, NULL, NULL, 0,
	  "verify the broker certificate and host name" },
	{ "mqtt_max_inflight", I(mqtt_max_inflight), "1000", 1, 65535, NULL, NULL, 0,
	  "unacknowledged QoS 1 publishes" },
	{ "mqtt_out_queue", I(mqtt_out_queue), "10000", 16, 10000000, NULL, NULL, 0,
	  "publishes waiting for the window" },
	{ "mqtt_in_queue", I(mqtt_in_queue), "10000", 16, 10000000, NULL, NULL, 0,
	  "arrived messages waiting for the core" },
	{ "mqtt_reconnect_min_ms", I(mqtt_reconnect_min_ms), "500", 10, 600000, NULL, NULL, 0,
	  "first reconnect delay" },
	{ "mqtt_reconnect_max_ms", I(mqtt_reconnect_max_ms), "30000", 10, 3600000, NULL, NULL, 0,
	  "longest reconnect delay" },
	{ "db", S(db), "postgresql://127.0.0.1/uspc", 1, 1024, "USPC_DB", "--db", 0,
	  "PostgreSQL conninfo or URI" },
	{ "db_password", S(db_password), "", 0, CORE_CONFIG_SECRET_MAX, "USPC_DB_PASSWORD", NULL,
	  CFG_SECRET | CFG_NOFLAG, "database password (environment only)" },
	{ "db_password_file", S(db_password_file), "", 0, PATH_MAX, NULL, NULL, 0,
	  "file holding the database password" },
	{ "db_writer_queue", I(db_writer_queue), "100000", 64, 100000000, NULL, NULL, 0,
	  "store writer queue (ops)" },
	{ "db_writer_batch", I(db_writer_batch), "1000", 1, 100000, NULL, NULL, 0,
	  "ops per write transaction" },
	{ "task_poll_ms", I(task_poll_ms), "2000", 50, 600000, NULL, NULL, 0,
	  "task poll safety net" },
	{ "task_lease_s", I(task_lease_s), "30", 2, 86400, NULL, NULL, 0,
	  "a dead daemon's sent tasks are re-queued after this" },
	{ "campaigns", B(campaigns), "true", 0, 1, NULL, NULL, 0,
	  "run the firmware campaign engine" },
	{ "campaign_poll_ms", I(campaign_poll_ms), "1000", 100, 600000, NULL, NULL, 0,
	  "campaign engine pass interval" },
	{ "campaign_clock_offset_s", I(campaign_clock_offset_s), "0", -315360000, 315360000, NULL,
	  NULL, 0, "seconds added to the clock maintenance windows are read with (tests)" },
	{ "profiles", B(profiles), "true", 0, 1, NULL, NULL, 0,
	  "run the provisioning profile engine" },
	{ "profile_max_inflight", I(profile_max_inflight), "2000", 1, 1000000, NULL, NULL, 0,
	  "profile runs under way at once, all daemons" },
	{ "profile_scope_s", I(profile_scope_s), "300", 1, 86400, NULL, NULL, 0,
	  "seconds between scope walks of a profile" },
	{ "profile_contest_count", I(profile_contest_count), "3", 1, 1000, NULL, NULL, 0,
	  "Sets of one path within profile_contest_window_s that make it contested" },
	{ "profile_contest_window_s", I(profile_contest_window_s), "3600", 1, 31536000, NULL, NULL,
	  0, "the window of profile_contest_count" },
	{ "profile_stamp_path", S(profile_stamp_path), "Device.DeviceInfo.ProvisioningCode", 0, 255,
	  NULL, NULL, 0, "parameter stamped with the applied profile versions (empty: none)" },
	{ "profile_gate", B(profile_gate), "false", 0, 1, NULL, NULL, 0,
	  "tasks wait until the agent's profiles have converged" },
	{ "retention_notifications_days", I(retention_notifications_days), "30", 0, 3650, NULL,
	  NULL, 0, "days of notifications kept (whole UTC days are dropped); 0 = for ever" },
	{ "retention_tasks_days", I(retention_tasks_days), "30", 0, 3650, NULL, NULL, 0,
	  "days of tasks kept, counted from their creation; a task still open then is expired; "
	  "0 = for ever" },
	{ "retention_profile_history_days", I(retention_profile_history_days), "180", 0, 3650, NULL,
	  NULL, 0, "days of profile history kept; 0 = for ever" },
	{ "retention_operation_results_days", I(retention_operation_results_days), "30", 0, 3650,
	  NULL, NULL, 0,
	  "days of operation results kept, counted from the command's request; 0 = "
	  "for ever" },
	{ "partition_ahead_days", I(partition_ahead_days), "3", 1, 60, NULL, NULL, 0,
	  "days of partitions created ahead of today" },
	{ "maintenance_interval_s", I(maintenance_interval_s), "600", 0, 86400, NULL, NULL, 0,
	  "seconds between maintenance runs (partitions, retention; one daemon at a time); 0 = "
	  "this daemon never runs it" },
	{ "maintenance_clock_offset_s", I(maintenance_clock_offset_s), "0", -315360000, 315360000,
	  NULL, NULL, 0, "seconds added to the clock the maintenance reads today from (tests)" },
	{ "log_level", S(log_level), "info", 1, 16, NULL, NULL, CFG_RELOAD,
	  "error, warn, info, debug, trace" },
	{ "stats_interval", I(stats_interval_s), "10", 0, 86400, NULL, NULL, CFG_RELOAD,
	  "seconds between stats lines, 0 = off" },
	{ "request_timeout_ms", I(request_timeout_ms), "30000", 100, 3600000, NULL, NULL,
	  CFG_RELOAD, "time an agent has to answer a request" },
	{ "offline_after_timeouts", I(offline_after_timeouts), "3", 1, 1000, NULL, NULL, CFG_RELOAD,
	  "consecutive timeouts that mark an agent offline" },
	{ "max_pending", I(max_pending), "2000", 1, 1000000, NULL, NULL, CFG_RELOAD,
	  "outstanding requests, all agents" },
	{ "max_pending_per_agent", I(max_pending_per_agent), "8", 1, 10000, NULL, NULL, CFG_RELOAD,
	  "outstanding requests per agent" },
	{ "notify_resp_backlog", I(notify_resp_backlog), "20000", 16, 10000000, NULL, NULL,
	  CFG_RELOAD, "outbox length past which NotifyResps are dropped (the agent retries)" },
	{ "max_record_size", I(max_record_size), "65536", 256, 64 << 20, NULL, NULL, 0,
	  "largest USP record accepted, bytes" },
	{ "max_agents", I(max_agents), "1000000", 1, 100000000, NULL, NULL, 0,
	  "agents held in memory" },
	{ "onboard", B(onboard), "true", 0, 1, NULL, NULL, CFG_RELOAD,
	  "read DeviceInfo and create subscriptions on contact" },
	{ "reject_log_interval", I(reject_log_interval_s), "10", 0, 86400, NULL, NULL, CFG_RELOAD,
	  "seconds between log lines per rejection reason" },
	{ "rejections_max_rows", I(rejections_max_rows), "10000", 0, 10000000, NULL, NULL,
	  CFG_RELOAD,
	  "rows of the database's rejections table (per sender and reason, newest kept); 0 = "
	  "none written" },
	{ "rejections_retention_s", I(rejections_retention_s), "604800", 0, 315360000, NULL, NULL,
	  CFG_RELOAD,
	  "rejections rows older than this many seconds are deleted; 0 = no age limit" },
	{ "drain_timeout_ms", I(drain_timeout_ms), "10000", 0, 600000, NULL, NULL, CFG_RELOAD,
	  "SIGTERM: wait for in-flight requests" },
	{ "store_drain_timeout_ms", I(store_drain_timeout_ms), "20000", 0, 600000, NULL, NULL,
	  CFG_RELOAD, "SIGTERM: time the store writer has to commit what it holds" },
	{ "protocol_trace", B(protocol_trace), "false", 0, 1, NULL, NULL, CFG_RELOAD,
	  "log every record in and out (debug level)" },
	{ "metrics_listen", S(metrics_listen), "127.0.0.1:9469", 0, 300, NULL, NULL, 0,
	  "host:port of the HTTP listener for /metrics and /healthz ([v6]:port; port 0: any "
	  "free port; \"\": off)" },
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

static const struct cfg_key *key_find(const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static char **str_field(struct core_config *c, const struct cfg_key *k)
{
	return (char **)((char *)c + k->off);
}

static int *int_field(struct core_config *c, const struct cfg_key *k)
{
	return (int *)((char *)c + k->off);
}

static const char *env_name(const struct cfg_key *k, char *buf, size_t cap)
{
	if (k->env)
		return k->env;
	size_t n = (size_t)snprintf(buf, cap, "USPC_%s", k->name);
	for (size_t i = 5; i < n && i < cap; i++)
		buf[i] = (char)toupper((unsigned char)buf[i]);
	return buf;
}

static const char *flag_name(const struct cfg_key *k, char *buf, size_t cap)
{
	if (k->flag)
		return k->flag;
	size_t n = (size_t)snprintf(buf, cap, "--%s", k->name);
	for (size_t i = 2; i < n && i < cap; i++)
		if (buf[i] == '_')
			buf[i] = '-';
	return buf;
}

static int parse_bool(const char *v, int *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *out = 1, 0;
		if (strcasecmp(v, no[i]) == 0)
			return *out = 0, 0;
	}
	return -1;
}

static int set_key(struct core_config *c, const struct cfg_key *k, const char *value,
		   struct uspc_err *err)
{
	if (k->type == CFG_STR) {
		if (strlen(value) > (size_t)k->max)
			return uspc_err_set(err, USPC_E_CONFIG, "%s: value longer than %ld bytes",
					    k->name, k->max);
		char *dup = strdup(value);
		if (!dup)
			return uspc_err_set(err, USPC_E_NOMEM, "%s: out of memory", k->name);
		free(*str_field(c, k));
		*str_field(c, k) = dup;
		return 0;
	}
	if (k->type == CFG_BOOL) {
		int b;
		if (parse_bool(value, &b) != 0)
			return uspc_err_set(err, USPC_E_CONFIG,
					    "%s: expected true or false, got \"%.40s\"", k->name,
					    value);
		*int_field(c, k) = b;
		return 0;
	}
	char *end = NULL;
	errno = 0;
	long v = strtol(value, &end, 10);
	if (errno || end == value || *end != '\0')
		return uspc_err_set(err, USPC_E_CONFIG, "%s: expected an integer, got \"%.40s\"",
				    k->name, value);
	if (v < k->min || v > k->max)
		return uspc_err_set(err, USPC_E_CONFIG, "%s: %ld is outside %ld..%ld", k->name, v,
				    k->min, k->max);
	*int_field(c, k) = (int)v;
	return 0;
}

int core_config_set(struct core_config *c, const char *key, const char *value, struct uspc_err *err)
{
	const struct cfg_key *k = key_find(key);
	if (!k)
		return uspc_err_set(err, USPC_E_CONFIG, "unknown setting \"%.64s\"", key);
	return set_key(c, k, value, err);
}

void core_config_init(struct core_config *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < N_KEYS; i++)
		(void)set_key(c, &keys[i], keys[i].def, NULL);
}

void core_config_fini(struct core_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < N_KEYS; i++) {
		if (keys[i].type != CFG_STR)
			continue;
		char **p = str_field(c, &keys[i]);
		if (*p && (keys[i].flags & CFG_SECRET))
			memset(*p, 0, strlen(*p));
		free(*p);
		*p = NULL;
	}
}

void core_config_cmd_fini(struct core_config_cmd *cmd)
{
	free(cmd->config_path);
	cmd->config_path = NULL;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

/* One "key = value" line (already NUL-terminated, comment-free). */
static int parse_line(struct core_config *c, char *line, const char *name, int lineno,
		      struct uspc_err *err)
{
	char *eq = strchr(line, '=');
	if (!eq)
		return uspc_err_set(err, USPC_E_CONFIG, "%s:%d: expected key = value", name,
				    lineno);
	*eq = '\0';
	char *key = trim(line), *val = trim(eq + 1);
	size_t vl = strlen(val);
	if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
		val[vl - 1] = '\0';
		val++;
	}
	const struct cfg_key *k = key_find(key);
	if (!k)
		return uspc_err_set(err, USPC_E_CONFIG, "%s:%d: unknown setting \"%.64s\"", name,
				    lineno, key);
	if (k->flags & CFG_SECRET)
		return uspc_err_set(err, USPC_E_CONFIG,
				    "%s:%d: %s is not accepted in a config file; use %s_file "
				    "or the environment",
				    name, lineno, k->name, k->name);
	struct uspc_err e;
	if (set_key(c, k, val, &e) != 0)
		return uspc_err_set(err, e.code, "%s:%d: %s", name, lineno, e.msg);
	return 0;
}

int core_config_parse_text(struct core_config *c, const char *text, size_t len, const char *name,
			   struct uspc_err *err)
{
	char line[CORE_CONFIG_LINE_MAX];
	size_t pos = 0;
	int lineno = 0;
	while (pos < len) {
		lineno++;
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		if (n >= sizeof(line))
			return uspc_err_set(err, USPC_E_CONFIG, "%s:%d: line longer than %d bytes",
					    name, lineno, CORE_CONFIG_LINE_MAX - 1);
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + (nl ? 1 : 0);
		if (memchr(line, '\0', n))
			return uspc_err_set(err, USPC_E_CONFIG, "%s:%d: NUL byte in line", name,
					    lineno);
		char *s = trim(line);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		int rc = parse_line(c, s, name, lineno, err);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Read a whole small file (config or secret) with a cap. */
static int read_file(const char *path, size_t cap, char **out, size_t *out_len,
		     struct uspc_err *err)
{
	int rc = USPC_E_FAILED;
	char *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return uspc_err_set(err, USPC_E_SYS, "%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = uspc_err_set(err, USPC_E_CONFIG, "%s: not a regular file", path);
		goto out;
	}
	if ((size_t)st.st_size > cap) {
		rc = uspc_err_set(err, USPC_E_CONFIG, "%s: larger than %zu bytes", path, cap);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		rc = uspc_err_set(err, USPC_E_NOMEM, "%s: out of memory", path);
		goto out;
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = uspc_err_set(err, USPC_E_SYS, "%s: read failed", path);
			goto out;
		}
		got += (size_t)r;
	}
	buf[got] = '\0';
	*out = buf;
	*out_len = got;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	close(fd);
	return rc;
}

static const char *env_get(char **envp, const char *name)
{
	size_t n = strlen(name);
	for (char **e = envp; e && *e; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

static int apply_env(struct core_config *c, char **envp, struct uspc_err *err)
{
	char buf[96];
	for (size_t i = 0; i < N_KEYS; i++) {
		const char *name = env_name(&keys[i], buf, sizeof(buf));
		const char *v = env_get(envp, name);
		if (!v)
			continue;
		struct uspc_err e;
		if (set_key(c, &keys[i], v, &e) != 0)
			return uspc_err_set(err, e.code, "environment %s: %s", name,
					    (keys[i].flags & CFG_SECRET) ? "invalid value" : e.msg);
	}
	return 0;
}

/* True when a database or MQTT URL/conninfo carries a password. */
static int has_password(const char *s)
{
	if (!s)
		return 0;
	if (strstr(s, "password="))
		return 1;
	const char *scheme = strstr(s, "://");
	if (!scheme)
		return 0;
	const char *at = strchr(scheme + 3, '@');
	const char *slash = strchr(scheme + 3, '/');
	if (!at || (slash && slash < at))
		return 0;
	const char *colon = memchr(scheme + 3, ':', (size_t)(at - (scheme + 3)));
	return colon != NULL;
}

static const struct cfg_key *flag_find(const char *arg)
{
	char buf[96];
	for (size_t i = 0; i < N_KEYS; i++)
		if (!(keys[i].flags & CFG_NOFLAG) &&
		    strcmp(flag_name(&keys[i], buf, sizeof(buf)), arg) == 0)
			return &keys[i];
	return NULL;
}

/* First pass over argv: command flags and --config; second pass: settings. */
static int scan_flags(struct core_config *c, struct core_config_cmd *cmd, int argc, char **argv,
		      int apply, struct uspc_err *err)
{
	for (int i = 1; i < argc; i++) {
		char *a = argv[i], *val = NULL, name[96];
		char *eq = strchr(a, '=');
		if (strncmp(a, "--", 2) == 0 && eq && (size_t)(eq - a) < sizeof(name)) {
			memcpy(name, a, (size_t)(eq - a));
			name[eq - a] = '\0';
			val = eq + 1;
		} else {
			snprintf(name, sizeof(name), "%s", a);
		}
		if (!strcmp(name, "--check-config") || !strcmp(name, "--help") ||
		    !strcmp(name, "-h") || !strcmp(name, "--version")) {
			if (!apply) {
				cmd->check_config |= !strcmp(name, "--check-config");
				cmd->help |= !strcmp(name, "--help") || !strcmp(name, "-h");
				cmd->version |= !strcmp(name, "--version");
			}
			continue;
		}
		const struct cfg_key *k = flag_find(name);
		int is_config = !strcmp(name, "--config") || !strcmp(name, "-c");
		if (!k && !is_config)
			return uspc_err_set(err, USPC_E_CONFIG,
					    "unknown option \"%.64s\" (see --help)", name);
		if (!val) {
			if (i + 1 >= argc)
				return uspc_err_set(err, USPC_E_CONFIG, "option %s needs a value",
						    name);
			val = argv[++i];
		}
		if (is_config) {
			if (!apply) {
				free(cmd->config_path);
				cmd->config_path = strdup(val);
			}
			continue;
		}
		if (!apply)
			continue;
		if ((k->off == offsetof(struct core_config, db) ||
		     k->off == offsetof(struct core_config, mqtt_url)) &&
		    has_password(val))
			return uspc_err_set(err, USPC_E_CONFIG,
					    "%s must not carry a password on the command line; "
					    "use the environment or a password file",
					    name);
		struct uspc_err e;
		if (set_key(c, k, val, &e) != 0)
			return uspc_err_set(err, e.code, "option %s", e.msg);
	}
	return 0;
}

static int load_secret(char **dst, const char *file, const char *what, struct uspc_err *err)
{
	if (!file || !file[0] || (*dst && (*dst)[0]))
		return 0;
	char *buf = NULL;
	size_t len = 0;
	struct uspc_err e;
	if (read_file(file, CORE_CONFIG_SECRET_MAX, &buf, &len, &e) != 0)
		return uspc_err_set(err, e.code, "%s: %s", what, e.msg);
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	free(*dst);
	*dst = buf;
	return 0;
}

int core_config_load(struct core_config *c, struct core_config_cmd *cmd,
		     const struct core_config_sources *src, struct uspc_err *err)
{
	memset(cmd, 0, sizeof(*cmd));
	int rc = scan_flags(c, cmd, src->argc, src->argv, 0, err);
	if (rc != 0)
		return rc;
	if (!cmd->config_path) {
		const char *p = env_get(src->envp, "USPC_CONFIG");
		if (p && p[0])
			cmd->config_path = strdup(p);
	}
	if (cmd->config_path) {
		char *text = NULL;
		size_t len = 0;
		rc = read_file(cmd->config_path, CORE_CONFIG_FILE_MAX, &text, &len, err);
		if (rc != 0)
			return rc;
		rc = core_config_parse_text(c, text, len, cmd->config_path, err);
		free(text);
		if (rc != 0)
			return rc;
	}
	if ((rc = apply_env(c, src->envp, err)) != 0 ||
	    (rc = scan_flags(c, cmd, src->argc, src->argv, 1, err)) != 0)
		return rc;
	if ((rc = load_secret(&c->mqtt_password, c->mqtt_password_file, "mqtt_password_file",
			      err)) != 0 ||
	    (rc = load_secret(&c->db_password, c->db_password_file, "db_password_file", err)) != 0)
		return rc;
	return core_config_finish(c, err);
}

/* Fill an empty string field with a value built from a, b and c joined. */
static int set_derived(char **field, const char *a, const char *b, const char *c)
{
	if (*field && (*field)[0])
		return 0;
	char buf[1200];
	snprintf(buf, sizeof(buf), "%s%s%s", a, b, c);
	char *dup = strdup(buf);
	if (!dup)
		return USPC_E_NOMEM;
	free(*field);
	*field = dup;
	return 0;
}

static int topic_ok(const char *t)
{
	return t[0] && !strpbrk(t, "+#") && strlen(t) <= 512;
}

/* A topic with exactly one %e and no other '%', '+' or '#'. */
static int template_ok(const char *t)
{
	const char *e = strstr(t, "%e");
	if (!e || strstr(e + 2, "%e") || strpbrk(t, "+#"))
		return 0;
	for (const char *p = strchr(t, '%'); p; p = strchr(p + 1, '%'))
		if (p != e)
			return 0;
	return 1;
}

int core_config_print_warnings(const struct core_config *c, FILE *out)
{
	if (c->identity_required)
		return 0;
	fprintf(out, "# warning: agent_identity = optional: records published on the bare "
		     "controller or reply topic are accepted without checking that their "
		     "from_id is the sender the broker authenticated; any client of the broker "
		     "can speak for any agent. Use only on a development broker.\n");
	return 1;
}

int core_config_finish(struct core_config *c, struct uspc_err *err)
{
	char host[65] = "uspc";
	if (!c->node_id || !c->node_id[0]) {
		if (gethostname(host, sizeof(host) - 1) != 0 || !host[0])
			snprintf(host, sizeof(host), "uspc");
		host[sizeof(host) - 1] = '\0';
	}
	if (set_derived(&c->node_id, host, "", "") ||
	    set_derived(&c->controller_topic, "usp/controller/", c->endpoint_id, "") ||
	    set_derived(&c->reply_topic, c->controller_topic, "/reply/", c->node_id) ||
	    set_derived(&c->mqtt_client_id, "uspc-", c->node_id, ""))
		return uspc_err_set(err, USPC_E_NOMEM, "out of memory");
	for (const char *p = c->node_id; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-._", *p))
			return uspc_err_set(
				err, USPC_E_CONFIG,
				"node_id \"%.64s\": only letters, digits, '-', '.', '_'",
				c->node_id);
	if (!topic_ok(c->controller_topic))
		return uspc_err_set(err, USPC_E_CONFIG,
				    "controller_topic must be a non-empty topic without + or #");
	if (!topic_ok(c->reply_topic) || !strcmp(c->reply_topic, c->controller_topic))
		return uspc_err_set(err, USPC_E_CONFIG,
				    "reply_topic must be a topic without + or #, "
				    "different from controller_topic");
	if (strcmp(c->agent_identity, "required") && strcmp(c->agent_identity, "optional"))
		return uspc_err_set(err, USPC_E_CONFIG,
				    "agent_identity \"%.16s\": expected required or optional",
				    c->agent_identity);
	c->identity_required = strcmp(c->agent_identity, "required") == 0;
	if (c->agent_topic_template[0] && !template_ok(c->agent_topic_template))
		return uspc_err_set(err, USPC_E_CONFIG,
				    "agent_topic_template must hold %%e exactly once and no other "
				    "%% sign, + or #");
	if (log_level_from_name(c->log_level) < 0)
		return uspc_err_set(err, USPC_E_CONFIG,
				    "log_level \"%.16s\": expected error, warn, info, debug "
				    "or trace",
				    c->log_level);
	if (strncmp(c->mqtt_url, "mqtt://", 7) != 0 && strncmp(c->mqtt_url, "mqtts://", 8) != 0 &&
	    strncmp(c->mqtt_url, "tcp://", 6) != 0 && strncmp(c->mqtt_url, "ssl://", 6) != 0)
		return uspc_err_set(err, USPC_E_CONFIG,
				    "mqtt_url must start with mqtt:// or mqtts://");
	if ((c->mqtt_cert_file[0] != '\0') != (c->mqtt_key_file[0] != '\0'))
		return uspc_err_set(err, USPC_E_CONFIG,
				    "mqtt_cert_file and mqtt_key_file go together");
	if (c->mqtt_reconnect_min_ms > c->mqtt_reconnect_max_ms)
		return uspc_err_set(err, USPC_E_CONFIG,
				    "mqtt_reconnect_min_ms exceeds mqtt_reconnect_max_ms");
	if (c->max_pending_per_agent > c->max_pending)
		return uspc_err_set(err, USPC_E_CONFIG,
				    "max_pending_per_agent exceeds max_pending");
	char mhost[256];
	int mport;
	const char *why = NULL;
	if (c->metrics_listen[0] &&
	    core_config_parse_listen(c->metrics_listen, mhost, sizeof(mhost), &mport, &why) != 0)
		return uspc_err_set(err, USPC_E_CONFIG,
				    "metrics_listen \"%.300s\": %s (host:port, [ipv6]:port, or "
				    "\"\" for off)",
				    c->metrics_listen, why);
	return 0;
}

int core_config_parse_listen(const char *s, char *host, size_t host_cap, int *port,
			     const char **why)
{
	const char *h = s, *colon;
	size_t hl;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':') {
			*why = "an IPv6 address in brackets must be followed by :port";
			return -1;
		}
		h = s + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon) {
			*why = "no :port";
			return -1;
		}
		hl = (size_t)(colon - s);
		if (memchr(s, ':', hl)) {
			*why = "an IPv6 address goes in brackets, e.g. [::1]:9469";
			return -1;
		}
	}
	if (hl == 0) {
		*why = "no host (0.0.0.0 or [::] listen on every interface)";
		return -1;
	}
	if (hl >= host_cap) {
		*why = "host name too long";
		return -1;
	}
	const char *p = colon + 1;
	long v = 0;
	if (!*p) {
		*why = "no port after the colon";
		return -1;
	}
	for (; *p; p++) {
		if (!isdigit((unsigned char)*p) || v > 65535) {
			*why = "the port is not a number from 0 to 65535";
			return -1;
		}
		v = v * 10 + (*p - '0');
	}
	if (v > 65535) {
		*why = "the port is not a number from 0 to 65535";
		return -1;
	}
	for (size_t i = 0; i < hl; i++) {
		if (!isalnum((unsigned char)h[i]) && !strchr(".-:%_", h[i])) {
			*why = "the host holds a character no address or host name has";
			return -1;
		}
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (int)v;
	return 0;
}

void core_config_print(const struct core_config *c, FILE *out)
{
	struct core_config *m = (struct core_config *)c; /* read-only use */
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct cfg_key *k = &keys[i];
		if (k->type == CFG_INT) {
			fprintf(out, "%s = %d\n", k->name, *int_field(m, k));
		} else if (k->type == CFG_BOOL) {
			fprintf(out, "%s = %s\n", k->name, *int_field(m, k) ? "true" : "false");
		} else if (k->flags & CFG_SECRET) {
			const char *v = *str_field(m, k);
			fprintf(out, "%s = %s\n", k->name, v && v[0] ? "(set)" : "(unset)");
		} else {
			char buf[1200];
			uspc_redact(*str_field(m, k), buf, sizeof(buf));
			fprintf(out, "%s = %s\n", k->name, buf);
		}
	}
}

static int key_equal(const struct core_config *a, const struct core_config *b,
		     const struct cfg_key *k)
{
	struct core_config *ma = (struct core_config *)a, *mb = (struct core_config *)b;
	if (k->type != CFG_STR)
		return *int_field(ma, k) == *int_field(mb, k);
	const char *x = *str_field(ma, k), *y = *str_field(mb, k);
	return strcmp(x ? x : "", y ? y : "") == 0;
}

int core_config_apply_reloadable(struct core_config *dst, const struct core_config *src,
				 int *changed_fixed)
{
	int changed = 0, fixed = 0;
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct cfg_key *k = &keys[i];
		if (key_equal(dst, src, k))
			continue;
		if (!(k->flags & CFG_RELOAD)) {
			fixed++;
			continue;
		}
		changed++;
		if (k->type != CFG_STR) {
			*int_field(dst, k) = *int_field((struct core_config *)src, k);
			continue;
		}
		char *dup = strdup(*str_field((struct core_config *)src, k));
		if (!dup)
			continue;
		free(*str_field(dst, k));
		*str_field(dst, k) = dup;
	}
	if (changed_fixed)
		*changed_fixed = fixed;
	return changed;
}

void core_config_usage(FILE *out, const char *prog)
{
	char fb[96], eb[96];
	fprintf(out,
		"usage: %s [--config FILE] [--check-config] [--OPTION VALUE ...]\n"
		"  USP controller daemon. Settings come from defaults, the config file\n"
		"  (--config or USPC_CONFIG), the environment, then flags (later wins).\n"
		"  --check-config  validate the settings, print them (secrets hidden), exit\n"
		"  --help, --version\n\nsettings (flag / environment / default):\n",
		prog);
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct cfg_key *k = &keys[i];
		fprintf(out, "  %-22s %-24s %-26s %s%s\n    %s\n", k->name,
			(k->flags & CFG_NOFLAG) ? "(no flag)" : flag_name(k, fb, sizeof(fb)),
			env_name(k, eb, sizeof(eb)), k->def[0] ? k->def : "\"\"",
			(k->flags & CFG_RELOAD) ? " [SIGHUP]" : "", k->help);
	}
}
