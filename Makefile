# Alliance: allianced (daemon/), alliancectl (client/), tests/.
# Non-recursive. `make` builds into build/; `make SANITIZE=address,undefined`
# builds instrumented copies into build/san/ so both can live side by side.

PREFIX    ?= /usr/local
DESTDIR   ?=
BINDIR    ?= $(PREFIX)/bin
SBINDIR   ?= $(PREFIX)/sbin
DATADIR   ?= $(PREFIX)/share/alliance
SYSCONFDIR ?= /etc/alliance
UNITDIR   ?= $(PREFIX)/lib/systemd/system

CC        ?= cc
PKGS      := libevent libpq jansson yaml-0.1
VERSION   := 0.1.0

ifeq ($(SANITIZE),)
B         := build
SANFLAGS  :=
else
B         := build/san
SANFLAGS  := -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN      := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS    ?= -O2 -g
ALL_CFLAGS := -std=c11 $(WARN) $(CFLAGS) $(SANFLAGS) -D_GNU_SOURCE \
              -DALLIANCE_VERSION='"$(VERSION)"' -Idaemon -Idaemon/engine -I$(B)/gen $(PKG_CFLAGS)
ENGINE_CFLAGS := -std=c11 $(WARN) $(CFLAGS) $(SANFLAGS) -D_GNU_SOURCE -Idaemon/engine
LDFLAGS   += $(SANFLAGS)
LIBS      := $(PKG_LIBS) -lm

