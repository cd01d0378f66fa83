/* Unit tests for core_config: file format, layering (file < env < flags),
 * validation messages, secrets handling, printing, reload. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core_config.h"

struct ctx {
	struct core_config c;
	struct core_config_cmd cmd;
	struct uspc_err err;
};

static int setup(void **state)
{
	struct ctx *x = calloc(1, sizeof(*x));
	core_config_init(&x->c);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *x = *state;
	core_config_fini(&x->c);
	core_config_cmd_fini(&x->cmd);
	free(x);
	return 0;
}

static int load(struct ctx *x, int argc, char **argv, char **envp)
{
	struct core_config_sources src = { argc, argv, envp };
	return core_config_load(&x->c, &x->cmd, &src, &x->err);
}

static char *write_tmp(const char *text)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/uspc-cfg-test-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_defaults_and_derived(void **state)
{
	struct ctx *x = *state;
	char *argv[] = { "uspc", "--node-id", "n1", NULL };
	char *envp[] = { NULL };
	assert_int_equal(load(x, 3, argv, envp), 0);
	assert_string_equal(x->c.endpoint_id, "self::uspc");
	assert_string_equal(x->c.controller_topic, "usp/controller/self::uspc");
	assert_string_equal(x->c.reply_topic, "usp/controller/self::uspc/reply/n1");
	assert_string_equal(x->c.mqtt_client_id, "uspc-n1");
	assert_int_equal(x->c.request_timeout_ms, 30000);
	/* Durable session by default: the broker keeps our subscriptions and
	 * queues QoS 1 messages for a day while the daemon is away. */
	assert_int_equal(x->c.mqtt_clean_start, 0);
	assert_int_equal(x->c.mqtt_session_expiry_s, 86400);
	assert_int_equal(x->c.mqtt_tcp_nodelay, 1);
}

static void test_mqtt_session_settings(void **state)
{
	struct ctx *x = *state;
	char *argv[] = { "uspc", "--node-id",          "n1",    "--mqtt-session-expiry",
			 "0",    "--mqtt-tcp-nodelay", "false", NULL };
	char *envp[] = { "USPC_MQTT_CLEAN_START=true", NULL };
	assert_int_equal(load(x, 7, argv, envp), 0);
	assert_int_equal(x->c.mqtt_session_expiry_s, 0);
	assert_int_equal(x->c.mqtt_tcp_nodelay, 0);
	assert_int_equal(x->c.mqtt_clean_start, 1);
	assert_int_not_equal(core_config_set(&x->c, "mqtt_session_expiry", "-1", &x->err), 0);
	assert_non_null(strstr(x->err.msg, "mqtt_session_expiry"));
	assert_int_equal(core_config_set(&x->c, "mqtt_session_expiry", "4294967295", &x->err) != 0,
			 1);
	assert_int_equal(core_config_set(&x->c, "mqtt_session_expiry", "2147483647", &x->err), 0);
	assert_int_equal(x->c.mqtt_session_expiry_s, 2147483647);
}

static void test_file_parse(void **state)
{
	struct ctx *x = *state;
	const char *text = "# comment\n\n  endpoint_id = proto::ctl \n"
			   "request_timeout_ms=1500\r\nonboard = off\n"
			   "shared_group = \"grp\"\n; other comment\n";
	assert_int_equal(core_config_parse_text(&x->c, text, strlen(text), "t.conf", &x->err), 0);
	assert_string_equal(x->c.endpoint_id, "proto::ctl");
	assert_int_equal(x->c.request_timeout_ms, 1500);
	assert_int_equal(x->c.onboard, 0);
	assert_string_equal(x->c.shared_group, "grp");
}

static void test_file_errors_name_line(void **state)
{
	struct ctx *x = *state;
	const char *t1 = "endpoint_id = a\nbogus_key = 1\n";
	assert_int_equal(core_config_parse_text(&x->c, t1, strlen(t1), "f.conf", &x->err),
			 USPC_E_CONFIG);
	assert_non_null(strstr(x->err.msg, "f.conf:2"));
	assert_non_null(strstr(x->err.msg, "bogus_key"));
	const char *t2 = "max_pending = 12x\n";
	assert_int_equal(core_config_parse_text(&x->c, t2, strlen(t2), "f.conf", &x->err),
			 USPC_E_CONFIG);
	assert_non_null(strstr(x->err.msg, "expected an integer"));
	const char *t3 = "max_pending = 0\n";
	assert_int_equal(core_config_parse_text(&x->c, t3, strlen(t3), "f.conf", &x->err),
			 USPC_E_CONFIG);
	assert_non_null(strstr(x->err.msg, "outside"));
	const char *t4 = "no equals sign\n";
	assert_int_equal(core_config_parse_text(&x->c, t4, strlen(t4), "f.conf", &x->err),
			 USPC_E_CONFIG);
	assert_non_null(strstr(x->err.msg, "key = value"));
	const char *t5 = "onboard = maybe\n";
	assert_int_equal(core_config_parse_text(&x->c, t5, strlen(t5), "f.conf", &x->err),
			 USPC_E_CONFIG);
	assert_non_null(strstr(x->err.msg, "true or false"));
}

