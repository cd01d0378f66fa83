/* fuzz_profile.c — libFuzzer target for what the profile engine reads.
 * Byte 0 picks the part, the rest is JSON:
 *  - byte 0 even: a profile definition (as an operator or a damaged row
 *    gives it): prof_spec_parse, and for an accepted one
 *     - the round trip to_json -> parse -> to_json gives the same text,
 *       also when the JSON is printed and read back in between,
 *     - every path of prof_spec_paths parses with usp_path_parse (a
 *       notification attribute's once its PROF_ATTR_SUFFIX is cut), the
 *       parameter paths are distinct, at most PROF_PATHS_MAX of them,
 *     - at most PROF_VARS_MAX distinct variables,
 *     - every value expands (prof_tpl_expand, a fixed agent context) to
 *       at most PROF_VALUE_MAX bytes, and one without templates to itself;
 *  - byte 0 odd: an agent's answer to the run state machine
 *    (profile_run.c), for fixed profiles covering every step kind (bits
 *    1-5 of byte 0 pick dry_run, factory_reset, force_write_only,
 *    reset_contested, cwmp): the answer given at every step of a run whose
 *    other requests a well-behaved agent answers, as the work object
 *    (which must be refused, or lead to an end), and as a profile's prior
 *    state. No call may fail, a run ends within (2 + profiles) *
 *    PRUN_MAX_ROUNDS + 2 steps (a round: one get_attributes per profile,
 *    the Get, one action), with one verdict per profile unless it was
 *    interrupted.
 * Each part is one function so that more parts slot in beside them. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "profile_run.h"
#include "profile_spec.h"
#include "usp_path.h"

/* ---- the definition ----------------------------------------------------- */

static char *print_spec(const struct prof_spec *s)
{
	cJSON *j = prof_spec_to_json(s);
	char *t = j ? cJSON_PrintUnformatted(j) : NULL;
	cJSON_Delete(j);
	return t;
}

