# SPDX-License-Identifier: GPL-2.0-or-later
# pepsal - a TCP Performance Enhancing Proxy for Linux.
#
#   make            build everything into $(BUILD)/
#   make check      install missing Debian packages, build, run every test
#   make demo       the satellite demo (as root)
#   make deb        a Debian package, build/pepsal_VERSION_ARCH.deb
#   make ERR=1      warnings are errors (CI)
#   make V=1        show the commands
#   make SAN=thread BUILD=build-tsan     ThreadSanitizer build (SAN=address: ASan+UBSan)
#   make check-tsan, make check-asan     the proxy and queuer suites on such a build
#   make check-clang                     clang build, -Wconditional-uninitialized -Werror
#   make soak                            10 minutes of mixed traffic (tests/ns/soak.sh)
# Each directory adds its programs and tests in its own module.mk.

VERSION   := 0.1.0
PREFIX    ?= /usr/local
SBINDIR   ?= $(PREFIX)/sbin
MANDIR    ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR   ?= /lib/systemd/system
DESTDIR   ?=
BUILD     ?= build
CC        ?= cc
CFLAGS    ?= -O2 -g

PKG_CONFIG ?= pkg-config
# pkg-config module:Debian package that provides it
PKG_DEBS  := libnetfilter_queue:libnetfilter-queue-dev libnfnetlink:libnfnetlink-dev \
             libmnl:libmnl-dev glib-2.0:libglib2.0-dev
PKGS      := $(foreach m,$(PKG_DEBS),$(firstword $(subst :, ,$(m))))
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

WARNINGS  := -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
             -Wpointer-arith -Wwrite-strings -Wformat=2 $(EXTRA_WARNINGS)
ifeq ($(ERR),1)
WARNINGS  += -Werror
endif
HARDENING := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
# Sanitizer builds (SAN=thread, SAN=address: ASan+UBSan). The fortified libc
# calls (__memcpy_chk...) escape ASan's interceptors, so no _FORTIFY_SOURCE;
# gcc's TSan warns that it ignores atomic_thread_fence (-Wtsan): the seqlock
# fences are known, the warning is not an error there.
SANFLAGS.thread  := -fsanitize=thread $(if $(findstring clang,$(shell $(CC) --version 2>/dev/null)),,-Wno-tsan)
SANFLAGS.address := -fsanitize=address,undefined -fno-sanitize-recover=undefined
ifneq ($(SAN),)
ifeq ($(SANFLAGS.$(SAN)),)
$(error SAN=$(SAN): use SAN=thread or SAN=address)
endif
HARDENING := -fstack-protector-strong -fPIE -fno-omit-frame-pointer $(SANFLAGS.$(SAN))
override LDFLAGS += $(SANFLAGS.$(SAN))
endif
override CFLAGS  += -std=gnu11 -D_GNU_SOURCE -pthread $(WARNINGS) $(HARDENING) \
                    -Iinclude -DPEPSAL_VERSION='"$(VERSION)"' -MMD -MP
override LDFLAGS += -pie -Wl,-z,relro,-z,now -pthread

ifneq ($(V),1)
Q := @
quiet = @printf '  %-7s %s\n' $(1) $(2);
endif

PROGRAMS   :=
UNIT_TESTS :=
# TEST_TOOLS are built for the tests but not run by the runner
TEST_TOOLS :=
all: programs

