-- uspc schema, version 9: indexes for fleets of a million agents (being
-- written; until then this migration changes nothing).
SELECT 1;
