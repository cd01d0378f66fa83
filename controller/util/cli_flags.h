/*
 * cli_flags.h — what the HTTP daemons' mains (uspc-api, uspc-acs) share
 * about their flags: a whole-number flag checked against its range, and
 * every flag also read from the environment as <PREFIX><FLAG> (capitals,
 * '_' for '-'), before the command line, which wins. Messages go to stderr
 * and name the program and the flag or variable.
 */
#ifndef USPC_CLI_FLAGS_H
#define USPC_CLI_FLAGS_H

#include <getopt.h>

/* 0 and *out, or -1 after "<prog>: <name> wants a whole number from lo to hi". */
int cli_int_in(const char *prog, const char *name, const char *s, int lo, int hi, int *out);

/* For each option of opts with a required argument whose variable
 * <prefix><FLAG> is set, apply(ctx, option's val, value): 0, or -1 when
 * one refused its value (after "<prog>: (from VAR)"). */
int cli_apply_env(const char *prog, const char *prefix, const struct option *opts,
		  int (*apply)(void *ctx, int id, const char *v), void *ctx);

#endif
