/*
 * core_out.c — everything the core sends: Records wrapped around Msgs,
 * published through the MQTT transport, with
 *   - an outbox for publishes the transport refused with BUSY (kept in order
 *     and retried when it wakes us; never dropped), and
 *   - a held queue of answers (NotifyResp) waiting until the store has
 *     committed what they acknowledge: an agent is told "done" only after
 *     PostgreSQL has it. The writer commits in submission order, so the
 *     held queue is released in order as store_writer_durable() passes
 *     each answer's op;
 * and requests registered in the tracker, each with a Response Topic of
 * its own agent's (<reply_topic>/<eid>, see core_identity.h) and an MQTT
 * message expiry at its deadline, so the broker never delivers a request
 * whose task has already ended.
 *
 * Core thread only. Invariants: while the outbox is non-empty, new publishes
 * go to its tail, so records leave in the order they were made; answers
 * leave in the order their tickets were issued (ans_left counts them).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core_internal.h"
#include "log.h"

void core_next_msg_id(struct core *c, char *buf, size_t cap)
{
	if (c->rnd_left == 0) {
		/* 512 bytes of the kernel's CSPRNG serve 64 ids; it does not
		 * fail for a request this size once the pool is initialised. */
		if (getrandom(c->rnd, sizeof(c->rnd), 0) != (ssize_t)sizeof(c->rnd))
			log_error(CORE_LOG, "getrandom failed: msg_ids reuse old random bits");
		c->rnd_left = sizeof(c->rnd) / sizeof(c->rnd[0]);
	}
	usp_msgid_next_random(&c->idgen, c->rnd[--c->rnd_left], buf, cap);
}

void core_agent_response_topic(struct core *c, const struct core_agent *a, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/%s", c->cfg->reply_topic, a->eid);
}

static void out_free(struct core_out *o)
{
	free(o->topic);
	free(o->response_topic);
	free(o->bytes);
	free(o);
}

static struct core_out *out_new(const char *topic, const struct core_pub *p, uint8_t *bytes,
				size_t len)
{
	struct core_out *o = calloc(1, sizeof(*o));
	if (!o || !(o->topic = strdup(topic)) ||
	    (p->response_topic && !(o->response_topic = strdup(p->response_topic)))) {
		if (o) {
			free(o->topic);
			free(o);
		}
		return NULL;
	}
	o->bytes = bytes;
	o->len = len;
	o->flags = p->flags;
	o->answer = p->answer;
	o->expires_at_ms = p->expires_at_ms;
	return o;
}

/* How a kept entry is to be published. */
static struct core_pub pub_of(const struct core_out *o)
{
	struct core_pub p = { .flags = o->flags,
			      .response_topic = o->response_topic,
			      .expires_at_ms = o->expires_at_ms,
			      .answer = o->answer };
	return p;
}

/* Free a whole queue (outbox or held answers); returns how many it held. */
static size_t queue_free(struct core_out **head, struct core_out **tail, size_t *len)
{
	size_t n = *len;
	while (*head) {
		struct core_out *o = *head;
		*head = o->next;
		out_free(o);
	}
	*tail = NULL;
	*len = 0;
	return n;
}

/* Hand one publish to the transport. */
static int mtp_publish(struct core *c, const char *topic, const struct core_pub *p,
		       const uint8_t *bytes, size_t len)
{
	struct mqtt_mtp_pub_opts o = { .flags = p->flags,
				       .response_topic = p->response_topic,
				       .expires_at_ms = p->expires_at_ms };
	return mqtt_mtp_publish_ex(c->mtp, topic, bytes, len, &o);
}

/* A publish left the core (taken, or refused for good). */
static void sent(struct core *c, const char *topic, const struct core_pub *p, int rc)
{
	if (p->answer)
		c->ans_left++;
	if (rc == 0) {
		c->ctr.records_out++;
		return;
	}
	c->ctr.publish_errors++;
	log_warn(CORE_LOG, "publish to %s refused: %s (%s)", topic, uspc_err_name(rc),
		 uspc_strerror(rc));
}

