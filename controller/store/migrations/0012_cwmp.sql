-- TR-069 (CWMP) devices in the same inventory as USP agents (uspc-acs,
-- docs/tr069.md).
--
-- agents.protocol says which daemon drives a device: 'usp' (uspc, over
-- MQTT) or 'cwmp' (uspc-acs, over HTTP/SOAP). A row an Inform creates is
-- 'cwmp'; a USP agent's row that later also informs (a dual-stack CPE
-- whose agent uses the same os::/ops:: endpoint id) stays 'usp', and its
-- tasks stay with uspc. The USP feeder only claims 'usp' rows' tasks
-- (_agent_ready.sql); uspc-acs only claims 'cwmp' rows' tasks, inside a
-- session of that device.
ALTER TABLE agents ADD COLUMN protocol text NOT NULL DEFAULT 'usp';
ALTER TABLE agents ADD CONSTRAINT agents_protocol CHECK (protocol IN ('usp', 'cwmp')) NOT VALID;

-- One row per CWMP device: what its Informs said and its session lease.
CREATE TABLE cwmp_devices (
    eid                      text COLLATE "C" PRIMARY KEY,
    cwmp_version             text,        -- namespace the CPE speaks: '1.0' .. '1.4'
    conn_req_url             text,        -- ManagementServer.ConnectionRequestURL
    periodic_inform_interval integer,     -- seconds, from the Inform (NULL: unknown)
    parameter_key            text,
    provisioning_code        text,
    last_inform_at           timestamptz,
    last_events              text[],      -- event codes of the newest Inform
    last_events_hash         text,        -- fingerprint of the newest Inform's events
    last_inform_acked        boolean NOT NULL DEFAULT false, -- its session went on past InformResponse
    session_node             text,        -- uspc-acs node holding the session lease
    session_id               text,
    session_until            timestamptz, -- the lease ends here (NULL: no session)
    cr_sent_at               timestamptz, -- newest connection request sent
    cr_error                 text,        -- why the newest connection request failed
    updated_at               timestamptz NOT NULL DEFAULT now()
);
-- Devices with a lease, for the reaper of expired sessions.
CREATE INDEX cwmp_devices_session ON cwmp_devices (session_until) WHERE session_until IS NOT NULL;
-- Presence: "online" is "informed within k intervals"; this finds the
-- devices whose last Inform is old (uspc-acs's presence sweep).
CREATE INDEX cwmp_devices_last_inform ON cwmp_devices (last_inform_at);

-- Parameter types (xsi:type), per device model: a SetParameterValues must
-- carry the right type, and TR-069 types belong to the data model, not to
-- one device. model_key is 'OUI-ProductClass'; path has every instance
-- number replaced by {i} (Device.WiFi.SSID.{i}.SSID).
CREATE TABLE cwmp_param_types (
    model_key  text COLLATE "C" NOT NULL,
    path       text COLLATE "C" NOT NULL,
    type       text NOT NULL,
    writable   boolean,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (model_key, path)
);

-- Per-device credentials a CPE authenticates with (when absent, the
-- templated credentials of uspc-acs's configuration apply). Only the
-- digest HA1 = MD5(username ":" realm ":" password) is stored: it checks
-- both Digest and Basic answers and is no password.
CREATE TABLE cwmp_credentials (
    eid        text COLLATE "C" PRIMARY KEY,
    username   text NOT NULL,
    realm      text NOT NULL,
    ha1        text NOT NULL CHECK (ha1 ~ '^[0-9a-f]{32}$'),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- One Inform, in one statement and one transaction (uspc-acs answers
-- InformResponse only after it committed, so the CPE keeps and re-sends
-- the events of an Inform that was not stored):
--  - inserts the device if unknown (agents row 'cwmp', cwmp_devices row);
--  - takes the session lease for p_node unless another node holds one that
--    has not ended (then leased = false and holder names it; nothing else
--    is written);
--  - duplicate = the Inform re-sends (RetryCount > 0) the events of the
--    newest stored Inform (same fingerprint) whose session never went on
--    past InformResponse (last_inform_acked, set by uspc-acs when the
--    session ends): its events are not stored or acted on again;
--  - records DeviceInfo and the ManagementServer fields (NULL keeps);
--  - stores one notifications row per event (kind 'event', path the event
--    code), a boot ('1 BOOT', '0 BOOTSTRAP') also as a 'Device.Boot!' row
--    and a profile run for the device, and completes the operation_results of 'M Reboot' and
--    'M ScheduleInform' events with their CommandKey, and of a
--    FactoryReset on '0 BOOTSTRAP' (a Download completes with its
--    TransferComplete, not here);
--  - queued = the device's tasks waiting for it.
-- p_info keys: manufacturer, oui, product_class, serial_number,
-- software_version, hardware_version, conn_req_url, interval (number),
-- parameter_key, provisioning_code, cwmp_version. p_events: array of
-- {"code": "...", "command_key": "..."}.
CREATE FUNCTION uspc_cwmp_inform(p_eid text, p_node text, p_session text, p_lease_s integer,
    p_info jsonb, p_events jsonb, p_events_hash text, p_retry integer, p_msg_id text)
RETURNS TABLE (leased boolean, holder text, duplicate boolean, queued bigint, protocol text)
LANGUAGE plpgsql AS $$
DECLARE
    d cwmp_devices%ROWTYPE;
    proto text;
    dup boolean;
    ev jsonb;
BEGIN
    INSERT INTO agents (eid, protocol) VALUES (p_eid, 'cwmp') ON CONFLICT (eid) DO NOTHING;
    INSERT INTO cwmp_devices (eid) VALUES (p_eid) ON CONFLICT (eid) DO NOTHING;
    SELECT * INTO d FROM cwmp_devices c WHERE c.eid = p_eid FOR UPDATE;
    IF d.session_until > now() AND d.session_node IS DISTINCT FROM p_node THEN
        RETURN QUERY SELECT false, d.session_node, false, 0::bigint, NULL::text;
        RETURN;
    END IF;
    -- A re-send: the CPE retries (RetryCount > 0) the events of the newest
    -- stored Inform, whose InformResponse it cannot have had (its session
    -- never sent another request). Events equal to an acknowledged Inform's
    -- are new ones (the same '1 BOOT' of a later boot).
    dup := p_retry > 0 AND d.last_events_hash IS NOT DISTINCT FROM p_events_hash
           AND NOT d.last_inform_acked;
    UPDATE cwmp_devices c SET
        session_node = p_node, session_id = p_session,
        session_until = now() + make_interval(secs => p_lease_s),
        last_inform_at = now(),
        cwmp_version = coalesce(p_info->>'cwmp_version', c.cwmp_version),
        conn_req_url = coalesce(p_info->>'conn_req_url', c.conn_req_url),
        periodic_inform_interval = coalesce((p_info->>'interval')::integer,
                                            c.periodic_inform_interval),
        parameter_key = coalesce(p_info->>'parameter_key', c.parameter_key),
        provisioning_code = coalesce(p_info->>'provisioning_code', c.provisioning_code),
        last_events = ARRAY(SELECT e->>'code' FROM jsonb_array_elements(p_events) e),
        last_events_hash = p_events_hash, last_inform_acked = false, cr_error = NULL,
        updated_at = now()
    WHERE c.eid = p_eid;
    UPDATE agents a SET
        online_since = CASE WHEN a.online THEN a.online_since ELSE now() END,
        online = true, state_at = now(), last_seen = now(),
        manufacturer = coalesce(p_info->>'manufacturer', a.manufacturer),
        oui = coalesce(p_info->>'oui', a.oui),
        product_class = coalesce(p_info->>'product_class', a.product_class),
        model_name = coalesce(a.model_name, nullif(p_info->>'product_class', '')),
        serial_number = coalesce(p_info->>'serial_number', a.serial_number),
        software_version = coalesce(p_info->>'software_version', a.software_version),
        hardware_version = coalesce(p_info->>'hardware_version', a.hardware_version),
        onboarded_at = CASE WHEN a.protocol = 'cwmp' THEN now() ELSE a.onboarded_at END,
        updated_at = now()
    WHERE a.eid = p_eid
    RETURNING a.protocol INTO proto;
    IF NOT dup THEN
        INSERT INTO notifications (eid, msg_id, subscription_id, kind, path, payload,
                                   received_at, day)
        SELECT p_eid, p_msg_id || '-' || o, NULL, 'event', e->>'code',
               jsonb_build_object('cwmp_event', e->>'code', 'command_key',
                                  coalesce(e->>'command_key', ''), 'retry_count', p_retry),
               now(), uspc_utc_day(now())
        FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x(e, o)
        ON CONFLICT (eid, msg_id, day) DO NOTHING;
        FOR ev IN SELECT e FROM jsonb_array_elements(p_events) e
                  WHERE e->>'code' IN ('M Reboot', 'M ScheduleInform')
                    AND coalesce(e->>'command_key', '') <> '' LOOP
            UPDATE operation_results o SET state = 'complete', updated_at = now()
            WHERE o.eid = p_eid AND o.command_key = ev->>'command_key'
              AND o.state = 'requested'
              AND o.command_name = CASE ev->>'code' WHEN 'M Reboot' THEN 'Reboot()'
                                   ELSE 'ScheduleInform()' END;
        END LOOP;
        IF p_events @> '[{"code": "0 BOOTSTRAP"}]' THEN
            UPDATE operation_results o SET state = 'complete', updated_at = now()
            WHERE o.eid = p_eid AND o.state = 'requested' AND o.command_name = 'FactoryReset()';
        END IF;
        -- A boot is also stored as USP's Boot! event is (path 'Device.Boot!',
        -- payload event.params with Cause, CommandKey, FirmwareUpdated), so
        -- the profile engine sees TR-069 boots as it sees USP ones: a
        -- 0 BOOTSTRAP (first contact or factory reset) as a factory reset,
        -- which re-applies every profile. And it kicks a profile run.
        IF p_events @> '[{"code": "1 BOOT"}]' OR p_events @> '[{"code": "0 BOOTSTRAP"}]' THEN
            INSERT INTO notifications (eid, msg_id, subscription_id, kind, path, payload,
                                       received_at, day)
            VALUES (p_eid, p_msg_id || '-boot', NULL, 'event', 'Device.Boot!',
                jsonb_build_object('event', jsonb_build_object('obj_path', 'Device.',
                    'event_name', 'Boot!', 'params', jsonb_build_object(
                    'Cause', CASE WHEN p_events @> '[{"code": "0 BOOTSTRAP"}]'
                             THEN 'RemoteFactoryReset' ELSE 'RemoteReboot' END,
                    'CommandKey', coalesce((SELECT e->>'command_key'
                        FROM jsonb_array_elements(p_events) e
                        WHERE e->>'code' = 'M Reboot' LIMIT 1), ''),
                    'FirmwareUpdated', CASE WHEN p_events @> '[{"code": "M Download"}]'
                        THEN 'true' ELSE 'false' END)),
                    'cwmp_events', p_events),
                now(), uspc_utc_day(now()))
            ON CONFLICT (eid, msg_id, day) DO NOTHING;
            IF proto = 'cwmp' AND EXISTS (SELECT 1 FROM profile_heads WHERE deleted_at IS NULL) THEN
                INSERT INTO profile_kicks (eid, trigger) VALUES (p_eid, 'onboarding');
                PERFORM pg_notify('uspc_profile', 'onboarding');
            END IF;
        END IF;
    END IF;
    RETURN QUERY SELECT true, p_node, dup,
        (SELECT count(*) FROM tasks t WHERE t.eid = p_eid AND t.state = 'queued'),
        proto;
END $$;
