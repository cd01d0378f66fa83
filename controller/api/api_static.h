/*
 * api_static.h — the web console's files (docs/console.md): a request path
 * to a file under the console directory, refusing anything that could
 * leave it ("..", backslashes, NUL, hidden files, symlinks out of it), and
 * the Content-Type by extension. "/" is index.html. The path check is pure
 * (unit-tested in test_api_route).
 */
#ifndef USPC_API_STATIC_H
#define USPC_API_STATIC_H

#include <stddef.h>

/* The relative file for a decoded request path ("/" → "index.html"), into
 * out (cap bytes). 0, or -1 for a path that is refused. */
int api_static_path(const char *path, char *out, size_t cap);

/* "text/html; charset=utf-8" etc.; application/octet-stream when unknown. */
const char *api_static_type(const char *file);

/* Open dir/rel for reading: the fd and its size, or -1 (missing, not a
 * regular file, or resolving outside dir). */
int api_static_open(const char *dir, const char *rel, size_t *size);

#endif
