/*
 * test_wire.c — the wire_check test. For every sample message and record
 * (codec_samples.c) it pins both directions against committed data files in
 * tests/vectors/:
 *   encode: our bytes == <name>.hex, and `protoc --decode_raw` of those
 *           bytes == <name>.decode_raw, which was written by hand from the
 *           TR-369 field numbers and wire types (fixed32 prints as
 *           0x........). A drifted field number or wire type fails here.
 *   decode: <name>.hex decodes with our codec, passes validation, carries
 *           the expected type / msg_id / endpoint IDs and equals the sample.
 * It also fails on vector files that belong to no sample (stale vectors).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "codec_samples.h"
#include "pb_check.h"

#define MAX_TEXT (1u << 20)

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *buf = malloc(MAX_TEXT);
	size_t n = buf ? fread(buf, 1, MAX_TEXT - 1, f) : 0;
	fclose(f);
	if (buf)
		buf[n] = '\0';
	return buf;
}

static void vector_path(char *out, size_t cap, const char *name, const char *ext)
{
	snprintf(out, cap, "%s/%s.%s", USPC_VECTORS_DIR, name, ext);
}

/* Run protoc --decode_raw on bytes; returns its stdout (malloc'd). */
static char *decode_raw(const uint8_t *buf, size_t len)
{
	if (strstr(USPC_PROTOC, "NOTFOUND") || access(USPC_PROTOC, X_OK) != 0)
		fail_msg(
			"protoc not found (install Debian protobuf-compiler); wire_check needs it");
	char in[] = "/tmp/uspc-wire-XXXXXX";
	int fd = mkstemp(in);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "'%s' --decode_raw < '%s'", USPC_PROTOC, in);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char *text = malloc(MAX_TEXT);
	assert_non_null(text);
	size_t n = fread(text, 1, MAX_TEXT - 1, p);
	text[n] = '\0';
	int status = pclose(p);
	unlink(in);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("protoc --decode_raw failed (status %d)", status);
	return text;
}

static void report_mismatch(const char *name, const char *want, const char *got)
{
	const char *w = want, *g = got;
	int line = 1;
	while (*w && *w == *g) {
		line += *w == '\n';
		w++;
		g++;
	}
	print_error("%s.decode_raw: first difference at line %d\n--- expected\n%s--- protoc\n%s",
		    name, line, want, got);
}

/* Encode direction for one sample's bytes. */
static void check_encoding(const char *name, const uint8_t *buf, size_t len)
{
	char path[4096];
	uint8_t *golden;
	size_t golden_len;
	vector_path(path, sizeof(path), name, "hex");
	if (pb_hex_read(path, &golden, &golden_len) < 0)
		fail_msg("cannot read %s", path);
	if (golden_len != len || memcmp(golden, buf, len) != 0)
		fail_msg(
			"%s: encoder output (%zu bytes) differs from %s (%zu bytes); if the "
			"change is intended, regenerate with gen_vectors and update the .decode_raw",
			name, len, path, golden_len);
	free(golden);

	vector_path(path, sizeof(path), name, "decode_raw");
	char *want = read_text(path);
	if (!want)
		fail_msg("cannot read %s", path);
	char *got = decode_raw(buf, len);
	if (strcmp(want, got) != 0) {
		report_mismatch(name, want, got);
		fail_msg("%s: protoc --decode_raw output differs from the expected text", name);
	}
	free(want);
	free(got);
}

static uint8_t *read_golden(const char *name, size_t *len)
{
	char path[4096];
	uint8_t *buf;
	vector_path(path, sizeof(path), name, "hex");
	if (pb_hex_read(path, &buf, len) < 0)
		fail_msg("cannot read %s", path);
	return buf;
}

static void test_msg_vector(void **state)
{
	const struct msg_sample *s = *state;
	Usp__Msg *m = s->build();
	uint8_t *buf;
	size_t len;
	assert_int_equal(usp_msg_encode(m, &buf, &len), 0);
	check_encoding(s->name, buf, len);
	free(buf);

	/* decode direction: the committed bytes, not our fresh encoding */
	uint8_t *golden = read_golden(s->name, &len);
	Usp__Msg *back = NULL;
	struct uspc_err err = { 0, "" };
	if (usp_msg_decode(golden, len, &back, &err) != 0)
		fail_msg("%s: decoding the golden vector failed: %s", s->name, err.msg);
	assert_int_equal(usp_msg_type(back), s->type);
	assert_int_equal(back->header->msg_type, s->type);
	assert_string_equal(usp_msg_id(back), s->msg_id);
	assert_non_null(usp_msg_payload(back));
	char where[256] = "";
	if (!pb_check_equal(&m->base, &back->base, where, sizeof(where)))
		fail_msg("%s: golden vector decodes differently at %s", s->name, where);
	free(golden);
	usp_msg_free(back);
	usp_msg_free(m);
}

