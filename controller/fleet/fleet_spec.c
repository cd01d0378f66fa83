/*
 * fleet_spec.c — parse, validate and normalise a campaign definition
 * (fleet_spec.h). Owns nothing between calls. Every number has a range,
 * every string a length limit, every object a fixed set of keys, so
 * whatever an operator or a damaged row holds gets a message naming the
 * field, never a campaign that misbehaves later.
 */
#include "fleet_spec.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usp_utf8.h"

#define BAD(err, ...) uspc_err_set((err), USPCTL_E_BAD_FIELD, __VA_ARGS__)

void fleet_spec_init(struct fleet_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->stratify = 1;
	s->seed = -1;
	s->max_inflight = 100;
	s->image_threshold =
		(struct fleet_threshold){ .percent = 10, .min_sample = 20, .consecutive = 10 };
	s->infra_threshold =
		(struct fleet_threshold){ .percent = 50, .min_sample = 20, .consecutive = 0 };
	s->max_attempts = 3;
	s->retry_backoff_s = 60;
	s->download_timeout_s = 3600;
	s->activate_timeout_s = 600;
	s->reboot_timeout_s = 1200;
	s->verify_timeout_s = 600;
	s->offline_grace_s = 86400;
	snprintf(s->timezone, sizeof(s->timezone), "UTC");
	s->activation_cutoff_s = 0;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void fleet_spec_fini(struct fleet_spec *s)
{
	for (size_t i = 0; i < s->n_urls; i++)
		free(s->urls[i]);
	s->n_urls = 0;
	free_strv(s->exclude_models, s->n_exclude_models);
	free_strv(s->exclude_versions, s->n_exclude_versions);
	s->exclude_models = s->exclude_versions = NULL;
	s->n_exclude_models = s->n_exclude_versions = 0;
	memset(s->password, 0, sizeof(s->password));
}

/* ---- small readers -------------------------------------------------------- */

static int only_keys(const cJSON *obj, const char *where, const char *const *keys,
		     const char *const *ignore, struct uspc_err *err)
{
	for (const cJSON *f = obj->child; f; f = f->next) {
		int known = 0;
		for (size_t k = 0; keys[k] && !known; k++)
			known = strcmp(f->string, keys[k]) == 0;
		for (size_t k = 0; ignore && ignore[k] && !known; k++)
			known = strcmp(f->string, ignore[k]) == 0;
		if (!known)
			return BAD(err, "unknown field '%s%.64s'", where, f->string);
		for (const cJSON *g = f->next; g; g = g->next)
			if (strcmp(f->string, g->string) == 0)
				return BAD(err, "duplicate field '%s%.64s'", where, f->string);
	}
	return 0;
}

static int get_int(const cJSON *obj, const char *key, const char *where, int64_t lo, int64_t hi,
		   int64_t *out, struct uspc_err *err)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!j)
		return 0;
	double v = j->valuedouble;
	if (!cJSON_IsNumber(j) || !isfinite(v) || v != floor(v) || v < (double)lo || v > (double)hi)
		return BAD(err, "'%s%s' must be an integer from %lld to %lld", where, key,
			   (long long)lo, (long long)hi);
	*out = (int64_t)v;
	return 0;
}

static int get_num(const cJSON *obj, const char *key, const char *where, double lo, double hi,
		   double *out, struct uspc_err *err)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!j)
		return 0;
	if (!cJSON_IsNumber(j) || !isfinite(j->valuedouble) || j->valuedouble < lo ||
	    j->valuedouble > hi)
		return BAD(err, "'%s%s' must be a number from %g to %g", where, key, lo, hi);
	*out = j->valuedouble;
	return 0;
}

static int get_bool(const cJSON *obj, const char *key, int *out, struct uspc_err *err)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!j)
		return 0;
	if (!cJSON_IsBool(j))
		return BAD(err, "'%s' must be true or false", key);
	*out = cJSON_IsTrue(j);
	return 0;
}

