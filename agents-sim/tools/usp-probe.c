/*
 * usp-probe.c — a tiny fake USP controller for tests and debugging. It
 * connects to the broker with libmosquitto (MQTT 5), subscribes to its
 * reply topic, sends each request given as JSON ({"type":"get",...fields})
 * to one agent with the Response Topic set, and prints every USP message
 * it receives as one JSON line (usp_json_from_msg_payload, plus "from_id"),
 * answering Notify send_resp=true with NotifyResp. Single-threaded
 * (mosquitto_loop in this thread). libmosquitto callbacks only record:
 * the SUBSCRIBE after CONNACK and the NotifyResp answers are sent by
 * after_loop() once mosquitto_loop has returned, never from inside a
 * callback. Exit 0 when every request got its answer and every
 * expectation was met, 1 otherwise, 2 on usage errors.
 * It can also play a (malicious) agent for the identity tests: TLS with a
 * client certificate, records with any from_id / to_id / type (connect,
 * disconnect, any Msg including responses with a chosen msg_id) on any
 * topic, repeated with random from_ids; PUBACKs refusing a publish (MQTT 5
 * reason >= 0x80) are counted and reported.
 */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
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

#define MAX_PENDING_OUT 256 /* NotifyResps waiting for the end of a loop pass */

struct pending_out {
	char *topic;
	uint8_t *rec;
	size_t len;
};

struct probe {
	const char *broker;
	const char *agent, *agent_topic, *id, *topic, *to_id, *raw_out, *msg_out, *connect_out;
	const char *cafile, *certfile, *keyfile, *client_id;
	const char *connect_topic; /* --send-connect: subscribed_topic */
	int disconnect;            /* --send-disconnect */
	uint32_t repeat;           /* --repeat: everything this many times */
	int random_id;             /* --random-id: a fresh from_id per repetition */
	char from_buf[USP_MSG_ID_MAX_LEN + 32];
	const char *from; /* from_id of what we send: id, or from_buf */
	uint64_t rng;
	uint64_t pub_sent, pub_done, pub_refused; /* QoS 1 publishes, PUBACKs, refusals */
	int pub_refused_reason;
	char host[256];
	int port;
	int tls;
	double timeout;
	double listen;
	int expect_notify, notify_resp, wait_connect, expect_none, no_answer, session;
	const char *hex;
	char agent_topic_buf[512], topic_buf[512];
	int subscribed;
	int connacked; /* CONNACK ok seen, SUBSCRIBE not yet sent */
	struct pending_out out[MAX_PENDING_OUT];
	size_t n_out;
	int got_connect;
	int notifies;
	int received;            /* USP messages seen */
	const char *waiting_for; /* msg_id of the request in flight */
	int answered;
	int raw_written;
	struct mosquitto *mosq;
	/* fan-out mode: one request to many agents */
	const char *fan_pattern;
	uint32_t fan_first, fan_count, fan_window;
	uint32_t fan_sent, fan_done, fan_errors;
	double *fan_t0;  /* send time per agent, <0 once answered */
	double *fan_lat; /* latencies of answered requests (ms) */
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
	if (rc != MOSQ_ERR_SUCCESS)
		return -1;
	p->pub_sent++;
	return 0;
}

/* PUBACK of a QoS 1 publish; MQTT 5 reason >= 0x80 = the broker refused it
 * (mosquitto: 0x87 Not authorized when the ACL denies the topic). */
static void on_publish(struct mosquitto *m, void *obj, int mid, int reason,
		       const mosquitto_property *props)
{
	struct probe *p = obj;
	(void)m;
	(void)mid;
	(void)props;
	p->pub_done++;
	if (reason >= 0x80) {
		p->pub_refused++;
		p->pub_refused_reason = reason;
	}
}

