/*
 * uspctl_out.h — everything uspctl writes: result lines on stdout (the
 * stable contract of docs/uspctl.md), the live progress line on a terminal
 * and the summary on stderr, and the counters behind the exit status.
 *
 * Result lines, one JSON object each:
 *   {"id":I,"agent":E,"ok":true,"task":N,"result":{...}}
 *   {"id":I,"agent":E,"ok":false,"task":N,"error":{"code":C,"message":M,"usp_err_code":U}}
 *   {"id":I,"line":L,"ok":false,"error":{"code":C,"message":M}}   (line could not run)
 *   {"id":I,"ok":true,"result":{...}}   (campaign ops: a result of no agent)
 * "task", "usp_err_code" and "result" appear only when known.
 *
 * Single-threaded: one struct per run.
 */
#ifndef USPC_USPCTL_OUT_H
#define USPC_USPCTL_OUT_H

#include <stdint.h>
#include <stdio.h>

struct uspctl_out {
	FILE *out, *err;
	int quiet;      /* no summary, no progress */
	int progress;   /* draw the progress line (stderr is a terminal) */
	int out_is_tty; /* stdout is a terminal too: clear the line first */
	int progress_shown;
	int64_t start_ms, last_draw_ms;
	uint64_t expected;    /* results announced (agents targeted + line errors) */
	uint64_t ok, failed;  /* result lines written */
	uint64_t line_errors; /* of which: lines that could not run */
	uint64_t commands;
	int write_error; /* stdout failed (EPIPE, disk full) */
};

/* progress: 1 on, 0 off, -1 auto (stderr is a terminal and not quiet). */
void uspctl_out_init(struct uspctl_out *o, FILE *out, FILE *err, int quiet, int progress);

/* A successful result. result_json / extra_json are JSON texts (or NULL)
 * copied verbatim after "result": and after ",<extra_key>:". task < 0: no
 * "task" key. */
void uspctl_out_ok(struct uspctl_out *o, const char *id, const char *agent, int64_t task,
		   const char *result_json, const char *extra_key, const char *extra_json);

/* A successful result that belongs to no agent (campaign ops). */
void uspctl_out_result(struct uspctl_out *o, const char *id, const char *result_json);

/* A failed agent result. code: a USPCTL_E_* value; usp_err_code 0: none. */
void uspctl_out_fail(struct uspctl_out *o, const char *id, const char *agent, int64_t task,
		     int code, const char *message, uint32_t usp_err_code, const char *extra_key,
		     const char *extra_json);

/* A line that could not run at all (no agent). id NULL or "" → null. */
void uspctl_out_line_error(struct uspctl_out *o, const char *id, long line, int code,
			   const char *message);

/* Announce n more results to come (for the progress line). */
void uspctl_out_expect(struct uspctl_out *o, uint64_t n);

/* Redraw the progress line if due (at most every 250 ms) or when force. */
void uspctl_out_progress(struct uspctl_out *o, int force);

/* Clear the progress line and print the summary (unless quiet). */
void uspctl_out_summary(struct uspctl_out *o);

/* Append s to f as a JSON string (quoted, escaped; invalid UTF-8 → U+FFFD). */
void uspctl_out_json_string(FILE *f, const char *s);

int64_t uspctl_now_ms(void); /* CLOCK_MONOTONIC, ms */

#endif
