# uspctl command-line parser (pure).
uspc_unit_test(test_uspctl_cmd SOURCES test_uspctl_cmd.c LIBS uspc_cli_cmd)
