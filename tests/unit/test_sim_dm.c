/*
 * test_sim_dm.c — one simulated agent's instance tree: factory build,
 * seeded/derived values, moving values, path resolution (instances,
 * wildcards, search expressions, errors), Add/Delete numbering, the
 * subscription reference matcher, and topic patterns (%s = EID).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sim_dm.h"
#include "sim_subs.h"

static const char model_text[] =
	"object Device.\n"
	"param Device.Serial string ro default=${serial}\n"
	"param Device.Up unsignedInt ro dyn=uptime\n"
	"param Device.Bytes unsignedLong ro dyn=counter rate=10 default=1000\n"
	"param Device.Who string ro default=agent-${n}-${eid}\n"
	"param Device.Ctl string ro default=${controller_topic}\n"
	"table Device.T.{i}. access=add_delete count=3 keys=Alias max=5\n"
	"param Device.T.{i}.Alias string rw default=cpe-${i}\n"
	"param Device.T.{i}.Enable boolean rw default=true\n"
	"param Device.T.{i}.Level unsignedInt rw default=${rand:10:20}\n"
	"param Device.T.{i}.Mac string ro default=${mac}\n"
	"object Device.T.{i}.Stats.\n"
	"param Device.T.{i}.Stats.Errors unsignedInt ro default=${i}\n"
	"table Device.T.{i}.U.{i}. access=add_delete count=2\n"
	"param Device.T.{i}.U.{i}.Name string rw default=u${i2}.${i}\n"
	"command Device.T.{i}.Go() sync\n"
	"event Device.T.{i}.Went!\n"
	"table Device.F.{i}. access=read_only\n"
	"param Device.F.{i}.Label string rw default=none\n"
	"instance Device.F.7. Label=seven-${n}\n";

struct fx {
	struct sim_model *m;
	struct sim_dm dm;
	struct sim_dm_env env;
};

static void env_for(struct fx *f, uint32_t index)
{
	memset(&f->env, 0, sizeof(f->env));
	f->env.m = f->m;
	f->env.seed = 42;
	f->env.index = index;
	f->env.eid = "os::00D09E-T1";
	f->env.agent_topic = "usp/agent/x";
	f->env.controller_id = "self::c";
	f->env.controller_topic = "usp/controller/c";
	f->env.boot_time = 1000;
	f->env.now = 1000;
	f->env.value_rate = 1;
}

static int setup(void **state)
{
	static struct fx f;
	struct uspc_err err = { 0 };
	memset(&f, 0, sizeof(f));
	if (sim_model_parse(model_text, "dm.model", &f.m, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	env_for(&f, 1);
	if (sim_dm_init(&f.dm, f.m) < 0 || sim_dm_factory(&f.dm, &f.env) < 0)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	sim_dm_fini(&f->dm);
	sim_model_free(f->m);
	return 0;
}

static const char *get(struct fx *f, const char *path, char *buf, size_t cap)
{
	char obj_path[256];
	const char *dot = strrchr(path, '.');
	memcpy(obj_path, path, (size_t)(dot - path + 1));
	obj_path[dot - path + 1] = '\0';
	uint16_t obj;
	struct dm_inst *inst = sim_dm_find(&f->dm, f->m, obj_path, &obj);
	assert_non_null(inst);
	uint16_t p = sim_model_param(f->m, obj, dot + 1);
	assert_int_not_equal(p, SM_NONE);
	return sim_dm_get(&f->env, inst, p, buf, cap);
}

static void test_factory_and_templates(void **state)
{
	struct fx *f = *state;
	char b[256], b2[256];
	uint16_t t = sim_model_find_obj(f->m, "Device.T.{i}.");
	assert_int_equal(sim_dm_count(&f->dm.root, t), 3);
	assert_string_equal(get(f, "Device.T.2.Alias", b, sizeof(b)), "cpe-2");
	assert_string_equal(get(f, "Device.T.3.Stats.Errors", b, sizeof(b)), "3");
	assert_string_equal(get(f, "Device.T.2.U.1.Name", b, sizeof(b)), "u2.1");
	assert_string_equal(get(f, "Device.Who", b, sizeof(b)), "agent-1-os::00D09E-T1");
	assert_string_equal(get(f, "Device.F.7.Label", b, sizeof(b)), "seven-1");
	assert_string_equal(get(f, "Device.F.7.Label", b, sizeof(b)), "seven-1");
	unsigned long lvl = strtoul(get(f, "Device.T.1.Level", b, sizeof(b)), NULL, 10);
	assert_true(lvl >= 10 && lvl <= 20);
	/* same seed and index: same values; another index: different ones */
	snprintf(b2, sizeof(b2), "%s", get(f, "Device.Serial", b, sizeof(b)));
	assert_string_equal(get(f, "Device.Serial", b, sizeof(b)), b2);
	char mac1[64], mac2[64];
	snprintf(mac1, sizeof(mac1), "%s", get(f, "Device.T.1.Mac", b, sizeof(b)));
	snprintf(mac2, sizeof(mac2), "%s", get(f, "Device.T.2.Mac", b, sizeof(b)));
	assert_string_not_equal(mac1, mac2);
	env_for(f, 2);
	assert_string_not_equal(get(f, "Device.Serial", b, sizeof(b)), b2);
	assert_string_not_equal(get(f, "Device.T.1.Mac", b, sizeof(b)), mac1);
	env_for(f, 1);
}

