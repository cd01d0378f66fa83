-- uspc schema, version 9: indexes on agents for fleets of a million
-- (issue 20; measured with tests/bench/fleet_scale.sh on 1,000,000 agents,
-- tests/bench/README.md "fleet_scale").
--
-- agents_onboarded: fleet_summary's ten newest onboardings (the console's
-- fleet page, every 15 s the API's gauges) read the newest entries of it
-- instead of a top-10 sort of every agent: 160 ms -> under 1 ms.
--
-- agents_model_eid, agents_manufacturer_eid, agents_software_version_eid
-- replace the single-column indexes of version 1. They serve the same
-- equality (selectors, campaigns, profiles) and give the matches in
-- Endpoint ID order, the order of every selector's result: resolving the
-- largest model's 160,134 agents took 71 ms with a bitmap scan and a sort
-- past work_mem, 45 ms through agents_model_eid; a software version's
-- 64,202, 37 -> 19 ms. A list_agents page (keyset on eid) reads the first
-- 1,000 matches after its `after` from them instead of walking the primary
-- key and filtering: 9-13 ms instead of 57-108 ms for the largest model,
-- manufacturer and version, 163 -> 9 ms for a model whose Endpoint IDs
-- sort last (the planner takes them when the heap is not in Endpoint ID
-- order, as in a live inventory; see the README). They are larger (about
-- 50 MB each per million agents, against 6 MB deduplicated): with
-- agents_onboarded, 160 B more per agent.
--
-- onboarded_at is now indexed, so an onboarding no longer updates an
-- agents row in place (HOT): it adds an entry to each of its indexes, as
-- the online/offline update before it already did.
--
-- Each is built while the start-up transaction blocks writes to agents:
-- 0.5-0.7 s per index for 1,000,000 agents on the development machine.
CREATE INDEX agents_onboarded ON agents (onboarded_at);
CREATE INDEX agents_model_eid ON agents (model_name, eid);
CREATE INDEX agents_manufacturer_eid ON agents (manufacturer, eid);
CREATE INDEX agents_software_version_eid ON agents (software_version, eid);
DROP INDEX agents_model;
DROP INDEX agents_manufacturer;
DROP INDEX agents_software_version;
