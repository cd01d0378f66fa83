/*
 * test_api_route.c — uspc-api's pure parts: the route table and matcher
 * (404, 405 with Allow, path parameters decoded after the split), the
 * query-string parser, the mapping of a request to a uspctl command line,
 * the replies built from result lines, and the console's path checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "api_map.h"
#include "api_reply.h"
#include "api_route.h"
#include "api_static.h"

static void routes_match_with_decoded_parameters(void **state)
{
	(void)state;
	struct api_match m;
	assert_int_equal(api_route_match(API_GET, "/api/v1/agents/os%3A%3A00D09E-SIM000001", &m),
			 0);
	assert_string_equal(m.route->pattern, "/api/v1/agents/{eid}");
	assert_string_equal(m.params[0], "os::00D09E-SIM000001");
	/* a '/' inside an EID stays in its segment */
	assert_int_equal(api_route_match(API_GET, "/api/v1/agents/a%2Fb/tasks", &m), 0);
	assert_string_equal(m.route->pattern, "/api/v1/agents/{eid}/tasks");
	assert_string_equal(m.params[0], "a/b");
	/* literal before parameter */
	assert_int_equal(api_route_match(API_POST, "/api/v1/campaigns/plan", &m), 0);
	assert_string_equal(m.route->op, "campaign_plan");
	assert_int_equal(api_route_match(API_POST, "/api/v1/campaigns/7/pause", &m), 0);
	assert_string_equal(m.params[0], "7");
	assert_string_equal(m.params[1], "pause");
	/* HEAD is GET */
	assert_int_equal(api_route_match(API_HEAD, "/api/v1/fleet", &m), 0);
	assert_string_equal(m.route->op, "fleet_summary");
}

static void unknown_paths_and_methods(void **state)
{
	(void)state;
	struct api_match m;
	assert_int_equal(api_route_match(API_GET, "/api/v1/nothing", &m), 404);
	assert_null(m.route);
	assert_int_equal(api_route_match(API_GET, "/api/v1/agents/", &m), 404); /* empty eid */
	assert_int_equal(api_route_match(API_GET, "/api/v1/agents/%zz", &m), 404);
	assert_int_equal(api_route_match(API_GET, "/api/v1/agents/a%00b", &m), 404);
	assert_int_equal(api_route_match(API_GET, "/api/v1/agents/a%4", &m), 404);
	assert_int_equal(api_route_match(API_PUT, "/api/v1/tasks", &m), 405);
	assert_string_equal(m.allow, "POST, GET, HEAD");
	assert_int_equal(api_route_match(API_METHOD_OTHER, "/api/v1/profiles/x", &m), 405);
	assert_non_null(strstr(m.allow, "PUT"));
	assert_non_null(strstr(m.allow, "DELETE"));
	/* the console: GET only */
	assert_int_equal(api_route_match(API_GET, "/index.html", &m), 0);
	assert_int_equal(m.route->kind, API_K_STATIC);
	assert_int_equal(api_route_match(API_POST, "/index.html", &m), 405);
	assert_int_equal(api_route_match(API_GET, "relative", &m), 404);
}

static void every_route_has_a_role_and_an_answer(void **state)
{
	(void)state;
	for (size_t i = 0; i < api_route_count; i++) {
		const struct api_route *r = &api_routes[i];
		if (r->kind == API_K_ONE || r->kind == API_K_LIST)
			assert_true(r->op || strstr(r->pattern, "{action}"));
		if (strncmp(r->pattern, "/api/", 5) == 0)
			assert_true(r->role >= API_ROLE_VIEWER);
		if (r->method != API_GET)
			assert_true(r->role >= API_ROLE_OPERATOR);
	}
	/* the documented roles of a few */
	struct api_match m;
	api_route_match(API_PUT, "/api/v1/profiles/p", &m);
	assert_int_equal(m.route->role, API_ROLE_ADMIN);
	api_route_match(API_POST, "/api/v1/tokens", &m);
	assert_int_equal(m.route->role, API_ROLE_ADMIN);
	api_route_match(API_POST, "/api/v1/tasks", &m);
	assert_int_equal(m.route->role, API_ROLE_OPERATOR);
	api_route_match(API_GET, "/healthz", &m);
	assert_int_equal(m.route->role, API_ROLE_NONE);
}

