/*
 * gen_vectors.c — regenerate the golden vectors: writes <name>.hex for every
 * sample in codec_samples.c into OUTDIR (normally tests/vectors). It never
 * writes the .decode_raw files: those are the expected output of an
 * independent decoder and are written by hand from the TR-369 field numbers
 * (see README.md). With --raw it writes the bytes as binary <name>.bin
 * instead (fuzz seeds).
 *
 *   gen_vectors [--raw] OUTDIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_samples.h"
#include "pb_check.h"

static int emit(const char *dir, const char *name, int raw, const uint8_t *buf, size_t len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s.%s", dir, name, raw ? "bin" : "hex");
	int rc;
	if (raw) {
		FILE *f = fopen(path, "wb");
		rc = f && fwrite(buf, 1, len, f) == len ? 0 : -1;
		if (f && fclose(f) != 0)
			rc = -1;
	} else {
		rc = pb_hex_write(path, buf, len);
	}
	if (rc < 0)
		fprintf(stderr, "gen_vectors: cannot write %s\n", path);
	else
		printf("%s (%zu bytes)\n", path, len);
	return rc;
}

int main(int argc, char **argv)
{
	int raw = argc > 1 && strcmp(argv[1], "--raw") == 0;
	if (argc != 2 + raw) {
		fprintf(stderr, "usage: %s [--raw] OUTDIR\n", argv[0]);
		return 2;
	}
	const char *dir = argv[1 + raw];
	int failed = 0;
	for (size_t i = 0; i < codec_msg_sample_count; i++) {
		Usp__Msg *m = codec_msg_samples[i].build();
		uint8_t *buf;
		size_t len;
		if (usp_msg_encode(m, &buf, &len) < 0) {
			fprintf(stderr, "gen_vectors: cannot encode %s\n",
				codec_msg_samples[i].name);
			failed = 1;
		} else {
			failed |= emit(dir, codec_msg_samples[i].name, raw, buf, len) < 0;
			free(buf);
		}
		usp_msg_free(m);
	}
	for (size_t i = 0; i < codec_record_sample_count; i++) {
		UspRecord__Record *r = codec_record_samples[i].build();
		uint8_t *buf;
		size_t len;
		if (usp_pack(&r->base, &buf, &len) < 0) {
			fprintf(stderr, "gen_vectors: cannot pack %s\n",
				codec_record_samples[i].name);
			failed = 1;
		} else {
			failed |= emit(dir, codec_record_samples[i].name, raw, buf, len) < 0;
			free(buf);
		}
		usp_record_free(r);
	}
	return failed;
}
