/* test_fleet_spec.c — a campaign definition (fleet_spec.h): the defaults,
 * parse(to_json(spec)) == spec, every way a definition is refused (each
 * a bad_field naming the field), the wave cut and the activation window. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fleet_spec.h"

static const char *const ignore[] = { "id", "op", "targets", NULL };

static int parse_text(const char *text, struct fleet_spec *s, struct uspc_err *err)
{
	cJSON *j = cJSON_Parse(text);
	if (!j)
		fail_msg("test JSON does not parse: %s", text);
	fleet_spec_init(s);
	int rc = fleet_spec_parse(j, ignore, s, err);
	cJSON_Delete(j);
	return rc;
}

static void parse_ok(const char *text, struct fleet_spec *s)
{
	struct uspc_err err = { 0 };
	int rc = parse_text(text, s, &err);
	if (rc != 0)
		fail_msg("%s: %s", text, err.msg);
}

#define FW "\"firmware\":{\"url\":\"http://fw.example.net/gw-2.0.0.bin\",\"version\":\"2.0.0\"}"
#define MIN "{\"name\":\"c\"," FW

/* ---- defaults --------------------------------------------------------------- */

static void test_defaults(void **state)
{
	struct fleet_spec s;
	parse_ok(MIN "}", &s);
	assert_string_equal(s.name, "c");
	assert_int_equal(s.n_urls, 1);
	assert_string_equal(s.urls[0], "http://fw.example.net/gw-2.0.0.bin");
	assert_string_equal(s.version, "2.0.0");
	assert_int_equal(s.size, 0);
	assert_string_equal(s.checksum_alg, "");
	assert_string_equal(s.username, "");
	assert_string_equal(s.password, "");
	assert_int_equal(s.continuous, 0);
	assert_int_equal(s.n_exclude_models, 0);
	assert_int_equal(s.n_exclude_versions, 0);
	assert_int_equal(s.n_waves, 1);
	assert_true(s.waves[0].percent == 100);
	assert_int_equal(s.waves[0].count, 0);
	assert_true(s.waves[0].success_percent == FLEET_WAVE_SUCCESS_DEFAULT);
	assert_int_equal(s.waves[0].soak_s, 0);
	assert_int_equal(s.stratify, 1);
	assert_int_equal(s.seed, -1);
	assert_int_equal(s.max_inflight, 100);
	assert_int_equal(s.max_starts_per_minute, 0);
	assert_true(s.image_threshold.percent == 10);
	assert_int_equal(s.image_threshold.min_sample, 20);
	assert_int_equal(s.image_threshold.consecutive, 10);
	assert_true(s.infra_threshold.percent == 50);
	assert_int_equal(s.infra_threshold.min_sample, 20);
	assert_int_equal(s.infra_threshold.consecutive, 0);
	assert_int_equal(s.max_attempts, 3);
	assert_int_equal(s.retry_backoff_s, 60);
	assert_int_equal(s.download_timeout_s, 3600);
	assert_int_equal(s.activate_timeout_s, 600);
	assert_int_equal(s.reboot_timeout_s, 1200);
	assert_int_equal(s.verify_timeout_s, 600);
	assert_int_equal(s.offline_grace_s, 86400);
	assert_int_equal(s.n_windows, 0);
	assert_string_equal(s.timezone, "UTC");
	assert_int_equal(s.activation_cutoff_s, 0);
	assert_null(fleet_spec_secret_json(&s));
	fleet_spec_fini(&s);

	/* the keys the caller names in `ignore` are skipped, no others */
	parse_ok(
		"{\"id\":\"x\",\"op\":\"campaign_create\",\"targets\":{\"all\":true},\"name\":\"c\"," FW
		"}",
		&s);
	fleet_spec_fini(&s);
	cJSON *j = cJSON_Parse("{\"id\":\"x\",\"name\":\"c\"," FW "}");
	struct uspc_err err = { 0 };
	fleet_spec_init(&s);
	assert_int_equal(fleet_spec_parse(j, NULL, &s, &err), USPCTL_E_BAD_FIELD);
	assert_non_null(strstr(err.msg, "'id'"));
	fleet_spec_fini(&s);
	cJSON_Delete(j);
}

/* ---- round trip ------------------------------------------------------------------ */

