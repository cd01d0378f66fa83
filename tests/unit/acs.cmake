# Unit tests of uspc-acs's pure parts (controller/acs, library
# uspc_acs_pure; no server, no database):
#  - test_acs_map: a task's request as CWMP RPCs and the CPE's answers as
#    the task's result, every op of acs_map.h's table, faults, refusals;
#    compares a get_resp with docs/json.md's example
#  - test_acs_auth: username templates, derived passwords and Digest HA1
#    against values computed with openssl and RFC 2617
#  - test_acs_digest: Authorization headers, nonces, responses computed
#    independently, a nonce's single use
uspc_unit_test(test_acs_map SOURCES test_acs_map.c LIBS uspc_acs_pure)
uspc_unit_test(test_acs_auth SOURCES test_acs_auth.c LIBS uspc_acs_pure)
uspc_unit_test(test_acs_digest SOURCES test_acs_digest.c LIBS uspc_acs_pure PkgConfig::LIBCRYPTO)