int core_publish(struct core *c, const char *topic, const struct core_pub *p, uint8_t *bytes,
		 size_t len)
{
	if (!c->out_head) {
		int rc = mtp_publish(c, topic, p, bytes, len);
		if (rc != MQTT_MTP_E_BUSY) {
			sent(c, topic, p, rc);
			free(bytes);
			return rc;
		}
	}
	struct core_out *o = out_new(topic, p, bytes, len);
	if (!o) {
		/* Out of memory for a small node: the one case we cannot keep it. */
		log_error(CORE_LOG, "out of memory keeping a publish to %s", topic);
		sent(c, topic, p, MQTT_MTP_E_NOMEM);
		free(bytes);
		return MQTT_MTP_E_NOMEM;
	}
	if (c->out_tail)
		c->out_tail->next = o;
	else
		c->out_head = o;
	c->out_tail = o;
	c->out_len++;
	return 0;
}

void core_flush_outbox(struct core *c)
{
	mqtt_mtp_pump(c->mtp);
	while (c->out_head) {
		struct core_out *o = c->out_head;
		struct core_pub p = pub_of(o);
		int rc = mtp_publish(c, o->topic, &p, o->bytes, o->len);
		if (rc == MQTT_MTP_E_BUSY)
			break;
		sent(c, o->topic, &p, rc);
		c->out_head = o->next;
		if (!c->out_head)
			c->out_tail = NULL;
		c->out_len--;
		out_free(o);
	}
	mqtt_mtp_pump(c->mtp);
}

void core_outbox_free(struct core *c)
{
	size_t n = queue_free(&c->out_head, &c->out_tail, &c->out_len);
	if (n)
		log_warn(CORE_LOG, "%zu publishes still waiting for the transport at exit", n);
}

int core_publish_after_commit(struct core *c, uint64_t commit_seq, const char *topic,
			      const struct core_pub *p, uint8_t *bytes, size_t len)
{
	if (!c->held_head && store_writer_durable(c->writer) >= commit_seq) {
		int rc = core_publish(c, topic, p, bytes, len);
		return rc == MQTT_MTP_E_NOMEM ? rc : 0;
	}
	struct core_out *o = out_new(topic, p, bytes, len);
	if (!o) {
		log_error(CORE_LOG, "out of memory holding an answer to %s", topic);
		free(bytes);
		if (p->answer)
			c->ans_left++;
		return USPC_E_NOMEM;
	}
	o->commit_seq = commit_seq;
	if (c->held_tail)
		c->held_tail->next = o;
	else
		c->held_head = o;
	c->held_tail = o;
	c->held_len++;
	return 0;
}

void core_release_held(struct core *c)
{
	if (!c->held_head)
		return;
	uint64_t durable = store_writer_durable(c->writer);
	while (c->held_head && c->held_head->commit_seq <= durable) {
		struct core_out *o = c->held_head;
		c->held_head = o->next;
		if (!c->held_head)
			c->held_tail = NULL;
		c->held_len--;
		struct core_pub p = pub_of(o);
		(void)core_publish(c, o->topic, &p, o->bytes, o->len); /* takes bytes */
		o->bytes = NULL;
		out_free(o);
	}
}

size_t core_held_free(struct core *c)
{
	return queue_free(&c->held_head, &c->held_tail, &c->held_len);
}

int core_build_record(struct core *c, struct core_agent *a, const Usp__Msg *msg, uint8_t **out,
		      size_t *len)
{
	uint8_t *mbuf = NULL;
	size_t mlen = 0;
	*out = NULL;
	int rc = usp_msg_encode(msg, &mbuf, &mlen);
	if (rc == 0)
		rc = usp_record_wrap_msg(a->eid, c->cfg->endpoint_id, mbuf, mlen, out, len);
	if (rc != 0)
		log_error(CORE_LOG, "cannot encode %s for %s: %s",
			  usp_msg_type_name(usp_msg_type(msg)), a->eid, uspc_strerror(rc));
	free(mbuf);
	return rc;
}

