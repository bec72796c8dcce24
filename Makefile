# Alliance: allianced (daemon/), alliancectl (client/), tests/.
# Non-recursive.  `make` builds into build/; `make SANITIZE=address,undefined`
# builds instrumented copies into build/san/ so both can live side by side.
# `make help` lists the targets.

PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR     ?= $(PREFIX)/bin
SBINDIR    ?= $(PREFIX)/sbin
DATADIR    ?= $(PREFIX)/share/alliance
SYSCONFDIR ?= /etc/alliance
UNITDIR    ?= $(PREFIX)/lib/systemd/system

CC        ?= cc
PKGS      := libevent libevent_openssl openssl libpq jansson yaml-0.1 libcurl
VERSION   := 0.1.0

ifeq ($(SANITIZE),)
B         := build
SANFLAGS  :=
else
B         := build/san
SANFLAGS  := -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
endif

PKG_CFLAGS  := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS    := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

# -Werror only where we choose the compiler (make check, CI): a packager's
# newer compiler may warn about new things and must still build.
WERROR    ?=
WARN      := -Wall -Wextra $(WERROR) -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS    ?= -O2 -g
DEPFLAGS  := -MMD -MP
# Includes name their folder ("engine/match.h", "store/db.h"): one -I.
# Hidden visibility: the binary exports none of its functions, so a name that
# a shared library also uses (libkrb5 calls a profile_init of its own, through
# libpq's GSSAPI) can never be bound to ours.
HIDDEN    := -fvisibility=hidden
ALL_CFLAGS := -std=c11 $(WARN) $(CFLAGS) $(SANFLAGS) $(HIDDEN) -D_GNU_SOURCE \
              -DALLIANCE_VERSION='"$(VERSION)"' -Idaemon -I$(B)/gen $(PKG_CFLAGS)
ENGINE_CFLAGS := -std=c11 $(WARN) $(CFLAGS) $(SANFLAGS) $(HIDDEN) -D_GNU_SOURCE -Idaemon
LDFLAGS   += $(SANFLAGS)
LIBS      := $(PKG_LIBS) -lm -pthread

