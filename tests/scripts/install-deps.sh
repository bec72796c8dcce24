#!/bin/sh
# Installs the Debian 12 packages Alliance needs to build, run and test.
# As root: apt-get update (once) and install whatever is missing. Otherwise:
# print the apt-get line and exit 1 when something is missing. Quiet when
# nothing is. POSIX sh: `make deps` runs it with sh.
set -eu

pkgs="build-essential pkg-config libevent-dev libpq-dev libjansson-dev libyaml-dev
libcmocka-dev postgresql python3-pytest python3-psycopg2 python3-requests python3-yaml
python3-jsonschema
wrk prometheus curl jq clang-format
libcurl4-openssl-dev libsmartcols-dev libcsv-dev mandoc"
# TLS (libevent_openssl, the test certificates), the slow-client tests, and
# libcrypto for token digests and random tokens (README "Security").
pkgs="$pkgs libssl-dev openssl slowhttptest"

# Node may come from elsewhere (nodesource, nvm): then leave it alone.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	pkgs="$pkgs nodejs npm"
fi

missing=""
for p in $pkgs; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	if [ "$status" != "installed" ]; then
		missing="$missing $p"
	fi
done

[ -z "$missing" ] && exit 0

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing Debian packages:$missing" >&2
	echo "install-deps: run as root:  apt-get update && DEBIAN_FRONTEND=noninteractive $cmd" >&2
	exit 1
fi

echo "install-deps: installing$missing" >&2
apt-get update -q
DEBIAN_FRONTEND=noninteractive $cmd
