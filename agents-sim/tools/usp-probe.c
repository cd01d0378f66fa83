/*
 * usp-probe.c — a tiny fake USP controller for tests and debugging. It
 * connects to the broker with libmosquitto (MQTT 5), subscribes to its
 * reply topic, sends each request given as JSON ({"type":"get",...fields})
 * to one agent with the Response Topic set, and prints every USP message
 * it receives as one JSON line (usp_json_from_msg_payload, plus "from_id"),
 * answering Notify send_resp=true with NotifyResp. Single-threaded
 * (mosquitto_loop in this thread). Exit 0 when every request got its
 * answer and every expectation was met, 1 otherwise, 2 on usage errors.
 */
#include <errno.h>
#include <getopt.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "usp_json.h"
#include "usp_msg.h"
#include "usp_record.h"

struct probe {
	const char *agent, *agent_topic, *id, *topic, *to_id, *raw_out, *msg_out, *connect_out;
	char host[256];
	int port;
	double timeout;
	double listen;
	int expect_notify, notify_resp, wait_connect, expect_none, no_answer, session;
	const char *hex;
	char agent_topic_buf[512], topic_buf[512];
	int subscribed;
	int got_connect;
	int notifies;
	int received;              /* USP messages seen */
	const char *waiting_for;   /* msg_id of the request in flight */
	int answered;
	int raw_written;
	struct mosquitto *mosq;
	/* fan-out mode: one request to many agents */
	const char *fan_pattern;
	uint32_t fan_first, fan_count, fan_window;
	uint32_t fan_sent, fan_done, fan_errors;
	double *fan_t0;            /* send time per agent, <0 once answered */
	double *fan_lat;           /* latencies of answered requests (ms) */
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_json(cJSON *j)
{
	char *s = cJSON_PrintUnformatted(j);
	if (s) {
		printf("%s\n", s);
		fflush(stdout);
	}
	free(s);
}

static int publish(struct probe *p, const char *topic, const void *buf, size_t len)
{
	mosquitto_property *props = NULL;
	mosquitto_property_add_string(&props, MQTT_PROP_CONTENT_TYPE, "usp.msg");
	mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, p->topic);
	int rc = mosquitto_publish_v5(p->mosq, NULL, topic, (int)len, buf, 1, false, props);
	mosquitto_property_free_all(&props);
	return rc == MOSQ_ERR_SUCCESS ? 0 : -1;
}

static int send_msg(struct probe *p, const Usp__Msg *msg, const char *topic)
{
	uint8_t *mb = NULL, *rb = NULL;
	size_t ml = 0, rl = 0;
	int rc = -1;
	if (usp_msg_encode(msg, &mb, &ml) == 0 &&
	    usp_record_wrap_msg(p->to_id ? p->to_id : p->agent, p->id, mb, ml, &rb, &rl) == 0)
		rc = publish(p, topic, rb, rl);
	free(mb);
	free(rb);
	return rc;
}

static void write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len)
		fprintf(stderr, "usp-probe: cannot write %s\n", path);
	if (f)
		fclose(f);
}

static void on_fan_answer(struct probe *p, const Usp__Msg *msg)
{
	const char *id = usp_msg_id(msg);
	if (strncmp(id, "fan-", 4))
		return;
	unsigned long i = strtoul(id + 4, NULL, 10);
	if (i >= p->fan_count || p->fan_t0[i] < 0)
		return;
	p->fan_lat[p->fan_done++] = (now_s() - p->fan_t0[i]) * 1000.0;
	p->fan_t0[i] = -1;
	if (usp_msg_type(msg) == USP__HEADER__MSG_TYPE__ERROR)
		p->fan_errors++;
}

