#!/bin/bash
# scale.sh — `make bench-scale SIZE=s|m|l`: one daemon against a network-sized
# database, generated in SQL with a fixed seed (setseed), measured end to end.
#
#   size  therapists  clients    feedback rows (about)   disk
#   s     1,000       10,000     200,000                 ~0.3 GB
#   m     10,000      100,000    2,000,000               ~1.5 GB
#   l     100,000     1,000,000  13,000,000              ~15 GB, ~18 minutes to generate
#
# The data: 20 languages, 30 sites, 20 payers, 2-7 concerns per therapist,
# 1-3 concerns per client intake, 1-2 episodes per client (most ended), 5-15
# sessions per episode, half rated with alliance5, half with SRS + ORS.
#
# Prints, in order: start -> ready, RSS when ready, match p50/p99 sequential
# (wrk -t1 -c1) and throughput (wrk -t2 -c16), feedback p50/p99 (wrk -t2 -c16
# on fresh episodes), the database time of an all-therapists records refresh
# (from the daemon's log), the largest loop lag during a refresh and during
# three forced full reloads (the LISTEN connection terminated: reconnect = full
# load), both as the daemon's allianced_event_loop_lag_seconds and as the
# slowest /healthz answer a 10 ms poller saw, and RSS just before the reloads
# and after each.  Last line:
#   scale SIZE: ready_s=… rss_mb=… match_p50_ms=… match_rps=… max_lag_ms=…
#
# Knobs: SIZE (s), BENCH_DURATION (s per wrk run, default 10), PG_BINDIR,
# PG_RUN_USER (as root), ALLIANCED (default build/allianced), BENCH_KEEP=1
# (keep the folder), BENCH_RELOADS (forced full reloads in a row, default 3),
# BENCH_DATA=DIR (generate the database once into DIR and
# reuse it: a later run with the same DIR and SIZE copies DIR's cluster into
# its own folder, so every run starts from the same generated data, and
# `allianced --migrate` brings the copy to the binary's schema; delete DIR to
# generate again).  The data is tests/bench/scale_data.sql; the intake
# matched is tests/bench/scale_intake.json.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$repo/tests/bench"
size=${SIZE:-s}
duration=${BENCH_DURATION:-10}
allianced=${ALLIANCED:-$repo/build/allianced}

case "$size" in
s) n_t=1000 n_c=10000 ;;
m) n_t=10000 n_c=100000 ;;
l) n_t=100000 n_c=1000000 ;;
*) echo "bench-scale: SIZE must be s, m or l" >&2; exit 2 ;;
esac

say() { echo "bench-scale[$size]: $*" >&2; }
die() { say "$*"; exit 2; }
now() { date +%s.%N; }

for tool in wrk curl; do
	command -v "$tool" >/dev/null || die "$tool not found (make deps)"
done
[ -x "$allianced" ] || die "$allianced not built (make)"
bindir=${PG_BINDIR:-}
if [ -z "$bindir" ]; then
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/pg_ctl" ] && bindir=$d
	done
fi
[ -x "$bindir/pg_ctl" ] || die "PostgreSQL server binaries not found: set PG_BINDIR"

tmp=$(mktemp -d /tmp/alliance-scale.XXXXXX)
chmod 0755 "$tmp"
pgdir="$tmp/pg"
daemon_pid="" pg_started="" poll_pid=""

if [ "$(id -u)" -eq 0 ]; then
	run_as=${PG_RUN_USER:-postgres}
	as_pg() { runuser -u "$run_as" -- "$@"; }
else
	as_pg() { "$@"; }
fi

