# client/client.mk - alliancectl, the admin CLI: included by the top Makefile.
# It links none of the daemon's objects: it talks to allianced only through
# the HTTP API.  libcurl (HTTP over the UNIX socket and TLS), Jansson (JSON),
# libyaml (YAML rosters and intakes, the config's socket path), libsmartcols
# (tables), libcsv (CSV rosters; Debian ships no .pc for it).

CTL_PKGS    := libcurl jansson yaml-0.1 smartcols
CTL_SRC     := $(sort $(wildcard client/*.c))
CTL_OBJ     := $(CTL_SRC:%.c=$(B)/obj/%.o)
CTL_CFLAGS  := -std=c11 $(WARN) $(CFLAGS) $(SANFLAGS) -D_GNU_SOURCE \
               -DALLIANCE_VERSION='"$(VERSION)"' -DALLIANCE_SBINDIR='"$(SBINDIR)"' \
               -DALLIANCE_CONFIG_DEFAULT='"$(SYSCONFDIR)/allianced.yaml"' \
               $(shell pkg-config --cflags $(CTL_PKGS) 2>/dev/null)
CTL_LIBS    := $(shell pkg-config --libs $(CTL_PKGS) 2>/dev/null) -lcsv
MAN_PAGES   := $(sort $(wildcard docs/man/*.[1-8]))
MANDIR      ?= $(PREFIX)/share/man
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions

$(B)/alliancectl: $(CTL_OBJ)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(CTL_LIBS)

$(B)/obj/client/%.o: client/%.c $(B)/.flags
	@mkdir -p $(@D)
	$(CC) $(CTL_CFLAGS) -MMD -MP -c -o $@ $<

.PHONY: man-lint install-ctl
# mandoc exits non-zero on any warning or error.
man-lint: ## lint the man pages (mandoc -T lint)
	mandoc -T lint -W warning $(MAN_PAGES)

install-ctl: ## install the man pages and the bash completion
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	           $(DESTDIR)$(COMPLETIONDIR)
	install -m 0644 docs/man/alliancectl.1 $(DESTDIR)$(MANDIR)/man1/alliancectl.1
	install -m 0644 docs/man/allianced.yaml.5 $(DESTDIR)$(MANDIR)/man5/allianced.yaml.5
	install -m 0644 docs/man/allianced.8 $(DESTDIR)$(MANDIR)/man8/allianced.8
	install -m 0644 client/alliancectl.bash-completion $(DESTDIR)$(COMPLETIONDIR)/alliancectl

-include $(CTL_OBJ:.o=.d)
