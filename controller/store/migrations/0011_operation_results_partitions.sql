-- uspc schema, version 11: operation_results partitioned by UTC day like
-- notifications (migration 10; docs/retention.md), so that its retention
-- drops whole days too.
--
-- `day` is the UTC day of the row's first write (the OperateResp's
-- 'requested', or an OperationComplete that came first); the row stays in
-- that day when its OperationComplete updates it later. The key gains
-- the day: (eid, command_key, obj_path, command_name, day). The writer
-- (wop_oper.sql) updates an existing row of any day and inserts only the
-- rows it did not find, so one command has one row.
--
-- What the table held becomes its legacy partition, as in migration 10;
-- its primary key is rebuilt with the day (one read of the table, inside
-- the start-up transaction).

ALTER TABLE operation_results RENAME TO operation_results_legacy;
ALTER TABLE operation_results_legacy RENAME CONSTRAINT operation_results_pkey
    TO operation_results_legacy_pkey;
ALTER INDEX operation_results_updated RENAME TO operation_results_updated_legacy;
ALTER INDEX operation_results_key RENAME TO operation_results_key_legacy;
ALTER TABLE operation_results_legacy ADD COLUMN day date NOT NULL DEFAULT '1970-01-01';
ALTER TABLE operation_results_legacy ALTER COLUMN day DROP DEFAULT;

CREATE TABLE operation_results (
    eid          text COLLATE "C" NOT NULL,
    command_key  text NOT NULL,
    obj_path     text NOT NULL,
    command_name text NOT NULL,
    state        text NOT NULL CONSTRAINT operation_results_state_check
                 CHECK (state IN ('requested', 'complete', 'failed')),
    output       jsonb,
    err_code     bigint,
    err_msg      text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL,
    day          date NOT NULL DEFAULT uspc_utc_day(now()),
    PRIMARY KEY (eid, command_key, obj_path, command_name, day)
) PARTITION BY RANGE (day);
CREATE INDEX operation_results_updated ON operation_results (updated_at);
CREATE INDEX operation_results_key ON operation_results (command_key);

DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM operation_results_legacy) THEN
        ALTER TABLE operation_results_legacy DROP CONSTRAINT operation_results_legacy_pkey;
        EXECUTE format('ALTER TABLE operation_results ATTACH PARTITION operation_results_legacy '
                       'FOR VALUES FROM (MINVALUE) TO (%L)', uspc_utc_day(now()));
    ELSE
        DROP TABLE operation_results_legacy;
    END IF;
END $$;
CREATE TABLE operation_results_default PARTITION OF operation_results DEFAULT;

INSERT INTO partitioned_tables VALUES ('operation_results', 'day', NULL);
SELECT uspc_part_ensure('operation_results', uspc_utc_day(now()) + k)
FROM generate_series(0, 2) AS k;
