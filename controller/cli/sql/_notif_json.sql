-- A notifications row `n` as uspctl prints it (every key, null when unset).
json_build_object('id', n.id, 'eid', n.eid, 'kind', n.kind, 'path', n.path,
  'subscription_id', n.subscription_id, 'msg_id', n.msg_id,
  'received_at', n.received_at, 'stored_at', n.stored_at, 'payload', n.payload)
