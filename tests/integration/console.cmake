# The web console (console/) in a real browser: Debian's chromium driven by
# tests/console/console-test.mjs (puppeteer-core, installed by npm ci in
# tests/console) against uspc-api, the daemon and simulated agents.
# Screenshots stay in the test's work dir (test-work/console/screenshots).
uspc_integration_test(console COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_console.sh TIMEOUT 300)