/* Printable text without control characters, 1..max bytes. */
/* Printable UTF-8 without control characters, 1..max bytes. */
static int text_ok(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max || !usp_utf8_valid(s, n))
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static int get_str(const cJSON *obj, const char *key, const char *where, char *out, size_t size,
		   struct uspc_err *err)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!j)
		return 0;
	if (!cJSON_IsString(j) || !text_ok(j->valuestring, size - 1))
		return BAD(err, "'%s%s' must be a non-empty string of at most %zu characters",
			   where, key, size - 1);
	snprintf(out, size, "%s", j->valuestring);
	return 0;
}

static const cJSON *get_obj(const cJSON *obj, const char *key, struct uspc_err *err, int *rc)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
	*rc = 0;
	if (j && !cJSON_IsObject(j)) {
		*rc = BAD(err, "'%s' must be an object", key);
		return NULL;
	}
	return j;
}

static int url_ok(const char *u)
{
	if (!text_ok(u, FLEET_URL_MAX))
		return 0;
	const char *rest;
	if (strncmp(u, "http://", 7) == 0)
		rest = u + 7;
	else if (strncmp(u, "https://", 8) == 0)
		rest = u + 8;
	else if (strncmp(u, "ftp://", 6) == 0)
		rest = u + 6;
	else
		return 0;
	if (!*rest || *rest == '/')
		return 0;
	const char *slash = strchr(rest, '/');
	size_t host = slash ? (size_t)(slash - rest) : strlen(rest);
	/* TR-181: credentials go in Username/Password, never in the URL */
	if (memchr(rest, '@', host))
		return 0;
	for (const char *p = u; *p; p++)
		if (*p == ' ')
			return 0;
	return 1;
}

static int str_list(const cJSON *j, const char *what, char ***out, size_t *n, struct uspc_err *err)
{
	if (!cJSON_IsArray(j) || cJSON_GetArraySize(j) > FLEET_EXCLUDE_MAX)
		return BAD(err, "'%s' must be an array of at most %d strings", what,
			   FLEET_EXCLUDE_MAX);
	size_t k = (size_t)cJSON_GetArraySize(j);
	*out = calloc(k ? k : 1, sizeof(**out));
	if (!*out)
		return uspc_err_set(err, USPCTL_E_INTERNAL, "out of memory");
	for (const cJSON *e = j->child; e; e = e->next) {
		if (!cJSON_IsString(e) || !text_ok(e->valuestring, 256))
			return BAD(err, "'%s' entries must be non-empty strings", what);
		if (!((*out)[(*n)] = strdup(e->valuestring)))
			return uspc_err_set(err, USPCTL_E_INTERNAL, "out of memory");
		(*n)++;
	}
	return 0;
}

/* ---- sections --------------------------------------------------------------- */

