/*
 * test_profile_run.c — one agent's run of its provisioning profiles
 * (profile_run.h), driven with hand-written answers: the read, the
 * comparison by type, the merge by priority, every kind of step, the
 * attribution of errors, contested paths, write-only values, once-only
 * commands, templates, dry runs, the stamp, the round limit, work
 * objects this code did not write, and TR-069 notification attributes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "profile_run.h"

#define NOW 1700000000

struct fx {
	struct prof_spec spec[4];
	struct prun_profile p[4];
	cJSON *state[4];
	size_t n;
	struct prun_ctx ctx;
	struct prun_step st;
	int gets, sets, adds, dels, ops;
};

static struct fx F;

static int setup(void **state)
{
	(void)state;
	memset(&F, 0, sizeof(F));
	F.ctx.now_s = NOW;
	F.ctx.contest_count = 3;
	F.ctx.contest_window_s = 3600;
	F.ctx.boot_key = "";
	F.ctx.tpl.eid = "os::00D09E-HGW-1";
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	prun_step_fini(&F.st);
	for (size_t i = 0; i < F.n; i++) {
		prof_spec_fini(&F.spec[i]);
		cJSON_Delete(F.state[i]);
	}
	return 0;
}

/* Add a profile (ascending priority) from its definition. */
static void prof(const char *json, int64_t version)
{
	cJSON *j = cJSON_Parse(json);
	struct uspc_err err;
	assert_non_null(j);
	prof_spec_init(&F.spec[F.n]);
	int rc = prof_spec_parse(j, NULL, &F.spec[F.n], &err);
	if (rc != 0)
		fail_msg("%s: %s", json, err.msg);
	cJSON_Delete(j);
	F.p[F.n].spec = &F.spec[F.n];
	F.p[F.n].version = version;
	F.n++;
}

static void count_op(void)
{
	const char *op = F.st.op;
	if (!op)
		return;
	F.gets += !strcmp(op, "get");
	F.sets += !strcmp(op, "set");
	F.adds += !strcmp(op, "add");
	F.dels += !strcmp(op, "delete");
	F.ops += !strcmp(op, "operate");
}

static void begin(void)
{
	struct uspc_err err;
	prun_step_fini(&F.st);
	F.gets = F.sets = F.adds = F.dels = F.ops = 0;
	assert_int_equal(prun_begin(F.p, F.n, &F.ctx, &F.st, &err), 0);
	count_op();
}

/* Answer the request in flight with res (NULL: no answer); takes res. */
static void answer(cJSON *res)
{
	struct prun_answer a = { .answered = res != NULL, .result = res };
	struct prun_step nx;
	struct uspc_err err;
	assert_non_null(F.st.work);
	int rc = prun_next(F.p, F.n, &F.ctx, F.st.work, &a, &nx, &err);
	if (rc != 0)
		fail_msg("prun_next: %d %s", rc, err.msg);
	prun_step_fini(&F.st);
	F.st = nx;
	cJSON_Delete(res);
	count_op();
}

static void answer_text(const char *json)
{
	cJSON *j = cJSON_Parse(json);
	if (!j)
		fail_msg("bad test JSON: %s", json);
	answer(j);
}

/* Carry the verdicts' states into the next run's profiles. */
static void keep_states(void)
{
	assert_true(F.st.done);
	assert_int_equal(F.st.n_verdicts, F.n);
	for (size_t i = 0; i < F.n; i++) {
		cJSON_Delete(F.state[i]);
		F.state[i] = cJSON_Duplicate(F.st.verdicts[i].state, 1);
		F.p[i].state = F.state[i];
	}
}

/* ---- GetResp builders ---- */

static cJSON *gr(void)
{
	return cJSON_Parse("{\"type\":\"get_resp\",\"req_path_results\":[]}");
}

static cJSON *req_result(cJSON *g, const char *requested)
{
	cJSON *list = cJSON_GetObjectItem(g, "req_path_results"), *r;
	cJSON_ArrayForEach(r, list)
	{
		if (!strcmp(cJSON_GetObjectItem(r, "requested_path")->valuestring, requested))
			return r;
	}
	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "requested_path", requested);
	cJSON_AddItemToArray(list, r);
	return r;
}

/* A parameter read back: value NULL → success without a value. */
static void gr_param(cJSON *g, const char *path, const char *value)
{
	cJSON *r = req_result(g, path);
	if (!value)
		return;
	const char *dot = strrchr(path, '.');
	char obj[256];
	snprintf(obj, sizeof(obj), "%.*s", (int)(dot - path) + 1, path);
	cJSON *rp = cJSON_AddArrayToObject(r, "resolved_path_results");
	cJSON *one = cJSON_CreateObject();
	cJSON_AddStringToObject(one, "resolved_path", obj);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(one, "result_params"), dot + 1, value);
	cJSON_AddItemToArray(rp, one);
}

static void gr_err(cJSON *g, const char *path, int code, const char *msg)
{
	cJSON *r = req_result(g, path);
	cJSON_AddNumberToObject(r, "err_code", code);
	cJSON_AddStringToObject(r, "err_msg", msg);
}

/* One instance answering a search or table path: "K=V" pairs, NULL-terminated. */
static void gr_row(cJSON *g, const char *requested, const char *inst, ...)
{
	cJSON *r = req_result(g, requested);
	cJSON *rp = cJSON_GetObjectItem(r, "resolved_path_results");
	if (!rp)
		rp = cJSON_AddArrayToObject(r, "resolved_path_results");
	cJSON *one = cJSON_CreateObject(), *params = cJSON_CreateObject();
	cJSON_AddStringToObject(one, "resolved_path", inst);
	va_list ap;
	va_start(ap, inst);
	const char *kv;
	while ((kv = va_arg(ap, const char *)) != NULL) {
		char k[128];
		const char *eq = strchr(kv, '=');
		snprintf(k, sizeof(k), "%.*s", (int)(eq - kv), kv);
		cJSON_AddStringToObject(params, k, eq + 1);
	}
	va_end(ap);
	cJSON_AddItemToObject(one, "result_params", params);
	cJSON_AddItemToArray(rp, one);
}

/* An empty result for a search path (nothing matched). */
static void gr_none(cJSON *g, const char *requested)
{
	(void)req_result(g, requested);
}

/* ---- request inspection ---- */

static int reads(const char *path)
{
	const cJSON *e;
	assert_string_equal(F.st.op, "get");
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(F.st.request, "param_paths"))
	{
		if (!strcmp(e->valuestring, path))
			return 1;
	}
	return 0;
}

/* A get_attributes request in flight names path. */
static int reads_attr(const char *path)
{
	const cJSON *e;
	assert_string_equal(F.st.op, "get_attributes");
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(F.st.request, "param_paths"))
	{
		if (!strcmp(e->valuestring, path))
			return 1;
	}
	return 0;
}

static int n_reads(void)
{
	return cJSON_GetArraySize(cJSON_GetObjectItem(F.st.request, "param_paths"));
}

/* The value a Set request gives path, or NULL. */
static const char *set_value(const char *path)
{
	const cJSON *uo, *ps;
	assert_string_equal(F.st.op, "set");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(F.st.request, "allow_partial")));
	cJSON_ArrayForEach(uo, cJSON_GetObjectItem(F.st.request, "update_objs"))
	{
		const char *obj = cJSON_GetObjectItem(uo, "obj_path")->valuestring;
		size_t ol = strlen(obj);
		if (strncmp(path, obj, ol) != 0)
			continue;
		cJSON_ArrayForEach(ps, cJSON_GetObjectItem(uo, "param_settings"))
		{
			if (!strcmp(cJSON_GetObjectItem(ps, "param")->valuestring, path + ol)) {
				assert_true(cJSON_IsTrue(cJSON_GetObjectItem(ps, "required")));
				return cJSON_GetObjectItem(ps, "value")->valuestring;
			}
		}
	}
	return NULL;
}

static int n_set_params(void)
{
	const cJSON *uo;
	int n = 0;
	cJSON_ArrayForEach(uo, cJSON_GetObjectItem(F.st.request, "update_objs")) n +=
		cJSON_GetArraySize(cJSON_GetObjectItem(uo, "param_settings"));
	return n;
}

static void set_ok(void)
{
	answer_text("{\"type\":\"set_resp\",\"updated_obj_results\":[]}");
}

