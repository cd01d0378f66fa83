/*
 * api_static.c — the console's files (see api_static.h).
 */
#include "api_static.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int api_static_path(const char *path, char *out, size_t cap)
{
	if (!path || path[0] != '/')
		return -1;
	const char *rel = path + 1;
	if (!*rel)
		rel = "index.html";
	size_t n = strlen(rel);
	if (n + 1 > cap || n > 255)
		return -1;
	if (strchr(rel, '\\') || rel[n - 1] == '/')
		return -1;
	/* Every segment: not empty, not starting with '.', only safe bytes. */
	const char *seg = rel;
	for (const char *p = rel;; p++) {
		if (*p == '/' || !*p) {
			if (p == seg || *seg == '.')
				return -1;
			if (!*p)
				break;
			seg = p + 1;
		} else if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.')) {
			return -1;
		}
	}
	memcpy(out, rel, n + 1);
	return 0;
}

const char *api_static_type(const char *file)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".mjs", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".json", "application/json" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
		{ ".ico", "image/x-icon" },
		{ ".txt", "text/plain; charset=utf-8" },
	};
	const char *dot = strrchr(file, '.');
	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

int api_static_open(const char *dir, const char *rel, size_t *size)
{
	char base[PATH_MAX], full[PATH_MAX];
	if (!realpath(dir, base))
		return -1;
	int dfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	int fd = openat(dfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	close(dfd);
	if (fd < 0)
		return -1;
	struct stat st;
	char link[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t l = readlink(link, full, sizeof(full) - 1);
	size_t bl = strlen(base);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || l <= 0 ||
	    ((full[l] = '\0'), strncmp(full, base, bl) != 0) || full[bl] != '/') {
		close(fd);
		return -1;
	}
	*size = (size_t)st.st_size;
	return fd;
}