static void test_secret_not_in_file(void **state)
{
	struct ctx *x = *state;
	const char *t = "db_password = hunter2\n";
	assert_int_equal(core_config_parse_text(&x->c, t, strlen(t), "f.conf", &x->err),
			 USPC_E_CONFIG);
	assert_null(strstr(x->err.msg, "hunter2"));
	assert_non_null(strstr(x->err.msg, "db_password_file"));
}

static void test_long_line_rejected(void **state)
{
	struct ctx *x = *state;
	size_t n = CORE_CONFIG_LINE_MAX + 10;
	char *t = malloc(n + 1);
	memset(t, 'a', n);
	t[n] = '\0';
	assert_int_equal(core_config_parse_text(&x->c, t, n, "f.conf", &x->err), USPC_E_CONFIG);
	assert_non_null(strstr(x->err.msg, "longer than"));
	free(t);
}

static void test_layering_file_env_flags(void **state)
{
	struct ctx *x = *state;
	char *path = write_tmp("mqtt_url = mqtt://file:1\ndb = postgresql://file/db\n"
			       "endpoint_id = proto::file\nstats_interval = 7\n");
	char *argv[] = { "uspc", "--config", path, "--mqtt", "mqtt://flag:3", "--node-id=x", NULL };
	char *envp[] = { "USPC_MQTT=mqtt://env:2", "USPC_DB=postgresql://env/db",
			 "USPC_STATS_INTERVAL=5", "PATH=/bin", NULL };
	assert_int_equal(load(x, 6, argv, envp), 0);
	assert_string_equal(x->c.mqtt_url, "mqtt://flag:3");  /* flag beats env */
	assert_string_equal(x->c.db, "postgresql://env/db");  /* env beats file */
	assert_string_equal(x->c.endpoint_id, "proto::file"); /* file beats default */
	assert_int_equal(x->c.stats_interval_s, 5);
	assert_string_equal(x->cmd.config_path, path);
	unlink(path);
}

static void test_config_from_env_var(void **state)
{
	struct ctx *x = *state;
	char *path = write_tmp("endpoint_id = proto::viaenv\n");
	char env[128];
	snprintf(env, sizeof(env), "USPC_CONFIG=%s", path);
	char *argv[] = { "uspc", NULL };
	char *envp[] = { env, NULL };
	assert_int_equal(load(x, 1, argv, envp), 0);
	assert_string_equal(x->c.endpoint_id, "proto::viaenv");
	unlink(path);
}

static void test_flags_errors(void **state)
{
	struct ctx *x = *state;
	char *envp[] = { NULL };
	char *a1[] = { "uspc", "--no-such-flag", "1", NULL };
	assert_int_equal(load(x, 3, a1, envp), USPC_E_CONFIG);
	assert_non_null(strstr(x->err.msg, "unknown option"));
	char *a2[] = { "uspc", "--mqtt", NULL };
	assert_int_equal(load(x, 2, a2, envp), USPC_E_CONFIG);
	assert_non_null(strstr(x->err.msg, "needs a value"));
	char *a3[] = { "uspc", "--db", "postgresql://u:sekret@h/db", NULL };
	assert_int_equal(load(x, 3, a3, envp), USPC_E_CONFIG);
	assert_non_null(strstr(x->err.msg, "password"));
	assert_null(strstr(x->err.msg, "sekret"));
	char *a4[] = { "uspc", "--db", "host=h password=sekret", NULL };
	assert_int_equal(load(x, 3, a4, envp), USPC_E_CONFIG);
	char *a5[] = { "uspc", "--db-password", "x", NULL };
	assert_int_equal(load(x, 3, a5, envp), USPC_E_CONFIG);
}