static void on_usp_msg(struct probe *p, const UspRecord__Record *rec, const Usp__Msg *msg,
		       const char *resp_topic)
{
	if (p->fan_pattern) {
		on_fan_answer(p, msg);
		return;
	}
	cJSON *j = usp_json_from_msg_payload(msg);
	if (j) {
		cJSON_AddStringToObject(j, "from_id", rec->from_id);
		print_json(j);
		cJSON_Delete(j);
	}
	p->received++;
	if (p->waiting_for && !strcmp(usp_msg_id(msg), p->waiting_for))
		p->answered = 1;
	if (usp_msg_type(msg) != USP__HEADER__MSG_TYPE__NOTIFY)
		return;
	if (!p->agent || !strcmp(rec->from_id, p->agent))
		p->notifies++; /* --expect-notify counts the --agent's only */
	const Usp__Notify *n = msg->body->request->notify;
	if (n->send_resp && p->notify_resp) {
		Usp__Msg *r = usp_msg_new_notify_resp(usp_msg_id(msg), n->subscription_id);
		uint8_t *mb = NULL, *rb = NULL;
		size_t ml = 0, rl = 0;
		if (r && usp_msg_encode(r, &mb, &ml) == 0 &&
		    usp_record_wrap_msg(rec->from_id, p->id, mb, ml, &rb, &rl) == 0)
			publish(p, resp_topic ? resp_topic : p->agent_topic, rb, rl);
		free(mb);
		free(rb);
		usp_msg_free(r);
	}
}

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *mm,
		       const mosquitto_property *props)
{
	struct probe *p = obj;
	char *resp_topic = NULL;
	UspRecord__Record *rec = NULL;
	struct uspc_err err = {0};
	(void)m;
	mosquitto_property_read_string(props, MQTT_PROP_RESPONSE_TOPIC, &resp_topic, false);
	if (usp_record_unwrap(mm->payload, (size_t)mm->payloadlen, NULL, &rec, &err) < 0) {
		fprintf(stderr, "usp-probe: undecodable record on %s: %s\n", mm->topic, err.msg);
		goto out;
	}
	if (p->raw_out && !p->raw_written &&
	    rec->record_type_case == USP_RECORD__RECORD__RECORD_TYPE_NO_SESSION_CONTEXT) {
		write_file(p->raw_out, mm->payload, (size_t)mm->payloadlen);
		if (p->msg_out)
			write_file(p->msg_out, rec->no_session_context->payload.data,
				   rec->no_session_context->payload.len);
		p->raw_written = 1;
	}
	cJSON *j = NULL;
	switch (rec->record_type_case) {
	case USP_RECORD__RECORD__RECORD_TYPE_MQTT_CONNECT:
		if (p->connect_out && !p->got_connect)
			write_file(p->connect_out, mm->payload, (size_t)mm->payloadlen);
		j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "record", "mqtt_connect");
		cJSON_AddStringToObject(j, "from_id", rec->from_id);
		cJSON_AddStringToObject(j, "subscribed_topic", rec->mqtt_connect->subscribed_topic);
		cJSON_AddNumberToObject(j, "version", rec->mqtt_connect->version);
		print_json(j);
		if (!p->agent || !strcmp(rec->from_id, p->agent))
			p->got_connect++;
		break;
	case USP_RECORD__RECORD__RECORD_TYPE_DISCONNECT:
		j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "record", "disconnect");
		cJSON_AddStringToObject(j, "from_id", rec->from_id);
		cJSON_AddNumberToObject(j, "reason_code", rec->disconnect->reason_code);
		cJSON_AddStringToObject(j, "reason", rec->disconnect->reason);
		print_json(j);
		p->received++;
		break;
	case USP_RECORD__RECORD__RECORD_TYPE_NO_SESSION_CONTEXT: {
		Usp__Msg *msg = NULL;
		const ProtobufCBinaryData *pl = &rec->no_session_context->payload;
		if (usp_msg_decode(pl->data, pl->len, &msg, &err) == 0)
			on_usp_msg(p, rec, msg, resp_topic);
		else
			fprintf(stderr, "usp-probe: undecodable msg from %s: %s\n", rec->from_id, err.msg);
		usp_msg_free(msg);
		break;
	}
	default:
		break;
	}
	cJSON_Delete(j);
out:
	usp_record_free(rec);
	free(resp_topic);
}

static void on_subscribe(struct mosquitto *m, void *obj, int mid, int n, const int *granted,
			 const mosquitto_property *props)
{
	struct probe *p = obj;
	(void)m;
	(void)mid;
	(void)props;
	p->subscribed = n > 0 && granted[0] < 0x80 ? 1 : -1;
}

static void on_connect(struct mosquitto *m, void *obj, int rc, int flags, const mosquitto_property *props)
{
	struct probe *p = obj;
	(void)flags;
	(void)props;
	if (rc) {
		fprintf(stderr, "usp-probe: broker refused: %s\n", mosquitto_reason_string(rc));
		p->subscribed = -1;
		return;
	}
	mosquitto_subscribe_v5(m, NULL, p->topic, 1, 0, NULL);
}