/* to_json -> parse -> to_json gives the same text. */
static void check_round_trip(const struct prof_spec *s)
{
	struct prof_spec again;
	struct uspc_err err;
	cJSON *j = prof_spec_to_json(s);
	if (!j)
		return; /* out of memory */
	char *a = cJSON_PrintUnformatted(j);
	prof_spec_init(&again);
	if (prof_spec_parse(j, NULL, &again, &err) != 0)
		abort(); /* the normalised form must read back */
	char *b = print_spec(&again);
	if (a && b && strcmp(a, b) != 0)
		abort();
	/* and through its text, as the database keeps it */
	cJSON *t = a ? cJSON_Parse(a) : NULL;
	prof_spec_fini(&again);
	if (t && prof_spec_parse(t, NULL, &again, &err) != 0)
		abort();
	char *c = t ? print_spec(&again) : NULL;
	if (a && c && strcmp(a, c) != 0)
		abort();
	cJSON_Delete(t);
	free(a);
	free(b);
	free(c);
	cJSON_Delete(j);
	prof_spec_fini(&again);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void check_paths(const struct prof_spec *s)
{
	char **v;
	size_t n;
	if (prof_spec_paths(s, &v, &n) != 0)
		return;
	if (n > PROF_PATHS_MAX)
		abort();
	for (size_t i = 0; i < n; i++) {
		struct usp_path p;
		size_t len = strlen(v[i]), sl = strlen(PROF_ATTR_SUFFIX);
		char *path = strdup(v[i]);
		if (!path)
			abort();
		if (len > sl && strcmp(path + len - sl, PROF_ATTR_SUFFIX) == 0)
			path[len - sl] = '\0';
		if (usp_path_parse(path, &p, NULL) != 0)
			abort(); /* profile_run reads these paths as they are */
		usp_path_fini(&p);
		free(path);
	}
	qsort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 1; i < n; i++)
		if (v[i][strlen(v[i]) - 1] != '.' && strcmp(v[i], v[i - 1]) == 0)
			abort(); /* a parameter path written twice */
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	if (prof_spec_vars(s, &v, &n) != 0)
		return;
	if (n > PROF_VARS_MAX)
		abort();
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void expand_one(const struct prof_value *v, const struct prof_tpl_ctx *c)
{
	char out[PROF_VALUE_MAX + 1], why[256];
	if (prof_tpl_expand(v->text, c, out, sizeof(out), why, sizeof(why)) == 0) {
		if (strlen(out) > PROF_VALUE_MAX)
			abort();
		if (!v->has_template && strcmp(out, v->text) != 0)
			abort(); /* text without templates is its own value */
	} else if (!why[0] || out[0]) {
		abort(); /* a failure says why and leaves no half result */
	}
	/* a small buffer must fail cleanly, never overflow */
	char small[8];
	(void)prof_tpl_expand(v->text, c, small, sizeof(small), why, 16);
}

static const char *const ctx_tags[] = { "beta", "region:eu-west", "site:" };
static const char ctx_vars[] = "{\"ssid\":\"Home\",\"psk\":\"secret$$\",\"n\":3}";

/* A fixed agent: every inventory field but product_class, three tags,
 * vars (parsed from ctx_vars; the caller deletes it). */
static struct prof_tpl_ctx agent(cJSON *vars)
{
	return (struct prof_tpl_ctx){ .eid = "os::00D09E-0001",
				      .serial = "SN0001",
				      .oui = "00D09E",
				      .model = "HGW",
				      .manufacturer = "ACME",
				      .product_class = "",
				      .software_version = "1.0.0",
				      .tags = ctx_tags,
				      .n_tags = 3,
				      .vars = vars };
}

static void check_values(const struct prof_spec *s)
{
	cJSON *vars = cJSON_Parse(ctx_vars);
	const struct prof_tpl_ctx c = agent(vars);
	for (size_t i = 0; i < s->n_steps; i++) {
		const struct prof_step *st = &s->steps[i];
		for (size_t k = 0; k < st->n_keys; k++)
			expand_one(&st->keys[k].v, &c);
		for (size_t k = 0; k < st->n_params; k++)
			expand_one(&st->params[k].v, &c);
		for (size_t k = 0; k < st->n_args; k++)
			expand_one(&st->args[k].v, &c);
	}
	cJSON_Delete(vars);
}

static void fuzz_definition(const cJSON *j)
{
	struct prof_spec s;
	struct uspc_err err;
	prof_spec_init(&s);
	if (prof_spec_parse(j, NULL, &s, &err) == 0) {
		check_round_trip(&s);
		check_paths(&s);
		check_values(&s);
	} else if (err.code >= 0 || !err.msg[0]) {
		abort(); /* a refusal has a code and a message */
	}
	prof_spec_fini(&s);
}

/* ---- templates of any text ------------------------------------------------ */

static void fuzz_template(const char *text)
{
	char out[256], why[128];
	cJSON *vars = cJSON_Parse(ctx_vars);
	const struct prof_tpl_ctx c = agent(vars);
	if (strlen(text) <= PROF_VALUE_MAX &&
	    prof_tpl_expand(text, &c, out, sizeof(out), why, sizeof(why)) == 0 &&
	    strlen(out) >= sizeof(out))
		abort();
	(void)prof_tpl_expand(text, NULL, out, 1, NULL, 0);
	cJSON_Delete(vars);
}

/* ---- the run ------------------------------------------------------------------ */

static const char *const run_defs[] = {
	("{\"name\":\"base\",\"selector\":{\"all\":true},\"priority\":1,\"steps\":["
	 "{\"set\":{\"Device.Time.NTPServer1\":\"pool.ntp.org\",\"Device.Time.Enable\":true,"
	 "\"Device.Time.X_Offset\":2.5,\"Device.WiFi.AccessPoint.1.Security.KeyPassphrase\":"
	 "{\"value\":\"${var:psk}\",\"write_only\":true}}},"
	 "{\"ensure_absent\":{\"table\":\"Device.NAT.PortMapping.\",\"match\":"
	 "{\"Description\":\"bad\"}}},"
	 "{\"ensure_count\":{\"table\":\"Device.X.Y.\",\"min\":1,\"max\":2}},"
	 "{\"notification\":{\"Device.Time.NTPServer1\":\"active\",\"Device.X.Gone\":1}}]}"),
	("{\"name\":\"wifi\",\"selector\":{\"all\":true},\"priority\":2,\"steps\":["
	 "{\"ensure_instance\":{\"table\":\"Device.WiFi.SSID.\",\"keys\":{\"Name\":\"wl0\"},"
	 "\"params\":{\"SSID\":\"${var:ssid}-${eid}\",\"Enable\":true}}},"
	 "{\"subscribe\":{\"id\":\"uspc-vc\",\"notif_type\":\"ValueChange\","
	 "\"reference_list\":\"Device.WiFi.SSID.*.SSID\"}},"
	 "{\"set\":{\"Device.Time.NTPServer1\":\"site.example\"}},"
	 "{\"operate\":{\"command\":\"Device.Reboot()\",\"args\":{\"Cause\":\"${eid}\"},"
	 "\"once_per\":\"boot\"}}]}"),
	("{\"name\":\"check\",\"selector\":{\"all\":true},\"priority\":3,\"mode\":\"audit\","
	 "\"steps\":[{\"set\":{\"Device.Time.Enable\":false}},"
	 "{\"notification\":{\"Device.Time.NTPServer1\":\"passive\"}}]}"),
};
#define RUN_N (sizeof(run_defs) / sizeof(run_defs[0]))
#define RUN_STEPS_MAX ((2 + (int)RUN_N) * PRUN_MAX_ROUNDS + 2)

/* A well-behaved agent: every action succeeds; a Get finds things to do. */
static cJSON *canned(const struct prun_step *st)
{
	static const char get_text[] =
		"{\"type\":\"get_resp\",\"req_path_results\":["
		"{\"requested_path\":\"Device.Time.NTPServer1\",\"resolved_path_results\":"
		"[{\"resolved_path\":\"Device.Time.\",\"result_params\":{\"NTPServer1\":\"old\","
		"\"Enable\":\"0\",\"X_Offset\":\"2.50\"}}]},"
		"{\"requested_path\":\"Device.NAT.PortMapping.[Description==\\\"bad\\\"].\","
		"\"resolved_path_results\":[{\"resolved_path\":\"Device.NAT.PortMapping.3.\","
		"\"result_params\":{\"Description\":\"bad\"}}]},"
		"{\"requested_path\":\"Device.X.Y.\"},"
		"{\"requested_path\":\"Device.WiFi.SSID.[Name==\\\"wl0\\\"].\","
		"\"resolved_path_results\":[{\"resolved_path\":\"Device.WiFi.SSID.1.\","
		"\"result_params\":{\"Name\":\"wl0\",\"SSID\":\"x\",\"Enable\":\"true\"}}]},"
		"{\"requested_path\":\"Device.LocalAgent.Subscription.[ID==\\\"uspc-vc\\\"].\"},"
		"{\"requested_path\":\"Device.WiFi.AccessPoint.1.Security.KeyPassphrase\","
		"\"resolved_path_results\":[{\"resolved_path\":"
		"\"Device.WiFi.AccessPoint.1.Security.\",\"result_params\":{\"KeyPassphrase\":\"\"}}]}"
		"]}";
	static const char attrs_text[] =
		"{\"type\":\"get_attributes_resp\",\"req_path_results\":["
		"{\"requested_path\":\"Device.Time.NTPServer1\",\"attributes\":[{\"path\":"
		"\"Device.Time.NTPServer1\",\"notification\":0,\"access_list\":[]}]}]}";
	const char *op = st->op;
	if (!strcmp(op, "get"))
		return cJSON_Parse(get_text);
	if (!strcmp(op, "get_attributes"))
		return cJSON_Parse(attrs_text);
	if (!strcmp(op, "set_attributes")) {
		cJSON *r = cJSON_CreateObject();
		cJSON_AddStringToObject(r, "type", "set_attributes_resp");
		cJSON_AddItemToObject(
			r, "attributes",
			cJSON_Duplicate(cJSON_GetObjectItem(st->request, "attributes"), 1));
		return r;
	}
	cJSON *r = cJSON_CreateObject();
	cJSON *list = cJSON_CreateArray();
	const cJSON *e;
	if (!strcmp(op, "operate")) {
		cJSON_AddStringToObject(r, "type", "operate_resp");
		cJSON *one = cJSON_CreateObject();
		cJSON_AddObjectToObject(one, "req_output_args");
		cJSON_AddItemToArray(list, one);
		cJSON_AddItemToObject(r, "operation_results", list);
		return r;
	}
	const char *type = !strcmp(op, "set")   ? "set_resp"
			   : !strcmp(op, "add") ? "add_resp"
						: "delete_resp";
	const char *key = !strcmp(op, "set")   ? "update_objs"
			  : !strcmp(op, "add") ? "create_objs"
					       : "obj_paths";
	cJSON_AddStringToObject(r, "type", type);
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(st->request, key))
	{
		const char *path =
			cJSON_IsString(e)
				? e->valuestring
				: cJSON_GetStringValue(cJSON_GetObjectItem(e, "obj_path"));
		cJSON *one = cJSON_CreateObject(), *os = cJSON_CreateObject();
		cJSON_AddStringToObject(one, "requested_path", path ? path : "");
		cJSON *ok = cJSON_AddObjectToObject(os, "oper_success");
		if (!strcmp(op, "add") && path) {
			char inst[512];
			snprintf(inst, sizeof(inst), "%s9.", path);
			cJSON_AddStringToObject(ok, "instantiated_path", inst);
		}
		cJSON_AddItemToObject(one, "oper_status", os);
		cJSON_AddItemToArray(list, one);
	}
	cJSON_AddItemToObject(r,
			      !strcmp(op, "set")   ? "updated_obj_results"
			      : !strcmp(op, "add") ? "created_obj_results"
						   : "deleted_obj_results",
			      list);
	return r;
}