static void test_command_flags(void **state)
{
	struct ctx *x = *state;
	char *argv[] = { "uspc", "--check-config", "--log-level", "debug", NULL };
	char *envp[] = { NULL };
	assert_int_equal(load(x, 4, argv, envp), 0);
	assert_int_equal(x->cmd.check_config, 1);
	assert_int_equal(x->cmd.help, 0);
	assert_string_equal(x->c.log_level, "debug");
}

static void test_validation(void **state)
{
	struct ctx *x = *state;
	char *envp[] = { NULL };
	char *a1[] = { "uspc", "--log-level", "loud", NULL };
	assert_int_equal(load(x, 3, a1, envp), USPC_E_CONFIG);
	assert_non_null(strstr(x->err.msg, "log_level"));
	core_config_fini(&x->c);
	core_config_init(&x->c);
	char *a2[] = { "uspc", "--topic", "usp/+/x", NULL };
	assert_int_equal(load(x, 3, a2, envp), USPC_E_CONFIG);
	assert_non_null(strstr(x->err.msg, "controller_topic"));
	core_config_fini(&x->c);
	core_config_init(&x->c);
	char *a3[] = { "uspc", "--mqtt", "http://x", NULL };
	assert_int_equal(load(x, 3, a3, envp), USPC_E_CONFIG);
	core_config_fini(&x->c);
	core_config_init(&x->c);
	char *a4[] = { "uspc", "--mqtt-cert-file", "/a", NULL };
	assert_int_equal(load(x, 3, a4, envp), USPC_E_CONFIG);
	assert_non_null(strstr(x->err.msg, "go together"));
	core_config_fini(&x->c);
	core_config_init(&x->c);
	char *a5[] = { "uspc", "--max-pending", "4", "--max-pending-per-agent", "5", NULL };
	assert_int_equal(load(x, 5, a5, envp), USPC_E_CONFIG);
	core_config_fini(&x->c);
	core_config_init(&x->c);
	char *a6[] = { "uspc", "--node-id", "a/b", NULL };
	assert_int_equal(load(x, 3, a6, envp), USPC_E_CONFIG);
	assert_non_null(strstr(x->err.msg, "node_id"));
}

/* metrics_listen: host:port or [v6]:port (port 0..65535), "" = off; the
 * default is loopback. */
static void test_metrics_listen(void **state)
{
	struct ctx *x = *state;
	char host[64];
	int port = -1;
	const char *why = NULL;
	assert_string_equal(x->c.metrics_listen, "127.0.0.1:9469");
	assert_int_equal(core_config_parse_listen("127.0.0.1:0", host, sizeof(host), &port, &why),
			 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 0);
	assert_int_equal(core_config_parse_listen("[::1]:9469", host, sizeof(host), &port, &why),
			 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 9469);
	assert_int_equal(
		core_config_parse_listen("localhost:65535", host, sizeof(host), &port, &why), 0);
	assert_string_equal(host, "localhost");
	assert_int_equal(port, 65535);
	const char *bad[] = { "9469",       ":9469",    "1.2.3.4:",  "1.2.3.4:65536",
			      "1.2.3.4:9x", "::1:9469", "[::1]9469", "[::1]",
			      "[]:9469",    "a b:9469", "h:-1",      "1.2.3.4:99999999999" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		assert_int_equal(core_config_parse_listen(bad[i], host, sizeof(host), &port, &why),
				 -1);
		assert_non_null(why);
	}
	assert_int_equal(core_config_parse_listen("averyveryverylonghostname.example:1", host, 8,
						  &port, &why),
			 -1);
	char *envp[] = { NULL };
	char *a1[] = { "uspc", "--metrics-listen", "::1:80", NULL };
	assert_int_equal(load(x, 3, a1, envp), USPC_E_CONFIG);
	assert_non_null(strstr(x->err.msg, "metrics_listen"));
	assert_non_null(strstr(x->err.msg, "brackets"));
	core_config_fini(&x->c);
	core_config_init(&x->c);
	char *a2[] = { "uspc", "--metrics-listen", "", NULL };
	assert_int_equal(load(x, 3, a2, envp), 0);
	assert_string_equal(x->c.metrics_listen, "");
	core_config_fini(&x->c);
	core_config_init(&x->c);
	char *e3[] = { "USPC_METRICS_LISTEN=[::]:0", NULL };
	char *a3[] = { "uspc", NULL };
	assert_int_equal(load(x, 1, a3, e3), 0);
	assert_string_equal(x->c.metrics_listen, "[::]:0");
}

/* agent_identity: required by default, optional on request (with a
 * warning), nothing else; agent_topic_template needs exactly one %e. */
