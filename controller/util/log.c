/*
 * log.c — the log sink: formats one line (UTC timestamp, level, component,
 * message; or, under journald, the syslog priority instead of the time) and
 * writes it to stderr with a single write(2), so lines from different
 * threads never interleave. The level and the journal format are the only
 * shared state, both relaxed atomics; the format is chosen once at start.
 */
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int log_current_level = LOG_LVL_INFO;
static int journal_format;

static const char *const level_names[] = { "error", "warn", "info", "debug", "trace" };
static const char *const level_tags[] = { "ERROR", "WARN ", "INFO ", "DEBUG", "TRACE" };
/* syslog priorities (sd-daemon.h's SD_ERR, SD_WARNING, SD_INFO, SD_DEBUG) */
static const int level_prios[] = { 3, 4, 6, 7, 7 };

void log_set_level(enum log_level level)
{
	__atomic_store_n(&log_current_level, (int)level, __ATOMIC_RELAXED);
}

int log_level_from_name(const char *name)
{
	for (int i = 0; name && i < (int)(sizeof(level_names) / sizeof(level_names[0])); i++)
		if (strcmp(level_names[i], name) == 0)
			return i;
	return -1;
}

void log_set_journal(int on)
{
	__atomic_store_n(&journal_format, on ? 1 : 0, __ATOMIC_RELAXED);
}

int log_journal(void)
{
	return __atomic_load_n(&journal_format, __ATOMIC_RELAXED);
}

/* A decimal number without sign or spaces, all of [s, *end). */
static int parse_u64(const char *s, char **end, unsigned long long *v)
{
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*v = strtoull(s, end, 10);
	return errno ? -1 : 0;
}

int log_journal_stream_matches(const char *journal_stream, unsigned long long dev,
			       unsigned long long ino)
{
	unsigned long long d, i;
	char *end;
	if (!journal_stream || parse_u64(journal_stream, &end, &d) != 0 || *end != ':')
		return 0;
	if (parse_u64(end + 1, &end, &i) != 0 || *end != '\0')
		return 0;
	return d == dev && i == ino;
}

int log_journal_detect(void)
{
	const char *v = getenv("JOURNAL_STREAM");
	struct stat st;
	int on = v && fstat(STDERR_FILENO, &st) == 0 &&
		 log_journal_stream_matches(v, (unsigned long long)st.st_dev,
					    (unsigned long long)st.st_ino);
	log_set_journal(on);
	return on;
}

size_t log_vformat(char *line, size_t cap, int journal, const struct timespec *now,
		   enum log_level level, const char *component, const char *fmt, va_list ap)
{
	if (cap < 2)
		return 0;
	if ((unsigned)level > LOG_LVL_TRACE)
		level = LOG_LVL_TRACE;
	int n;
	if (journal) {
		n = snprintf(line, cap, "<%d>%s %s: ", level_prios[level], level_tags[level],
			     component);
	} else {
		struct tm tm;
		gmtime_r(&now->tv_sec, &tm);
		n = snprintf(line, cap,
			     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: ", tm.tm_year + 1900,
			     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			     now->tv_nsec / 1000000, level_tags[level], component);
	}
	size_t head = n < 0 ? 0 : (size_t)n;
	if (head > cap - 2)
		head = cap - 2;
	int m = vsnprintf(line + head, cap - head - 1, fmt, ap);
	size_t len = head + (m < 0 ? 0 : (size_t)m);
	if (len > cap - 2)
		len = cap - 2;
	if (journal)
		for (size_t i = head; i < len; i++)
			if (line[i] == '\n')
				line[i] = ' ';
	line[len++] = '\n';
	line[len] = '\0';
	return len;
}

size_t log_format(char *line, size_t cap, int journal, const struct timespec *now,
		  enum log_level level, const char *component, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t len = log_vformat(line, cap, journal, now, level, component, fmt, ap);
	va_end(ap);
	return len;
}

void log_write(enum log_level level, const char *component, const char *fmt, ...)
{
	char line[1024];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	va_list ap;
	va_start(ap, fmt);
	size_t len = log_vformat(line, sizeof(line), log_journal(), &ts, level, component, fmt, ap);
	va_end(ap);
	ssize_t w = write(STDERR_FILENO, line, len);
	(void)w;
}
