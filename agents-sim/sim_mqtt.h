/*
 * sim_mqtt.h — the agents' MQTT 5 connections: libmosquitto clients driven
 * from the worker's epoll loop (mosquitto_socket / loop_read / loop_write /
 * loop_misc, never a libmosquitto thread), TCP_NODELAY, non-blocking
 * connects paced by the connect rate, subscribe to the agent's topic,
 * reconnect with back-off. The connection state machine lives here; the
 * USP side (sim_agent.c) is told through the sim_agent_on_* hooks.
 * libmosquitto's callbacks only record what happened (flags, a copy of each
 * PUBLISH in a bounded per-agent inbox); the hooks run after the
 * mosquitto_loop_* call returns, so nothing is ever published, subscribed
 * or disconnected from inside a callback (libmosquitto holds its callback
 * mutex there: publishing inverts its lock order).
 * Loop thread of the worker only.
 */
#ifndef USPC_SIM_MQTT_H
#define USPC_SIM_MQTT_H

#include <stddef.h>
#include <stdint.h>

#include "sim_agent.h"

int sim_mqtt_lib_init(void);
void sim_mqtt_lib_cleanup(void);

/* Create the agent's client (not connected). 0 or -1. */
int sim_mqtt_agent_init(struct sim_agent *a);
void sim_mqtt_agent_fini(struct sim_agent *a);

/* Queue for a connect slot (state IDLE). */
void sim_mqtt_queue_connect(struct sim_agent *a);
/* Pacing timer body: start as many queued connects as the rate allows. */
void sim_mqtt_pace(struct sim_worker *w);
/* The loop's I/O callback (ptr is the agent). */
void sim_mqtt_io(void *ptr, uint32_t events);
/* Once a second: keep-alives of every connected agent. */
void sim_mqtt_misc(struct sim_worker *w);
/* Re-register EPOLLOUT if libmosquitto has data to write. */
void sim_mqtt_want_write(struct sim_agent *a);
/* At most this many received PUBLISHes wait per agent between two loop
 * passes; more are dropped and counted. */
#define SIM_MQTT_INBOX_MAX 256

/* Leave the network on purpose (reboot, churn, stop), then state next
 * (REBOOTING, OFFLINE or STOPPED). Clean (abrupt 0): a DisconnectRecord to
 * each controller (R-MTP.7), then DISCONNECT (the broker drops the Will).
 * abrupt 1 simulates a lost connection or power cut: DISCONNECT with reason
 * 0x04 "Disconnect with Will Message", so the broker publishes the Will
 * exactly as if the line had dropped. */
void sim_mqtt_leave(struct sim_agent *a, enum sim_agent_state next, const char *why, int abrupt);
/* Publish payload on topic, QoS cfg->qos, Content Type usp.msg, Response
 * Topic = our topic. 0 or -1. */
int sim_mqtt_publish(struct sim_agent *a, const char *topic, const void *payload, size_t len);
void sim_agent_move(struct sim_agent *a, enum sim_agent_state to, const char *event);

/* Hooks implemented by sim_agent.c. */
void sim_agent_on_online(struct sim_agent *a);
void sim_agent_on_message(struct sim_agent *a, const void *payload, size_t len,
			  const char *response_topic);
/* Timer of the agent's state machine fired in state REBOOTING/OFFLINE. */
void sim_agent_on_timer(struct sim_agent *a);

#endif