static void query_strings(void **state)
{
	(void)state;
	struct api_query q;
	char buf[256], msg[128];
	assert_int_equal(api_query_parse("tag=a%20b&online=true&x&model=M+1", buf, sizeof(buf), &q,
					 msg, sizeof(msg)),
			 0);
	assert_int_equal(q.n, 4);
	assert_string_equal(q.name[0], "tag");
	assert_string_equal(q.value[0], "a b");
	assert_string_equal(q.value[2], "");
	assert_string_equal(q.value[3], "M 1");
	assert_int_equal(api_query_parse("a=%zz", buf, sizeof(buf), &q, msg, sizeof(msg)), -1);
	assert_int_equal(api_query_parse("=v", buf, sizeof(buf), &q, msg, sizeof(msg)), -1);
	assert_int_equal(api_query_parse("a=%00", buf, sizeof(buf), &q, msg, sizeof(msg)), -1);
	char small[8];
	assert_int_equal(
		api_query_parse("abcdef=ghijkl", small, sizeof(small), &q, msg, sizeof(msg)), -1);
}

/* Map method path?query with body; returns the status, *cmd the text. */
static int map(enum api_method meth, const char *path, const char *query, const char *body,
	       char **cmd, char *code)
{
	struct api_match m;
	struct api_query q;
	struct api_mapped out;
	char buf[1024], msg[128];
	*cmd = NULL;
	if (api_route_match(meth, path, &m))
		return m.status;
	if (api_query_parse(query, buf, sizeof(buf), &q, msg, sizeof(msg)) < 0)
		return 400;
	int st = api_map_request(&m, &q, body, body ? strlen(body) : 0, &out);
	if (code)
		strcpy(code, st ? out.code : "");
	if (!st)
		*cmd = cJSON_PrintUnformatted(out.cmd);
	api_mapped_fini(&out);
	return st;
}

static void requests_become_uspctl_lines(void **state)
{
	(void)state;
	char *c, code[32];
	assert_int_equal(map(API_GET, "/api/v1/agents", "tag=beta&online=false&after=os%3A%3Ax",
			     NULL, &c, code),
			 0);
	assert_string_equal(c,
			    "{\"id\":\"api\",\"op\":\"list_agents\",\"targets\":{\"tag\":\"beta\","
			    "\"online\":false},\"limit\":100,\"after\":\"os::x\"}");
	free(c);
	assert_int_equal(map(API_GET, "/api/v1/agents", NULL, NULL, &c, code), 0);
	assert_non_null(strstr(c, "\"targets\":{\"all\":true}"));
	free(c);
	assert_int_equal(map(API_GET, "/api/v1/agents/E/snapshot", "path=Device.A.&path=Device.B.",
			     NULL, &c, code),
			 0);
	assert_non_null(strstr(c, "\"paths\":[\"Device.A.\",\"Device.B.\"]"));
	free(c);
	/* the task filter "op" is uspctl's task_op ("op" names the op) */
	assert_int_equal(map(API_GET, "/api/v1/tasks", "op=set&state=done", NULL, &c, code), 0);
	assert_non_null(strstr(c, "\"op\":\"task_list\""));
	assert_non_null(strstr(c, "\"task_op\":\"set\""));
	free(c);
	assert_int_equal(
		map(API_POST, "/api/v1/agents/E/tags", NULL, "{\"tags\":[\"beta\"]}", &c, code), 0);
	assert_string_equal(
		c, "{\"tags\":[\"beta\"],\"id\":\"api\",\"op\":\"tag\",\"targets\":\"E\"}");
	free(c);
	assert_int_equal(map(API_DELETE, "/api/v1/agents/E/tags/beta", NULL, NULL, &c, code), 0);
	assert_string_equal(
		c, "{\"id\":\"api\",\"op\":\"untag\",\"targets\":\"E\",\"tags\":\"beta\"}");
	free(c);
	assert_int_equal(map(API_POST, "/api/v1/campaigns/gw-2/retry_failed", NULL, NULL, &c, code),
			 0);
	assert_string_equal(
		c, "{\"id\":\"api\",\"op\":\"campaign_retry_failed\",\"campaign\":\"gw-2\"}");
	free(c);
	assert_int_equal(map(API_POST, "/api/v1/campaigns/12/pause", NULL, NULL, &c, code), 0);
	assert_string_equal(c, "{\"id\":\"api\",\"op\":\"campaign_pause\",\"campaign\":12}");
	free(c);
	assert_int_equal(map(API_DELETE, "/api/v1/tokens/ci", NULL, NULL, &c, code), 0);
	assert_string_equal(c, "{\"id\":\"api\",\"op\":\"token_revoke\",\"name\":\"ci\"}");
	free(c);
	assert_int_equal(map(API_PUT, "/api/v1/profiles/home", NULL, "{\"priority\":5}", &c, code),
			 0);
	assert_string_equal(
		c, "{\"priority\":5,\"id\":\"api\",\"op\":\"profile_put\",\"name\":\"home\"}");
	free(c);
	/* a submission: wait seconds become uspctl's wait and timeout */
	assert_int_equal(map(API_POST, "/api/v1/tasks", NULL,
			     "{\"op\":\"get\",\"targets\":\"E\",\"paths\":\"Device.\",\"wait\":10}",
			     &c, code),
			 0);
	assert_non_null(strstr(c, "\"wait\":true,\"timeout\":10"));
	free(c);
	assert_int_equal(map(API_POST, "/api/v1/tasks", NULL, "{\"op\":\"get\",\"targets\":\"E\"}",
			     &c, code),
			 0);
	assert_non_null(strstr(c, "\"wait\":false"));
	free(c);
}

