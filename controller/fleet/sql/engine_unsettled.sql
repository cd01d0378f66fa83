-- The campaigns an engine pass looks at (campaigns_unsettled).
SELECT id FROM campaigns WHERE NOT settled ORDER BY id
