/*
 * core_out.c — everything the core sends: Records wrapped around Msgs,
 * published through the MQTT transport, with an outbox for publishes the
 * transport refused with BUSY (kept in order and retried when it wakes us;
 * never dropped), and requests registered in the tracker.
 *
 * Core thread only. Invariant: while the outbox is non-empty, new publishes
 * go to its tail, so records leave in the order they were made.
 */
#include <stdlib.h>
#include <string.h>

#include "core_internal.h"
#include "log.h"

void core_next_msg_id(struct core *c, char *buf, size_t cap)
{
	usp_msgid_next(&c->idgen, buf, cap);
}

static int outbox_push(struct core *c, const char *topic, unsigned flags, uint8_t *bytes,
		       size_t len)
{
	struct core_out *o = calloc(1, sizeof(*o));
	if (!o || !(o->topic = strdup(topic))) {
		free(o);
		return -1;
	}
	o->bytes = bytes;
	o->len = len;
	o->flags = flags;
	if (c->out_tail)
		c->out_tail->next = o;
	else
		c->out_head = o;
	c->out_tail = o;
	c->out_len++;
	c->out_pushed++;
	return 0;
}

int core_publish(struct core *c, const char *topic, unsigned flags, uint8_t *bytes, size_t len)
{
	if (!c->out_head) {
		int rc = mqtt_mtp_publish(c->mtp, topic, bytes, len, flags);
		if (rc == 0) {
			c->ctr.records_out++;
			free(bytes);
			return 0;
		}
		if (rc != MQTT_MTP_E_BUSY) {
			c->ctr.publish_errors++;
			log_warn(CORE_LOG, "publish to %s refused: code %d", topic, rc);
			free(bytes);
			return rc;
		}
	}
	if (outbox_push(c, topic, flags, bytes, len) != 0) {
		/* Out of memory for a 40-byte node: the one case we cannot keep it. */
		c->ctr.publish_errors++;
		log_error(CORE_LOG, "out of memory keeping a publish to %s", topic);
		free(bytes);
		return MQTT_MTP_E_NOMEM;
	}
	return 0;
}

void core_flush_outbox(struct core *c)
{
	mqtt_mtp_pump(c->mtp);
	while (c->out_head) {
		struct core_out *o = c->out_head;
		int rc = mqtt_mtp_publish(c->mtp, o->topic, o->bytes, o->len, o->flags);
		if (rc == MQTT_MTP_E_BUSY)
			break;
		if (rc == 0) {
			c->ctr.records_out++;
		} else {
			c->ctr.publish_errors++;
			log_warn(CORE_LOG, "publish to %s refused: code %d", o->topic, rc);
		}
		c->out_head = o->next;
		if (!c->out_head)
			c->out_tail = NULL;
		c->out_len--;
		c->out_popped++;
		free(o->topic);
		free(o->bytes);
		free(o);
	}
	mqtt_mtp_pump(c->mtp);
}

void core_outbox_free(struct core *c)
{
	size_t n = c->out_len;
	while (c->out_head) {
		struct core_out *o = c->out_head;
		c->out_head = o->next;
		free(o->topic);
		free(o->bytes);
		free(o);
	}
	c->out_tail = NULL;
	c->out_len = 0;
	if (n)
		log_warn(CORE_LOG, "%zu publishes still waiting for the transport at exit", n);
}

int core_send_msg(struct core *c, struct core_agent *a, const char *topic, int v311,
		  const Usp__Msg *msg)
{
	uint8_t *mbuf = NULL, *rbuf = NULL;
	size_t mlen = 0, rlen = 0;
	int rc = -1;
	if (!topic)
		topic = a->reply_topic;
	if (!topic) {
		log_warn(CORE_LOG, "no reply topic known for %s; message %s not sent", a->eid,
			 usp_msg_id(msg));
		goto out;
	}
	if (usp_msg_encode(msg, &mbuf, &mlen) != 0 ||
	    usp_record_wrap_msg(a->eid, c->cfg->endpoint_id, mbuf, mlen, &rbuf, &rlen) != 0) {
		log_error(CORE_LOG, "cannot encode %s for %s", usp_msg_type_name(usp_msg_type(msg)),
			  a->eid);
		goto out;
	}
	if (c->cfg->protocol_trace)
		log_debug("trace", "out %s %s msg_id=%s to %s (%zu bytes)",
			  usp_msg_type_name(usp_msg_type(msg)), a->eid, usp_msg_id(msg), topic,
			  rlen);
	rc = core_publish(c, topic, v311 ? MQTT_MTP_PUB_V311 : 0, rbuf, rlen);
	rbuf = NULL;
out:
	free(mbuf);
	free(rbuf);
	return rc;
}

struct core_req *core_send_request(struct core *c, struct core_agent *a, const Usp__Msg *msg,
				   enum core_req_kind kind)
{
	int64_t now = core_now_ms();
	struct core_req *r = core_tracker_add(c->trk, a, usp_msg_id(msg), kind,
					      now + c->cfg->request_timeout_ms);
	if (!r) {
		log_warn(CORE_LOG, "cannot track request %s to %s (tracker full or duplicate id)",
			 usp_msg_id(msg), a->eid);
		return NULL;
	}
	r->type = usp_msg_type(msg);
	r->sent_ms = now;
	if (core_send_msg(c, a, NULL, !a->mqtt_v5, msg) != 0) {
		core_req_free(core_tracker_take(c->trk, a, usp_msg_id(msg)));
		return NULL;
	}
	return r;
}