static int send_msg(struct probe *p, const Usp__Msg *msg, const char *topic)
{
	uint8_t *mb = NULL, *rb = NULL;
	size_t ml = 0, rl = 0;
	int rc = -1;
	if (usp_msg_encode(msg, &mb, &ml) == 0 &&
	    usp_record_wrap_msg(p->to_id ? p->to_id : p->agent, p->from, mb, ml, &rb, &rl) == 0)
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

/* Build the NotifyResp now, publish it in after_loop(). */
static void queue_notify_resp(struct probe *p, const UspRecord__Record *rec, const Usp__Msg *msg,
			      const char *resp_topic)
{
	const Usp__Notify *n = msg->body->request->notify;
	Usp__Msg *r = usp_msg_new_notify_resp(usp_msg_id(msg), n->subscription_id);
	uint8_t *mb = NULL, *rb = NULL;
	size_t ml = 0, rl = 0;
	char *topic = strdup(resp_topic ? resp_topic : p->agent_topic ? p->agent_topic : "");
	if (p->n_out < MAX_PENDING_OUT && topic && topic[0] && r &&
	    usp_msg_encode(r, &mb, &ml) == 0 &&
	    usp_record_wrap_msg(rec->from_id, p->id, mb, ml, &rb, &rl) == 0) {
		p->out[p->n_out++] = (struct pending_out){ topic, rb, rl };
		topic = NULL;
		rb = NULL;
	} else {
		fprintf(stderr, "usp-probe: cannot answer Notify %s\n", usp_msg_id(msg));
	}
	free(topic);
	free(mb);
	free(rb);
	usp_msg_free(r);
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
	if (n->send_resp && p->notify_resp)
		queue_notify_resp(p, rec, msg, resp_topic);
}

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *mm,
		       const mosquitto_property *props)
{
	struct probe *p = obj;
	char *resp_topic = NULL;
	UspRecord__Record *rec = NULL;
	struct uspc_err err = { 0 };
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
			fprintf(stderr, "usp-probe: undecodable msg from %s: %s\n", rec->from_id,
				err.msg);
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

static void on_connect(struct mosquitto *m, void *obj, int rc, int flags,
		       const mosquitto_property *props)
{
	struct probe *p = obj;
	(void)flags;
	(void)props;
	(void)m;
	if (rc) {
		fprintf(stderr, "usp-probe: broker refused: %s\n", mosquitto_reason_string(rc));
		p->subscribed = -1;
		return;
	}
	p->connacked = 1; /* subscribed from after_loop() */
}

/* What the callbacks asked for, done outside them. */
static void after_loop(struct probe *p)
{
	if (p->connacked) {
		p->connacked = 0;
		if (mosquitto_subscribe_v5(p->mosq, NULL, p->topic, 1, 0, NULL) != MOSQ_ERR_SUCCESS)
			p->subscribed = -1;
	}
	for (size_t i = 0; i < p->n_out; i++) {
		publish(p, p->out[i].topic, p->out[i].rec, p->out[i].len);
		free(p->out[i].topic);
		free(p->out[i].rec);
	}
	p->n_out = 0;
}

/* Run the client until cond() or the deadline; 0 if cond met. */
static int pump(struct probe *p, double seconds, int (*cond)(struct probe *))
{
	double end = now_s() + seconds;
	while (now_s() < end) {
		if (cond && cond(p))
			return 0;
		int rc = mosquitto_loop(p->mosq, 50, 1);
		after_loop(p);
		if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN) {
			fprintf(stderr, "usp-probe: connection lost: %s\n", mosquitto_strerror(rc));
			return -1;
		}
	}
	return cond && cond(p) ? 0 : -1;
}

static int c_subscribed(struct probe *p)
{
	return p->subscribed != 0;
}
static int c_answered(struct probe *p)
{
	return p->answered;
}
static int c_notifies(struct probe *p)
{
	return p->notifies >= p->expect_notify;
}
static int c_connect(struct probe *p)
{
	return p->got_connect > 0;
}