static int parse_firmware(const cJSON *fw, struct fleet_spec *s, struct uspc_err *err)
{
	static const char *const keys[] = { "url",      "urls",     "version",  "size",
					    "checksum", "username", "password", NULL };
	int rc;
	if (!fw)
		return BAD(err, "'firmware' is required: {\"url\":...,\"version\":...}");
	if (!cJSON_IsObject(fw))
		return BAD(err, "'firmware' must be an object");
	if ((rc = only_keys(fw, "firmware.", keys, NULL, err)) < 0)
		return rc;
	const cJSON *url = cJSON_GetObjectItemCaseSensitive(fw, "url");
	const cJSON *urls = cJSON_GetObjectItemCaseSensitive(fw, "urls");
	if (url && urls)
		return BAD(err, "give 'firmware.url' or 'firmware.urls', not both");
	if (url) {
		if (!cJSON_IsString(url) || !url_ok(url->valuestring))
			return BAD(err, "'firmware.url' must be an http://, https:// or ftp:// URL "
					"without credentials or spaces");
		if (!(s->urls[s->n_urls++] = strdup(url->valuestring)))
			return uspc_err_set(err, USPCTL_E_INTERNAL, "out of memory");
	} else if (urls) {
		if (!cJSON_IsArray(urls) || cJSON_GetArraySize(urls) < 1 ||
		    cJSON_GetArraySize(urls) > FLEET_MIRRORS_MAX)
			return BAD(err, "'firmware.urls' must be an array of 1 to %d URLs",
				   FLEET_MIRRORS_MAX);
		for (const cJSON *u = urls->child; u; u = u->next) {
			if (!cJSON_IsString(u) || !url_ok(u->valuestring))
				return BAD(err, "'firmware.urls' entries must be http://, https:// "
						"or ftp:// URLs without credentials or spaces");
			if (!(s->urls[s->n_urls++] = strdup(u->valuestring)))
				return uspc_err_set(err, USPCTL_E_INTERNAL, "out of memory");
		}
	} else {
		return BAD(err, "'firmware.url' is required");
	}
	if (!cJSON_GetObjectItemCaseSensitive(fw, "version"))
		return BAD(err, "'firmware.version' is required: the SoftwareVersion the devices "
				"report once they run the image");
	if ((rc = get_str(fw, "version", "firmware.", s->version, sizeof(s->version), err)) < 0 ||
	    (rc = get_int(fw, "size", "firmware.", 0, INT64_C(1) << 40, &s->size, err)) < 0 ||
	    (rc = get_str(fw, "username", "firmware.", s->username, sizeof(s->username), err)) <
		    0 ||
	    (rc = get_str(fw, "password", "firmware.", s->password, sizeof(s->password), err)) < 0)
		return rc;
	const cJSON *ck = cJSON_GetObjectItemCaseSensitive(fw, "checksum");
	if (ck) {
		static const char *const ckeys[] = { "algorithm", "value", NULL };
		static const struct {
			const char *name;
			size_t hex;
		} algs[] = { { "SHA-1", 40 },
			     { "SHA-224", 56 },
			     { "SHA-256", 64 },
			     { "SHA-384", 96 },
			     { "SHA-512", 128 } };
		if (!cJSON_IsObject(ck))
			return BAD(err, "'firmware.checksum' must be {\"algorithm\":\"SHA-256\","
					"\"value\":\"<hex>\"}");
		if ((rc = only_keys(ck, "firmware.checksum.", ckeys, NULL, err)) < 0)
			return rc;
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(ck, "algorithm");
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(ck, "value");
		size_t i, n = sizeof(algs) / sizeof(algs[0]);
		for (i = 0; a && cJSON_IsString(a) && i < n; i++)
			if (strcmp(a->valuestring, algs[i].name) == 0)
				break;
		if (!a || !cJSON_IsString(a) || i == n)
			return BAD(err, "'firmware.checksum.algorithm' must be SHA-1, SHA-224, "
					"SHA-256, SHA-384 or SHA-512");
		if (!v || !cJSON_IsString(v) || strlen(v->valuestring) != algs[i].hex)
			return BAD(err, "'firmware.checksum.value' must be %zu hex digits for %s",
				   algs[i].hex, algs[i].name);
		for (const char *p = v->valuestring; *p; p++)
			if (!isxdigit((unsigned char)*p))
				return BAD(err, "'firmware.checksum.value' must be hex digits");
		snprintf(s->checksum_alg, sizeof(s->checksum_alg), "%s", algs[i].name);
		for (size_t k = 0; k < algs[i].hex; k++)
			s->checksum[k] = (char)tolower((unsigned char)v->valuestring[k]);
		s->checksum[algs[i].hex] = '\0';
	}
	if (!s->username[0] != !s->password[0])
		return BAD(err, "'firmware.username' and 'firmware.password' go together");
	return 0;
}

