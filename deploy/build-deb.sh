#!/usr/bin/env bash
# build-deb.sh — build the Debian package uspc_<version>_<arch>.deb from
# this tree with debhelper: the programs, man pages, example config, systemd
# unit and docs as `cmake --install` lays them out with prefix /usr.
#
#   deploy/build-deb.sh [OUTDIR]          (default OUTDIR: <repo>/build-pkg)
#
# The package:
#   /usr/sbin/uspc, /usr/sbin/uspc-api, /usr/sbin/uspc-acs, /usr/bin/uspctl,
#   /usr/bin/usp-agent-sim, man pages, /etc/uspc/uspc.conf (a conffile; mode
#   640, root:uspc, set in postinst), /lib/systemd/system/uspc.service,
#   uspc-api.service and uspc-acs.service (installed, none enabled or
#   started; a running one is restarted on upgrade), /usr/share/doc/uspc
#   (README.md, docs/, examples/), /usr/share/uspc/models (the simulator's
#   model), /usr/share/uspc/console (the web console uspc-api serves).
#   Depends from dpkg-shlibdeps (libprotobuf-c1, libpaho-mqtt1.3,
#   libmosquitto1, libssl3, libcjson1, libpq5, libsystemd0, libmicrohttpd12, libcurl4,
#   libxml2, libc6), adduser.
#   postinst creates the system user and group uspc (idempotent). remove
#   keeps /etc/uspc; purge deletes the conffile and /etc/uspc if nothing
#   else is in it (the admin's uspc.env, tls/ stay); the user stays.
#
# debian/ is generated here, in <OUTDIR>/deb/uspc-<version>/ (the repository
# keeps its layout); dh builds with the repository as its source directory
# (cmake, Debian's build flags with all hardening, tests off: deploy/test.sh
# runs them) in <OUTDIR>/deb/obj, kept between runs so a rebuild is
# incremental. Then lintian checks the .deb: an error fails the build.
#
# Needs the build dependencies (deploy/setup-deps.sh installs them, debhelper
# and lintian included). Root is not needed (Rules-Requires-Root: no).
#
# Environment:
#   USPC_JOBS              parallel build jobs (default 2)
#   USPC_DEB_MAINTAINER    Maintainer field (default: uspc maintainers)
#   USPC_LINTIAN           0 to skip lintian (default 1)
# Exit status: 0 with the .deb in OUTDIR, 1 on failure.
set -euo pipefail

SELF=$(basename "$0")
REPO=$(cd "$(dirname "$0")/.." && pwd -P)
OUT=${1:-$REPO/build-pkg}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd -P)
JOBS=${USPC_JOBS:-2}
MAINT=${USPC_DEB_MAINTAINER:-uspc maintainers <uspc-maintainers@users.noreply.github.com>}

die() {
	echo "$SELF: error: $*" >&2
	exit 1
}
for t in dpkg-buildpackage dh dpkg-shlibdeps scdoc cmake; do
	command -v "$t" >/dev/null 2>&1 ||
		die "$t not found (run deploy/setup-deps.sh; it installs debhelper, scdoc, lintian)"
done

VERSION=$(sed -nE 's/^project\(uspc VERSION ([0-9][0-9.]*).*/\1/p' "$REPO/CMakeLists.txt")
[ -n "$VERSION" ] || die "no version in $REPO/CMakeLists.txt (project(uspc VERSION x.y.z))"
ARCH=$(dpkg --print-architecture)
DEB=uspc_${VERSION}_${ARCH}.deb