/* Run the client until cond() or the deadline; 0 if cond met. */
static int pump(struct probe *p, double seconds, int (*cond)(struct probe *))
{
	double end = now_s() + seconds;
	while (now_s() < end) {
		if (cond && cond(p))
			return 0;
		int rc = mosquitto_loop(p->mosq, 50, 1);
		if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN) {
			fprintf(stderr, "usp-probe: connection lost: %s\n", mosquitto_strerror(rc));
			return -1;
		}
	}
	return cond && cond(p) ? 0 : -1;
}

static int c_subscribed(struct probe *p) { return p->subscribed != 0; }
static int c_answered(struct probe *p) { return p->answered; }
static int c_notifies(struct probe *p) { return p->notifies >= p->expect_notify; }
static int c_connect(struct probe *p) { return p->got_connect > 0; }

/* Build a request from {"type":..., fields...}. */
static Usp__Msg *build(const char *text, const char *msg_id)
{
	struct uspc_err err = {0};
	Usp__Msg *msg = NULL;
	cJSON *j = cJSON_Parse(text);
	cJSON *type = j ? cJSON_DetachItemFromObjectCaseSensitive(j, "type") : NULL;
	cJSON *id = j ? cJSON_DetachItemFromObjectCaseSensitive(j, "msg_id") : NULL;
	if (!j || !cJSON_IsString(type)) {
		fprintf(stderr, "usp-probe: request must be a JSON object with \"type\": %s\n", text);
		goto out;
	}
	if (!strcmp(type->valuestring, "empty_request")) { /* a Request selecting nothing */
		msg = usp_msg_new(cJSON_IsString(id) ? id->valuestring : msg_id, USP__HEADER__MSG_TYPE__GET);
		if (msg) {
			usp_pb_free(&msg->body->request->get->base);
			msg->body->request->get = NULL;
			msg->body->request->req_type_case = USP__REQUEST__REQ_TYPE__NOT_SET;
		}
		goto out;
	}
	if (usp_json_build_request(type->valuestring, j, cJSON_IsString(id) ? id->valuestring : msg_id,
				   &msg, &err) < 0)
		fprintf(stderr, "usp-probe: bad request %s: %s\n", text, err.msg);
out:
	cJSON_Delete(type);
	cJSON_Delete(id);
	cJSON_Delete(j);
	return msg;
}

static int send_session_context(struct probe *p)
{
	UspRecord__Record rec = USP_RECORD__RECORD__INIT;
	UspRecord__SessionContextRecord sc = USP_RECORD__SESSION_CONTEXT_RECORD__INIT;
	uint8_t payload[] = {0x0a, 0x00};
	ProtobufCBinaryData pl = {sizeof(payload), payload};
	rec.version = (char *)"1.3";
	rec.to_id = (char *)(p->to_id ? p->to_id : p->agent);
	rec.from_id = (char *)p->id;
	rec.record_type_case = USP_RECORD__RECORD__RECORD_TYPE_SESSION_CONTEXT;
	rec.session_context = &sc;
	sc.session_id = 42;
	sc.sequence_id = 1;
	sc.expected_id = 1;
	sc.n_payload = 1;
	sc.payload = &pl;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = usp_pack(&rec.base, &buf, &len) == 0 ? publish(p, p->agent_topic, buf, len) : -1;
	free(buf);
	return rc;
}

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int send_hex(struct probe *p, const char *hex)
{
	size_t n = strlen(hex) / 2;
	uint8_t *buf = malloc(n + 1);
	if (!buf)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(buf);
			return -1;
		}
		buf[i] = (uint8_t)(hi * 16 + lo);
	}
	int rc = publish(p, p->agent_topic, buf, n);
	free(buf);
	return rc;
}

