# Unit tests of the campaign engine's per-device state machine (pure).
uspc_unit_test(test_fleet_fw SOURCES fleet/test_fleet_fw.c LIBS uspc_fleet_pure)
