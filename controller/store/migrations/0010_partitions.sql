-- uspc schema, version 10: the time-ordered tables are partitioned by UTC
-- day, so that retention drops whole days (DROP TABLE of a partition)
-- instead of deleting rows (docs/retention.md; the daemon's maintenance,
-- store_retention.c, creates days ahead and drops the old ones).
--
--   notifications    RANGE (day): `day` is the UTC day of received_at. A
--                    Notify retried with the same msg_id is stored once
--                    per day: UNIQUE (eid, msg_id, day) (a unique index of
--                    a partitioned table must hold the partition key); the
--                    writer also looks in the day before for a retry that
--                    arrives within the first hour of a day (wop_notif.sql).
--   tasks,           RANGE (id): ids keep being handed out by their
--   profile_history  sequence, which the maintenance moves forward to the
--                    first id of each new day, (days since 1970-01-01) *
--                    2^32 (uspc_day_id). Lookups and updates by id
--                    (results, claims, status) reach one partition, and
--                    ids stay in time order.
--
-- Each table also has a DEFAULT partition: a row whose day has no
-- partition yet (the maintenance did not run, a clock far ahead) lands
-- there and is never refused; the maintenance moves such rows into their
-- day's partition when it creates it (uspc_part_ensure).
--
-- What the tables held before this migration becomes one partition each,
-- `<table>_legacy`, covering everything before the day of the migration
-- (an empty table is simply replaced); no row is rewritten. The migration reads each table once (to check the
-- legacy partition's bound) and builds notifications' two new unique
-- indexes on it. It runs inside the start-up transaction, which holds
-- ACCESS EXCLUSIVE locks on the three tables throughout: stop every daemon,
-- uspc-api and uspctl, then start one daemon of the new version (the time
-- it takes is in docs/retention.md).

CREATE FUNCTION uspc_utc_day(ts timestamptz) RETURNS date
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT (ts AT TIME ZONE 'UTC')::date $$;

-- The first id of a UTC day in the RANGE (id) tables.
CREATE FUNCTION uspc_day_id(d date) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT (d - date '1970-01-01')::bigint * 4294967296 $$;

-- The partitioned tables and how their days are keyed.
CREATE TABLE partitioned_tables (
    parent   text PRIMARY KEY,
    key_kind text NOT NULL CHECK (key_kind IN ('day', 'id')),
    id_seq   text CHECK ((key_kind = 'id') = (id_seq IS NOT NULL))
);
INSERT INTO partitioned_tables VALUES
    ('notifications', 'day', NULL),
    ('tasks', 'id', 'tasks_id_seq'),
    ('profile_history', 'id', 'profile_history_id_seq');

-- Every partition of parent with the days it covers: [lo, hi), lo NULL
-- for the legacy partition (from the beginning), both NULL for DEFAULT.
CREATE FUNCTION uspc_part_list(p_parent text)
    RETURNS TABLE (name text, lo date, hi date, is_default boolean)
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    kind text;
BEGIN
    SELECT key_kind INTO kind FROM partitioned_tables WHERE parent = p_parent;
    IF kind IS NULL THEN
        RAISE EXCEPTION 'uspc: % is not a partitioned table', p_parent;
    END IF;
    RETURN QUERY
    SELECT c.relname::text,
        CASE WHEN f IS NULL OR f = 'MINVALUE' THEN NULL
             WHEN kind = 'day' THEN f::date
             ELSE date '1970-01-01' + (f::bigint / 4294967296)::int END,
        CASE WHEN t IS NULL THEN NULL
             WHEN kind = 'day' THEN t::date
             ELSE date '1970-01-01' + ((t::bigint + 4294967295) / 4294967296)::int END,
        b = 'DEFAULT'
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid,
        LATERAL pg_get_expr(c.relpartbound, c.oid) AS b,
        LATERAL substring(b FROM 'FROM \(''?([^'')]+)''?\)') AS f,
        LATERAL substring(b FROM 'TO \(''?([^'')]+)''?\)') AS t
    WHERE i.inhparent = p_parent::regclass;
END $$;

-- The condition "row of day d" of parent's key, for dynamic SQL.
CREATE FUNCTION uspc_part_cond(kind text, d date) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$
SELECT CASE kind WHEN 'day' THEN format('day >= %L AND day < %L', d, d + 1)
    ELSE format('id >= %s AND id < %s', uspc_day_id(d), uspc_day_id(d + 1)) END $$;

-- Make sure day d of parent has a partition. Returns -1 when one already
-- covers d, else how many rows it moved from the DEFAULT partition into
-- the new one. Creators of one table are serialised (an advisory
-- transaction lock); the new table is attached (SHARE UPDATE EXCLUSIVE on
-- the parent: writers and readers go on), then indexed by the attach.
CREATE FUNCTION uspc_part_ensure(p_parent text, d date) RETURNS bigint
    LANGUAGE plpgsql AS $$
DECLARE
    kind text;
    part text := p_parent || '_p' || to_char(d, 'YYYYMMDD');
    def text := p_parent || '_default';
    cond text;
    moved bigint := 0;
    waiting boolean;
BEGIN
    SELECT key_kind INTO kind FROM partitioned_tables WHERE parent = p_parent;
    IF kind IS NULL THEN
        RAISE EXCEPTION 'uspc: % is not a partitioned table', p_parent;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('uspc_part'), hashtext(p_parent));
    IF EXISTS (SELECT 1 FROM uspc_part_list(p_parent) l
               WHERE NOT l.is_default AND (l.lo IS NULL OR l.lo <= d) AND l.hi > d) THEN
        RETURN -1;
    END IF;
    cond := uspc_part_cond(kind, d);
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                   part, p_parent);
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %s)', def, cond) INTO waiting;
    IF waiting THEN
        -- rows of this day wait in DEFAULT: move them under a lock that
        -- keeps new ones out until the attach has checked DEFAULT
        EXECUTE format('LOCK TABLE %I IN ACCESS EXCLUSIVE MODE', def);
        EXECUTE format('WITH m AS (DELETE FROM %I WHERE %s RETURNING *) '
                       'INSERT INTO %I SELECT * FROM m', def, cond, part);
        GET DIAGNOSTICS moved = ROW_COUNT;
    END IF;
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES %s', p_parent, part,
        CASE kind WHEN 'day' THEN format('FROM (%L) TO (%L)', d, d + 1)
        ELSE format('FROM (%s) TO (%s)', uspc_day_id(d), uspc_day_id(d + 1)) END);
    RETURN moved;