ENGINE_SRC := $(sort $(wildcard daemon/engine/*.c))
DAEMON_SRC := $(sort $(filter-out daemon/main.c,$(wildcard daemon/*.c)))
CLIENT_SRC := $(sort $(wildcard client/*.c))
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRC   := $(sort $(wildcard tests/fuzz/fuzz_*.c))
MIGRATIONS := $(sort $(wildcard sql/[0-9]*.sql))

ENGINE_OBJ := $(ENGINE_SRC:%.c=$(B)/obj/%.o)
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(B)/obj/%.o) $(B)/obj/gen/migrations.o
CLIENT_OBJ := $(CLIENT_SRC:%.c=$(B)/obj/%.o)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
FUZZ_BIN   := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz/%)
FUZZ_SECONDS ?= 60

PYTHON    := /usr/bin/python3

.PHONY: all clean install run check unit e2e deps san bench bench-engine lint-engine openapi \
	fuzz fuzz-replay
all: $(B)/allianced $(B)/alliancectl

$(B)/libengine.a: $(ENGINE_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(B)/libdaemon.a: $(DAEMON_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(B)/allianced: $(B)/obj/daemon/main.o $(B)/libdaemon.a $(B)/libengine.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/alliancectl: $(CLIENT_OBJ) $(B)/libdaemon.a $(B)/libengine.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/obj/daemon/engine/%.o: daemon/engine/%.c $(wildcard daemon/engine/*.h)
	@mkdir -p $(@D)
	$(CC) $(ENGINE_CFLAGS) -c -o $@ $<

$(B)/obj/%.o: %.c $(wildcard daemon/*.h daemon/engine/*.h) $(B)/gen/migrations.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Migrations are embedded so the binary knows the schema version it needs.
$(B)/gen/migrations.c: daemon/mkmigrations.sh $(MIGRATIONS)
	@mkdir -p $(@D)
	sh daemon/mkmigrations.sh $(MIGRATIONS) > $@.tmp && mv $@.tmp $@

$(B)/obj/gen/migrations.o: $(B)/gen/migrations.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/tests/%: tests/unit/%.c $(B)/libdaemon.a $(B)/libengine.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libdaemon.a $(B)/libengine.a $(CMOCKA_LIBS) $(LIBS)

# Fuzz targets: with the normal compiler a main() replays the corpus (make
# check); `make fuzz` builds them with clang's libFuzzer and runs each.
$(B)/fuzz/%: tests/fuzz/%.c $(B)/libdaemon.a $(B)/libengine.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libdaemon.a $(B)/libengine.a $(LIBS)

fuzz-replay: $(FUZZ_BIN)
	@set -e; for f in $(FUZZ_BIN); do n=$$(basename $$f); \
	  ./$$f tests/fuzz/corpus/$${n#fuzz_}/*; done

FUZZ_DEPS := $(ENGINE_SRC) daemon/json_body.c daemon/json_fields.c daemon/intake_json.c \
	daemon/therapist_json.c daemon/feedback_json.c daemon/json_writer.c daemon/config.c
fuzz:
	@mkdir -p build/fuzz
	@set -e; for src in $(FUZZ_SRC); do n=$$(basename $$src .c); \
	  clang -std=c11 -g -O1 -D_GNU_SOURCE -DFUZZ_LIBFUZZER \
	    -fsanitize=fuzzer,address,undefined -Idaemon -Idaemon/engine $(PKG_CFLAGS) \
	    -o build/fuzz/$$n-libfuzzer $$src $(FUZZ_DEPS) $(LIBS); \
	  mkdir -p build/fuzz/$$n-corpus; \
	  build/fuzz/$$n-libfuzzer -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
	    build/fuzz/$$n-corpus tests/fuzz/corpus/$${n#fuzz_}; done

$(B)/bench_engine: tests/bench/bench_engine.c $(B)/libengine.a
	$(CC) $(ENGINE_CFLAGS) -O2 $(LDFLAGS) -o $@ $^ -lm

# ---- set-up --------------------------------------------------------------
deps:
	@sh tests/scripts/install-deps.sh

san:
	$(MAKE) SANITIZE=address,undefined all $(UNIT_BIN:build/%=build/san/%)

# ---- tests ---------------------------------------------------------------
unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; ./$$t; done

lint-engine:
	@sh tests/scripts/check-engine-purity.sh

openapi:
	@sh tests/scripts/check-openapi.sh

e2e: all
	ALLIANCED=$(CURDIR)/$(B)/allianced $(PYTHON) -m pytest -q tests/e2e

# make check: deps, normal and sanitizer builds, unit tests under ASan/UBSan,
# then the e2e suite against the sanitizer binary and a throwaway PostgreSQL.
check: deps
	$(MAKE) all
	$(MAKE) lint-engine
	$(MAKE) SANITIZE=address,undefined all unit fuzz-replay
	$(MAKE) openapi
	ALLIANCED=$(CURDIR)/build/san/allianced $(PYTHON) -m pytest -q -p no:cacheprovider tests/e2e

run: deps
	$(MAKE) all
	@bash tests/scripts/run.sh

bench-engine: $(B)/bench_engine
	./$(B)/bench_engine

bench: all
	@bash tests/bench/run.sh

# ---- install -------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/sql \
	           $(DESTDIR)$(SYSCONFDIR) $(DESTDIR)$(UNITDIR)
	install -m 0755 $(B)/allianced $(DESTDIR)$(SBINDIR)/allianced
	install -m 0755 $(B)/alliancectl $(DESTDIR)$(BINDIR)/alliancectl
	install -m 0644 $(MIGRATIONS) $(DESTDIR)$(DATADIR)/sql/
	install -m 0644 config/allianced.yaml $(DESTDIR)$(DATADIR)/allianced.yaml.example
	install -m 0644 README.md $(DESTDIR)$(DATADIR)/README.md
	test -e $(DESTDIR)$(SYSCONFDIR)/allianced.yaml || \
	  install -m 0640 config/allianced.yaml $(DESTDIR)$(SYSCONFDIR)/allianced.yaml
	sed 's|@SBINDIR@|$(SBINDIR)|g; s|@SYSCONFDIR@|$(SYSCONFDIR)|g; s|@DATADIR@|$(DATADIR)|g' \
	  systemd/allianced.service \
	  > $(DESTDIR)$(UNITDIR)/allianced.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/allianced.service

clean:
	rm -rf build

-include $(wildcard $(B)/obj/daemon/*.d)
