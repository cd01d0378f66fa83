-- uspc schema, version 2: the data-model snapshot is kept per object.
-- One row per (agent, object path) holds that object's parameters as a
-- jsonb {"Name": "value", ...} instead of one row per parameter: a Get of
-- Device.DeviceInfo. writes 4 rows instead of 27, and a table of a million
-- agents holds tens of millions of rows instead of hundreds of millions.
-- The view `snapshot` keeps the old shape (eid, path, value, updated_at)
-- for readers. docs/schema.md says how rows are merged.

CREATE TABLE snapshot_objects (
    eid        text COLLATE "C" NOT NULL,
    obj        text COLLATE "C" NOT NULL,  -- object path up to and including its last '.'
    params     jsonb NOT NULL,             -- {"ParamName": "value"}: strings only
    updated_at timestamptz NOT NULL,       -- newest report merged into the object
    PRIMARY KEY (eid, obj)
);

INSERT INTO snapshot_objects (eid, obj, params, updated_at)
SELECT eid, coalesce(substring(path from '^(.*\.)'), ''),
       jsonb_object_agg(substring(path from '[^.]*$'), value), max(updated_at)
  FROM snapshot
 GROUP BY 1, 2;

DROP TABLE snapshot;

CREATE VIEW snapshot AS
SELECT o.eid, (o.obj || p.key) COLLATE "C" AS path, p.value, o.updated_at
  FROM snapshot_objects o CROSS JOIN LATERAL jsonb_each_text(o.params) AS p(key, value);