/* --eid-pattern and the CWMP mode's patterns: one %[0][width]d|u for the
 * index (or none where allowed), %% for '%', nothing else. */
static void test_index_patterns(void **state)
{
	(void)state;
	char b[64];
	assert_true(sim_index_pattern_ok("os::00D09E-SIM%06d", 1));
	assert_true(sim_index_pattern_ok("cpe%u-100%%", 1));
	assert_true(sim_index_pattern_ok("secret", 0));
	assert_false(sim_index_pattern_ok("secret", 1));
	assert_false(sim_index_pattern_ok("%d-%d", 1));
	assert_false(sim_index_pattern_ok("%s", 0));
	assert_false(sim_index_pattern_ok("50%", 0));
	char big[SIM_INDEX_PATTERN_MAX + 1];
	memset(big, 'a', SIM_INDEX_PATTERN_MAX);
	big[SIM_INDEX_PATTERN_MAX] = '\0';
	assert_false(sim_index_pattern_ok(big, 0));
	sim_index_expand("os::00D09E-SIM%06d", 42, b, sizeof(b));
	assert_string_equal(b, "os::00D09E-SIM000042");
	sim_index_expand("cpe%u-100%%", 7, b, sizeof(b));
	assert_string_equal(b, "cpe7-100%");
	sim_index_expand("x%4d", 7, b, sizeof(b));
	assert_string_equal(b, "x   7");
	sim_index_expand("SIM%06d", 123456789, b, 8);
	assert_string_equal(b, "SIM1234");
}

/* --controller-topic / --topic-pattern: at most one %s (the EID), %% for
 * '%', no wildcard; ${controller_topic} shows the agent's own topic. */
static void test_topic_patterns(void **state)
{
	struct fx *f = *state;
	char b[SIM_TOPIC_MAX + 64];
	assert_true(sim_topic_pattern_ok("usp/controller/self::c/%s"));
	assert_true(sim_topic_pattern_ok("usp/controller/self::c"));
	assert_true(sim_topic_pattern_ok("a/100%%/%s/x"));
	assert_false(sim_topic_pattern_ok("usp/%s/%s"));
	assert_false(sim_topic_pattern_ok("usp/%d"));
	assert_false(sim_topic_pattern_ok("usp/50%"));
	assert_false(sim_topic_pattern_ok("usp/+/%s"));
	assert_false(sim_topic_pattern_ok("usp/#"));
	assert_false(sim_topic_pattern_ok(""));
	memset(b, 'a', SIM_TOPIC_MAX);
	b[SIM_TOPIC_MAX] = '\0';
	assert_false(sim_topic_pattern_ok(b));
	sim_topic_expand("usp/controller/c/%s", "os::1", b, sizeof(b));
	assert_string_equal(b, "usp/controller/c/os::1");
	sim_topic_expand("a/100%%/%s/x", "E", b, sizeof(b));
	assert_string_equal(b, "a/100%/E/x");
	sim_topic_expand("plain", "E", b, sizeof(b));
	assert_string_equal(b, "plain");
	sim_topic_expand("t/%s", "abcdef", b, 6);
	assert_string_equal(b, "t/abc");
	assert_string_equal(get(f, "Device.Ctl", b, sizeof(b)), "usp/controller/c");
	f->env.controller_topic = "usp/controller/c/%s";
	assert_string_equal(get(f, "Device.Ctl", b, sizeof(b)), "usp/controller/c/os::00D09E-T1");
	env_for(f, 1);
}