/* A SetResp with every object of the request successful. */
static void set_all_ok(void)
{
	cJSON *res = cJSON_Parse("{\"type\":\"set_resp\",\"updated_obj_results\":[]}");
	const cJSON *uo;
	cJSON_ArrayForEach(uo, cJSON_GetObjectItem(F.st.request, "update_objs"))
	{
		cJSON *r = cJSON_CreateObject();
		cJSON_AddStringToObject(r, "requested_path",
					cJSON_GetObjectItem(uo, "obj_path")->valuestring);
		cJSON_AddObjectToObject(cJSON_AddObjectToObject(r, "oper_status"), "oper_success");
		cJSON_AddItemToArray(cJSON_GetObjectItem(res, "updated_obj_results"), r);
	}
	answer(res);
}

static const struct prun_verdict *verdict(size_t i)
{
	assert_true(F.st.done);
	assert_false(F.st.interrupted);
	assert_int_equal(F.st.n_verdicts, F.n);
	return &F.st.verdicts[i];
}

/* The i-th change of profile k's history. */
static const cJSON *change(size_t k, int i)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItem(verdict(k)->history, "changes"), i);
}

static int n_changes(size_t k)
{
	return cJSON_GetArraySize(cJSON_GetObjectItem(verdict(k)->history, "changes"));
}

static const char *field(const cJSON *o, const char *key)
{
	const cJSON *j = cJSON_GetObjectItem(o, key);
	assert_non_null(j);
	return j->valuestring;
}

#define NTP                                                                                   \
	"{\"name\":\"ntp\",\"selector\":{\"all\":true},\"priority\":10,\"steps\":[{\"set\":{" \
	"\"Device.Time.NTPServer1\":\"pool.ntp.org\",\"Device.Time.Enable\":true}}]}"

/* ---- tests ---- */

static void compliant_first_read(void **state)
{
	(void)state;
	prof(NTP, 3);
	begin();
	assert_int_equal(n_reads(), 2);
	assert_true(reads("Device.Time.NTPServer1"));
	assert_true(reads("Device.Time.Enable"));
	cJSON *g = gr();
	gr_param(g, "Device.Time.NTPServer1", "pool.ntp.org");
	gr_param(g, "Device.Time.Enable", "1");
	answer(g);
	assert_int_equal(verdict(0)->outcome, PRUN_COMPLIANT);
	assert_int_equal(F.gets, 1);
	assert_int_equal(F.sets, 0);
	assert_int_equal(n_changes(0), 0);
	const cJSON *o = cJSON_GetObjectItem(F.st.owners, "Device.Time.NTPServer1");
	assert_string_equal(field(o, "profile"), "ntp");
	assert_int_equal(cJSON_GetObjectItem(o, "version")->valueint, 3);
	assert_int_equal(cJSON_GetObjectItem(verdict(0)->state, "version")->valueint, 3);
	assert_int_equal(cJSON_GetObjectItem(verdict(0)->history, "rounds")->valueint, 1);
	assert_string_equal(F.st.stamp, "");
}

static void differing_set_then_compliant(void **state)
{
	(void)state;
	prof(NTP, 3);
	begin();
	cJSON *g = gr();
	gr_param(g, "Device.Time.NTPServer1", "old.example");
	gr_param(g, "Device.Time.Enable", "true");
	answer(g);
	assert_int_equal(n_set_params(), 1);
	assert_string_equal(set_value("Device.Time.NTPServer1"), "pool.ntp.org");
	assert_string_equal(
		field(cJSON_GetArrayItem(cJSON_GetObjectItem(F.st.request, "update_objs"), 0),
		      "obj_path"),
		"Device.Time.");
	set_all_ok();
	assert_string_equal(F.st.op, "get");
	g = gr();
	gr_param(g, "Device.Time.NTPServer1", "pool.ntp.org");
	gr_param(g, "Device.Time.Enable", "true");
	answer(g);
	assert_int_equal(verdict(0)->outcome, PRUN_COMPLIANT);
	assert_int_equal(F.gets, 2);
	assert_int_equal(F.sets, 1);
	const cJSON *c = change(0, 0);
	assert_string_equal(field(c, "path"), "Device.Time.NTPServer1");
	assert_string_equal(field(c, "old"), "old.example");
	assert_string_equal(field(c, "new"), "pool.ntp.org");
	assert_string_equal(field(c, "action"), "set");
	assert_string_equal(field(c, "result"), "ok");
	const cJSON *sets = cJSON_GetObjectItem(verdict(0)->state, "sets");
	const cJSON *t = cJSON_GetObjectItem(sets, "Device.Time.NTPServer1");
	assert_int_equal(cJSON_GetArraySize(t), 1);
	assert_true(cJSON_GetArrayItem(t, 0)->valuedouble == NOW);
}

static void comparisons(void **state)
{
	(void)state;
	prof("{\"name\":\"cmp\",\"selector\":{\"all\":true},\"priority\":1,\"steps\":[{\"set\":{"
	     "\"Device.A.B1\":true,\"Device.A.B2\":false,\"Device.A.B3\":true,"
	     "\"Device.A.N1\":10,\"Device.A.N2\":10,\"Device.A.N3\":2.5,"
	     "\"Device.A.S1\":\"true\",\"Device.A.S2\":\"false\",\"Device.A.S3\":\"abc\","
	     "\"Device.A.S4\":\"1\"}}]}",
	     1);
	begin();
	cJSON *g = gr();
	gr_param(g, "Device.A.B1", "1");     /* equal */
	gr_param(g, "Device.A.B2", "false"); /* equal */
	gr_param(g, "Device.A.B3", "yes");   /* differs */
	gr_param(g, "Device.A.N1", "10.0");  /* equal */
	gr_param(g, "Device.A.N2", "10x");   /* differs */
	gr_param(g, "Device.A.N3", "2.50");  /* equal */
	gr_param(g, "Device.A.S1", "1");     /* equal */
	gr_param(g, "Device.A.S2", "0");     /* equal */
	gr_param(g, "Device.A.S3", "abd");   /* differs */
	gr_param(g, "Device.A.S4", "true");  /* equal */
	answer(g);
	assert_int_equal(n_set_params(), 3);
	assert_string_equal(set_value("Device.A.B3"), "true");
	assert_string_equal(set_value("Device.A.N2"), "10");
	assert_string_equal(set_value("Device.A.S3"), "abc");
	assert_null(set_value("Device.A.N1"));
}

static void priority_per_path(void **state)
{
	(void)state;
	prof("{\"name\":\"base\",\"selector\":{\"all\":true},\"priority\":1,\"steps\":[{\"set\":{"
	     "\"Device.Time.NTPServer1\":\"base.example\",\"Device.Time.NTPServer2\":\"b2\"}}]}",
	     1);
	prof("{\"name\":\"site\",\"selector\":{\"all\":true},\"priority\":5,\"steps\":[{\"set\":{"
	     "\"Device.Time.NTPServer1\":\"site.example\"}}]}",
	     7);
	begin();
	assert_int_equal(n_reads(), 2); /* NTPServer1 once */
	cJSON *g = gr();
	gr_param(g, "Device.Time.NTPServer1", "base.example");
	gr_param(g, "Device.Time.NTPServer2", "b2");
	answer(g);
	assert_int_equal(n_set_params(), 1);
	assert_string_equal(set_value("Device.Time.NTPServer1"), "site.example");
	set_all_ok();
	g = gr();
	gr_param(g, "Device.Time.NTPServer1", "site.example");
	gr_param(g, "Device.Time.NTPServer2", "b2");
	answer(g);
	assert_int_equal(verdict(0)->outcome, PRUN_COMPLIANT);
	assert_int_equal(verdict(1)->outcome, PRUN_COMPLIANT);
	const cJSON *c = change(0, 0);
	assert_string_equal(field(c, "path"), "Device.Time.NTPServer1");
	assert_string_equal(field(c, "result"), "overridden");
	assert_string_equal(field(change(1, 0), "result"), "ok");
	const cJSON *o1 = cJSON_GetObjectItem(F.st.owners, "Device.Time.NTPServer1");
	const cJSON *o2 = cJSON_GetObjectItem(F.st.owners, "Device.Time.NTPServer2");
	assert_string_equal(field(o1, "profile"), "site");
	assert_int_equal(cJSON_GetObjectItem(o1, "version")->valueint, 7);
	assert_string_equal(field(o2, "profile"), "base");
}

