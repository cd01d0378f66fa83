-- tests/bench/fleet_gen.sql — synthetic fleet for the fleet_scale bench,
-- generated inside PostgreSQL (INSERT ... SELECT generate_series). Run by
-- tests/bench/fleet_gen.sh, one psql session per step; every step is one
-- transaction that first TRUNCATEs the tables it fills, so on a server with
-- wal_level = minimal (deploy/local-stack.sh) the rows skip the WAL.
--
-- psql variables:
--   step     agents | subscriptions | snapshot | notifications | tasks |
--            finish (tasks reads snapshot_objects: run it after snapshot)
--   n        agents to create (agents step)
--   seed     setseed() argument, -1..1 (each step adds its own offset)
--   notif    mean notifications per agent (notifications)
--   tasks    finished tasks per agent, one fleet-wide command each (tasks)
--   days     notifications and tasks span the last `days` days
--
-- What it makes (tests/bench/README.md, "fleet_scale", has the figures):
--   agents               20 models of 8 manufacturers (skewed, ~16 % for the
--                        largest), 5 software versions per model (5/10/15/30/
--                        40 %, newest most), a region tag on every agent
--                        (16 regions, skewed), "beta" on 3 %, "pilot" on
--                        0.5 %; 90 % online and onboarded since, 10 % offline
--                        for up to 7 days; MQTT 5 (95 %) or 3.1.1
--   agent_subscriptions  the 5 standard subscriptions of every agent
--   snapshot_objects     8 objects per agent: Device.DeviceInfo. and its
--                        MemoryStatus and 2 FirmwareImage rows, Device.Time.,
--                        Device.LocalAgent., 2 Device.WiFi.SSID rows (46
--                        parameters)
--   notifications        0..2*notif per agent (mean notif) over `days`, in
--                        received_at order as a live log is (id grows with
--                        time): 55 % Boot!, 30 % SoftwareVersion value
--                        changes, 10 % firmware OperationComplete, 5 %
--                        TransferComplete!
--   tasks                `tasks` fleet-wide commands spread over `days`, one
--                        task per agent each, in order (a Get of
--                        Device.DeviceInfo. with its whole answer, a Set of
--                        an NTP server, a Reboot, in turn): done, 3 % failed,
--                        expired for agents offline by then

\set ON_ERROR_STOP on
SET work_mem = '1GB';
SET maintenance_work_mem = '1GB';
SET synchronous_commit = off;
SET client_min_messages = warning;

SELECT :'step' = 'agents' AS is_agents, :'step' = 'subscriptions' AS is_subscriptions,
       :'step' = 'snapshot' AS is_snapshot, :'step' = 'notifications' AS is_notifications,
       :'step' = 'tasks' AS is_tasks, :'step' = 'finish' AS is_finish \gset

-- ------------------------------------------------------------------ agents
\if :is_agents
SELECT setseed(:seed);
BEGIN;
TRUNCATE agents;

CREATE TEMP TABLE fg_models (m int PRIMARY KEY, manufacturer text, oui text, model text,
    product_class text, prefix text, weight int, major int) ON COMMIT DROP;