/* "%[0][width]d|u" → number; other text copied ("%%" → '%'). */
static void format_eid(const char *pat, uint32_t index, char *buf, size_t cap)
{
	size_t o = 0;
	for (const char *s = pat; *s && o + 1 < cap; s++) {
		if (*s != '%' || s[1] == '%') {
			buf[o++] = *s;
			s += (*s == '%');
			continue;
		}
		int zero = s[1] == '0';
		char *end;
		long width = strtol(s + 1, &end, 10);
		s = end;
		char num[16];
		int l = snprintf(num, sizeof(num), "%u", index);
		for (long k = l; k < width && o + 1 < cap; k++)
			buf[o++] = zero ? '0' : ' ';
		for (int k = 0; k < l && o + 1 < cap; k++)
			buf[o++] = num[k];
	}
	buf[o] = '\0';
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Send the request to fan_count agents, at most fan_window unanswered. */
static int run_fanout(struct probe *p, const char *req_json)
{
	p->fan_t0 = calloc(p->fan_count, sizeof(double));
	p->fan_lat = calloc(p->fan_count, sizeof(double));
	if (!p->fan_t0 || !p->fan_lat)
		return -1;
	double start = now_s(), deadline = start + p->timeout;
	while (p->fan_done < p->fan_count && now_s() < deadline) {
		while (p->fan_sent < p->fan_count && p->fan_sent - p->fan_done < p->fan_window) {
			char eid[128], topic[300], id[32];
			uint32_t i = p->fan_sent++;
			format_eid(p->fan_pattern, p->fan_first + i, eid, sizeof(eid));
			snprintf(topic, sizeof(topic), "usp/agent/%s", eid);
			snprintf(id, sizeof(id), "fan-%u", i);
			Usp__Msg *msg = build(req_json, id);
			if (!msg)
				return -1;
			p->to_id = eid;
			p->fan_t0[i] = now_s();
			int rc = send_msg(p, msg, topic);
			usp_msg_free(msg);
			p->to_id = NULL;
			if (rc < 0)
				return -1;
		}
		int rc = mosquitto_loop(p->mosq, 20, 64);
		if (rc != MOSQ_ERR_SUCCESS) {
			fprintf(stderr, "usp-probe: connection lost: %s\n", mosquitto_strerror(rc));
			return -1;
		}
	}
	double secs = now_s() - start;
	qsort(p->fan_lat, p->fan_done, sizeof(double), cmp_double);
	double p50 = p->fan_done ? p->fan_lat[p->fan_done / 2] : 0;
	double p99 = p->fan_done ? p->fan_lat[(size_t)((p->fan_done - 1) * 0.99)] : 0;
	printf("{\"fanout\":{\"agents\":%u,\"sent\":%u,\"answered\":%u,\"errors\":%u,"
	       "\"seconds\":%.3f,\"answers_per_s\":%.0f,\"p50_ms\":%.1f,\"p99_ms\":%.1f}}\n",
	       p->fan_count, p->fan_sent, p->fan_done, p->fan_errors, secs,
	       secs > 0 ? p->fan_done / secs : 0, p50, p99);
	fflush(stdout);
	return p->fan_done == p->fan_count && p->fan_errors == 0 ? 0 : -1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: usp-probe [options] [REQUEST-JSON...]\n"
		"  --broker URL          mqtt://host:port (default $USPC_MQTT)\n"
		"  --agent EID           target agent endpoint ID\n"
		"  --agent-topic T       its topic (default usp/agent/<EID>)\n"
		"  --id EID              our controller EID (default self::uspc)\n"
		"  --topic T             our reply topic (default usp/controller/<id>)\n"
		"  --to-id EID           put this to_id in requests instead of the agent's\n"
		"  --timeout S           per-request answer timeout (default 10)\n"
		"  --wait-connect        first wait for the agent's MQTTConnect record\n"
		"  --expect-notify N     after the requests, wait for N Notify messages from --agent\n"
		"  --expect-none S       after the requests, fail if any message arrives within S s\n"
		"  --listen S            after the requests, print whatever arrives for S s\n"
		"  --no-answer           send the requests without waiting for answers\n"
		"  --no-notify-resp      do not answer Notify send_resp=true\n"
		"  --send-hex HEX        publish raw bytes to the agent (no answer expected)\n"
		"  --session-context     send a session_context record (agent answers Disconnect)\n"
		"  --raw-out F           save the first received no_session_context record to F\n"
		"  --msg-out F           ... and its Msg payload to F\n"
		"  --connect-out F       save the first MQTTConnect record to F\n"
		"  --fanout-pattern P    send the (one) request to many agents: EID printf pattern\n"
		"  --fanout-first N --fanout-count N --window W   (defaults 1, 1, 200); prints a\n"
		"                        summary; --timeout is then the whole run's limit\n"
		"REQUEST-JSON: {\"type\":\"get\",\"param_paths\":[\"Device.DeviceInfo.\"]} (any request\n"
		"type of docs/json.md; \"empty_request\" sends a Request that selects nothing).\n");
}

