/*
 * test_usp_utf8.c — UTF-8 checks of strings off the wire (usp_utf8.c):
 * sequence classification at the edges of the encoding, the word-at-a-time
 * ASCII path against a byte-by-byte reference at every alignment, and the
 * U+FFFD repair.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "usp_utf8.h"

/* Byte-by-byte reference: what usp_utf8_valid_prefix must equal. */
static size_t ref_prefix(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		size_t n = usp_utf8_seq(p + i, len - i);
		if (n == 0)
			break;
		i += n;
	}
	return i;
}

static void test_sequences(void **state)
{
	(void)state;
	static const struct {
		const char *bytes;
		size_t avail, want;
	} cases[] = {
		{ "A", 1, 1 },
		{ "\x7f", 1, 1 },
		{ "\xc2\x80", 2, 2 },         /* U+0080, the first 2-byte form */
		{ "\xc1\xbf", 2, 0 },         /* overlong U+007F */
		{ "\xc0\x80", 2, 0 },         /* overlong NUL */
		{ "\xe0\xa0\x80", 3, 3 },     /* U+0800 */
		{ "\xe0\x9f\xbf", 3, 0 },     /* overlong U+07FF */
		{ "\xed\x9f\xbf", 3, 3 },     /* U+D7FF */
		{ "\xed\xa0\x80", 3, 0 },     /* U+D800, a surrogate */
		{ "\xed\xbf\xbf", 3, 0 },     /* U+DFFF */
		{ "\xef\xbf\xbd", 3, 3 },     /* U+FFFD */
		{ "\xf0\x90\x80\x80", 4, 4 }, /* U+10000 */
		{ "\xf0\x8f\xbf\xbf", 4, 0 }, /* overlong U+FFFF */
		{ "\xf4\x8f\xbf\xbf", 4, 4 }, /* U+10FFFF */
		{ "\xf4\x90\x80\x80", 4, 0 }, /* above U+10FFFF */
		{ "\xf5\x80\x80\x80", 4, 0 },
		{ "\x80", 1, 0 },         /* a lone continuation byte */
		{ "\xe2\x82\xac", 2, 0 }, /* U+20AC cut short */
		{ "\xe2\x28\xac", 3, 0 }, /* a bad continuation byte */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t got = usp_utf8_seq((const unsigned char *)cases[i].bytes, cases[i].avail);
		if (got != cases[i].want)
			fail_msg("case %zu: got %zu, want %zu", i, got, cases[i].want);
	}
}

/* An invalid byte, or a multi-byte sequence, at every offset of an ASCII
 * string, so the word-at-a-time path meets it at every alignment and on
 * both sides of a word boundary. */
static void test_prefix_at_every_offset(void **state)
{
	(void)state;
	static const char *inserts[] = { "\xff",         "\xc3\xa9",
					 "\xe2\x82\xac", "\xf0\x9f\x98\x80",
					 "\xe2\x82",     "\xed\xa0\x80" };
	char buf[64];
	for (size_t k = 0; k < sizeof(inserts) / sizeof(inserts[0]); k++) {
		size_t ins = strlen(inserts[k]);
		for (size_t off = 0; off + ins <= 40; off++) {
			for (size_t total = off + ins; total <= 40; total += 7) {
				memset(buf, 'a', sizeof(buf));
				memcpy(buf + off, inserts[k], ins);
				size_t want = ref_prefix(buf, total);
				size_t got = usp_utf8_valid_prefix(buf, total);
				if (got != want)
					fail_msg("insert %zu at %zu of %zu: got %zu, want %zu", k,
						 off, total, got, want);
				assert_int_equal(usp_utf8_valid(buf, total), want == total);
			}
		}
	}
	/* a valid multi-byte sequence is passed over, an invalid one stops it */
	assert_int_equal(usp_utf8_valid_prefix("abcdefgh\xc3\xa9xyz", 13), 13);
	assert_int_equal(usp_utf8_valid_prefix("abcdefgh\xc3xyz", 12), 8);
	assert_int_equal(usp_utf8_valid_prefix("", 0), 0);
	/* a NUL byte is ASCII: lengths, not terminators, bound the check */
	assert_int_equal(usp_utf8_valid_prefix("ab\0cd\xff", 6), 5);
}

/* Pseudo-random bytes biased to the UTF-8 lead and continuation ranges:
 * the fast path and the reference must agree on every string. */
static void test_prefix_matches_reference(void **state)
{
	(void)state;
	static const unsigned char pool[] = { 'a',  'z',  0x00, 0x7f, 0x80, 0xbf, 0xc2, 0xdf,
					      0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0xa0 };
	uint32_t x = 2463534242u;
	unsigned char buf[48];
	for (int round = 0; round < 200000; round++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		size_t len = x % sizeof(buf);
		for (size_t i = 0; i < len; i++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			/* mostly ASCII, as on the wire */
			buf[i] = (x & 3) ? (unsigned char)('a' + (x >> 8) % 26)
					 : pool[(x >> 8) % 16];
		}
		size_t want = ref_prefix((const char *)buf, len);
		size_t got = usp_utf8_valid_prefix((const char *)buf, len);
		if (got != want)
			fail_msg("round %d (len %zu): got %zu, want %zu", round, len, got, want);
	}
}

static void test_sanitize(void **state)
{
	(void)state;
	char *s = usp_utf8_sanitize("abcdefghij\xff"
				    "k\xe2\x82\xac\xc3",
				    16);
	assert_non_null(s);
	assert_string_equal(s, "abcdefghij\xef\xbf\xbdk\xe2\x82\xac\xef\xbf\xbd");
	assert_true(usp_utf8_valid(s, strlen(s)));
	free(s);

	s = usp_utf8_sanitize("plain ascii, longer than a word", 31);
	assert_non_null(s);
	assert_string_equal(s, "plain ascii, longer than a word");
	free(s);

	/* each byte of a bad sequence is replaced on its own */
	s = usp_utf8_sanitize("\xed\xa0\x80", 3);
	assert_non_null(s);
	assert_string_equal(s, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sequences),
		cmocka_unit_test(test_prefix_at_every_offset),
		cmocka_unit_test(test_prefix_matches_reference),
		cmocka_unit_test(test_sanitize),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