static void assert_spec_equal(const struct fleet_spec *a, const struct fleet_spec *b)
{
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->n_urls, b->n_urls);
	for (size_t i = 0; i < a->n_urls; i++)
		assert_string_equal(a->urls[i], b->urls[i]);
	assert_string_equal(a->version, b->version);
	assert_int_equal(a->size, b->size);
	assert_string_equal(a->checksum_alg, b->checksum_alg);
	assert_string_equal(a->checksum, b->checksum);
	assert_int_equal(a->continuous, b->continuous);
	assert_int_equal(a->n_exclude_models, b->n_exclude_models);
	for (size_t i = 0; i < a->n_exclude_models; i++)
		assert_string_equal(a->exclude_models[i], b->exclude_models[i]);
	assert_int_equal(a->n_exclude_versions, b->n_exclude_versions);
	for (size_t i = 0; i < a->n_exclude_versions; i++)
		assert_string_equal(a->exclude_versions[i], b->exclude_versions[i]);
	assert_int_equal(a->n_waves, b->n_waves);
	for (size_t i = 0; i < a->n_waves; i++) {
		assert_true(a->waves[i].percent == b->waves[i].percent);
		assert_int_equal(a->waves[i].count, b->waves[i].count);
		assert_true(a->waves[i].success_percent == b->waves[i].success_percent);
		assert_int_equal(a->waves[i].soak_s, b->waves[i].soak_s);
	}
	assert_int_equal(a->stratify, b->stratify);
	assert_int_equal(a->seed, b->seed);
	assert_int_equal(a->max_inflight, b->max_inflight);
	assert_int_equal(a->max_starts_per_minute, b->max_starts_per_minute);
	const struct fleet_threshold *ta[] = { &a->image_threshold, &a->infra_threshold };
	const struct fleet_threshold *tb[] = { &b->image_threshold, &b->infra_threshold };
	for (int i = 0; i < 2; i++) {
		assert_true(ta[i]->percent == tb[i]->percent);
		assert_int_equal(ta[i]->min_sample, tb[i]->min_sample);
		assert_int_equal(ta[i]->consecutive, tb[i]->consecutive);
	}
	assert_int_equal(a->max_attempts, b->max_attempts);
	assert_int_equal(a->retry_backoff_s, b->retry_backoff_s);
	assert_int_equal(a->download_timeout_s, b->download_timeout_s);
	assert_int_equal(a->activate_timeout_s, b->activate_timeout_s);
	assert_int_equal(a->reboot_timeout_s, b->reboot_timeout_s);
	assert_int_equal(a->verify_timeout_s, b->verify_timeout_s);
	assert_int_equal(a->offline_grace_s, b->offline_grace_s);
	assert_int_equal(a->n_windows, b->n_windows);
	for (size_t i = 0; i < a->n_windows; i++) {
		assert_int_equal(a->windows[i].days, b->windows[i].days);
		assert_int_equal(a->windows[i].start_s, b->windows[i].start_s);
		assert_int_equal(a->windows[i].duration_s, b->windows[i].duration_s);
	}
	if (a->n_windows)
		assert_string_equal(a->timezone, b->timezone);
	assert_int_equal(a->activation_cutoff_s, b->activation_cutoff_s);
}

/* parse(to_json(s)) == s, and to_json is stable; credentials stay out. */
static void round_trip(const char *text)
{
	struct fleet_spec a, b;
	struct uspc_err err = { 0 };
	parse_ok(text, &a);
	cJSON *j = fleet_spec_to_json(&a);
	assert_non_null(j);
	char *t1 = cJSON_PrintUnformatted(j);
	assert_null(strstr(t1, "password"));
	assert_null(strstr(t1, "username"));
	fleet_spec_init(&b);
	if (fleet_spec_parse(j, NULL, &b, &err) != 0)
		fail_msg("to_json does not parse back: %s: %s", err.msg, t1);
	assert_spec_equal(&a, &b);
	cJSON *j2 = fleet_spec_to_json(&b);
	char *t2 = cJSON_PrintUnformatted(j2);
	assert_string_equal(t1, t2);
	/* the credentials travel apart */
	cJSON *sec = fleet_spec_secret_json(&a);
	if (a.username[0]) {
		assert_non_null(sec);
		assert_int_equal(fleet_spec_set_secret(&b, sec), 0);
		assert_string_equal(a.username, b.username);
		assert_string_equal(a.password, b.password);
	} else {
		assert_null(sec);
	}
	cJSON_Delete(sec);
	cJSON_free(t1);
	cJSON_free(t2);
	cJSON_Delete(j);
	cJSON_Delete(j2);
	fleet_spec_fini(&a);
	fleet_spec_fini(&b);
}

