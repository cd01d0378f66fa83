#!/usr/bin/env bash
# test-package.sh — build the Debian package and install it on this machine:
# the package test of deploy/test.sh (CI runs it as root on a fresh Debian 12
# machine).
#
#   tests/package/test-package.sh [DEB]      (as root)
#
# Without DEB it builds one with deploy/build-deb.sh (lintian included) in
# USPC_PKG_DIR (default <repo>/build-pkg). Then:
#   1. apt-get install ./uspc_*.deb (dependencies from the package's Depends)
#   2. checks with the repository hidden under an empty tmpfs (unshare -m),
#      an empty environment and cwd /, so nothing of the build tree can be
#      used: uspc/uspc-api/uspc-acs/uspctl/usp-agent-sim --version, usp-agent-sim
#      --check-model (its default model is the installed one), uspc
#      --check-config on the installed /etc/uspc/uspc.conf; the web console
#      in /usr/share/uspc/console and uspc-api's default --console there;
#      no RUNPATH, every library from the system; man -w for the six pages;
#      systemd-analyze verify on the three units (it needs no running
#      systemd); the units neither enabled nor started; the uspc system user and
#      group; /etc/uspc 750 and uspc.conf 640 root:uspc and a conffile; the
#      Depends of the issue
#   3. reinstall (postinst is idempotent)
#   4. apt-get remove: programs, units and console gone, the edited
#      uspc.conf and the user stay
#   5. apt-get purge: uspc.conf gone, a file the admin added (uspc.env) stays
# On exit the machine is as before: the package purged, /etc/uspc and the
# uspc user removed if the test created them.
#
# It changes the system, so it runs only as root and only when no uspc
# package, /etc/uspc or installed uspc/uspc-api/uspc-acs process is there before (exit 0 with "SKIP"
# otherwise; USPC_PACKAGE_TEST_FORCE=1 overrides the package check).
# Exit status: 0 passed or skipped, 1 failed.
set -uo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd -P)
PKG_DIR=${USPC_PKG_DIR:-$REPO/build-pkg}
START=$(date +%s)
fails=0

say() { printf 'package: %s\n' "$*"; }
ok() { say "ok   $*"; }
bad() {
	say "FAIL $*"
	fails=$((fails + 1))
}
skip() {
	say "SKIP: $*"
	exit 0
}
check() { # check DESCRIPTION COMMAND...
	local d=$1 out
	shift
	if out=$("$@" 2>&1); then ok "$d"; else
		bad "$d"
		printf '%s\n' "$out" | sed 's/^/       /' | head -20
	fi
}

[ "$(id -u)" -eq 0 ] || skip "needs root (it installs and purges the package on this machine); run: sudo $0"
command -v apt-get >/dev/null 2>&1 || skip "not a Debian system (no apt-get)"
if dpkg-query -W -f='${db:Status-Status}' uspc 2>/dev/null | grep -qv '^not-installed$' &&
	[ "${USPC_PACKAGE_TEST_FORCE:-0}" != 1 ]; then
	skip "a uspc package is installed here already; the test would purge it (USPC_PACKAGE_TEST_FORCE=1 to run anyway)"
fi
[ -e /etc/uspc ] && ! dpkg-query -W uspc >/dev/null 2>&1 &&
	skip "/etc/uspc exists without the package: not touching it"
# A daemon running the installed program (others, from build trees, are fine).
installed_runs() { # installed_runs NAME: /usr/sbin/NAME runs
	local p
	for p in $(pgrep -x "$1"); do
		[ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "/usr/sbin/$1" ] && return 0
	done
	return 1
}
installed_runs uspc && skip "/usr/sbin/uspc runs here"
installed_runs uspc-api && skip "/usr/sbin/uspc-api runs here"
installed_runs uspc-acs && skip "/usr/sbin/uspc-acs runs here"

for t in man systemd-analyze unshare; do
	command -v "$t" >/dev/null 2>&1 || { bad "$t not found (deploy/setup-deps.sh installs man-db, systemd, util-linux)"; exit 1; }
done

created_user=0 created_group=0
getent passwd uspc >/dev/null || created_user=1
getent group uspc >/dev/null || created_group=1

cleanup() {
	trap - EXIT INT TERM
	if dpkg-query -W uspc >/dev/null 2>&1; then
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -q uspc >/dev/null 2>&1 || dpkg --purge uspc >/dev/null 2>&1
	fi
	rm -f /etc/uspc/uspc.env
	[ -d /etc/uspc ] && rmdir /etc/uspc 2>/dev/null
	[ $created_user = 1 ] && getent passwd uspc >/dev/null && userdel uspc 2>/dev/null
	[ $created_group = 1 ] && getent group uspc >/dev/null && groupdel uspc 2>/dev/null
	say "$( [ $fails -eq 0 ] && echo passed || echo "FAILED ($fails checks)" ) in $(($(date +%s) - START)) s"
	[ $fails -eq 0 ]
	exit
}
trap cleanup EXIT
trap 'bad interrupted; exit 1' INT TERM

