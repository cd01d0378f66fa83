/*
 * listen.h — the listening socket of an HTTP daemon (uspc-api, uspc-acs):
 * "host:port" or "[ipv6]:port" parsed, resolved, bound and listening
 * (port 0: any free port), and the address it got, for logs and tests;
 * plus reading a PEM file for TLS. Errors are one line naming the flag.
 */
#ifndef USPC_LISTEN_H
#define USPC_LISTEN_H

#include <stddef.h>
#include <sys/socket.h>

#define LISTEN_PEM_MAX (1024 * 1024)

/* Open a listening socket (close-on-exec, SO_REUSEADDR) for spec; flag
 * names it in messages ("--listen"). 0 with *fd and address ("ip:port" or
 * "[ip6]:port") set, or -1 with msg. */
int listen_open(const char *flag, const char *spec, int backlog, int *fd, char *address,
		size_t alen, char *msg, size_t cap);

/* "ip:port" / "[ip6]:port" of sa. */
void listen_format_address(const struct sockaddr *sa, char *buf, size_t cap);

/* A PEM file's text (malloc'd, NUL-terminated; at most LISTEN_PEM_MAX),
 * or NULL with msg naming what and path. */
char *listen_read_pem(const char *path, const char *what, char *msg, size_t cap);

#endif