static void test_round_trip(void **state)
{
	round_trip(MIN "}");
	round_trip(
		"{\"name\":\"gw-2.0 rollout\",\"firmware\":{\"urls\":[\"https://a.example/fw.bin\","
		"\"ftp://b.example/fw.bin\"],\"version\":\"2.0.0\",\"size\":1048576,"
		"\"checksum\":{\"algorithm\":\"SHA-256\",\"value\":"
		"\"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855\"},"
		"\"username\":\"fw\",\"password\":\"s3cret\"},"
		"\"waves\":[{\"count\":5,\"soak_s\":600},{\"percent\":12.5,\"success_percent\":95},"
		"{\"percent\":100,\"success_percent\":0}],"
		"\"stratify\":false,\"seed\":424242,\"continuous\":true,"
		"\"exclude\":{\"models\":[\"GW-OLD\",\"GW-X\"],\"versions\":[\"0.9\"]},"
		"\"max_inflight\":250,\"max_starts_per_minute\":600,"
		"\"failure_threshold\":{\"percent\":2.5,\"min_sample\":50,\"consecutive\":0},"
		"\"infra_threshold\":{\"percent\":20,\"min_sample\":10,\"consecutive\":7},"
		"\"retry\":{\"max_attempts\":10,\"backoff_s\":0},"
		"\"timeouts\":{\"download_s\":7200,\"activate_s\":60,\"reboot_s\":300,"
		"\"verify_s\":120,\"offline_grace_s\":0},"
		"\"window\":{\"timezone\":\"America/Argentina/Buenos_Aires\",\"cutoff_min\":45,"
		"\"slots\":[{\"days\":[\"sat\",\"mon\",\"sun\"],\"start\":\"23:30\","
		"\"duration_min\":150},{\"start\":\"03:05\",\"duration_min\":10080}]}}");
	/* the checksum is kept in lower case */
	struct fleet_spec s;
	parse_ok("{\"name\":\"c\",\"firmware\":{\"url\":\"http://h/x\",\"version\":\"1\","
		 "\"checksum\":{\"algorithm\":\"SHA-1\",\"value\":"
		 "\"DA39A3EE5E6B4B0D3255BFEF95601890AFD80709\"}}}",
		 &s);
	assert_string_equal(s.checksum, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	fleet_spec_fini(&s);
}

/* ---- refusals ------------------------------------------------------------------------ */

struct bad {
	const char *json;
	const char *says; /* a substring of the message: the field */
};

static const struct bad bads[] = {
	{ "[]", "JSON object" },
	{ MIN ",\"colour\":\"red\"}", "unknown field 'colour'" },
	{ MIN ",\"seed\":1,\"seed\":2}", "duplicate field 'seed'" },
	{ "{" FW "}", "'name' is required" },
	{ "{\"name\":\"\"," FW "}", "'name'" },
	{ "{\"name\":7," FW "}", "'name'" },
	{ "{\"name\":\"a\\u0001b\"," FW "}", "'name'" },
	{ "{\"name\":\"c\"}", "'firmware' is required" },
	{ "{\"name\":\"c\",\"firmware\":\"http://h/x\"}", "'firmware' must be an object" },
	{ "{\"name\":\"c\",\"firmware\":{\"url\":\"http://h/x\",\"version\":\"1\",\"md5\":\"x\"}}",
	  "unknown field 'firmware.md5'" },
	{ "{\"name\":\"c\",\"firmware\":{\"version\":\"1\"}}", "'firmware.url' is required" },
	{ "{\"name\":\"c\",\"firmware\":{\"url\":\"http://h/x\",\"urls\":[\"http://h/y\"],"
	  "\"version\":\"1\"}}",
	  "not both" },
	{ "{\"name\":\"c\",\"firmware\":{\"url\":\"gopher://h/x\",\"version\":\"1\"}}",
	  "'firmware.url'" },
	{ "{\"name\":\"c\",\"firmware\":{\"url\":\"http://fw:secret@h/x\",\"version\":\"1\"}}",
	  "without credentials" },
	{ "{\"name\":\"c\",\"firmware\":{\"url\":\"http://h/a b\",\"version\":\"1\"}}",
	  "'firmware.url'" },
	{ "{\"name\":\"c\",\"firmware\":{\"url\":\"http:///x\",\"version\":\"1\"}}",
	  "'firmware.url'" },
	{ "{\"name\":\"c\",\"firmware\":{\"url\":7,\"version\":\"1\"}}", "'firmware.url'" },
	{ "{\"name\":\"c\",\"firmware\":{\"urls\":[],\"version\":\"1\"}}", "'firmware.urls'" },
	{ "{\"name\":\"c\",\"firmware\":{\"urls\":[\"http://h/1\",\"http://h/2\",\"http://h/3\","
	  "\"http://h/4\",\"http://h/5\",\"http://h/6\",\"http://h/7\",\"http://h/8\","
	  "\"http://h/9\"],\"version\":\"1\"}}",
	  "'firmware.urls'" },
	{ "{\"name\":\"c\",\"firmware\":{\"urls\":[\"http://u:p@h/1\"],\"version\":\"1\"}}",
	  "'firmware.urls' entries" },
	{ "{\"name\":\"c\",\"firmware\":{\"url\":\"http://h/x\"}}",
	  "'firmware.version' is required" },
	{ "{\"name\":\"c\",\"firmware\":{\"url\":\"http://h/x\",\"version\":\"\"}}",
	  "'firmware.version'" },
	{ "{\"name\":\"c\",\"firmware\":{\"url\":\"http://h/x\",\"version\":\"1\",\"size\":-1}}",
	  "'firmware.size'" },
	{ "{\"name\":\"c\",\"firmware\":{\"url\":\"http://h/x\",\"version\":\"1\",\"size\":1.5}}",
	  "'firmware.size'" },
	{ "{\"name\":\"c\",\"firmware\":{\"url\":\"http://h/x\",\"version\":\"1\","
	  "\"username\":\"u\"}}",
	  "go together" },
	{ "{\"name\":\"c\",\"firmware\":{\"url\":\"http://h/x\",\"version\":\"1\","
	  "\"password\":\"p\"}}",
	  "go together" },
	{ "{\"name\":\"c\",\"firmware\":{\"url\":\"http://h/x\",\"version\":\"1\","
	  "\"password\":\"\",\"username\":\"u\"}}",
	  "'firmware.password'" },
	{ "{\"name\":\"c\",\"firmware\":{\"url\":\"http://h/x\",\"version\":\"1\","
	  "\"checksum\":\"abc\"}}",
	  "'firmware.checksum'" },
	{ "{\"name\":\"c\",\"firmware\":{\"url\":\"http://h/x\",\"version\":\"1\","
	  "\"checksum\":{\"algorithm\":\"SHA-1\",\"value\":\"00\",\"x\":1}}}",
	  "unknown field 'firmware.checksum.x'" },
	{ "{\"name\":\"c\",\"firmware\":{\"url\":\"http://h/x\",\"version\":\"1\","
	  "\"checksum\":{\"algorithm\":\"MD5\",\"value\":\"00\"}}}",
	  "'firmware.checksum.algorithm'" },
	{ "{\"name\":\"c\",\"firmware\":{\"url\":\"http://h/x\",\"version\":\"1\","
	  "\"checksum\":{\"value\":\"00\"}}}",
	  "'firmware.checksum.algorithm'" },
	{ "{\"name\":\"c\",\"firmware\":{\"url\":\"http://h/x\",\"version\":\"1\","
	  "\"checksum\":{\"algorithm\":\"SHA-256\",\"value\":\"abcd\"}}}",
	  "64 hex digits" },
	{ "{\"name\":\"c\",\"firmware\":{\"url\":\"http://h/x\",\"version\":\"1\","
	  "\"checksum\":{\"algorithm\":\"SHA-1\","
	  "\"value\":\"zz39a3ee5e6b4b0d3255bfef95601890afd80709\"}}}",
	  "hex digits" },
	{ MIN ",\"waves\":{}}", "'waves'" },
	{ MIN ",\"waves\":[]}", "'waves'" },
	{ MIN ",\"waves\":[5]}", "'waves[0]'" },
	{ MIN ",\"waves\":[{\"percent\":10,\"size\":3}]}", "unknown field 'waves[0].size'" },
	{ MIN ",\"waves\":[{\"percent\":10,\"count\":3}]}", "exactly one" },
	{ MIN ",\"waves\":[{\"soak_s\":3}]}", "exactly one" },
	{ MIN ",\"waves\":[{\"percent\":-10}]}", "'waves[0].percent'" },
	{ MIN ",\"waves\":[{\"percent\":0}]}", "'waves[0].percent'" },
	{ MIN ",\"waves\":[{\"percent\":101}]}", "'waves[0].percent'" },
	{ MIN ",\"waves\":[{\"percent\":\"10\"}]}", "'waves[0].percent'" },
	{ MIN ",\"waves\":[{\"percent\":50},{\"percent\":50}]}", "'waves[1].percent'" },
	{ MIN ",\"waves\":[{\"percent\":50},{\"count\":9},{\"percent\":20}]}",
	  "'waves[2].percent'" },
	{ MIN ",\"waves\":[{\"count\":0}]}", "'waves[0].count'" },
	{ MIN ",\"waves\":[{\"percent\":10,\"success_percent\":101}]}",
	  "'waves[0].success_percent'" },
	{ MIN ",\"waves\":[{\"percent\":10,\"soak_s\":-1}]}", "'waves[0].soak_s'" },
	{ MIN ",\"stratify\":1}", "'stratify'" },
	{ MIN ",\"seed\":-1}", "'seed'" },
	{ MIN ",\"seed\":2147483648}", "'seed'" },
	{ MIN ",\"seed\":1.5}", "'seed'" },
	{ MIN ",\"continuous\":\"yes\"}", "'continuous'" },
	{ MIN ",\"max_inflight\":0}", "'max_inflight'" },
	{ MIN ",\"max_starts_per_minute\":-1}", "'max_starts_per_minute'" },
	{ MIN ",\"failure_threshold\":10}", "'failure_threshold' must be an object" },
	{ MIN ",\"failure_threshold\":{\"percent\":-5}}", "'failure_threshold.percent'" },
	{ MIN ",\"failure_threshold\":{\"percent\":5,\"sample\":3}}",
	  "unknown field 'failure_threshold.sample'" },
	{ MIN ",\"failure_threshold\":{\"min_sample\":0}}", "'failure_threshold.min_sample'" },
	{ MIN ",\"infra_threshold\":{\"consecutive\":-1}}", "'infra_threshold.consecutive'" },
	{ MIN ",\"infra_threshold\":{\"percent\":100.5}}", "'infra_threshold.percent'" },
	{ MIN ",\"exclude\":[]}", "'exclude' must be an object" },
	{ MIN ",\"exclude\":{\"vendors\":[]}}", "unknown field 'exclude.vendors'" },
	{ MIN ",\"exclude\":{\"models\":\"GW\"}}", "'exclude.models'" },
	{ MIN ",\"exclude\":{\"versions\":[1]}}", "'exclude.versions'" },
	{ MIN ",\"exclude\":{\"versions\":[\"\"]}}", "'exclude.versions'" },
	{ MIN ",\"retry\":3}", "'retry' must be an object" },
	{ MIN ",\"retry\":{\"max_attempts\":0}}", "'retry.max_attempts'" },
	{ MIN ",\"retry\":{\"max_attempts\":11}}", "'retry.max_attempts'" },
	{ MIN ",\"retry\":{\"backoff_s\":-1}}", "'retry.backoff_s'" },
	{ MIN ",\"retry\":{\"tries\":2}}", "unknown field 'retry.tries'" },
	{ MIN ",\"timeouts\":[]}", "'timeouts' must be an object" },
	{ MIN ",\"timeouts\":{\"download_s\":0}}", "'timeouts.download_s'" },
	{ MIN ",\"timeouts\":{\"activate_s\":-3}}", "'timeouts.activate_s'" },
	{ MIN ",\"timeouts\":{\"reboot_s\":604801}}", "'timeouts.reboot_s'" },
	{ MIN ",\"timeouts\":{\"verify_s\":\"60\"}}", "'timeouts.verify_s'" },
	{ MIN ",\"timeouts\":{\"offline_grace_s\":-1}}", "'timeouts.offline_grace_s'" },
	{ MIN ",\"timeouts\":{\"boot_s\":1}}", "unknown field 'timeouts.boot_s'" },
	{ MIN ",\"window\":\"nights\"}", "'window' must be an object" },
	{ MIN ",\"window\":{\"slots\":[{\"start\":\"02:00\",\"duration_min\":60}],\"tz\":\"UTC\"}}",
	  "unknown field 'window.tz'" },
	{ MIN ",\"window\":{\"timezone\":\"Europe/Paris; DROP\",\"slots\":[{\"start\":\"02:00\","
	      "\"duration_min\":60}]}}",
	  "'window.timezone'" },
	{ MIN
	  ",\"window\":{\"timezone\":\"\",\"slots\":[{\"start\":\"02:00\",\"duration_min\":60}]}}",
	  "'window.timezone'" },
	{ MIN ",\"window\":{\"timezone\":\"UTC\"}}", "'window.slots'" },
	{ MIN ",\"window\":{\"slots\":[]}}", "'window.slots'" },
	{ MIN ",\"window\":{\"slots\":[{\"start\":\"02:00\",\"duration_min\":60}],"
	      "\"cutoff_min\":1441}}",
	  "'window.cutoff_min'" },
	{ MIN ",\"window\":{\"slots\":[{\"start\":\"02:00\",\"duration_min\":30}],"
	      "\"cutoff_min\":30}}",
	  "'window.slots[0].duration_min' must be longer than 'window.cutoff_min'" },
	{ "{\"name\":\"a\xff\",\"firmware\":{\"url\":\"http://x.example/1.bin\","
	  "\"version\":\"1\"}}",
	  "'name'" },
	{ MIN ",\"exclude\":{\"models\":[\"\xc3\"]}}", "'exclude.models'" },
	{ MIN ",\"window\":{\"slots\":[7]}}", "'window.slots[0].'" },
	{ MIN ",\"window\":{\"slots\":[{\"start\":\"02:00\",\"duration_min\":60,\"end\":\"3\"}]}}",
	  "unknown field 'window.slots[0].end'" },
	{ MIN ",\"window\":{\"slots\":[{\"start\":\"02:00\"}]}}",
	  "'window.slots[0].duration_min' is required" },
	{ MIN ",\"window\":{\"slots\":[{\"start\":\"02:00\",\"duration_min\":0}]}}",
	  "'window.slots[0].duration_min'" },
	{ MIN ",\"window\":{\"slots\":[{\"start\":\"02:00\",\"duration_min\":10081}]}}",
	  "'window.slots[0].duration_min'" },
	{ MIN ",\"window\":{\"slots\":[{\"start\":\"24:00\",\"duration_min\":60}]}}",
	  "'window.slots[0].start'" },
	{ MIN ",\"window\":{\"slots\":[{\"start\":\"2:00\",\"duration_min\":60}]}}",
	  "'window.slots[0].start'" },
	{ MIN ",\"window\":{\"slots\":[{\"start\":\"02:60\",\"duration_min\":60}]}}",
	  "'window.slots[0].start'" },
	{ MIN ",\"window\":{\"slots\":[{\"duration_min\":60}]}}", "'window.slots[0].start'" },
	{ MIN ",\"window\":{\"slots\":[{\"days\":[],\"start\":\"02:00\",\"duration_min\":60}]}}",
	  "'window.slots[0].days'" },
	{ MIN ",\"window\":{\"slots\":[{\"days\":\"mon\",\"start\":\"02:00\","
	      "\"duration_min\":60}]}}",
	  "'window.slots[0].days'" },
	{ MIN ",\"window\":{\"slots\":[{\"days\":[\"monday\"],\"start\":\"02:00\","
	      "\"duration_min\":60}]}}",
	  "'window.slots[0].days'" },
};

static void test_refusals(void **state)
{
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		struct fleet_spec s;
		struct uspc_err err = { 0 };
		int rc = parse_text(bads[i].json, &s, &err);
		if (rc != USPCTL_E_BAD_FIELD || !strstr(err.msg, bads[i].says))
			fail_msg("%s: got %d \"%s\", wanted bad_field saying \"%s\"", bads[i].json,
				 rc, err.msg, bads[i].says);
		assert_int_equal(err.code, USPCTL_E_BAD_FIELD);
		fleet_spec_fini(&s);
	}
	/* a refusal never quotes the credentials */
	struct fleet_spec s;
	struct uspc_err err = { 0 };
	assert_int_equal(
		parse_text("{\"name\":\"c\",\"firmware\":{\"url\":\"http://h/x\",\"version\":\"1\","
			   "\"password\":\"hunter2-top-secret\",\"user\":\"u\"}}",
			   &s, &err),
		USPCTL_E_BAD_FIELD);
	assert_null(strstr(err.msg, "hunter2"));
	fleet_spec_fini(&s);
	/* damaged credentials from the database */
	fleet_spec_init(&s);
	cJSON *bad = cJSON_Parse("{\"username\":\"u\"}");
	assert_int_equal(fleet_spec_set_secret(&s, bad), -1);
	assert_int_equal(fleet_spec_set_secret(&s, NULL), 0);
	cJSON_Delete(bad);
	fleet_spec_fini(&s);
}