static void test_moving_values_and_store(void **state)
{
	struct fx *f = *state;
	char b[64];
	f->env.now = 1000 + 30;
	assert_string_equal(get(f, "Device.Up", b, sizeof(b)), "30");
	assert_string_equal(get(f, "Device.Bytes", b, sizeof(b)), "1300");
	f->env.now = 1000;
	struct dm_inst *t1 = sim_dm_find(&f->dm, f->m, "Device.T.1.", NULL);
	uint16_t alias = sim_model_param(f->m, t1->obj, "Alias");
	assert_false(sim_dm_is_stored(t1, alias));
	assert_int_equal(sim_dm_set(t1, alias, "mine"), 0);
	assert_true(sim_dm_is_stored(t1, alias));
	assert_string_equal(get(f, "Device.T.1.Alias", b, sizeof(b)), "mine");
	assert_int_equal(sim_dm_set(t1, alias, "cpe-1"), 0);
}

static int resolve(struct fx *f, const char *text, struct dm_matches *ms)
{
	struct usp_path p;
	struct uspc_err err = { 0 };
	char msg[256];
	memset(ms, 0, sizeof(*ms));
	assert_int_equal(usp_path_parse(text, &p, &err), 0);
	int rc = sim_dm_resolve(&f->dm, &f->env, &p, ms, msg, sizeof(msg));
	usp_path_fini(&p);
	return rc;
}

static void test_resolve(void **state)
{
	struct fx *f = *state;
	struct dm_matches ms;
	char path[256];
	assert_int_equal(resolve(f, "Device.T.*.Alias", &ms), 0);
	assert_int_equal(ms.n, 3);
	assert_int_equal(ms.v[0].kind, DM_M_PARAM);
	sim_dm_matches_fini(&ms);
	assert_int_equal(resolve(f, "Device.T.[Alias==\"cpe-2\"].", &ms), 0);
	assert_int_equal(ms.n, 1);
	assert_int_equal(ms.v[0].inst->num, 2);
	sim_dm_matches_fini(&ms);
	assert_int_equal(resolve(f, "Device.T.[Stats.Errors>1&&Enable==true].U.*.", &ms), 0);
	assert_int_equal(ms.n, 4); /* T.2 and T.3, two U each */
	sim_dm_obj_path(f->m, ms.v[3].inst, ms.v[3].obj, path, sizeof(path));
	assert_string_equal(path, "Device.T.3.U.2.");
	sim_dm_matches_fini(&ms);
	assert_int_equal(resolve(f, "Device.T.", &ms), 0);
	assert_int_equal(ms.n, 1);
	assert_int_equal(ms.v[0].kind, DM_M_TABLE);
	sim_dm_matches_fini(&ms);
	assert_int_equal(resolve(f, "Device.T.2.Go()", &ms), 0);
	assert_int_equal(ms.v[0].kind, DM_M_CMD);
	sim_dm_matches_fini(&ms);
	assert_int_equal(resolve(f, "Device.T.*.Went!", &ms), 0);
	assert_int_equal(ms.n, 3);
	sim_dm_matches_fini(&ms);
	assert_int_equal(resolve(f, "Device.T.[Alias==\"none\"].Alias", &ms), 0);
	assert_int_equal(ms.n, 0); /* a search matching nothing is success */
	sim_dm_matches_fini(&ms);
	assert_int_equal(resolve(f, "Device.T.9.", &ms), USP_ERR_OBJECT_DOES_NOT_EXIST);
	sim_dm_matches_fini(&ms);
	assert_int_equal(resolve(f, "Device.Nope.", &ms), USP_ERR_INVALID_PATH);
	sim_dm_matches_fini(&ms);
	assert_int_equal(resolve(f, "Device.T.Alias", &ms),
			 USP_ERR_INVALID_PATH); /* table needs an instance */
	sim_dm_matches_fini(&ms);
	assert_int_equal(resolve(f, "Device.T.[Color==\"red\"].", &ms), USP_ERR_INVALID_PATH);
	sim_dm_matches_fini(&ms);
	assert_int_equal(resolve(f, "Device.Serial.1.", &ms), USP_ERR_INVALID_PATH);
	sim_dm_matches_fini(&ms);
	assert_int_equal(resolve(f, "Device.T.1.Nope()", &ms), USP_ERR_INVALID_PATH);
	sim_dm_matches_fini(&ms);
}

