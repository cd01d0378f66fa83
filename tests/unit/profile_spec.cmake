# Unit tests of a provisioning profile's definition
# (controller/fleet/profile_spec.c, profile_sel.c, profile_tpl.c; pure):
# defaults, round trip through its JSON, every refusal, the selector's two
# forms, the paths and variables a profile names, template expansion.
uspc_unit_test(test_profile_spec SOURCES fleet/test_profile_spec.c LIBS uspc_fleet_pure)
