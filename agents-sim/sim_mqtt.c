/*
 * sim_mqtt.c — libmosquitto on the worker's epoll loop, and the agent's
 * connection state machine (IDLE → CONNECTING → SUBSCRIBING → ONLINE, with
 * BACKOFF after failures and REBOOTING/OFFLINE/STOPPED when the agent
 * leaves on purpose). Owns each agent's struct mosquitto and its epoll
 * registration. Invariants: a->fd is the registered socket or -1; every
 * state change goes through sim_agent_move(), which logs it; the client is
 * created with the agent as obj, so callbacks always get their own agent.
 * Loop thread only.
 */
#include "sim_mqtt.h"

#include <errno.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "log.h"

#define BACKOFF_MIN_MS 2000u
#define BACKOFF_MAX_MS 60000u

static const char *const state_names[] = { "idle",    "connecting", "subscribing", "online",
					   "backoff", "rebooting",  "offline",     "stopped" };

const char *sim_agent_state_name(enum sim_agent_state s)
{
	return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

static void count_state(struct sim_agent *a, enum sim_agent_state s, int d)
{
	if (s == SIM_A_ONLINE)
		a->w->stats->online += (uint64_t)d;
	else if (s == SIM_A_CONNECTING || s == SIM_A_SUBSCRIBING)
		a->w->stats->connecting += (uint64_t)d;
}

void sim_agent_move(struct sim_agent *a, enum sim_agent_state to, const char *event)
{
	if (a->state == to)
		return;
	log_debug("sim", "%s: %s --%s--> %s", a->eid, sim_agent_state_name(a->state), event,
		  sim_agent_state_name(to));
	count_state(a, a->state, -1);
	count_state(a, to, 1);
	a->state = (uint8_t)to;
}

int sim_mqtt_lib_init(void)
{
	return mosquitto_lib_init() == MOSQ_ERR_SUCCESS ? 0 : -1;
}

void sim_mqtt_lib_cleanup(void)
{
	mosquitto_lib_cleanup();
}

/* The agent's socket leaves the epoll set. Only while it is still the
 * agent's open socket: once libmosquitto has closed it the kernel has
 * dropped it from the set already, and its number may by now be another
 * agent's new socket, whose registration an EPOLL_CTL_DEL would remove
 * (that agent would then hear nothing and hang). */
static void unregister_fd(struct sim_agent *a)
{
	if (a->fd >= 0 && a->mosq && mosquitto_socket(a->mosq) == a->fd)
		sim_loop_del(a->w->loop, a->fd);
	a->fd = -1;
	a->epoll_out = 0;
}

/* The agent's current socket joins the epoll set. A new socket may have the
 * number of the agent's previous one (closed, so no longer in the set):
 * it is added all the same; a socket still registered is modified. */
static void register_fd(struct sim_agent *a)
{
	int fd = mosquitto_socket(a->mosq);
	if (fd < 0)
		return;
	if (fd != a->fd)
		unregister_fd(a);
	a->fd = fd;
	a->epoll_out = 1; /* connect completion shows as writable */
	if (sim_loop_add(a->w->loop, fd, EPOLLIN | EPOLLOUT, a) < 0 &&
	    (errno != EEXIST || sim_loop_mod(a->w->loop, fd, EPOLLIN | EPOLLOUT, a) < 0))
		log_warn("sim", "%s: epoll add failed for fd %d", a->eid, fd);
}

void sim_mqtt_want_write(struct sim_agent *a)
{
	if (a->fd < 0)
		return;
	int want = mosquitto_want_write(a->mosq) ? 1 : 0;
	if (want == a->epoll_out)
		return;
	a->epoll_out = (uint8_t)want;
	sim_loop_mod(a->w->loop, a->fd, EPOLLIN | (want ? EPOLLOUT : 0), a);
}

static void backoff(struct sim_agent *a, const char *why)
{
	uint64_t d = BACKOFF_MIN_MS;
	for (uint32_t i = 0; i < a->failures && d < BACKOFF_MAX_MS; i++)
		d *= 2;
	if (d > BACKOFF_MAX_MS)
		d = BACKOFF_MAX_MS;
	d = d / 2 + (uint64_t)(sim_worker_rand(a->w) * (double)(d / 2));
	a->failures++;
	sim_agent_move(a, SIM_A_BACKOFF, why);
	sim_timer_arm(a->w->loop, &a->timer, d);
}

/* What the callbacks saw; acted on by process_events() after the loop call. */
enum { EV_CONNACK = 1, EV_SUBACK_OK = 2, EV_SUBACK_REFUSED = 4 };

struct sim_inmsg {
	struct sim_inmsg *next;
	char *resp_topic; /* NULL if the PUBLISH had none */
	size_t len;
	uint8_t payload[];
};

static void inbox_free(struct sim_inmsg *m)
{
	while (m) {
		struct sim_inmsg *next = m->next;
		free(m->resp_topic);
		free(m);
		m = next;
	}
}

/* Forget unhandled PUBLISHes (the connection is gone): counted as dropped. */
static void inbox_drop(struct sim_agent *a)
{
	a->w->stats->dropped += a->n_in;
	inbox_free(a->in_head);
	a->in_head = a->in_tail = NULL;
	a->n_in = 0;
}

static void on_connect(struct mosquitto *m, void *obj, int rc, int flags,
		       const mosquitto_property *props)
{
	struct sim_agent *a = obj;
	(void)m;
	(void)flags;
	(void)props;
	if (rc != 0) {
		log_info("sim", "%s: broker refused the connection: %s", a->eid,
			 mosquitto_reason_string(rc));
		a->w->stats->connect_fail++;
		return; /* the broker closes; on_disconnect backs off */
	}
	a->mq_events |= EV_CONNACK;
}

static void on_subscribe(struct mosquitto *m, void *obj, int mid, int n, const int *granted,
			 const mosquitto_property *props)
{
	struct sim_agent *a = obj;
	(void)m;
	(void)mid;
	(void)props;
	a->mq_events |= (n < 1 || granted[0] >= 0x80) ? EV_SUBACK_REFUSED : EV_SUBACK_OK;
}

static void on_disconnect(struct mosquitto *m, void *obj, int rc, const mosquitto_property *props)
{
	struct sim_agent *a = obj;
	(void)m;
	(void)props;
	unregister_fd(a);
	a->mq_events = 0;
	inbox_drop(a);
	a->w->stats->disconnects++;
	switch ((enum sim_agent_state)a->state) {
	case SIM_A_REBOOTING:
	case SIM_A_OFFLINE:
	case SIM_A_STOPPED:
		return; /* left on purpose; the agent's timer brings it back */
	case SIM_A_ONLINE:
	case SIM_A_SUBSCRIBING:
		log_debug("sim", "%s: connection lost (%s)", a->eid, mosquitto_strerror(rc));
		if (a->w->cfg->reconnect_delay_s > 0) { /* --reconnect-delay, then as usual */
			sim_agent_move(a, SIM_A_BACKOFF, "disconnect");
			sim_timer_arm(a->w->loop, &a->timer,
				      (uint64_t)(a->w->cfg->reconnect_delay_s * 1000.0 + 0.5));
			return;
		}
		backoff(a, "disconnect");
		return;
	default:
		log_debug("sim", "%s: connection lost (%s)", a->eid, mosquitto_strerror(rc));
		backoff(a, "disconnect");
	}
}

/* Copy the PUBLISH into the agent's inbox; handled after the callback. */
static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg,
		       const mosquitto_property *props)
{
	struct sim_agent *a = obj;
	size_t len = msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0;
	(void)m;
	a->w->stats->rx++;
	a->w->stats->rx_bytes += (uint64_t)len;
	/* over the record cap: unwrap would refuse it anyway, so do not copy it */
	if (len > a->w->cfg->max_record || a->n_in >= SIM_MQTT_INBOX_MAX) {
		log_debug("sim", "%s: dropped a %zu-byte PUBLISH (%s)", a->eid, len,
			  a->n_in >= SIM_MQTT_INBOX_MAX ? "inbox full" : "over --max-record");
		a->w->stats->dropped++;
		return;
	}
	struct sim_inmsg *im = malloc(sizeof(*im) + len);
	if (!im) {
		a->w->stats->dropped++;
		return;
	}
	im->next = NULL;
	im->resp_topic = NULL;
	im->len = len;
	if (len)
		memcpy(im->payload, msg->payload, len);
	mosquitto_property_read_string(props, MQTT_PROP_RESPONSE_TOPIC, &im->resp_topic, false);
	if (a->in_tail)
		a->in_tail->next = im;
	else
		a->in_head = im;
	a->in_tail = im;
	a->n_in++;
}

