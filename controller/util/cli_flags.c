/*
 * cli_flags.c — flags from the command line and the environment for the
 * HTTP daemons (see cli_flags.h).
 */
#include "cli_flags.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_int_in(const char *prog, const char *name, const char *s, int lo, int hi, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "%s: %s wants a whole number from %d to %d, got '%s'\n", prog, name,
			lo, hi, s);
		return -1;
	}
	*out = (int)v;
	return 0;
}

int cli_apply_env(const char *prog, const char *prefix, const struct option *opts,
		  int (*apply)(void *ctx, int id, const char *v), void *ctx)
{
	for (const struct option *lo = opts; lo->name; lo++) {
		if (lo->has_arg != required_argument)
			continue;
		char name[96];
		size_t n = (size_t)snprintf(name, sizeof(name), "%s", prefix);
		for (const char *p = lo->name; *p && n + 1 < sizeof(name); p++)
			name[n++] = *p == '-' ? '_' : (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
		name[n] = '\0';
		const char *v = getenv(name);
		if (v && apply(ctx, lo->val, v) < 0) {
			fprintf(stderr, "%s: (from %s)\n", prog, name);
			return -1;
		}
	}
	return 0;
}

int cli_parse(const char *prog, const char *version, const char *env_prefix, int argc, char **argv,
	      const struct option *opts, int (*apply)(void *ctx, int id, const char *v), void *ctx,
	      void (*usage)(FILE *f))
{
	int c;
	if (cli_apply_env(prog, env_prefix, opts, apply, ctx) < 0)
		return -1;
	while ((c = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 1;
		}
		if (c == 'V') {
			printf("%s %s\n", prog, version);
			return 1;
		}
		if (c == '?' || apply(ctx, c, optarg) < 0) {
			if (c == '?')
				usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[optind]);
		return -1;
	}
	return 0;
}