static int parse_waves(const cJSON *w, struct fleet_spec *s, struct uspc_err *err)
{
	static const char *const keys[] = { "percent", "count", "success_percent", "soak_s", NULL };
	if (!w) {
		s->waves[0] = (struct fleet_wave){ .percent = 100,
						   .success_percent = FLEET_WAVE_SUCCESS_DEFAULT };
		s->n_waves = 1;
		return 0;
	}
	if (!cJSON_IsArray(w) || cJSON_GetArraySize(w) < 1 ||
	    cJSON_GetArraySize(w) > FLEET_WAVES_MAX)
		return BAD(err, "'waves' must be an array of 1 to %d waves", FLEET_WAVES_MAX);
	double last_pct = 0;
	for (const cJSON *e = w->child; e; e = e->next) {
		char where[32];
		int rc;
		struct fleet_wave *wv = &s->waves[s->n_waves];
		snprintf(where, sizeof(where), "waves[%zu].", s->n_waves);
		if (!cJSON_IsObject(e))
			return BAD(err, "'waves[%zu]' must be {\"percent\":P} or {\"count\":N}",
				   s->n_waves);
		if ((rc = only_keys(e, where, keys, NULL, err)) < 0)
			return rc;
		*wv = (struct fleet_wave){ .success_percent = FLEET_WAVE_SUCCESS_DEFAULT };
		int has_p = cJSON_GetObjectItemCaseSensitive(e, "percent") != NULL;
		int has_c = cJSON_GetObjectItemCaseSensitive(e, "count") != NULL;
		if (has_p == has_c)
			return BAD(err, "'waves[%zu]' needs exactly one of 'percent' and 'count'",
				   s->n_waves);
		if ((rc = get_num(e, "percent", where, 0.001, 100, &wv->percent, err)) < 0 ||
		    (rc = get_int(e, "count", where, 1, 100000000, &wv->count, err)) < 0 ||
		    (rc = get_num(e, "success_percent", where, 0, 100, &wv->success_percent, err)) <
			    0 ||
		    (rc = get_int(e, "soak_s", where, 0, 30 * 86400, &wv->soak_s, err)) < 0)
			return rc;
		if (has_p) {
			if (wv->percent <= last_pct)
				return BAD(
					err,
					"'waves[%zu].percent' must be larger than the wave "
					"before's: percents are cumulative shares of the targets",
					s->n_waves);
			last_pct = wv->percent;
		}
		s->n_waves++;
	}
	return 0;
}

static int parse_threshold(const cJSON *obj, const char *key, struct fleet_threshold *t,
			   struct uspc_err *err)
{
	static const char *const keys[] = { "percent", "min_sample", "consecutive", NULL };
	int rc;
	const cJSON *j = get_obj(obj, key, err, &rc);
	if (rc < 0 || !j)
		return rc;
	char where[40];
	snprintf(where, sizeof(where), "%s.", key);
	if ((rc = only_keys(j, where, keys, NULL, err)) < 0 ||
	    (rc = get_num(j, "percent", where, 0, 100, &t->percent, err)) < 0 ||
	    (rc = get_int(j, "min_sample", where, 1, 100000000, &t->min_sample, err)) < 0 ||
	    (rc = get_int(j, "consecutive", where, 0, 100000000, &t->consecutive, err)) < 0)
		return rc;
	return 0;
}

static int parse_hhmm(const char *s, int *out)
{
	int h, m;
	char tail;
	if (strlen(s) != 5 || sscanf(s, "%2d:%2d%c", &h, &m, &tail) != 2 || s[2] != ':' ||
	    !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[3]) || h > 23 || m > 59)
		return -1;
	*out = h * 3600 + m * 60;
	return 0;
}

static const char *const day_names[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };

