/*
 * mqtt_mtp_props.c — MQTT 5 properties for the transport: building the
 * CONNECT / PUBLISH property lists, reading a received PUBLISH into an
 * in-queue item, reading a CONNACK's Response Information and
 * subscribe-topic user properties (R-MQTT.12/15/21), building the SUBSCRIBE
 * list, and the USP MQTT 3.1.1 /reply-to= helpers (R-MQTT.24/25).
 *
 * Pure functions: no locking, no logging, no Paho calls beyond its
 * property-list helpers; any thread. Every string read from the broker is
 * bounded by MQTT_MTP_MAX_TOPIC.
 */
#include "mqtt_mtp_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- 3.1.1 reply-to helpers --------------------------------------------- */

int mqtt_mtp_parse_reply_to(const char *topic, char *out, size_t out_size)
{
	const char *slash, *enc;
	size_t o = 0;

	if (!topic || !out || out_size == 0)
		return MQTT_MTP_E_INVAL;
	slash = strrchr(topic, '/');
	if (!slash || strncmp(slash + 1, REPLY_TO_TAG, strlen(REPLY_TO_TAG)) != 0)
		return 0;
	enc = slash + 1 + strlen(REPLY_TO_TAG);
	if (*enc == '\0')
		return MQTT_MTP_E_INVAL;
	while (*enc) {
		char c = *enc;

		if (c == '%' && enc[1] == '2' && (enc[2] == 'F' || enc[2] == 'f')) {
			c = '/';
			enc += 3;
		} else {
			enc++;
		}
		if (c == '+' || c == '#' || o + 1 >= out_size)
			return MQTT_MTP_E_INVAL;
		out[o++] = c;
	}
	out[o] = '\0';
	return 1;
}

int mqtt_mtp_build_reply_to(const char *dest, const char *reply, char *out, size_t out_size)
{
	size_t o, dl;

	if (!dest || !reply || !out || !*dest || !*reply)
		return MQTT_MTP_E_INVAL;
	dl = strlen(dest);
	if (dl + 1 + strlen(REPLY_TO_TAG) >= out_size)
		return MQTT_MTP_E_TOOBIG;
	memcpy(out, dest, dl);
	o = dl;
	out[o++] = '/';
	memcpy(out + o, REPLY_TO_TAG, strlen(REPLY_TO_TAG));
	o += strlen(REPLY_TO_TAG);
	for (; *reply; reply++) {
		size_t need = (*reply == '/') ? 3 : 1;

		if (o + need >= out_size)
			return MQTT_MTP_E_TOOBIG;
		if (*reply == '/') {
			memcpy(out + o, "%2F", 3);
		} else {
			out[o] = *reply;
		}
		o += need;
	}
	out[o] = '\0';
	return 0;
}

/* ---- building ------------------------------------------------------------ */

int mtp_add_prop(MQTTProperties *p, enum MQTTPropertyCodes id, const char *name, const char *value,
		 int num)
{
	MQTTProperty pr;

	memset(&pr, 0, sizeof(pr));
	pr.identifier = id;
	switch (MQTTProperty_getType(id)) {
	case MQTTPROPERTY_TYPE_UTF_8_STRING_PAIR:
		if (!name || !value)
			return MQTT_MTP_E_INVAL;
		pr.value.data.data = (char *)name;
		pr.value.data.len = (int)strlen(name);
		pr.value.value.data = (char *)value;
		pr.value.value.len = (int)strlen(value);
		break;
	case MQTTPROPERTY_TYPE_UTF_8_ENCODED_STRING:
	case MQTTPROPERTY_TYPE_BINARY_DATA:
		if (!value)
			return MQTT_MTP_E_INVAL;
		pr.value.data.data = (char *)value;
		pr.value.data.len = (int)strlen(value);
		break;
	case MQTTPROPERTY_TYPE_BYTE:
		pr.value.byte = (unsigned char)num;
		break;
	case MQTTPROPERTY_TYPE_TWO_BYTE_INTEGER:
		pr.value.integer2 = (unsigned short)num;
		break;
	default:
		pr.value.integer4 = (unsigned int)num;
		break;
	}
	return MQTTProperties_add(p, &pr) == 0 ? 0 : MQTT_MTP_E_NOMEM;
}

