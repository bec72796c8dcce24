#!/bin/bash
# run.sh — `make bench`: allianced's HTTP throughput against two ceilings, in one run.
#
#   1. a throwaway PostgreSQL (initdb into a temporary folder, its own port and
#      socket; fsync and synchronous_commit left ON: the durable-write ceiling
#      must be durable, and the daemon gets the very same server);
#   2. allianced --migrate, 1,000 synthetic therapists and 4,000 active
#      episodes loaded with psql, allianced started on a free loopback port;
#   3. wrk on loopback, same threads/connections/duration for every row:
#        echo      tests/bench/echo_server.c (evhttp + Jansson, parse and echo
#                  the body: the ceiling for any JSON request), intake.lua
#        match     POST /v1/match?limit=5, the same intake body, intake.lua
#        feedback  POST /v1/episodes/{id}/feedback, a new (episode, session)
#                  and Idempotency-Key per request, feedback.lua
#      and pgbench: one single-row INSERT per transaction into a scratch
#      table of the same server, as many clients as wrk has connections
#      (the ceiling for a durable write);
#   4. a table (req/s or TPS, p50, p99) and, last, exactly two lines:
#        match_ratio_to_echo=R       (targets: >= 0.6)
#        feedback_ratio_to_insert=R  (>= 0.4)
#      A row whose requests failed (non-2xx, socket errors, nothing measured)
#      is marked FAILED and its ratio printed as nan; the exit status is then 1.
#
# Everything (servers, folders) is removed at the end, also on Ctrl-C.
# Knobs (environment): BENCH_DURATION (s, default 10), BENCH_THREADS (2),
# BENCH_CONNECTIONS (32), BENCH_WARMUP (s, default 2, echo and match only),
# BENCH_POOL (allianced database.pool_size, default 16), BENCH_LOG_LEVEL
# (allianced log.level, default info: one line per request, as deployed), PG_BINDIR,
# PG_RUN_USER (as root, the user PostgreSQL runs as; default postgres),
# ALLIANCED (binary, default build/allianced), BENCH_KEEP=1 (keep the folder).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$repo/tests/bench"
duration=${BENCH_DURATION:-10}
threads=${BENCH_THREADS:-2}
conns=${BENCH_CONNECTIONS:-32}
warmup=${BENCH_WARMUP:-2}
pool=${BENCH_POOL:-16}
log_level=${BENCH_LOG_LEVEL:-info}
allianced=${ALLIANCED:-$repo/build/allianced}
n_therapists=1000
n_episodes=4000

say() { echo "bench: $*" >&2; }
die() { say "$*"; exit 2; }

for tool in wrk pkg-config cc curl; do
	command -v "$tool" >/dev/null || die "$tool not found (make deps)"
done
[ -x "$allianced" ] || die "$allianced not built (make)"
bindir=${PG_BINDIR:-}
if [ -z "$bindir" ]; then
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/pg_ctl" ] && bindir=$d    # glob order: the last is the newest
	done
fi
if [ ! -x "$bindir/pg_ctl" ] || [ ! -x "$bindir/pgbench" ]; then
	die "PostgreSQL server binaries (pg_ctl, pgbench) not found: set PG_BINDIR"
fi

# --------------------------------------------------------------------------
# clean-up: every process this script started, and the folder

tmp=$(mktemp -d /tmp/alliance-bench.XXXXXX)
chmod 0755 "$tmp"
pgdir="$tmp/pg"
daemon_pid="" echo_pid="" pg_started=""

if [ "$(id -u)" -eq 0 ]; then
	run_as=${PG_RUN_USER:-postgres}
	id -u "$run_as" >/dev/null 2>&1 || die "user $run_as not found (PostgreSQL refuses to run as root; set PG_RUN_USER)"
	as_pg() { runuser -u "$run_as" -- "$@"; }
else
	as_pg() { "$@"; }
fi