END $$;

-- The days that have rows waiting in parent's DEFAULT partition.
CREATE FUNCTION uspc_part_default_days(p_parent text) RETURNS SETOF date
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    kind text;
BEGIN
    SELECT key_kind INTO kind FROM partitioned_tables WHERE parent = p_parent;
    IF kind = 'day' THEN
        RETURN QUERY EXECUTE format('SELECT DISTINCT day FROM %I', p_parent || '_default');
    ELSE
        RETURN QUERY EXECUTE format('SELECT DISTINCT date ''1970-01-01'' + (id / 4294967296)::int '
                                    'FROM %I', p_parent || '_default');
    END IF;
END $$;

-- Move an id table's sequence to the first id of day d, unless it is past
-- it already (a sequence never goes back).
CREATE FUNCTION uspc_part_advance_ids(d date) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    s text;
    last bigint;
BEGIN
    FOR s IN SELECT id_seq FROM partitioned_tables WHERE key_kind = 'id' LOOP
        EXECUTE format('SELECT last_value FROM %I', s) INTO last;
        IF last < uspc_day_id(d) THEN
            PERFORM setval(s, uspc_day_id(d), false);
        END IF;
    END LOOP;
END $$;

-- Expire the tasks still open ('queued', 'sent') among those created
-- before day p_before (their days are to be dropped), announcing them on
-- uspc_task_done as every other end of a task is. Returns how many.
CREATE FUNCTION uspc_part_expire_tasks(p_before date) RETURNS bigint
    LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    WITH e AS (UPDATE tasks SET state = 'expired', finished_at = now(),
        error_message = 'expired by retention: still open when its day left retention_tasks_days'
        WHERE id < uspc_day_id(p_before) AND state IN ('queued', 'sent') RETURNING id),
    g AS (SELECT pg_notify('uspc_task_done', string_agg(id::text, ',')) FROM
        (SELECT id, (row_number() OVER ()) / 300 AS grp FROM e) x GROUP BY grp)
    SELECT (SELECT count(*) FROM e) + 0 * (SELECT count(*) FROM g) INTO n;
    RETURN n;
