# SPDX-License-Identifier: GPL-2.0-or-later
# Deployment: pepsal-iptables, pepsal-start (pepsal.conf to options),
# pepsal.service, the man pages; "make install" and "make uninstall".
#
#   make install DESTDIR=/tmp/stage PREFIX=/usr
# installs into $(DESTDIR)$(SBINDIR) and friends; the paths written into the
# scripts and the unit are the final ones, without DESTDIR. An existing
# pepsal.conf is never overwritten (the new one goes beside it as
# pepsal.conf.new); uninstall keeps a pepsal.conf that was changed.

LIBEXECDIR ?= $(PREFIX)/libexec
INSTALL    ?= install

RULES_GEN := $(BUILD)/pepsal-iptables $(BUILD)/pepsal-start $(BUILD)/pepsal.service $(BUILD)/pepsal-ha
SCRIPTS   += $(RULES_GEN)
programs: $(RULES_GEN)

RULES_SUBST = sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@SBINDIR@|$(SBINDIR)|g' \
	-e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g'

# The copies in $(BUILD) serve the tests; "install" substitutes the
# sources again with its own paths, so it never rewrites these.
$(BUILD)/pepsal-iptables $(BUILD)/pepsal-start: $(BUILD)/%: rules/% Makefile
	$(call quiet,GEN,$@)mkdir -p $(dir $@) && $(RULES_SUBST) $< >$@.tmp && chmod 755 $@.tmp && mv $@.tmp $@
$(BUILD)/pepsal-ha: rules/ha/pepsal-ha Makefile
	$(call quiet,GEN,$@)mkdir -p $(dir $@) && $(RULES_SUBST) $< >$@.tmp && chmod 755 $@.tmp && mv $@.tmp $@
$(BUILD)/pepsal.service: rules/pepsal.service Makefile
	$(call quiet,GEN,$@)mkdir -p $(dir $@) && $(RULES_SUBST) $< >$@.tmp && mv $@.tmp $@

MAN8 := doc/pepsal.8 doc/pepsal-queuer.8 doc/pepsal-shm.8 doc/pepsal-iptables.8 doc/pepsal-start.8 \
        doc/pepsal-ha.8
MAN5 := doc/pepsal.conf.5
INSTALL_BINS := $(BUILD)/pepsal $(BUILD)/pepsal-queuer $(BUILD)/pepsal-shm

# Two boxes (doc/ha.md): pepsal-ha, the example keepalived and conntrackd
# configurations and doc/ha.md, under the package's doc directory.
DOCDIR     ?= $(PREFIX)/share/doc/pepsal
HA_EXAMPLES := $(DOCDIR)/examples/ha
HA_SUBST = $(RULES_SUBST) -e 's|@PEPSAL_HA@|$(SBINDIR)/pepsal-ha|g' -e 's| @HA_OPTS@||g' \
	-e 's|@RUN_DIR@|/run|g'

install: $(INSTALL_BINS)
	$(Q)$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBEXECDIR)/pepsal \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(SYSCONFDIR)/pepsal $(DESTDIR)$(UNITDIR)
	$(Q)$(INSTALL) -m 755 $(INSTALL_BINS) $(DESTDIR)$(SBINDIR)/
	$(Q)$(RULES_SUBST) rules/pepsal-iptables >$(DESTDIR)$(SBINDIR)/pepsal-iptables && \
		chmod 755 $(DESTDIR)$(SBINDIR)/pepsal-iptables
	$(Q)$(RULES_SUBST) rules/pepsal-start >$(DESTDIR)$(LIBEXECDIR)/pepsal/pepsal-start && \
		chmod 755 $(DESTDIR)$(LIBEXECDIR)/pepsal/pepsal-start
	$(Q)$(INSTALL) -m 644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/
	$(Q)$(INSTALL) -m 644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	$(Q)$(RULES_SUBST) rules/pepsal.service >$(DESTDIR)$(UNITDIR)/pepsal.service && \
		chmod 644 $(DESTDIR)$(UNITDIR)/pepsal.service
	$(Q)conf=$(DESTDIR)$(SYSCONFDIR)/pepsal/pepsal.conf; \
	if [ -e "$$conf" ] && ! cmp -s rules/pepsal.conf "$$conf"; then \
		$(INSTALL) -m 644 rules/pepsal.conf "$$conf.new"; \
		echo "install: kept the existing $$conf; the new one is $$conf.new"; \
	else \
		$(INSTALL) -m 644 rules/pepsal.conf "$$conf"; \
	fi

	$(Q)$(INSTALL) -d $(DESTDIR)$(HA_EXAMPLES)
	$(Q)$(RULES_SUBST) rules/ha/pepsal-ha >$(DESTDIR)$(SBINDIR)/pepsal-ha && \
		chmod 755 $(DESTDIR)$(SBINDIR)/pepsal-ha
	$(Q)$(HA_SUBST) rules/ha/keepalived.conf >$(DESTDIR)$(HA_EXAMPLES)/keepalived.conf && \
		chmod 644 $(DESTDIR)$(HA_EXAMPLES)/keepalived.conf
	$(Q)$(INSTALL) -m 644 rules/ha/conntrackd.conf $(DESTDIR)$(HA_EXAMPLES)/conntrackd.conf
	$(Q)$(INSTALL) -m 644 doc/ha.md $(DESTDIR)$(DOCDIR)/ha.md

uninstall:
	$(Q)rm -f $(addprefix $(DESTDIR)$(SBINDIR)/,pepsal pepsal-queuer pepsal-shm pepsal-iptables pepsal-ha) \
		$(DESTDIR)$(HA_EXAMPLES)/keepalived.conf $(DESTDIR)$(HA_EXAMPLES)/conntrackd.conf \
		$(DESTDIR)$(DOCDIR)/ha.md \
		$(DESTDIR)$(LIBEXECDIR)/pepsal/pepsal-start \
		$(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(MAN8))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(MAN5))) \
		$(DESTDIR)$(UNITDIR)/pepsal.service $(DESTDIR)$(SYSCONFDIR)/pepsal/pepsal.conf.new
	$(Q)conf=$(DESTDIR)$(SYSCONFDIR)/pepsal/pepsal.conf; \
	if [ -e "$$conf" ] && ! cmp -s rules/pepsal.conf "$$conf"; then \
		echo "uninstall: kept $$conf (changed)"; \
	else \
		rm -f "$$conf"; \
	fi
	$(Q)rmdir $(DESTDIR)$(LIBEXECDIR)/pepsal $(DESTDIR)$(SYSCONFDIR)/pepsal 2>/dev/null || true
	$(Q)rmdir $(DESTDIR)$(HA_EXAMPLES) $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null || true

.PHONY: install uninstall