int mtp_build_pub_props(MQTTProperties *p, const char *reply)
{
	if (mtp_add_prop(p, MQTTPROPERTY_CODE_CONTENT_TYPE, NULL, CONTENT_TYPE_USP, 0) ||
	    mtp_add_prop(p, MQTTPROPERTY_CODE_RESPONSE_TOPIC, NULL, reply, 0))
		return MQTT_MTP_E_NOMEM;
	return 0;
}

/* Fixed part of the list: Content Type and Response Topic; then
 * Message Expiry Interval. length is what MQTTProperties_add would count:
 * an identifier byte, then 2 + len for a string or 4 for an integer. */
void mtp_fill_pub_props(MQTTProperties *p, MQTTProperty arr[3], const char *reply,
			uint32_t expiry_s)
{
	int cl = (int)strlen(CONTENT_TYPE_USP), rl = (int)strlen(reply);

	memset(arr, 0, 3 * sizeof(*arr));
	arr[0].identifier = MQTTPROPERTY_CODE_CONTENT_TYPE;
	arr[0].value.data.data = (char *)CONTENT_TYPE_USP;
	arr[0].value.data.len = cl;
	arr[1].identifier = MQTTPROPERTY_CODE_RESPONSE_TOPIC;
	arr[1].value.data.data = (char *)reply;
	arr[1].value.data.len = rl;
	p->count = 2;
	p->length = (1 + 2 + cl) + (1 + 2 + rl);
	if (expiry_s) {
		arr[2].identifier = MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL;
		arr[2].value.integer4 = expiry_s;
		p->count = 3;
		p->length += 1 + 4;
	}
	p->max_count = 3;
	p->array = arr;
}

/* ---- reading a PUBLISH ---------------------------------------------------- */

/* A string-valued property, or NULL/0. */
static const char *prop_str(MQTTProperties *p, enum MQTTPropertyCodes code, size_t *len)
{
	MQTTProperty *pr = MQTTProperties_getProperty(p, code);

	*len = 0;
	if (!pr || !pr->value.data.data)
		return NULL;
	*len = (size_t)pr->value.data.len;
	return pr->value.data.data;
}

static const char *user_prop(MQTTProperties *p, const char *name, size_t *len)
{
	size_t nl = strlen(name);

	*len = 0;
	for (int i = 0; i < p->count; i++) {
		MQTTProperty *pr = &p->array[i];

		if (pr->identifier != MQTTPROPERTY_CODE_USER_PROPERTY)
			continue;
		if ((size_t)pr->value.data.len == nl &&
		    memcmp(pr->value.data.data, name, nl) == 0) {
			*len = (size_t)pr->value.value.len;
			return pr->value.value.data;
		}
	}
	return NULL;
}

/* Copy len bytes + NUL into *cursor; return the copy (NULL if src NULL). */
static const char *put_str(char **cursor, const char *src, size_t len)
{
	char *d = *cursor;

	if (!src)
		return NULL;
	memcpy(d, src, len);
	d[len] = '\0';
	*cursor = d + len + 1;
	return d;
}

struct in_item *mtp_build_message(const char *topic, size_t tlen, MQTTAsync_message *pm,
				  const char *reply_suffix)
{
	size_t rl, cl, el, sl = reply_suffix ? strlen(reply_suffix) : 0;
	const char *rt = prop_str(&pm->properties, MQTTPROPERTY_CODE_RESPONSE_TOPIC, &rl);
	const char *ct = prop_str(&pm->properties, MQTTPROPERTY_CODE_CONTENT_TYPE, &cl);
	const char *eid = user_prop(&pm->properties, UP_ENDPOINT_ID, &el);
	size_t plen = (size_t)pm->payloadlen;
	struct in_item *it;
	char *cur;

	if (!rt && reply_suffix) {
		rt = reply_suffix;
		rl = sl;
	}
	it = malloc(sizeof(*it) + plen + 1 + tlen + 1 + rl + 1 + cl + 1 + el + 1);
	if (!it)
		return NULL;
	memset(&it->ev, 0, sizeof(it->ev));
	it->next = NULL;
	cur = it->data;
	it->ev.kind = MQTT_MTP_EV_MESSAGE;
	it->ev.payload = (const uint8_t *)put_str(&cur, pm->payload ? pm->payload : "", plen);
	it->ev.len = plen;
	it->ev.topic = put_str(&cur, topic, tlen);
	it->ev.response_topic = put_str(&cur, rt, rl);
	it->ev.reply_via_suffix = (rt && rt == reply_suffix);
	it->ev.content_type = put_str(&cur, ct, cl);
	it->ev.endpoint_id = put_str(&cur, eid, el);
	it->ev.dup = pm->dup;
	return it;
}