static void audit_never_acts(void **state)
{
	(void)state;
	prof("{\"name\":\"check\",\"selector\":{\"all\":true},\"priority\":1,\"mode\":\"audit\","
	     "\"steps\":[{\"set\":{\"Device.Time.NTPServer1\":\"pool.ntp.org\"}}]}",
	     1);
	begin();
	cJSON *g = gr();
	gr_param(g, "Device.Time.NTPServer1", "other");
	answer(g);
	assert_int_equal(verdict(0)->outcome, PRUN_DRIFTED);
	assert_int_equal(F.sets, 0);
	assert_int_equal(F.gets, 1);
	const cJSON *c = change(0, 0);
	assert_string_equal(field(c, "action"), "would_set");
	assert_string_equal(field(c, "result"), "drifted");
	assert_string_equal(field(c, "old"), "other");
	assert_non_null(strstr(verdict(0)->detail, "Device.Time.NTPServer1"));
}

#define SSID_PROFILE                                                                        \
	"{\"name\":\"wifi\",\"selector\":{\"all\":true},\"priority\":1,\"steps\":[{"        \
	"\"ensure_instance\":{\"table\":\"Device.WiFi.SSID.\",\"keys\":{\"Name\":\"wl0\"}," \
	"\"params\":{\"SSID\":\"office-${eid}\",\"Enable\":true}}}]}"
#define SSID_SEARCH "Device.WiFi.SSID.[Name==\"wl0\"]."

static void ensure_instance_add_then_set(void **state)
{
	(void)state;
	prof(SSID_PROFILE, 1);
	begin();
	assert_true(reads(SSID_SEARCH));
	cJSON *g = gr();
	gr_none(g, SSID_SEARCH);
	answer(g);
	assert_string_equal(F.st.op, "add");
	const cJSON *co = cJSON_GetArrayItem(cJSON_GetObjectItem(F.st.request, "create_objs"), 0);
	assert_string_equal(field(co, "obj_path"), "Device.WiFi.SSID.");
	const cJSON *ps = cJSON_GetObjectItem(co, "param_settings");
	assert_int_equal(cJSON_GetArraySize(ps), 3);
	assert_string_equal(field(cJSON_GetArrayItem(ps, 0), "param"), "Name");
	assert_string_equal(field(cJSON_GetArrayItem(ps, 0), "value"), "wl0");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(ps, 0), "required")));
	answer_text("{\"type\":\"add_resp\",\"created_obj_results\":[{\"requested_path\":"
		    "\"Device.WiFi.SSID.\",\"oper_status\":{\"oper_success\":{"
		    "\"instantiated_path\":\"Device.WiFi.SSID.3.\"}}}]}");
	assert_string_equal(F.st.op, "get");
	g = gr();
	gr_row(g, SSID_SEARCH, "Device.WiFi.SSID.3.", "Name=wl0", "SSID=home", "Enable=true", NULL);
	answer(g);
	assert_int_equal(n_set_params(), 1);
	assert_string_equal(set_value("Device.WiFi.SSID.3.SSID"), "office-os::00D09E-HGW-1");
	set_all_ok();
	g = gr();
	gr_row(g, SSID_SEARCH, "Device.WiFi.SSID.3.", "Name=wl0", "SSID=office-os::00D09E-HGW-1",
	       "Enable=1", NULL);
	answer(g);
	assert_int_equal(verdict(0)->outcome, PRUN_COMPLIANT);
	assert_int_equal(F.adds, 1);
	assert_int_equal(F.sets, 1);
	assert_string_equal(field(change(0, 0), "action"), "add");
	assert_non_null(cJSON_GetObjectItem(F.st.owners, "Device.WiFi.SSID.3.SSID"));

	/* present and equal: one Get, nothing else */
	begin();
	g = gr();
	gr_row(g, SSID_SEARCH, "Device.WiFi.SSID.3.", "Name=wl0", "SSID=office-os::00D09E-HGW-1",
	       "Enable=true", NULL);
	answer(g);
	assert_int_equal(verdict(0)->outcome, PRUN_COMPLIANT);
	assert_int_equal(F.gets, 1);
	assert_int_equal(F.adds + F.sets, 0);
}

static void ensure_absent_deletes(void **state)
{
	(void)state;
	prof("{\"name\":\"nat\",\"selector\":{\"all\":true},\"priority\":1,\"steps\":[{"
	     "\"ensure_absent\":{\"table\":\"Device.NAT.PortMapping.\",\"match\":"
	     "{\"Description\":\"bad\"}}}]}",
	     1);
	const char *sp = "Device.NAT.PortMapping.[Description==\"bad\"].";
	begin();
	assert_true(reads(sp));
	cJSON *g = gr();
	gr_row(g, sp, "Device.NAT.PortMapping.4.", "Description=bad", NULL);
	gr_row(g, sp, "Device.NAT.PortMapping.7.", "Description=bad", NULL);
	answer(g);
	assert_string_equal(F.st.op, "delete");
	const cJSON *paths = cJSON_GetObjectItem(F.st.request, "obj_paths");
	assert_int_equal(cJSON_GetArraySize(paths), 2);
	assert_string_equal(cJSON_GetArrayItem(paths, 0)->valuestring, "Device.NAT.PortMapping.4.");
	answer_text("{\"type\":\"delete_resp\",\"deleted_obj_results\":["
		    "{\"requested_path\":\"Device.NAT.PortMapping.4.\",\"oper_status\":"
		    "{\"oper_success\":{}}},"
		    "{\"requested_path\":\"Device.NAT.PortMapping.7.\",\"oper_status\":"
		    "{\"oper_success\":{}}}]}");
	g = gr();
	gr_none(g, sp);
	answer(g);
	assert_int_equal(verdict(0)->outcome, PRUN_COMPLIANT);
	assert_int_equal(F.dels, 1);
	assert_int_equal(n_changes(0), 2);
	assert_string_equal(field(change(0, 1), "action"), "delete");
}

/* ensure_count never deletes a row an ensure_instance of the run wants
 * (it would be added back: a loop), even when it has the highest number */
static void ensure_count_spares_wanted_rows(void **state)
{
	(void)state;
	prof("{\"name\":\"wifi\",\"selector\":{\"all\":true},\"priority\":1,\"steps\":[{"
	     "\"ensure_instance\":{\"table\":\"Device.WiFi.SSID.\",\"keys\":{\"Name\":\"wl0\"},"
	     "\"params\":{\"SSID\":\"guest\"}}},"
	     "{\"ensure_count\":{\"table\":\"Device.WiFi.SSID.\",\"max\":2}}]}",
	     1);
	begin();
	cJSON *g = gr();
	gr_row(g, SSID_SEARCH, "Device.WiFi.SSID.9.", "Name=wl0", "SSID=guest", NULL);
	gr_row(g, "Device.WiFi.SSID.", "Device.WiFi.SSID.1.", "Name=a", NULL);
	gr_row(g, "Device.WiFi.SSID.", "Device.WiFi.SSID.4.", "Name=b", NULL);
	gr_row(g, "Device.WiFi.SSID.", "Device.WiFi.SSID.9.", "Name=wl0", NULL);
	answer(g);
	assert_string_equal(F.st.op, "delete");
	const cJSON *paths = cJSON_GetObjectItem(F.st.request, "obj_paths");
	assert_int_equal(cJSON_GetArraySize(paths), 1);
	assert_string_equal(cJSON_GetArrayItem(paths, 0)->valuestring, "Device.WiFi.SSID.4.");
}

