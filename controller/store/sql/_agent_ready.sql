-- Agent row `a` can take tasks now ($3: require_onboarded); NULL when
-- onboarded_at is unknown.
(a.online AND (NOT $3::bool OR {{onboarded_since_online}}))