static int parse_window(const cJSON *obj, struct fleet_spec *s, struct uspc_err *err)
{
	static const char *const keys[] = { "timezone", "slots", "cutoff_min",
					    "device_timezone_tag", NULL };
	static const char *const skeys[] = { "days", "start", "duration_min", NULL };
	int rc;
	const cJSON *w = get_obj(obj, "window", err, &rc);
	if (rc < 0 || !w)
		return rc;
	if ((rc = only_keys(w, "window.", keys, NULL, err)) < 0 ||
	    (rc = get_str(w, "timezone", "window.", s->timezone, sizeof(s->timezone), err)) < 0 ||
	    (rc = get_str(w, "device_timezone_tag", "window.", s->device_tz_tag,
			  sizeof(s->device_tz_tag), err)) < 0)
		return rc;
	for (const char *p = s->timezone; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("/_+-", *p))
			return BAD(err, "'window.timezone' must be an IANA zone name such as "
					"Europe/Paris");
	int64_t cutoff_min = 0;
	if ((rc = get_int(w, "cutoff_min", "window.", 0, 24 * 60, &cutoff_min, err)) < 0)
		return rc;
	s->activation_cutoff_s = cutoff_min * 60;
	const cJSON *slots = cJSON_GetObjectItemCaseSensitive(w, "slots");
	if (!slots || !cJSON_IsArray(slots) || cJSON_GetArraySize(slots) < 1 ||
	    cJSON_GetArraySize(slots) > FLEET_WINDOWS_MAX)
		return BAD(err,
			   "'window.slots' must be an array of 1 to %d "
			   "{\"days\":[\"mon\",...],\"start\":\"HH:MM\",\"duration_min\":N}",
			   FLEET_WINDOWS_MAX);
	for (const cJSON *e = slots->child; e; e = e->next) {
		struct fleet_window *fw = &s->windows[s->n_windows];
		char where[40];
		snprintf(where, sizeof(where), "window.slots[%zu].", s->n_windows);
		if (!cJSON_IsObject(e))
			return BAD(err, "'%.30s' must be an object", where);
		if ((rc = only_keys(e, where, skeys, NULL, err)) < 0)
			return rc;
		const cJSON *days = cJSON_GetObjectItemCaseSensitive(e, "days");
		const cJSON *start = cJSON_GetObjectItemCaseSensitive(e, "start");
		int64_t dur = -1;
		if ((rc = get_int(e, "duration_min", where, 1, 7 * 24 * 60, &dur, err)) < 0)
			return rc;
		if (dur < 0)
			return BAD(err, "'%sduration_min' is required", where);
		fw->duration_s = (int)dur * 60;
		if (!start || !cJSON_IsString(start) ||
		    parse_hhmm(start->valuestring, &fw->start_s))
			return BAD(err, "'%sstart' must be a local time \"HH:MM\"", where);
		fw->days = 0;
		if (!days) {
			fw->days = 0x7f;
		} else {
			if (!cJSON_IsArray(days) || cJSON_GetArraySize(days) < 1)
				return BAD(err, "'%sdays' must be a non-empty array of mon..sun",
					   where);
			for (const cJSON *d = days->child; d; d = d->next) {
				size_t k;
				for (k = 0; k < 7 && cJSON_IsString(d); k++)
					if (strcmp(d->valuestring, day_names[k]) == 0)
						break;
				if (!cJSON_IsString(d) || k == 7)
					return BAD(err,
						   "'%sdays' entries must be mon, tue, wed, thu, "
						   "fri, sat or sun",
						   where);
				fw->days |= 1u << k;
			}
		}
		if (fw->duration_s <= s->activation_cutoff_s)
			return BAD(err,
				   "'%sduration_min' must be longer than 'window.cutoff_min': no "
				   "activation could ever start in this slot",
				   where);
		s->n_windows++;
	}
	return 0;
}

