/*
 * uspc.c — the controller daemon's main: read the configuration (file,
 * environment, flags), handle --help / --version / --check-config, set the
 * log level, then hand over to the core (controller/core/core.h) until a
 * stop signal. Exit status: 0 after a clean stop, 1 on a runtime failure,
 * 2 on a configuration error (found while reading the settings, or at start:
 * a metrics_listen address that cannot be bound). When stderr is the
 * journal's stream (systemd), every line written there starts with its
 * syslog priority and carries no timestamp (log.h, log_journal_detect).
 */
#include <stdio.h>
#include <stdlib.h>

#include "core.h"
#include "core_config.h"
#include "log.h"

extern char **environ;

#ifndef USPC_VERSION
#define USPC_VERSION "0.1.0"
#endif

int main(int argc, char **argv)
{
	struct core_config cfg;
	struct core_config_cmd cmd;
	struct uspc_err err = { 0 };
	struct core_config_sources src = { argc, argv, environ };
	int rc = 2;

	log_journal_detect();
	/* Before any thread exists, so every thread inherits the mask and the
	 * core alone sees SIGTERM/SIGINT/SIGHUP (through its signalfd). */
	if (core_block_signals() != 0) {
		fprintf(stderr, "%suspc: cannot block signals\n", log_journal() ? "<3>" : "");
		return 1;
	}
	core_config_init(&cfg);
	int loaded = core_config_load(&cfg, &cmd, &src, &err);
	if (cmd.help) {
		core_config_usage(stdout, argv[0]);
		rc = 0;
		goto out;
	}
	if (cmd.version) {
		printf("uspc %s\n", USPC_VERSION);
		rc = 0;
		goto out;
	}
	if (loaded != 0) {
		fprintf(stderr, "%suspc: configuration error: %s\n", log_journal() ? "<3>" : "",
			err.msg);
		goto out;
	}
	if (cmd.check_config) {
		core_config_print(&cfg, stdout);
		core_config_print_warnings(&cfg, stdout);
		printf("# configuration OK\n");
		rc = 0;
		goto out;
	}
	log_set_level((enum log_level)log_level_from_name(cfg.log_level));
	struct core *core = core_new(&cfg, &src, &err);
	if (!core) {
		log_error("main", "start-up failed: %s (%s)", err.msg, uspc_err_name(err.code));
		/* e.g. a metrics_listen address that cannot be bound */
		rc = err.code == USPC_E_CONFIG ? 2 : 1;
		goto out;
	}
	rc = core_run(core);
	core_free(core);
	log_info("main", "stopped (exit status %d)", rc);
out:
	core_config_cmd_fini(&cmd);
	core_config_fini(&cfg);
	return rc;
}
