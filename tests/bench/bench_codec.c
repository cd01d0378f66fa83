/*
 * bench_codec.c — throughput of the USP codec on the controller's hot path.
 * One operation = usp_msg_encode + usp_record_wrap_msg + usp_record_unwrap
 * + usp_msg_decode (+ frees), on a message built once. Cases:
 *   get_3_paths     Get request with 3 parameter paths
 *   get_resp_50     GetResp with one resolved path carrying 50 parameters
 * Prints one JSON line per case on stdout. Every iteration checks the
 * decoded type, so a broken codec cannot produce a figure.
 *
 *   bench_codec [SECONDS_PER_CASE]   (default 2)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "usp_msg.h"
#include "usp_record.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static Usp__Msg *build_get(void)
{
	static const char *const paths[] = { "Device.DeviceInfo.SoftwareVersion",
					     "Device.WiFi.SSID.*.SSID",
					     "Device.IP.Interface.[Name==\"eth0\"].Status" };
	return usp_msg_new_get("bench-get-1", paths, 3, 0);
}

static Usp__Msg *build_get_resp(void)
{
	Usp__Msg *m = usp_msg_new("bench-get-1", USP__HEADER__MSG_TYPE__GET_RESP);
	if (!m)
		return NULL;
	Usp__GetResp *g = m->body->response->get_resp;
	Usp__GetResp__RequestedPathResult *rq = (Usp__GetResp__RequestedPathResult *)usp_pb_new(
		&usp__get_resp__requested_path_result__descriptor);
	Usp__GetResp__ResolvedPathResult *rs = (Usp__GetResp__ResolvedPathResult *)usp_pb_new(
		&usp__get_resp__resolved_path_result__descriptor);
	if (!rq || !rs ||
	    usp_pb_push((void ***)&g->req_path_results, &g->n_req_path_results, rq) < 0) {
		usp_pb_free(&rq->base);
		usp_pb_free(&rs->base);
		usp_msg_free(m);
		return NULL;
	}
	rq->requested_path = usp_pb_strdup("Device.WiFi.");
	rs->resolved_path = usp_pb_strdup("Device.WiFi.");
	if (usp_pb_push((void ***)&rq->resolved_path_results, &rq->n_resolved_path_results, rs) <
	    0) {
		usp_pb_free(&rs->base);
		usp_msg_free(m);
		return NULL;
	}
	for (int i = 0; i < 50; i++) {
		char key[64], val[64];
		snprintf(key, sizeof(key), "Radio.%d.Stats.PacketsReceived", i + 1);
		snprintf(val, sizeof(val), "%d", 1000000 + i * 7919);
		if (USP_PB_MAP_PUT(rs, result_params, key, val) < 0) {
			usp_msg_free(m);
			return NULL;
		}
	}
	return m;
}

/* One full operation; returns the record size or 0 on any failure. */
static size_t one_op(const Usp__Msg *m, Usp__Header__MsgType want)
{
	uint8_t *msg_buf = NULL, *rec_buf = NULL;
	size_t msg_len = 0, rec_len = 0, ret = 0;
	UspRecord__Record *rec = NULL;
	Usp__Msg *back = NULL;
	if (usp_msg_encode(m, &msg_buf, &msg_len) < 0 ||
	    usp_record_wrap_msg("os::00256D-SN0001", "self::uspc-ctl", msg_buf, msg_len, &rec_buf,
				&rec_len) < 0 ||
	    usp_record_unwrap(rec_buf, rec_len, NULL, &rec, NULL) < 0 ||
	    usp_msg_decode(rec->no_session_context->payload.data,
			   rec->no_session_context->payload.len, &back, NULL) < 0 ||
	    usp_msg_type(back) != want)
		goto out;
	ret = rec_len;
out:
	usp_msg_free(back);
	usp_record_free(rec);
	free(rec_buf);
	free(msg_buf);
	return ret;
}

static int run_case(const char *name, Usp__Msg *m, double seconds)
{
	if (!m) {
		fprintf(stderr, "bench_codec: cannot build %s\n", name);
		return -1;
	}
	Usp__Header__MsgType want = usp_msg_type(m);
	size_t rec_len = one_op(m, want);
	if (!rec_len) {
		fprintf(stderr, "bench_codec: %s: codec round trip failed\n", name);
		usp_msg_free(m);
		return -1;
	}
	unsigned long long ops = 0;
	double t0 = now(), t1 = t0;
	while (t1 - t0 < seconds) {
		for (int i = 0; i < 256; i++) {
			if (!one_op(m, want)) {
				fprintf(stderr, "bench_codec: %s: failure after %llu ops\n", name,
					ops);
				usp_msg_free(m);
				return -1;
			}
		}
		ops += 256;
		t1 = now();
	}
	double el = t1 - t0;
	printf("{\"bench\":\"codec\",\"case\":\"%s\",\"record_bytes\":%zu,\"ops\":%llu,"
	       "\"seconds\":%.3f,\"ops_per_sec\":%.0f,\"mbytes_per_sec\":%.1f,\"ns_per_op\":%.0f}\n",
	       name, rec_len, ops, el, (double)ops / el, (double)ops * (double)rec_len / el / 1e6,
	       el * 1e9 / (double)ops);
	fflush(stdout);
	usp_msg_free(m);
	return 0;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 2.0;
	if (seconds <= 0 || seconds > 600) {
		fprintf(stderr, "usage: %s [SECONDS_PER_CASE (0-600], default 2]\n", argv[0]);
		return 2;
	}
	int rc = 0;
	rc |= run_case("get_3_paths", build_get(), seconds);
	rc |= run_case("get_resp_50", build_get_resp(), seconds);
	return rc ? 1 : 0;
}