/* ---- reading a CONNACK ----------------------------------------------------- */

/* A copy of a broker-given topic (filter if filter_ok), or NULL when it is
 * empty, too long, holds a NUL, or is a filter where a topic is wanted. */
static char *dup_topic(const char *s, int len, int filter_ok, int *nomem)
{
	char *d;

	if (!s || len <= 0 || len > MQTT_MTP_MAX_TOPIC || memchr(s, '\0', (size_t)len))
		return NULL;
	if (!filter_ok && (memchr(s, '+', (size_t)len) || memchr(s, '#', (size_t)len)))
		return NULL;
	/* not strndup: Paho's property data is not NUL-terminated */
	d = malloc((size_t)len + 1);
	if (!d) {
		*nomem = 1;
		return NULL;
	}
	memcpy(d, s, (size_t)len);
	d[len] = '\0';
	return d;
}

int mtp_connack_info_read(MQTTProperties *props, struct mtp_connack_info *ci)
{
	MQTTProperty *ri;
	size_t nl = strlen(UP_SUBSCRIBE_TOPIC);
	int nomem = 0;

	memset(ci, 0, sizeof(*ci));
	if (!props)
		return 0;
	ri = MQTTProperties_getProperty(props, MQTTPROPERTY_CODE_RESPONSE_INFORMATION);
	if (ri)
		ci->response_info = dup_topic(ri->value.data.data, ri->value.data.len, 0, &nomem);
	for (int i = 0; i < props->count && !nomem; i++) {
		MQTTProperty *pr = &props->array[i];
		char *t;

		if (pr->identifier != MQTTPROPERTY_CODE_USER_PROPERTY ||
		    (size_t)pr->value.data.len != nl ||
		    memcmp(pr->value.data.data, UP_SUBSCRIBE_TOPIC, nl))
			continue;
		t = ci->n_sub_topics < MTP_MAX_BROKER_SUBS
			    ? dup_topic(pr->value.value.data, pr->value.value.len, 1, &nomem)
			    : NULL;
		if (t)
			ci->sub_topics[ci->n_sub_topics++] = t;
		else if (!nomem)
			ci->sub_topics_ignored++;
	}
	if (nomem) {
		mtp_connack_info_fini(ci);
		return MQTT_MTP_E_NOMEM;
	}
	return 0;
}

void mtp_connack_info_fini(struct mtp_connack_info *ci)
{
	free(ci->response_info);
	for (int i = 0; i < ci->n_sub_topics; i++)
		free(ci->sub_topics[i]);
	memset(ci, 0, sizeof(*ci));
}

/* ---- SUBSCRIBE list --------------------------------------------------------- */

static int listed(char *const *list, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return 1;
	return 0;
}

int mtp_sub_list_build(char **list, int cap, char *const *cfg, int n_cfg, char *const *broker,
		       int n_broker, const char *reply, int wildcard)
{
	int n = 0;

	if (n_cfg + n_broker + 1 > cap || !reply)
		return MQTT_MTP_E_INVAL;
	for (int i = 0; i < n_cfg; i++) {
		if (!(list[n] = strdup(cfg[i])))
			goto nomem;
		n++;
	}
	for (int i = 0; i < n_broker; i++) {
		if (listed(list, n, broker[i]))
			continue;
		if (!(list[n] = strdup(broker[i])))
			goto nomem;
		n++;
	}
	/* The reply filter goes last (the SUBACK check relies on it). */
	if (wildcard) {
		if (asprintf(&list[n], "%s/#", reply) < 0)
			goto nomem;
	} else if (!(list[n] = strdup(reply))) {
		goto nomem;
	}
	return n + 1;
nomem:
	mtp_sub_list_free(list, n);
	return MQTT_MTP_E_NOMEM;
}

void mtp_sub_list_free(char **list, int n)
{
	for (int i = 0; i < n; i++) {
		free(list[i]);
		list[i] = NULL;
	}
}
