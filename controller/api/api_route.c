/*
 * api_route.c — uspc-api's route table and matcher (see api_route.h).
 */
#include "api_route.h"

#include <string.h>

#define SEL "tag model manufacturer software_version online eid"

/* Order matters only among patterns of equal shape: the first match wins,
 * so literal segments ("plan") come before parameters ("{campaign}"). */
const struct api_route api_routes[] = {
	{ API_GET, "/healthz", API_K_HEALTHZ, API_ROLE_NONE, NULL, NULL, "", 0 },
	{ API_GET, "/metrics", API_K_METRICS, API_ROLE_VIEWER, NULL, NULL, "", 0 },
	{ API_GET, "/api/v1/openapi.json", API_K_OPENAPI, API_ROLE_VIEWER, NULL, NULL, "", 0 },
	{ API_GET, "/api/v1/whoami", API_K_WHOAMI, API_ROLE_VIEWER, NULL, NULL, "", 0 },
	{ API_GET, "/api/v1/fleet", API_K_ONE, API_ROLE_VIEWER, "fleet_summary", NULL, "", 0 },
	{ API_GET, "/api/v1/versions", API_K_LIST, API_ROLE_VIEWER, "fleet_versions", NULL, SEL,
	  0 },
	{ API_GET, "/api/v1/agents", API_K_LIST, API_ROLE_VIEWER, "list_agents", "eid",
	  SEL " limit after", 0 },
	{ API_GET, "/api/v1/agents/{eid}", API_K_ONE, API_ROLE_VIEWER, "show_agent", NULL, "", 0 },
	{ API_GET, "/api/v1/agents/{eid}/snapshot", API_K_ONE, API_ROLE_VIEWER, "snapshot", NULL,
	  "path", 0 },
	{ API_GET, "/api/v1/agents/{eid}/notifications", API_K_LIST, API_ROLE_VIEWER,
	  "notifications", "id", "kind path since until limit before", 0 },
	{ API_GET, "/api/v1/agents/{eid}/tasks", API_K_LIST, API_ROLE_VIEWER, "task_list", "id",
	  "state op limit before", 0 },
	{ API_GET, "/api/v1/agents/{eid}/operation-results", API_K_LIST, API_ROLE_VIEWER,
	  "operation_results", NULL, "command_key limit", 0 },
	{ API_GET, "/api/v1/agents/{eid}/profile-paths", API_K_LIST, API_ROLE_VIEWER,
	  "profile_paths", NULL, "path", 0 },
	{ API_POST, "/api/v1/agents/{eid}/tags", API_K_ONE, API_ROLE_OPERATOR, "tag", NULL, "", 1 },
	{ API_DELETE, "/api/v1/agents/{eid}/tags/{tag}", API_K_ONE, API_ROLE_OPERATOR, "untag",
	  NULL, "", 0 },
	{ API_GET, "/api/v1/tags", API_K_LIST, API_ROLE_VIEWER, "tag_list", NULL, "", 0 },
	{ API_POST, "/api/v1/tasks", API_K_SUBMIT, API_ROLE_OPERATOR, NULL, NULL, "", 1 },
	{ API_GET, "/api/v1/tasks", API_K_LIST, API_ROLE_VIEWER, "task_list", "id",
	  "agent state op batch limit before", 0 },
	{ API_GET, "/api/v1/tasks/{id}", API_K_TASK, API_ROLE_VIEWER, "task_status", NULL, "wait",
	  0 },
	{ API_POST, "/api/v1/tasks/{id}/cancel", API_K_ONE, API_ROLE_OPERATOR, "cancel", NULL, "",
	  0 },
	{ API_GET, "/api/v1/notifications", API_K_LIST, API_ROLE_VIEWER, "notifications", "id",
	  "agent kind path since until limit before", 0 },
	{ API_GET, "/api/v1/operation-results", API_K_LIST, API_ROLE_VIEWER, "operation_results",
	  NULL, "agent command_key limit", 0 },
	{ API_GET, "/api/v1/rejections", API_K_LIST, API_ROLE_VIEWER, "rejections", NULL,
	  "sender reason since limit", 0 },
	{ API_GET, "/api/v1/campaigns", API_K_LIST, API_ROLE_VIEWER, "campaign_list", NULL, "", 0 },
	{ API_POST, "/api/v1/campaigns", API_K_ONE, API_ROLE_OPERATOR, "campaign_create", NULL, "",
	  1 },
	{ API_POST, "/api/v1/campaigns/plan", API_K_ONE, API_ROLE_OPERATOR, "campaign_plan", NULL,
	  "", 1 },
	{ API_GET, "/api/v1/campaigns/{campaign}", API_K_ONE, API_ROLE_VIEWER, "campaign_status",
	  NULL, "", 0 },
	{ API_GET, "/api/v1/campaigns/{campaign}/devices", API_K_LIST, API_ROLE_VIEWER,
	  "campaign_devices", NULL, "state wave limit", 0 },
	{ API_POST, "/api/v1/campaigns/{campaign}/{action}", API_K_ONE, API_ROLE_OPERATOR, NULL,
	  NULL, "", 0 },
	{ API_GET, "/api/v1/profiles", API_K_LIST, API_ROLE_VIEWER, "profile_list", NULL, "", 0 },
	{ API_PUT, "/api/v1/profiles/{name}", API_K_ONE, API_ROLE_ADMIN, "profile_put", NULL, "",
	  1 },
	{ API_GET, "/api/v1/profiles/{name}", API_K_ONE, API_ROLE_VIEWER, "profile_status", NULL,
	  "", 0 },
	{ API_DELETE, "/api/v1/profiles/{name}", API_K_ONE, API_ROLE_ADMIN, "profile_delete", NULL,
	  "", 0 },
	{ API_POST, "/api/v1/profiles/{name}/plan", API_K_ONE, API_ROLE_OPERATOR, "profile_plan",
	  NULL, "", 1 },
	{ API_POST, "/api/v1/profiles/{name}/reconcile", API_K_ONE, API_ROLE_ADMIN,
	  "profile_reconcile", NULL, "", 1 },
	{ API_GET, "/api/v1/profiles/{name}/history", API_K_LIST, API_ROLE_VIEWER,
	  "profile_history", NULL, "agent limit", 0 },
	{ API_GET, "/api/v1/tokens", API_K_LIST, API_ROLE_ADMIN, "token_list", NULL, "", 0 },
	{ API_POST, "/api/v1/tokens", API_K_ONE, API_ROLE_ADMIN, "token_create", NULL, "", 1 },
	{ API_DELETE, "/api/v1/tokens/{id}", API_K_ONE, API_ROLE_ADMIN, "token_revoke", NULL, "",
	  0 },
	{ API_GET, "/api/v1/events", API_K_EVENTS, API_ROLE_VIEWER, NULL, NULL, "types agent", 0 },
};
const size_t api_route_count = sizeof(api_routes) / sizeof(api_routes[0]);