# ---- build
if [ $# -ge 1 ]; then
	DEB=$(cd "$(dirname "$1")" && pwd -P)/$(basename "$1")
else
	"$REPO/deploy/build-deb.sh" "$PKG_DIR" || { bad "deploy/build-deb.sh"; exit 1; }
	VERSION=$(sed -nE 's/^project\(uspc VERSION ([0-9][0-9.]*).*/\1/p' "$REPO/CMakeLists.txt")
	DEB=$PKG_DIR/uspc_${VERSION}_$(dpkg --print-architecture).deb
fi
[ -f "$DEB" ] || { bad "no package $DEB"; exit 1; }
VERSION=$(dpkg-deb --field "$DEB" Version)
say "testing $DEB ($(($(date +%s) - START)) s)"

# Depends as the issue lists them (from dpkg-shlibdeps).
deps=$(dpkg-deb --field "$DEB" Depends)
for lib in libprotobuf-c1 libpaho-mqtt1.3 libmosquitto1 libssl3 libcjson1 libpq5 libsystemd0 \
	libmicrohttpd12 adduser; do
	[[ ", $deps," == *", $lib "* || ", $deps," == *", $lib,"* ]] || bad "Depends lacks $lib: $deps"
done
ok "Depends: $deps"

# ---- install
check "apt-get install $(basename "$DEB")" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -q --no-install-recommends "$DEB"
[ "$(dpkg-query -W -f='${db:Status-Status}' uspc 2>/dev/null)" = installed ] || { bad "uspc not installed"; exit 1; }

# Run the installed programs with the repository hidden (an empty tmpfs over
# it in a private mount namespace), an empty environment and cwd /. Where
# unshare is not permitted (a container without CAP_SYS_ADMIN) only the
# environment and cwd change, and the checks below (no build path in the
# binaries, no RUNPATH, libraries from the system) stand for the rest.
if unshare -m sh -c 'mount -t tmpfs none "$0"' "$REPO" 2>/dev/null; then
	hidden() {
		unshare -m sh -c 'mount -t tmpfs none "$0" && cd / && exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"' "$REPO" "$@"
	}
	check "build tree hidden: $REPO is empty for the programs" hidden sh -c "[ -z \"\$(ls -A '$REPO')\" ]"
else
	hidden() { (cd / && exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"); }
	say "note: unshare -m not permitted here: the programs run with the build tree in place"
fi
for b in /usr/sbin/uspc /usr/sbin/uspc-api /usr/sbin/uspc-acs /usr/bin/uspctl /usr/bin/usp-agent-sim; do
	if grep -qF "$REPO" "$b"; then bad "$b names the build tree $REPO"; else ok "$b names no build path"; fi
done

out=$(hidden uspc --version 2>&1)
[ "$out" = "uspc $VERSION" ] && ok "uspc --version: $out" || bad "uspc --version: '$out' (want 'uspc $VERSION')"
out=$(hidden uspc-api --version 2>&1)
[ "$out" = "uspc-api $VERSION" ] && ok "uspc-api --version: $out" || bad "uspc-api --version: '$out' (want 'uspc-api $VERSION')"
out=$(hidden uspc-acs --version 2>&1)
[ "$out" = "uspc-acs $VERSION" ] && ok "uspc-acs --version: $out" || bad "uspc-acs --version: '$out' (want 'uspc-acs $VERSION')"
out=$(hidden uspctl --version 2>&1)
[ "$out" = "uspctl $VERSION" ] && ok "uspctl --version: $out" || bad "uspctl --version: '$out'"
out=$(hidden usp-agent-sim --version 2>&1)
[ "$out" = "usp-agent-sim $VERSION" ] && ok "usp-agent-sim --version: $out" || bad "usp-agent-sim --version: '$out'"
[ "$(command -v uspc)" = /usr/sbin/uspc ] && ok "uspc is /usr/sbin/uspc" || bad "uspc is $(command -v uspc)"
[ "$(command -v uspc-api)" = /usr/sbin/uspc-api ] && ok "uspc-api is /usr/sbin/uspc-api" || bad "uspc-api is $(command -v uspc-api)"
[ "$(command -v uspc-acs)" = /usr/sbin/uspc-acs ] && ok "uspc-acs is /usr/sbin/uspc-acs" || bad "uspc-acs is $(command -v uspc-acs)"
CONSOLE=/usr/share/uspc/console
check "web console installed: $CONSOLE/index.html and its scripts" sh -c \
	"grep -qi '<html' $CONSOLE/index.html && [ -f $CONSOLE/style.css ] && ls $CONSOLE/js/*.js >/dev/null"
check "uspc-api serves $CONSOLE by default (--help)" hidden sh -c \
	"uspc-api --help | grep -qF '(default $CONSOLE;'"
EX=/usr/share/doc/uspc/examples
check "monitoring examples: $EX/prometheus/prometheus.yml, $EX/grafana/uspc.json (valid JSON)" sh -c \
	"[ -f $EX/prometheus/prometheus.yml ] && python3 -m json.tool $EX/grafana/uspc.json >/dev/null"
check "usp-agent-sim --check-model (default model /usr/share/uspc/models)" hidden usp-agent-sim --check-model
check "uspc --check-config on the installed /etc/uspc/uspc.conf" \
	hidden uspc --config /etc/uspc/uspc.conf --check-config
for b in /usr/sbin/uspc /usr/sbin/uspc-api /usr/sbin/uspc-acs /usr/bin/uspctl /usr/bin/usp-agent-sim; do
	if readelf -d "$b" | grep -qE 'R(UN)?PATH'; then bad "$b has an RPATH/RUNPATH"; fi
	libs=$(hidden ldd "$b" 2>&1)
	if grep -q "not found\|$REPO" <<<"$libs"; then bad "$b libraries:"$'\n'"$libs"; else ok "$b: every library from the system"; fi
done

# ---- man pages
if grep -rqs 'path-exclude=*/usr/share/man' /etc/dpkg/dpkg.cfg.d/; then
	bad "dpkg excludes /usr/share/man here (/etc/dpkg/dpkg.cfg.d): man pages cannot be checked"
else
	for p in "5 uspc.conf" "1 uspctl" "1 usp-agent-sim"; do
		set -- $p
		w=$(man -w "$1" "$2" 2>&1)
		[ "$w" = "/usr/share/man/man$1/$2.$1.gz" ] && ok "man -w $2: $w" || bad "man -w $1 $2: '$w'"
	done
	for p in uspc uspc-api uspc-acs; do
		w=$(man -w $p 2>&1)
		[ "$w" = /usr/share/man/man8/$p.8.gz ] && ok "man -w $p: $w" || bad "man -w $p: '$w'"
	done
	check "man uspc-api renders without warnings" sh -c \
		'out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 8 uspc-api 2>&1 >/dev/null); [ -z "$out" ] || { echo "$out"; false; }'
	check "man uspc-acs renders without warnings" sh -c \
		'out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 8 uspc-acs 2>&1 >/dev/null); [ -z "$out" ] || { echo "$out"; false; }'
	check "man uspc.conf renders without warnings" sh -c \
		'out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 5 uspc.conf 2>&1 >/dev/null); [ -z "$out" ] || { echo "$out"; false; }'
fi

# ---- systemd units
UNIT=/lib/systemd/system/uspc.service
API_UNIT=/lib/systemd/system/uspc-api.service
ACS_UNIT=/lib/systemd/system/uspc-acs.service
for u in $UNIT $API_UNIT $ACS_UNIT; do
	[ -f $u ] && ok "unit installed: $u" || bad "no $u"
done
grep -q '^ExecStart=/usr/sbin/uspc ' $UNIT && ok "ExecStart=/usr/sbin/uspc" || bad "ExecStart: $(grep ^ExecStart $UNIT)"
grep -qx 'ExecStart=/usr/sbin/uspc-api' $API_UNIT && ok "ExecStart=/usr/sbin/uspc-api" ||
	bad "uspc-api ExecStart: $(grep ^ExecStart $API_UNIT)"
grep -qx 'EnvironmentFile=-/etc/uspc/uspc-api.env' $API_UNIT && ok "EnvironmentFile=-/etc/uspc/uspc-api.env" ||
	bad "uspc-api EnvironmentFile: $(grep ^EnvironmentFile $API_UNIT)"
grep -qx 'ExecStart=/usr/sbin/uspc-acs' $ACS_UNIT && ok "ExecStart=/usr/sbin/uspc-acs" ||
	bad "uspc-acs ExecStart: $(grep ^ExecStart $ACS_UNIT)"
grep -qx 'EnvironmentFile=-/etc/uspc/uspc-acs.env' $ACS_UNIT && ok "EnvironmentFile=-/etc/uspc/uspc-acs.env" ||
	bad "uspc-acs EnvironmentFile: $(grep ^EnvironmentFile $ACS_UNIT)"
for u in $UNIT $API_UNIT $ACS_UNIT; do
	check "systemd-analyze verify $u" sh -c \
		"out=\$(systemd-analyze verify $u 2>&1); rc=\$?; [ -z \"\$out\" ] && [ \$rc -eq 0 ] || { echo \"\$out\"; false; }"
done
for p in uspc uspc-api uspc-acs; do
	if ls /etc/systemd/system/*.wants/$p.service >/dev/null 2>&1; then bad "$p.service is enabled"; else ok "$p.service not enabled"; fi
	if [ -d /run/systemd/system ]; then
		st=$(systemctl is-active $p.service 2>&1)
		[ "$st" != active ] && ok "$p.service not started ($st)" || bad "$p.service is running"
	else
		installed_runs $p && bad "/usr/sbin/$p runs" || ok "$p not started (no systemd as PID 1 here)"
	fi
done

# ---- user, permissions, conffile
pw=$(getent passwd uspc)
IFS=: read -r _ _ uid _ _ home shell <<<"$pw"
if [ -n "$pw" ] && [ "$uid" -lt 1000 ] && [ "$shell" = /usr/sbin/nologin ] && [ "$home" = /nonexistent ]; then
	ok "system user: $pw"
else
	bad "system user uspc: '$pw'"
fi
[ "$(id -gn uspc 2>/dev/null)" = uspc ] && ok "group uspc" || bad "uspc's group: $(id -gn uspc 2>&1)"
st=$(stat -c '%a %U:%G' /etc/uspc)
[ "$st" = "750 root:uspc" ] && ok "/etc/uspc $st" || bad "/etc/uspc is $st (want 750 root:uspc)"
st=$(stat -c '%a %U:%G' /etc/uspc/uspc.conf)
[ "$st" = "640 root:uspc" ] && ok "/etc/uspc/uspc.conf $st" || bad "/etc/uspc/uspc.conf is $st (want 640 root:uspc)"
dpkg-query -W -f='${Conffiles}\n' uspc | grep -q '^ /etc/uspc/uspc.conf ' &&
	ok "/etc/uspc/uspc.conf is a conffile" || bad "/etc/uspc/uspc.conf is not a conffile"
check "uspc (user uspc) reads its config" runuser -u uspc -- /usr/sbin/uspc --config /etc/uspc/uspc.conf --check-config

# ---- reinstall: postinst runs again with the user there
check "reinstall (dpkg -i again)" dpkg -i "$DEB"
[ "$(getent passwd uspc)" = "$pw" ] && ok "user unchanged after reinstall" || bad "user changed: $(getent passwd uspc)"

# ---- remove: config and user stay
echo "# edited by test-package.sh" >>/etc/uspc/uspc.conf
check "apt-get remove uspc" env DEBIAN_FRONTEND=noninteractive apt-get remove -y -q uspc
for f in /usr/sbin/uspc /usr/sbin/uspc-api /usr/sbin/uspc-acs /usr/bin/uspctl /usr/bin/usp-agent-sim \
	$UNIT $API_UNIT $ACS_UNIT /usr/share/man/man8/uspc.8.gz /usr/share/man/man8/uspc-api.8.gz \
	/usr/share/man/man8/uspc-acs.8.gz $CONSOLE; do
	[ -e $f ] && bad "$f left after remove"
done
ok "programs, units, console and man pages gone after remove"
tail -n 1 /etc/uspc/uspc.conf 2>/dev/null | grep -q 'edited by test-package' &&
	ok "edited /etc/uspc/uspc.conf kept after remove" || bad "/etc/uspc/uspc.conf lost on remove"
[ "$(dpkg-query -W -f='${db:Status-Status}' uspc)" = config-files ] && ok "status config-files" ||
	bad "status after remove: $(dpkg-query -W -f='${db:Status-Status}' uspc)"
getent passwd uspc >/dev/null && ok "user uspc kept after remove" || bad "user uspc gone after remove"

# ---- purge: the conffile goes, what the admin added stays
echo "USPC_DB_PASSWORD=x" >/etc/uspc/uspc.env
check "apt-get purge uspc" env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q uspc
[ -e /etc/uspc/uspc.conf ] && bad "/etc/uspc/uspc.conf left after purge" || ok "/etc/uspc/uspc.conf gone after purge"
[ -f /etc/uspc/uspc.env ] && ok "admin's /etc/uspc/uspc.env kept after purge" || bad "/etc/uspc/uspc.env deleted by purge"
dpkg-query -W uspc >/dev/null 2>&1 && [ "$(dpkg-query -W -f='${db:Status-Status}' uspc)" != not-installed ] &&
	bad "dpkg still knows uspc: $(dpkg-query -W -f='${db:Status-Status}' uspc)"
rm -f /etc/uspc/uspc.env
rmdir /etc/uspc 2>/dev/null
exit 0