static void check_end(const struct prun_step *st, size_t n)
{
	if (!st->done || st->op || st->work)
		abort();
	if (st->interrupted) {
		if (st->n_verdicts)
			abort();
		return;
	}
	if (st->n_verdicts != n || !st->owners)
		abort();
	for (size_t i = 0; i < n; i++) {
		const struct prun_verdict *v = &st->verdicts[i];
		if ((unsigned)v->outcome > PRUN_CONTESTED || !v->state || !v->history ||
		    strlen(v->detail) >= PRUN_DETAIL_MAX)
			abort();
	}
}

/* Drive a run from st to its end: the answer at step `at` is j (at < 0:
 * none), the others the well-behaved agent's. */
static void drive(const struct prun_profile *p, size_t n, const struct prun_ctx *ctx,
		  struct prun_step *st, int at, const cJSON *j)
{
	struct uspc_err err;
	for (int k = 0; !st->done; k++) {
		if (k > RUN_STEPS_MAX)
			abort(); /* a run must end */
		/* the work goes through the database as text */
		char *text = cJSON_PrintUnformatted(st->work);
		cJSON *work = text ? cJSON_Parse(text) : NULL;
		free(text);
		cJSON *mine = k == at ? NULL : canned(st);
		struct prun_answer a = { .answered = 1, .result = k == at ? j : mine };
		struct prun_step nx;
		int rc = work ? prun_next(p, n, ctx, work, &a, &nx, &err) : USPC_E_NOMEM;
		cJSON_Delete(work);
		cJSON_Delete(mine);
		prun_step_fini(st);
		if (rc == USPC_E_NOMEM)
			return;
		if (rc != 0)
			abort(); /* our own work, whatever the agent said */
		*st = nx;
	}
	check_end(st, n);
}

