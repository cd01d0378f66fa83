/*
 * mqtt_mtp_sock.c — TCP_NODELAY on Paho's connection to the broker.
 *
 * Why: Paho MQTTAsync 1.3.12 never calls setsockopt(TCP_NODELAY) and has no
 * option for it, and it does not expose its socket. With Nagle's algorithm
 * on, each small PUBLISH waits for the ACK of the previous segment, which
 * the broker delays: one connection at window 100 ran 3.0k round trips/s
 * with p50 44 ms, and 17k/s with p50 4.9 ms once NODELAY was forced
 * (docs/design.md).
 *
 * How: after each CONNACK, list this process's sockets (/proc/self/fd
 * links "socket:[inode]", read without touching the descriptors) and keep
 * those that /proc/self/net/tcp and tcp6 show connected to the broker's
 * port: other threads' sockets (libpq's, being opened or closed right now)
 * are never fstat'ed or getsockopt'ed. Each candidate is then checked for
 * being TCP
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
#include <unistd.h>

#define MAX_ADDRS 16
#define MAX_OWN_SOCKETS 256 /* sockets of this process looked at, at most */

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

struct own_socket {
	int fd;
	unsigned long inode;
	int to_broker_port; /* /proc/self/net/tcp{,6} says so */
};

/* This process's sockets: descriptor and inode, from the /proc/self/fd
 * links alone. Returns how many (at most cap), or MQTT_MTP_E_SYS (errno
 * set). */
static int list_own_sockets(struct own_socket *out, int cap)
{
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return MQTT_MTP_E_SYS;
	while (n < cap && (de = readdir(d)) != NULL) {
		char path[64], link[64];
		char *end;
		long fd = strtol(de->d_name, &end, 10);
		unsigned long ino;
		ssize_t len;

		if (*end || end == de->d_name || fd < 0 || fd == dirfd(d))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%ld", fd);
		len = readlink(path, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		if (sscanf(link, "socket:[%lu]", &ino) != 1)
			continue;
		out[n].fd = (int)fd;
		out[n].inode = ino;
		out[n].to_broker_port = 0;
		n++;
	}
	closedir(d);
	return n;
}

/* Mark the sockets that table (/proc/self/net/tcp or tcp6) shows
 * established to a remote port `port`. Lines: "sl local rem st ... inode". */
static void mark_broker_port(const char *table, int port, struct own_socket *own, int n)
{
	char line[512];
	FILE *f = fopen(table, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char rem[80];
		unsigned st, rport;
		unsigned long ino;
		const char *colon;

		if (sscanf(line, " %*s %*s %79s %x %*s %*s %*s %*s %*s %lu", rem, &st, &ino) != 3)
			continue;
		colon = strrchr(rem, ':');
		if (!colon || sscanf(colon + 1, "%x", &rport) != 1 || (int)rport != port ||
		    st != 1 /* TCP_ESTABLISHED */)
			continue;
		for (int i = 0; i < n; i++)
			if (own[i].inode == ino)
				own[i].to_broker_port = 1;
	}
	fclose(f);
}

int mtp_sock_nodelay(const char *host, int port, int *already, char *why, size_t why_size)
{
	struct broker_addrs ba;
	struct own_socket own[MAX_OWN_SOCKETS];
	int n = 0, nown, rc;

	*already = 0;
	if (!host || port < 1) {
		snprintf(why, why_size, "no broker address");
		return MQTT_MTP_E_INVAL;
	}
	rc = resolve(host, port, &ba, why, why_size);
	if (rc < 0)
		return rc;
	nown = list_own_sockets(own, MAX_OWN_SOCKETS);
	if (nown < 0) {
		snprintf(why, why_size, "cannot list /proc/self/fd: %s", strerror(errno));
		return nown;
	}
	mark_broker_port("/proc/self/net/tcp", port, own, nown);
	mark_broker_port("/proc/self/net/tcp6", port, own, nown);
	for (int i = 0; i < nown; i++) {
		int fd = own[i].fd, on = 0;
		socklen_t ol = sizeof(on);

		if (!own[i].to_broker_port || !is_broker_tcp(fd, &ba))
			continue;
		if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &ol) != 0)
			continue;
		if (on) {
			(*already)++;
			continue;
		}
		on = 1;
		if (is_broker_tcp(fd, &ba) &&
		    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == 0)
			n++;
	}
	return n;
}