static void bad_requests_are_refused(void **state)
{
	(void)state;
	char *c, code[32];
	assert_int_equal(map(API_GET, "/api/v1/agents", "limit=0", NULL, &c, code), 400);
	assert_string_equal(code, "bad_query");
	assert_int_equal(map(API_GET, "/api/v1/agents", "limit=1001", NULL, &c, code), 400);
	assert_int_equal(map(API_GET, "/api/v1/agents", "limit=1.5", NULL, &c, code), 400);
	assert_int_equal(map(API_GET, "/api/v1/agents", "online=yes", NULL, &c, code), 400);
	assert_int_equal(map(API_GET, "/api/v1/agents", "bogus=1", NULL, &c, code), 400);
	assert_int_equal(map(API_GET, "/api/v1/agents", "tag=a&tag=b", NULL, &c, code), 400);
	assert_int_equal(map(API_GET, "/api/v1/notifications", "since=31622401", NULL, &c, code),
			 400);
	assert_int_equal(map(API_GET, "/api/v1/tasks/12x", NULL, NULL, &c, code), 404);
	assert_string_equal(code, "unknown_task");
	assert_int_equal(map(API_GET, "/api/v1/tasks/1", "wait=121", NULL, &c, code), 400);
	assert_int_equal(map(API_POST, "/api/v1/campaigns/1/explode", NULL, NULL, &c, code), 404);
	assert_int_equal(map(API_GET, "/api/v1/fleet", NULL, "{}", &c, code),
			 400); /* no body here */
	assert_int_equal(map(API_POST, "/api/v1/tasks", NULL, "{\"op\":", &c, code), 400);
	assert_string_equal(code, "malformed_json");
	assert_int_equal(map(API_POST, "/api/v1/tasks", NULL, "[1]", &c, code), 400);
	assert_int_equal(map(API_POST, "/api/v1/tasks", NULL, "{} x", &c, code), 400);
	assert_int_equal(map(API_POST, "/api/v1/tasks", NULL, "{\"op\":\"tag\",\"targets\":\"E\"}",
			     &c, code),
			 400);
	assert_string_equal(code, "unknown_op");
	assert_int_equal(map(API_POST, "/api/v1/tasks", NULL,
			     "{\"op\":\"get\",\"targets\":\"E\",\"wait\":121}", &c, code),
			 400);
	assert_int_equal(map(API_POST, "/api/v1/tasks", NULL,
			     "{\"op\":\"get\",\"targets\":\"E\",\"wait\":\"5\"}", &c, code),
			 400);
	assert_int_equal(map(API_POST, "/api/v1/tasks", NULL,
			     "{\"op\":\"get\",\"targets\":\"E\",\"timeout\":5}", &c, code),
			 400);
	assert_int_equal(
		map(API_POST, "/api/v1/tasks", NULL, "{\"id\":\"x\",\"op\":\"get\"}", &c, code),
		400);
	assert_int_equal(
		map(API_POST, "/api/v1/campaigns", NULL, "{\"op\":\"campaign_abort\"}", &c, code),
		400);
	assert_int_equal(map(API_PUT, "/api/v1/profiles/a", NULL, "{\"name\":\"b\"}", &c, code),
			 400);
	assert_int_equal(
		map(API_POST, "/api/v1/agents/E/tags", NULL, "{\"tags\":\"x\",\"y\":1}", &c, code),
		400);
	assert_int_equal(map(API_GET, "/api/v1/profiles/p/history", NULL, NULL, &c, code), 400);
}

static cJSON *lines_of(const char *text)
{
	cJSON *a = cJSON_Parse(text);
	assert_non_null(a);
	return a;
}

