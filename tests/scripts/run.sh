#!/bin/bash
# run.sh — what `make run` calls after building: a throwaway PostgreSQL under
# .run/ (tests/scripts/pg.sh), the migrations, the sample clinic, then
# allianced in the foreground on 127.0.0.1:7420 with its UNIX socket in .run/.
# Ctrl-C (or SIGTERM) stops the daemon, then PostgreSQL: no process left behind.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
run="$repo/.run"
bin=${ALLIANCED:-$repo/build/allianced}
listen=${ALLIANCE_RUN_LISTEN:-127.0.0.1:7420}
pg="$repo/tests/scripts/pg.sh"
cfg="$run/allianced.yaml"
sock="$run/allianced.sock"
daemon_pid=""

say() { echo "run.sh: $*" >&2; }

[ -x "$bin" ] || { say "$bin not built: run make"; exit 1; }

# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
	local rc=$?
	trap - INT TERM EXIT
	if [ -n "$daemon_pid" ]; then
		# After Ctrl-C the daemon got SIGINT from the terminal as well: give it
		# a moment to drain on its own (a second signal means "stop now").
		local _
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$daemon_pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$daemon_pid" 2>/dev/null; then
			say "stopping allianced (pid $daemon_pid)"
			kill -TERM "$daemon_pid" 2>/dev/null || true
		fi
		wait "$daemon_pid" 2>/dev/null || true
	fi
	bash "$pg" stop || true
	exit "$rc"
}
trap cleanup EXIT
# Ctrl-C is how make run is meant to end: a clean stop exits 0, so make does
# not report "Error 130" for it.
trap 'exit 0' INT
trap 'exit 143' TERM

# ---- sample clinic -------------------------------------------------------
# Hook: loads config/sample-clinic.json into the database (schema-aware
# loader kept next to this script; skipped with a warning until it exists).
load_sample_clinic() {
	local conninfo=$1 loader="$repo/tests/scripts/load-sample.py"
	if [ ! -f "$loader" ]; then
		say "WARNING: $loader missing: the sample clinic is not loaded"
		return 0
	fi
	/usr/bin/python3 "$loader" "$conninfo" "$repo/config/sample-clinic.json"
}

bash "$pg" start
conninfo=$(bash "$pg" conninfo)

cat >"$cfg" <<CONF
# written by tests/scripts/run.sh for make run
listen:
  tcp: "$listen"
  unix: "$sock"
  unix_mode: "0660"
database:
  url: "$conninfo"
  pool_size: 4
log:
  level: info
CONF

"$bin" --migrate -c "$cfg"
load_sample_clinic "$conninfo"

# The daemon refuses to run as root: as root it runs as the user PostgreSQL
# runs as (setpriv execs it, so $daemon_pid is the daemon itself).
# In the background so that the traps run while we wait for it.
if [ "$(id -u)" -eq 0 ]; then
	setpriv --reuid=alliance-dev --regid=alliance-dev --init-groups -- "$bin" -c "$cfg" &
else
	"$bin" -c "$cfg" &
fi
daemon_pid=$!

# An admin token for the curl lines, made over the UNIX socket (where root and
# the daemon's own user are admin by their credentials); the old one revoked.
ctl="$repo/build/alliancectl"
token_file="$run/admin.token"
for _ in $(seq 1 100); do
	"$ctl" -s "$sock" status >/dev/null 2>&1 && break
	kill -0 "$daemon_pid" 2>/dev/null || { say "allianced did not start"; exit 1; }
	sleep 0.1
done
"$ctl" -s "$sock" token revoke make-run-admin >/dev/null 2>&1 || true
(umask 077 && "$ctl" -s "$sock" token create --name make-run-admin --scope admin \
	>"$token_file" 2>/dev/null) || { say "could not make an admin token"; exit 1; }
chmod 0600 "$token_file"

cat <<EOF2

  allianced is serving on $listen and $sock; an admin token is in
  $token_file (mode 0600). Try:

    curl -s localhost:${listen##*:}/readyz
    curl -s -H "Authorization: Bearer \$(cat $token_file)" 'localhost:${listen##*:}/v1/therapists?limit=1'
    curl -s --unix-socket $sock -H 'Content-Type: application/json' -d '{"languages":["es"],"concerns":[{"tag":"trauma","priority":3}],"formats":["video"]}' http://localhost/v1/match

  Ctrl-C stops the daemon and PostgreSQL.

EOF2

set +e
wait "$daemon_pid"
rc=$?
set -e
daemon_pid=""
say "allianced exited ($rc)"
exit "$rc"