# shellcheck disable=SC2317
stop_pid() {
	local pid=$1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_pid "$poll_pid"
	stop_pid "$daemon_pid"
	if [ -n "$pg_started" ]; then
		(cd / && as_pg "$bindir/pg_ctl" -D "$pgdir/data" -m immediate -w -t 30 stop) \
			>/dev/null 2>&1 || true
	fi
	if [ "${BENCH_KEEP:-0}" = 1 ]; then say "kept $tmp"; else rm -rf "$tmp"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'say interrupted; exit 130' INT TERM

free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --------------------------------------------------------------------------
# PostgreSQL: a throwaway cluster, durable defaults, room for the big sort

pg_port=$(free_port)
# BENCH_DATA: a cluster generated once (DIR/pg, DIR/generated holds what the
# generation printed) is copied here; none yet: generate into DIR/pg.
data_dir=${BENCH_DATA:-}
reuse=""
if [ -n "$data_dir" ]; then
	mkdir -p "$data_dir"
	if [ -f "$data_dir/generated" ]; then
		grep -q "^size=$size\$" "$data_dir/generated" ||
			die "$data_dir holds another SIZE ($(sed -n 's/^size=//p' "$data_dir/generated"))"
		reuse=1
	else
		rm -rf "$data_dir/pg"
		pgdir="$data_dir/pg"
	fi
fi
if [ -n "$reuse" ]; then
	say "copying the generated cluster from $data_dir/pg"
	cp -a "$data_dir/pg" "$pgdir"
	as_pg sed -i "s/^port = .*/port = $pg_port/; s|^unix_socket_directories = .*|unix_socket_directories = '$pgdir'|" \
		"$pgdir/data/postgresql.conf"
	pg_started=1
	(cd / && as_pg "$bindir/pg_ctl" -D "$pgdir/data" -l "$pgdir/postgres.log" -w -t 120 start) \
		>/dev/null || { tail -n 20 "$pgdir/postgres.log" >&2; die "PostgreSQL did not start"; }
fi
mkdir -p "$pgdir"
[ "$(id -u)" -eq 0 ] && chown "$run_as:" "$pgdir"
chmod 0700 "$pgdir"
if [ -z "$reuse" ]; then
say "initdb (port $pg_port) in $pgdir; load: $(uptime | sed 's/.*load average/load average/')"
(cd / && as_pg "$bindir/initdb" -D "$pgdir/data" -A trust -U alliance -E UTF8 --locale=C \
	--no-sync) >"$tmp/initdb.log" 2>&1 || { cat "$tmp/initdb.log" >&2; die "initdb failed"; }
as_pg tee -a "$pgdir/data/postgresql.conf" >/dev/null <<CONF
port = $pg_port
listen_addresses = ''
unix_socket_directories = '$pgdir'
max_connections = 100
shared_buffers = 512MB
work_mem = 32MB
maintenance_work_mem = 512MB
max_wal_size = 8GB
log_min_messages = warning
CONF
pg_started=1
(cd / && as_pg "$bindir/pg_ctl" -D "$pgdir/data" -l "$pgdir/postgres.log" -w -t 120 start) \
	>/dev/null || { tail -n 20 "$pgdir/postgres.log" >&2; die "PostgreSQL did not start"; }
fi
psql_() { "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$pgdir" -p "$pg_port" -U alliance "$@"; }
[ -n "$reuse" ] || psql_ -d postgres -c "CREATE DATABASE alliance"
conninfo="host=$pgdir port=$pg_port dbname=alliance user=alliance"

api_port=$(free_port)
cfg="$tmp/allianced.yaml"
cat >"$cfg" <<YAML
listen:
  tcp: "127.0.0.1:$api_port"
  unix: ""
database:
  url: "$conninfo"
  pool_size: 4
limits:
  max_connections: 1024
log:
  level: info
engine:
  records_refresh: 10
# make bench-scale may run as root; the per-token limiter is not what is measured.
security:
  allow_root: true
  token_rate: 0
YAML
t0=$(now)
"$allianced" --migrate -c "$cfg" >"$tmp/migrate.log" 2>&1 ||
	{ cat "$tmp/migrate.log" >&2; die "allianced --migrate failed"; }
migrate_s=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
say "allianced --migrate: ${migrate_s}s"
if [ -n "$reuse" ]; then
	# What a generation at the binary's schema leaves (scale_data.sql ends so):
	# the rows a migration wrote vacuumed and analysed, as autovacuum soon would,
	# and written out (else the checkpoint of gigabytes lands in the measures).
	psql_ -d alliance -c "VACUUM ANALYZE" -c "CHECKPOINT"
fi

# --------------------------------------------------------------------------
# data, in SQL, fixed seed

if [ -n "$reuse" ]; then
	gen_s=$(sed -n 's/^gen_s=//p' "$data_dir/generated")
	say "reusing the data generated in ${gen_s}s ($data_dir)"
else
	t0=$(now)
	say "generating $n_t therapists, $n_c clients and their history"
	psql_ -d alliance -v n_t="$n_t" -v n_c="$n_c" -f "$here/scale_data.sql" >/dev/null
	gen_s=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }')
