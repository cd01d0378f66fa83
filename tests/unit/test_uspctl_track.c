/* test_uspctl_track.c — the in-flight task table: every added task is found
 * until removed, removal keeps the others reachable (backward-shift deletion
 * and the dense-array swap), and the capacity and duplicate rules hold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "uspctl_track.h"

static struct uspctl_pend pend(int64_t id)
{
	struct uspctl_pend p = { .task = id, .deadline_ms = id * 10 };
	return p;
}

static void test_add_find_remove(void **state)
{
	struct uspctl_track t;
	assert_int_equal(uspctl_track_init(&t, 4), 0);
	for (int64_t id = 1; id <= 4; id++) {
		struct uspctl_pend p = pend(id * 1000);
		assert_int_equal(uspctl_track_add(&t, &p), 0);
	}
	struct uspctl_pend extra = pend(5);
	assert_int_equal(uspctl_track_add(&t, &extra), USPC_E_FULL); /* full */
	assert_int_equal(uspctl_track_count(&t), 4);
	assert_non_null(uspctl_track_find(&t, 3000));
	assert_int_equal(uspctl_track_find(&t, 3000)->deadline_ms, 30000);
	assert_null(uspctl_track_find(&t, 3001));
	assert_int_equal(uspctl_track_remove(&t, 3000), 0);
	assert_int_equal(uspctl_track_remove(&t, 3000), USPC_E_NOTFOUND);
	assert_null(uspctl_track_find(&t, 3000));
	assert_int_equal(uspctl_track_count(&t), 3);
	struct uspctl_pend dup = pend(1000);
	assert_int_equal(uspctl_track_add(&t, &dup), USPC_E_EXISTS); /* already present */
	assert_int_equal(uspctl_track_add(&t, &extra), 0);
	assert_int_equal(uspctl_track_find(&t, 5)->task, 5);
	uspctl_track_fini(&t);
}

static void test_result_owned(void **state)
{
	struct uspctl_track t;
	assert_int_equal(uspctl_track_init(&t, 2), 0);
	struct uspctl_pend p = pend(7);
	p.result = strdup("{\"x\":1}");
	assert_int_equal(uspctl_track_add(&t, &p), 0);
	struct uspctl_pend q = pend(8);
	q.result = strdup("{}");
	assert_int_equal(uspctl_track_add(&t, &q), 0);
	assert_string_equal(uspctl_track_find(&t, 7)->result, "{\"x\":1}");
	assert_int_equal(uspctl_track_remove(&t, 7), 0); /* frees p.result (ASan checks) */
	uspctl_track_fini(&t);                           /* frees q.result */
}

/* Random adds and removes against a plain reference array; ids are dense
 * (like bigserial) and sparse (hash collisions in a small table). */
static void churn(int64_t stride)
{
	enum { CAP = 500, ROUNDS = 20000 };
	struct uspctl_track t;
	int64_t ref[CAP];
	size_t n = 0;
	int64_t next = 1;
	srand(42);
	assert_int_equal(uspctl_track_init(&t, CAP), 0);
	for (int round = 0; round < ROUNDS; round++) {
		if (n < CAP && (n == 0 || rand() % 3 != 0)) {
			struct uspctl_pend p = pend(next * stride);
			assert_int_equal(uspctl_track_add(&t, &p), 0);
			ref[n++] = next++ * stride;
		} else {
			size_t i = (size_t)rand() % n;
			assert_int_equal(uspctl_track_remove(&t, ref[i]), 0);
			assert_null(uspctl_track_find(&t, ref[i]));
			ref[i] = ref[--n];
		}
		assert_int_equal(uspctl_track_count(&t), n);
		if (round % 97 == 0)
			for (size_t i = 0; i < n; i++) {
				struct uspctl_pend *p = uspctl_track_find(&t, ref[i]);
				assert_non_null(p);
				assert_int_equal(p->task, ref[i]);
				assert_int_equal(p->deadline_ms, ref[i] * 10);
			}
	}
	/* the dense array holds exactly the live entries */
	for (size_t i = 0; i < t.n; i++)
		assert_non_null(uspctl_track_find(&t, t.v[i].task));
	uspctl_track_fini(&t);
}

static void test_churn_dense(void **state)
{
	churn(1);
}

static void test_churn_colliding(void **state)
{
	churn(1024); /* multiples of the slot count collide more */
}

static void test_bad_capacity(void **state)
{
	struct uspctl_track t;
	assert_int_equal(uspctl_track_init(&t, 0), USPC_E_INVAL);
	assert_null(uspctl_track_find(&t, 1));
	assert_int_equal(uspctl_track_remove(&t, 1), USPC_E_NOTFOUND);
	uspctl_track_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_find_remove), cmocka_unit_test(test_result_owned),
		cmocka_unit_test(test_churn_dense),     cmocka_unit_test(test_churn_colliding),
		cmocka_unit_test(test_bad_capacity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
