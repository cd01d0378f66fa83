/*
 * cwmp_sim.h — usp-agent-sim --protocol cwmp: N simulated TR-069 CPEs.
 * The run's configuration (read-only after start-up, shared by the worker
 * processes through fork) and the counters a worker shares with the
 * supervisor. Any thread may read the configuration; each worker writes
 * only its own struct cwmp_sim_stats.
 */
#ifndef USPC_CWMP_SIM_H
#define USPC_CWMP_SIM_H

#include <stddef.h>
#include <stdint.h>

struct cwmp_sim_config {
	uint32_t n_cpes;
	uint32_t first_index;
	uint64_t seed;
	const char *model_file;
	const char *state_dir; /* NULL: every start is a first start (BOOTSTRAP) */

	/* the ACS (Device.ManagementServer.URL, Username, Password) */
	const char *acs_url;
	const char *acs_user_pattern;     /* NULL: no HTTP authentication */
	const char *acs_password_pattern; /* "" when not given */
	/* --acs-password-key-file: the password is derived from the user name
	 * as uspc-acs derives it (acs_auth.h); NULL: the pattern */
	unsigned char *acs_key;
	size_t acs_key_len;
	const char *cafile; /* https:// ACS: CA bundle (NULL: system's) */
	int tls_insecure;
	int ns; /* enum cwmp_ns of the CPE's own messages */

	/* identity: DeviceId and the uspc endpoint id */
	const char *oui;           /* NULL: the model's ManufacturerOUI */
	const char *product_class; /* NULL: the model's ProductClass */
	const char *serial_pattern;

	/* connection requests (ACS -> CPE) */
	const char *cr_host; /* bound and advertised in ConnectionRequestURL */
	int cr_port;         /* 0: ephemeral per worker; else worker w listens on cr_port + w */
	const char *cr_user_pattern;
	const char *cr_password_pattern;
	unsigned char *cr_key; /* --cr-password-key-file, as acs_key */
	size_t cr_key_len;

	/* behaviour */
	uint32_t inform_interval;  /* PeriodicInformInterval default, seconds */
	double reboot_delay_s;     /* time down on Reboot / FactoryReset / firmware */
	double value_change_s;     /* mean interval of a value change per CPE; 0 = off */
	double retry_base_s;       /* CWMPRetryMinimumWaitInterval default (scaled for tests) */
	uint32_t retry_multiplier; /* CWMPRetryIntervalMultiplier default (per mille) */
	double http_timeout_s;
	double connect_rate;   /* new sessions per second, whole process */
	uint32_t max_sessions; /* concurrent sessions, whole process */
	uint32_t workers;

	/* firmware (Download), same names and choice of CPEs as the USP mode */
	double fw_download_s;
	double fw_fail_fraction;
	const char *fw_fail_url;
	uint32_t fw_fail_code; /* FaultCode of an injected download failure */
	double fw_boot_fail_fraction;
	double fw_no_return_fraction;
	double fw_wrong_version_fraction;
	double fw_lose_boot_fraction;
	int fetch; /* really GET the URL (libcurl), check FileSize */

	/* quirks for testing an ACS (all off by default) */
	int quirk_no_cookies;
	int quirk_chunked;            /* SOAP request bodies with Transfer-Encoding: chunked */
	int quirk_empty_post_chunked; /* the empty POST as a zero-length chunked body */

	int status_interval;
	int trace; /* log every envelope in and out */
};

/* Counters a worker shares with the supervisor (shared memory). */
struct cwmp_sim_stats {
	uint64_t cpes, in_session, down;
	uint64_t sessions_ok, sessions_failed, http_503;
	uint64_t informs, rpcs, faults_sent;
	uint64_t crs, cr_denied;
	uint64_t downloads_ok, downloads_failed;
	uint64_t boots, value_changes;
	uint64_t alive;
};

#endif
