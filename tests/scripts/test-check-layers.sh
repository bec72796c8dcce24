#!/bin/sh
# test-check-layers.sh: proves that make lint fails when a layer reaches up
# (run by make lint).  Each case copies daemon/ and client/ into a scratch
# folder, adds one bad include, and expects check-layers.py to fail naming
# it; the untouched copy must pass.
set -eu
root="$(cd "$(dirname "$0")/../.." && pwd)"
checker="$root/tests/scripts/check-layers.py"
python=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
passed=0
failed=0

fresh() {
	rm -rf "$tmp/tree"
	mkdir -p "$tmp/tree"
	cp -R "$root/daemon" "$root/client" "$tmp/tree/"
}

# expect_fail FILE 'INCLUDE LINE' WHAT: prepend the include, expect a failure mentioning WHAT.
expect_fail() {
	fresh
	printf '%s\n' "$2" | cat - "$tmp/tree/$1" > "$tmp/x" && mv "$tmp/x" "$tmp/tree/$1"
	if out=$("$python" "$checker" "$tmp/tree" 2>&1); then
		echo "FAIL: $1 with $2 passed the layer check"
		failed=$((failed + 1))
	elif printf '%s' "$out" | grep -q "$3"; then
		passed=$((passed + 1))
	else
		echo "FAIL: $1 with $2: the check failed without naming '$3':"
		printf '%s\n' "$out"
		failed=$((failed + 1))
	fi
}

fresh
if "$python" "$checker" "$tmp/tree" >/dev/null 2>&1; then
	passed=$((passed + 1))
else
	echo "FAIL: the untouched tree does not pass"
	failed=$((failed + 1))
fi
expect_fail daemon/engine/match.c '#include <jansson.h>' 'the engine includes only the C library'
expect_fail daemon/engine/match.c '#include "base/log.h"' 'engine must not include "base/log.h"'
expect_fail daemon/base/log.c '#include "codec/json_writer.h"' 'base must not include'
expect_fail daemon/codec/json_writer.c '#include "store/db.h"' 'codec must not include "store/db.h"'
expect_fail daemon/codec/json_writer.c '#include "http/router.h"' 'codec must not include "http/router.h"'
expect_fail daemon/codec/json_fields.h '#include "api/api.h"' 'codec must not include "api/api.h"'
expect_fail daemon/store/db.c '#include "http/server.h"' 'store must not include "http/server.h"'
expect_fail daemon/store/catalog_sync.c '#include "api/request_db.h"' 'store must not include'
expect_fail daemon/http/router.c '#include "store/db.h"' 'http must not include "store/db.h"'
expect_fail daemon/http/server.c '#include "api/api.h"' 'http must not include "api/api.h"'
expect_fail daemon/http/server.c '#include "daemon.h"' 'http must not include "daemon.h"'
expect_fail daemon/api/routes_health.c '#include "metrics.h"' 'api must not include "metrics.h"'
expect_fail daemon/codec/json_writer.c '#include <libpq-fe.h>' 'codec must not include <libpq-fe.h>'
expect_fail client/alliancectl.c '#include "store/db.h"' 'client must not include'
expect_fail daemon/store/catalog_sync.c '#include "db.h"' 'must name its folder'
expect_fail daemon/engine/vocab.h '#include "engine/match.h"' 'include circle'

echo "check-layers self-test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