# shellcheck disable=SC2317  # called from the trap
stop_pid() { # pid: SIGTERM, then SIGKILL after 5 s
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

# shellcheck disable=SC2317  # the EXIT trap
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_pid "$daemon_pid"
	stop_pid "$echo_pid"
	if [ -n "$pg_started" ]; then
		(cd / && as_pg "$bindir/pg_ctl" -D "$pgdir/data" -m immediate -w -t 30 stop) \
			>/dev/null 2>&1 || true
	fi
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		say "kept $tmp"
	else
		rm -rf "$tmp"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'say interrupted; exit 130' INT TERM

free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --------------------------------------------------------------------------
# PostgreSQL

pg_port=$(free_port)
mkdir -p "$pgdir"
[ "$(id -u)" -eq 0 ] && chown "$run_as:" "$pgdir"
chmod 0700 "$pgdir"
say "initdb (PostgreSQL in $pgdir, port $pg_port)"
(cd / && as_pg "$bindir/initdb" -D "$pgdir/data" -A trust -U alliance -E UTF8 --locale=C \
	--no-sync) >"$tmp/initdb.log" 2>&1 || { cat "$tmp/initdb.log" >&2; die "initdb failed"; }
# Durability stays at the defaults (fsync, synchronous_commit, full_page_writes on).
as_pg tee -a "$pgdir/data/postgresql.conf" >/dev/null <<CONF

# make bench (tests/bench/run.sh): local only, durable defaults
port = $pg_port
listen_addresses = ''
unix_socket_directories = '$pgdir'
max_connections = 200
log_min_messages = warning
CONF
pg_started=1
(cd / && as_pg "$bindir/pg_ctl" -D "$pgdir/data" -l "$pgdir/postgres.log" -w -t 60 start) \
	>/dev/null || { tail -n 20 "$pgdir/postgres.log" >&2; die "PostgreSQL did not start"; }

psql_() { "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$pgdir" -p "$pg_port" -U alliance "$@"; }
psql_ -d postgres -c "CREATE DATABASE alliance" -c "CREATE DATABASE scratch"
conninfo="host=$pgdir port=$pg_port dbname=alliance user=alliance"

# --------------------------------------------------------------------------
# allianced: migrate, load, start

api_port=$(free_port)
cfg="$tmp/allianced.yaml"
cat >"$cfg" <<YAML
listen:
  tcp: "127.0.0.1:$api_port"
  unix: ""
database:
  url: "$conninfo"
  pool_size: $pool
limits:
  max_connections: 1024
  max_connections_per_peer: 1024
log:
  level: $log_level
# make bench runs as root; the limiter is not what is measured.
security:
  allow_root: true
  token_rate: 0
YAML
"$allianced" --migrate -c "$cfg" >"$tmp/migrate.log" 2>&1 ||
	{ cat "$tmp/migrate.log" >&2; die "allianced --migrate failed"; }

say "loading $n_therapists therapists and $n_episodes episodes"
psql_ -d alliance >/dev/null <<SQL
SELECT setseed(0.42);

-- k distinct random elements of a (VOLATILE: drawn again for every row)
CREATE FUNCTION pg_temp.pick(a text[], k integer) RETURNS text[]
LANGUAGE sql VOLATILE AS \$\$
	SELECT coalesce(array_agg(x), '{}') FROM (SELECT x FROM unnest(a) x ORDER BY random() LIMIT k) s
\$\$;

-- weekday blocks of 4..9 hours between 08:00 and 22:00, a few weekends
CREATE FUNCTION pg_temp.avail() RETURNS bit(168)
LANGUAGE plpgsql VOLATILE AS \$\$
DECLARE
	s text := '';
	f integer;
	t integer;
BEGIN
	FOR d IN 0..6 LOOP
		IF (d < 5 AND random() < 0.75) OR (d >= 5 AND random() < 0.15) THEN
			f := 8 + floor(random() * 5)::integer;
			t := least(22, f + 4 + floor(random() * 6)::integer);
			s := s || repeat('0', f) || repeat('1', t - f) || repeat('0', 24 - t);
		ELSE
			s := s || repeat('0', 24);
		END IF;
	END LOOP;
	RETURN s::bit(168);
END
\$\$;

CREATE FUNCTION pg_temp.style() RETURNS smallint
LANGUAGE sql VOLATILE AS \$\$ SELECT (floor(random() * 7) - 3)::smallint \$\$;

INSERT INTO therapists (external_ref, display_name, gender, languages, modalities, formats,
	sites, populations, identity, payers, self_pay_fee, sliding_scale,
	style_directiveness, style_emotional_intensity, style_past_orientation, style_challenge,
	availability, capacity, accepting_new, active)
SELECT 'T-bench-' || g, 'Therapist ' || g,
	CASE WHEN r < 0.55 THEN 'female' WHEN r < 0.95 THEN 'male' ELSE 'nonbinary' END,
	CASE WHEN random() < 0.3 THEN ARRAY['en'] || pg_temp.pick('{es,fr,de,pt,zh}', 1)
	     ELSE ARRAY['en'] END,
	pg_temp.pick('{cbt,dbt,act,emdr,psychodynamic,person_centered,ifs,schema,mindfulness,
		solution_focused,narrative,gottman,eft,somatic,exposure,motivational_interviewing}',
		2 + floor(random() * 3)::integer),
	pg_temp.pick('{in_person,video,phone}', 1 + floor(random() * 3)::integer),
	pg_temp.pick('{downtown,northside,riverside}', 1),
	ARRAY['adult'] || pg_temp.pick('{teen,older_adult,couple}', floor(random() * 2)::integer),
	pg_temp.pick('{lgbtq_affirming,bipoc,faith_based,neurodivergent_affirming,veteran_informed}',
		floor(random() * 3)::integer),
	pg_temp.pick('{aetna,cigna,bcbs,united,medicaid}', 1 + floor(random() * 3)::integer),
	80 + floor(random() * 150), random() < 0.3,
	pg_temp.style(), pg_temp.style(), pg_temp.style(), pg_temp.style(),
	pg_temp.avail(), 15 + floor(random() * 21)::integer, random() < 0.9, random() < 0.97
