/*
 * uspctl_out.c — result lines, progress line and summary of uspctl (see
 * uspctl_out.h for the line shapes).
 *
 * Owns the counters that decide the exit status. Single-threaded.
 * Invariants: every line written to `out` is one complete JSON object and a
 * newline; the progress line lives only on `err` and is erased before
 * anything else is written to a terminal that shows both.
 */
#include "uspctl_out.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#include "usp_utf8.h"
#include "uspctl_cmd.h"

#define PROGRESS_MIN_RESULTS 50

int64_t uspctl_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void uspctl_out_init(struct uspctl_out *o, FILE *out, FILE *err, int quiet, int progress)
{
	memset(o, 0, sizeof(*o));
	o->out = out;
	o->err = err;
	o->quiet = quiet;
	if (progress < 0)
		progress = !quiet && isatty(fileno(err));
	o->progress = progress;
	o->out_is_tty = isatty(fileno(out));
	o->start_ms = uspctl_now_ms();
}

void uspctl_out_json_string(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	const unsigned char *end = s + strlen((const char *)s);
	putc('"', f);
	while (*s) {
		size_t n = usp_utf8_seq(s, (size_t)(end - s));
		if (n == 0) {
			fputs("\\ufffd", f);
			s++;
			continue;
		}
		if (n > 1) {
			fwrite(s, 1, n, f);
			s += n;
			continue;
		}
		unsigned char c = *s++;
		switch (c) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				fprintf(f, "\\u%04x", c);
			else
				putc(c, f);
		}
	}
	putc('"', f);
}

static void clear_progress(struct uspctl_out *o)
{
	if (o->progress_shown) {
		fputs("\r\033[K", o->err);
		fflush(o->err);
		o->progress_shown = 0;
	}
}

static void line_begin(struct uspctl_out *o, const char *id)
{
	if (o->out_is_tty)
		clear_progress(o);
	fputs("{\"id\":", o->out);
	if (id && id[0])
		uspctl_out_json_string(o->out, id);
	else
		fputs("null", o->out);
}

static void line_end(struct uspctl_out *o)
{
	fputs("}\n", o->out);
	if (ferror(o->out))
		o->write_error = 1;
}

static void task_key(struct uspctl_out *o, int64_t task)
{
	if (task >= 0)
		fprintf(o->out, ",\"task\":%lld", (long long)task);
}

static void extra(struct uspctl_out *o, const char *key, const char *json)
{
	if (key && json) {
		fputc(',', o->out);
		uspctl_out_json_string(o->out, key);
		fprintf(o->out, ":%s", json);
	}
}

void uspctl_out_ok(struct uspctl_out *o, const char *id, const char *agent, int64_t task,
		   const char *result_json, const char *extra_key, const char *extra_json)
{
	line_begin(o, id);
	fputs(",\"agent\":", o->out);
	uspctl_out_json_string(o->out, agent);
	fputs(",\"ok\":true", o->out);
	task_key(o, task);
	if (result_json)
		fprintf(o->out, ",\"result\":%s", result_json);
	extra(o, extra_key, extra_json);
	line_end(o);
	o->ok++;
}

void uspctl_out_result(struct uspctl_out *o, const char *id, const char *result_json)
{
	line_begin(o, id);
	fprintf(o->out, ",\"ok\":true,\"result\":%s", result_json ? result_json : "null");
	line_end(o);
	o->ok++;
}

static void error_obj(struct uspctl_out *o, int code, const char *message, uint32_t usp_err_code)
{
	fputs(",\"error\":{\"code\":", o->out);
	uspctl_out_json_string(o->out, uspctl_error_name(code));
	fputs(",\"message\":", o->out);
	uspctl_out_json_string(o->out, message && message[0] ? message : uspctl_error_name(code));
	if (usp_err_code)
		fprintf(o->out, ",\"usp_err_code\":%u", usp_err_code);
	fputc('}', o->out);
}

void uspctl_out_fail(struct uspctl_out *o, const char *id, const char *agent, int64_t task,
		     int code, const char *message, uint32_t usp_err_code, const char *extra_key,
		     const char *extra_json)
{
	line_begin(o, id);
	fputs(",\"agent\":", o->out);
	uspctl_out_json_string(o->out, agent);
	fputs(",\"ok\":false", o->out);
	task_key(o, task);
	error_obj(o, code, message, usp_err_code);
	extra(o, extra_key, extra_json);
	line_end(o);
	o->failed++;
}

void uspctl_out_line_error(struct uspctl_out *o, const char *id, long line, int code,
			   const char *message)
{
	line_begin(o, id);
	fprintf(o->out, ",\"line\":%ld,\"ok\":false", line);
	error_obj(o, code, message, 0);
	line_end(o);
	o->failed++;
	o->line_errors++;
	o->expected++;
}

void uspctl_out_expect(struct uspctl_out *o, uint64_t n)
{
	o->expected += n;
}

void uspctl_out_progress(struct uspctl_out *o, int force)
{
	if (!o->progress || o->quiet)
		return;
	int64_t now = uspctl_now_ms();
	if (!force && now - o->last_draw_ms < 250)
		return;
	/* small, quick batches: no line to flicker */
	if (!force && o->expected < PROGRESS_MIN_RESULTS && now - o->start_ms < 1000)
		return;
	o->last_draw_ms = now;
	double secs = (double)(now - o->start_ms) / 1000.0;
	uint64_t done = o->ok + o->failed;
	if (o->out_is_tty)
		fflush(o->out);
	fprintf(o->err, "\r\033[Kuspctl: %llu/%llu done, %llu failed, %.0f/s, %.1f s",
		(unsigned long long)done, (unsigned long long)o->expected,
		(unsigned long long)o->failed, secs > 0 ? (double)done / secs : 0.0, secs);
	fflush(o->err);
	o->progress_shown = 1;
}

void uspctl_out_summary(struct uspctl_out *o)
{
	fflush(o->out);
	clear_progress(o);
	if (o->quiet)
		return;
	double secs = (double)(uspctl_now_ms() - o->start_ms) / 1000.0;
	uint64_t done = o->ok + o->failed;
	fprintf(o->err,
		"uspctl: %llu command%s, %llu result%s: %llu ok, %llu failed (%llu line%s not run) in %.2f s",
		(unsigned long long)o->commands, o->commands == 1 ? "" : "s",
		(unsigned long long)done, done == 1 ? "" : "s", (unsigned long long)o->ok,
		(unsigned long long)o->failed, (unsigned long long)o->line_errors,
		o->line_errors == 1 ? "" : "s", secs);
	if (secs > 0.5 && done > 0)
		fprintf(o->err, ", %.0f results/s", (double)done / secs);
	fputc('\n', o->err);
	fflush(o->err);
}
