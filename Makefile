# brock: one static binary for Amazon Bedrock. See README.md.
#   make            build/brock (static, musl)     make release   stripped
#   make check      unit tests (musl), the same under ASan+UBSan (clang, glibc),
#                   fuzz-corpus replay, integration tests against the emulator
#   make cross      build/aarch64/brock, build/armhf/brock
#   make size       bytes per module, BearSSL, libc; stripped size against .ci/size-budget
#   make check-cross  unit tests under qemu-user
#   make fuzz-smoke every libFuzzer target for a bounded time
#   make fuzz-long  every target for FUZZ_SECONDS (or FUZZ_RUNS executions), new coverage merged into fuzz/corpus
#   make lint       banned functions, cppcheck, include guards, symbol prefixes
#   make demo       brock chat + brock models list against the local emulator
#   make bench      every figure of bench/RESULTS.md (make bench-peers: only brock against its peers)
#   make dist       release tarballs + SHA256SUMS in dist/ (reproducible)
#   make deps       install build tools (Debian, idempotent)
.SUFFIXES:
SHELL = /bin/sh

BUILD   ?= build
VENDOR  ?= $(BUILD)/vendor
MUSLCC  ?= musl-gcc
CLANG   ?= clang
FUZZ_SECONDS ?= 20
VERSION = 0.1.0

CSTD   = -std=c11 -D_DEFAULT_SOURCE
WARN   = -Wall -Wextra -Wpedantic -Werror -Wshadow -Wvla -Wstrict-prototypes \
         -Wmissing-prototypes -Wno-missing-field-initializers
INC    = -Isrc -I$(VENDOR)/include -I$(VENDOR)/src/bearssl/inc -I$(BUILD)/gen
BR_CFLAGS = -DBR_USE_GETENTROPY=1 -DBR_USE_URANDOM=0 -I$(VENDOR)/src/bearssl/inc -I$(VENDOR)/src/bearssl/src