# The changelog entry names the commit, and dates the build (and so every
# file's mtime and the man pages, through SOURCE_DATE_EPOCH) from it.
if git -C "$REPO" rev-parse --git-dir >/dev/null 2>&1; then
	COMMIT=$(git -C "$REPO" rev-parse --short=12 HEAD)
	DATE=$(git -C "$REPO" log -1 --format=%cD HEAD)
	if [ -n "$(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
		COMMIT="$COMMIT with uncommitted changes"
	fi
else
	COMMIT="an unknown commit (no git, or git refused the tree)"
	DATE=$(date -R)
fi

WORK=$OUT/deb
PKG=$WORK/uspc-$VERSION
BUILD=$WORK/obj
rm -rf "$PKG" "$WORK"/uspc_* "$WORK"/uspc-dbgsym_*
mkdir -p "$PKG/debian/source" "$BUILD"
D=$PKG/debian

echo "3.0 (native)" >"$D/source/format"

cat >"$D/control" <<EOF
Source: uspc
Section: net
Priority: optional
Maintainer: $MAINT
Rules-Requires-Root: no
Build-Depends: debhelper-compat (= 13),
               cmake (>= 3.18),
               pkg-config,
               protobuf-c-compiler,
               libprotobuf-c-dev,
               libpaho-mqtt-dev,
               libmosquitto-dev,
               libssl-dev,
               libcjson-dev,
               libpq-dev,
               libsystemd-dev,
               libmicrohttpd-dev,
               libxml2-dev,
               libcurl4-openssl-dev,
               zlib1g-dev,
               scdoc
Standards-Version: 4.6.2

Package: uspc
Architecture: any
Depends: \${shlibs:Depends}, \${misc:Depends}, adduser
Suggests: mosquitto, postgresql
Description: TR-369 (USP) controller for fleets of USP agents
 uspc manages fleets of Broadband Forum TR-369 (User Services Platform)
 agents such as home gateways, set-top boxes and IoT gateways: it onboards
 them, reads and changes their TR-181 data model, stores and answers their
 notifications and runs operations across thousands of devices at a time.
 It speaks USP over an MQTT 5 broker and keeps its state in PostgreSQL;
 several daemons may share one broker and one database.
 .
 This package holds the daemon uspc; uspc-api, which serves an HTTP API
 with bearer tokens and roles, live event streams, Prometheus metrics and
 a web console over the same database; uspc-acs, a TR-069 (CWMP)
 auto-configuration server that puts TR-069 devices in the same inventory
 and task queue (all three with systemd units, installed but not
 enabled); the batch tool uspctl (JSON lines in, JSON lines out, tasks
 queued in PostgreSQL) and usp-agent-sim, which simulates thousands of USP
 agents for tests, demos and capacity planning.
EOF

cat >"$D/changelog" <<EOF
uspc ($VERSION) unstable; urgency=medium

  * Built by deploy/build-deb.sh from git $COMMIT.

 -- $MAINT  $DATE
EOF

{
	cat <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: uspc

Files: *
Copyright: 2026, the uspc authors
License: BSD-2-clause

License: BSD-2-clause
EOF
	# The license text after its first three lines (title, blank, copyright).
	tail -n +4 "$REPO/LICENSE" | sed -e 's/^$/./' -e 's/^/ /'
} >"$D/copyright"

cat >"$D/rules" <<EOF
#!/usr/bin/make -f
# Generated by deploy/build-deb.sh. The source is the repository itself,
# which dh_auto_* cannot take (it must lie inside the package directory), so
# cmake runs here as dh_auto_* would run it: prefix /usr, /etc, build type
# None with Debian's build flags (all hardening on; CPPFLAGS go into
# CMAKE_C_FLAGS, since CMake does not read them).
export DEB_BUILD_MAINT_OPTIONS = hardening=+all
DPKG_EXPORT_BUILDFLAGS = 1
include /usr/share/dpkg/buildflags.mk
JOBS = \$(patsubst parallel=%,%,\$(filter parallel=%,\$(DEB_BUILD_OPTIONS)))
# No build path in the binaries (the generated protobuf code's asserts name
# their file): the repository and the build directory become . and obj.
PREFIX_MAP = -ffile-prefix-map=$REPO=. -ffile-prefix-map=$BUILD=obj

%:
	dh \$@

# Tests run in deploy/test.sh; the simulator's default model is the
# installed /usr/share/uspc/models/tr181-gateway.model.
override_dh_auto_configure:
	cmake -S $REPO -B $BUILD -DCMAKE_INSTALL_PREFIX=/usr \\
		-DCMAKE_INSTALL_SYSCONFDIR=/etc -DCMAKE_INSTALL_LOCALSTATEDIR=/var \\
		-DCMAKE_BUILD_TYPE=None -DUSPC_TESTS=OFF -DUSPC_SIM_INSTALLED_MODEL=ON \\
		"-DCMAKE_C_FLAGS=\$(CFLAGS) \$(CPPFLAGS) \$(PREFIX_MAP)" "-DCMAKE_EXE_LINKER_FLAGS=\$(LDFLAGS)"

override_dh_auto_build:
	cmake --build $BUILD -j \$(or \$(JOBS),1)

override_dh_auto_install:
	DESTDIR=\$(CURDIR)/debian/uspc cmake --install $BUILD

# Tests run in deploy/test.sh. The build directory is kept for an
# incremental rebuild.
override_dh_auto_test override_dh_auto_clean:

# Installed, not enabled and not started (all three units, uspc.service,
# uspc-api.service and uspc-acs.service): the operator edits
# /etc/uspc/uspc.conf, uspc-api.env and uspc-acs.env first (enabled by the
# admin stays enabled). Not stopped
# before an upgrade either: postinst restarts a running one after it, prerm
# stops it on remove.
override_dh_installsystemd:
	dh_installsystemd --no-enable --no-start --no-stop-on-upgrade

# README.md links docs/*.md and the unit's Documentation= names a .md file:
# keep them uncompressed.
override_dh_compress:
	dh_compress -X.md
EOF
chmod 755 "$D/rules"

# The console's index.html is the web application uspc-api serves, not
# documentation.
cat >"$D/uspc.lintian-overrides" <<'EOF'
uspc: package-contains-documentation-outside-usr-share-doc [usr/share/uspc/console/index.html]
EOF

cat >"$D/uspc.postinst" <<'EOF'
#!/bin/sh
# uspc postinst: the system user uspc, and /etc/uspc readable by its group
# only (uspc.conf holds no secrets, but uspc.env and TLS keys go there too).
# A mode chosen with dpkg-statoverride is kept.
set -e

if [ "$1" = configure ]; then
	if ! getent group uspc >/dev/null; then
		addgroup --system --quiet uspc
	fi
	if ! getent passwd uspc >/dev/null; then
		adduser --system --quiet --ingroup uspc --no-create-home \
			--home /nonexistent --shell /usr/sbin/nologin \
			--gecos "uspc TR-369 controller" uspc
	fi
	if ! dpkg-statoverride --list /etc/uspc >/dev/null; then
		chown root:uspc /etc/uspc
		chmod 750 /etc/uspc
	fi
	if [ -f /etc/uspc/uspc.conf ] && ! dpkg-statoverride --list /etc/uspc/uspc.conf >/dev/null; then
		chown root:uspc /etc/uspc/uspc.conf
		chmod 640 /etc/uspc/uspc.conf
	fi
fi

#DEBHELPER#

# systemd learns of the units (or their new versions); an upgrade restarts
# a running uspc (it drains on SIGTERM), a running uspc-api (its event
# streams reconnect) and a running uspc-acs (CPEs inform again), a stopped
# one stays stopped.
if [ "$1" = configure ] && [ -d /run/systemd/system ]; then
	systemctl --system daemon-reload >/dev/null || true
	if [ -n "$2" ]; then
		deb-systemd-invoke try-restart uspc.service uspc-api.service uspc-acs.service >/dev/null || true
	fi
fi

exit 0
EOF

cat >"$D/uspc.prerm" <<'EOF'
#!/bin/sh
# uspc prerm: removing the package stops a running uspc (SIGTERM: it drains),
# uspc-api and uspc-acs.
set -e

if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
	deb-systemd-invoke stop uspc-acs.service uspc-api.service uspc.service >/dev/null || true
fi

#DEBHELPER#

exit 0
EOF

cat >"$D/uspc.postrm" <<'EOF'
#!/bin/sh
# uspc postrm: remove keeps /etc/uspc (dpkg keeps the conffile). purge: dpkg
# deletes uspc.conf; /etc/uspc goes too when nothing else is in it (files
# the admin added, such as uspc.env or TLS keys, stay). The uspc user and
# group stay: files elsewhere may still belong to them.
set -e

#DEBHELPER#

if [ "$1" = purge ] && [ -d /etc/uspc ]; then
	rmdir --ignore-fail-on-non-empty /etc/uspc
fi

exit 0
EOF

echo "$SELF: building $DEB (commit $COMMIT) in $WORK"
START=$(date +%s)
(cd "$PKG" && DEB_BUILD_OPTIONS="parallel=$JOBS ${DEB_BUILD_OPTIONS:-}" \
	dpkg-buildpackage -b -us -uc --no-pre-clean) >"$WORK/build.log" 2>&1 || {
	tail -n 40 "$WORK/build.log" >&2
	die "dpkg-buildpackage failed (log: $WORK/build.log)"
}
[ -f "$WORK/$DEB" ] || die "dpkg-buildpackage made no $WORK/$DEB (log: $WORK/build.log)"
cp "$WORK/$DEB" "$OUT/"
cp "$WORK"/uspc-dbgsym_"${VERSION}"_"$ARCH".*deb "$OUT/" 2>/dev/null || true
echo "$SELF: built $OUT/$DEB in $(($(date +%s) - START)) s"
dpkg-deb --field "$OUT/$DEB" Depends | sed "s/^/$SELF: Depends: /"

if [ "${USPC_LINTIAN:-1}" != 0 ]; then
	command -v lintian >/dev/null 2>&1 || die "lintian not found (deploy/setup-deps.sh installs it; USPC_LINTIAN=0 skips it)"
	echo "$SELF: lintian $OUT/$DEB"
	lintian --fail-on error --display-info "$OUT/$DEB" || die "lintian reports errors"
fi
