/*
 * mqtt_mtp_setup.c — building a transport handle: configuration defaults
 * and checks (every size and count bounded), owned copies of everything
 * the handle keeps, the Paho client with its callbacks and CONNECT /
 * SUBSCRIBE properties, TLS options, and starting the mtp-conn thread.
 *
 * Threads: the core thread, before mqtt_mtp_start(); nothing here runs
 * concurrently with Paho callbacks except mqtt_mtp_start()'s last step.
 */
#include "mqtt_mtp_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include "log.h"
#include "redact.h"

static char *dup_opt(const char *s)
{
	return (s && *s) ? strdup(s) : NULL;
}

/* ---- construction ------------------------------------------------------- */

void mqtt_mtp_config_init(struct mqtt_mtp_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->keepalive_s = 60;
	cfg->clean_start = 1;
	cfg->connect_timeout_s = 10;
	cfg->response_topic_wildcard = 1;
	cfg->max_inflight = 100;
	cfg->out_queue_cap = 10000;
	cfg->in_queue_cap = 10000;
	cfg->in_queue_max_bytes = 64u << 20;
	cfg->max_payload = 1u << 20;
	cfg->reconnect_min_ms = 500;
	cfg->reconnect_max_ms = 30000;
	cfg->tcp_nodelay = 1;
}

static int check_file(const char *what, const char *path, struct uspc_err *err)
{
	if (path && *path && access(path, R_OK) != 0)
		return uspc_err_set(err, MQTT_MTP_E_INVAL, "mqtt: cannot read %s %s: %s", what,
				    path, strerror(errno));
	return 0;
}

static int check_config(const struct mqtt_mtp_config *c, struct uspc_err *err)
{
	size_t rl;

	if (!c->broker_url || !*c->broker_url)
		return uspc_err_set(err, MQTT_MTP_E_INVAL, "mqtt: no broker URL");
	if (!c->endpoint_id || !*c->endpoint_id)
		return uspc_err_set(err, MQTT_MTP_E_INVAL, "mqtt: no endpoint id");
	/* NULL or "": taken from the broker's CONNACK Response Information. */
	if (c->response_topic && strpbrk(c->response_topic, "+#"))
		return uspc_err_set(err, MQTT_MTP_E_INVAL,
				    "mqtt: response topic must be a topic without wildcards");
	rl = c->response_topic ? strlen(c->response_topic) : 0;
	if (rl * 3 + 64 > MQTT_MTP_MAX_TOPIC)
		return uspc_err_set(err, MQTT_MTP_E_INVAL,
				    "mqtt: response topic too long (%zu bytes)", rl);
	if (c->n_sub_topics > MQTT_MTP_MAX_SUBS || (c->n_sub_topics && !c->sub_topics))
		return uspc_err_set(err, MQTT_MTP_E_INVAL, "mqtt: at most %d subscription topics",
				    MQTT_MTP_MAX_SUBS);
	for (size_t i = 0; i < c->n_sub_topics; i++)
		if (!c->sub_topics[i] || !*c->sub_topics[i] ||
		    strlen(c->sub_topics[i]) > MQTT_MTP_MAX_TOPIC)
			return uspc_err_set(err, MQTT_MTP_E_INVAL,
					    "mqtt: subscription topic %zu is empty "
					    "or too long",
					    i);
	if (c->keepalive_s < 0 || c->keepalive_s > 65535 || c->connect_timeout_s < 1)
		return uspc_err_set(err, MQTT_MTP_E_INVAL,
				    "mqtt: keepalive must be 0..65535 s and the "
				    "connect timeout at least 1 s");
	if (c->max_inflight < 1 || c->max_inflight > 65535)
		return uspc_err_set(err, MQTT_MTP_E_INVAL, "mqtt: max_inflight must be 1..65535");
	if (c->out_queue_cap < 1 || c->in_queue_cap < 1)
		return uspc_err_set(err, MQTT_MTP_E_INVAL,
				    "mqtt: queue capacities must be at least 1");
	if (c->max_payload < 1 || c->max_payload > (256u << 20) ||
	    c->in_queue_max_bytes < c->max_payload)
		return uspc_err_set(err, MQTT_MTP_E_INVAL,
				    "mqtt: max_payload must be 1 B..256 MiB and "
				    "not above in_queue_max_bytes");
	if (c->reconnect_min_ms < 10 || c->reconnect_max_ms < c->reconnect_min_ms)
		return uspc_err_set(err, MQTT_MTP_E_INVAL,
				    "mqtt: reconnect_min_ms must be >= 10 and "
				    "<= reconnect_max_ms");
	if (!c->cert_file != !c->key_file)
		return uspc_err_set(err, MQTT_MTP_E_INVAL,
				    "mqtt: a client certificate needs both "
				    "cert_file and key_file");
	if (check_file("CA file", c->ca_file, err) ||
	    check_file("certificate", c->cert_file, err) || check_file("key", c->key_file, err))
		return MQTT_MTP_E_INVAL;
	return 0;
}

