/*
 * fuzz_acs_digest.c — libFuzzer target for uspc-acs's HTTP Digest
 * Authorization parser and checker (controller/acs/acs_digest.c): any
 * header a client sends is parsed without reading past its end, and a
 * parsed answer is checked (it never passes: the key is random and the
 * HA1 not the client's). Seeds: tests/vectors/fuzz_acs_digest/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acs_digest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct acs_digest_key key;
	static int ready;
	if (!ready) {
		if (acs_digest_key_init(&key) < 0)
			abort();
		ready = 1;
	}
	char *h = malloc(size + 1);
	if (!h)
		return 0;
	memcpy(h, data, size);
	h[size] = '\0';
	struct acs_digest_auth a;
	if (acs_digest_parse(h, &a) == 0) {
		const uint8_t ha1[16] = { 0 };
		if (acs_digest_check(&key, &a, "uspc-acs", "POST", "/", ha1, 0, 300) ==
		    ACS_DIGEST_OK)
			abort(); /* a forged nonce was accepted */
	}
	free(h);
	return 0;
}