static void test_record_vector(void **state)
{
	const struct record_sample *s = *state;
	UspRecord__Record *r = s->build();
	uint8_t *buf;
	size_t len;
	assert_int_equal(usp_pack(&r->base, &buf, &len), 0);
	check_encoding(s->name, buf, len);
	free(buf);

	uint8_t *golden = read_golden(s->name, &len);
	UspRecord__Record *back = NULL;
	struct uspc_err err = { 0, "" };
	if (usp_record_unwrap(golden, len, NULL, &back, &err) != 0)
		fail_msg("%s: unwrapping the golden vector failed: %s", s->name, err.msg);
	assert_int_equal(back->record_type_case, s->type);
	assert_string_equal(back->version, SAMPLE_RECORD_VERSION);
	assert_string_equal(back->to_id, SAMPLE_AGENT_EID);
	assert_string_equal(back->from_id, SAMPLE_CTL_EID);
	assert_int_equal(back->payload_security, USP_RECORD__RECORD__PAYLOAD_SECURITY__TLS12);
	if (s->type == USP_RECORD__RECORD__RECORD_TYPE_NO_SESSION_CONTEXT) {
		Usp__Msg *inner = NULL;
		assert_int_equal(usp_msg_decode(back->no_session_context->payload.data,
						back->no_session_context->payload.len, &inner,
						NULL),
				 0);
		assert_int_equal(usp_msg_type(inner), USP__HEADER__MSG_TYPE__GET);
		assert_string_equal(usp_msg_id(inner), "v-get");
		usp_msg_free(inner);
	}
	char where[256] = "";
	if (!pb_check_equal(&r->base, &back->base, where, sizeof(where)))
		fail_msg("%s: golden vector decodes differently at %s", s->name, where);
	free(golden);
	usp_record_free(back);
	usp_record_free(r);
}

static int known_stem(const char *stem)
{
	for (size_t i = 0; i < codec_msg_sample_count; i++)
		if (strcmp(stem, codec_msg_samples[i].name) == 0)
			return 1;
	for (size_t i = 0; i < codec_record_sample_count; i++)
		if (strcmp(stem, codec_record_samples[i].name) == 0)
			return 1;
	return 0;
}

static void test_no_stale_vectors(void **state)
{
	(void)state;
	DIR *d = opendir(USPC_VECTORS_DIR);
	assert_non_null(d);
	struct dirent *e;
	int stale = 0;
	while ((e = readdir(d))) {
		char stem[256];
		const char *dot = strrchr(e->d_name, '.');
		if (!dot || (strcmp(dot, ".hex") != 0 && strcmp(dot, ".decode_raw") != 0))
			continue;
		snprintf(stem, sizeof(stem), "%.*s", (int)(dot - e->d_name), e->d_name);
		if (!known_stem(stem)) {
			print_error("vector file without a sample: %s\n", e->d_name);
			stale = 1;
		}
	}
	closedir(d);
	assert_false(stale);
}

int main(void)
{
	size_t n = codec_msg_sample_count + codec_record_sample_count + 1, k = 0;
	struct CMUnitTest *tests = calloc(n, sizeof(*tests));
	assert_non_null(tests);
	for (size_t i = 0; i < codec_msg_sample_count; i++)
		tests[k++] = (struct CMUnitTest){ codec_msg_samples[i].name, test_msg_vector, NULL,
						  NULL, (void *)&codec_msg_samples[i] };
	for (size_t i = 0; i < codec_record_sample_count; i++)
		tests[k++] = (struct CMUnitTest){ codec_record_samples[i].name, test_record_vector,
						  NULL, NULL, (void *)&codec_record_samples[i] };
	tests[k++] =
		(struct CMUnitTest){ "no_stale_vectors", test_no_stale_vectors, NULL, NULL, NULL };
	int rc = _cmocka_run_group_tests("wire_check", tests, k, NULL, NULL);
	free(tests);
	return rc;
}