static void test_add_delete_numbering(void **state)
{
	struct fx *f = *state;
	uint16_t t = sim_model_find_obj(f->m, "Device.T.{i}.");
	uint16_t u = sim_model_find_obj(f->m, "Device.T.{i}.U.{i}.");
	struct dm_inst *n4 = sim_dm_add(&f->dm, f->m, &f->dm.root, t, 0);
	assert_non_null(n4);
	assert_int_equal(n4->num, 4);
	assert_int_equal(sim_dm_count(n4, u), 2); /* factory sub-instances */
	sim_dm_delete(&f->dm, n4);
	struct dm_inst *n5 = sim_dm_add(&f->dm, f->m, &f->dm.root, t, 0);
	assert_int_equal(n5->num, 5); /* numbers are not reused */
	struct dm_inst *n6 = sim_dm_add(&f->dm, f->m, &f->dm.root, t, 0);
	assert_non_null(n6);
	assert_null(sim_dm_add(&f->dm, f->m, &f->dm.root, t, 0)); /* max=5 reached */
	sim_dm_delete(&f->dm, n6);
	assert_null(sim_dm_add(&f->dm, f->m, &f->dm.root, t, 2)); /* number taken */
	/* nested tables are numbered per parent */
	struct dm_inst *t1 = sim_dm_find(&f->dm, f->m, "Device.T.1.", NULL);
	struct dm_inst *u3 = sim_dm_add(&f->dm, f->m, t1, u, 0);
	assert_int_equal(u3->num, 3);
	assert_int_equal(sim_dm_next_num(&f->dm, f->m, n5, u), 3);
	char path[128];
	sim_dm_obj_path(f->m, u3, u, path, sizeof(path));
	assert_string_equal(path, "Device.T.1.U.3.");
	assert_ptr_equal(sim_dm_find(&f->dm, f->m, "Device.T.1.U.3", NULL), u3);
	assert_null(sim_dm_find(&f->dm, f->m, "Device.T.1.U.9.", NULL));
	assert_null(sim_dm_find(&f->dm, f->m, "Device.T.", NULL));
	size_t before = f->dm.n_insts;
	sim_dm_delete(&f->dm, n5); /* takes its two U rows along */
	assert_int_equal(f->dm.n_insts, before - 3);
}

#define REF(r, p) sim_subs_ref_match(r, p, NULL, NULL)

static void test_ref_match(void **state)
{
	(void)state;
	assert_true(REF("Device.Boot!", "Device.Boot!"));
	assert_false(REF("Device.Boot!", "Device.Booted!"));
	assert_true(REF("Device.LocalAgent.", "Device.LocalAgent.Periodic!"));
	assert_true(REF("Device.WiFi.SSID.*.SSID", "Device.WiFi.SSID.12.SSID"));
	assert_false(REF("Device.WiFi.SSID.*.SSID", "Device.WiFi.SSID.12.Name"));
	assert_false(REF("Device.WiFi.SSID.*.SSID", "Device.WiFi.SSID.x.SSID"));
	assert_true(REF("Device.WiFi.SSID.{i}.", "Device.WiFi.SSID.3."));
	assert_true(REF("Device.Hosts.Host.", "Device.Hosts.Host.3."));
	assert_false(REF("Device.Hosts.Host.3.", "Device.Hosts.Host.31."));
	assert_false(REF("Device.WiFi.SSID.1.SSID", "Device.WiFi.SSID.1.SSIDx"));
	assert_false(REF("Device.WiFi.SSID.1.SSID", "Device.WiFi.SSID.1."));
	assert_false(REF("Device.IP.", "Device.IPX.Foo"));
	/* without an evaluator a search expression is any instance number */
	assert_true(REF("Device.WiFi.SSID.[Enable==true].SSID", "Device.WiFi.SSID.4.SSID"));
	assert_false(REF("Device.WiFi.SSID.[Enable==true].SSID", "Device.WiFi.SSID.x.SSID"));
	assert_false(REF("Device.WiFi.SSID.[Enable==true.SSID", "Device.WiFi.SSID.4.SSID"));
}

/* Records every call; says yes for the instance paths listed in yes. */
struct expr_rec {
	int calls;
	char inst[4][64];
	char expr[4][64];
	const char *yes[4];
};

static int fake_expr(void *ctx, const char *inst_path, size_t inst_len, const char *expr,
		     size_t expr_len)
{
	struct expr_rec *r = ctx;
	if (r->calls < 4) {
		snprintf(r->inst[r->calls], sizeof(r->inst[0]), "%.*s", (int)inst_len, inst_path);
		snprintf(r->expr[r->calls], sizeof(r->expr[0]), "%.*s", (int)expr_len, expr);
	}
	const char *got = r->inst[r->calls < 4 ? r->calls : 3];
	r->calls++;
	for (int i = 0; i < 4 && r->yes[i]; i++)
		if (!strcmp(r->yes[i], got))
			return 1;
	return 0;
}