FROM (SELECT g, random() AS r FROM generate_series(1, $n_therapists) g) s;

INSERT INTO therapist_concerns (therapist_id, concern, level)
SELECT t.id, c, CASE WHEN random() < 0.35 THEN 2 ELSE 1 END
FROM therapists t,
	LATERAL unnest(pg_temp.pick('{anxiety,depression,trauma,grief,relationships,couples,family,
		substance_use,eating,ocd,bipolar,adhd,self_esteem,stress,life_transitions,identity,
		parenting,anger,sleep,chronic_illness}', 3 + floor(random() * 4)::integer + 0 * t.id::integer)) c;

INSERT INTO clients (external_ref)
SELECT 'C-bench-' || g FROM generate_series(1, $n_episodes) g;

-- one active episode per client, spread evenly (4 per therapist, under every capacity)
INSERT INTO episodes (client_id, therapist_id)
SELECT c.id, t.id
FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS i FROM clients) c
JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS i FROM therapists) t
	ON t.i = c.i % $n_therapists;
ANALYZE;
SQL
read -r ep_first ep_count < <(psql_ -d alliance -tAF ' ' -c "SELECT min(id), count(*) FROM episodes")
# An admin token for wrk and curl (only its SHA-256 is stored, as the daemon does).
BENCH_TOKEN="alc_$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
export BENCH_TOKEN
psql_ -d alliance -c "INSERT INTO api_tokens (name, token_hash, scope)
	VALUES ('bench', sha256(convert_to('$BENCH_TOKEN', 'UTF8')), 'admin')" >/dev/null

"$allianced" -c "$cfg" >"$tmp/allianced.log" 2>&1 &
daemon_pid=$!
api="http://127.0.0.1:$api_port"
for _ in $(seq 100); do
	curl -fs -o /dev/null "$api/readyz" && break
	kill -0 "$daemon_pid" 2>/dev/null || { tail -n 20 "$tmp/allianced.log" >&2; die "allianced exited"; }
	sleep 0.1
done
curl -fs -o /dev/null "$api/readyz" || { tail -n 20 "$tmp/allianced.log" >&2; die "allianced not ready"; }

# --------------------------------------------------------------------------
# echo server (the JSON ceiling)

