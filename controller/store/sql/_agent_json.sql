json_strip_nulls(json_build_object('eid', a.eid, 'online', a.online,
  'online_since', a.online_since, 'last_seen', a.last_seen,
  'first_seen', a.first_seen, 'reply_topic', a.reply_topic,
  'mqtt_version', a.mqtt_version, 'usp_versions', a.usp_versions,
  'manufacturer', a.manufacturer, 'model_name', a.model_name,
  'serial_number', a.serial_number, 'software_version', a.software_version,
  'hardware_version', a.hardware_version, 'oui', a.oui,
  'product_class', a.product_class, 'tags', a.tags, 'onboarded_at', a.onboarded_at))