static void test_ref_match_expr(void **state)
{
	struct expr_rec r;
	(void)state;
	/* the evaluator gets the concrete instance path and the bracket text,
	 * a ']' inside a quoted value included */
	memset(&r, 0, sizeof(r));
	r.yes[0] = "Device.WiFi.SSID.2.";
	assert_true(sim_subs_ref_match("Device.WiFi.SSID.[Name==\"a]b\"].SSID",
				       "Device.WiFi.SSID.2.SSID", fake_expr, &r));
	assert_int_equal(r.calls, 1);
	assert_string_equal(r.inst[0], "Device.WiFi.SSID.2.");
	assert_string_equal(r.expr[0], "[Name==\"a]b\"]");
	/* the evaluator says no: no match */
	memset(&r, 0, sizeof(r));
	r.yes[0] = "Device.WiFi.SSID.2.";
	assert_false(sim_subs_ref_match("Device.WiFi.SSID.[Name==\"x\"].SSID",
					"Device.WiFi.SSID.3.SSID", fake_expr, &r));
	assert_int_equal(r.calls, 1);
	/* nested selectors: evaluated outer first, each on its own instance */
	memset(&r, 0, sizeof(r));
	r.yes[0] = "Device.T.4.";
	r.yes[1] = "Device.T.4.U.7.";
	assert_true(sim_subs_ref_match("Device.T.[A==1].U.[B==2].", "Device.T.4.U.7.Name",
				       fake_expr, &r));
	assert_int_equal(r.calls, 2);
	assert_string_equal(r.inst[0], "Device.T.4.");
	assert_string_equal(r.inst[1], "Device.T.4.U.7.");
	assert_string_equal(r.expr[1], "[B==2]");
	/* an object path ending in the instance itself (ObjectDeletion) */
	memset(&r, 0, sizeof(r));
	r.yes[0] = "Device.Hosts.Host.5.";
	assert_true(sim_subs_ref_match("Device.Hosts.Host.[Active==true].", "Device.Hosts.Host.5.",
				       fake_expr, &r));
	assert_false(sim_subs_ref_match("Device.Hosts.Host.[Active==true].", "Device.Hosts.Host.6.",
					fake_expr, &r));
	/* a non-numeric segment never reaches the evaluator */
	memset(&r, 0, sizeof(r));
	assert_false(sim_subs_ref_match("Device.T.[A==1].", "Device.T.x.", fake_expr, &r));
	assert_int_equal(r.calls, 0);
}

/* The evaluator behind the agent's matcher: a parsed selector on an instance's values. */
static void test_inst_matches(void **state)
{
	struct fx *f = *state;
	struct usp_path p;
	struct dm_inst *t1 = sim_dm_find(&f->dm, f->m, "Device.T.1.", NULL);
	struct dm_inst *t2 = sim_dm_find(&f->dm, f->m, "Device.T.2.", NULL);
	assert_non_null(t1);
	assert_non_null(t2);
	assert_int_equal(usp_path_parse("Device.T.[Alias==\"cpe-2\"&&Stats.Errors>=2].", &p, NULL),
			 0);
	assert_true(sim_dm_inst_matches(&f->env, t2, &p.segs[2]));
	assert_false(sim_dm_inst_matches(&f->env, t1, &p.segs[2]));
	usp_path_fini(&p);
	/* values are read live: change Alias and the answer follows */
	assert_int_equal(sim_dm_set(t1, sim_model_rel_param(f->m, t1->obj, "Alias", NULL), "cpe-2"),
			 0);
	assert_int_equal(usp_path_parse("Device.T.[Alias==\"cpe-2\"].", &p, NULL), 0);
	assert_true(sim_dm_inst_matches(&f->env, t1, &p.segs[2]));
	usp_path_fini(&p);
	assert_int_equal(sim_dm_set(t1, sim_model_rel_param(f->m, t1->obj, "Alias", NULL), "cpe-1"),
			 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_factory_and_templates),
		cmocka_unit_test(test_index_patterns),
		cmocka_unit_test(test_topic_patterns),
		cmocka_unit_test(test_moving_values_and_store),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_inst_matches),
		cmocka_unit_test(test_add_delete_numbering),
		cmocka_unit_test(test_ref_match),
		cmocka_unit_test(test_ref_match_expr),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
