# bench/bench.mk: throughput numbers (`make bench` runs `$(MAKE) -f bench/bench.mk run`).
# Built with the host gcc -O2 against glibc and zlib, not musl: the point is to
# compare our code with zlib on equal terms. The project sources the bench
# needs are compiled here directly; BearSSL (for the SigV4 bench) is built for
# glibc from the same verified vendor tree the Makefile uses, only the hash,
# MAC and codec parts that HMAC-SHA256 needs.
#   make bench                      (about 15 s)
#   BENCH_SECONDS=0.3 make bench    (quick)
.SUFFIXES:
BUILD  ?= build
VENDOR ?= $(BUILD)/vendor
B      := $(BUILD)/bench
CC     := gcc
CFLAGS := -std=c11 -D_DEFAULT_SOURCE -O2 -Wall -Wextra -Wno-missing-field-initializers \
          -Isrc -I$(VENDOR)/include -I$(VENDOR)/src/bearssl/inc
BR_DIR := $(VENDOR)/src/bearssl/src

SRCS   := src/crc32.c src/evstream.c src/buf.c src/err.c src/converse.c src/json.c src/base64.c
LIBS   := -lz -lm
# The SigV4 bench joins in as soon as the signer exists.
ifneq ($(wildcard src/sigv4.h),)
SRCS   += src/sigv4.c src/pctenc.c src/timefmt.c
CFLAGS += -DBENCH_SIGV4
BR_SRCS := $(wildcard $(BR_DIR)/hash/*.c $(BR_DIR)/mac/*.c $(BR_DIR)/codec/*.c)
BR_OBJS := $(patsubst $(BR_DIR)/%.c,$(B)/bearssl/%.o,$(BR_SRCS))
endif
OBJS   := $(patsubst src/%.c,$(B)/obj/%.o,$(SRCS))

run: $(B)/bench
	@echo "bench: $(B)/bench (gcc -O2, glibc, $$(gcc -dumpfullversion), zlib $$(sed -n 's/^#define ZLIB_VERSION "\(.*\)"/\1/p' /usr/include/zlib.h))"
	@$(B)/bench

$(B)/bench: bench/bench.c $(OBJS) $(BR_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(B)/obj/%.o: src/%.c $(wildcard src/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(B)/bearssl/%.o: $(BR_DIR)/%.c
	@mkdir -p $(@D)
	$(CC) -O2 -w -DBR_USE_GETENTROPY=1 -DBR_USE_URANDOM=0 -I$(VENDOR)/src/bearssl/inc \
	  -I$(BR_DIR) -c $< -o $@

.PHONY: run
