# SPDX-License-Identifier: GPL-2.0-or-later
# libFuzzer harnesses beside the packet parser's (queuer/module.mk):
#   make fuzz-opts     pepsal's command line and every option value parser
#   make fuzz-attach   attaching to (and reading) a segment of random content
#   make fuzz-serve    pepsal-shm serve's request reader (what any client sends)
#   make fuzz-queuer-opts  pepsal-queuer's command line and its value parsers
# each for FUZZ_SECONDS, with AddressSanitizer and UBSan; skipped with a
# message without clang. New inputs go to $(BUILD)/fuzz/corpus-NAME;
# FUZZ_SEEDS names a directory of seeds to start from.
FUZZ_FLAGS = -g -O1 -std=gnu11 -D_GNU_SOURCE -pthread -Iinclude \
	-DPEPSAL_VERSION='"$(VERSION)"' -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all
FUZZ_MORE := opts attach

$(BUILD)/fuzz/fuzz-opts: tests/fuzz/fuzz-opts.c proxy/config.c proxy/config_pair.c proxy/config.h $(LIBPEPSAL_SRCS)
$(BUILD)/fuzz/fuzz-attach: tests/fuzz/fuzz-attach.c $(LIBPEPSAL_SRCS)
FUZZ_MORE += serve queuer-opts
$(BUILD)/fuzz/fuzz-serve: tests/fuzz/fuzz-serve.c shm/inspect/http.c shm/inspect/http.h
$(BUILD)/fuzz/fuzz-queuer-opts: tests/fuzz/fuzz-queuer-opts.c queuer/options.c queuer/options.h \
	$(LIBPEPSAL_SRCS)
$(FUZZ_MORE:%=$(BUILD)/fuzz/fuzz-%):
	$(call quiet,FUZZCC,$@)mkdir -p $(dir $@) && $(FUZZ_CC) $(FUZZ_FLAGS) -o $@ \
		$(filter-out proxy/% queuer/% shm/inspect/%,$(filter %.c,$^))

$(FUZZ_MORE:%=fuzz-%): fuzz-%:
	$(Q)if ! command -v $(FUZZ_CC) >/dev/null 2>&1; then \
		echo "fuzz-$*: $(FUZZ_CC) not found, skipping (install clang)"; exit 0; fi; \
	$(MAKE) --no-print-directory $(BUILD)/fuzz/fuzz-$* && mkdir -p $(BUILD)/fuzz/corpus-$* && \
	$(BUILD)/fuzz/fuzz-$* -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
		-print_final_stats=1 $(BUILD)/fuzz/corpus-$* $(FUZZ_SEEDS)
.PHONY: $(FUZZ_MORE:%=fuzz-%)
