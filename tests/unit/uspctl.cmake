# uspctl's engine pieces that need no database: the in-flight task table and
# the result-line writer (the contract scripts parse).
uspc_unit_test(test_uspctl_track SOURCES test_uspctl_track.c LIBS uspc_cli)
uspc_unit_test(test_uspctl_out SOURCES test_uspctl_out.c LIBS uspc_cli)
