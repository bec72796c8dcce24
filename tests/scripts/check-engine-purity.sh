#!/bin/sh
# check-engine-purity.sh — daemon/engine/ may include only C standard library
# headers and the engine's own headers (DESIGN.md: the engine is pure C, no
# libevent/libpq/Jansson/libyaml, no I/O). Prints every offending
# file:line: include and exits 1; exits 0 when clean.
# Usage: sh tests/scripts/check-engine-purity.sh [engine-dir]
set -eu
dir=${1:-daemon/engine}
[ -d "$dir" ] || { echo "check-engine-purity: no directory $dir" >&2; exit 2; }

# C11 standard library headers (ISO/IEC 9899:2011, 7.1.2).
std="assert.h complex.h ctype.h errno.h fenv.h float.h inttypes.h iso646.h limits.h
locale.h math.h setjmp.h signal.h stdalign.h stdarg.h stdatomic.h stdbool.h stddef.h
stdint.h stdio.h stdlib.h stdnoreturn.h string.h tgmath.h threads.h time.h uchar.h
wchar.h wctype.h"

bad=0
for f in "$dir"/*.c "$dir"/*.h; do
	[ -e "$f" ] || continue
	# "N:<directive>" for every #include (any spacing), comments aside.
	grep -n '^[[:space:]]*#[[:space:]]*include' "$f" | while IFS= read -r line; do
		n=${line%%:*}
		inc=$(printf '%s\n' "${line#*:}" | sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*\([<"][^>"]*[>"]\).*/\1/p')
		name=$(printf '%s' "$inc" | sed 's/^[<"]//; s/[>"]$//')
		ok=0
		case "$inc" in
		'<'*)
			for s in $std; do [ "$name" = "$s" ] && ok=1; done ;;
		'"'*)
			case "$name" in
			*/*) ok=0 ;;
			*) [ -f "$dir/$name" ] && ok=1
			   for s in $std; do [ "$name" = "$s" ] && ok=1; done ;;
			esac ;;
		*) ok=0 ;;
		esac
		if [ "$ok" -ne 1 ]; then
			echo "check-engine-purity: $f:$n: forbidden include ${inc:-(macro or malformed)}: ${line#*:}"
			echo x
		fi
	done
done > "${TMPDIR:-/tmp}/engine-purity.$$"
if grep -q '^x$' "${TMPDIR:-/tmp}/engine-purity.$$"; then bad=1; fi
grep -v '^x$' "${TMPDIR:-/tmp}/engine-purity.$$" >&2 || true
rm -f "${TMPDIR:-/tmp}/engine-purity.$$"
if [ "$bad" -ne 0 ]; then
	echo "check-engine-purity: FAIL (daemon/engine must include only the C library and its own headers)" >&2
	exit 1
fi
echo "check-engine-purity: ok ($dir)"
