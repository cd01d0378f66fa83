/*
 * codec_samples.h — the sample USP messages and records behind the codec
 * round-trip tests, the golden vectors (tests/vectors/<name>.hex and
 * <name>.decode_raw) and the fuzz seeds. Every sample is heap-built with
 * usp_msg_new()/usp_pb_new() and the usp_pb_* helpers; taken together the
 * samples give every field of both schemas a non-default value
 * (test_usp_msg / test_usp_record assert that).
 *
 * Test-only: builders abort() on allocation failure.
 */
#ifndef USPC_TESTS_CODEC_SAMPLES_H
#define USPC_TESTS_CODEC_SAMPLES_H

#include <stddef.h>

#include "usp_msg.h"
#include "usp_record.h"

struct msg_sample {
	const char *name;          /* vector file stem, e.g. "msg_get" */
	Usp__Header__MsgType type; /* what usp_msg_type() must report */
	const char *msg_id;        /* what the header carries */
	Usp__Msg *(*build)(void);  /* caller frees with usp_msg_free() */
};

struct record_sample {
	const char *name; /* e.g. "record_mqtt_connect" */
	UspRecord__Record__RecordTypeCase type;
	UspRecord__Record *(*build)(void); /* caller frees with usp_record_free() */
};

extern const struct msg_sample codec_msg_samples[];
extern const size_t codec_msg_sample_count;
extern const struct record_sample codec_record_samples[];
extern const size_t codec_record_sample_count;

/* Endpoint IDs and version every record sample carries. */
#define SAMPLE_AGENT_EID "os::00256D-SN0001"
#define SAMPLE_CTL_EID "proto::uspc-ctl"
#define SAMPLE_RECORD_VERSION "1.4"

#endif