LAYERS  := base wire net aws bedrock cmd
SRCS    := $(filter-out src/cmd/main.c,$(foreach l,$(LAYERS),$(wildcard src/$(l)/*.c)))
TESTS   := $(basename $(notdir $(wildcard tests/test_*.c)))
FUZZERS := $(basename $(notdir $(wildcard fuzz/fuzz_*.c)))
GEN     := $(BUILD)/gen/amazon_roots.h $(BUILD)/gen/version.h

all: $(BUILD)/brock

# ---------------------------------------------------------------------------
# Vendor inputs (fetched and verified by vendor/fetch.sh)
$(VENDOR)/.stamp: vendor/fetch.sh vendor/lock
	vendor/fetch.sh $(VENDOR)
	touch $@

deps:
	@VENDOR=$(VENDOR) vendor/deps.sh

deps-cross:
	@VENDOR=$(VENDOR) vendor/deps.sh cross

$(BUILD)/gen/amazon_roots.h: vendor/roots.sh
	@mkdir -p $(@D)
	sh vendor/roots.sh > $@.tmp && mv $@.tmp $@

# The list of sources: rewritten when a file is added or removed, so every libbrock.a is
# rebuilt with it (with .SECONDARY, a missing object alone would not make the library stale).
$(BUILD)/gen/srcs.txt: FORCE
	@mkdir -p $(@D)
	@echo $(SRCS) > $@.tmp && if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

# Rewritten only when the commit (or VERSION) changed, so only main.o follows it.
$(BUILD)/gen/version.h: FORCE
	@mkdir -p $(@D)
	@sh vendor/version.sh $(VERSION) $@

FORCE:

# ---------------------------------------------------------------------------
# One build variant: $(1)=dir  $(2)=CC  $(3)=CFLAGS  $(4)=LDFLAGS
define variant
# Rewritten only when this variant's compiler or flags change, so a flag change
# rebuilds what it affects (BearSSL too) and nothing else.
$(1)/flags: FORCE
	@mkdir -p $(1)
	@echo '$(2) $(3) $(4)$(if $(filter -Os -Oz,$(3)), $(HOT) $(HOT_CFLAGS))' >$$@.tmp; if cmp -s $$@.tmp $$@; then rm -f $$@.tmp; else mv $$@.tmp $$@; fi

$(1)/bearssl/libbearssl.a: $(VENDOR)/.stamp $(1)/flags
	@mkdir -p $(1)/bearssl/o
	@echo "  BEARSSL $(1)"
	@find $(VENDOR)/src/bearssl/src -name '*.c' | sort | \
	  xargs -P 4 -I{} sh -c 'o=$(1)/bearssl/o/$$$$(echo {} | tr / _).o; $(2) $(filter-out -Werror -fsanitize%,$(3)) -w $(BR_CFLAGS) -c {} -o $$$$o' && \
	  rm -f $$@ && ar rcs $$@ $(1)/bearssl/o/*.o

$(1)/obj/%.o: src/%.c $(VENDOR)/.stamp $(1)/flags | $(GEN)
	@mkdir -p $$(@D)
	@echo "  CC      $$@"
	@$(2) $(CSTD) $(WARN) $(3) $$(if $$(filter $$*,$(HOT)),$(if $(filter -Os -Oz,$(3)),$(HOT_CFLAGS))) $(INC) -MMD -MP -c $$< -o $$@

$(1)/libbrock.a: $(patsubst src/%.c,$(1)/obj/%.o,$(SRCS)) $(BUILD)/gen/srcs.txt
	@rm -f $$@ && ar rcs $$@ $$(filter %.o,$$^)

$(1)/brock: $(1)/obj/cmd/main.o $(1)/libbrock.a $(1)/bearssl/libbearssl.a $(1)/flags
	@echo "  LD      $$@"
	@$(2) $(3) $(4) -Wl,-Map=$$@.map -o $$@ $$(filter %.o %.a,$$^)

$(1)/tests/%: tests/%.c $(1)/libbrock.a $(1)/bearssl/libbearssl.a
	@mkdir -p $$(@D)
	@echo "  CC      $$@"
	@$(2) $(CSTD) $(WARN) -Wno-missing-prototypes $(3) $(INC) -Itests -MMD -MP -MF $$(@D)/.$$(@F).d $(4) -o $$@ $$< $(1)/libbrock.a $(1)/bearssl/libbearssl.a

$(1)/replay/%: fuzz/%.c fuzz/replay.c $(1)/libbrock.a $(1)/bearssl/libbearssl.a
	@mkdir -p $$(@D)
	@$(2) $(CSTD) $(WARN) -Wno-missing-prototypes $(3) $(INC) $(4) -o $$@ $$< fuzz/replay.c $(1)/libbrock.a $(1)/bearssl/libbearssl.a

$(1)/unit: $(addprefix $(1)/tests/,$(TESTS))
endef

# Size (make size, issue 13): no unwind tables (C only, nothing unwinds or prints a
# backtrace; -fno-unwind-tables drops .eh_frame, and .ARM.exidx on armv7), and the
# file is laid out without page padding: -z noseparate-code packs code and
# read-only data into neighbouring pages, -z norelro drops the padding that puts
# the end of RELRO on a page boundary (a static musl binary never mprotects
# RELRO: that region is writable at run time either way), -z common-page-size=64
# stops ld from padding the file so that data+bss fit one page of memory.
# -fno-pie: the binary is a static ET_EXEC at a fixed address anyway.
# -Oz (gcc 12): -Os that also trades speed for bytes (-3.8 KB), and
# -fno-jump-tables (-1.1 KB): a switch becomes a compare chain; both are fine
# for the code that runs once per command or request. The modules the
# streaming hot path runs per event (HOT) are built -O2 -fjump-tables instead:
# at -Os the event-stream decoder did 7.0 M messages/s, at -O2 18 M
# (bench/RESULTS.md), for 1.2 KB. --sort-section=alignment packs the input
# sections by alignment, so less padding between them (-0.4 KB).
# Hardening: no stack protector and no CET (neither is on by default in
# Debian's gcc, and musl's static start has no RELRO to keep); what guards
# brock's parsers is that they are bounds-checked and fuzzed.
MUSL_CFLAGS  = -Oz -fno-jump-tables -g -ffunction-sections -fdata-sections -ffile-prefix-map=$(CURDIR)/= \
               -fno-asynchronous-unwind-tables -fno-unwind-tables -fno-pie
MUSL_LDFLAGS = -static -Wl,--gc-sections -Wl,-z,noseparate-code -Wl,-z,norelro -Wl,-z,common-page-size=64 \
               -Wl,--sort-section=alignment
HOT          = wire/evstream wire/crc32 base/buf
HOT_CFLAGS   = -O2 -fjump-tables
ASAN_CFLAGS  = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS  = -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -DBROCK_FUZZING
TSAN_CFLAGS  = -O1 -g -fno-omit-frame-pointer -fsanitize=thread
# The bench: host gcc -O2 against glibc, so zlib in the same process is measured on equal terms.
# make bench BENCH_CFLAGS='-Oz -fno-jump-tables -g' measures the shipped flags (HOT at -O2).
BENCH_CFLAGS = -O2 -g

$(eval $(call variant,$(BUILD),$(MUSLCC),$(MUSL_CFLAGS),$(MUSL_LDFLAGS)))
$(eval $(call variant,$(BUILD)/asan,$(CLANG),$(ASAN_CFLAGS),-fsanitize=address,undefined))
$(eval $(call variant,$(BUILD)/fuzz,$(CLANG),$(FUZZ_CFLAGS),))
$(eval $(call variant,$(BUILD)/tsan,$(CLANG),$(TSAN_CFLAGS),-fsanitize=thread))
$(eval $(call variant,$(BUILD)/bench,gcc,$(BENCH_CFLAGS),))

# Cross builds: Debian's gcc cross compilers with the multiarch musl specs.
AARCH64_CC = aarch64-linux-musl-gcc
ARMHF_CC   = arm-linux-musleabihf-gcc
$(eval $(call variant,$(BUILD)/aarch64,$(AARCH64_CC),$(MUSL_CFLAGS),$(MUSL_LDFLAGS)))
$(eval $(call variant,$(BUILD)/armhf,$(ARMHF_CC),$(MUSL_CFLAGS),$(MUSL_LDFLAGS)))

# ---------------------------------------------------------------------------
release: $(BUILD)/brock
	strip --strip-all -R .comment $(BUILD)/brock
	@ls -l $(BUILD)/brock

# Bytes per module, for BearSSL and libc (from the link map), and the stripped
# size against the budget in SIZE_BUDGET (fails when over); the cross builds'
# stripped sizes when they are there (make cross).
SIZE_BUDGET = .ci/size-budget
size: $(BUILD)/brock
	@sh vendor/size.sh $(BUILD)/brock.map $(BUILD)/brock $(SIZE_BUDGET)
	@for a in aarch64:aarch64-linux-gnu-strip armhf:arm-linux-gnueabihf-strip; do \
	  b=$(BUILD)/$${a%%:*}/brock s=$${a#*:}; \
	  if [ -f $$b ] && command -v $$s >/dev/null; then \
	    $$s --strip-all -R .comment -o $$b.stripped $$b && \
	    echo "stripped $$b: $$(wc -c <$$b.stripped) bytes (no budget)"; fi; done

unit: $(BUILD)/unit $(BUILD)/asan/unit $(addprefix $(BUILD)/asan/replay/,$(FUZZERS))

check: deps $(BUILD)/brock $(BUILD)/asan/brock unit
	@sh tests/run.sh $(BUILD)

check-fast: $(BUILD)/brock $(BUILD)/unit
	@BROCK_SKIP_ASAN=1 sh tests/run.sh $(BUILD)

cross: deps-cross $(BUILD)/aarch64/brock $(BUILD)/armhf/brock
	@file $(BUILD)/aarch64/brock $(BUILD)/armhf/brock

check-cross: cross $(BUILD)/aarch64/unit $(BUILD)/armhf/unit
	@BROCK_QEMU=qemu-aarch64-static BROCK_UNIT_ONLY=1 sh tests/run.sh $(BUILD)/aarch64
	@BROCK_QEMU=qemu-arm-static BROCK_UNIT_ONLY=1 sh tests/run.sh $(BUILD)/armhf

$(BUILD)/fuzz/bin/%: fuzz/%.c $(BUILD)/fuzz/libbrock.a $(BUILD)/fuzz/bearssl/libbearssl.a
	@mkdir -p $(@D)
	@$(CLANG) $(CSTD) $(WARN) -Wno-missing-prototypes $(FUZZ_CFLAGS) -fsanitize=fuzzer $(INC) -o $@ $^

fuzz-build: $(addprefix $(BUILD)/fuzz/bin/,$(FUZZERS))

fuzz-smoke: fuzz-build
	@sh fuzz/smoke.sh $(BUILD)/fuzz/bin $(FUZZ_SECONDS) $(FUZZERS)

# Long runs that grow the committed corpus (fuzz/long.sh; results in fuzz/RESULTS.md).
fuzz-long: fuzz-build
	@FUZZ_RUNS=$(FUZZ_RUNS) sh fuzz/long.sh $(BUILD)/fuzz/bin $(FUZZ_SECONDS) $(FUZZERS)

lint:
	@sh tests/lint.sh

demo: deps $(BUILD)/brock
	@sh tests/emulator/demo.sh $(BUILD)/brock

# The bench links the same libbrock.a as the product (built -O2 for glibc), so it cannot drift.
$(BUILD)/bench/bench: bench/bench.c $(BUILD)/bench/libbrock.a $(BUILD)/bench/bearssl/libbearssl.a
	@echo "  LD      $@"
	@gcc $(CSTD) $(WARN) -Wno-missing-prototypes $(BENCH_CFLAGS) $(INC) -MMD -MP -MF $(@D)/.$(@F).d -o $@ $^ -ldeflate -lz

# The decoder's modules (HOT) at the other levels, the rest as above: what HOT's -O2 buys.
BENCH_LEVELS = Os:-Os Oz:-Oz_-fno-jump-tables
$(BUILD)/bench/bench-%: bench/bench.c $(addprefix src/,$(addsuffix .c,$(HOT))) $(BUILD)/bench/libbrock.a $(BUILD)/bench/bearssl/libbearssl.a
	@echo "  LD      $@"
	@mkdir -p $@.obj && for m in $(HOT); do \
	  gcc $(CSTD) $(WARN) $(subst _, ,$(patsubst $*:%,%,$(filter $*:%,$(BENCH_LEVELS)))) -g $(INC) -c src/$$m.c \
	      -o $@.obj/$$(echo $$m | tr / _).o || exit 1; done
	@gcc $(CSTD) $(WARN) -Wno-missing-prototypes $(BENCH_CFLAGS) $(INC) -o $@ bench/bench.c $@.obj/*.o \
	  $(BUILD)/bench/libbrock.a $(BUILD)/bench/bearssl/libbearssl.a -ldeflate -lz

# Every figure bench/RESULTS.md reports: CRC-32 per path against zlib and libdeflate, event-stream
# decode (HOT as shipped, then at -Os and -Oz), the stripped binaries, and CPU per streamed delta
# and peak memory of brock chat and the gateway against the AWS SDK for JS v3 and pi-ai
# (bench/peers.py; PEERS_ARGS, e.g. '--runs 20 --h2'). BENCH_SECONDS=0.01 (CI) only proves it runs.
PEERS_ARGS ?= $(if $(filter 0.0%,$(BENCH_SECONDS)),--smoke)
bench: $(BUILD)/bench/bench $(addprefix $(BUILD)/bench/bench-,$(foreach l,$(BENCH_LEVELS),$(firstword $(subst :, ,$(l))))) $(BUILD)/brock
	@echo "bench: $< (gcc $(BENCH_CFLAGS), glibc, $$(gcc -dumpfullversion), zlib $$(sed -n 's/^#define ZLIB_VERSION "\(.*\)"/\1/p' /usr/include/zlib.h), libdeflate $$(sed -n 's/^#define LIBDEFLATE_VERSION_STRING[^"]*"\(.*\)"/\1/p' /usr/include/libdeflate.h), $$(git rev-parse --short HEAD 2>/dev/null)); load average $$(cut -d' ' -f1-3 /proc/loadavg)"
	@$<
	@for l in $(BENCH_LEVELS); do l=$${l%%:*}; echo "bench-$$l: $(HOT) at -$$l, the rest $(BENCH_CFLAGS); load average $$(cut -d' ' -f1-3 /proc/loadavg)"; \
	  $(BUILD)/bench/bench-$$l evstream | tail -n +2 || exit 1; done
	@for b in $(BUILD)/brock:strip $(BUILD)/aarch64/brock:aarch64-linux-gnu-strip $(BUILD)/armhf/brock:arm-linux-gnueabihf-strip; do \
	  s=$${b#*:} b=$${b%%:*}; if [ -f $$b ] && command -v $$s >/dev/null; then \
	    $$s --strip-all -R .comment -o $$b.stripped $$b && \
	    echo "size: $$b stripped $$(wc -c <$$b.stripped) bytes (built $$(date -u -r $$b '+%F %H:%M'))"; fi; done
	@echo "size: budget for x86_64 $$(sed -n '/^[[:space:]]*[0-9]/{s/^[[:space:]]*\([0-9]*\).*/\1/p;q;}' $(SIZE_BUDGET)) bytes ($(SIZE_BUDGET))"
	@python3 bench/peers.py $(PEERS_ARGS)

# Only the end-to-end part of make bench (npm ci in bench/peers first when node_modules is missing).
bench-peers: $(BUILD)/brock
	@python3 bench/peers.py $(PEERS_ARGS)

# Serve-mode load: a C upstream stub (ConverseStream event streams) and a load
# generator, run as separate processes against build/brock (bench/serve.sh).
$(BUILD)/bench/serve_%: bench/serve_%.c $(BUILD)/bench/libbrock.a $(BUILD)/bench/bearssl/libbearssl.a
	@echo "  LD      $@"
	@gcc $(CSTD) $(WARN) -Wno-missing-prototypes $(BENCH_CFLAGS) $(INC) -o $@ $^ -lpthread

bench-serve: $(BUILD)/brock $(BUILD)/bench/serve_stub $(BUILD)/bench/serve_load
	@sh bench/serve.sh $(BUILD)/brock $(BUILD)/bench

# Per protocol (OpenAI, Anthropic, Bedrock pass-through), the stub read directly, and short
# keep-alive requests; BEFORE=path/to/older/brock adds its short run (bench/serve_proto.sh).
.PHONY: bench-serve-proto
bench-serve-proto: $(BUILD)/brock $(BUILD)/bench/serve_stub $(BUILD)/bench/serve_load
	@sh bench/serve_proto.sh $(BUILD)/brock $(BUILD)/bench $(BEFORE)

# Release tarballs (SPEC 9), reproducible; DIST_ARCHES picks a subset.
DIST_ARCHES ?= x86_64 aarch64 armv7
dist: $(BUILD)/brock $(if $(filter aarch64,$(DIST_ARCHES)),$(BUILD)/aarch64/brock) \
      $(if $(filter armv7,$(DIST_ARCHES)),$(BUILD)/armhf/brock)
	@BUILD=$(BUILD) DIST_ARCHES="$(DIST_ARCHES)" sh vendor/dist.sh $(VERSION)

clean:
	rm -rf $(BUILD)/obj $(BUILD)/tests $(BUILD)/brock $(BUILD)/brock.map $(BUILD)/flags $(BUILD)/libbrock.a $(BUILD)/asan $(BUILD)/fuzz $(BUILD)/tsan \
	       $(BUILD)/aarch64 $(BUILD)/armhf $(BUILD)/gen $(BUILD)/replay $(BUILD)/bench

distclean:
	rm -rf $(BUILD) dist

# Per-object header dependencies written by -MMD -MP.
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

.PHONY: size dist FORCE all deps deps-cross demo lint release unit check check-fast cross check-cross fuzz-build fuzz-smoke fuzz-long bench bench-peers bench-serve clean distclean
.SECONDARY:
