/*
 * core.h — the uspc daemon's core: one thread (the caller of core_run) that
 * owns the endpoint registry, the request tracker and the timers, and ties
 * together the MQTT transport (controller/mtp), the store's writer and task
 * feeder threads (controller/store) and the codec (controller/usp).
 *
 * Lifecycle (main thread):
 *     core_block_signals();                 before any thread exists
 *     core_new(&cfg, &sources, &err);       connects the store, migrates,
 *                                           starts writer, feeder and MQTT
 *     rc = core_run(core);                  until SIGTERM/SIGINT (then drains)
 *     core_free(core);
 * SIGHUP re-reads the configuration (file, environment, flags) and applies
 * the reloadable settings.
 */
#ifndef USPC_CORE_H
#define USPC_CORE_H

#include "core_config.h"
#include "usp_err.h"

struct core;

/* Block SIGTERM, SIGINT and SIGHUP in the calling thread (threads created
 * later inherit the mask; the core reads them from a signalfd) and ignore
 * SIGPIPE. 0 or -1. */
int core_block_signals(void);

/* cfg is borrowed for the core's lifetime (reloadable fields are updated in
 * place on SIGHUP); src is kept to re-read the configuration on SIGHUP. */
struct core *core_new(struct core_config *cfg, const struct core_config_sources *src,
		      struct uspc_err *err);
/* Run the loop until a stop signal and the drain that follows. Returns the
 * process exit status (0 after a clean stop). */
int core_run(struct core *c);
void core_free(struct core *c);

#endif
