# The documentation's links (label unit: no build products, no servers).
# docs_links: every relative link in README.md, docs/*.md, tests/*/README.md
# and agents-sim/README.md reaches a file of the repository and every
# #anchor a heading; no mention of files outside it; no dated work-log
# headings. docs_links_selftest: the checker fails on each kind of fault.
add_test(NAME docs_links COMMAND ${PROJECT_SOURCE_DIR}/tests/docs/check-links.sh ${PROJECT_SOURCE_DIR})
add_test(NAME docs_links_selftest COMMAND ${PROJECT_SOURCE_DIR}/tests/docs/test-check-links.sh)
set_tests_properties(docs_links docs_links_selftest PROPERTIES LABELS unit TIMEOUT 60)