static int parse_broker(struct probe *p, const char *url)
{
	if (strncmp(url, "mqtt://", 7))
		return -1;
	const char *rest = url + 7, *colon = strrchr(rest, ':');
	size_t hl = colon ? (size_t)(colon - rest) : strlen(rest);
	if (!hl || hl >= sizeof(p->host))
		return -1;
	memcpy(p->host, rest, hl);
	p->host[hl] = '\0';
	p->port = colon ? atoi(colon + 1) : 1883;
	return p->port > 0 ? 0 : -1;
}

static const struct option opts[] = {
	{"broker", 1, 0, 'b'},          {"agent", 1, 0, 'a'},          {"agent-topic", 1, 0, 'A'},
	{"id", 1, 0, 'i'},              {"topic", 1, 0, 't'},          {"to-id", 1, 0, 'T'},
	{"timeout", 1, 0, 'w'},         {"wait-connect", 0, 0, 'c'},   {"expect-notify", 1, 0, 'n'},
	{"listen", 1, 0, 'l'},          {"no-notify-resp", 0, 0, 'R'}, {"send-hex", 1, 0, 'x'},
	{"session-context", 0, 0, 's'}, {"raw-out", 1, 0, 'o'},        {"msg-out", 1, 0, 'm'},
	{"expect-none", 1, 0, 'N'},     {"help", 0, 0, 'h'},           {"fanout-pattern", 1, 0, 'P'},
	{"no-answer", 0, 0, 'Q'},       {"connect-out", 1, 0, 'K'},    {"fanout-first", 1, 0, 'F'},
	{"fanout-count", 1, 0, 'C'},    {"window", 1, 0, 'W'},         {0, 0, 0, 0}};

/* Fill p from argv; -1 usage error, 1 help printed, 0 ok. */
static int parse_args(struct probe *p, int argc, char **argv)
{
	const char *broker = getenv("USPC_MQTT");
	int o;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'b': broker = optarg; break;
		case 'a': p->agent = optarg; break;
		case 'A': p->agent_topic = optarg; break;
		case 'i': p->id = optarg; break;
		case 't': p->topic = optarg; break;
		case 'T': p->to_id = optarg; break;
		case 'w': p->timeout = atof(optarg); break;
		case 'c': p->wait_connect = 1; break;
		case 'n': p->expect_notify = atoi(optarg); break;
		case 'l': p->listen = atof(optarg); break;
		case 'R': p->notify_resp = 0; break;
		case 'x': p->hex = optarg; break;
		case 's': p->session = 1; break;
		case 'o': p->raw_out = optarg; break;
		case 'm': p->msg_out = optarg; break;
		case 'N': p->expect_none = atoi(optarg); break;
		case 'Q': p->no_answer = 1; break;
		case 'K': p->connect_out = optarg; break;
		case 'P': p->fan_pattern = optarg; break;
		case 'F': p->fan_first = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'C': p->fan_count = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'W': p->fan_window = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return -1;
		}
	}
	if (!broker || parse_broker(p, broker) < 0) {
		fprintf(stderr, "usp-probe: --broker mqtt://host:port required (or $USPC_MQTT)\n");
		return -1;
	}
	if (p->fan_pattern && (optind + 1 != argc || !p->fan_count || !p->fan_window)) {
		fprintf(stderr, "usp-probe: fan-out takes exactly one request and counts >= 1\n");
		return -1;
	}
	if (!p->agent && !p->fan_pattern && (optind < argc || p->hex || p->session)) {
		fprintf(stderr, "usp-probe: --agent required to send\n");
		return -1;
	}
	if (!p->agent_topic && p->agent) {
		snprintf(p->agent_topic_buf, sizeof(p->agent_topic_buf), "usp/agent/%s", p->agent);
		p->agent_topic = p->agent_topic_buf;
	}
	if (!p->topic) {
		snprintf(p->topic_buf, sizeof(p->topic_buf), "usp/controller/%s", p->id);
		p->topic = p->topic_buf;
	}
	return 0;
}

