/*
 * log.h — level-checked logging for uspc programs. The macros evaluate
 * nothing when the level is off. Library code (controller/usp) never logs;
 * mtp, store, core and the programs do, always with a component name.
 * Output: one line per entry on stderr:
 *   2026-11-25T10:00:00.123Z INFO  mtp: connected to mqtt://127.0.0.1:1883
 * or, when stderr is the journal's stream (log_journal_detect), the entry's
 * syslog priority for journalctl -p and no timestamp (journald stamps it):
 *   <6>INFO  mtp: connected to mqtt://127.0.0.1:1883
 */
#ifndef USPC_LOG_H
#define USPC_LOG_H

#include <stdarg.h>
#include <stddef.h>

struct timespec;

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG, LOG_LVL_TRACE };

/* Written only by log_set_level (any thread, e.g. on SIGHUP) and read by
 * every macro, both as relaxed atomics (GCC/clang builtins on a plain int,
 * so includers need no <stdatomic.h>). Not for direct use. */
extern int log_current_level;
#define LOG_LEVEL_NOW_() __atomic_load_n(&log_current_level, __ATOMIC_RELAXED)

void log_set_level(enum log_level level);
/* "error", "warn", "info", "debug", "trace"; -1 if unknown. */
int log_level_from_name(const char *name);
void log_write(enum log_level level, const char *component, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Journal format on or off for every later line (set at start, before the
 * program's threads; read as a relaxed atomic). */
void log_set_journal(int on);
int log_journal(void);
/* 1 when JOURNAL_STREAM's value ("DEV:INODE", both decimal, as systemd sets
 * it for a service whose output goes to the journal) names the stream whose
 * fstat(2) gave dev and ino; 0 otherwise (NULL, malformed, another stream:
 * an inherited variable whose stderr was redirected since). */
int log_journal_stream_matches(const char *journal_stream, unsigned long long dev,
			       unsigned long long ino);
/* Check JOURNAL_STREAM against fstat(STDERR_FILENO) and set the format
 * (log_set_journal); returns it. */
int log_journal_detect(void);
/* Format one entry into line (cap bytes; nothing when under 2): the head
 * (journal: the priority <N>, and now may be NULL; else the UTC time of
 * now), level, component, the message, '\n', then a NUL not counted in the
 * length returned. A message too long is cut to fit; in the journal format
 * a '\n' inside it becomes ' ' so that the entry stays one record at its
 * priority. log_write is this on the clock's time, then one write(2). */
size_t log_format(char *line, size_t cap, int journal, const struct timespec *now,
		  enum log_level level, const char *component, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
size_t log_vformat(char *line, size_t cap, int journal, const struct timespec *now,
		   enum log_level level, const char *component, const char *fmt, va_list ap)
	__attribute__((format(printf, 7, 0)));

#define LOG_AT_(lvl, comp, ...)                                \
	do {                                                   \
		if ((lvl) <= LOG_LEVEL_NOW_())                 \
			log_write((lvl), (comp), __VA_ARGS__); \
	} while (0)
#define log_error(comp, ...) LOG_AT_(LOG_LVL_ERROR, comp, __VA_ARGS__)
#define log_warn(comp, ...) LOG_AT_(LOG_LVL_WARN, comp, __VA_ARGS__)
#define log_info(comp, ...) LOG_AT_(LOG_LVL_INFO, comp, __VA_ARGS__)
#define log_debug(comp, ...) LOG_AT_(LOG_LVL_DEBUG, comp, __VA_ARGS__)
#define log_trace(comp, ...) LOG_AT_(LOG_LVL_TRACE, comp, __VA_ARGS__)

/* True when a level is on (to guard expensive argument preparation). */
#define log_enabled(lvl) ((lvl) <= LOG_LEVEL_NOW_())

#endif
