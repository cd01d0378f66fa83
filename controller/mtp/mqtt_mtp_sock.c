/*
 * mqtt_mtp_sock.c — TCP_NODELAY on Paho's connection to the broker.
 *
 * Why: Paho MQTTAsync 1.3.12 never calls setsockopt(TCP_NODELAY) and has no
 * option for it, and it does not expose its socket. With Nagle's algorithm
 * on, each small PUBLISH waits for the ACK of the previous segment, which
 * the broker delays: one connection at window 100 ran 3.0k round trips/s
 * with p50 44 ms, and 17k/s with p50 4.9 ms once NODELAY was forced
 * (docs/mqtt-clients.md).
 *
 * How: after each CONNACK, scan /proc/self/fd for sockets that are TCP
 * (SO_TYPE stream, SO_PROTOCOL tcp, an AF_INET/AF_INET6 local address),
 * whose peer is one of the broker's addresses at the broker's port, and
 * that do not have TCP_NODELAY yet; set it on those. TLS runs on the same
 * kind of socket, so mqtts:// is covered too. Nothing else is touched:
 * a socket that is not TCP, not to the broker's address and port, or
 * already NODELAY is left as it is. Another connection of this process to
 * the same broker (a second transport, a libmosquitto client) may get
 * NODELAY as well; that only turns Nagle off for it, which is harmless.
 * A descriptor closed and reused while we look at it is checked again
 * just before setsockopt, and a setsockopt on anything else fails.
 *
 * Threads: the mtp-conn thread (name resolution may block). No locking,
 * no logging: the caller logs and counts.
 */
#include "mqtt_mtp_internal.h"

#include <dirent.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define MAX_ADDRS 16

struct broker_addrs {
	struct sockaddr_storage a[MAX_ADDRS];
	int n;
	int port;
};

static int resolve(const char *host, int port, struct broker_addrs *ba, char *why, size_t why_size)
{
	struct addrinfo hints, *res = NULL, *ai;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0) {
		snprintf(why, why_size, "cannot resolve %s: %s", host, gai_strerror(rc));
		return MQTT_MTP_E_SYS;
	}
	ba->n = 0;
	ba->port = port;
	for (ai = res; ai && ba->n < MAX_ADDRS; ai = ai->ai_next) {
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof(ba->a[0]))
			continue;
		memcpy(&ba->a[ba->n++], ai->ai_addr, ai->ai_addrlen);
	}
	freeaddrinfo(res);
	if (ba->n == 0) {
		snprintf(why, why_size, "%s has no IPv4/IPv6 address", host);
		return MQTT_MTP_E_SYS;
	}
	return 0;
}

/* An IPv4 address as seen in sa (AF_INET, or an IPv4-mapped AF_INET6). */
static int v4_of(const struct sockaddr_storage *sa, struct in_addr *out)
{
	if (sa->ss_family == AF_INET) {
		*out = ((const struct sockaddr_in *)sa)->sin_addr;
		return 1;
	}
	if (sa->ss_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)sa)->sin6_addr)) {
		memcpy(out, ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr + 12, 4);
		return 1;
	}
	return 0;
}

static int peer_is_broker(const struct sockaddr_storage *peer, const struct broker_addrs *ba)
{
	struct in_addr p4, b4;
	int port;

	if (peer->ss_family == AF_INET)
		port = ntohs(((const struct sockaddr_in *)peer)->sin_port);
	else if (peer->ss_family == AF_INET6)
		port = ntohs(((const struct sockaddr_in6 *)peer)->sin6_port);
	else
		return 0;
	if (port != ba->port)
		return 0;
	for (int i = 0; i < ba->n; i++) {
		const struct sockaddr_storage *b = &ba->a[i];

		if (v4_of(peer, &p4) && v4_of(b, &b4)) {
			if (p4.s_addr == b4.s_addr)
				return 1;
		} else if (peer->ss_family == AF_INET6 && b->ss_family == AF_INET6 &&
			   memcmp(&((const struct sockaddr_in6 *)peer)->sin6_addr,
				  &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0) {
			return 1;
		}
	}
	return 0;
}

/* 1 when fd is a TCP socket of ours connected to the broker. */
static int is_broker_tcp(int fd, const struct broker_addrs *ba)
{
	struct sockaddr_storage local, peer;
	socklen_t ll = sizeof(local), pl = sizeof(peer), ol;
	struct stat st;
	int type = 0, proto = 0;

	if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
		return 0;
	ol = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &ol) != 0 || type != SOCK_STREAM)
		return 0;
	ol = sizeof(proto);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &ol) != 0 || proto != IPPROTO_TCP)
		return 0;
	if (getsockname(fd, (struct sockaddr *)&local, &ll) != 0 ||
	    (local.ss_family != AF_INET && local.ss_family != AF_INET6))
		return 0;
	if (getpeername(fd, (struct sockaddr *)&peer, &pl) != 0)
		return 0;
	return peer_is_broker(&peer, ba);
}

int mtp_sock_nodelay(const char *host, int port, int *already, char *why, size_t why_size)
{
	struct broker_addrs ba;
	struct dirent *de;
	DIR *d;
	int n = 0, rc;

	*already = 0;
	if (!host || port < 1) {
		snprintf(why, why_size, "no broker address");
		return MQTT_MTP_E_INVAL;
	}
	rc = resolve(host, port, &ba, why, why_size);
	if (rc < 0)
		return rc;
	d = opendir("/proc/self/fd");
	if (!d) {
		snprintf(why, why_size, "cannot list /proc/self/fd: %s", strerror(errno));
		return MQTT_MTP_E_SYS;
	}
	while ((de = readdir(d)) != NULL) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);
		int on = 0;
		socklen_t ol = sizeof(on);

		if (*end || end == de->d_name || fd < 0 || fd == dirfd(d) ||
		    !is_broker_tcp((int)fd, &ba))
			continue;
		if (getsockopt((int)fd, IPPROTO_TCP, TCP_NODELAY, &on, &ol) != 0)
			continue;
		if (on) {
			(*already)++;
			continue;
		}
		on = 1;
		if (is_broker_tcp((int)fd, &ba) &&
		    setsockopt((int)fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == 0)
			n++;
	}
	closedir(d);
	return n;
}
