# uspctl's engine pieces that need no database: the in-flight task table and
# the result-line writer (the contract scripts parse).
uspc_unit_test(test_uspctl_track SOURCES test_uspctl_track.c LIBS uspc_cli)
uspc_unit_test(test_uspctl_out SOURCES test_uspctl_out.c LIBS uspc_cli)
# both are internal to uspctl's engine (uspctl_track.h, uspctl_out.h)
uspc_internal_headers(test_uspctl_track uspc_cli)
uspc_internal_headers(test_uspctl_out uspc_cli)