static void replies(void **state)
{
	(void)state;
	struct api_match m;
	char *body;
	api_route_match(API_GET, "/api/v1/agents", &m);
	cJSON *l = lines_of("[{\"agent\":\"a\",\"ok\":true,\"result\":{\"eid\":\"a\"}},"
			    "{\"agent\":\"b\",\"ok\":true,\"result\":{\"eid\":\"b\"}}]");
	assert_int_equal(api_reply_from_lines(m.route, l, 2, 0, &body), 200);
	assert_string_equal(body, "{\"items\":[{\"eid\":\"a\"},{\"eid\":\"b\"}],\"next\":\"b\"}");
	free(body);
	/* a short page is the last one */
	assert_int_equal(api_reply_from_lines(m.route, l, 3, 0, &body), 200);
	assert_non_null(strstr(body, "\"next\":null"));
	free(body);
	cJSON_Delete(l);
	/* nothing matched: an empty page, not an error */
	l = lines_of(
		"[{\"line\":1,\"ok\":false,\"error\":{\"code\":\"no_targets\",\"message\":\"x\"}}]");
	assert_int_equal(api_reply_from_lines(m.route, l, 3, 0, &body), 200);
	assert_string_equal(body, "{\"items\":[],\"next\":null}");
	free(body);
	cJSON_Delete(l);
	/* one object, an error's status */
	api_route_match(API_GET, "/api/v1/agents/x", &m);
	l = lines_of("[{\"agent\":\"x\",\"ok\":false,\"error\":{\"code\":\"unknown_agent\","
		     "\"message\":\"m\"}}]");
	assert_int_equal(api_reply_from_lines(m.route, l, 0, 0, &body), 404);
	assert_non_null(strstr(body, "\"code\":\"unknown_agent\""));
	free(body);
	cJSON_Delete(l);
	/* numeric cursors come back as text */
	api_route_match(API_GET, "/api/v1/tasks", &m);
	l = lines_of("[{\"agent\":\"a\",\"ok\":true,\"task\":9,\"result\":{\"id\":9}}]");
	assert_int_equal(api_reply_from_lines(m.route, l, 1, 0, &body), 200);
	assert_non_null(strstr(body, "\"next\":\"9\""));
	free(body);
	cJSON_Delete(l);
	/* submissions: per-agent failures are lines, a line error is the status */
	api_route_match(API_POST, "/api/v1/tasks", &m);
	l = lines_of("[{\"agent\":\"a\",\"ok\":false,\"task\":3,\"error\":{\"code\":\"timeout\","
		     "\"message\":\"m\"}}]");
	assert_int_equal(api_reply_from_lines(m.route, l, 0, 1, &body), 200);
	free(body);
	assert_int_equal(api_reply_from_lines(m.route, l, 0, 0, &body), 202);
	free(body);
	cJSON_Delete(l);
	l = lines_of(
		"[{\"line\":1,\"ok\":false,\"error\":{\"code\":\"bad_field\",\"message\":\"m\"}}]");
	assert_int_equal(api_reply_from_lines(m.route, l, 0, 1, &body), 400);
	free(body);
	cJSON_Delete(l);
	assert_int_equal(api_status_of_code("campaign_conflict"), 409);
	assert_int_equal(api_status_of_code("nonsense"), 500);
}

static void console_paths(void **state)
{
	(void)state;
	char out[64];
	assert_int_equal(api_static_path("/", out, sizeof(out)), 0);
	assert_string_equal(out, "index.html");
	assert_int_equal(api_static_path("/js/app.js", out, sizeof(out)), 0);
	assert_string_equal(out, "js/app.js");
	assert_int_equal(api_static_path("/../etc/passwd", out, sizeof(out)), -1);
	assert_int_equal(api_static_path("/js/../../x", out, sizeof(out)), -1);
	assert_int_equal(api_static_path("/.git/config", out, sizeof(out)), -1);
	assert_int_equal(api_static_path("/a//b", out, sizeof(out)), -1);
	assert_int_equal(api_static_path("/a\\b", out, sizeof(out)), -1);
	assert_int_equal(api_static_path("/dir/", out, sizeof(out)), -1);
	assert_int_equal(api_static_path("/a b", out, sizeof(out)), -1);
	assert_string_equal(api_static_type("app.js"), "text/javascript; charset=utf-8");
	assert_string_equal(api_static_type("x.bin"), "application/octet-stream");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(routes_match_with_decoded_parameters),
		cmocka_unit_test(unknown_paths_and_methods),
		cmocka_unit_test(every_route_has_a_role_and_an_answer),
		cmocka_unit_test(query_strings),
		cmocka_unit_test(requests_become_uspctl_lines),
		cmocka_unit_test(bad_requests_are_refused),
		cmocka_unit_test(replies),
		cmocka_unit_test(console_paths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
