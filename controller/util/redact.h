/*
 * redact.h — passwords out of connection strings before they are printed or
 * logged: PostgreSQL conninfo (key = value pairs, or a postgresql:// URI
 * with user:password@ or a password= query parameter) and broker URLs
 * (mqtt://user:password@host). Pure; no allocation visible to callers.
 */
#ifndef USPC_REDACT_H
#define USPC_REDACT_H

#include <stddef.h>

/*
 * Copy `in` into buf (cap bytes, always NUL-terminated when cap > 0) with
 * every password value (keys password and sslpassword, any case) replaced
 * by "***":
 *   postgresql://u:secret@h/db        → postgresql://u:***@h/db
 *   postgresql://h/db?password=secret → postgresql://h/db?password=***
 *   host=h password = 'a b' dbname=x  → host=h password=*** dbname=x
 * The whole string is redacted before it is cut to fit, so a short buffer
 * never shows part of a password. NULL prints as "".
 */
void uspc_redact(const char *in, char *buf, size_t cap);

#endif
