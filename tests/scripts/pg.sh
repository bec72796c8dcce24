#!/bin/bash
# pg.sh start|stop|status|conninfo — the throwaway PostgreSQL cluster of
# `make run`: data in <repo>/.run/pg (initdb once, kept for the next run),
# its UNIX socket in <repo>/.run/, TCP on 127.0.0.1:${PGPORT_RUN:-7432},
# database and superuser "alliance" (trust authentication: local only).
#
# PostgreSQL refuses to run as root, so as root the server runs as the system
# user alliance-dev (created on first use) which owns .run/.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
run="$repo/.run"
data="$run/pg"
port=${PGPORT_RUN:-7432}
role=alliance
dbname=alliance
sysuser=alliance-dev

say() { echo "pg.sh: $*" >&2; }
die() { say "$*"; exit 1; }

bindir=${PG_BINDIR:-}
if [ -z "$bindir" ]; then
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/pg_ctl" ] && bindir=$d    # glob order: the last is the newest
	done
fi
[ -x "$bindir/pg_ctl" ] || die "PostgreSQL server binaries not found (install postgresql or set PG_BINDIR)"

if [ "$(id -u)" -eq 0 ]; then
	as_pg() { runuser -u "$sysuser" -- "$@"; }
else
	as_pg() { "$@"; }
fi

running() { as_pg "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; }

# The port of the running server (postmaster.pid line 4), else the configured one.
current_port() {
	if running && [ -r "$data/postmaster.pid" ]; then
		sed -n 4p "$data/postmaster.pid"
	else
		echo "$port"
	fi
}

conninfo() { echo "host=$run port=$(current_port) dbname=$dbname user=$role"; }

# As root: the system user, .run/ owned by it, and every parent folder
# searchable by it (a checkout under a 0700 home would otherwise be unreachable).
prepare_root() {
	if ! id -u "$sysuser" >/dev/null 2>&1; then
		say "creating system user $sysuser"
		useradd --system --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin "$sysuser"
	fi
	chown "$sysuser:" "$run"
	if [ -d "$data" ] && [ "$(stat -c %U "$data")" != "$sysuser" ]; then
		chown -R "$sysuser:" "$data"
	fi
	# From the top down: a folder is only reachable once its parents are.
	local d=$run dirs=()
	while [ "$d" != "/" ]; do
		dirs=("$d" "${dirs[@]}")
		d=$(dirname "$d")
	done
	for d in "${dirs[@]}"; do
		if ! runuser -u "$sysuser" -- test -x "$d"; then
			say "granting o+x on $d so that $sysuser can reach $run"
			chmod o+x "$d"
		fi
	done
}

start() {
	mkdir -p "$run"
	local sock="$run/.s.PGSQL.$port"
	[ ${#sock} -le 107 ] || die "socket path too long for a UNIX socket: $sock"
	[ "$(id -u)" -eq 0 ] && prepare_root
	if [ ! -f "$data/PG_VERSION" ]; then
		say "initdb $data"
		as_pg "$bindir/initdb" -D "$data" -A trust -U "$role" -E UTF8 --locale=C \
			--no-sync >"$run/initdb.log" 2>&1 || { cat "$run/initdb.log" >&2; die "initdb failed"; }
		cat >>"$data/postgresql.conf" <<-CONF

		# make run (tests/scripts/pg.sh): local only, socket in .run/
		listen_addresses = '127.0.0.1'
		unix_socket_directories = '$run'
		max_connections = 100
		CONF
	fi
	if running; then
		say "already running on port $(current_port)"
	else
		as_pg "$bindir/pg_ctl" -D "$data" -l "$run/pg.log" -o "-p $port" -w -t 60 start \
			>/dev/null || { tail -n 20 "$run/pg.log" >&2; die "PostgreSQL did not start"; }
		say "PostgreSQL running on port $port, socket in $run"
	fi
	local p
	p=$(current_port)
	if ! "$bindir/psql" -X -q -h "$run" -p "$p" -U "$role" -d postgres -tAc \
		"SELECT 1 FROM pg_database WHERE datname = '$dbname'" | grep -q 1; then
		"$bindir/createdb" -h "$run" -p "$p" -U "$role" "$dbname"
		say "created database $dbname"
	fi
}

stop() {
	if [ -f "$data/PG_VERSION" ] && running; then
		as_pg "$bindir/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
		say "PostgreSQL stopped"
	else
		say "not running"
	fi
}

status() {
	if [ -f "$data/PG_VERSION" ] && running; then
		echo "running: $(conninfo)"
	else
		echo "not running"
		return 3
	fi
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
conninfo) conninfo ;;
*) echo "usage: $0 start|stop|status|conninfo" >&2; exit 2 ;;
esac
