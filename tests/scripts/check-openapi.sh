#!/bin/sh
# Checks the socket API's OpenAPI description (make check):
#  1. lints daemon/api/openapi.yaml with the pinned @redocly/cli (tests/openapi), installing it
#     with `npm ci` when node_modules is missing or does not match the lock file;
#  2. fails for every route entry of the daemon (the tables beside the handlers in
#     daemon/api/routes_*.c) that the description lacks, for every route whose scope differs
#     from the operation's x-scope, and for a table that daemon/api/routes.c does not list.
# Usage: tests/scripts/check-openapi.sh [API_DIR [OPENAPI_YAML]]  (paths relative to the repo
# root; the defaults are daemon/api and daemon/api/openapi.yaml). POSIX sh: make runs it with sh.
set -eu

root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

api_dir="${1:-daemon/api}"
openapi="${2:-daemon/api/openapi.yaml}"
tooldir="tests/openapi"
python=/usr/bin/python3   # Debian's python3: the first one on PATH is not, and lacks yaml

fail() { echo "check-openapi: $*" >&2; exit 1; }

[ -f "$openapi" ] || fail "$openapi not found"
[ -f "$api_dir/routes.c" ] || fail "$api_dir/routes.c not found: the list of route tables"
command -v npm >/dev/null || fail "npm not found (apt-get install -y npm)"
"$python" -c 'import yaml' 2>/dev/null || fail "python3-yaml missing (apt-get install -y python3-yaml)"

# --- 1. lint ---------------------------------------------------------------------------------
# node_modules is stale when it is missing, older than the lock file, or holds another
# @redocly/cli than the one package.json pins.
installed_json="$tooldir/node_modules/@redocly/cli/package.json"
hidden_lock="$tooldir/node_modules/.package-lock.json"
pinned="$("$python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["devDependencies"]["@redocly/cli"])' \
	"$tooldir/package.json")"
installed=""
if [ -f "$installed_json" ]; then
	installed="$("$python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$installed_json")"
fi
if [ "$installed" != "$pinned" ] || [ ! -f "$hidden_lock" ] ||
	[ -n "$(find "$tooldir/package-lock.json" -newer "$hidden_lock")" ]; then
	npm ci --prefix "$tooldir" --no-audit --no-fund --loglevel=error >/dev/null ||
		fail "npm ci --prefix $tooldir failed"
fi

lint_ok=1
# No telemetry and no update check: make check must not talk to the network.
if ! lint_out="$(REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
	"$tooldir/node_modules/.bin/redocly" lint "$openapi" --config "$tooldir/redocly.yaml" 2>&1)"; then
	lint_ok=0
	printf '%s\n' "$lint_out" >&2
	echo "check-openapi: redocly lint of $openapi failed" >&2
fi

# --- 2. route table against the description ----------------------------------------------------
routes_ok=1
summary="$("$python" - "$api_dir" "$openapi" <<'PY'
import glob
import os
import re
import sys

import yaml

api_dir, openapi = sys.argv[1], sys.argv[2]
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def strip_c_comments(text):
    """Blank out /* */ and // comments (keeping string literals), so a commented-out route
    does not count."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def shape(path):
    """/v1/episodes/{id}/end and /v1/episodes/{episode_id}/end are the same route."""
    return re.sub(r"\{[^}/]*\}", "{}", path)


entry = re.compile(r'\{\s*"(GET|POST|PUT|PATCH|DELETE)"\s*,\s*"(/[^"]*)"(\s*,\s*(SCOPE_[A-Z_]+))?')
table = re.compile(r'const\s+struct\s+route\s+(routes_[a-z_]+)\s*\[\]\s*=')
listed = strip_c_comments(open(os.path.join(api_dir, "routes.c"), encoding="utf-8").read())
routes = {}    # (METHOD, shape) -> (path, scope or None, "file:line")
errors = []
for routes_c in sorted(glob.glob(os.path.join(api_dir, "routes_*.c"))):
    text = strip_c_comments(open(routes_c, encoding="utf-8").read())
    for t in table.finditer(text):
        if not re.search(r"\b%s\b" % t.group(1), listed):
            line = text.count("\n", 0, t.start()) + 1
            errors.append(f"{routes_c}:{line}: table {t.group(1)} is not listed in "
                          f"{api_dir}/routes.c: its routes are unreachable")
    for m in entry.finditer(text):
        method, path, scope = m.group(1), m.group(2), m.group(4)
        where = f"{routes_c}:{text.count(chr(10), 0, m.start()) + 1}"
        key = (method, shape(path))
        if key in routes and routes[key][1] != scope:
            errors.append(f"{where}: {method} {path} is in the tables twice with different scopes")
        routes.setdefault(key, (path, scope, where))
if not routes:
    errors.append(f"{api_dir}: no route entries found "
                  '(expected lines like { "GET", "/v1/therapists/{id}", SCOPE_ADMIN, ... })')

doc = yaml.safe_load(open(openapi, encoding="utf-8"))
operations = {}  # (METHOD, shape) -> (path, x-scope)
for path, item in (doc.get("paths") or {}).items():
    for method, op in (item or {}).items():
        if method.upper() in METHODS and isinstance(op, dict):
            operations[(method.upper(), shape(path))] = (path, op.get("x-scope"))

for key, (path, scope, where) in sorted(routes.items(), key=lambda kv: kv[1][2]):
    method = key[0]
    if key not in operations:
        errors.append(f"{where}: {method} {path} is missing from {openapi}")
        continue
    if scope is None:
        errors.append(f"{where}: {method} {path} has no SCOPE_* in its route table")
        continue
    want = scope[len("SCOPE_"):].lower()
    have = operations[key][1]
    if have != want:
        errors.append(f"{where}: {method} {path} has scope {scope} but the "
                      f"description's x-scope is {have!r} (want {want!r})")

extra = [f"{k[0]} {operations[k][0]}" for k in sorted(set(operations) - set(routes))]
if extra:
    print(f"check-openapi: note: documented but not in a route table: {', '.join(extra)}",
          file=sys.stderr)

for e in errors:
    print(e, file=sys.stderr)
print(f"{len(operations)} operations, {len(routes)} routes checked")
sys.exit(1 if errors else 0)
PY
)" || routes_ok=0

if [ "$routes_ok" = 0 ]; then
	echo "check-openapi: the route table and $openapi disagree (see above)" >&2
fi
if [ "$lint_ok" = 0 ] || [ "$routes_ok" = 0 ]; then
	exit 1
fi
echo "openapi: $summary, lint ok"