# The layers of the daemon, bottom up (tests/scripts/check-layers.py enforces
# that includes point down); daemon/*.c at the top is the process wiring.
LAYERS     := base codec store http api
ENGINE_SRC := $(sort $(wildcard daemon/engine/*.c))
DAEMON_SRC := $(sort $(foreach l,$(LAYERS),$(wildcard daemon/$(l)/*.c)) \
                     $(filter-out daemon/main.c,$(wildcard daemon/*.c)))
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRC   := $(sort $(wildcard tests/fuzz/fuzz_*.c))
MIGRATIONS := $(sort $(wildcard sql/[0-9]*.sql))

ENGINE_OBJ := $(ENGINE_SRC:%.c=$(B)/obj/%.o)
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(B)/obj/%.o) $(B)/obj/gen/migrations.o
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
FUZZ_BIN   := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz/%)
FUZZ_SECONDS ?= 60

PYTHON    := /usr/bin/python3

.PHONY: all clean install install-config-owner uninstall run check unit e2e deps san bench bench-engine \
	bench-alliance bench-scale soak lint \
	openapi fuzz fuzz-replay format format-check help FORCE
.DEFAULT_GOAL := all

all: $(B)/allianced $(B)/alliancectl ## build allianced and alliancectl into build/

# Objects depend on the flags they were built with: switching WERROR or
# CFLAGS rebuilds instead of mixing objects of two configurations.
$(B)/.flags: FORCE
	@mkdir -p $(@D)
	@echo '$(ALL_CFLAGS) $(ENGINE_CFLAGS)' | cmp -s - $@ || echo '$(ALL_CFLAGS) $(ENGINE_CFLAGS)' > $@

$(B)/libengine.a: $(ENGINE_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(B)/libdaemon.a: $(DAEMON_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(B)/allianced: $(B)/obj/daemon/main.o $(B)/libdaemon.a $(B)/libengine.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# The CLI talks HTTP only: its own rules, libraries and man pages (client/client.mk);
# it links none of the daemon's objects.
include client/client.mk

$(B)/obj/daemon/engine/%.o: daemon/engine/%.c $(B)/.flags
	@mkdir -p $(@D)
	$(CC) $(ENGINE_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(B)/obj/%.o: %.c $(B)/.flags
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c -o $@ $<

# Migrations are embedded so the binary knows the schema version it needs.
$(B)/gen/migrations.c: daemon/store/mkmigrations.sh $(MIGRATIONS)
	@mkdir -p $(@D)
	sh daemon/store/mkmigrations.sh $(MIGRATIONS) > $@.tmp && mv $@.tmp $@

$(B)/obj/gen/migrations.o: $(B)/gen/migrations.c $(B)/.flags
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(B)/tests/%: tests/unit/%.c $(B)/libdaemon.a $(B)/libengine.a $(B)/.flags
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -MF $@.d $(LDFLAGS) -o $@ $< $(B)/libdaemon.a \
	  $(B)/libengine.a $(CMOCKA_LIBS) $(LIBS)

# test_db fails one libpq call on request (a send refused after its PREPARE):
# the server stays real, only that call is wrapped.
$(B)/tests/test_db: LDFLAGS += -Wl,--wrap=PQsendQueryPrepared

# Fuzz targets: with the normal compiler a main() replays the corpus (make
# check); `make fuzz` builds them with clang's libFuzzer and runs each.
$(B)/fuzz/%: tests/fuzz/%.c $(B)/libdaemon.a $(B)/libengine.a $(B)/.flags
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -MF $@.d $(LDFLAGS) -o $@ $< $(B)/libdaemon.a \
	  $(B)/libengine.a $(LIBS)

fuzz-replay: $(FUZZ_BIN) ## replay every fuzz corpus (make check runs it under ASan/UBSan)
	@set -e; for f in $(FUZZ_BIN); do n=$$(basename $$f); \
	  ./$$f tests/fuzz/corpus/$${n#fuzz_}/*; done

# libFuzzer builds link the whole daemon library (derived, not listed: a
# target may call any reader) with clang's instrumentation.
FUZZ_DEPS := $(ENGINE_SRC) $(DAEMON_SRC) build/fuzz/gen/migrations.c
fuzz: ## run each libFuzzer target for FUZZ_SECONDS (needs clang)
	@mkdir -p build/fuzz/gen
	sh daemon/store/mkmigrations.sh $(MIGRATIONS) > build/fuzz/gen/migrations.c
	@set -e; for src in $(FUZZ_SRC); do n=$$(basename $$src .c); \
	  clang -std=c11 -g -O1 -D_GNU_SOURCE -DFUZZ_LIBFUZZER -DALLIANCE_VERSION='"$(VERSION)"' \
	    -fsanitize=fuzzer,address,undefined -Idaemon $(PKG_CFLAGS) \
	    -o build/fuzz/$$n-libfuzzer $$src $(FUZZ_DEPS) $(LIBS); \
	  mkdir -p build/fuzz/$$n-corpus; \
	  build/fuzz/$$n-libfuzzer -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
	    build/fuzz/$$n-corpus tests/fuzz/corpus/$${n#fuzz_}; done

$(B)/bench_alliance: tests/bench/bench_alliance.c $(B)/libengine.a
	$(CC) $(ENGINE_CFLAGS) -O2 $(LDFLAGS) -o $@ $^ -lm

soak: all ## SOAK_SECONDS (600) of mixed load: RSS and open fds must stay flat (not in check)
	SOAK_SECONDS=$${SOAK_SECONDS:-600} ALLIANCED=$(CURDIR)/$(B)/allianced $(PYTHON) -m pytest -q -s \
	  tests/e2e/soak_mixed.py

bench-alliance: $(B)/bench_alliance ## one alliance evaluation of a 30,000-row episode
	./$(B)/bench_alliance

$(B)/bench_engine: tests/bench/bench_engine.c $(B)/libengine.a
	$(CC) $(ENGINE_CFLAGS) -O2 $(LDFLAGS) -o $@ $^ -lm

# ---- set-up --------------------------------------------------------------
deps: ## install the Debian packages that are missing (as root)
	@sh tests/scripts/install-deps.sh

san: ## the ASan/UBSan build and unit tests into build/san/
	$(MAKE) SANITIZE=address,undefined all $(UNIT_BIN:build/%=build/san/%)

# ---- checks --------------------------------------------------------------
C_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)

lint: ## includes point down the layers; fails on one that reaches up
	@$(PYTHON) tests/scripts/check-layers.py
	@sh tests/scripts/test-check-layers.sh

format: ## rewrite every C file in the house style (.clang-format)
	clang-format -i $(C_FILES)

format-check: ## fail when a C file differs from the house style
	@clang-format --dry-run -Werror $(C_FILES) && echo "format-check: ok"

openapi: ## lint daemon/api/openapi.yaml and compare it with the route table
	@sh tests/scripts/check-openapi.sh

unit: $(UNIT_BIN) ## build and run the cmocka unit tests
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; ./$$t; done

e2e: all ## the pytest end-to-end suite against build/allianced
	ALLIANCED=$(CURDIR)/$(B)/allianced $(PYTHON) -m pytest -q tests/e2e

# make check: deps, normal and sanitizer builds with -Werror, lint, format,
# unit tests and fuzz corpora under ASan/UBSan, the OpenAPI check, then the
# e2e suite against the sanitizer binary and a throwaway PostgreSQL.
check: deps ## everything make check runs in CI (see README "Development")
	$(MAKE) WERROR=-Werror all
	$(MAKE) lint
	$(MAKE) format-check
	$(MAKE) WERROR=-Werror SANITIZE=address,undefined all unit fuzz-replay
	$(MAKE) openapi
	$(MAKE) man-lint
	ALLIANCED=$(CURDIR)/build/san/allianced $(PYTHON) -m pytest -q -p no:cacheprovider tests/e2e

run: deps ## build, start a PostgreSQL of its own under .run/ and the daemon
	$(MAKE) all
	@bash tests/scripts/run.sh

bench-engine: $(B)/bench_engine ## the engine's match benchmark against its floor
	./$(B)/bench_engine

bench-scale: all ## one daemon at network scale: SIZE=s|m|l (tests/bench/scale.sh)
	@SIZE=$(or $(SIZE),s) bash tests/bench/scale.sh

bench: all ## HTTP throughput against an echo ceiling and pgbench (wrk)
	@bash tests/bench/run.sh

help: ## this list
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk -F':.*## ' '{ printf "  %-14s %s\n", $$1, $$2 }'

# ---- install -------------------------------------------------------------
install: all install-ctl ## install under PREFIX (DESTDIR for packaging)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/sql \
	           $(DESTDIR)$(SYSCONFDIR) $(DESTDIR)$(UNITDIR)
	install -m 0755 $(B)/allianced $(DESTDIR)$(SBINDIR)/allianced
	install -m 0755 $(B)/alliancectl $(DESTDIR)$(BINDIR)/alliancectl
	install -m 0644 $(MIGRATIONS) $(DESTDIR)$(DATADIR)/sql/
	install -m 0644 config/allianced.yaml $(DESTDIR)$(DATADIR)/allianced.yaml.example
	install -m 0644 README.md $(DESTDIR)$(DATADIR)/README.md
	test -e $(DESTDIR)$(SYSCONFDIR)/allianced.yaml || \
	  install -m 0640 config/allianced.yaml $(DESTDIR)$(SYSCONFDIR)/allianced.yaml
	@$(MAKE) --no-print-directory install-config-owner
	port=$$(sed -n 's/^  tcp: *"[^"]*:\([0-9][0-9]*\)".*/\1/p' \
	  $(DESTDIR)$(SYSCONFDIR)/allianced.yaml | head -n 1); \
	sed "s|@SBINDIR@|$(SBINDIR)|g; s|@SYSCONFDIR@|$(SYSCONFDIR)|g; s|@DATADIR@|$(DATADIR)|g; \
	  s|@TCP_PORT@|$${port:-7420}|g" systemd/allianced.service \
	  > $(DESTDIR)$(UNITDIR)/allianced.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/allianced.service

# The config is read by the daemon's user and no one else: root:alliance 0640
# (the system user "alliance" is made here; the unit's DynamicUser= uses it).
# A package (DESTDIR) or a non-root install does this in its own way.
install-config-owner:
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then \
	  getent group alliance >/dev/null || groupadd --system alliance; \
	  getent passwd alliance >/dev/null || useradd --system --gid alliance \
	    --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin alliance; \
	  chown root:alliance $(SYSCONFDIR)/allianced.yaml; \
	  chmod 0640 $(SYSCONFDIR)/allianced.yaml; \
	  if [ -e $(SYSCONFDIR)/database_url ]; then \
	    chown root:root $(SYSCONFDIR)/database_url; chmod 0600 $(SYSCONFDIR)/database_url; fi; \
	else \
	  echo "note: make $(SYSCONFDIR)/allianced.yaml root:alliance 0640 (the daemon's group only)"; \
	fi

# The configuration in SYSCONFDIR is the clinic's: uninstall leaves it.
uninstall: ## remove what install put under PREFIX (not the configuration)
	rm -f $(DESTDIR)$(SBINDIR)/allianced $(DESTDIR)$(BINDIR)/alliancectl \
	      $(DESTDIR)$(UNITDIR)/allianced.service \
	      $(DESTDIR)$(MANDIR)/man1/alliancectl.1 $(DESTDIR)$(MANDIR)/man5/allianced.yaml.5 \
	      $(DESTDIR)$(MANDIR)/man8/allianced.8 $(DESTDIR)$(COMPLETIONDIR)/alliancectl
	rm -rf $(DESTDIR)$(DATADIR)

clean: ## remove build/
	rm -rf build

-include $(shell find $(B) -name '*.d' 2>/dev/null)
