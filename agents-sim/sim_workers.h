/*
 * sim_workers.h — runs the agents in worker processes: raises the open-file
 * soft limit, checks that the agent count fits (3 descriptors per
 * libmosquitto client), forks the workers, prints the one-line status from
 * their shared counters, forwards SIGINT/SIGTERM and reaps them.
 * Main thread of the supervisor process.
 */
#ifndef USPC_SIM_WORKERS_H
#define USPC_SIM_WORKERS_H

#include "sim_agent.h"
#include "usp_err.h"

#define SIM_FDS_PER_AGENT 3
#define SIM_FDS_RESERVED 64
#define SIM_MAX_AGENTS_PER_WORKER 5000

/* Raise RLIMIT_NOFILE soft to hard; choose cfg->workers (if 0) and check
 * the count fits. Returns 0, or -1 with err saying what does not fit. */
int sim_workers_plan(struct sim_config *cfg, struct uspc_err *err);

/* Fork the workers and supervise them until a signal, run_for_s seconds
 * (0 = forever) or a worker failure. Returns the process exit code. */
int sim_workers_run(const struct sim_config *cfg, const struct sim_model *model, int run_for_s);

#endif