static void ensure_count_min_max(void **state)
{
	(void)state;
	prof("{\"name\":\"cnt\",\"selector\":{\"all\":true},\"priority\":1,\"steps\":[{"
	     "\"ensure_count\":{\"table\":\"Device.X.Y.\",\"min\":2}}]}",
	     1);
	prof("{\"name\":\"cnt2\",\"selector\":{\"all\":true},\"priority\":2,\"steps\":[{"
	     "\"ensure_count\":{\"table\":\"Device.Q.\",\"max\":1}}]}",
	     1);
	begin();
	assert_true(reads("Device.X.Y."));
	cJSON *g = gr();
	gr_row(g, "Device.X.Y.", "Device.X.Y.1.", "A=1", NULL);
	gr_row(g, "Device.X.Y.", "Device.X.Y.1.Sub.", "B=1", NULL);
	gr_row(g, "Device.Q.", "Device.Q.1.", "A=1", NULL);
	gr_row(g, "Device.Q.", "Device.Q.2.", "A=1", NULL);
	gr_row(g, "Device.Q.", "Device.Q.5.", "A=1", NULL);
	gr_row(g, "Device.Q.", "Device.Q.5.Stats.", "A=1", NULL);
	answer(g);
	/* Delete first: the highest numbers */
	assert_string_equal(F.st.op, "delete");
	const cJSON *paths = cJSON_GetObjectItem(F.st.request, "obj_paths");
	assert_int_equal(cJSON_GetArraySize(paths), 2);
	assert_string_equal(cJSON_GetArrayItem(paths, 0)->valuestring, "Device.Q.5.");
	assert_string_equal(cJSON_GetArrayItem(paths, 1)->valuestring, "Device.Q.2.");
	answer_text("{\"type\":\"delete_resp\",\"deleted_obj_results\":["
		    "{\"requested_path\":\"Device.Q.5.\",\"oper_status\":{\"oper_success\":{}}},"
		    "{\"requested_path\":\"Device.Q.2.\",\"oper_status\":{\"oper_success\":{}}}]}");
	g = gr();
	gr_row(g, "Device.X.Y.", "Device.X.Y.1.", "A=1", NULL);
	gr_row(g, "Device.Q.", "Device.Q.1.", "A=1", NULL);
	answer(g);
	assert_string_equal(F.st.op, "add");
	const cJSON *objs = cJSON_GetObjectItem(F.st.request, "create_objs");
	assert_int_equal(cJSON_GetArraySize(objs), 1);
	assert_string_equal(field(cJSON_GetArrayItem(objs, 0), "obj_path"), "Device.X.Y.");
	assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(objs, 0), "param_settings"));
	answer_text("{\"type\":\"add_resp\",\"created_obj_results\":[{\"requested_path\":"
		    "\"Device.X.Y.\",\"oper_status\":{\"oper_success\":{"
		    "\"instantiated_path\":\"Device.X.Y.2.\"}}}]}");
	g = gr();
	gr_row(g, "Device.X.Y.", "Device.X.Y.1.", "A=1", NULL);
	gr_row(g, "Device.X.Y.", "Device.X.Y.2.", "A=1", NULL);
	gr_row(g, "Device.Q.", "Device.Q.1.", "A=1", NULL);
	answer(g);
	assert_int_equal(verdict(0)->outcome, PRUN_COMPLIANT);
	assert_int_equal(verdict(1)->outcome, PRUN_COMPLIANT);
}

static void not_applicable_one_profile(void **state)
{
	(void)state;
	prof("{\"name\":\"a\",\"selector\":{\"all\":true},\"priority\":1,\"steps\":[{\"set\":{"
	     "\"Device.Time.NTPServer1\":\"x\"}}]}",
	     1);
	prof("{\"name\":\"b\",\"selector\":{\"all\":true},\"priority\":2,\"steps\":[{\"set\":{"
	     "\"Device.Time.NTPServer2\":\"y\"}}]}",
	     1);
	begin();
	cJSON *g = gr();
	gr_param(g, "Device.Time.NTPServer1", "old");
	gr_param(g, "Device.Time.NTPServer2", "old");
	answer(g);
	assert_int_equal(n_set_params(), 2);
	answer_text("{\"type\":\"set_resp\",\"updated_obj_results\":[{\"requested_path\":"
		    "\"Device.Time.\",\"oper_status\":{\"oper_failure\":{\"err_code\":7020,"
		    "\"err_msg\":\"Object could not be updated\",\"updated_inst_failures\":[{"
		    "\"affected_path\":\"Device.Time.\",\"param_errs\":[{\"param\":\"NTPServer1\","
		    "\"err_code\":7013,\"err_msg\":\"not writable\"}]}]}}}]}");
	assert_string_equal(F.st.op, "get");
	assert_false(reads("Device.Time.NTPServer1"));
	g = gr();
	gr_param(g, "Device.Time.NTPServer2", "old");
	answer(g);
	assert_int_equal(n_set_params(), 1);
	assert_string_equal(set_value("Device.Time.NTPServer2"), "y");
	set_all_ok();
	g = gr();
	gr_param(g, "Device.Time.NTPServer2", "y");
	answer(g);
	assert_int_equal(verdict(0)->outcome, PRUN_NOT_APPLICABLE);
	assert_int_equal(verdict(0)->retry, 0);
	assert_string_equal(verdict(0)->detail, "Device.Time.NTPServer1: 7013 not writable");
	assert_string_equal(field(change(0, 0), "result"), "not_applicable");
	assert_int_equal(cJSON_GetObjectItem(change(0, 0), "err_code")->valueint, 7013);
	assert_int_equal(verdict(1)->outcome, PRUN_COMPLIANT);
	assert_null(cJSON_GetObjectItem(F.st.owners, "Device.Time.NTPServer1"));
	assert_non_null(cJSON_GetObjectItem(F.st.owners, "Device.Time.NTPServer2"));
}

static void read_errors(void **state)
{
	(void)state;
	prof(NTP, 1);
	prof("{\"name\":\"b\",\"selector\":{\"all\":true},\"priority\":2,\"steps\":[{\"set\":{"
	     "\"Device.Nope.X\":\"y\"}}]}",
	     1);
	begin();
	cJSON *g = gr();
	gr_param(g, "Device.Time.NTPServer1", "pool.ntp.org");
	gr_param(g, "Device.Time.Enable", "true");
	gr_err(g, "Device.Nope.X", 7026, "Invalid path");
	answer(g);
	assert_int_equal(verdict(0)->outcome, PRUN_COMPLIANT);
	assert_int_equal(verdict(1)->outcome, PRUN_NOT_APPLICABLE);
	assert_string_equal(verdict(1)->detail, "Device.Nope.X: 7026 Invalid path");

	/* a transient error on a path: that profile failed, worth retrying */
	begin();
	g = gr();
	gr_param(g, "Device.Time.NTPServer1", "pool.ntp.org");
	gr_param(g, "Device.Time.Enable", "true");
	gr_err(g, "Device.Nope.X", 7003, "Message failed");
	answer(g);
	assert_int_equal(verdict(1)->outcome, PRUN_FAILED);
	assert_int_equal(verdict(1)->retry, 1);

	/* a whole-message transient Error: interrupted */
	begin();
	answer_text("{\"type\":\"error\",\"err_code\":7002,\"err_msg\":\"Internal error\"}");
	assert_true(F.st.done);
	assert_true(F.st.interrupted);
	assert_int_equal(F.st.n_verdicts, 0);

	/* a permanent one naming a path: that profile only, the other reads again */
	begin();
	answer_text("{\"type\":\"error\",\"err_code\":7026,\"err_msg\":\"Invalid path\","
		    "\"param_errs\":[{\"param_path\":\"Device.Nope.X\",\"err_code\":7026}]}");
	assert_string_equal(F.st.op, "get");
	assert_false(reads("Device.Nope.X"));
	g = gr();
	gr_param(g, "Device.Time.NTPServer1", "pool.ntp.org");
	gr_param(g, "Device.Time.Enable", "true");
	answer(g);
	assert_int_equal(verdict(0)->outcome, PRUN_COMPLIANT);
	assert_int_equal(verdict(1)->outcome, PRUN_NOT_APPLICABLE);
}

static void transient_set_failure(void **state)
{
	(void)state;
	prof(NTP, 1);
	begin();
	cJSON *g = gr();
	gr_param(g, "Device.Time.NTPServer1", "old");
	gr_param(g, "Device.Time.Enable", "true");
	answer(g);
	answer_text("{\"type\":\"error\",\"err_code\":7002,\"err_msg\":\"Internal error\"}");
	assert_int_equal(verdict(0)->outcome, PRUN_FAILED);
	assert_int_equal(verdict(0)->retry, 1);
	assert_string_equal(verdict(0)->detail, "Device.Time.NTPServer1: 7002 Internal error");
	assert_string_equal(field(change(0, 0), "result"), "failed");
}

static void no_answer_interrupts(void **state)
{
	(void)state;
	prof(NTP, 1);
	begin();
	answer(NULL);
	assert_true(F.st.done);
	assert_true(F.st.interrupted);
	assert_int_equal(F.st.n_verdicts, 0);
	assert_null(F.st.verdicts);
	assert_int_equal(cJSON_GetArraySize(F.st.states), 1);

	/* also in the middle of an action */
	begin();
	cJSON *g = gr();
	gr_param(g, "Device.Time.NTPServer1", "old");
	gr_param(g, "Device.Time.Enable", "true");
	answer(g);
	assert_string_equal(F.st.op, "set");
	answer(NULL);
	assert_true(F.st.interrupted);
}

