-- One automatic decision of the engine, with its numbers.
INSERT INTO campaign_events (campaign, actor, kind, message) VALUES ($1::bigint, $2, $3, $4)