static void fuzz_run(const cJSON *j, unsigned flags)
{
	static struct prof_spec specs[RUN_N];
	static int ready;
	struct uspc_err err;
	if (!ready) {
		for (size_t i = 0; i < RUN_N; i++) {
			cJSON *d = cJSON_Parse(run_defs[i]);
			prof_spec_init(&specs[i]);
			if (!d || prof_spec_parse(d, NULL, &specs[i], &err) != 0)
				abort();
			cJSON_Delete(d);
		}
		ready = 1;
	}
	cJSON *vars = cJSON_Parse(ctx_vars);
	struct prun_profile p[RUN_N];
	struct prun_ctx ctx = { .tpl = agent(vars),
				.boot_key = "boot-1",
				.now_s = 1700000000,
				.contest_count = 3,
				.contest_window_s = 3600,
				.stamp_path = "Device.LocalAgent.X_USPC_Stamp",
				.dry_run = flags & 1,
				.factory_reset = (flags >> 1) & 1,
				.force_write_only = (flags >> 2) & 1,
				.reset_contested = (flags >> 3) & 1,
				.cwmp = (flags >> 4) & 1 };
	for (size_t i = 0; i < RUN_N; i++)
		p[i] = (struct prun_profile){ .spec = &specs[i], .version = (int64_t)i + 1 };
	struct prun_step st;
	/* the answer at every step */
	for (int at = 0; at <= RUN_STEPS_MAX; at++) {
		if (prun_begin(p, RUN_N, &ctx, &st, &err) != 0)
			break;
		drive(p, RUN_N, &ctx, &st, at, j);
		prun_step_fini(&st);
	}
	/* as the work object: refused, or a run that ends */
	struct prun_answer a = { .answered = 1, .result = j };
	int rc = prun_next(p, RUN_N, &ctx, j, &a, &st, &err);
	if (rc == 0) {
		if (!st.done)
			drive(p, RUN_N, &ctx, &st, -1, NULL);
		else
			check_end(&st, RUN_N);
	} else if (rc != USPCTL_E_BAD_FIELD && rc != USPC_E_NOMEM) {
		abort();
	}
	prun_step_fini(&st);
	/* as every profile's prior state */
	for (size_t i = 0; i < RUN_N; i++)
		p[i].state = j;
	if (prun_begin(p, RUN_N, &ctx, &st, &err) == 0)
		drive(p, RUN_N, &ctx, &st, -1, NULL);
	prun_step_fini(&st);
	cJSON_Delete(vars);
}

/* ---- entry ---------------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65536)
		return 0;
	char *text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	cJSON *j = cJSON_Parse(text);
	if (j) {
		if (data[0] % 2 == 0)
			fuzz_definition(j);
		else
			fuzz_run(j, data[0] >> 1);
		cJSON_Delete(j);
	}
	fuzz_template(text);
	free(text);
	return 0;
}
