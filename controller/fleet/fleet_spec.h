/*
 * fleet_spec.h — a firmware campaign's definition: the fields an operator
 * gives campaign_create / campaign_plan (docs/campaigns.md), validated and
 * normalised into struct fleet_spec. Pure (no I/O): uspctl parses what the
 * operator wrote, the daemon parses what the database holds (the normalised
 * JSON from fleet_spec_to_json), and the fuzz target parses anything.
 *
 * Not here: "targets" (uspctl's selector parser owns it), and the image's
 * credentials are split off into their own JSON so they are stored apart
 * and never printed.
 */
#ifndef USPC_FLEET_SPEC_H
#define USPC_FLEET_SPEC_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "usp_err.h"

#define FLEET_NAME_MAX 128
#define FLEET_URL_MAX 1024
#define FLEET_MIRRORS_MAX 8
#define FLEET_WAVES_MAX 100
#define FLEET_WINDOWS_MAX 16
#define FLEET_EXCLUDE_MAX 256
#define FLEET_VERSION_MAX 128
#define FLEET_SECRET_MAX 256
#define FLEET_TZ_MAX 64
#define FLEET_WAVE_SUCCESS_DEFAULT 90 /* percent */

/* One wave: a cumulative share of the targets (percent 1..100) or a count
 * of devices (count >= 1), exactly one of the two. */
struct fleet_wave {
	double percent;         /* 0 = not given */
	int64_t count;          /* 0 = not given */
	double success_percent; /* of the wave's finished devices; default 90 */
	int64_t soak_s;         /* wait after the wave succeeded; default 0 */
};

/* A threshold: pause once failures/finished > percent after min_sample
 * finished devices, or after `consecutive` failures in a row (0 = off). */
struct fleet_threshold {
	double percent;
	int64_t min_sample;
	int64_t consecutive;
};

/* A recurring maintenance window: days (bit 0 = Monday .. bit 6 = Sunday),
 * local start time and duration, in the spec's time zone. */
struct fleet_window {
	unsigned days;
	int start_s;    /* seconds after local midnight */
	int duration_s; /* 60 .. 7 days */
};

struct fleet_spec {
	char name[FLEET_NAME_MAX + 1];
	/* image */
	char *urls[FLEET_MIRRORS_MAX];
	size_t n_urls;
	char version[FLEET_VERSION_MAX + 1];
	int64_t size;          /* bytes, 0 unknown */
	char checksum_alg[16]; /* "", "SHA-1" .. "SHA-512" */
	char checksum[129];    /* hex */
	/* credentials (never in fleet_spec_to_json) */
	char username[FLEET_SECRET_MAX + 1];
	char password[FLEET_SECRET_MAX + 1];
	/* targets */
	int continuous;
	char **exclude_models;
	size_t n_exclude_models;
	char **exclude_versions;
	size_t n_exclude_versions;
	/* waves and pacing */
	struct fleet_wave waves[FLEET_WAVES_MAX];
	size_t n_waves;
	int stratify;
	int64_t seed; /* -1: the creator picks one */
	int64_t max_inflight;
	int64_t max_starts_per_minute; /* 0 = no limit */
	/* failures */
	struct fleet_threshold image_threshold;
	struct fleet_threshold infra_threshold;
	int64_t max_attempts;
	int64_t retry_backoff_s;
	/* deadlines */
	int64_t download_timeout_s;
	int64_t activate_timeout_s;
	int64_t reboot_timeout_s;
	int64_t verify_timeout_s;
	int64_t offline_grace_s; /* how long offline devices hold a wave back */
	/* activation windows (none: any time) */
	struct fleet_window windows[FLEET_WINDOWS_MAX];
	size_t n_windows;
	char timezone[FLEET_TZ_MAX + 1];
	/* "" or a tag prefix ("tz:"): a device tagged "<prefix><IANA zone>"
	 * has the window read in that zone instead */
	char device_tz_tag[FLEET_TZ_MAX + 1];
	int64_t activation_cutoff_s;
};

void fleet_spec_init(struct fleet_spec *s); /* the defaults */
void fleet_spec_fini(struct fleet_spec *s);

/* Read a definition from obj. Keys the definition does not own but that
 * share the object (given in `ignore`, NULL-terminated: e.g. "id", "op",
 * "targets") are skipped; any other unknown key is an error. Returns 0, or
 * USPCTL_E_BAD_FIELD with err->msg naming the field. On error s holds
 * partial data: call fleet_spec_fini. */
int fleet_spec_parse(const cJSON *obj, const char *const *ignore, struct fleet_spec *s,
		     struct uspc_err *err);

/* The normalised definition as JSON (every field, defaults filled in, no
 * credentials); fleet_spec_parse reads it back to an equal spec. NULL on
 * out of memory. */
cJSON *fleet_spec_to_json(const struct fleet_spec *s);

/* {"username":..,"password":..} or NULL when the spec has no credentials. */
cJSON *fleet_spec_secret_json(const struct fleet_spec *s);
/* Put credentials read from the database back into s (0, or -1 bad JSON). */
int fleet_spec_set_secret(struct fleet_spec *s, const cJSON *secret);

/* Cumulative number of devices in waves 0..w for a campaign of n targets
 * (w >= n_waves - 1 gives n). Deterministic. */
int64_t fleet_spec_wave_end(const struct fleet_spec *s, size_t w, int64_t n);

/* The activation window at local day dow (0 = Monday) and sec seconds
 * after local midnight: 1 open with more than the cutoff left (*left_s
 * seconds remain), 0 closed (*opens_in_s: seconds until the next slot
 * starts). A spec without windows is always open (*left_s 0). A slot that
 * runs past midnight stays open into the next day. */
int fleet_spec_window(const struct fleet_spec *s, int dow, int sec, int64_t *left_s,
		      int64_t *opens_in_s);

#endif