/* Host and port out of "host:port", "[v6addr]:port" or "host" (port by
 * scheme), for finding Paho's socket (TCP_NODELAY). MQTT_MTP_E_INVAL when
 * hp is none of these, MQTT_MTP_E_NOMEM. */
static int split_host_port(struct mqtt_mtp *m, const char *hp, int tls)
{
	const char *colon, *h = hp, *h_end;
	long port = tls ? 8883 : 1883;
	char *end;

	if (*hp == '[') {
		h = hp + 1;
		h_end = strchr(h, ']');
		if (!h_end)
			return MQTT_MTP_E_INVAL;
		colon = h_end[1] == ':' ? h_end + 1 : NULL;
		if (!colon && h_end[1])
			return MQTT_MTP_E_INVAL;
	} else {
		colon = strrchr(hp, ':');
		h_end = colon ? colon : hp + strlen(hp);
	}
	if (colon) {
		errno = 0;
		port = strtol(colon + 1, &end, 10);
		if (errno || *end || end == colon + 1 || port < 1 || port > 65535)
			return MQTT_MTP_E_INVAL;
	}
	if (h_end == h)
		return MQTT_MTP_E_INVAL;
	m->broker_host = strndup(h, (size_t)(h_end - h));
	m->broker_port = (int)port;
	return m->broker_host ? 0 : MQTT_MTP_E_NOMEM;
}

/* "mqtt://h:p" → "tcp://h:p", "mqtts://h:p" → "ssl://h:p". */
static int convert_url(struct mqtt_mtp *m, const char *url, struct uspc_err *err)
{
	static const struct {
		const char *in, *out;
		int tls;
	} schemes[] = {
		{ "mqtt://", "tcp://", 0 },
		{ "tcp://", "tcp://", 0 },
		{ "mqtts://", "ssl://", 1 },
		{ "ssl://", "ssl://", 1 },
	};
	char shown[600]; /* url as errors may show it: without a password */
	uspc_redact(url, shown, sizeof(shown));

	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t l = strlen(schemes[i].in);
		const char *rest = url + l;

		if (strncmp(url, schemes[i].in, l) != 0)
			continue;
		/* No user:password@ part: it would reach Paho's URI and every log
		 * line that names the broker (mqtt_username/mqtt_password exist). */
		int rc = *rest && !strpbrk(rest, "/@") ? split_host_port(m, rest, schemes[i].tls)
						       : MQTT_MTP_E_INVAL;
		if (rc == MQTT_MTP_E_NOMEM)
			return uspc_err_set(err, rc, "out of memory");
		if (rc < 0)
			return uspc_err_set(err, MQTT_MTP_E_INVAL,
					    "mqtt: bad broker URL %s (want "
					    "mqtt://host:port or mqtts://host:port; user and "
					    "password are separate settings)",
					    shown);
		if (asprintf(&m->url, "%s%s", schemes[i].out, rest) < 0)
			return uspc_err_set(err, MQTT_MTP_E_NOMEM, "out of memory");
		m->tls = schemes[i].tls;
		return 0;
	}
	return uspc_err_set(err, MQTT_MTP_E_INVAL,
			    "mqtt: unsupported broker URL scheme in %s "
			    "(want mqtt:// or mqtts://)",
			    shown);
}

