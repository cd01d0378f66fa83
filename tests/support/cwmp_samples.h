/*
 * cwmp_samples.h — sample CWMP messages (one per buildable method) and a
 * deep field-by-field comparison of two struct cwmp_msg, shared by the
 * codec's unit tests (tests/unit/test_cwmp_*.c) and its fuzz target.
 *
 * Test-only. A sample's strings are borrowed constants: never pass a
 * sample to cwmp_msg_free (cwmp_sample_fini releases its arrays).
 */
#ifndef USPC_TESTS_CWMP_SAMPLES_H
#define USPC_TESTS_CWMP_SAMPLES_H

#include <stddef.h>

#include "cwmp_msg.h"

/* Fills m for method (every field the method uses set to a non-default
 * value, texts that need escaping among them) in namespace ns with cwmp:ID
 * id (NULL: no header). Returns 0, or -1 for EMPTY/UNKNOWN. */
int cwmp_sample(enum cwmp_method method, enum cwmp_ns ns, const char *id, struct cwmp_msg *m);
void cwmp_sample_fini(struct cwmp_msg *m);

/* 1 when a and b carry the same values in every field (strings compared
 * by content, NULL only equal to NULL); else 0 and the first difference
 * named in why. */
int cwmp_msg_equal(const struct cwmp_msg *a, const struct cwmp_msg *b, char *why, size_t whylen);

#endif