-- weights sum to 1000 (the per-mille share of the fleet)
INSERT INTO fg_models VALUES
 (1,  'Acme Networks',      '00A0C6', 'AX-HGW-1100', 'HGW',   'AXA', 160, 3),
 (2,  'Borealis Broadband', '0014BF', 'BB-GW5',      'HGW',   'BB5', 120, 5),
 (3,  'Cobalt Devices',     '001E58', 'CB-STB-4K',   'STB',   'CB4',  95, 2),
 (4,  'Everline',           '0026F2', 'EV-MESH-1',   'MESH',  'EM1',  80, 1),
 (5,  'Acme Networks',      '00A0C6', 'AX-HGW-2200', 'HGW',   'AXB',  70, 4),
 (6,  'Fjord Systems',      '3C9A77', 'FJ-5G-CPE',   'FWA',   'F5G',  60, 2),
 (7,  'Gamma Home',         '70B3D5', 'GH-HUB-2',    'HGW',   'GH2',  52, 6),
 (8,  'Delta Telematics',   '00D09E', 'DT-IOT-1',    'IOTGW', 'DT1',  46, 1),
 (9,  'Borealis Broadband', '0014BF', 'BB-GW6',      'HGW',   'BB6',  41, 6),
 (10, 'Helix Labs',         'A4B1C1', 'HX-SENSE-GW', 'IOTGW', 'HXS',  37, 2),
 (11, 'Cobalt Devices',     '001E58', 'CB-STB-HD',   'STB',   'CBH',  33, 1),
 (12, 'Everline',           '0026F2', 'EV-MESH-2',   'MESH',  'EM2',  30, 2),
 (13, 'Gamma Home',         '70B3D5', 'GH-HUB-3',    'HGW',   'GH3',  28, 7),
 (14, 'Acme Networks',      '00A0C6', 'AX-ONT-300',  'ONT',   'AXO',  26, 2),
 (15, 'Fjord Systems',      '3C9A77', 'FJ-LTE-CPE',  'FWA',   'FLT',  24, 1),
 (16, 'Everline',           '0026F2', 'EV-ROUTER-AC','HGW',   'ERA',  22, 3),
 (17, 'Helix Labs',         'A4B1C1', 'HX-VOICE',    'ATA',   'HXV',  21, 1),
 (18, 'Borealis Broadband', '0014BF', 'BB-XT8',      'EXT',   'BX8',  20, 2),
 (19, 'Delta Telematics',   '00D09E', 'DT-IOT-2',    'IOTGW', 'DT2',  18, 2),
 (20, 'Helix Labs',         'A4B1C1', 'HX-BRIDGE',   'BRG',   'HXB',  17, 1);

-- One draw per agent: model (a 1,000-slot array of the weights), version,
-- region (r^2: skewed to the first regions), tags, online, times.
INSERT INTO agents (eid, online, online_since, state_at, last_seen, first_seen, reply_topic,
  mqtt_version, usp_versions, manufacturer, model_name, serial_number, software_version,
  hardware_version, oui, product_class, tags, onboarded_at, updated_at)
SELECT eid, online, online_since, state_at, last_seen, first_seen, 'usp/agent/' || eid,
  mqtt_version, '1.3,1.4', manufacturer, model, serial, sw, hw, oui, product_class, tags,
  online_since + interval '2 s', greatest(state_at, online_since + interval '2 s')
