/*
 * listen.c — an HTTP daemon's listening socket and PEM files (see
 * listen.h).
 */
#include "listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void listen_format_address(const struct sockaddr *sa, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		snprintf(buf, cap, "[%s]:%u", ip, (unsigned)ntohs(a->sin6_port));
	} else if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		snprintf(buf, cap, "%s:%u", ip, (unsigned)ntohs(a->sin_port));
	} else {
		snprintf(buf, cap, "?");
	}
}

int listen_open(const char *flag, const char *spec, int backlog, int *fd, char *address,
		size_t alen, char *msg, size_t cap)
{
	char host[256], port_s[8];
	const char *ls = spec;
	const char *colon = ls ? strrchr(ls, ':') : NULL;
	if (!colon || colon == ls || !colon[1] || strlen(colon + 1) > 5 ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) || atoi(colon + 1) > 65535) {
		snprintf(msg, cap, "%s '%s': want host:port or [ipv6]:port", flag, ls ? ls : "");
		return -1;
	}
	size_t hl = (size_t)(colon - ls);
	if (ls[0] == '[') {
		if (hl < 3 || ls[hl - 1] != ']') {
			snprintf(msg, cap, "%s '%s': an IPv6 address goes in brackets", flag, ls);
			return -1;
		}
		ls++;
		hl -= 2;
	}
	if (hl >= sizeof(host)) {
		snprintf(msg, cap, "%s: host too long", flag);
		return -1;
	}
	memcpy(host, ls, hl);
	host[hl] = '\0';
	snprintf(port_s, sizeof(port_s), "%s", colon + 1);
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
				  .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	int gai = getaddrinfo(host, port_s, &hints, &res);
	if (gai) {
		snprintf(msg, cap, "%s: cannot resolve %s: %s", flag, host, gai_strerror(gai));
		return -1;
	}
	int e = 0;
	*fd = -1;
	for (struct addrinfo *ai = res; ai && *fd < 0; ai = ai->ai_next) {
		int s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (s < 0) {
			e = e ? e : errno;
			continue;
		}
		int one = 1;
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(s, ai->ai_addr, ai->ai_addrlen) == 0 && listen(s, backlog) == 0) {
			*fd = s;
			break;
		}
		e = e ? e : errno;
		close(s);
	}
	freeaddrinfo(res);
	if (*fd < 0) {
		snprintf(msg, cap, "%s %s: cannot listen: %s", flag, spec, strerror(e));
		return -1;
	}
	struct sockaddr_storage sa;
	socklen_t sl = sizeof(sa);
	getsockname(*fd, (struct sockaddr *)&sa, &sl);
	listen_format_address((struct sockaddr *)&sa, address, alen);
	return 0;
}

char *listen_read_pem(const char *path, const char *what, char *msg, size_t cap)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(msg, cap, "%s %s: %s", what, path, strerror(errno));
		return NULL;
	}
	char *buf = malloc(LISTEN_PEM_MAX + 1);
	size_t n = buf ? fread(buf, 1, LISTEN_PEM_MAX + 1, f) : 0;
	fclose(f);
	if (!buf || n == 0 || n > LISTEN_PEM_MAX) {
		free(buf);
		snprintf(msg, cap, "%s %s: empty, unreadable or over 1 MiB", what, path);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}
