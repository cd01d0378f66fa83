/*
 * cwmp_sim_main.h — usp-agent-sim --protocol cwmp: its command line, the
 * model with the CWMP management object, and the supervisor of its worker
 * processes (status line, SIGINT/SIGTERM, reaping). Main thread.
 */
#ifndef USPC_CWMP_SIM_MAIN_H
#define USPC_CWMP_SIM_MAIN_H

#include <stdio.h>

/* Run the CWMP mode with the program's arguments (default_model: the
 * --model default); returns the exit status (0 clean stop, 1 a worker
 * failed, 2 bad options or model). */
int cwmp_sim_main(int argc, char **argv, const char *default_model);

/* The CWMP mode's options, for --help. */
void cwmp_sim_usage(FILE *f);

#endif
