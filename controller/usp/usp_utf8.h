/*
 * usp_utf8.h — UTF-8 checks for strings that come off the wire. Protobuf
 * `string` fields must hold UTF-8 (proto3), but protobuf-c does not check;
 * the codec checks what it relies on (msg_id) and the JSON mapping writes
 * other invalid strings with U+FFFD replacements. Pure.
 */
#ifndef USP_UTF8_H
#define USP_UTF8_H

#include <stddef.h>

/* Length (1..4) of the valid UTF-8 sequence at s, or 0: rejects overlong
 * forms, surrogates and code points above U+10FFFF. avail >= 1. */
size_t usp_utf8_seq(const unsigned char *s, size_t avail);

/* Length of the longest prefix of s[0..len) that is valid UTF-8 (len when
 * all of it is); ASCII runs are checked a word at a time. */
size_t usp_utf8_valid_prefix(const char *s, size_t len);

/* 1 when s[0..len) is entirely valid UTF-8. */
int usp_utf8_valid(const char *s, size_t len);

/* malloc'd copy of s[0..len) with every byte that does not start a valid
 * sequence replaced by U+FFFD; NULL on ENOMEM. */
char *usp_utf8_sanitize(const char *s, size_t len);

#endif
