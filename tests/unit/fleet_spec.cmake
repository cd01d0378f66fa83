# Unit tests of a campaign's definition (controller/fleet/fleet_spec.c,
# pure): defaults, round trip through its JSON, every refusal, the wave cut
# and the activation window.
uspc_unit_test(test_fleet_spec SOURCES fleet/test_fleet_spec.c LIBS uspc_fleet_pure)