int fleet_spec_parse(const cJSON *obj, const char *const *ignore, struct fleet_spec *s,
		     struct uspc_err *err)
{
	static const char *const keys[] = { "name",
					    "firmware",
					    "waves",
					    "stratify",
					    "seed",
					    "continuous",
					    "exclude",
					    "max_inflight",
					    "max_starts_per_minute",
					    "failure_threshold",
					    "infra_threshold",
					    "retry",
					    "timeouts",
					    "window",
					    NULL };
	int rc;
	if (!cJSON_IsObject(obj))
		return BAD(err, "a campaign definition must be a JSON object");
	if ((rc = only_keys(obj, "", keys, ignore, err)) < 0)
		return rc;
	if (!cJSON_GetObjectItemCaseSensitive(obj, "name"))
		return BAD(err, "'name' is required");
	if ((rc = get_str(obj, "name", "", s->name, sizeof(s->name), err)) < 0 ||
	    (rc = parse_firmware(cJSON_GetObjectItemCaseSensitive(obj, "firmware"), s, err)) < 0 ||
	    (rc = parse_waves(cJSON_GetObjectItemCaseSensitive(obj, "waves"), s, err)) < 0 ||
	    (rc = get_bool(obj, "stratify", &s->stratify, err)) < 0 ||
	    (rc = get_int(obj, "seed", "", 0, INT32_MAX, &s->seed, err)) < 0 ||
	    (rc = get_bool(obj, "continuous", &s->continuous, err)) < 0 ||
	    (rc = get_int(obj, "max_inflight", "", 1, 100000, &s->max_inflight, err)) < 0 ||
	    (rc = get_int(obj, "max_starts_per_minute", "", 0, 1000000, &s->max_starts_per_minute,
			  err)) < 0 ||
	    (rc = parse_threshold(obj, "failure_threshold", &s->image_threshold, err)) < 0 ||
	    (rc = parse_threshold(obj, "infra_threshold", &s->infra_threshold, err)) < 0 ||
	    (rc = parse_window(obj, s, err)) < 0)
		return rc;
	const cJSON *j = get_obj(obj, "exclude", err, &rc);
	if (rc < 0)
		return rc;
	if (j) {
		static const char *const ekeys[] = { "models", "versions", NULL };
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "models");
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "versions");
		if ((rc = only_keys(j, "exclude.", ekeys, NULL, err)) < 0 ||
		    (m && (rc = str_list(m, "exclude.models", &s->exclude_models,
					 &s->n_exclude_models, err)) < 0) ||
		    (v && (rc = str_list(v, "exclude.versions", &s->exclude_versions,
					 &s->n_exclude_versions, err)) < 0))
			return rc;
	}
	if ((j = get_obj(obj, "retry", err, &rc)) != NULL) {
		static const char *const rkeys[] = { "max_attempts", "backoff_s", NULL };
		if ((rc = only_keys(j, "retry.", rkeys, NULL, err)) < 0 ||
		    (rc = get_int(j, "max_attempts", "retry.", 1, 10, &s->max_attempts, err)) < 0 ||
		    (rc = get_int(j, "backoff_s", "retry.", 0, 86400, &s->retry_backoff_s, err)) <
			    0)
			return rc;
	}
	if (rc < 0)
		return rc;
	if ((j = get_obj(obj, "timeouts", err, &rc)) != NULL) {
		static const char *const tkeys[] = { "download_s", "activate_s",      "reboot_s",
						     "verify_s",   "offline_grace_s", NULL };
		if ((rc = only_keys(j, "timeouts.", tkeys, NULL, err)) < 0 ||
		    (rc = get_int(j, "download_s", "timeouts.", 1, 7 * 86400,
				  &s->download_timeout_s, err)) < 0 ||
		    (rc = get_int(j, "activate_s", "timeouts.", 1, 7 * 86400,
				  &s->activate_timeout_s, err)) < 0 ||
		    (rc = get_int(j, "reboot_s", "timeouts.", 1, 7 * 86400, &s->reboot_timeout_s,
				  err)) < 0 ||
		    (rc = get_int(j, "verify_s", "timeouts.", 1, 7 * 86400, &s->verify_timeout_s,
				  err)) < 0 ||
		    (rc = get_int(j, "offline_grace_s", "timeouts.", 0, 365 * 86400,
				  &s->offline_grace_s, err)) < 0)
			return rc;
	}
	return rc;
}

/* ---- output ---------------------------------------------------------------- */

static cJSON *threshold_json(const struct fleet_threshold *t)
{
	cJSON *o = cJSON_CreateObject();
	if (o) {
		cJSON_AddNumberToObject(o, "percent", t->percent);
		cJSON_AddNumberToObject(o, "min_sample", (double)t->min_sample);
		cJSON_AddNumberToObject(o, "consecutive", (double)t->consecutive);
	}
	return o;
}

static cJSON *strv_json(char *const *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; a && i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
	return a;
}

