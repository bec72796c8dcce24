#!/usr/bin/python3
"""check-layers.py: the daemon's includes point down its layers (make lint).

Layers, bottom up (a layer may include itself and the ones below it, never
above; docs/source-map.md explains each):

  engine   pure C: the C library and engine/ only
  base     logger and clock: system headers and base/ only
  codec    JSON in and out: base, engine, Jansson
  store    database pool, migrations, catalog sync: base, engine, codec
  http     listeners, router, problems: base, engine, codec (never store or api)
  api      the routes: everything above but the process wiring
  daemon/  process wiring (main, daemon, config, metrics): anything

The CLI (client/) includes no daemon header but the engine's.

It also fails on an include circle between modules (a module is a .c and its
.h), inside a layer or across, and on an include that does not name its
folder ("db.h" instead of "store/db.h").

Usage: check-layers.py [ROOT]   (ROOT: the repository, default the current one)
Prints each violation as file:line: message and exits 1; exits 0 when clean.
"""
import os
import re
import sys

ORDER = ["engine", "base", "codec", "store", "http", "api"]
# What each layer may include besides itself (folders of daemon/).
ALLOWED = {
    "engine": set(),
    "base": set(),
    "codec": {"base", "engine"},
    "store": {"base", "engine", "codec"},
    "http": {"base", "engine", "codec"},
    "api": {"base", "engine", "codec", "store", "http"},
    "top": {"base", "engine", "codec", "store", "http", "api", "top"},
    "client": {"engine"},
}
# Library headers (by prefix) a layer must not reach for: the engine is pure,
# base is the bottom the others share, the codec speaks JSON only.
FORBIDDEN_LIBS = {
    "engine": ("event2/", "libpq", "jansson", "yaml", "openssl/", "curl/"),
    "base": ("event2/", "libpq", "jansson", "yaml"),
    "codec": ("event2/", "libpq", "yaml"),
}
C_STD = set("""assert.h complex.h ctype.h errno.h fenv.h float.h inttypes.h iso646.h limits.h
locale.h math.h setjmp.h signal.h stdalign.h stdarg.h stdatomic.h stdbool.h stddef.h
stdint.h stdio.h stdlib.h stdnoreturn.h string.h tgmath.h threads.h time.h uchar.h
wchar.h wctype.h""".split())

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def layer_of(rel):
    """The layer of a repository path, or None for files outside the rules."""
    parts = rel.split("/")
    if parts[0] == "client":
        return "client"
    if parts[0] != "daemon":
        return None
    if len(parts) == 2:
        return "top"
    return parts[1] if parts[1] in ORDER else None


def sources(root):
    for top in ("daemon", "client"):
        for d, _, files in os.walk(os.path.join(root, top)):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(d, f), root)


def module_of(root, rel):
    """A module is a .c and its .h; a header of its own with no .c, named
    after a module (catalog_layout.h beside catalog.c), is that module's
    private part, not a module that could form a circle with it."""
    stem = os.path.splitext(rel)[0]
    if os.path.exists(os.path.join(root, stem + ".c")):
        return stem
    head = stem
    while "_" in os.path.basename(head):
        head = head.rsplit("_", 1)[0]
        if os.path.exists(os.path.join(root, head + ".c")):
            return head
    return stem


def target_layer(root, name):
    """The layer a quoted include names, and the file it resolves to."""
    path = os.path.join("daemon", name)
    if not os.path.exists(os.path.join(root, path)):
        return None, None
    return layer_of(path), path


def check(root):
    errors = []
    edges = {}  # module -> {module: (file, line)}
    for rel in sources(root):
        layer = layer_of(rel)
        if layer is None:
            continue
        module = module_of(root, rel)
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as fh:
            for n, text in enumerate(fh, 1):
                m = INCLUDE.match(text)
                if not m:
                    continue
                kind, name = m.groups()
                where = f"{rel}:{n}"
                if kind == "<":
                    if layer == "engine" and name not in C_STD:
                        errors.append(f"{where}: the engine includes only the C library, not <{name}>")
                    for prefix in FORBIDDEN_LIBS.get(layer, ()):
                        if name.startswith(prefix) and layer != "engine":
                            errors.append(f"{where}: {layer} must not include <{name}>")
                    continue
                if name in C_STD:
                    continue
                if layer != "client" and "/" not in name:
                    local = os.path.join(os.path.dirname(rel), name)
                    if os.path.exists(os.path.join(root, local)) and layer != "top":
                        errors.append(f'{where}: "{name}" must name its folder '
                                      f'("{os.path.relpath(local, "daemon")}")')
                        continue
                to_layer, path = target_layer(root, name)
                if to_layer is None:
                    if layer != "client":
                        errors.append(f'{where}: "{name}" is not a daemon header')
                    continue
                if to_layer != layer and to_layer not in ALLOWED[layer]:
                    errors.append(f'{where}: {layer} must not include "{name}" '
                                  f"({to_layer} is {'above it' if layer != 'client' else 'the daemon'})")
                target = module_of(root, path)
                if target != module:
                    edges.setdefault(module, {}).setdefault(target, where)
    errors.extend(circles(edges))
    return errors


def circles(edges):
    """One message per include circle between modules (iterative DFS)."""
    out, state, seen_cycles = [], {}, set()

    def visit(start):
        stack = [(start, iter(sorted(edges.get(start, {}))))]
        path = [start]
        state[start] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                path.pop()
                continue
            if state.get(nxt) == 1:
                cyc = path[path.index(nxt):] + [nxt]
                key = frozenset(cyc)
                if key not in seen_cycles:
                    seen_cycles.add(key)
                    out.append(f"{edges[node][nxt]}: include circle: " + " -> ".join(cyc))
            elif state.get(nxt) is None:
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, iter(sorted(edges.get(nxt, {})))))

    for m in sorted(edges):
        if state.get(m) is None:
            visit(m)
    return out


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    if not os.path.isdir(os.path.join(root, "daemon")):
        print(f"check-layers: no daemon/ under {root}", file=sys.stderr)
        return 2
    errors = check(root)
    for e in errors:
        print(f"check-layers: {e}", file=sys.stderr)
    if errors:
        print(f"check-layers: FAIL ({len(errors)} violation(s))", file=sys.stderr)
        return 1
    print("check-layers: ok (includes point down; no circle)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