static void test_identity_settings(void **state)
{
	struct ctx *x = *state;
	char *envp[] = { NULL };
	char *a0[] = { "uspc", NULL };
	assert_int_equal(load(x, 1, a0, envp), 0);
	assert_string_equal(x->c.agent_identity, "required");
	assert_int_equal(x->c.identity_required, 1);
	FILE *f = tmpfile();
	assert_int_equal(core_config_print_warnings(&x->c, f), 0);
	fclose(f);
	core_config_fini(&x->c);
	core_config_init(&x->c);
	char *a1[] = { "uspc", "--agent-identity", "optional", NULL };
	assert_int_equal(load(x, 3, a1, envp), 0);
	assert_int_equal(x->c.identity_required, 0);
	f = tmpfile();
	assert_int_equal(core_config_print_warnings(&x->c, f), 1);
	fclose(f);
	core_config_fini(&x->c);
	core_config_init(&x->c);
	char *a2[] = { "uspc", "--agent-identity", "none", NULL };
	assert_int_equal(load(x, 3, a2, envp), USPC_E_CONFIG);
	assert_non_null(strstr(x->err.msg, "agent_identity"));
	const char *bad[] = { "usp/agent", "usp/%e/%e", "usp/%e/+", "usp/%d/%e", "usp/%e/#" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		core_config_fini(&x->c);
		core_config_init(&x->c);
		char *a3[] = { "uspc", "--agent-topic-template", (char *)bad[i], NULL };
		assert_int_equal(load(x, 3, a3, envp), USPC_E_CONFIG);
		assert_non_null(strstr(x->err.msg, "agent_topic_template"));
	}
	core_config_fini(&x->c);
	core_config_init(&x->c);
	char *a4[] = { "uspc", "--agent-topic-template", "usp/agent/%e", NULL };
	assert_int_equal(load(x, 3, a4, envp), 0);
	assert_string_equal(x->c.agent_topic_template, "usp/agent/%e");
}

static void test_secrets_env_and_file_never_printed(void **state)
{
	struct ctx *x = *state;
	char *pw = write_tmp("filepass\n");
	char *argv[] = { "uspc", "--db-password-file", pw, NULL };
	char *envp[] = { "USPC_MQTT_PASSWORD=envpass", "USPC_DB=postgresql://u:urlpass@h:5/db",
			 NULL };
	assert_int_equal(load(x, 3, argv, envp), 0);
	assert_string_equal(x->c.mqtt_password, "envpass");
	assert_string_equal(x->c.db_password, "filepass");
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	core_config_print(&x->c, f);
	fclose(f);
	assert_null(strstr(buf, "envpass"));
	assert_null(strstr(buf, "filepass"));
	assert_null(strstr(buf, "urlpass"));
	assert_non_null(strstr(buf, "mqtt_password = (set)"));
	assert_non_null(strstr(buf, "db = postgresql://u:***@h:5/db"));
	free(buf);
	unlink(pw);
}

static void test_missing_secret_file(void **state)
{
	struct ctx *x = *state;
	char *argv[] = { "uspc", "--mqtt-password-file", "/nonexistent/pw", NULL };
	char *envp[] = { NULL };
	assert_int_equal(load(x, 3, argv, envp), USPC_E_SYS);
	assert_non_null(strstr(x->err.msg, "mqtt_password_file"));
}

static void test_reloadable(void **state)
{
	struct ctx *x = *state;
	struct core_config n;
	core_config_init(&n);
	struct uspc_err e;
	assert_int_equal(core_config_set(&n, "log_level", "debug", &e), 0);
	assert_int_equal(core_config_set(&n, "request_timeout_ms", "1234", &e), 0);
	assert_int_equal(core_config_set(&n, "endpoint_id", "proto::other", &e), 0);
	int fixed = -1;
	assert_int_equal(core_config_apply_reloadable(&x->c, &n, &fixed), 2);
	assert_int_equal(fixed, 1);
	assert_string_equal(x->c.log_level, "debug");
	assert_int_equal(x->c.request_timeout_ms, 1234);
	assert_string_equal(x->c.endpoint_id, "self::uspc"); /* needs a restart */
	core_config_fini(&n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults_and_derived, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mqtt_session_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_parse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_errors_name_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_not_in_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_line_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_layering_file_env_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_from_env_var, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flags_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identity_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_validation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics_listen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secrets_env_and_file_never_printed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_missing_secret_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reloadable, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