fi
if [ -n "$data_dir" ] && [ -z "$reuse" ]; then
	# Keep the clean cluster in DIR and go on with a copy, as a reuse would.
	(cd / && as_pg "$bindir/pg_ctl" -D "$pgdir/data" -m fast -w -t 300 stop) >/dev/null
	pg_started=""
	printf 'size=%s\ngen_s=%s\n' "$size" "$gen_s" >"$data_dir/generated"
	say "kept the generated cluster in $data_dir/pg; copying it"
	pgdir="$tmp/pg"
	cp -a "$data_dir/pg" "$pgdir"
	as_pg sed -i "s|^unix_socket_directories = .*|unix_socket_directories = '$pgdir'|" \
		"$pgdir/data/postgresql.conf"
	pg_started=1
	(cd / && as_pg "$bindir/pg_ctl" -D "$pgdir/data" -l "$pgdir/postgres.log" -w -t 120 start) \
		>/dev/null || { tail -n 20 "$pgdir/postgres.log" >&2; die "PostgreSQL did not start"; }
	conninfo="host=$pgdir port=$pg_port dbname=alliance user=alliance"
	sed -i "s|^  url: .*|  url: \"$conninfo\"|" "$cfg"
fi
read -r n_ep n_fb < <(psql_ -d alliance -tAF ' ' -c \
	"SELECT (SELECT count(*) FROM episodes), (SELECT count(*) FROM feedback)")