static void contested_from_state(void **state)
{
	(void)state;
	F.ctx.contest_count = 2;
	prof(NTP, 1);
	F.state[0] = cJSON_Parse("{\"version\":1,\"wo\":{},\"once\":{},\"contested\":[],"
				 "\"sets\":{\"Device.Time.NTPServer1\":[1699999000,1699999900]}}");
	F.p[0].state = F.state[0];
	begin();
	cJSON *g = gr();
	gr_param(g, "Device.Time.NTPServer1", "other");
	gr_param(g, "Device.Time.Enable", "true");
	answer(g);
	assert_int_equal(verdict(0)->outcome, PRUN_CONTESTED);
	assert_int_equal(F.sets, 0);
	assert_string_equal(field(change(0, 0), "result"), "contested");
	const cJSON *cl = cJSON_GetObjectItem(verdict(0)->state, "contested");
	assert_int_equal(cJSON_GetArraySize(cl), 1);
	assert_string_equal(cJSON_GetArrayItem(cl, 0)->valuestring, "Device.Time.NTPServer1");

	/* it stays contested ... */
	keep_states();
	begin();
	g = gr();
	gr_param(g, "Device.Time.NTPServer1", "other");
	gr_param(g, "Device.Time.Enable", "true");
	answer(g);
	assert_int_equal(verdict(0)->outcome, PRUN_CONTESTED);
	/* ... until reset_contested, which also forgets the Set times (still
	 * within the window here: counted, they would contest it again) */
	F.ctx.reset_contested = 1;
	begin();
	g = gr();
	gr_param(g, "Device.Time.NTPServer1", "other");
	gr_param(g, "Device.Time.Enable", "true");
	answer(g);
	assert_string_equal(F.st.op, "set");
}

static void round_limit_contested_first(void **state)
{
	(void)state;
	prof(NTP, 1); /* contest_count 3 */
	begin();
	while (!F.st.done) {
		if (!strcmp(F.st.op, "get")) {
			cJSON *g = gr();
			gr_param(g, "Device.Time.NTPServer1", "old");
			gr_param(g, "Device.Time.Enable", "true");
			answer(g);
		} else {
			set_all_ok();
		}
		assert_true(F.gets <= PRUN_MAX_ROUNDS);
	}
	/* three Sets, then the fourth would be the (N + 1)th within the window */
	assert_int_equal(verdict(0)->outcome, PRUN_CONTESTED);
	assert_int_equal(F.sets, 3);
	assert_int_equal(F.gets, 4);

	/* without contest detection the round limit ends it */
	F.ctx.contest_count = 0;
	begin();
	while (!F.st.done) {
		if (!strcmp(F.st.op, "get")) {
			cJSON *g = gr();
			gr_param(g, "Device.Time.NTPServer1", "old");
			gr_param(g, "Device.Time.Enable", "true");
			answer(g);
		} else {
			set_all_ok();
		}
		assert_true(F.gets <= PRUN_MAX_ROUNDS);
	}
	assert_int_equal(verdict(0)->outcome, PRUN_FAILED);
	assert_int_equal(verdict(0)->retry, 1);
	assert_string_equal(verdict(0)->detail, "did not converge in 8 rounds");
	assert_int_equal(F.gets, PRUN_MAX_ROUNDS);
	assert_int_equal(F.sets, PRUN_MAX_ROUNDS - 1);
}

#define PSK_PATH "Device.WiFi.AccessPoint.1.Security.KeyPassphrase"
#define PSK_PROFILE                                                                          \
	"{\"name\":\"psk\",\"selector\":{\"all\":true},\"priority\":1,\"steps\":[{\"set\":{" \
	"\"" PSK_PATH "\":{\"value\":\"s3cret\",\"write_only\":true}}}]}"

/* One run against an agent that reads the passphrase back empty; returns
 * the number of Sets. */
static int psk_run(void)
{
	begin();
	while (!F.st.done) {
		if (!strcmp(F.st.op, "get")) {
			cJSON *g = gr();
			gr_param(g, PSK_PATH, "");
			answer(g);
		} else {
			assert_string_equal(set_value(PSK_PATH), "s3cret");
			set_all_ok();
		}
	}
	assert_int_equal(verdict(0)->outcome, PRUN_COMPLIANT);
	keep_states();
	return F.sets;
}

static void write_only(void **state)
{
	(void)state;
	prof(PSK_PROFILE, 1);
	assert_int_equal(psk_run(), 1);
	const cJSON *c = change(0, 0);
	assert_string_equal(field(c, "new"), "(secret)");
	assert_string_equal(field(c, "old"), "(secret)");
	const char *h = field(cJSON_GetObjectItem(verdict(0)->state, "wo"), PSK_PATH);
	assert_int_equal(strlen(h), 64);
	/* the history never holds the value */
	char *text = cJSON_PrintUnformatted(verdict(0)->history);
	assert_null(strstr(text, "s3cret"));
	free(text);

	assert_int_equal(psk_run(), 0); /* the hash says it is set */
	F.p[0].version = 2;
	assert_int_equal(psk_run(), 1); /* a new version */
	assert_int_equal(psk_run(), 0);
	F.ctx.force_write_only = 1;
	assert_int_equal(psk_run(), 1);
	F.ctx.force_write_only = 0;
	assert_int_equal(psk_run(), 0);
	F.ctx.factory_reset = 1;
	assert_int_equal(psk_run(), 1);
}

#define REBOOT_PROFILE(once)                                                             \
	"{\"name\":\"rb\",\"selector\":{\"all\":true},\"priority\":1,\"steps\":["        \
	"{\"set\":{\"Device.Time.NTPServer1\":\"x\"}},"                                  \
	"{\"operate\":{\"command\":\"Device.Reboot()\",\"args\":{\"Cause\":\"${eid}\"}," \
	"\"once_per\":\"" once "\"}}]}"

/* One run: NTPServer1 reads "x"; the number of Operates. */
static int reboot_run(void)
{
	begin();
	while (!F.st.done) {
		if (!strcmp(F.st.op, "get")) {
			cJSON *g = gr();
			gr_param(g, "Device.Time.NTPServer1", "x");
			answer(g);
		} else {
			assert_string_equal(F.st.op, "operate");
			assert_string_equal(field(F.st.request, "command"), "Device.Reboot()");
			assert_string_equal(field(F.st.request, "command_key"),
					    "uspc-profile:rb:v4:2");
			assert_true(cJSON_IsTrue(cJSON_GetObjectItem(F.st.request, "send_resp")));
			assert_string_equal(
				field(cJSON_GetObjectItem(F.st.request, "input_args"), "Cause"),
				"os::00D09E-HGW-1");
			answer_text("{\"type\":\"operate_resp\",\"operation_results\":[{"
				    "\"executed_command\":\"Device.Reboot()\","
				    "\"req_output_args\":{}}]}");
		}
	}
	assert_int_equal(verdict(0)->outcome, PRUN_COMPLIANT);
	keep_states();
	return F.ops;
}

static void operate_once_per_version(void **state)
{
	(void)state;
	prof(REBOOT_PROFILE("version"), 4);
	assert_int_equal(reboot_run(), 1);
	const cJSON *once = cJSON_GetObjectItem(verdict(0)->state, "once");
	assert_string_equal(field(once, "2"), "v4");
	assert_int_equal(reboot_run(), 0);
	assert_int_equal(F.gets, 1);
}

static void operate_once_per_boot(void **state)
{
	(void)state;
	prof(REBOOT_PROFILE("boot"), 4);
	F.ctx.boot_key = "boot-1";
	assert_int_equal(reboot_run(), 1);
	assert_int_equal(reboot_run(), 0);
	F.ctx.boot_key = "boot-2";
	assert_int_equal(reboot_run(), 1);
	assert_string_equal(field(cJSON_GetObjectItem(verdict(0)->state, "once"), "2"), "bboot-2");
	/* a factory reset forgets boot markers */
	F.ctx.factory_reset = 1;
	assert_int_equal(reboot_run(), 1);
}

static void set_before_operate(void **state)
{
	(void)state;
	prof(REBOOT_PROFILE("version"), 4);
	begin();
	cJSON *g = gr();
	gr_param(g, "Device.Time.NTPServer1", "old");
	answer(g);
	assert_string_equal(F.st.op, "set");
	set_all_ok();
	g = gr();
	gr_param(g, "Device.Time.NTPServer1", "x");
	answer(g);
	assert_string_equal(F.st.op, "operate");
}