/* The console: any other GET. */
static const struct api_route static_route = { API_GET, "/{file}", API_K_STATIC, API_ROLE_NONE,
					       NULL,    NULL,      "",           0 };

static const char *const method_names[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "OTHER" };

enum api_method api_method_from_name(const char *m)
{
	for (int i = 0; i < API_METHOD_OTHER; i++)
		if (m && strcmp(m, method_names[i]) == 0)
			return (enum api_method)i;
	return API_METHOD_OTHER;
}

const char *api_method_name(enum api_method m)
{
	return (unsigned)m <= API_METHOD_OTHER ? method_names[m] : "OTHER";
}

const char *api_role_name(enum api_role r)
{
	switch (r) {
	case API_ROLE_VIEWER:
		return "viewer";
	case API_ROLE_OPERATOR:
		return "operator";
	case API_ROLE_ADMIN:
		return "admin";
	default:
		return "none";
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long api_pct_decode(const char *src, size_t n, char *dst, size_t cap, int plus_is_space)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = src[i];
		if (c == '%') {
			int hi = i + 2 < n ? hexval(src[i + 1]) : -1;
			int lo = hi >= 0 ? hexval(src[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi * 16 + lo);
			i += 2;
		} else if (c == '+' && plus_is_space) {
			c = ' ';
		}
		if (c == '\0' || o + 1 >= cap)
			return -1;
		dst[o++] = c;
	}
	if (cap)
		dst[o] = '\0';
	return (long)o;
}

/* Does path (raw) fit pattern? Fills params on a match. */
static int fits(const char *pattern, const char *path, struct api_match *m)
{
	const char *p = pattern, *s = path;
	size_t np = 0;
	while (*p && *s) {
		if (*p != '/' || *s != '/')
			return 0;
		p++;
		s++;
		const char *pe = strchr(p, '/'), *se = strchr(s, '/');
		size_t pl = pe ? (size_t)(pe - p) : strlen(p);
		size_t sl = se ? (size_t)(se - s) : strlen(s);
		if (pl >= 2 && p[0] == '{' && p[pl - 1] == '}') {
			if (np >= API_ROUTE_PARAMS || sl == 0)
				return 0;
			long d = api_pct_decode(s, sl, m->params[np], sizeof(m->params[np]), 0);
			if (d <= 0)
				return 0;
			np++;
		} else if (pl != sl || memcmp(p, s, pl) != 0) {
			return 0;
		}
		p += pl;
		s += sl;
	}
	if (*p || *s)
		return 0;
	m->n_params = np;
	return 1;
}

static int is_api_path(const char *path)
{
	return strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0 ||
	       strcmp(path, "/healthz") == 0 || strcmp(path, "/metrics") == 0;
}

int api_route_match(enum api_method method, const char *path, struct api_match *m)
{
	memset(m, 0, sizeof(*m));
	m->status = 404;
	if (!path || path[0] != '/' || strlen(path) > API_PATH_MAX)
		return m->status;
	/* HEAD is answered as GET without the body. */
	enum api_method want = method == API_HEAD ? API_GET : method;
	if (!is_api_path(path)) {
		if (want != API_GET) {
			m->status = 405;
			strcpy(m->allow, "GET, HEAD");
			return m->status;
		}
		m->route = &static_route;
		m->status = 0;
		return 0;
	}
	int path_known = 0;
	for (size_t i = 0; i < api_route_count; i++) {
		const struct api_route *r = &api_routes[i];
		struct api_match t;
		memset(&t, 0, sizeof(t));
		if (!fits(r->pattern, path, &t))
			continue;
		if (r->method == want) {
			memcpy(m->params, t.params, sizeof(m->params));
			m->n_params = t.n_params;
			m->route = r;
			m->status = 0;
			return 0;
		}
		/* Allow: the methods of every route this path fits. */
		const char *name = api_method_name(r->method);
		if (!strstr(m->allow, name) &&
		    strlen(m->allow) + strlen(name) + 8 < sizeof(m->allow)) {
			if (*m->allow)
				strcat(m->allow, ", ");
			strcat(m->allow, name);
			if (r->method == API_GET)
				strcat(m->allow, ", HEAD");
		}
		path_known = 1;
	}
	if (path_known)
		m->status = 405;
	return m->status;
}

int api_route_takes_query(const struct api_route *r, const char *name)
{
	size_t n = strlen(name);
	if (!n)
		return 0;
	for (const char *q = r->query; q && *q;) {
		const char *e = strchr(q, ' ');
		size_t l = e ? (size_t)(e - q) : strlen(q);
		if (l == n && memcmp(q, name, n) == 0)
			return 1;
		q += l;
		while (*q == ' ')
			q++;
	}
	return 0;
}