/* ---- waves ------------------------------------------------------------------------------- */

static void ends(const char *waves, int64_t n, const int64_t *want, size_t k)
{
	char text[512];
	struct fleet_spec s;
	snprintf(text, sizeof(text), MIN ",\"waves\":%s}", waves);
	parse_ok(text, &s);
	assert_int_equal(s.n_waves, k);
	for (size_t w = 0; w < k; w++) {
		int64_t got = fleet_spec_wave_end(&s, w, n);
		if (got != want[w])
			fail_msg("%s, n=%lld: wave %zu ends at %lld, wanted %lld", waves,
				 (long long)n, w, (long long)got, (long long)want[w]);
	}
	/* any wave past the last ends with everything */
	assert_int_equal(fleet_spec_wave_end(&s, k, n), n);
	assert_int_equal(fleet_spec_wave_end(&s, k + 5, n), n);
	fleet_spec_fini(&s);
}

static void test_wave_end(void **state)
{
	const char *pct = "[{\"percent\":10},{\"percent\":50},{\"percent\":100}]";
	ends(pct, 1000, (const int64_t[]){ 100, 500, 1000 }, 3);
	ends(pct, 0, (const int64_t[]){ 0, 0, 0 }, 3);
	ends(pct, 1, (const int64_t[]){ 1, 1, 1 }, 3); /* a share rounds up */
	ends(pct, 15, (const int64_t[]){ 2, 8, 15 }, 3);
	/* counts add up; a count past the end is cut at n */
	const char *cnt = "[{\"count\":5},{\"count\":10},{\"percent\":100}]";
	ends(cnt, 100, (const int64_t[]){ 5, 15, 100 }, 3);
	ends(cnt, 12, (const int64_t[]){ 5, 12, 12 }, 3);
	ends(cnt, 0, (const int64_t[]){ 0, 0, 0 }, 3);
	ends(cnt, 1, (const int64_t[]){ 1, 1, 1 }, 3);
	/* shares are rounded up exactly: 8.8 % of 375 is 33 (ceil of the
	 * double product made it 34) */
	ends("[{\"percent\":8.8},{\"percent\":100}]", 375, (const int64_t[]){ 33, 375 }, 2);
	ends("[{\"percent\":0.1},{\"percent\":100}]", 1000, (const int64_t[]){ 1, 1000 }, 2);
	/* the last wave takes the rest, whatever it says */
	ends("[{\"percent\":10},{\"percent\":50}]", 100, (const int64_t[]){ 10, 100 }, 2);
	ends("[{\"count\":3},{\"count\":3}]", 100, (const int64_t[]){ 3, 100 }, 2);
	ends("[{\"count\":3}]", 100, (const int64_t[]){ 100 }, 1);
	/* a share behind the counts before it adds nothing */
	ends("[{\"count\":50},{\"percent\":10},{\"percent\":100}]", 100,
	     (const int64_t[]){ 50, 50, 100 }, 3);
	/* no waves given: one wave of everything */
	struct fleet_spec s;
	parse_ok(MIN "}", &s);
	assert_int_equal(fleet_spec_wave_end(&s, 0, 0), 0);
	assert_int_equal(fleet_spec_wave_end(&s, 0, 1), 1);
	assert_int_equal(fleet_spec_wave_end(&s, 0, 777), 777);
	fleet_spec_fini(&s);
}

