/*
 * store_sql.h — pure helpers for building statement parameters: PostgreSQL
 * array literals (so one statement can carry thousands of rows through
 * unnest()), JSON strings, shell-glob → LIKE conversion, UTF-8 repair. No I/O, no libpq;
 * any thread (each buffer belongs to one thread).
 */
#ifndef USPC_STORE_SQL_H
#define USPC_STORE_SQL_H

#include <stddef.h>
#include <stdint.h>

/* A growable text buffer with a hard cap. Once an append would pass max (or
 * allocation fails) the buffer is marked failed and stays so. */
struct store_buf {
	char *p; /* NUL-terminated while len > 0 */
	size_t len;
	size_t cap;
	size_t max; /* hard cap on len */
	int failed;
};
void store_buf_init(struct store_buf *b, size_t max);
void store_buf_fini(struct store_buf *b);
void store_buf_reset(struct store_buf *b); /* len = 0, failed = 0, keeps memory */
void store_buf_add(struct store_buf *b, const char *s, size_t n);
void store_buf_adds(struct store_buf *b, const char *s);
/* Always a valid C string ("" when empty); NULL when failed. */
const char *store_buf_str(struct store_buf *b);

/*
 * Array literal builder: store_arr_begin writes "{", each store_arr_add
 * appends one element quoted as PostgreSQL's array input expects ("..."
 * with \ and " escaped; NULL → unquoted NULL), store_arr_end writes "}".
 */
void store_arr_begin(struct store_buf *b);
void store_arr_add(struct store_buf *b, const char *elem);
void store_arr_addn(struct store_buf *b, const char *elem, size_t n); /* n bytes of elem */
void store_arr_add_i64(struct store_buf *b, int64_t v);
void store_arr_end(struct store_buf *b);

/* Append s as a JSON string: quoted, with " and \ escaped and control
 * characters as \u00XX (s must be valid UTF-8: see store_utf8_repair). */
void store_json_str(struct store_buf *b, const char *s);

/* Convert a shell glob (* ? and \ escapes) to a LIKE pattern with \ as the
 * escape character (% and _ in the glob become literal). Returns 0, or
 * STORE_E_ARG when out (size len) is too small or the glob ends in a lone
 * backslash. */
int store_glob_to_like(const char *glob, char *out, size_t len);

/* Escape a literal prefix for LIKE and append '%'. 0, or STORE_E_ARG if too
 * long. */
int store_prefix_to_like(const char *prefix, char *out, size_t len);

/* Replace every byte that is not part of a well-formed UTF-8 sequence (and
 * NUL is impossible in a C string) by '?', in place. Returns the number of
 * bytes replaced. */
size_t store_utf8_repair(char *s, size_t len);

/* True when s is 1..STORE_NAME_MAX bytes of [A-Za-z0-9_.:/+-] (a tag; "/" and
 * "+" let one carry a time zone name such as tz:Etc/GMT+3). */
int store_tag_valid(const char *s);

#endif