/* Build a request from {"type":..., fields...}. */
static Usp__Msg *build(const char *text, const char *msg_id)
{
	struct uspc_err err = { 0 };
	Usp__Msg *msg = NULL;
	cJSON *j = cJSON_Parse(text);
	cJSON *type = j ? cJSON_DetachItemFromObjectCaseSensitive(j, "type") : NULL;
	cJSON *id = j ? cJSON_DetachItemFromObjectCaseSensitive(j, "msg_id") : NULL;
	if (!j || !cJSON_IsString(type)) {
		fprintf(stderr, "usp-probe: request must be a JSON object with \"type\": %s\n",
			text);
		goto out;
	}
	size_t tl = strlen(type->valuestring);
	if (!strcmp(type->valuestring, "error") ||
	    (tl > 5 && !strcmp(type->valuestring + tl - 5, "_resp"))) {
		/* a response or an Error, e.g. a forged get_resp with a chosen msg_id */
		cJSON_AddItemToObject(j, "type", type);
		type = NULL;
		cJSON_AddItemToObject(j, "msg_id",
				      cJSON_IsString(id) ? id : cJSON_CreateString(msg_id));
		if (!cJSON_IsString(id))
			cJSON_Delete(id);
		id = NULL;
		if (usp_json_to_msg_payload(j, &msg, &err) < 0)
			fprintf(stderr, "usp-probe: bad message %s: %s\n", text, err.msg);
		goto out;
	}
	if (!strcmp(type->valuestring, "empty_request")) { /* a Request selecting nothing */
		msg = usp_msg_new(cJSON_IsString(id) ? id->valuestring : msg_id,
				  USP__HEADER__MSG_TYPE__GET);
		if (msg) {
			usp_pb_free(&msg->body->request->get->base);
			msg->body->request->get = NULL;
			msg->body->request->req_type_case = USP__REQUEST__REQ_TYPE__NOT_SET;
		}
		goto out;
	}
	if (usp_json_build_request(type->valuestring, j,
				   cJSON_IsString(id) ? id->valuestring : msg_id, &msg, &err) < 0)
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
	uint8_t payload[] = { 0x0a, 0x00 };
	ProtobufCBinaryData pl = { sizeof(payload), payload };
	rec.version = (char *)"1.3";
	rec.to_id = (char *)(p->to_id ? p->to_id : p->agent);
	rec.from_id = (char *)p->from;
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
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
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

/* --send-connect / --send-disconnect: an MQTTConnectRecord (MQTT 5,
 * subscribed_topic) or a DisconnectRecord from p->from. */
static int send_record(struct probe *p, int connect)
{
	const char *to = p->to_id ? p->to_id : p->agent;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = connect ? usp_record_build_mqtt_connect(to, p->from, 1, p->connect_topic, &buf,
							 &len)
			 : usp_record_build_disconnect(to, p->from, "usp-probe", 0, &buf, &len);
	if (rc == 0)
		rc = publish(p, p->agent_topic, buf, len);
	free(buf);
	return rc;
}

/* --random-id: from_id = --id followed by 16 random hex digits. */
static void next_from(struct probe *p)
{
	if (!p->random_id) {
		p->from = p->id;
		return;
	}
	p->rng ^= p->rng << 13;
	p->rng ^= p->rng >> 7;
	p->rng ^= p->rng << 17;
	snprintf(p->from_buf, sizeof(p->from_buf), "%.*s%016llx", USP_MSG_ID_MAX_LEN, p->id,
		 (unsigned long long)p->rng);
	p->from = p->from_buf;
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
		after_loop(p);
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
		"  --broker URL          mqtt://host:port or mqtts://host:port (default $USPC_MQTT)\n"
		"  --cafile F --cert F --key F   TLS (mqtts://): the broker's CA, our client\n"
		"                        certificate and key (e.g. an agent's, to act as that agent)\n"
		"  --client-id ID        MQTT client ID (default usp-probe-<pid>-<time>)\n"
		"  --agent EID           target agent endpoint ID\n"
		"  --agent-topic T       where requests and records are published (default\n"
		"                        usp/agent/<EID>); any topic, e.g. a controller's\n"
		"  --id EID              our EID: the from_id of everything we send (default self::uspc)\n"
		"  --topic T             the topic (filter) we subscribe to and give as Response Topic\n"
		"                        (default usp/controller/<id>)\n"
		"  --to-id EID           put this to_id in what we send instead of the agent's\n"
		"  --timeout S           per-request answer timeout (default 10)\n"
		"  --wait-connect        first wait for the agent's MQTTConnect record\n"
		"  --expect-notify N     after the requests, wait for N Notify messages from --agent\n"
		"  --expect-none S       after the requests, fail if any message arrives within S s\n"
		"  --listen S            after the requests, print whatever arrives for S s\n"
		"  --no-answer           send the requests without waiting for answers\n"
		"  --no-notify-resp      do not answer Notify send_resp=true\n"
		"  --send-hex HEX        publish raw bytes to the agent (no answer expected)\n"
		"  --session-context     send a session_context record (agent answers Disconnect)\n"
		"  --send-connect TOPIC  send an MQTTConnectRecord (MQTT 5, subscribed_topic TOPIC)\n"
		"  --send-disconnect     send a DisconnectRecord (reason \"usp-probe\")\n"
		"  --repeat N            send all of the above and the requests N times (no answers\n"
		"                        awaited when N > 1)\n"
		"  --random-id           each repetition's from_id is --id followed by 16 random hex\n"
		"                        digits (--id proto::x- --random-id --repeat 10000)\n"
		"  --raw-out F           save the first received no_session_context record to F\n"
		"  --msg-out F           ... and its Msg payload to F\n"
		"  --connect-out F       save the first MQTTConnect record to F\n"
		"  --fanout-pattern P    send the (one) request to many agents: EID printf pattern\n"
		"  --fanout-first N --fanout-count N --window W   (defaults 1, 1, 200); prints a\n"
		"                        summary; --timeout is then the whole run's limit\n"
		"REQUEST-JSON: {\"type\":\"get\",\"param_paths\":[\"Device.DeviceInfo.\"]} (any request\n"
		"type of docs/json.md, incl. notify; \"empty_request\" sends a Request that selects\n"
		"nothing). \"msg_id\" sets the msg_id. Responses and errors too (get_resp, delete_resp,\n"
		"..., error: the compact form of docs/json.md): sent without waiting for an answer.\n"
		"Publishes are QoS 1; when the broker refuses some (PUBACK reason >= 0x80, e.g. an ACL)\n"
		"a line {\"publish_refused\":K,\"published\":N,\"reason\":R} is printed.\n");
}

