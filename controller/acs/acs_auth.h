/*
 * acs_auth.h — the credentials of TR-069 devices: what a CPE must present
 * to uspc-acs (HTTP Basic or Digest), and what uspc-acs presents to a
 * CPE's connection-request listener (Digest).
 *
 * Two sources, per device:
 *  - a row of cwmp_credentials (username and the Digest HA1, never the
 *    password), read by the session layer;
 *  - templated: the username is a template over the DeviceId (%o OUI,
 *    %p ProductClass, %s SerialNumber, %e endpoint id, %% a '%'), and the
 *    password is derived from a secret key the operator keeps in a file:
 *    the first ACS_DERIVED_PASSWORD_LEN hex digits of
 *    HMAC-SHA256(key, username). Factory provisioning computes the same
 *    from the same key, so no per-device secret is stored anywhere.
 *
 * Also the UDP connection request (TR-069 Annex G) a device behind NAT
 * is woken with: one datagram holding an HTTP GET request line whose
 * query carries a timestamp, a message id, the username, a cnonce and
 * their signature with the connection-request password.
 *
 * Pure (OpenSSL's HMAC and MD5 only): no I/O, no globals.
 */
#ifndef USPC_ACS_AUTH_H
#define USPC_ACS_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "cwmp_msg.h"

#define ACS_DERIVED_PASSWORD_LEN 24
#define ACS_USERNAME_MAX 256
#define ACS_KEY_MAX 1024
#define ACS_UDP_CR_MAX 1200 /* bytes of a UDP connection request */

/* Expand template for a device: 0, or -1 when it does not fit, has an
 * unknown %-escape, or a part it uses is empty. */
int acs_auth_username(const char *tmpl, const struct cwmp_device_id *id, const char *eid, char *out,
		      size_t outlen);

/* The derived password of username under key (key_len bytes), NUL-
 * terminated into out[ACS_DERIVED_PASSWORD_LEN + 1]. 0, or -1. */
int acs_auth_derive(const unsigned char *key, size_t key_len, const char *username,
		    char out[ACS_DERIVED_PASSWORD_LEN + 1]);

/* HA1 = MD5(username ":" realm ":" password), 16 bytes. */
void acs_auth_ha1(const char *username, const char *realm, const char *password, uint8_t raw[16]);
/* n bytes as 2n lower-case hex digits and a NUL, into out[2n + 1]. */
void acs_hex(const void *raw, size_t n, char *out);
/* Exactly 2n hex digits (either case) into n bytes: 0, or -1 with nothing
 * written. */
int acs_unhex(const char *hex, void *raw, size_t n);

/* Constant-time equality of n bytes. */
int acs_auth_equal(const void *a, const void *b, size_t n);

/* The UDP connection request for address ("host:port", as the device's
 * UDPConnectionRequestAddress gives it; IPv6 in brackets):
 *   "GET http://<address>?ts=<ts>&id=<id>&un=<user>&cn=<cnonce>&sig=<sig>
 *    HTTP/1.1\r\nHost: <address>\r\n\r\n"
 * sig: lowercase hex HMAC-SHA1(password, ts id user cnonce as decimal and
 * text, concatenated); user percent-encoded in the query (all but
 * A-Z a-z 0-9 - . _ ~), the signature over it as it is. cnonce: up to 64
 * characters of [0-9a-zA-Z]. Returns the length written into out (cap
 * bytes, NUL-terminated), or -1 when an argument is unusable (the address
 * holds a character other than [0-9A-Za-z.:[]-], an empty part) or it
 * does not fit. */
int acs_udp_cr_build(const char *address, const char *user, const char *password, int64_t ts,
		     uint32_t id, const char *cnonce, char *out, size_t cap);

#endif