static void template_failure(void **state)
{
	(void)state;
	prof("{\"name\":\"v\",\"selector\":{\"all\":true},\"priority\":1,\"steps\":[{\"set\":{"
	     "\"Device.WiFi.SSID.1.SSID\":\"${var:ssid}\"}}]}",
	     1);
	begin();
	assert_true(F.st.done);
	assert_int_equal(F.gets, 0);
	assert_int_equal(verdict(0)->outcome, PRUN_FAILED);
	assert_int_equal(verdict(0)->retry, 0);
	assert_non_null(strstr(verdict(0)->detail, "${var:ssid}"));

	/* with another profile: only the other one is read */
	prof(NTP, 1);
	begin();
	assert_string_equal(F.st.op, "get");
	assert_int_equal(n_reads(), 2);
	assert_false(reads("Device.WiFi.SSID.1.SSID"));
	cJSON *vars = cJSON_Parse("{\"ssid\":\"home\"}");
	F.ctx.tpl.vars = vars;
	begin();
	assert_true(reads("Device.WiFi.SSID.1.SSID"));
	prun_step_fini(&F.st);
	F.ctx.tpl.vars = NULL;
	cJSON_Delete(vars);
}

static void dry_run(void **state)
{
	(void)state;
	prof(NTP, 1);
	prof(SSID_PROFILE, 1);
	F.ctx.dry_run = 1;
	begin();
	cJSON *g = gr();
	gr_param(g, "Device.Time.NTPServer1", "old");
	gr_param(g, "Device.Time.Enable", "true");
	gr_none(g, SSID_SEARCH);
	answer(g);
	assert_int_equal(F.gets, 1);
	assert_int_equal(F.sets + F.adds, 0);
	assert_int_equal(verdict(0)->outcome, PRUN_DRIFTED);
	assert_int_equal(verdict(1)->outcome, PRUN_DRIFTED);
	assert_string_equal(field(change(0, 0), "action"), "would_set");
	assert_string_equal(field(change(0, 0), "new"), "pool.ntp.org");
	assert_string_equal(field(change(1, 0), "action"), "would_add");
	assert_int_equal(cJSON_GetObjectItem(verdict(0)->history, "rounds")->valueint, 1);
}

static void stamp(void **state)
{
	(void)state;
	prof(NTP, 3);
	F.ctx.stamp_path = "Device.LocalAgent.X_USPC_Stamp";
	char want[64];
	prun_stamp(F.p, 1, want);
	assert_int_equal(strlen(want), 17);
	assert_memory_equal(want, "uspc:", 5);
	begin();
	assert_true(reads("Device.LocalAgent.X_USPC_Stamp"));
	cJSON *g = gr();
	gr_param(g, "Device.Time.NTPServer1", "pool.ntp.org");
	gr_param(g, "Device.Time.Enable", "true");
	gr_param(g, "Device.LocalAgent.X_USPC_Stamp", "uspc:old");
	answer(g);
	assert_string_equal(set_value("Device.LocalAgent.X_USPC_Stamp"), want);
	set_all_ok();
	assert_int_equal(verdict(0)->outcome, PRUN_COMPLIANT);
	assert_string_equal(F.st.stamp, want);
	assert_int_equal(n_changes(0), 0); /* the stamp is no profile's */

	begin();
	g = gr();
	gr_param(g, "Device.Time.NTPServer1", "pool.ntp.org");
	gr_param(g, "Device.Time.Enable", "true");
	gr_param(g, "Device.LocalAgent.X_USPC_Stamp", want);
	answer(g);
	assert_int_equal(F.sets, 0);
	assert_string_equal(F.st.stamp, want);

	/* its failure is ignored */
	begin();
	g = gr();
	gr_param(g, "Device.Time.NTPServer1", "pool.ntp.org");
	gr_param(g, "Device.Time.Enable", "true");
	gr_param(g, "Device.LocalAgent.X_USPC_Stamp", "");
	answer(g);
	answer_text("{\"type\":\"error\",\"err_code\":7026,\"err_msg\":\"no\"}");
	assert_int_equal(verdict(0)->outcome, PRUN_COMPLIANT);
	assert_string_equal(F.st.stamp, "");
	(void)set_ok;
}

/* A work object changed by one edit must be refused, never crash. */
static void tamper(const char *key, const char *json, int in_profile)
{
	cJSON *w = cJSON_Duplicate(F.st.work, 1);
	cJSON *target = in_profile ? cJSON_GetArrayItem(cJSON_GetObjectItem(w, "profiles"), 0) : w;
	cJSON *v = cJSON_Parse(json);
	assert_non_null(v);
	if (cJSON_GetObjectItem(target, key))
		cJSON_ReplaceItemInObject(target, key, v);
	else
		cJSON_AddItemToObject(target, key, v);
	cJSON *res = gr();
	struct prun_answer a = { .answered = 1, .result = res };
	struct prun_step nx;
	struct uspc_err err;
	assert_int_equal(prun_next(F.p, F.n, &F.ctx, w, &a, &nx, &err), USPCTL_E_BAD_FIELD);
	assert_null(nx.work);
	assert_null(nx.verdicts);
	cJSON_Delete(res);
	cJSON_Delete(w);
}

static void tampered_work(void **state)
{
	(void)state;
	prof(NTP, 1);
	begin();
	tamper("phase", "\"write\"", 0);
	tamper("phase", "7", 0);
	tamper("round", "\"1\"", 0);
	tamper("round", "99", 0);
	tamper("round", "1.5", 0);
	tamper("v", "2", 0);
	tamper("profiles", "[]", 0);
	tamper("profiles", "[1]", 0);
	tamper("profiles", "{}", 0);
	tamper("outcome", "\"great\"", 1);
	tamper("retry", "true", 1);
	tamper("detail", "null", 1);
	tamper("log", "[1]", 1);
	tamper("log", "[{\"path\":1}]", 1);
	tamper("state", "[]", 1);
	tamper("state", "{\"wo\":5,\"once\":{},\"sets\":{},\"contested\":[]}", 1);
	tamper("state", "{\"wo\":{},\"once\":{},\"sets\":{\"a\":[\"x\"]},\"contested\":[]}", 1);
	tamper("state", "{\"wo\":{},\"once\":{},\"sets\":{},\"contested\":[3]}", 1);
	tamper("owners", "[]", 0);
	tamper("phase", "\"act\"", 0); /* without "act" */
	/* an act item naming a profile that is not there */
	cJSON *g = gr();
	gr_param(g, "Device.Time.NTPServer1", "old");
	gr_param(g, "Device.Time.Enable", "true");
	answer(g);
	assert_string_equal(F.st.op, "set");
	tamper("act", "{\"kind\":\"set\",\"items\":[{\"p\":5,\"path\":\"Device.Time.X\"}]}", 0);
	tamper("act", "{\"kind\":\"set\",\"items\":[{\"p\":0,\"path\":\"Device.\"}]}", 0);
	tamper("act", "{\"kind\":\"operate\",\"items\":[{\"p\":0,\"path\":\"x\",\"step\":9}]}", 0);
	tamper("act", "{\"kind\":\"jump\",\"items\":[]}", 0);
	tamper("act", "{\"kind\":\"add\",\"items\":[{\"p\":0,\"path\":\"x\"}]}", 0);
	/* not an object at all */
	struct prun_answer a = { .answered = 1, .result = NULL };
	struct prun_step nx;
	struct uspc_err err;
	cJSON *s = cJSON_CreateString("work");
	assert_int_equal(prun_next(F.p, F.n, &F.ctx, s, &a, &nx, &err), USPCTL_E_BAD_FIELD);
	assert_int_equal(prun_next(F.p, F.n, &F.ctx, NULL, &a, &nx, &err), USPCTL_E_BAD_FIELD);
	cJSON_Delete(s);
	/* the untouched work still goes on */
	set_all_ok();
	assert_string_equal(F.st.op, "get");
}

