/*
 * sim_state.h — what a simulated agent keeps across a restart of the
 * simulator (or its own reboot): instances of persistent tables (Controller,
 * persistent Subscriptions, FirmwareImage, ...), stored parameter values,
 * instance counters and the pending Boot! information. One text file per
 * agent in the state directory, replaced atomically (write + rename).
 * Loop thread of the agent's worker.
 */
#ifndef USPC_SIM_STATE_H
#define USPC_SIM_STATE_H

#include "sim_agent.h"

#define SIM_STATE_MAX_FILE (1u << 20) /* bytes of one agent's state file */

/* 0 loaded, 1 no state yet (factory), -1 unreadable (logged; factory used). */
int sim_state_load(struct sim_agent *a);
/* Write the agent's state now. 0 or -1 (logged). */
int sim_state_save(struct sim_agent *a);
/* File name for an agent (EID made file-system safe). */
void sim_state_path(const struct sim_agent *a, char *buf, size_t cap);

#endif
