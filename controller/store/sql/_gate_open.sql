-- The profile gate of agent row a lets its tasks through ($6: profile_gate
-- is on): its profiles converged since it last onboarded, or no profile is
-- live. The profile engine's own requests (batch 'profile') never wait.
(NOT $6::bool OR a.provisioned_at >= a.onboarded_at
  OR NOT EXISTS (SELECT 1 FROM profile_heads WHERE deleted_at IS NULL))