/* Encode msg to agent a for *topic (NULL: the agent's own topic, filled
 * in), with the protocol trace line. 0 with *buf (the caller's), or a
 * negative code (logged). */
static int encode_for(struct core *c, struct core_agent *a, const char **topic, const Usp__Msg *msg,
		      uint8_t **buf, size_t *len)
{
	if (!*topic)
		*topic = a->reply_topic;
	if (!*topic) {
		log_warn(CORE_LOG, "no reply topic known for %s; message %s not sent", a->eid,
			 usp_msg_id(msg));
		return USPC_E_NOTFOUND;
	}
	int rc = core_build_record(c, a, msg, buf, len);
	if (rc == 0 && c->cfg->protocol_trace)
		log_debug("trace", "out %s %s msg_id=%s to %s (%zu bytes)",
			  usp_msg_type_name(usp_msg_type(msg)), a->eid, usp_msg_id(msg), *topic,
			  *len);
	return rc;
}

int core_send_msg(struct core *c, struct core_agent *a, const char *topic, int v311,
		  const Usp__Msg *msg)
{
	uint8_t *rbuf = NULL;
	size_t rlen = 0;
	int rc = encode_for(c, a, &topic, msg, &rbuf, &rlen);
	if (rc != 0)
		return rc;
	struct core_pub p = { .flags = v311 ? MQTT_MTP_PUB_V311 : 0 };
	return core_publish(c, topic, &p, rbuf, rlen);
}

int core_send_answer_after_commit(struct core *c, struct core_agent *a, const char *topic, int v311,
				  const Usp__Msg *msg, uint64_t commit_seq)
{
	uint8_t *rbuf = NULL;
	size_t rlen = 0;
	int rc = encode_for(c, a, &topic, msg, &rbuf, &rlen);
	if (rc != 0)
		return rc;
	c->ans_issued++;
	struct core_pub p = { .flags = v311 ? MQTT_MTP_PUB_V311 : 0, .answer = 1 };
	return core_publish_after_commit(c, commit_seq, topic, &p, rbuf, rlen);
}

/* Publish a request to a's topic, answered on a's own response topic and
 * expiring at the request's deadline. */
static int send_request_msg(struct core *c, struct core_agent *a, const Usp__Msg *msg,
			    int64_t deadline_ms)
{
	uint8_t *rbuf = NULL;
	size_t rlen = 0;
	char resp[CORE_TOPIC_MAX + 300];
	const char *topic = NULL;
	int rc = encode_for(c, a, &topic, msg, &rbuf, &rlen);
	if (rc != 0)
		return rc;
	core_agent_response_topic(c, a, resp, sizeof(resp));
	struct core_pub p = { .flags = a->mqtt_v5 ? 0 : MQTT_MTP_PUB_V311,
			      .response_topic = resp,
			      .expires_at_ms = deadline_ms };
	return core_publish(c, topic, &p, rbuf, rlen);
}

struct core_req *core_send_request(struct core *c, struct core_agent *a, const Usp__Msg *msg,
				   enum core_req_kind kind)
{
	int64_t now = core_now_ms();
	int64_t deadline = now + c->cfg->request_timeout_ms;
	struct core_req *r = core_tracker_add(c->trk, a, usp_msg_id(msg), kind, deadline);
	if (!r) {
		log_warn(CORE_LOG, "cannot track request %s to %s (tracker full or duplicate id)",
			 usp_msg_id(msg), a->eid);
		return NULL;
	}
	r->type = usp_msg_type(msg);
	r->sent_ms = now;
	if (send_request_msg(c, a, msg, deadline) != 0) {
		core_req_free(core_tracker_take(c->trk, a, usp_msg_id(msg)));
		return NULL;
	}
	return r;
}
