# Unit tests of a provisioning profile run (controller/fleet/profile_run.c,
# pure): one agent's profiles driven with hand-written answers — reads,
# comparisons, priority, every step kind, errors, contested paths,
# write-only values, once-only commands, dry runs, the stamp, the round
# limit and work objects this code did not write.
uspc_unit_test(test_profile_run SOURCES fleet/test_profile_run.c LIBS uspc_fleet_pure)
