# SPDX-License-Identifier: GPL-2.0-or-later
# libFuzzer harnesses beside the packet parser's (queuer/module.mk):
#   make fuzz-opts     pepsal's command line and every option value parser
#   make fuzz-attach   attaching to (and reading) a segment of random content
#   make fuzz-pair-hdr the pair header's decoder (what any host may send a gateway)
#   make fuzz-handover the upgrade's messages, with descriptors attached
#   make fuzz-nfq      the queuer's netlink buffers and the verdict batches
#   make fuzz-serve    pepsal-shm serve's request reader (what any client sends)
#   make fuzz-queuer-opts  pepsal-queuer's command line and its value parsers
# each for FUZZ_SECONDS, with AddressSanitizer and UBSan; skipped with a
# message without clang. New inputs go to $(BUILD)/fuzz/corpus-NAME, an
# input that fails to $(BUILD)/fuzz/NAME-crash-*; FUZZ_SEEDS names a
# directory of seeds to start from.
FUZZ_FLAGS = -g -O1 -std=gnu11 -D_GNU_SOURCE -pthread -Iinclude \
	-DPEPSAL_VERSION='"$(VERSION)"' -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all
FUZZ_MORE := opts attach
FUZZ_MORE += pair-hdr handover nfq

$(BUILD)/fuzz/fuzz-opts: tests/fuzz/fuzz-opts.c proxy/config.c proxy/config_pair.c proxy/config.h $(LIBPEPSAL_SRCS)
$(BUILD)/fuzz/fuzz-attach: tests/fuzz/fuzz-attach.c $(LIBPEPSAL_SRCS)
# each includes the .c it fuzzes (and its libraries come from pkg-config)
$(BUILD)/fuzz/fuzz-pair-hdr: tests/fuzz/fuzz-pair-hdr.c proxy/pair_hdr.c proxy/pair_hdr.h shm/endpoint.c
$(BUILD)/fuzz/fuzz-handover: tests/fuzz/fuzz-handover.c proxy/handover.c proxy/handover.h
# nfq.c stamps the set-up timeline (issue 28): libpepsal's timeline and clock
$(BUILD)/fuzz/fuzz-nfq: tests/fuzz/fuzz-nfq.c queuer/nfq.c queuer/nfq.h shm/timeline.c shm/clock.c
FUZZ_MORE += serve queuer-opts
$(BUILD)/fuzz/fuzz-serve: tests/fuzz/fuzz-serve.c shm/inspect/http.c shm/inspect/http.h
$(BUILD)/fuzz/fuzz-queuer-opts: tests/fuzz/fuzz-queuer-opts.c queuer/options.c queuer/options.h \
	$(LIBPEPSAL_SRCS)
$(FUZZ_MORE:%=$(BUILD)/fuzz/fuzz-%):
	$(call quiet,FUZZCC,$@)mkdir -p $(dir $@) && $(FUZZ_CC) $(FUZZ_FLAGS) $(PKG_CFLAGS) -o $@ \
		$(filter-out proxy/% queuer/% shm/inspect/%,$(filter %.c,$^)) $(PKG_LIBS)

$(FUZZ_MORE:%=fuzz-%): fuzz-%:
	$(Q)if ! command -v $(FUZZ_CC) >/dev/null 2>&1; then \
		echo "fuzz-$*: $(FUZZ_CC) not found, skipping (install clang)"; exit 0; fi; \
	$(MAKE) --no-print-directory $(BUILD)/fuzz/fuzz-$* && mkdir -p $(BUILD)/fuzz/corpus-$* && \
	$(BUILD)/fuzz/fuzz-$* -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
		-artifact_prefix=$(BUILD)/fuzz/$*- -print_final_stats=1 $(BUILD)/fuzz/corpus-$* $(FUZZ_SEEDS)
.PHONY: $(FUZZ_MORE:%=fuzz-%)