static int connect_and_subscribe(struct probe *p)
{
	char cid[64];
	snprintf(cid, sizeof(cid), "usp-probe-%d-%ld", (int)getpid(), (long)time(NULL));
	p->mosq = mosquitto_new(cid, true, p);
	if (!p->mosq)
		return -1;
	mosquitto_int_option(p->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
	mosquitto_int_option(p->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_connect_v5_callback_set(p->mosq, on_connect);
	mosquitto_subscribe_v5_callback_set(p->mosq, on_subscribe);
	mosquitto_message_v5_callback_set(p->mosq, on_message);
	if (mosquitto_connect_bind_v5(p->mosq, p->host, p->port, 30, NULL, NULL) != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "usp-probe: cannot connect to %s:%d: %s\n", p->host, p->port,
			strerror(errno));
		return -1;
	}
	if (pump(p, 10, c_subscribed) < 0 || p->subscribed < 0) {
		fprintf(stderr, "usp-probe: could not subscribe to %s\n", p->topic);
		return -1;
	}
	if (p->wait_connect && pump(p, p->timeout, c_connect) < 0) {
		fprintf(stderr, "usp-probe: no MQTTConnect record from %s within %.0f s\n", p->agent,
			p->timeout);
		return -1;
	}
	return 0;
}

/* Send each request in turn; wait for its answer unless --no-answer. */
static int send_requests(struct probe *p, int first, int argc, char **argv)
{
	for (int i = first; i < argc; i++) {
		char msg_id[64], id_copy[USP_MSG_ID_MAX_LEN + 1];
		snprintf(msg_id, sizeof(msg_id), "probe-%d-%d", (int)getpid(), i);
		Usp__Msg *msg = build(argv[i], msg_id);
		if (!msg)
			return -1;
		snprintf(id_copy, sizeof(id_copy), "%s", usp_msg_id(msg));
		p->waiting_for = id_copy;
		p->answered = 0;
		int sent = send_msg(p, msg, p->agent_topic);
		usp_msg_free(msg);
		if (sent < 0) {
			fprintf(stderr, "usp-probe: publish failed\n");
			return -1;
		}
		if (p->no_answer) {
			p->waiting_for = NULL;
			pump(p, 0.2, NULL); /* flush the publish */
			continue;
		}
		if (pump(p, p->timeout, c_answered) < 0) {
			fprintf(stderr, "usp-probe: no answer to %s within %.0f s\n", id_copy, p->timeout);
			printf("{\"timeout\":\"%s\"}\n", id_copy);
			return -1;
		}
		p->waiting_for = NULL;
	}
	return 0;
}

/* --expect-notify, --expect-none (counted from baseline when nothing was
 * awaited), --listen. */
static int expectations(struct probe *p, int baseline)
{
	if (p->expect_notify && pump(p, p->timeout, c_notifies) < 0) {
		fprintf(stderr, "usp-probe: got %d of %d notifications\n", p->notifies, p->expect_notify);
		return -1;
	}
	if (p->expect_none) {
		int before = p->no_answer || p->hex || p->session ? baseline : p->received;
		pump(p, p->expect_none, NULL);
		if (p->received != before) {
			fprintf(stderr, "usp-probe: expected no answer, got %d message(s)\n",
				p->received - before);
			return -1;
		}
	}
	if (p->listen > 0)
		pump(p, p->listen, NULL);
	return 0;
}

int main(int argc, char **argv)
{
	struct probe p = {.id = "self::uspc", .timeout = 10, .notify_resp = 1, .fan_first = 1,
			  .fan_count = 1, .fan_window = 200};
	int rc = parse_args(&p, argc, argv);
	if (rc)
		return rc > 0 ? 0 : 2;
	mosquitto_lib_init();
	rc = 1;
	if (connect_and_subscribe(&p) < 0)
		goto out;
	if (p.fan_pattern) {
		rc = run_fanout(&p, argv[optind]) == 0 ? 0 : 1;
		goto out;
	}
	int baseline = p.received;
	if ((p.hex && send_hex(&p, p.hex) < 0) || (p.session && send_session_context(&p) < 0))
		goto out;
	if (send_requests(&p, optind, argc, argv) < 0 || expectations(&p, baseline) < 0)
		goto out;
	rc = 0;
out:
	free(p.fan_t0);
	free(p.fan_lat);
	if (p.mosq) {
		mosquitto_disconnect(p.mosq);
		mosquitto_loop(p.mosq, 50, 1);
		mosquitto_destroy(p.mosq);
	}
	mosquitto_lib_cleanup();
	return rc;
}
