-- The node lock's key: 32 bits of md5(node_id) ($1).
('x' || substr(md5($1), 1, 8))::bit(32)::int