include $(sort $(wildcard */module.mk tests/*.mk))

programs: $(PROGRAMS) $(UNIT_TESTS) $(TEST_TOOLS)

# TSan does not see pthread_mutex_clocklock: a shim makes it a timedlock
ifeq ($(SAN),thread)
$(PROGRAMS) $(UNIT_TESTS) $(TEST_TOOLS): $(BUILD)/tests/tools/tsan-clocklock.o
endif

$(BUILD)/%.o: %.c | build-deps
	$(call quiet,CC,$<)mkdir -p $(dir $@) && $(CC) $(CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

$(PROGRAMS) $(UNIT_TESTS) $(TEST_TOOLS):
	$(call quiet,LD,$@)mkdir -p $(dir $@) && $(CC) $(CFLAGS) -o $@ $(filter %.o %.a,$^) $(LDFLAGS) $(PKG_LIBS)

# Before the first compile: one line naming the Debian packages of missing
# build dependencies, instead of the compiler's "No such file" on a header.
build-deps:
	$(Q)missing=; \
	if command -v $(PKG_CONFIG) >/dev/null 2>&1; then \
		for m in $(PKG_DEBS); do \
			$(PKG_CONFIG) --exists $${m%%:*} 2>/dev/null || missing="$$missing $${m#*:}"; \
		done; \
	else \
		missing=" pkg-config"; \
		for m in $(PKG_DEBS); do \
			dpkg-query -W -f='$${Status}\n' $${m#*:} 2>/dev/null | grep -q 'ok installed' || \
				missing="$$missing $${m#*:}"; \
		done; \
	fi; \
	if [ -n "$$missing" ]; then \
		echo "pepsal: missing build dependencies (Debian packages):$$missing; 'make deps' installs them" >&2; \
		exit 1; \
	fi

# Debian packages the build, the tests and the demo need; installs what is
# missing (apt-get update first) and says so.
deps:
	$(Q)sh tests/deps.sh

check: deps
	$(Q)$(MAKE) --no-print-directory programs
	$(Q)BUILD=$(abspath $(BUILD)) bash tests/run.sh $(abspath $(UNIT_TESTS)) $(sort $(wildcard tests/ns/*.sh))

# The unit tests and the proxy and queuer namespace suites on a sanitizer
# build in $(BUILD)-tsan (gcc) or $(BUILD)-asan (clang: gcc's UBSan writes
# to stderr, not to log_path, when linked with ASan); tests/sanitize.sh
# fails the run on any sanitizer report.
SAN_TESTS := $(sort $(wildcard tests/ns/proxy*.sh tests/ns/queuer*.sh))
SAN.tsan  := thread
SAN.asan  := address
SANCC.tsan := $(CC)
SANCC.asan := clang
check-tsan check-asan: check-%: deps
	$(Q)$(MAKE) --no-print-directory CC=$(SANCC.$*) SAN=$(SAN.$*) BUILD=$(BUILD)-$* programs
	$(Q)BUILD=$(abspath $(BUILD)-$*) SAN=$(SAN.$*) bash tests/sanitize.sh \
		$(patsubst $(BUILD)/%,$(abspath $(BUILD)-$*)/%,$(UNIT_TESTS)) $(SAN_TESTS)

# clang's view of the code, warnings as errors, in $(BUILD)-clang
check-clang: deps
	$(Q)$(MAKE) --no-print-directory CC=clang ERR=1 EXTRA_WARNINGS=-Wconditional-uninitialized \
		BUILD=$(BUILD)-clang programs

# make soak: tests/ns/soak.sh for SOAK_SECONDS (600); make check runs it for 60 s
SOAK_SECONDS ?= 600
soak: deps
	$(Q)$(MAKE) --no-print-directory programs
	$(Q)SOAK_SECONDS=$(SOAK_SECONDS) BUILD=$(abspath $(BUILD)) bash tests/ns/soak.sh


# Two boxes (doc/ha.md): the goals, new connections accelerated within 3 s
# of a failover, a switchover's stall at most 500 ms p99 of 1,000 streams
# (run it alone: under /work/bin/pepsal-quiet here)
bench-ha: deps
	$(Q)$(MAKE) --no-print-directory programs
	$(Q)HA_ACCEL_S=3 BUILD=$(abspath $(BUILD)) bash tests/ns/ha-failover.sh
	$(Q)HA_STALL_MS=500 BUILD=$(abspath $(BUILD)) bash tests/ns/ha-switchover.sh

# A Debian package of what "make install PREFIX=/usr" installs (dpkg-deb,
# no debhelper): $(BUILD)/pepsal_$(VERSION)_ARCH.deb.
deb: programs
	$(Q)sh rules/debian/build-deb.sh $(abspath $(BUILD)) $(VERSION) $(MAKE)

clean:
	rm -rf $(BUILD) $(BUILD)-tsan $(BUILD)-asan $(BUILD)-clang

.PHONY: all programs build-deps deps check check-tsan check-asan check-clang soak bench-ha deb clean
.DELETE_ON_ERROR:
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