static void after_connack(struct sim_agent *a)
{
	if (a->state != SIM_A_CONNECTING)
		return;
	sim_agent_move(a, SIM_A_SUBSCRIBING, "connack");
	if (mosquitto_subscribe_v5(a->mosq, NULL, a->topic, a->w->cfg->qos, 0, NULL) !=
	    MOSQ_ERR_SUCCESS)
		mosquitto_disconnect(a->mosq);
}

static void after_suback(struct sim_agent *a, int ok)
{
	if (a->state != SIM_A_SUBSCRIBING)
		return;
	if (!ok) {
		log_warn("sim", "%s: subscription to %s refused", a->eid, a->topic);
		mosquitto_disconnect(a->mosq); /* R-MQTT.17: no subscription, no publishing */
		return;
	}
	a->failures = 0;
	sim_agent_move(a, SIM_A_ONLINE, "suback");
	sim_agent_on_online(a);
}

/* Act on what the callbacks recorded, outside libmosquitto's callbacks. */
static void process_events(struct sim_agent *a)
{
	uint8_t ev = a->mq_events;
	a->mq_events = 0;
	if (ev & EV_CONNACK)
		after_connack(a);
	if (ev & (EV_SUBACK_OK | EV_SUBACK_REFUSED))
		after_suback(a, !(ev & EV_SUBACK_REFUSED));
	/* detach first: handling a message may disconnect, which drops a->in_* */
	struct sim_inmsg *list = a->in_head;
	a->in_head = a->in_tail = NULL;
	a->n_in = 0;
	for (struct sim_inmsg *im = list; im; im = im->next) {
		if (a->state == SIM_A_ONLINE)
			sim_agent_on_message(a, im->payload, im->len, im->resp_topic);
		else
			a->w->stats->dropped++;
	}
	inbox_free(list);
}