echo_bin="$tmp/echo_server"
# shellcheck disable=SC2046
cc -std=c11 -O2 -D_GNU_SOURCE -Wall -Wextra -Werror $(pkg-config --cflags libevent jansson) \
	-o "$echo_bin" "$here/echo_server.c" $(pkg-config --libs libevent jansson) ||
	die "cannot build echo_server"
echo_port=$(free_port)
"$echo_bin" "$echo_port" 2>"$tmp/echo.log" &
echo_pid=$!
for _ in $(seq 50); do
	curl -s -o /dev/null -X POST -d '{}' "http://127.0.0.1:$echo_port/" && break
	sleep 0.1
done

# --------------------------------------------------------------------------
# measurements

export BENCH_LUA_DIR="$here" BENCH_THREADS="$threads" BENCH_EPISODE_FIRST="$ep_first" \
	BENCH_EPISODES="$ep_count" BENCH_RUN_ID="${tmp##*.}"

# wrk_run NAME SCRIPT URL [SECONDS]: the BENCH line of report.lua, in $tmp/NAME.out
wrk_run() {
	wrk -t "$threads" -c "$conns" -d "${4:-$duration}s" --timeout 5s -s "$here/$2" "$3" \
		>"$tmp/$1.out" 2>&1 || true
}

# "key=value ..." of a BENCH line -> the value of key, or empty
field() { sed -n "s/.*[ ]$2=\([^ ]*\).*/\1/p" <<<"$1" | head -n 1; }

declare -A rate p50 p99 note
record() { # NAME: parse $tmp/NAME.out into rate/p50/p99/note
	local line
	line=$(grep '^BENCH ' "$tmp/$1.out" | tail -n 1 || true)
	if [ -z "$line" ]; then
		rate[$1]=nan p50[$1]=nan p99[$1]=nan note[$1]="FAILED: no result ($(tail -n 1 "$tmp/$1.out"))"
		return
	fi
	local req non2xx sockerr
	req=$(field "$line" requests) non2xx=$(field "$line" non2xx) sockerr=$(field "$line" socket_errors)
	rate[$1]=$(field "$line" rps) p50[$1]=$(field "$line" p50_ms) p99[$1]=$(field "$line" p99_ms)
	note[$1]=""
	if [ "$req" -eq 0 ] || [ "$non2xx" -gt 0 ] || [ "$sockerr" -gt 0 ]; then
		note[$1]="FAILED: $non2xx non-2xx, $sockerr socket errors of $req"
	fi
}

body_check() { # NAME URL: one request with the body of intake.lua, for the log
	local body
	body=$(sed -n '/^wrk.body = \[\[/,/\]\]$/p' "$here/intake.lua" | sed 's/^wrk.body = \[\[//; s/\]\]$//')
	curl -s -o "$tmp/$1.check" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
		-H "Authorization: Bearer $BENCH_TOKEN" \
		--data-binary "$body" "$2" || true
}

say "echo: $(body_check echo "http://127.0.0.1:$echo_port/v1/match?limit=5")"
export BENCH_PATH="/v1/match?limit=5"
[ "$warmup" -gt 0 ] && wrk_run echo_warmup intake.lua "http://127.0.0.1:$echo_port" "$warmup"
say "wrk echo (${duration}s, $threads threads, $conns connections)"
wrk_run echo intake.lua "http://127.0.0.1:$echo_port"
record echo

code=$(body_check match "$api/v1/match?limit=5")
considered=$(sed -n 's/.*"considered": *\([0-9]*\).*/\1/p' "$tmp/match.check" 2>/dev/null |
	head -n 1 || true)
say "match: HTTP $code, considered ${considered:-?} therapists"
[ "$warmup" -gt 0 ] && wrk_run match_warmup intake.lua "$api" "$warmup"
say "wrk POST /v1/match"
wrk_run match intake.lua "$api"
record match
[ "$code" = 200 ] || note[match]="FAILED: HTTP $code${note[match]:+; ${note[match]}}"

say "wrk POST /v1/episodes/{id}/feedback ($ep_count episodes from id $ep_first)"
wrk_run feedback feedback.lua "$api"
record feedback