cJSON *fleet_spec_to_json(const struct fleet_spec *s)
{
	cJSON *o = cJSON_CreateObject(), *fw, *a, *x;
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "name", s->name);
	cJSON_AddItemToObject(o, "firmware", fw = cJSON_CreateObject());
	if (fw) {
		cJSON_AddItemToObject(fw, "urls", a = cJSON_CreateArray());
		for (size_t i = 0; a && i < s->n_urls; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(s->urls[i]));
		cJSON_AddStringToObject(fw, "version", s->version);
		if (s->size)
			cJSON_AddNumberToObject(fw, "size", (double)s->size);
		if (s->checksum_alg[0]) {
			cJSON_AddItemToObject(fw, "checksum", x = cJSON_CreateObject());
			cJSON_AddStringToObject(x, "algorithm", s->checksum_alg);
			cJSON_AddStringToObject(x, "value", s->checksum);
		}
	}
	cJSON_AddItemToObject(o, "waves", a = cJSON_CreateArray());
	for (size_t i = 0; a && i < s->n_waves; i++) {
		const struct fleet_wave *w = &s->waves[i];
		cJSON *e = cJSON_CreateObject();
		if (!e)
			break;
		if (w->count)
			cJSON_AddNumberToObject(e, "count", (double)w->count);
		else
			cJSON_AddNumberToObject(e, "percent", w->percent);
		cJSON_AddNumberToObject(e, "success_percent", w->success_percent);
		cJSON_AddNumberToObject(e, "soak_s", (double)w->soak_s);
		cJSON_AddItemToArray(a, e);
	}
	cJSON_AddBoolToObject(o, "stratify", s->stratify);
	if (s->seed >= 0)
		cJSON_AddNumberToObject(o, "seed", (double)s->seed);
	cJSON_AddBoolToObject(o, "continuous", s->continuous);
	cJSON_AddItemToObject(o, "exclude", x = cJSON_CreateObject());
	if (x) {
		cJSON_AddItemToObject(x, "models",
				      strv_json(s->exclude_models, s->n_exclude_models));
		cJSON_AddItemToObject(x, "versions",
				      strv_json(s->exclude_versions, s->n_exclude_versions));
	}
	cJSON_AddNumberToObject(o, "max_inflight", (double)s->max_inflight);
	cJSON_AddNumberToObject(o, "max_starts_per_minute", (double)s->max_starts_per_minute);
	cJSON_AddItemToObject(o, "failure_threshold", threshold_json(&s->image_threshold));
	cJSON_AddItemToObject(o, "infra_threshold", threshold_json(&s->infra_threshold));
	cJSON_AddItemToObject(o, "retry", x = cJSON_CreateObject());
	if (x) {
		cJSON_AddNumberToObject(x, "max_attempts", (double)s->max_attempts);
		cJSON_AddNumberToObject(x, "backoff_s", (double)s->retry_backoff_s);
	}
	cJSON_AddItemToObject(o, "timeouts", x = cJSON_CreateObject());
	if (x) {
		cJSON_AddNumberToObject(x, "download_s", (double)s->download_timeout_s);
		cJSON_AddNumberToObject(x, "activate_s", (double)s->activate_timeout_s);
		cJSON_AddNumberToObject(x, "reboot_s", (double)s->reboot_timeout_s);
		cJSON_AddNumberToObject(x, "verify_s", (double)s->verify_timeout_s);
		cJSON_AddNumberToObject(x, "offline_grace_s", (double)s->offline_grace_s);
	}
	if (s->n_windows) {
		cJSON_AddItemToObject(o, "window", x = cJSON_CreateObject());
		if (x) {
			cJSON_AddStringToObject(x, "timezone", s->timezone);
			if (s->device_tz_tag[0])
				cJSON_AddStringToObject(x, "device_timezone_tag", s->device_tz_tag);
			cJSON_AddNumberToObject(x, "cutoff_min",
						(double)(s->activation_cutoff_s / 60));
			cJSON_AddItemToObject(x, "slots", a = cJSON_CreateArray());
			for (size_t i = 0; a && i < s->n_windows; i++) {
				const struct fleet_window *w = &s->windows[i];
				cJSON *e = cJSON_CreateObject(), *d;
				char hhmm[16];
				if (!e)
					break;
				cJSON_AddItemToObject(e, "days", d = cJSON_CreateArray());
				for (int k = 0; d && k < 7; k++)
					if (w->days & (1u << k))
						cJSON_AddItemToArray(
							d, cJSON_CreateString(day_names[k]));
				snprintf(hhmm, sizeof(hhmm), "%02d:%02d", w->start_s / 3600,
					 w->start_s / 60 % 60);
				cJSON_AddStringToObject(e, "start", hhmm);
				cJSON_AddNumberToObject(e, "duration_min", w->duration_s / 60);
				cJSON_AddItemToArray(a, e);
			}
		}
	}
	/* A failed allocation anywhere above leaves a hole: report it. */
	char *probe = cJSON_PrintUnformatted(o);
	if (!probe || !cJSON_GetObjectItemCaseSensitive(o, "timeouts")) {
		free(probe);
		cJSON_Delete(o);
		return NULL;
	}
	free(probe);
	return o;
}