static int parse_broker(struct probe *p, const char *url)
{
	const char *rest;
	if (!strncmp(url, "mqtt://", 7))
		rest = url + 7;
	else if (!strncmp(url, "mqtts://", 8))
		rest = url + 8, p->tls = 1;
	else
		return -1;
	const char *colon = strrchr(rest, ':');
	size_t hl = colon ? (size_t)(colon - rest) : strlen(rest);
	if (!hl || hl >= sizeof(p->host))
		return -1;
	memcpy(p->host, rest, hl);
	p->host[hl] = '\0';
	p->port = colon ? atoi(colon + 1) : p->tls ? 8883 : 1883;
	return p->port > 0 ? 0 : -1;
}

/* How an option's value lands in struct probe. */
enum popt_kind { P_STR, P_SET, P_CLEAR, P_DOUBLE, P_INT, P_U32, P_HELP };

struct popt {
	const char *name;
	enum popt_kind kind;
	size_t off; /* offsetof(struct probe, ...) */
};

#define PO(n, k, f)                             \
	{                                       \
		n, k, offsetof(struct probe, f) \
	}
static const struct popt popts[] = {
	PO("broker", P_STR, broker),
	PO("agent", P_STR, agent),
	PO("agent-topic", P_STR, agent_topic),
	PO("id", P_STR, id),
	PO("topic", P_STR, topic),
	PO("to-id", P_STR, to_id),
	PO("timeout", P_DOUBLE, timeout),
	PO("wait-connect", P_SET, wait_connect),
	PO("expect-notify", P_INT, expect_notify),
	PO("listen", P_DOUBLE, listen),
	PO("no-notify-resp", P_CLEAR, notify_resp),
	PO("send-hex", P_STR, hex),
	PO("session-context", P_SET, session),
	PO("raw-out", P_STR, raw_out),
	PO("msg-out", P_STR, msg_out),
	PO("expect-none", P_INT, expect_none),
	PO("fanout-pattern", P_STR, fan_pattern),
	PO("no-answer", P_SET, no_answer),
	PO("connect-out", P_STR, connect_out),
	PO("fanout-first", P_U32, fan_first),
	PO("fanout-count", P_U32, fan_count),
	PO("window", P_U32, fan_window),
	PO("cafile", P_STR, cafile),
	PO("cert", P_STR, certfile),
	PO("key", P_STR, keyfile),
	PO("client-id", P_STR, client_id),
	PO("send-connect", P_STR, connect_topic),
	PO("send-disconnect", P_SET, disconnect),
	PO("repeat", P_U32, repeat),
	PO("random-id", P_SET, random_id),
	{ "help", P_HELP, 0 },
};
#define N_POPTS (sizeof(popts) / sizeof(popts[0]))