static int copy_config(struct mqtt_mtp *m, const struct mqtt_mtp_config *c, struct uspc_err *err)
{
	uint8_t rnd[4] = { 0 };

	m->endpoint_id = strdup(c->endpoint_id);
	m->cfg_reply = dup_opt(c->response_topic);
	atomic_init(&m->reply, m->cfg_reply);
	m->username = dup_opt(c->username);
	m->password = dup_opt(c->password);
	m->ca_file = dup_opt(c->ca_file);
	m->cert_file = dup_opt(c->cert_file);
	m->key_file = dup_opt(c->key_file);
	if (c->client_id && *c->client_id) {
		m->client_id = strdup(c->client_id);
	} else {
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			memcpy(rnd, &m, sizeof(rnd) < sizeof(m) ? sizeof(rnd) : sizeof(m));
		if (asprintf(&m->client_id, "%s-%02x%02x%02x%02x", c->endpoint_id, rnd[0], rnd[1],
			     rnd[2], rnd[3]) < 0)
			m->client_id = NULL;
	}
	for (size_t i = 0; i < c->n_sub_topics; i++) {
		if (!(m->sub_cfg[m->n_sub_cfg] = strdup(c->sub_topics[i])))
			return uspc_err_set(err, MQTT_MTP_E_NOMEM, "out of memory");
		m->n_sub_cfg++;
	}
	for (int i = 0; i < MTP_MAX_ALL_SUBS; i++)
		m->qos_list[i] = 1;
	if (!m->endpoint_id || (c->response_topic && *c->response_topic && !m->cfg_reply) ||
	    !m->client_id || (c->username && *c->username && !m->username) ||
	    (c->password && *c->password && !m->password) ||
	    (c->ca_file && *c->ca_file && !m->ca_file) || (c->cert_file && !m->cert_file) ||
	    (c->key_file && !m->key_file))
		return uspc_err_set(err, MQTT_MTP_E_NOMEM, "out of memory");
	m->cfg = *c;
	m->cfg.broker_url = m->cfg.client_id = m->cfg.username = m->cfg.password = NULL;
	m->cfg.sub_topics = NULL;
	m->cfg.response_topic = NULL;
	return 0;
}

int mtp_paho_create(struct mqtt_mtp *m, MQTTAsync *cli, struct uspc_err *err)
{
	MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer5;
	int rc;

	co.maxBufferedMessages = m->cfg.max_inflight + 64;
	rc = MQTTAsync_createWithOptions(cli, m->url, m->client_id, MQTTCLIENT_PERSISTENCE_NONE,
					 NULL, &co);
	if (rc != MQTTASYNC_SUCCESS) {
		*cli = NULL;
		return uspc_err_set(err, MQTT_MTP_E_PAHO,
				    "mqtt: cannot create client for %s: %s (%d)", m->url,
				    MQTTAsync_strerror(rc), rc);
	}
	if (MQTTAsync_setCallbacks(*cli, m, mtp_on_connection_lost, mtp_on_message, NULL) != 0 ||
	    MQTTAsync_setDisconnected(*cli, m, mtp_on_server_disconnect) != 0) {
		MQTTAsync_destroy(cli);
		*cli = NULL;
		return uspc_err_set(err, MQTT_MTP_E_PAHO, "mqtt: cannot set Paho callbacks");
	}
	return 0;
}