cJSON *fleet_spec_secret_json(const struct fleet_spec *s)
{
	if (!s->username[0])
		return NULL;
	cJSON *o = cJSON_CreateObject();
	if (o && (!cJSON_AddStringToObject(o, "username", s->username) ||
		  !cJSON_AddStringToObject(o, "password", s->password))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int fleet_spec_set_secret(struct fleet_spec *s, const cJSON *secret)
{
	if (!secret || cJSON_IsNull(secret))
		return 0;
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(secret, "username");
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(secret, "password");
	if (!cJSON_IsString(u) || !cJSON_IsString(p) || strlen(u->valuestring) > FLEET_SECRET_MAX ||
	    strlen(p->valuestring) > FLEET_SECRET_MAX)
		return -1;
	snprintf(s->username, sizeof(s->username), "%s", u->valuestring);
	snprintf(s->password, sizeof(s->password), "%s", p->valuestring);
	return 0;
}

int64_t fleet_spec_wave_end(const struct fleet_spec *s, size_t w, int64_t n)
{
	int64_t end = 0;
	if (s->n_waves == 0 || w + 1 >= s->n_waves)
		return n;
	for (size_t i = 0; i <= w; i++) {
		const struct fleet_wave *wv = &s->waves[i];
		/* percent in thousandths, rounded up in integers: n * 8.8 % of
		 * 375 is 33, which ceil() of the double product gets wrong */
		int64_t milli = llround(wv->percent * 1000.0);
		int64_t e = wv->count ? end + wv->count : (n * milli + 99999) / 100000;
		end = e > end ? e : end;
	}
	return end < n ? end : n;
}

int fleet_spec_window(const struct fleet_spec *s, int dow, int sec, int64_t *left_s,
		      int64_t *opens_in_s)
{
	int64_t best_left = -1, next = -1;
	*left_s = *opens_in_s = 0;
	if (s->n_windows == 0)
		return 1;
	for (size_t i = 0; i < s->n_windows; i++) {
		const struct fleet_window *w = &s->windows[i];
		/* a slot that started today or up to 7 days ago may still run */
		for (int k = 0; k <= 7; k++) {
			int day = ((dow - k) % 7 + 7) % 7;
			if (!(w->days & (1u << day)))
				continue;
			int64_t since = (int64_t)k * 86400 + sec - w->start_s;
			if (since >= 0 && since < w->duration_s &&
			    w->duration_s - since > best_left)
				best_left = w->duration_s - since;
		}
		/* the next start, today included */
		for (int k = 0; k <= 7; k++) {
			int day = (dow + k) % 7;
			int64_t until = (int64_t)k * 86400 + w->start_s - sec;
			if ((w->days & (1u << day)) && until > 0 && (next < 0 || until < next))
				next = until;
		}
	}
	*opens_in_s = next > 0 ? next : 0;
	if (best_left > s->activation_cutoff_s) {
		*left_s = best_left;
		return 1;
	}
	return 0;
}
