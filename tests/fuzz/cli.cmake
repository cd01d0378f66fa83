# uspctl JSON command parser: any bytes as one input line.
uspc_fuzz_target(fuzz_uspctl_cmd SOURCES fuzz_uspctl_cmd.c LIBS uspc_cli_cmd)