static void malformed_answers(void **state)
{
	(void)state;
	prof(NTP, 1);
	static const char *const bad[] = {
		"{}",
		"[]",
		"{\"type\":\"get_resp\",\"req_path_results\":5}",
		"{\"type\":\"get_resp\",\"req_path_results\":[{\"resolved_path_results\":7}]}",
		"{\"type\":\"set_resp\"}",
		"{\"type\":\"get_resp\",\"req_path_results\":[{\"requested_path\":"
		"\"Device.Time.NTPServer1\",\"resolved_path_results\":[{\"resolved_path\":"
		"\"Device.Time.\",\"result_params\":{\"NTPServer1\":5}}]}]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		begin();
		int guard = 0;
		while (!F.st.done && guard++ < 20)
			answer_text(bad[i]);
		assert_true(F.st.done);
		if (!F.st.interrupted)
			assert_int_not_equal(verdict(0)->outcome, PRUN_COMPLIANT);
	}
}

static void nothing_in_scope(void **state)
{
	(void)state;
	begin();
	assert_true(F.st.done);
	assert_int_equal(F.st.n_verdicts, 0);
	assert_null(F.st.op);
}

/* ---- notification attributes (TR-069 devices) ---- */

#define NOTIFY                                                                         \
	"{\"name\":\"notify\",\"selector\":{\"all\":true},\"priority\":10,\"steps\":[" \
	"{\"set\":{\"Device.Time.NTPServer1\":\"pool.ntp.org\"}},{\"notification\":{"  \
	"\"Device.Time.NTPServer1\":\"active\",\"Device.DeviceInfo.SoftwareVersion\":" \
	"\"passive\"}}]}"

/* The paths a get_attributes request in flight names. */
static int attr_reads(void)
{
	assert_string_equal(F.st.op, "get_attributes");
	return n_reads();
}

/* A get_attributes_resp: path/notification pairs, NULL-terminated. */
static void attrs_answer(const char *path, ...)
{
	cJSON *res = cJSON_Parse("{\"type\":\"get_attributes_resp\",\"req_path_results\":[]}");
	va_list ap;
	va_start(ap, path);
	for (const char *p = path; p; p = va_arg(ap, const char *)) {
		int n = va_arg(ap, int);
		cJSON *rr = cJSON_CreateObject(), *a = cJSON_CreateObject();
		cJSON_AddStringToObject(rr, "requested_path", p);
		cJSON_AddItemToArray(cJSON_AddArrayToObject(rr, "attributes"), a);
		cJSON_AddStringToObject(a, "path", p);
		cJSON_AddNumberToObject(a, "notification", n);
		cJSON_AddArrayToObject(a, "access_list");
		cJSON_AddItemToArray(cJSON_GetObjectItem(res, "req_path_results"), rr);
	}
	va_end(ap);
	answer(res);
}

/* The notification a set_attributes request in flight gives path, or -1. */
static int attr_set(const char *path)
{
	const cJSON *a;
	assert_string_equal(F.st.op, "set_attributes");
	cJSON_ArrayForEach(a, cJSON_GetObjectItem(F.st.request, "attributes"))
	{
		if (!strcmp(cJSON_GetObjectItem(a, "path")->valuestring, path))
			return cJSON_GetObjectItem(a, "notification")->valueint;
	}
	return -1;
}

static void attrs_set_ok(void)
{
	answer_text("{\"type\":\"set_attributes_resp\",\"attributes\":[]}");
}

static void notification_set_then_compliant(void **state)
{
	(void)state;
	prof(NOTIFY, 2);
	F.ctx.cwmp = 1;
	begin();
	/* the attributes are read first, then the values */
	assert_int_equal(attr_reads(), 2);
	/* the attribute phase's work, damaged, is refused */
	tamper("attrs_p", "5", 0);
	tamper("attrs_p", "\"0\"", 0);
	tamper("attrs", "[]", 0);
	tamper("attrs", "{\"Device.Time.NTPServer1\":\"7\"}", 0);
	tamper("attrs", "{\"Device.Time.NTPServer1\":2}", 0);
	{
		cJSON *w = cJSON_Duplicate(F.st.work, 1);
		cJSON_DeleteItemFromObject(w, "attrs");
		struct prun_answer a = { .answered = 1, .result = NULL };
		struct prun_step nx;
		struct uspc_err err;
		assert_int_equal(prun_next(F.p, F.n, &F.ctx, w, &a, &nx, &err), USPCTL_E_BAD_FIELD);
		cJSON_Delete(w);
	}
	assert_true(cJSON_IsString(
		cJSON_GetArrayItem(cJSON_GetObjectItem(F.st.request, "param_paths"), 0)));
	attrs_answer("Device.Time.NTPServer1", 0, "Device.DeviceInfo.SoftwareVersion", 1, NULL);
	assert_int_equal(n_reads(), 1);
	assert_true(reads("Device.Time.NTPServer1"));
	cJSON *g = gr();
	gr_param(g, "Device.Time.NTPServer1", "pool.ntp.org");
	answer(g);
	/* only the differing attribute is set */
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(F.st.request, "attributes")), 1);
	assert_int_equal(attr_set("Device.Time.NTPServer1"), 2);
	attrs_set_ok();
	/* the next round reads again and finds it done */
	assert_int_equal(attr_reads(), 2);
	attrs_answer("Device.Time.NTPServer1", 2, "Device.DeviceInfo.SoftwareVersion", 1, NULL);
	g = gr();
	gr_param(g, "Device.Time.NTPServer1", "pool.ntp.org");
	answer(g);
	assert_int_equal(verdict(0)->outcome, PRUN_COMPLIANT);
	assert_int_equal(n_changes(0), 1);
	assert_string_equal(field(change(0, 0), "path"), "Device.Time.NTPServer1");
	assert_string_equal(field(change(0, 0), "action"), "set_notification");
	assert_string_equal(field(change(0, 0), "old"), "0");
	assert_string_equal(field(change(0, 0), "new"), "2");
	assert_string_equal(field(change(0, 0), "result"), "ok");
	/* the value and the attribute have one owner each */
	assert_non_null(cJSON_GetObjectItem(F.st.owners, "Device.Time.NTPServer1"));
	assert_non_null(cJSON_GetObjectItem(F.st.owners, "Device.Time.NTPServer1#notification"));
	assert_non_null(
		cJSON_GetObjectItem(F.st.owners, "Device.DeviceInfo.SoftwareVersion#notification"));

	/* an attribute the device did not report is set */
	begin();
	attrs_answer("Device.Time.NTPServer1", 2, NULL);
	g = gr();
	gr_param(g, "Device.Time.NTPServer1", "pool.ntp.org");
	answer(g);
	assert_int_equal(attr_set("Device.DeviceInfo.SoftwareVersion"), 1);
	assert_int_equal(attr_set("Device.Time.NTPServer1"), -1);
}

/* A notification step applies to TR-069 devices, a subscribe step to USP
 * agents: one profile serves both. */
static void notification_and_subscribe_by_protocol(void **state)
{
	(void)state;
	prof("{\"name\":\"watch\",\"selector\":{\"all\":true},\"priority\":1,\"steps\":["
	     "{\"subscribe\":{\"id\":\"ops\",\"notif_type\":\"ValueChange\","
	     "\"reference_list\":\"Device.WiFi.SSID.*.SSID\"}},"
	     "{\"notification\":{\"Device.WiFi.SSID.1.SSID\":\"active\"}}]}",
	     1);
	/* a USP agent: the subscription row is read, no attribute */
	begin();
	assert_string_equal(F.st.op, "get");
	assert_int_equal(n_reads(), 1);
	assert_true(reads("Device.LocalAgent.Subscription.[ID==\"ops\"]."));
	cJSON *g = gr();
	gr_row(g, "Device.LocalAgent.Subscription.[ID==\"ops\"].",
	       "Device.LocalAgent.Subscription.4.", "ID=ops", "NotifType=ValueChange",
	       "ReferenceList=Device.WiFi.SSID.*.SSID", "Enable=true", "Persistent=true",
	       "NotifRetry=false", NULL);
	answer(g);
	assert_int_equal(verdict(0)->outcome, PRUN_COMPLIANT);
	assert_null(cJSON_GetObjectItem(F.st.owners, "Device.WiFi.SSID.1.SSID#notification"));

	/* a TR-069 device: the attribute, no subscription (and no Get at all:
	 * nothing else to read) */
	F.ctx.cwmp = 1;
	begin();
	assert_int_equal(attr_reads(), 1);
	attrs_answer("Device.WiFi.SSID.1.SSID", 2, NULL);
	assert_int_equal(F.gets, 0);
	assert_int_equal(verdict(0)->outcome, PRUN_COMPLIANT);
	assert_non_null(cJSON_GetObjectItem(F.st.owners, "Device.WiFi.SSID.1.SSID#notification"));
	assert_int_equal(cJSON_GetArraySize(F.st.owners), 1);
}