END $$;

-- Drop partition p_part of p_parent if it lies wholly before day
-- p_before (and, for tasks, holds no open task). Waits at most
-- p_lock_timeout_ms for the lock (a DROP of a partition takes ACCESS
-- EXCLUSIVE on the parent for the moment it runs; while it waits for a
-- long reader, writers queue behind it, so the wait is kept short and the
-- drop retried at the next maintenance). Returns whether it dropped.
CREATE FUNCTION uspc_part_drop(p_parent text, p_part text, p_before date,
                               p_lock_timeout_ms integer) RETURNS boolean
    LANGUAGE plpgsql AS $$
DECLARE
    open_tasks boolean;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM uspc_part_list(p_parent) l
                   WHERE l.name = p_part AND NOT l.is_default AND l.hi <= p_before) THEN
        RETURN false;
    END IF;
    PERFORM set_config('lock_timeout', p_lock_timeout_ms::text, true);
    IF p_parent = 'tasks' THEN
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE state = ''queued'') OR '
                       'EXISTS (SELECT 1 FROM %I WHERE state = ''sent'')', p_part, p_part)
            INTO open_tasks;
        IF open_tasks THEN
            RETURN false;
        END IF;
    END IF;
    EXECUTE format('DROP TABLE %I', p_part);
    RETURN true;
END $$;

-- ---- moving today's tables under their partitioned parents --------------

-- Rename table t's indexes to <name>_legacy and give parent the same
-- indexes under the old names: the attach then adopts the legacy table's
-- indexes instead of building new ones. Only for tables whose indexes all
-- hold the partition key or are not unique.
CREATE OR REPLACE FUNCTION pg_temp.uspc_copy_indexes(t text, parent text) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    ix record;
BEGIN
    FOR ix IN SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def,
                     i.indisprimary AS pk
              FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
              WHERE i.indrelid = t::regclass LOOP
        IF ix.pk THEN
            EXECUTE format('ALTER TABLE %I RENAME CONSTRAINT %I TO %I', t, ix.name,
                           ix.name || '_legacy');
            EXECUTE format('ALTER TABLE %I ADD PRIMARY KEY (id)', parent);
        ELSE
            EXECUTE format('ALTER INDEX %I RENAME TO %I', ix.name, ix.name || '_legacy');
            EXECUTE replace(ix.def, ' ON public.' || t || ' ', ' ON public.' || parent || ' ');
        END IF;
    END LOOP;
END $$;

-- tasks and profile_history: RANGE (id), same columns, same indexes.
CREATE OR REPLACE FUNCTION pg_temp.uspc_partition_by_id(t text) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    today date := uspc_utc_day(now());
    seq text := t || '_id_seq';
    has_rows boolean;
    c name;
BEGIN
    EXECUTE format('ALTER TABLE %I RENAME TO %I', t, t || '_legacy');
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS) '
                   'PARTITION BY RANGE (id)', t, t || '_legacy');
    PERFORM pg_temp.uspc_copy_indexes(t || '_legacy', t);
    EXECUTE format('ALTER SEQUENCE %I OWNED BY %I.id', seq, t);
    EXECUTE format('ALTER TABLE %I ALTER COLUMN id DROP DEFAULT', t || '_legacy');
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I)', t || '_legacy') INTO has_rows;
    IF has_rows THEN
        -- a partition's CHECK constraints must be valid (tasks_state_check
        -- was added NOT VALID by migration 4): one more read of the table
        FOR c IN SELECT conname FROM pg_constraint
                 WHERE conrelid = (t || '_legacy')::regclass AND NOT convalidated LOOP
            EXECUTE format('ALTER TABLE %I VALIDATE CONSTRAINT %I', t || '_legacy', c);
        END LOOP;
        EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (MINVALUE) TO (%s)',
                       t, t || '_legacy', uspc_day_id(today));
    ELSE
        EXECUTE format('DROP TABLE %I', t || '_legacy');
    END IF;
    EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', t || '_default', t);