read -r fb_first fb_count < <(psql_ -d alliance -tAF ' ' -c \
	"SELECT min(e.id), count(*) FROM episodes e JOIN clients c ON c.id = e.client_id
	 WHERE c.external_ref LIKE 'B-%'")
db_mb=$(psql_ -d alliance -tA -c "SELECT pg_database_size('alliance') / 1048576")
say "generated in ${gen_s}s: $n_ep episodes, $n_fb feedback rows, ${db_mb} MB"

# An admin token for wrk and curl (only its SHA-256 is stored, as the daemon does).
BENCH_TOKEN="alc_$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
export BENCH_TOKEN
psql_ -d alliance -c "INSERT INTO api_tokens (name, token_hash, scope)
	VALUES ('bench-scale', sha256(convert_to('$BENCH_TOKEN', 'UTF8')), 'admin')" >/dev/null

# --------------------------------------------------------------------------
# start -> ready

log="$tmp/allianced.log"
api="http://127.0.0.1:$api_port"
t0=$(now)
"$allianced" -c "$cfg" >"$log" 2>&1 &
daemon_pid=$!
ready=""
for _ in $(seq 6000); do
	if curl -fs -o /dev/null "$api/readyz" 2>/dev/null; then ready=1; break; fi
	kill -0 "$daemon_pid" 2>/dev/null || { tail -n 20 "$log" >&2; die "allianced exited"; }
	sleep 0.05
done
[ -n "$ready" ] || die "not ready after 300 s"
ready_s=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$daemon_pid/status"; }
rss_ready=$(( $(rss_kb) / 1024 ))
say "ready in ${ready_s}s, RSS ${rss_ready} MB"

metric() { curl -fs "$api/metrics" | awk -v k="$1" '$1 == k {print $2}'; }
lag_ms() { awk -v v="$(metric allianced_event_loop_lag_max_seconds)" 'BEGIN { printf "%.1f", v * 1000 }'; }
# The daemon's lag histogram (one sample per 10 ms tick) before and after a
# phase says whether that phase stalled the loop (the max above is since the
# start, wrk phases included).  lag_snap FILE: the buckets now; lag_worst A
# B: the bound of the highest bucket any sample between the two snapshots
# fell in ("<= 10" ms); lag_over20 A B: how many of them were above 20 ms.
lag_snap() { curl -fs "$api/metrics" | grep '^allianced_event_loop_lag_seconds_bucket' >"$1"; }
lag_worst() {
	awk 'FNR == NR { a[$1] = $2; next }
		{ le = $1; sub(/.*le="/, "", le); sub(/".*/, "", le); d = $2 - a[$1]
		  if (le == "+Inf") { total = d; next } n[++k] = le; c[k] = d }
		END { for (i = 1; i <= k; i++) if (c[i] == total) { printf "<= %g", n[i] * 1000; exit }
		      printf "> %g", n[k] * 1000 }' "$1" "$2"
}
lag_over20() {
	awk 'FNR == NR { a[$1] = $2; next }
		/le="\+Inf"/ { all = $2 - a[$1] } /le="0.02"/ { in20 = $2 - a[$1] }
		END { printf "%d", all - in20 }' "$1" "$2"
}

# A /healthz poller (every 10 ms): the slowest answer is how long the loop
# made every request wait.  Writes its max (ms) to FILE when it gets SIGTERM.
poll_start() { # FILE
	/usr/bin/python3 - "$api_port" "$1" <<'PY' &
import http.client, signal, sys, time
port, out = int(sys.argv[1]), sys.argv[2]
worst = 0.0
def stop(*_):
    open(out, "w").write("%.1f\n" % (worst * 1000)); sys.exit(0)
signal.signal(signal.SIGTERM, stop)
c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
while True:
    t = time.monotonic()
    try:
        c.request("GET", "/healthz"); c.getresponse().read()
    except Exception:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        continue
    worst = max(worst, time.monotonic() - t)
    time.sleep(0.01)
PY
	poll_pid=$!
}
poll_stop() { stop_pid "$poll_pid"; poll_pid=""; }

lag_start=$(lag_ms)
say "loop lag so far (start, first full load): ${lag_start} ms"

# --------------------------------------------------------------------------
# matching: sequential and wrk -t2 -c16

export BENCH_LUA_DIR="$here" BENCH_PATH="/v1/match?limit=5"
field() { sed -n "s/.*[ ]$2=\([^ ]*\).*/\1/p" <<<"$1" | head -n 1; }
wrk_line() { # OUT THREADS CONNS SCRIPT
	wrk -t "$2" -c "$3" -d "${duration}s" --timeout 5s -s "$here/$4" "$api" >"$tmp/$1.out" 2>&1 || true
	grep '^BENCH ' "$tmp/$1.out" | tail -n 1
}
code=$(curl -s -o "$tmp/match.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
	-H "Authorization: Bearer $BENCH_TOKEN" \
	--data-binary @"$here/scale_intake.json" "$api/v1/match?limit=5")
considered=$(sed -n 's/.*"considered": *\([0-9]*\).*/\1/p' "$tmp/match.json" | head -n 1)
say "match: HTTP $code, considered ${considered:-?}"
wrk -t 1 -c 1 -d 2s -s "$here/scale_intake.lua" "$api" >/dev/null 2>&1 || true
seq_line=$(wrk_line match_seq 1 1 scale_intake.lua)
par_line=$(wrk_line match_par 2 16 scale_intake.lua)
match_p50=$(field "$seq_line" p50_ms) match_p99=$(field "$seq_line" p99_ms)
match_rps=$(field "$par_line" rps)
say "match sequential p50 ${match_p50} ms p99 ${match_p99} ms; wrk -t2 -c16 ${match_rps}/s" \
	"(non2xx $(field "$par_line" non2xx))"

# --------------------------------------------------------------------------
# feedback on fresh episodes

export BENCH_EPISODE_FIRST="$fb_first" BENCH_EPISODES="$fb_count" BENCH_THREADS=2 \
	BENCH_RUN_ID="${tmp##*.}"
fb_line=$(wrk_line feedback 2 16 feedback.lua)
fb_p50=$(field "$fb_line" p50_ms) fb_p99=$(field "$fb_line" p99_ms)
say "feedback p50 ${fb_p50} ms p99 ${fb_p99} ms ($(field "$fb_line" rps)/s," \
	"non2xx $(field "$fb_line" non2xx))"

# --------------------------------------------------------------------------
# a periodic all-therapists refresh (records_refresh 10 s) under a poller

lag_snap "$tmp/lag_refresh0"
poll_start "$tmp/poll_refresh"
mark=$(wc -l <"$log")
for _ in $(seq 600); do
	tail -n +"$((mark + 1))" "$log" | grep -q 'refreshed (periodic)' && break
	sleep 0.1
done
sleep 0.5
poll_stop
refresh_ms=$(tail -n +"$((mark + 1))" "$log" | sed -n 's/.*refreshed (periodic) in \([0-9]*\) ms.*/\1/p' | tail -n 1)
lag_refresh=$(lag_ms)
lag_snap "$tmp/lag_refresh1"
over_refresh=$(lag_over20 "$tmp/lag_refresh0" "$tmp/lag_refresh1")
worst_refresh=$(lag_worst "$tmp/lag_refresh0" "$tmp/lag_refresh1")
poll_refresh=$(cat "$tmp/poll_refresh" 2>/dev/null || echo nan)
say "all-therapists refresh: ${refresh_ms:-?} ms of database time (every records_refresh:" \
	"x6 per minute here, x1 at the default 60 s); loop lag max ${lag_refresh} ms," \
	"slowest /healthz ${poll_refresh} ms"

# --------------------------------------------------------------------------
# forced full reloads: the LISTEN connection terminated -> reconnect -> full
# load, three in a row.  RSS is read just before the first (the benchmarks
# above grew the connections' buffers) and after each: a reload must not add.

reloads=${BENCH_RELOADS:-3}
rss_before=$(( $(rss_kb) / 1024 ))
lag_snap "$tmp/lag_full0"
poll_start "$tmp/poll_full"
full_s="" rss_reloads=""
for r in $(seq "$reloads"); do
	loads0=$(metric alliance_catalog_full_loads_total)
	t0=$(now)
	psql_ -d alliance -tA -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = 'alliance' AND query LIKE 'LISTEN%'" >/dev/null
	for _ in $(seq 6000); do
		[ "$(metric alliance_catalog_full_loads_total)" != "$loads0" ] && break
		sleep 0.05
	done
	full_s="$full_s${full_s:+ / }$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')"
	sleep 0.5
	rss_reloads="$rss_reloads${rss_reloads:+ / }$(( $(rss_kb) / 1024 ))"
done
poll_stop
lag_full=$(lag_ms)
lag_snap "$tmp/lag_full1"
over_full=$(lag_over20 "$tmp/lag_full0" "$tmp/lag_full1")
worst_full=$(lag_worst "$tmp/lag_full0" "$tmp/lag_full1")
poll_full=$(cat "$tmp/poll_full" 2>/dev/null || echo nan)
rss_after=$(( $(rss_kb) / 1024 ))
say "forced full reloads: ${full_s} s; loop lag max ${lag_full} ms, slowest /healthz" \
	"${poll_full} ms; RSS ${rss_before} MB before, ${rss_reloads} MB after each"

kill -0 "$daemon_pid" 2>/dev/null || die "allianced died"

# The loop lag of the refresh and the reloads, in ms: the longest loop turn
# the daemon logged for a full load (a turn's work is the stall a request
# can meet; the lag timer's buckets above only bound it), or the worst bucket
# of the lag timer during the refresh (which logs no turn), whichever is
# larger.  The /healthz poller, a Python client on the same two cores, is
# printed beside it.
turns=$(sed -n 's/.*one loop turn at most \([0-9.]*\) ms.*/\1/p' "$log")
max_lag=$(printf '%s\n' "$turns" |
	awk -v a="$worst_refresh" '
	{ if ($1 + 0 > m) m = $1 + 0 }
	END { sub(/^[<>]=? */, "", a); if (a + 0 > m) m = a + 0; printf "%.1f", m }')
cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)
echo
echo "bench-scale SIZE=$size: $n_t therapists, $n_c clients, $n_ep episodes, $n_fb feedback rows" \
	"(${db_mb} MB, generated in ${gen_s}s); $(nproc) CPUs ($cpu); $(uptime | sed 's/.*load average/load average/')"
[ -z "$reuse" ] || printf '%-46s %s\n' "migrate the reused data (allianced --migrate)" "${migrate_s} s"
printf '%-46s %s\n' "start -> ready" "${ready_s} s"
printf '%-46s %s\n' "RSS when ready" "${rss_ready} MB"
printf '%-46s %s\n' "RSS before ${reloads} forced full reloads / after each" "${rss_before} / ${rss_reloads} MB"
printf '%-46s %s\n' "match sequential p50 / p99" "${match_p50} / ${match_p99} ms"
printf '%-46s %s\n' "match wrk -t2 -c16" "${match_rps} /s"
printf '%-46s %s\n' "feedback wrk -t2 -c16 p50 / p99" "${fb_p50} / ${fb_p99} ms"
printf '%-46s %s\n' "all-therapists records refresh (database)" "${refresh_ms:-nan} ms"
printf '%-46s %s\n' "forced full reloads (reconnect to loaded)" "${full_s} s"
printf '%-46s %s\n' "loop lag max: start / refresh / full reloads" "${lag_start} / ${lag_refresh} / ${lag_full} ms (daemon's timer)"
printf '%-46s %s\n' "slowest /healthz: refresh / full reloads" "${poll_refresh} / ${poll_full} ms"
printf '%-46s %s\n' "lag samples > 20 ms: refresh / full reloads" "${over_refresh} / ${over_full} (daemon's timer)"
printf '%-46s %s\n' "worst lag sample: refresh / full reloads" "${worst_refresh} / ${worst_full} ms (daemon's timer)"
printf '%-46s %s\n' "slowest loop turn of each full load" "$(printf '%s\n' "$turns" | paste -sd/ | sed 's|/| / |g') ms (its log)"
echo "scale $size: ready_s=$ready_s rss_mb=$rss_ready match_p50_ms=$match_p50 match_rps=$match_rps max_lag_ms=$max_lag"
