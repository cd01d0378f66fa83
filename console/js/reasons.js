// reasons.js — plain-language explanations of the rejection reasons the
// uspc daemons record (docs/uspc.md, "What the daemon does"), for the
// "Why is my agent not showing?" page.

export const REASONS = {
  identity_mismatch: 'The agent publishes on a topic that names another agent: its records say they come from one Endpoint ID but arrive on the topic level of a different one. Usually a misconfigured MQTT topic on the device (or a spoofing attempt).',
  identity_missing: 'The agent publishes on the bare controller topic, without its own Endpoint ID as the last topic level, while the daemons require it (agent_identity = required). Configure the device to publish on <controller topic>/<its Endpoint ID>.',
  identity_bad_topic: 'The topic has more levels below the agent\'s identity level than allowed (at most one MQTT 3.1.1 reply-to= level). Check the topic the device publishes on.',
  record_wrong_to_id: 'The record is addressed to another controller: its to_id is not this controller\'s Endpoint ID. The device is still configured for an old or different controller.',
  record_undecodable: 'The bytes are not a USP record (protobuf decoding failed): not USP at all, a truncated message, or a different encoding.',
  record_too_large: 'The record is larger than the daemons accept (max_record_size).',
  record_bad_version: 'The record announces a USP version the controller does not speak (not 1.x).',
  record_no_to_id: 'The record has no to_id: nobody is named as its recipient.',
  record_no_from_id: 'The record has no from_id: the sender did not say who it is.',
  record_eid_too_long: 'An Endpoint ID in the record is longer than allowed.',
  record_no_record_type: 'The record carries no record type (no message, connect or disconnect).',
  record_empty_payload: 'The record\'s payload is empty.',
  record_bad_payload_security: 'The record uses payload security (TLS inside USP) that the controller does not support: only plaintext payloads are accepted.',
  record_session_context: 'The record uses a USP session context, which the controller does not support (no-session-context records only).',
  record_unsupported_type: 'The record type is one the controller does not handle over MQTT.',
  registry_full: 'The daemon already tracks as many agents as it may (its registry is full): new agents are refused until others leave.',
  connect_without_topic: 'The agent sent an MQTT connect record without a topic to answer it on.',
  msg_undecodable: 'The USP message inside the record does not decode.',
  msg_no_header: 'The USP message has no header.',
  msg_no_msg_id: 'The USP message has no msg_id.',
  msg_id_too_long: 'The USP message\'s msg_id is longer than allowed.',
  msg_id_not_utf8: 'The USP message\'s msg_id is not valid UTF-8.',
  msg_no_body: 'The USP message has no body.',
  msg_empty_body: 'The USP message\'s body is empty.',
  unknown_response: 'A response that answers no request this daemon sent to that agent (late, duplicated, or meant for another controller).',
  response_type_mismatch: 'A response of the wrong type for the request it names (the request stays pending).',
  unsupported_request: 'The agent sent a request the controller does not serve.',
  notify_empty: 'A Notify without a notification in it.',
  transport_too_large: 'The broker delivered a message far above the size limit; the transport dropped it before decoding.',
};

export function explain(reason) {
  return REASONS[reason] || 'A record the daemons refused for this reason; see docs/uspc.md.';
}
