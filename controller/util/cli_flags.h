/*
 * cli_flags.h — what the HTTP daemons' mains (uspc-api, uspc-acs) share
 * about their flags: a whole-number flag checked against its range, every
 * flag also read from the environment as <PREFIX><FLAG> (capitals, '_' for
 * '-') before the command line, which wins, and the parse itself. Messages go to stderr
 * and name the program and the flag or variable.
 */
#ifndef USPC_CLI_FLAGS_H
#define USPC_CLI_FLAGS_H

#include <getopt.h>
#include <stdio.h>

/* 0 and *out, or -1 after "<prog>: <name> wants a whole number from lo to hi". */
int cli_int_in(const char *prog, const char *name, const char *s, int lo, int hi, int *out);

/* For each option of opts with a required argument whose variable
 * <prefix><FLAG> is set, apply(ctx, option's val, value): 0, or -1 when
 * one refused its value (after "<prog>: (from VAR)"). */
int cli_apply_env(const char *prog, const char *prefix, const struct option *opts,
		  int (*apply)(void *ctx, int id, const char *v), void *ctx);

/* A daemon's command line: the environment (cli_apply_env), then the
 * flags through apply; -h prints usage on stdout, -V "<prog> <version>".
 * 0 to run, 1 to exit 0 (help, version), -1 to exit 2 (a message said
 * why; an unknown flag also prints usage on stderr). */
int cli_parse(const char *prog, const char *version, const char *env_prefix, int argc, char **argv,
	      const struct option *opts, int (*apply)(void *ctx, int id, const char *v), void *ctx,
	      void (*usage)(FILE *f));

#endif
