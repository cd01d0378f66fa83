/*
 * sim_vcload.h — benchmark load knob of usp-agent-sim (--vc-rate,
 * --vc-rate-file): changes Device.DeviceInfo.SoftwareVersion on online
 * agents, round robin, at a total rate across all workers, so every agent
 * subscribed to it (uspc's standard ValueChange subscription) sends a
 * ValueChange Notify. Used by tests/bench/run.sh (notify_ingest).
 * Loop thread of the worker.
 */
#ifndef USPC_SIM_VCLOAD_H
#define USPC_SIM_VCLOAD_H

#include "sim_agent.h"

/* Start the generator of worker w if cfg->vc_rate > 0 or cfg->vc_rate_file
 * is set; otherwise do nothing. Returns 0 or -1 (no memory). */
int sim_vcload_start(struct sim_worker *w);
/* Stop and free it (safe when never started). */
void sim_vcload_stop(struct sim_worker *w);

#endif