/* Options and callbacks of a new (or renewed) client. */
static int configure(struct sim_agent *a)
{
	const struct sim_config *cfg = a->w->cfg;
	mosquitto_int_option(a->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
	mosquitto_int_option(a->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	if (cfg->tls) {
		if (mosquitto_tls_set(a->mosq, cfg->cafile, NULL, cfg->certfile, cfg->keyfile,
				      NULL) != MOSQ_ERR_SUCCESS)
			return -1;
		if (cfg->tls_insecure)
			mosquitto_tls_insecure_set(a->mosq, true);
	}
	mosquitto_connect_with_flags_callback_set(a->mosq, NULL);
	mosquitto_connect_v5_callback_set(a->mosq, on_connect);
	mosquitto_subscribe_v5_callback_set(a->mosq, on_subscribe);
	mosquitto_disconnect_v5_callback_set(a->mosq, on_disconnect);
	mosquitto_message_v5_callback_set(a->mosq, on_message);
	return 0;
}

int sim_mqtt_agent_init(struct sim_agent *a)
{
	a->fd = -1;
	a->mosq = mosquitto_new(a->eid, true, a);
	return a->mosq ? configure(a) : -1;
}

/* Every connection starts a new session (clean start): libmosquitto would
 * send the old connection's unacknowledged PUBLISHes again on the new one
 * (a DisconnectRecord published just before a reboot's DISCONNECT, whose
 * PUBACK never came), and the controller would see the agent leave again
 * after it came back. A renewed client has no messages in flight. */
static int renew(struct sim_agent *a)
{
	unregister_fd(a);
	if (mosquitto_reinitialise(a->mosq, a->eid, true, a) != MOSQ_ERR_SUCCESS)
		return -1;
	return configure(a);
}

void sim_mqtt_agent_fini(struct sim_agent *a)
{
	unregister_fd(a);
	inbox_free(a->in_head);
	a->in_head = a->in_tail = NULL;
	a->n_in = 0;
	if (a->mosq)
		mosquitto_destroy(a->mosq);
	a->mosq = NULL;
}

void sim_mqtt_queue_connect(struct sim_agent *a)
{
	struct sim_worker *w = a->w;
	sim_agent_move(a, SIM_A_IDLE, "queue");
	if (a->queued)
		return;
	a->queued = 1;
	a->next_connect = NULL;
	if (w->cq_tail)
		w->cq_tail->next_connect = a;
	else
		w->cq_head = a;
	w->cq_tail = a;
	if (!sim_timer_armed(&w->pace))
		sim_timer_arm(w->loop, &w->pace, 0);
}

/* (Re)compute the Will from the current Controller table before CONNECT. */
static void set_will(struct sim_agent *a)
{
	char topic[SIM_VALUE_MAX];
	uint8_t *rec = NULL;
	size_t len = 0;
	mosquitto_property *props = NULL;
	int rc = sim_agent_will(a, topic, sizeof(topic), &rec, &len);
	if (rc != 0) {
		mosquitto_will_clear(a->mosq);
		goto out;
	}
	if (mosquitto_property_add_string(&props, MQTT_PROP_CONTENT_TYPE, "usp.msg") ||
	    mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, a->topic) ||
	    mosquitto_will_set_v5(a->mosq, topic, (int)len, rec, a->w->cfg->qos, false, props) !=
		    MOSQ_ERR_SUCCESS) {
		log_warn("sim", "%s: cannot set the MQTT Will (topic %s)", a->eid, topic);
		mosquitto_property_free_all(&props); /* ownership passes on success only */
		mosquitto_will_clear(a->mosq);
	}
out:
	free(rec);
}

static void start_connect(struct sim_agent *a)
{
	const struct sim_config *cfg = a->w->cfg;
	if (a->mq_used && renew(a) < 0) {
		log_warn("sim", "%s: cannot renew the MQTT client (out of memory)", a->eid);
		backoff(a, "connect-failed");
		return;
	}
	a->mq_used = 1;
	sim_agent_move(a, SIM_A_CONNECTING, "connect");
	if (cfg->will)
		set_will(a);
	int rc = mosquitto_connect_async(a->mosq, cfg->host, cfg->port, cfg->keepalive);
	if (rc != MOSQ_ERR_SUCCESS) {
		log_debug("sim", "%s: connect failed: %s", a->eid, mosquitto_strerror(rc));
		a->w->stats->connect_fail++;
		backoff(a, "connect-failed");
		return;
	}
	register_fd(a);
}

void sim_mqtt_pace(struct sim_worker *w)
{
	uint64_t now = sim_loop_now(w->loop);
	double burst = w->connect_rate / 10.0 + 1.0;
	w->connect_tokens += (double)(now - w->last_refill_ms) * w->connect_rate / 1000.0;
	w->last_refill_ms = now;
	if (w->connect_tokens > burst)
		w->connect_tokens = burst;
	while (w->cq_head && w->connect_tokens >= 1.0) {
		struct sim_agent *a = w->cq_head;
		w->cq_head = a->next_connect;
		if (!w->cq_head)
			w->cq_tail = NULL;
		a->queued = 0;
		if (a->state != SIM_A_IDLE)
			continue;
		w->connect_tokens -= 1.0;
		start_connect(a);
	}
	if (w->cq_head)
		sim_timer_arm(w->loop, &w->pace, 10);
}

void sim_mqtt_io(void *ptr, uint32_t events)
{
	struct sim_agent *a = ptr;
	if (!a->mosq || a->fd < 0)
		return;
	if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
		mosquitto_loop_write(a->mosq, 1);
	if (a->fd >= 0 && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		mosquitto_loop_read(a->mosq, 1);
	/* a failed read/write closed the socket; a reconnect may have opened a new one */
	if (a->fd >= 0 && mosquitto_socket(a->mosq) != a->fd) {
		unregister_fd(a);
		if (mosquitto_socket(a->mosq) >= 0)
			register_fd(a);
	}
	process_events(a);
	sim_mqtt_want_write(a);
}

void sim_mqtt_misc(struct sim_worker *w)
{
	for (uint32_t i = 0; i < w->n_agents; i++) {
		struct sim_agent *a = &w->agents[i];
		if (a->fd < 0)
			continue;
		mosquitto_loop_misc(a->mosq);
		process_events(a);
		sim_mqtt_want_write(a);
	}
}

void sim_mqtt_leave(struct sim_agent *a, enum sim_agent_state next, const char *why, int abrupt)
{
	enum sim_agent_state prev = (enum sim_agent_state)a->state;
	if (prev == SIM_A_ONLINE && !abrupt)
		sim_agent_send_disconnect(a, why); /* while still ONLINE: R-MTP.7 */
	sim_agent_move(a, next, why);
	a->mq_events = 0;
	inbox_drop(a);
	if (prev == SIM_A_CONNECTING || prev == SIM_A_SUBSCRIBING || prev == SIM_A_ONLINE) {
		int rc = abrupt ? mosquitto_disconnect_v5(a->mosq, MQTT_RC_DISCONNECT_WITH_WILL_MSG,
							  NULL)
				: mosquitto_disconnect(a->mosq);
		if (rc == MOSQ_ERR_SUCCESS) {
			mosquitto_loop_write(a->mosq, 1); /* DISCONNECT now, socket closes */
			sim_mqtt_want_write(a);
		}
	}
	if (mosquitto_socket(a->mosq) < 0)
		unregister_fd(a);
}

int sim_mqtt_publish(struct sim_agent *a, const char *topic, const void *payload, size_t len)
{
	mosquitto_property *props = NULL;
	if (a->state != SIM_A_ONLINE)
		return -1;
	if (mosquitto_property_add_string(&props, MQTT_PROP_CONTENT_TYPE, "usp.msg") ||
	    mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, a->topic)) {
		mosquitto_property_free_all(&props);
		return -1;
	}
	int rc = mosquitto_publish_v5(a->mosq, NULL, topic, (int)len, payload, a->w->cfg->qos,
				      false, props);
	mosquitto_property_free_all(&props);
	if (rc != MOSQ_ERR_SUCCESS) {
		log_debug("sim", "%s: publish to %s failed: %s", a->eid, topic,
			  mosquitto_strerror(rc));
		return -1;
	}
	a->w->stats->tx++;
	a->w->stats->tx_bytes += len;
	sim_mqtt_want_write(a);
	return 0;
}
