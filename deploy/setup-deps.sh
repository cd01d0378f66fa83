#!/usr/bin/env bash
# setup-deps.sh — install every Debian package uspc needs to build, run and
# test (Debian 12 "bookworm"). Idempotent: when everything is present it only
# asks dpkg and returns in well under a second; apt-get update and install run
# only for what is missing. Non-interactive. Needs root: uses sudo when run as
# another user and sudo is there, else prints the command to run.
set -euo pipefail

# Why each package is here:
PACKAGES=(
	build-essential      # gcc, make, libc headers
	cmake                # the build
	pkg-config           # finds protobuf-c, cJSON, libpq, OpenSSL, libmosquitto
	protobuf-c-compiler  # protoc-c: generates the USP message code at build time
	libprotobuf-c-dev    # protobuf-c runtime
	protobuf-compiler    # protoc --decode_raw: the codec's wire-format test
	libpaho-mqtt-dev     # Paho MQTT C (async, SSL): the controller's MQTT transport
	libmosquitto-dev     # libmosquitto: usp-agent-sim's MQTT clients
	mosquitto            # the MQTT 5 broker of the local stack and the tests
	mosquitto-clients    # mosquitto_pub/_sub: readiness probe, tests
	libssl-dev           # OpenSSL headers (TLS)
	openssl              # the openssl command: test certificates
	libcjson-dev         # cJSON: uspctl's JSON lines, JSON mapping
	libpq-dev            # libpq: the PostgreSQL store
	libsystemd-dev       # sd_notify: Type=notify readiness and the watchdog (uspc.service)
	libmicrohttpd-dev    # libmicrohttpd: the daemon's HTTP listener for /metrics and /healthz
	libxml2-dev          # libxml2: the CWMP (TR-069) codec's SOAP parser (controller/cwmp)
	libcurl4-openssl-dev # libcurl: usp-agent-sim --protocol cwmp's HTTP client (CPE -> ACS)
	zlib1g-dev           # zlib: uspc-acs inflates the gzip/deflate bodies some CPEs send
	postgresql           # PostgreSQL server (initdb, pg_ctl) and psql for the local stack
	libcmocka-dev        # unit tests
	clang                # libFuzzer builds (tests/fuzz)
	libclang-rt-14-dev   # clang's sanitizer and libFuzzer runtimes
	clang-format         # style check in deploy/test.sh (.clang-format)
	procps               # ps, pgrep, pkill by pid checks in tests
	iproute2             # ss: free-port search and listener checks
	util-linux           # runuser, flock (local stack)
	jq                   # JSON checks in the integration test scripts
	curl                 # HTTP requests to the daemon's /metrics and /healthz in tests
	python3              # tests/support/check-metrics.py: the /metrics format checker
	python3-jsonschema   # tests/integration/api_check.py: responses against uspc-api's OpenAPI document
	scdoc                # man pages (man/*.scd) built at build time
	debhelper            # deploy/build-deb.sh: dh builds the .deb
	lintian              # deploy/build-deb.sh checks the .deb
	man-db               # man -w in the package test (tests/package)
	systemd              # systemd-analyze verify of the unit in the package test
	chromium             # the web console's browser test (tests/console, headless)
	nodejs               # runs the browser test (tests/console/console-test.mjs)
	npm                  # npm ci of the browser test's one dependency, puppeteer-core
)

SELF=$(basename "$0")

missing=()
for p in "${PACKAGES[@]}"; do
	# A Node.js from outside Debian (e.g. NodeSource's nodejs) ships its own
	# npm and conflicts with Debian's: an npm on the PATH is enough.
	[ "$p" = npm ] && command -v npm >/dev/null 2>&1 && continue
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = installed ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "$SELF: all ${#PACKAGES[@]} packages present"
	exit 0
fi

echo "$SELF: installing: ${missing[*]}"
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=(sudo)
	else
		echo "$SELF: error: not root and no sudo; as root run:" >&2
		echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
		exit 1
	fi
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"

# Verify: a package that did not install is an error here, not at build time.
still=()
for p in "${missing[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = installed ] || still+=("$p")
done
if [ ${#still[@]} -ne 0 ]; then
	echo "$SELF: error: still missing after apt-get install: ${still[*]}" >&2
	exit 1
fi
echo "$SELF: done"
