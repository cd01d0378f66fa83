SELECT pg_try_advisory_lock({{node_lock_class}}, {{node_lock_key}}),
  pg_backend_pid(), (SELECT backend_start::text FROM pg_stat_activity
    WHERE pid = pg_backend_pid())