/* Store v for option d: 0, or -1 after printing why. */
static int apply_popt(struct probe *p, const struct popt *d, const char *v)
{
	char *field = (char *)p + d->off, *end = NULL;
	double x = 0;
	if (d->kind == P_STR) {
		*(const char **)(void *)field = v;
		return 0;
	}
	if (d->kind == P_SET || d->kind == P_CLEAR) {
		*(int *)(void *)field = d->kind == P_SET;
		return 0;
	}
	errno = 0;
	x = strtod(v, &end);
	if (errno || end == v || *end || x < 0 || x > 4294967295.0 ||
	    (d->kind != P_DOUBLE && x != (double)(uint32_t)x)) {
		fprintf(stderr, "usp-probe: --%s %s: expected a %s\n", d->name, v,
			d->kind == P_DOUBLE ? "number of seconds" : "non-negative integer");
		return -1;
	}
	if (d->kind == P_DOUBLE)
		*(double *)(void *)field = x;
	else if (d->kind == P_INT && x <= 2147483647.0)
		*(int *)(void *)field = (int)x;
	else if (d->kind == P_U32)
		*(uint32_t *)(void *)field = (uint32_t)x;
	else
		return -1;
	return 0;
}

/* Cross-option checks and derived defaults: 0 or -1 (printed). */
static int finish_args(struct probe *p, int argc)
{
	if (!p->broker || parse_broker(p, p->broker) < 0) {
		fprintf(stderr,
			"usp-probe: --broker mqtt[s]://host:port required (or $USPC_MQTT)\n");
		return -1;
	}
	if (p->tls && !p->cafile) {
		fprintf(stderr, "usp-probe: mqtts:// needs --cafile\n");
		return -1;
	}
	if (!!p->certfile != !!p->keyfile) {
		fprintf(stderr, "usp-probe: --cert and --key go together\n");
		return -1;
	}
	if (p->repeat == 0) {
		fprintf(stderr, "usp-probe: --repeat must be >= 1\n");
		return -1;
	}
	if (p->repeat > 1)
		p->no_answer = 1;
	if (p->fan_pattern && (optind + 1 != argc || !p->fan_count || !p->fan_window)) {
		fprintf(stderr, "usp-probe: fan-out takes exactly one request and counts >= 1\n");
		return -1;
	}
	if (!p->agent && !p->fan_pattern &&
	    (optind < argc || p->hex || p->session || p->connect_topic || p->disconnect) &&
	    !(p->to_id && p->agent_topic)) {
		fprintf(stderr,
			"usp-probe: --agent (or --to-id and --agent-topic) required to send\n");
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

/* Fill p from argv; -1 usage error, 1 help printed, 0 ok. */
static int parse_args(struct probe *p, int argc, char **argv)
{
	struct option lopts[N_POPTS + 1];
	int o;
	memset(lopts, 0, sizeof(lopts));
	for (size_t i = 0; i < N_POPTS; i++) {
		enum popt_kind k = popts[i].kind;
		lopts[i].name = popts[i].name;
		lopts[i].has_arg =
			k == P_SET || k == P_CLEAR || k == P_HELP ? no_argument : required_argument;
		lopts[i].val = 256 + (int)i;
	}
	p->broker = getenv("USPC_MQTT");
	while ((o = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		const struct popt *d = o >= 256 && o < 256 + (int)N_POPTS ? &popts[o - 256] : NULL;
		if (o == 'h' || (d && d->kind == P_HELP)) {
			usage(stdout);
			return 1;
		}
		if (!d || apply_popt(p, d, optarg) < 0) {
			usage(stderr);
			return -1;
		}
	}
	return finish_args(p, argc);
}

static int connect_and_subscribe(struct probe *p)
{
	char cid[64];
	snprintf(cid, sizeof(cid), "usp-probe-%d-%ld", (int)getpid(), (long)time(NULL));
	p->mosq = mosquitto_new(p->client_id ? p->client_id : cid, true, p);
	if (!p->mosq)
		return -1;
	mosquitto_int_option(p->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
	mosquitto_int_option(p->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	if (p->tls && mosquitto_tls_set(p->mosq, p->cafile, NULL, p->certfile, p->keyfile, NULL) !=
			      MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "usp-probe: cannot use the TLS files given\n");
		return -1;
	}
	mosquitto_connect_v5_callback_set(p->mosq, on_connect);
	mosquitto_publish_v5_callback_set(p->mosq, on_publish);
	mosquitto_subscribe_v5_callback_set(p->mosq, on_subscribe);
	mosquitto_message_v5_callback_set(p->mosq, on_message);
	if (mosquitto_connect_bind_v5(p->mosq, p->host, p->port, 30, NULL, NULL) !=
	    MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "usp-probe: cannot connect to %s:%d: %s\n", p->host, p->port,
			strerror(errno));
		return -1;
	}
	if (pump(p, 10, c_subscribed) < 0 || p->subscribed < 0) {
		fprintf(stderr, "usp-probe: could not subscribe to %s\n", p->topic);
		return -1;
	}
	if (p->wait_connect && pump(p, p->timeout, c_connect) < 0) {
		fprintf(stderr, "usp-probe: no MQTTConnect record from %s within %.0f s\n",
			p->agent, p->timeout);
		return -1;
	}
	return 0;
}

static int c_flushed(struct probe *p)
{
	return p->pub_done >= p->pub_sent;
}
static int c_flushed_half(struct probe *p)
{
	return p->pub_sent - p->pub_done < 500;
}

/* Wait for the PUBACKs of what we published: all of them, or (while
 * repeating) until fewer than 500 are outstanding. */
static int flush(struct probe *p)
{
	int partial = p->repeat > 1;
	if (partial && c_flushed_half(p))
		return 0;
	if (pump(p, p->timeout, partial ? c_flushed_half : c_flushed) < 0) {
		fprintf(stderr, "usp-probe: %llu of %llu publishes unacknowledged after %.0f s\n",
			(unsigned long long)(p->pub_sent - p->pub_done),
			(unsigned long long)p->pub_sent, p->timeout);
		return -1;
	}
	return 0;
}

/* Send each request in turn; wait for its answer unless --no-answer. */
static int send_requests(struct probe *p, int first, int argc, char **argv, uint32_t rep)
{
	for (int i = first; i < argc; i++) {
		char msg_id[64], id_copy[USP_MSG_ID_MAX_LEN + 1];
		if (rep)
			snprintf(msg_id, sizeof(msg_id), "probe-%d-%d-%u", (int)getpid(), i, rep);
		else
			snprintf(msg_id, sizeof(msg_id), "probe-%d-%d", (int)getpid(), i);
		Usp__Msg *msg = build(argv[i], msg_id);
		if (!msg)
			return -1;
		snprintf(id_copy, sizeof(id_copy), "%s", usp_msg_id(msg));
		p->waiting_for = id_copy;
		p->answered = 0;
		int response = msg->body->msg_body_case != USP__BODY__MSG_BODY_REQUEST;
		int sent = send_msg(p, msg, p->agent_topic);
		usp_msg_free(msg);
		if (sent < 0) {
			fprintf(stderr, "usp-probe: publish failed\n");
			return -1;
		}
		if (p->no_answer || response) {
			p->waiting_for = NULL;
			if (flush(p) < 0)
				return -1;
			continue;
		}
		if (pump(p, p->timeout, c_answered) < 0) {
			fprintf(stderr, "usp-probe: no answer to %s within %.0f s\n", id_copy,
				p->timeout);
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
		fprintf(stderr, "usp-probe: got %d of %d notifications\n", p->notifies,
			p->expect_notify);
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

static void report_refused(struct probe *p)
{
	if (!p->pub_refused)
		return;
	printf("{\"publish_refused\":%llu,\"published\":%llu,\"reason\":%d}\n",
	       (unsigned long long)p->pub_refused, (unsigned long long)p->pub_sent,
	       p->pub_refused_reason);
	fflush(stdout);
	fprintf(stderr, "usp-probe: the broker refused %llu of %llu publishes: %s\n",
		(unsigned long long)p->pub_refused, (unsigned long long)p->pub_sent,
		mosquitto_reason_string(p->pub_refused_reason));
}

int main(int argc, char **argv)
{
	struct probe p = { .id = "self::uspc",
			   .timeout = 10,
			   .notify_resp = 1,
			   .fan_first = 1,
			   .fan_count = 1,
			   .fan_window = 200,
			   .repeat = 1 };
	int rc = parse_args(&p, argc, argv);
	if (rc)
		return rc > 0 ? 0 : 2;
	mosquitto_lib_init();
	p.rng = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^ 0x9E3779B97F4A7C15ull;
	p.from = p.id;
	rc = 1;
	if (connect_and_subscribe(&p) < 0)
		goto out;
	if (p.fan_pattern) {
		rc = run_fanout(&p, argv[optind]) == 0 ? 0 : 1;
		goto out;
	}
	int baseline = p.received;
	for (uint32_t r = 0; r < p.repeat; r++) {
		next_from(&p);
		if ((p.hex && send_hex(&p, p.hex) < 0) ||
		    (p.session && send_session_context(&p) < 0) ||
		    (p.connect_topic && send_record(&p, 1) < 0) ||
		    (p.disconnect && send_record(&p, 0) < 0) ||
		    send_requests(&p, optind, argc, argv, p.repeat > 1 ? r + 1 : 0) < 0 ||
		    flush(&p) < 0)
			goto out;
	}
	p.repeat = 1; /* flush everything now */
	if (flush(&p) < 0)
		goto out;
	report_refused(&p);
	if (expectations(&p, baseline) < 0)
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
	for (size_t i = 0; i < p.n_out; i++) { /* answers the disconnect overtook */
		free(p.out[i].topic);
		free(p.out[i].rec);
	}
	mosquitto_lib_cleanup();
	return rc;
}
