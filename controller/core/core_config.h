/*
 * core_config.h — the daemon's settings: one table of keys with defaults,
 * read from a `key = value` file, then overridden by USPC_* environment
 * variables, then by command-line flags (later wins). Secrets (MQTT and
 * database passwords) come only from the environment or from files named in
 * the config; never from argv, and they are never printed.
 *
 * Pure apart from reading the config file and secret files: no logging, no
 * globals. Errors name the file and line, or the variable or flag.
 */
#ifndef USPC_CORE_CONFIG_H
#define USPC_CORE_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "usp_err.h"

#define CORE_CONFIG_LINE_MAX 4096      /* longest config line accepted */
#define CORE_CONFIG_FILE_MAX (1 << 20) /* largest config file accepted */
#define CORE_CONFIG_SECRET_MAX 1024    /* largest secret file accepted */
#define CORE_CONFIG_NAME_MAX 64        /* longest key name */

struct core_config {
	/* identity and topics */
	char *endpoint_id;          /* our USP EID (to_id we accept, from_id we send) */
	char *node_id;              /* this daemon's name: reply topic, task leases */
	char *controller_topic;     /* agents publish here (notifications, connect records) */
	char *reply_topic;          /* responses to this daemon's requests */
	char *shared_group;         /* non-empty: subscribe $share/<group>/<controller_topic> */
	char *agent_identity;       /* "required" or "optional" (core_identity.h) */
	int identity_required;      /* derived: agent_identity == "required" */
	char *agent_topic_template; /* "" or a topic with one %e (the agent's EID) */
	/* MQTT */
	char *mqtt_url;
	char *mqtt_client_id;
	char *mqtt_username;
	char *mqtt_password; /* secret: USPC_MQTT_PASSWORD or mqtt_password_file */
	char *mqtt_password_file;
	int mqtt_keepalive_s;
	int mqtt_clean_start;
	int mqtt_session_expiry_s; /* MQTT 5 Session Expiry Interval */
	int mqtt_tcp_nodelay;
	char *mqtt_ca_file;
	char *mqtt_cert_file;
	char *mqtt_key_file;
	int mqtt_tls_verify;
	int mqtt_max_inflight;
	int mqtt_out_queue;
	int mqtt_in_queue;
	int mqtt_reconnect_min_ms;
	int mqtt_reconnect_max_ms;
	/* PostgreSQL */
	char *db;          /* conninfo or postgresql:// URI */
	char *db_password; /* secret: USPC_DB_PASSWORD or db_password_file */
	char *db_password_file;
	int db_writer_queue;
	int db_writer_batch;
	int task_poll_ms;
	int task_lease_s;
	/* firmware campaigns */
	int campaigns; /* run the campaign engine */
	int campaign_poll_ms;
	/* provisioning profiles */
	int profiles; /* run the profile engine */
	int profile_max_inflight;
	int profile_scope_s;
	int profile_contest_count;
	int profile_contest_window_s;
	char *profile_stamp_path;
	int profile_gate;
	int campaign_clock_offset_s; /* tests: shifts the window clock */
	/* retention (store_retention.h): days kept, 0 = for ever */
	int retention_notifications_days;
	int retention_tasks_days;
	int retention_profile_history_days;
	int retention_operation_results_days;
	int partition_ahead_days;
	int maintenance_interval_s;     /* 0: this daemon never runs the maintenance */
	int maintenance_clock_offset_s; /* tests: shifts the maintenance's "today" */
	/* core behaviour (the ones marked R are reloaded on SIGHUP) */
	char *log_level;            /* R */
	int stats_interval_s;       /* R; 0 = no stats line */
	int request_timeout_ms;     /* R */
	int offline_after_timeouts; /* R; consecutive timeouts that mark an agent offline */
	int max_pending;            /* R; outstanding requests, all agents */
	int max_pending_per_agent;  /* R */
	int notify_resp_backlog;    /* R; outbox length past which NotifyResps are not sent */
	int max_record_size;
	int max_agents;
	int onboard;                /* R; run onboarding (DeviceInfo + subscriptions) */
	int reject_log_interval_s;  /* R; rate limit for rejection log lines */
	int rejections_max_rows;    /* R; cap of table rejections; 0 = not written */
	int rejections_retention_s; /* R; age limit of its rows; 0 = none */
	int drain_timeout_ms;       /* R; SIGTERM: wait this long for in-flight requests */
	int store_drain_timeout_ms; /* R; SIGTERM: the store writer's budget to commit */
	int protocol_trace;         /* R; log every record in and out at debug level */
	/* operator surface */
	char *metrics_listen; /* "host:port" of /metrics and /healthz; "" = off */
};

/* Where the settings come from (all borrowed). argv excludes program name
 * handling: pass argc/argv from main; unknown flags are errors. */
struct core_config_sources {
	int argc;
	char **argv;
	char **envp; /* NULL-terminated "K=V" list, e.g. environ */
};

/* Flags that are not settings. */
struct core_config_cmd {
	int check_config; /* --check-config: validate, print, exit */
	int help;
	int version;
	char *config_path; /* --config or USPC_CONFIG (owned) */
};

void core_config_init(struct core_config *c); /* defaults */
void core_config_fini(struct core_config *c);
void core_config_cmd_fini(struct core_config_cmd *cmd);

/*
 * Build the whole configuration: defaults, then the file (from --config or
 * USPC_CONFIG, if any), then the environment, then the flags, then secrets
 * from files, then derived defaults (topics from the endpoint id) and
 * validation. c must be initialised. Returns 0, or a negative code with err
 * set: USPC_E_CONFIG for what the configuration says, USPC_E_SYS when a file
 * cannot be read, USPC_E_NOMEM.
 */
int core_config_load(struct core_config *c, struct core_config_cmd *cmd,
		     const struct core_config_sources *src, struct uspc_err *err);

/* Parse config text (the file format) into c; name is used in messages. */
int core_config_parse_text(struct core_config *c, const char *text, size_t len, const char *name,
			   struct uspc_err *err);
/* Set one key from its text value (file/env/flag share this). */
int core_config_set(struct core_config *c, const char *key, const char *value,
		    struct uspc_err *err);
/* Check ranges and combinations; fills derived defaults. */
int core_config_finish(struct core_config *c, struct uspc_err *err);

/* Print every key = value, secrets shown as "(set)" / "(unset)" and any
 * password inside URLs masked. */
void core_config_print(const struct core_config *c, FILE *out);

/* Print a "# warning: ..." line for every setting that weakens a
 * guarantee (agent_identity = optional); returns how many. */
int core_config_print_warnings(const struct core_config *c, FILE *out);

/* Copy the reloadable settings from src into dst; returns how many changed.
 * changed_fixed receives the number of non-reloadable settings that differ
 * (they need a restart). */
int core_config_apply_reloadable(struct core_config *dst, const struct core_config *src,
				 int *changed_fixed);

/*
 * Split a metrics_listen value: "host:port", "[ipv6]:port" (the brackets
 * are not copied to host). The port is 0..65535 (0: an ephemeral port).
 * 0, or -1 with why (a static text) when it does not parse or host does
 * not fit host_cap.
 */
int core_config_parse_listen(const char *s, char *host, size_t host_cap, int *port,
			     const char **why);

/* Usage text for --help. */
void core_config_usage(FILE *out, const char *prog);

#endif