/* A CPE refuses a get_attributes or set_attributes as a whole: each
 * profile's attributes travel in their own request, so a refusal is the
 * profile's that named them. */
static void notification_errors_by_profile(void **state)
{
	(void)state;
	prof("{\"name\":\"a\",\"selector\":{\"all\":true},\"priority\":1,\"steps\":["
	     "{\"notification\":{\"Device.Nope.X\":\"active\"}}]}",
	     1);
	prof("{\"name\":\"b\",\"selector\":{\"all\":true},\"priority\":2,\"steps\":["
	     "{\"notification\":{\"Device.Time.NTPServer1\":\"active\"}}]}",
	     1);
	prof("{\"name\":\"c\",\"selector\":{\"all\":true},\"priority\":3,\"steps\":["
	     "{\"notification\":{\"Device.Time.Enable\":\"passive\"}}]}",
	     1);
	F.ctx.cwmp = 1;
	begin();
	assert_int_equal(attr_reads(), 1);
	assert_true(reads_attr("Device.Nope.X"));
	answer_text("{\"type\":\"error\",\"err_code\":9005,\"err_msg\":\"GetParameterAttributes: "
		    "CWMP fault 9005 (Invalid parameter name)\",\"param_errs\":[]}");
	assert_int_equal(attr_reads(), 1);
	assert_true(reads_attr("Device.Time.NTPServer1"));
	attrs_answer("Device.Time.NTPServer1", 0, NULL);
	assert_true(reads_attr("Device.Time.Enable"));
	attrs_answer("Device.Time.Enable", 0, NULL);
	/* b's attribute first, alone */
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(F.st.request, "attributes")), 1);
	assert_int_equal(attr_set("Device.Time.NTPServer1"), 2);
	answer_text("{\"type\":\"error\",\"err_code\":9009,\"err_msg\":\"SetParameterAttributes: "
		    "CWMP fault 9009 (Notification request rejected)\",\"param_errs\":[]}");
	/* the next round: c's read, then c's set; a and b no longer take part */
	assert_int_equal(attr_reads(), 1);
	assert_true(reads_attr("Device.Time.Enable"));
	attrs_answer("Device.Time.Enable", 0, NULL);
	assert_int_equal(attr_set("Device.Time.Enable"), 1);
	attrs_set_ok();
	attrs_answer("Device.Time.Enable", 1, NULL);
	assert_int_equal(verdict(0)->outcome, PRUN_NOT_APPLICABLE);
	assert_string_equal(verdict(0)->detail, "get_attributes: 9005 GetParameterAttributes: "
						"CWMP fault 9005 (Invalid parameter name)");
	assert_int_equal(verdict(1)->outcome, PRUN_NOT_APPLICABLE);
	assert_non_null(strstr(verdict(1)->detail, "Device.Time.NTPServer1: 9009"));
	assert_string_equal(field(change(1, 0), "result"), "not_applicable");
	assert_int_equal(verdict(2)->outcome, PRUN_COMPLIANT);

	/* a transient error: the run is interrupted, to be tried again */
	begin();
	answer_text("{\"type\":\"error\",\"err_code\":9002,\"err_msg\":\"Internal error\"}");
	assert_true(F.st.done);
	assert_true(F.st.interrupted);
}

static void notification_priority_and_audit(void **state)
{
	(void)state;
	/* low: sets the value and wants the attribute active; high: wants it
	 * off; an audit profile above both checks it is off */
	prof("{\"name\":\"low\",\"selector\":{\"all\":true},\"priority\":1,\"steps\":["
	     "{\"set\":{\"Device.Time.NTPServer1\":\"pool.ntp.org\"}},"
	     "{\"notification\":{\"Device.Time.NTPServer1\":\"active\"}}]}",
	     1);
	prof("{\"name\":\"high\",\"selector\":{\"all\":true},\"priority\":2,\"steps\":["
	     "{\"notification\":{\"Device.Time.NTPServer1\":0}}]}",
	     1);
	F.ctx.cwmp = 1;
	begin();
	attrs_answer("Device.Time.NTPServer1", 2, NULL);
	attrs_answer("Device.Time.NTPServer1", 2, NULL);
	cJSON *g = gr();
	gr_param(g, "Device.Time.NTPServer1", "pool.ntp.org");
	answer(g);
	assert_int_equal(attr_set("Device.Time.NTPServer1"), 0);
	attrs_set_ok();
	attrs_answer("Device.Time.NTPServer1", 0, NULL);
	attrs_answer("Device.Time.NTPServer1", 0, NULL);
	g = gr();
	gr_param(g, "Device.Time.NTPServer1", "pool.ntp.org");
	answer(g);
	/* the value stays low's: an attribute is no claim on the value */
	assert_int_equal(verdict(0)->outcome, PRUN_COMPLIANT);
	assert_int_equal(verdict(1)->outcome, PRUN_COMPLIANT);
	assert_string_equal(field(change(0, 0), "result"), "overridden");
	assert_string_equal(field(change(1, 0), "action"), "set_notification");
	const cJSON *o = cJSON_GetObjectItem(F.st.owners, "Device.Time.NTPServer1#notification");
	assert_string_equal(field(o, "profile"), "high");
	o = cJSON_GetObjectItem(F.st.owners, "Device.Time.NTPServer1");
	assert_string_equal(field(o, "profile"), "low");

	/* audit: a difference is drift, never an action */
	teardown(NULL);
	setup(NULL);
	prof("{\"name\":\"check\",\"selector\":{\"all\":true},\"priority\":1,\"mode\":\"audit\","
	     "\"steps\":[{\"notification\":{\"Device.Time.NTPServer1\":\"active\"}}]}",
	     1);
	F.ctx.cwmp = 1;
	begin();
	attrs_answer("Device.Time.NTPServer1", 1, NULL);
	assert_int_equal(verdict(0)->outcome, PRUN_DRIFTED);
	assert_string_equal(verdict(0)->detail, "Device.Time.NTPServer1#notification differs");
	assert_string_equal(field(change(0, 0), "action"), "would_set_notification");
	assert_string_equal(field(change(0, 0), "old"), "1");
	assert_string_equal(field(change(0, 0), "new"), "2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(compliant_first_read, setup, teardown),
		cmocka_unit_test_setup_teardown(differing_set_then_compliant, setup, teardown),
		cmocka_unit_test_setup_teardown(comparisons, setup, teardown),
		cmocka_unit_test_setup_teardown(priority_per_path, setup, teardown),
		cmocka_unit_test_setup_teardown(audit_never_acts, setup, teardown),
		cmocka_unit_test_setup_teardown(ensure_instance_add_then_set, setup, teardown),
		cmocka_unit_test_setup_teardown(ensure_absent_deletes, setup, teardown),
		cmocka_unit_test_setup_teardown(ensure_count_min_max, setup, teardown),
		cmocka_unit_test_setup_teardown(ensure_count_spares_wanted_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(not_applicable_one_profile, setup, teardown),
		cmocka_unit_test_setup_teardown(read_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(transient_set_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(no_answer_interrupts, setup, teardown),
		cmocka_unit_test_setup_teardown(contested_from_state, setup, teardown),
		cmocka_unit_test_setup_teardown(round_limit_contested_first, setup, teardown),
		cmocka_unit_test_setup_teardown(write_only, setup, teardown),
		cmocka_unit_test_setup_teardown(operate_once_per_version, setup, teardown),
		cmocka_unit_test_setup_teardown(operate_once_per_boot, setup, teardown),
		cmocka_unit_test_setup_teardown(set_before_operate, setup, teardown),
		cmocka_unit_test_setup_teardown(template_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(dry_run, setup, teardown),
		cmocka_unit_test_setup_teardown(stamp, setup, teardown),
		cmocka_unit_test_setup_teardown(tampered_work, setup, teardown),
		cmocka_unit_test_setup_teardown(malformed_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(nothing_in_scope, setup, teardown),
		cmocka_unit_test_setup_teardown(notification_set_then_compliant, setup, teardown),
		cmocka_unit_test_setup_teardown(notification_and_subscribe_by_protocol, setup,
						teardown),
		cmocka_unit_test_setup_teardown(notification_errors_by_profile, setup, teardown),
		cmocka_unit_test_setup_teardown(notification_priority_and_audit, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