/* ---- windows --------------------------------------------------------------------------------- */

enum { MON, TUE, WED, THU, FRI, SAT, SUN };
#define H(h, m) ((h)*3600 + (m)*60)

static void window_at(const struct fleet_spec *s, int dow, int sec, int open, int64_t left,
		      int64_t opens_in)
{
	int64_t l = -1, o = -1;
	int got = fleet_spec_window(s, dow, sec, &l, &o);
	if (got != open || (open && l != left) || (!open && o != opens_in))
		fail_msg("day %d %02d:%02d:%02d: open %d left %lld opens in %lld; wanted open %d "
			 "left %lld opens in %lld",
			 dow, sec / 3600, sec / 60 % 60, sec % 60, got, (long long)l, (long long)o,
			 open, (long long)left, (long long)opens_in);
}

static void test_window(void **state)
{
	struct fleet_spec s;
	/* no window: always open */
	parse_ok(MIN "}", &s);
	window_at(&s, SAT, H(13, 0), 1, 0, 0);
	fleet_spec_fini(&s);

	/* Monday 23:00 for two hours: runs past midnight into Tuesday */
	parse_ok(MIN ",\"window\":{\"timezone\":\"Europe/Paris\",\"slots\":[{\"days\":[\"mon\"],"
		     "\"start\":\"23:00\",\"duration_min\":120}]}}",
		 &s);
	window_at(&s, MON, H(23, 0), 1, 7200, 0);
	window_at(&s, MON, H(23, 30), 1, 5400, 0);
	window_at(&s, TUE, H(0, 30), 1, 1800, 0);
	window_at(&s, TUE, H(1, 0), 0, 0, 6 * 86400 + H(22, 0));
	window_at(&s, MON, H(22, 0), 0, 0, 3600);
	window_at(&s, SUN, H(23, 30), 0, 0, H(23, 30));
	window_at(&s, WED, H(23, 30), 0, 0, 4 * 86400 + H(23, 30));
	fleet_spec_fini(&s);

	/* the cutoff: no activation starts with 30 minutes or less left */
	parse_ok(MIN ",\"window\":{\"timezone\":\"UTC\",\"cutoff_min\":30,\"slots\":[{\"days\":"
		     "[\"mon\"],\"start\":\"23:00\",\"duration_min\":120}]}}",
		 &s);
	window_at(&s, TUE, H(0, 29), 1, 1860, 0);
	window_at(&s, TUE, H(0, 30), 0, 0, 6 * 86400 + H(22, 30));
	window_at(&s, TUE, H(0, 40), 0, 0, 6 * 86400 + H(22, 20));
	fleet_spec_fini(&s);

	/* no days: every day; two slots: the one with more time left counts */
	parse_ok(MIN ",\"window\":{\"slots\":[{\"start\":\"02:00\",\"duration_min\":60},"
		     "{\"days\":[\"sat\",\"sun\"],\"start\":\"01:00\",\"duration_min\":300}]}}",
		 &s);
	assert_int_equal(s.windows[0].days, 0x7f);
	assert_int_equal(s.windows[1].days, (1u << SAT) | (1u << SUN));
	window_at(&s, WED, H(2, 30), 1, 1800, 0);
	window_at(&s, SAT, H(2, 30), 1, H(3, 30), 0);
	window_at(&s, WED, H(3, 0), 0, 0, H(23, 0));
	window_at(&s, FRI, H(23, 0), 0, 0, H(2, 0)); /* Saturday 01:00 */
	window_at(&s, THU, H(1, 59), 0, 0, 60);
	fleet_spec_fini(&s);

	/* a slot of a whole week never closes */
	parse_ok(MIN ",\"window\":{\"slots\":[{\"days\":[\"thu\"],\"start\":\"00:00\","
		     "\"duration_min\":10080}]}}",
		 &s);
	window_at(&s, WED, H(23, 59), 1, 60, 0);
	window_at(&s, THU, 0, 1, 7 * 86400, 0);
	fleet_spec_fini(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults), cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refusals), cmocka_unit_test(test_wave_end),
		cmocka_unit_test(test_window),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
