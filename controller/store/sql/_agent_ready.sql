-- Agent row `a` can take tasks from uspc now ($3: require_onboarded); NULL
-- when onboarded_at is unknown. A TR-069 device ('cwmp') never can: its
-- tasks wait for a session with uspc-acs (they stay parked here).
(a.online AND a.protocol = 'usp' AND (NOT $3::bool OR {{onboarded_since_online}}))