FROM (
  SELECT 'os::' || mo.oui || '-' || mo.prefix || lpad(g.i::text, 8, '0') AS eid,
    mo.manufacturer, mo.oui, mo.model, mo.product_class,
    mo.prefix || lpad(g.i::text, 8, '0') AS serial,
    format('%s.%s.%s', mo.major, CASE WHEN g.rv < 0.05 THEN 0 WHEN g.rv < 0.15 THEN 2
      WHEN g.rv < 0.30 THEN 4 WHEN g.rv < 0.60 THEN 6 ELSE 8 END + mo.m % 2,
      (mo.m * 7) % 10) AS sw,
    'HW-' || (1 + g.i % 3) || '.' || (g.i % 2) AS hw,
    g.ro < 0.9 AS online,
    CASE WHEN g.ro < 0.9 THEN g.t0 - g.ru * interval '7 days'
      ELSE g.t0 - interval '7 days' - g.ru * interval '23 days' END AS online_since,
    CASE WHEN g.ro < 0.9 THEN g.t0 - g.ru * interval '7 days'
      ELSE g.t0 - g.rs * interval '7 days' END AS state_at,
    CASE WHEN g.ro < 0.9 THEN g.t0 - g.rs * interval '5 min'
      ELSE g.t0 - g.rs * interval '7 days' END AS last_seen,
    g.t0 - interval '30 days' - g.rf * interval '335 days' AS first_seen,
    CASE WHEN g.rq < 0.95 THEN 5 ELSE 4 END::smallint AS mqtt_version,
    ARRAY['region:' || (ARRAY['eu-west-1', 'eu-central-1', 'eu-west-3', 'us-east-1',
      'eu-north-1', 'us-west-2', 'eu-west-2', 'ap-southeast-1', 'us-east-2', 'eu-south-1',
      'ap-northeast-1', 'ca-central-1', 'sa-east-1', 'us-west-1', 'me-south-1',
      'af-south-1'])[1 + floor(g.rr * g.rr * 16)::int]]
      || CASE WHEN g.rt < 0.03 THEN ARRAY['beta'] WHEN g.rt < 0.035 THEN ARRAY['pilot']
        ELSE '{}'::text[] END AS tags
  FROM (SELECT i, now() AS t0,
        (SELECT array_agg(m ORDER BY m, s) FROM fg_models, generate_series(1, weight) s)
          [1 + floor(random() * 1000)::int] AS mi,
        random() AS rv, random() AS ro, random() AS ru, random() AS rs,
        random() AS rf, random() AS rq, random() AS rr, random() AS rt
      FROM generate_series(1, :n) i) g
  JOIN fg_models mo ON mo.m = g.mi
) x
-- stored as a live inventory stores them, in the order they first came
-- (not in Endpoint ID order: the planner would then walk the primary key
-- for a selector's first page, as it never does on a real fleet)
ORDER BY first_seen;
COMMIT;
\endif

-- ----------------------------------------------------------- subscriptions
\if :is_subscriptions
BEGIN;
TRUNCATE agent_subscriptions;

-- The 5 subscriptions onboarding creates (controller/core/core_onboard.c).
INSERT INTO agent_subscriptions (eid, sub_id, notif_type, reference_list, instance_path,
  enabled, created_at, updated_at)
SELECT a.eid, s.sub_id, s.notif_type, s.ref, 'Device.LocalAgent.Subscription.' || s.k || '.',
  true, a.onboarded_at, a.onboarded_at
FROM agents a CROSS JOIN (VALUES
  (1, 'uspc-boot', 'Event', 'Device.Boot!'),
  (2, 'uspc-diag-complete', 'OperationComplete', 'Device.IP.Diagnostics.'),
  (3, 'uspc-fw-complete', 'OperationComplete', 'Device.DeviceInfo.FirmwareImage.'),
  (4, 'uspc-swversion', 'ValueChange', 'Device.DeviceInfo.SoftwareVersion'),
  (5, 'uspc-transfer', 'Event', 'Device.LocalAgent.TransferComplete!')) AS s(k, sub_id, notif_type, ref);
COMMIT;
\endif

-- ---------------------------------------------------------------- snapshot
\if :is_snapshot
SELECT setseed(:seed / 2 + 0.1);
BEGIN;
TRUNCATE snapshot_objects;

-- 8 objects per agent, in (eid, obj) order as the primary key has them.
INSERT INTO snapshot_objects (eid, obj, params, updated_at)
SELECT a.eid, o.obj, o.params, a.onboarded_at
FROM (SELECT a.*, extract(epoch FROM now() - a.online_since)::bigint AS up,
        random() AS r1 FROM agents a) a
CROSS JOIN LATERAL (VALUES
  ('Device.DeviceInfo.', jsonb_build_object('Manufacturer', a.manufacturer,
    'ManufacturerOUI', a.oui, 'ModelName', a.model_name, 'Description', a.model_name || ' ' || a.product_class,
    'ProductClass', a.product_class, 'SerialNumber', a.serial_number,
    'HardwareVersion', a.hardware_version, 'SoftwareVersion', a.software_version,
    'ActiveFirmwareImage', 'Device.DeviceInfo.FirmwareImage.1',
    'BootFirmwareImage', 'Device.DeviceInfo.FirmwareImage.1', 'ProvisioningCode', '',
    'UpTime', a.up::text, 'FirstUseDate', to_char(a.first_seen, 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))),
  ('Device.DeviceInfo.FirmwareImage.1.', jsonb_build_object('Alias', 'cpe-1',
    'Name', lower(a.product_class) || '-' || a.software_version || '.bin', 'Version', a.software_version,
    'Available', 'true', 'Status', 'Active', 'BootFailureLog', '')),
  ('Device.DeviceInfo.FirmwareImage.2.', jsonb_build_object('Alias', 'cpe-2',
    'Name', lower(a.product_class) || '-previous.bin', 'Version', 'previous',
    'Available', 'true', 'Status', 'Available', 'BootFailureLog', '')),
  ('Device.DeviceInfo.MemoryStatus.', jsonb_build_object('Total', '524288',
    'Free', (100000 + floor(a.r1 * 300000))::text)),
  ('Device.LocalAgent.', jsonb_build_object('EndpointID', a.eid, 'SoftwareVersion', '1.0.0',
    'UpTime', a.up::text, 'SupportedProtocols', 'MQTT', 'SupportedFingerprintAlgorithms', 'SHA-256')),
  ('Device.Time.', jsonb_build_object('Enable', 'true', 'Status', 'Synchronized',
    'NTPServer1', 'pool.ntp.org', 'NTPServer2', '', 'LocalTimeZone', 'CET-1CEST,M3.5.0,M10.5.0/3')),
  ('Device.WiFi.SSID.1.', jsonb_build_object('Enable', 'true', 'Status', 'Up', 'Alias', 'cpe-1',
    'Name', 'ssid1', 'SSID', 'home-' || right(a.serial_number, 6),
    'MACAddress', '02:00:' || substr(md5(a.eid), 1, 2) || ':' || substr(md5(a.eid), 3, 2) || ':'
      || substr(md5(a.eid), 5, 2) || ':01')),
  ('Device.WiFi.SSID.2.', jsonb_build_object('Enable', 'true', 'Status', 'Up', 'Alias', 'cpe-2',
    'Name', 'ssid2', 'SSID', 'home-' || right(a.serial_number, 6) || '-5G',
    'MACAddress', '02:00:' || substr(md5(a.eid), 1, 2) || ':' || substr(md5(a.eid), 3, 2) || ':'
      || substr(md5(a.eid), 5, 2) || ':02'))) AS o(obj, params);
COMMIT;
\endif

-- ----------------------------------------------------------- notifications
\if :is_notifications
SELECT setseed(:seed / 2 - 0.1);
BEGIN;
TRUNCATE notifications RESTART IDENTITY;

-- Each day of the span gets its partition first (the maintenance creates
-- only the days from yesterday on).
SELECT count(uspc_part_ensure('notifications', d::date)) FROM generate_series(
  uspc_utc_day(now() - :days * interval '1 day'), uspc_utc_day(now()), interval '1 day') d;

-- Notifications in received_at order (ids grow with time, as in a live
-- log); an offline agent's come from before it went offline.
INSERT INTO notifications (eid, msg_id, subscription_id, kind, path, payload, received_at,
  stored_at, day)
SELECT eid, 'n-' || j || '-' || substr(md5(eid || j), 1, 8),
  CASE WHEN rk < 0.55 THEN 'uspc-boot' WHEN rk < 0.85 THEN 'uspc-swversion'
    WHEN rk < 0.95 THEN 'uspc-fw-complete' ELSE 'uspc-transfer' END,
  CASE WHEN rk < 0.55 OR rk >= 0.95 THEN 'event' WHEN rk < 0.85 THEN 'value_change'
    ELSE 'oper_complete' END,
  CASE WHEN rk < 0.55 THEN 'Device.Boot!' WHEN rk < 0.85 THEN 'Device.DeviceInfo.SoftwareVersion'
    WHEN rk < 0.95 THEN 'Device.DeviceInfo.FirmwareImage.2.Download()'
    ELSE 'Device.LocalAgent.TransferComplete!' END,
  CASE WHEN rk < 0.55 THEN jsonb_build_object('subscription_id', 'uspc-boot', 'send_resp', true,
      'event', jsonb_build_object('obj_path', 'Device.', 'event_name', 'Boot!',
        'params', jsonb_build_object('CommandKey', '', 'Cause', 'LocalReboot',
          'FirmwareUpdated', 'false', 'ParameterMap',
          '{"Device.DeviceInfo.SoftwareVersion":"' || sw || '"}')))
    WHEN rk < 0.85 THEN jsonb_build_object('subscription_id', 'uspc-swversion',
      'value_change', jsonb_build_object('param_path', 'Device.DeviceInfo.SoftwareVersion',
        'param_value', sw))
    WHEN rk < 0.95 THEN jsonb_build_object('subscription_id', 'uspc-fw-complete', 'send_resp', true,
      'oper_complete', jsonb_build_object('obj_path', 'Device.DeviceInfo.FirmwareImage.2.',
        'command_name', 'Download()', 'command_key', 'fw-' || sw,
        'req_output_args', jsonb_build_object('output_args', '{}'::jsonb)))
    ELSE jsonb_build_object('subscription_id', 'uspc-transfer', 'send_resp', true,
      'event', jsonb_build_object('obj_path', 'Device.LocalAgent.', 'event_name', 'TransferComplete!',
        'params', jsonb_build_object('Command', 'Device.DeviceInfo.FirmwareImage.2.Download()',
          'CommandKey', 'fw-' || sw, 'Requestor', 'Device.LocalAgent.Controller.1',
          'TransferType', 'Download', 'Affected', 'Device.DeviceInfo.FirmwareImage.2.',
          'TransferURL', 'http://fw.example.net/' || sw || '.bin', 'StartTime', '', 'CompleteTime', '',
          'FaultCode', '0', 'FaultString', '')))
  END,
  received_at, received_at + interval '4 ms', uspc_utc_day(received_at)
FROM (
  SELECT a.eid, a.software_version AS sw, j, random() AS rk,
    a.last - random() * (a.last - a.start) AS received_at
  FROM (SELECT eid, software_version, now() - :days * interval '1 day' AS start,
          CASE WHEN online THEN now()
            ELSE greatest(state_at, now() - :days * interval '1 day') END AS last,
          floor(random() * (2 * :notif + 1))::int AS k FROM agents) a
  CROSS JOIN LATERAL generate_series(1, a.k) AS j
  ORDER BY received_at
) s;
COMMIT;
\endif

-- ------------------------------------------------------------------- tasks
\if :is_tasks
SELECT setseed(:seed / 3);
BEGIN;
TRUNCATE tasks RESTART IDENTITY;

-- Each day of the span gets its partition first.
SELECT count(uspc_part_ensure('tasks', d::date)) FROM generate_series(
  uspc_utc_day(now() - :days * interval '1 day'), uspc_utc_day(now()), interval '1 day') d;

-- One fleet-wide command per task slot, spread over `days`; ids in time
-- order, then by agent, as uspctl inserts them, each from its day's first
-- id (as the maintenance moves the sequence each day).
INSERT INTO tasks (id, batch_id, eid, op, request, state, attempts, created_at, not_before,
  expires_at, claimed_by, claim_seq, claimed_at, sent_at, finished_at, msg_id, result,
  error_code, error_message)
SELECT uspc_day_id(uspc_utc_day(created_at))
    + row_number() OVER (PARTITION BY uspc_utc_day(created_at) ORDER BY j, rn),
  'fleet-gen-' || j, eid, op, (ARRAY['{"param_paths":["Device.DeviceInfo."],"max_depth":0}',
    '{"allow_partial":false,"update_objs":[{"obj_path":"Device.Time.","param_settings":[{"param":"NTPServer1","value":"ntp1.example.net","required":true}]}]}',
    '{"command":"Device.Reboot()","command_key":"fleet-reboot","send_resp":true,"input_args":{}}'])[1 + (j - 1) % 3]::jsonb,
  state,
  CASE WHEN state = 'expired' THEN 0 ELSE 1 END,
  created_at, created_at, created_at + interval '1 hour',
  CASE WHEN state <> 'expired' THEN 'node-' || (1 + (abs(hashtext(eid)) % 2)) END,
  CASE WHEN state <> 'expired' THEN j * 100000 + rn / 200 END,
  CASE WHEN state <> 'expired' THEN created_at + interval '50 ms' END,
  CASE WHEN state <> 'expired' THEN created_at + interval '50 ms' END,
  CASE WHEN state = 'expired' THEN created_at + interval '1 hour'
    ELSE created_at + interval '50 ms' + rd * interval '200 ms' END,
  CASE WHEN state <> 'expired' THEN 'uspc-' || substr(md5(eid), 1, 12) || '-' || (j * 100000 + rn) END,
  CASE WHEN state <> 'done' THEN NULL
    WHEN op = 'get' THEN jsonb_build_object('type', 'get_resp',
      'msg_id', 'uspc-' || substr(md5(eid), 1, 12) || '-' || (j * 100000 + rn),
      'req_path_results', jsonb_build_array(jsonb_build_object(
        'requested_path', 'Device.DeviceInfo.', 'resolved_path_results', (
          SELECT jsonb_agg(jsonb_build_object('resolved_path', o.obj, 'result_params', o.params)
            ORDER BY o.obj)
          FROM snapshot_objects o WHERE o.eid = x.eid AND o.obj >= 'Device.DeviceInfo.'
            AND o.obj < 'Device.DeviceInfo/'))))
    WHEN op = 'set' THEN jsonb_build_object('type', 'set_resp',
      'msg_id', 'uspc-' || substr(md5(eid), 1, 12) || '-' || (j * 100000 + rn),
      'updated_obj_results', jsonb_build_array(jsonb_build_object(
        'requested_path', 'Device.Time.', 'oper_status', jsonb_build_object('oper_success',
          jsonb_build_object('updated_inst_results', jsonb_build_array(jsonb_build_object(
            'affected_path', 'Device.Time.', 'updated_params',
            jsonb_build_object('NTPServer1', 'ntp1.example.net'))))))))
    ELSE jsonb_build_object('type', 'operate_resp',
      'msg_id', 'uspc-' || substr(md5(eid), 1, 12) || '-' || (j * 100000 + rn),
      'operation_results', jsonb_build_array(jsonb_build_object(
        'executed_command', 'Device.Reboot()', 'req_output_args', '{}'::jsonb)))
  END,
  CASE WHEN state = 'failed' THEN 7002 END,
  CASE WHEN state = 'failed' THEN 'no answer from the agent within 30 s'
    WHEN state = 'expired' THEN 'expired before the agent came back' END
FROM (
  SELECT j, a.eid, a.rn, random() AS rd,
    (ARRAY['get', 'set', 'operate'])[1 + (j - 1) % 3] AS op,
    c.at + a.rn * interval '1 ms' AS created_at,
    CASE WHEN NOT a.online AND a.state_at < c.at THEN 'expired'
      WHEN random() < 0.03 THEN 'failed' ELSE 'done' END AS state
  FROM generate_series(1, :tasks) AS j
  CROSS JOIN LATERAL (SELECT now() - :days * interval '1 day'
    + (j - 0.5) / :tasks * :days * interval '1 day' AS at) c
  CROSS JOIN (SELECT eid, online, state_at, row_number() OVER (ORDER BY eid) AS rn FROM agents) a
  ORDER BY j, a.rn
) x;
SELECT setval('tasks_id_seq', greatest((SELECT max(id) FROM tasks), uspc_day_id(current_date)));
COMMIT;
\endif

-- ------------------------------------------------------------------ finish
\if :is_finish
-- Hint bits, the visibility map and statistics, as autovacuum would leave a
-- database that has lived with these rows.
VACUUM (ANALYZE) agents;
VACUUM (ANALYZE) agent_subscriptions;
VACUUM (ANALYZE) snapshot_objects;
VACUUM (ANALYZE) notifications;
VACUUM (ANALYZE) tasks;
\endif