static int setup_paho(struct mqtt_mtp *m, struct uspc_err *err)
{
	uint32_t max_packet = (uint32_t)(m->cfg.max_payload + MQTT_MTP_MAX_TOPIC + 4096);

	if (mtp_paho_create(m, &m->cli, err) < 0)
		return MQTT_MTP_E_PAHO;
	/* Without a configured reply topic the publish properties are built
	 * when the broker's Response Information arrives (mqtt_mtp_conn.c). */
	if ((m->cfg_reply && mtp_build_pub_props(&m->pub_props, m->cfg_reply) < 0) ||
	    mtp_add_prop(&m->conn_props, MQTTPROPERTY_CODE_USER_PROPERTY, UP_ENDPOINT_ID,
			 m->endpoint_id, 0) ||
	    /* R-MQTT.12: ask for Response Information (used when no reply
	     * topic is configured, R-MQTT.21). */
	    mtp_add_prop(&m->conn_props, MQTTPROPERTY_CODE_REQUEST_RESPONSE_INFORMATION, NULL, NULL,
			 1) ||
	    mtp_add_prop(&m->conn_props, MQTTPROPERTY_CODE_MAXIMUM_PACKET_SIZE, NULL, NULL,
			 (int)max_packet) ||
	    (m->cfg.session_expiry_s &&
	     mtp_add_prop(&m->conn_props, MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL, NULL, NULL,
			  (int)m->cfg.session_expiry_s)) ||
	    mtp_add_prop(&m->sub_props, MQTTPROPERTY_CODE_USER_PROPERTY, UP_ENDPOINT_ID,
			 m->endpoint_id, 0))
		return uspc_err_set(err, MQTT_MTP_E_NOMEM, "out of memory");
	if (m->tls) {
		MQTTAsync_SSLOptions so = MQTTAsync_SSLOptions_initializer;

		so.trustStore = m->ca_file;
		so.keyStore = m->cert_file;
		so.privateKey = m->key_file;
		so.enableServerCertAuth = !m->cfg.tls_insecure;
		so.verify = !m->cfg.tls_insecure;
		so.ssl_error_cb = mtp_on_ssl_error;
		so.ssl_error_context = m;
		m->ssl = so;
		if (m->cfg.tls_insecure)
			log_warn(COMP, "TLS verification of the broker is OFF (tls_insecure)");
	} else if (m->ca_file || m->cert_file) {
		return uspc_err_set(err, MQTT_MTP_E_INVAL,
				    "mqtt: TLS files given but the broker URL "
				    "is not mqtts://");
	}
	return 0;
}

struct mqtt_mtp *mqtt_mtp_new(const struct mqtt_mtp_config *cfg, struct uspc_err *err)
{
	struct mqtt_mtp *m = NULL;
	pthread_condattr_t ca;

	if (!cfg) {
		uspc_err_set(err, MQTT_MTP_E_INVAL, "mqtt: no configuration");
		return NULL;
	}
	if (check_config(cfg, err) < 0)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m) {
		uspc_err_set(err, MQTT_MTP_E_NOMEM, "out of memory");
		return NULL;
	}
	m->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pthread_mutex_init(&m->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->cond, &ca);
	pthread_cond_init(&m->space_cond, &ca);
	pthread_condattr_destroy(&ca);
	m->rng = ((uint64_t)time(NULL) << 20) ^ (uint64_t)(uintptr_t)m ^ (uint64_t)getpid() ^
		 0x9e3779b97f4a7c15ull;
	if (m->wake_fd < 0) {
		uspc_err_set(err, MQTT_MTP_E_SYS, "mqtt: eventfd: %s", strerror(errno));
		goto fail;
	}
	if (convert_url(m, cfg->broker_url, err) < 0 || copy_config(m, cfg, err) < 0 ||
	    setup_paho(m, err) < 0)
		goto fail;
	log_info(COMP,
		 "client %s for %s (endpoint %s, reply topic %s, %d subscription(s), window %d)",
		 m->client_id, m->url, m->endpoint_id,
		 m->cfg_reply ? m->cfg_reply : "(broker's Response Information)", m->n_sub_cfg + 1,
		 m->cfg.max_inflight);
	return m;
fail:
	m->state = ST_STOPPED;
	mqtt_mtp_free(m);
	return NULL;
}

int mqtt_mtp_start(struct mqtt_mtp *m)
{
	int rc = 0;

	if (!m)
		return MQTT_MTP_E_INVAL;
	pthread_mutex_lock(&m->lock);
	if (m->state != ST_IDLE || m->thread_started) {
		rc = MQTT_MTP_E_STATE;
		goto out;
	}
	mtp_move_state(m, ST_CONNECTING, "start");
	m->need_connect = 1;
	if (pthread_create(&m->conn_thread, NULL, mtp_conn_main, m) != 0) {
		log_error(COMP, "cannot start the connection thread: %s", strerror(errno));
		m->state = ST_IDLE;
		rc = MQTT_MTP_E_SYS;
		goto out;
	}
	m->thread_started = 1;
out:
	pthread_mutex_unlock(&m->lock);
	return rc;
}