END $$;

SELECT pg_temp.uspc_partition_by_id('tasks');
SELECT pg_temp.uspc_partition_by_id('profile_history');
DROP FUNCTION pg_temp.uspc_partition_by_id(text);
DROP FUNCTION pg_temp.uspc_copy_indexes(text, text);

-- notifications: RANGE (day). Its unique keys change (they must hold the
-- day), so the parent's are declared here and built on the legacy rows.
ALTER TABLE notifications RENAME TO notifications_legacy;
ALTER TABLE notifications_legacy RENAME CONSTRAINT notifications_pkey TO notifications_legacy_pkey;
ALTER TABLE notifications_legacy RENAME CONSTRAINT notifications_eid_msg_id_key
    TO notifications_legacy_eid_msg_id_key;
ALTER INDEX notifications_received_at RENAME TO notifications_received_at_legacy;
ALTER INDEX notifications_events RENAME TO notifications_events_legacy;
ALTER INDEX notifications_eid_id RENAME TO notifications_eid_id_legacy;
-- every legacy row gets day 1970-01-01 (a constant default: no rewrite)
ALTER TABLE notifications_legacy ADD COLUMN day date NOT NULL DEFAULT '1970-01-01';
ALTER TABLE notifications_legacy ALTER COLUMN day DROP DEFAULT;
ALTER TABLE notifications_legacy ALTER COLUMN id DROP DEFAULT;

CREATE TABLE notifications (
    id              bigint NOT NULL,
    eid             text COLLATE "C" NOT NULL,
    msg_id          text NOT NULL,
    subscription_id text,
    kind            text NOT NULL CONSTRAINT notifications_kind_check
                    CHECK (kind IN ('event', 'value_change', 'obj_creation', 'obj_deletion',
                                    'oper_complete', 'on_board_req')),
    path            text,
    payload         jsonb NOT NULL,
    received_at     timestamptz NOT NULL,
    stored_at       timestamptz NOT NULL DEFAULT now(),
    day             date NOT NULL DEFAULT uspc_utc_day(now()),
    PRIMARY KEY (id, day),
    UNIQUE (eid, msg_id, day)
) PARTITION BY RANGE (day);
ALTER SEQUENCE notifications_id_seq OWNED BY notifications.id;
ALTER TABLE notifications ALTER COLUMN id SET DEFAULT nextval('notifications_id_seq');
CREATE INDEX notifications_received_at ON notifications (received_at);
CREATE INDEX notifications_events ON notifications (eid, received_at) WHERE kind = 'event';
CREATE INDEX notifications_eid_id ON notifications (eid, id);
DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM notifications_legacy) THEN
        -- its unique keys give way to the parent's, which the attach builds
        ALTER TABLE notifications_legacy DROP CONSTRAINT notifications_legacy_pkey;
        ALTER TABLE notifications_legacy DROP CONSTRAINT notifications_legacy_eid_msg_id_key;
        EXECUTE format('ALTER TABLE notifications ATTACH PARTITION notifications_legacy '
                       'FOR VALUES FROM (MINVALUE) TO (%L)', uspc_utc_day(now()));
    ELSE
        DROP TABLE notifications_legacy;
    END IF;
END $$;
CREATE TABLE notifications_default PARTITION OF notifications DEFAULT;

-- Today and the next days exist from the start (the maintenance keeps
-- partition_ahead_days of them); the id sequences start at today's first id.
SELECT uspc_part_ensure(parent, uspc_utc_day(now()) + k)
FROM partitioned_tables, generate_series(0, 2) AS k;
SELECT uspc_part_advance_ids(uspc_utc_day(now()));