say "pgbench single-row INSERT ($conns clients)"
psql_ -d scratch -c "CREATE TABLE bench_insert (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	session integer NOT NULL,
	payload jsonb NOT NULL,
	at timestamptz NOT NULL DEFAULT now())"
cat >"$tmp/insert.sql" <<'SQL'
\set s random(1, 10000)
INSERT INTO bench_insert (session, payload) VALUES (:s, '{"heard": 8, "open": 7, "adapts": 8, "trust": 9, "looking_forward": 6}');
SQL
mkdir -p "$tmp/pgbench"
if (cd "$tmp/pgbench" && "$bindir/pgbench" -n -f "$tmp/insert.sql" -c "$conns" -j "$threads" \
	-T "$duration" -l -h "$pgdir" -p "$pg_port" -U alliance scratch) >"$tmp/pgbench.out" 2>&1; then
	tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$tmp/pgbench.out" | head -n 1)
	failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$tmp/pgbench.out")
	# per-transaction log: client xact latency_us script epoch us
	read -r l50 l99 < <(cat "$tmp"/pgbench/pgbench_log.* | awk '{print $3}' | sort -n |
		awk '{v[NR] = $1} END {
			if (NR == 0) { print "nan nan"; exit }
			i50 = int(NR * 0.50); if (i50 < 1) i50 = 1
			i99 = int(NR * 0.99); if (i99 < 1) i99 = 1
			printf "%.3f %.3f\n", v[i50] / 1000, v[i99] / 1000 }')
	[ -n "$tps" ] && tps=$(printf '%.1f' "$tps")
	rate[insert]=${tps:-nan} p50[insert]=$l50 p99[insert]=$l99 note[insert]=""
	[ -n "$tps" ] || note[insert]="FAILED: no tps in pgbench output"
	[ "${failed:-0}" -eq 0 ] || note[insert]="FAILED: $failed failed transactions"
else
	rate[insert]=nan p50[insert]=nan p99[insert]=nan
	note[insert]="FAILED: pgbench: $(tail -n 1 "$tmp/pgbench.out")"
fi

# the daemon must have survived the run
kill -0 "$daemon_pid" 2>/dev/null || { note[match]="FAILED: allianced died"; note[feedback]="FAILED: allianced died"; }

# --------------------------------------------------------------------------
# report

ratio() { # A B: A / B with two decimals, nan unless both rows are good
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "nan" || b == "nan" || a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/ || b + 0 == 0)
			print "nan"
		else
			printf "%.2f\n", a / b }'
}
good_rate() { [ -z "${note[$1]}" ] && echo "${rate[$1]}" || echo nan; }

cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)
echo
echo "make bench: ${duration}s per run, $threads threads, $conns connections, loopback;" \
	"$(nproc) CPUs ($cpu); PostgreSQL $("$bindir/postgres" -V | awk '{print $3}') with fsync on;" \
	"allianced pool_size $pool, $n_therapists therapists"
printf '%-44s %12s %10s %10s  %s\n' "row" "req/s|TPS" "p50_ms" "p99_ms" "note"
printf '%-44s %12s %10s %10s  %s\n' "echo: evhttp+Jansson echo (JSON ceiling)" "${rate[echo]}" "${p50[echo]}" "${p99[echo]}" "${note[echo]}"
printf '%-44s %12s %10s %10s  %s\n' "match: POST /v1/match?limit=5" "${rate[match]}" "${p50[match]}" "${p99[match]}" "${note[match]}"
printf '%-44s %12s %10s %10s  %s\n' "feedback: POST /v1/episodes/{id}/feedback" "${rate[feedback]}" "${p50[feedback]}" "${p99[feedback]}" "${note[feedback]}"
printf '%-44s %12s %10s %10s  %s\n' "insert: pgbench single-row INSERT (TPS)" "${rate[insert]}" "${p50[insert]}" "${p99[insert]}" "${note[insert]}"
echo "match_ratio_to_echo=$(ratio "$(good_rate match)" "$(good_rate echo)")"
echo "feedback_ratio_to_insert=$(ratio "$(good_rate feedback)" "$(good_rate insert)")"

for row in echo match feedback insert; do
	[ -z "${note[$row]}" ] || exit 1
done
exit 0
