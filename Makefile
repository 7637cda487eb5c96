# fukivmm: one Makefile for the VMM, its tests, test guests, fuzzers and benchmarks.
#
#   make          build/fukivmm and build/toml-decode
#   make test     install missing packages, build everything, run every test
#   make test-long  the same with the long variants (test_uefi_swap's Linux)
#   make demo     install, build and run configs/demo.toml
#   make bench    run the benchmarks
#   make deps     install missing Debian packages (idempotent)

CC       ?= gcc
CLANG    ?= clang
BUILD    := build
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CPPFLAGS := -I. -D_GNU_SOURCE
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 $(WARN) -fno-strict-aliasing
LDLIBS   := -lpthread -lcrypto -lcbor -luring
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer

# every sub-folder of vmm/ and the platform folders; vmm/cli/main.c is the binary
SRC_DIRS := $(sort $(dir $(wildcard vmm/*/*.c))) devices/ loader/ snp/ tdx/
LIB_SRCS := $(filter-out vmm/cli/main.c,$(sort $(wildcard $(addsuffix *.c,$(SRC_DIRS)))))
MODEL_SRCS := $(sort $(wildcard tests/model/*.c))
UNIT_SRCS  := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRCS  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
# header dependencies come from the compiler (-MMD -MP), one .d per object
DEPFLAGS := -MMD -MP

LIB_OBJS      := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
LIB_OBJS_SAN  := $(LIB_SRCS:%.c=$(BUILD)/san/%.o)
MODEL_OBJS    := $(MODEL_SRCS:%.c=$(BUILD)/obj/%.o)
MODEL_OBJS_SAN:= $(MODEL_SRCS:%.c=$(BUILD)/san/%.o)
UNIT_BINS     := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/unit/%)
UNIT_BINS_SAN := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/unit-san/%)
FUZZ_BINS     := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/fuzzobj/%.o)

.PHONY: all test test-long demo bench deps clean unit unit-san fuzz guests check-tools check-layers
# keep every object: concurrent builds must not see them deleted as intermediates
.SECONDARY:

all: $(BUILD)/fukivmm $(BUILD)/toml-decode

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(BUILD)/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(SANFLAGS) $(DEPFLAGS) -c -o $@ $<

$(BUILD)/fuzzobj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CLANG) $(CPPFLAGS) -std=gnu11 -O1 -g -fsanitize=fuzzer-no-link,address,undefined -DFUKI_FUZZING $(DEPFLAGS) -c -o $@ $<

$(BUILD)/libfuki.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libfuki-san.a: $(LIB_OBJS_SAN)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/fukivmm: $(BUILD)/obj/vmm/cli/main.o $(BUILD)/libfuki.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# the VMM itself with AddressSanitizer + UBSan (integration tests can run it)
$(BUILD)/fukivmm-san: $(BUILD)/san/vmm/cli/main.o $(BUILD)/libfuki-san.a
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/toml-decode: tools/toml-decode.c $(BUILD)/libfuki.a
	$(CC) $(CPPFLAGS) $(CFLAGS) $(DEPFLAGS) -MF $@.d -o $@ $< $(BUILD)/libfuki.a $(LDLIBS)

$(BUILD)/unit/%: tests/unit/%.c $(BUILD)/libfuki.a $(MODEL_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(DEPFLAGS) -MF $@.d -o $@ $< $(MODEL_OBJS) $(BUILD)/libfuki.a -lcriterion $(LDLIBS)

$(BUILD)/unit-san/%: tests/unit/%.c $(BUILD)/libfuki-san.a $(MODEL_OBJS_SAN)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(SANFLAGS) $(DEPFLAGS) -MF $@.d -o $@ $< $(MODEL_OBJS_SAN) $(BUILD)/libfuki-san.a -lcriterion $(LDLIBS)

$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CLANG) $(CPPFLAGS) -std=gnu11 -O1 -g -fsanitize=fuzzer,address,undefined -DFUKI_FUZZING $(DEPFLAGS) -MF $@.d -o $@ $< $(FUZZ_LIB_OBJS) $(LDLIBS)

# the confidential run-time exits run against the platform model as well
FUZZ_MODEL_OBJS := $(MODEL_SRCS:%.c=$(BUILD)/fuzzobj/%.o)
$(BUILD)/fuzz/fuzz_coco_exits: tests/fuzz/fuzz_coco_exits.c $(FUZZ_LIB_OBJS) $(FUZZ_MODEL_OBJS)
	@mkdir -p $(dir $@)
	$(CLANG) $(CPPFLAGS) -std=gnu11 -O1 -g -fsanitize=fuzzer,address,undefined -DFUKI_FUZZING $(DEPFLAGS) -MF $@.d -o $@ $< $(FUZZ_LIB_OBJS) $(FUZZ_MODEL_OBJS) $(LDLIBS)

unit: $(UNIT_BINS)
unit-san: $(UNIT_BINS_SAN)
fuzz: $(FUZZ_BINS)

-include tests/guest/guest.mk
-include tests/uefi/uefi.mk

deps:
	@sh tools/deps.sh

# every CPU for the build: the suite's 20-minute budget is for 2-core machines
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)

test: deps
	$(MAKE) -j$(JOBS) all unit unit-san fuzz guests uefi $(BUILD)/fukivmm-san
	sh tests/run.sh

# the same, plus what takes too long for `make test` (FUKI_TEST_LONG=1:
# test_uefi_swap.sh boots the UKI's Linux)
test-long: deps
	$(MAKE) -j$(JOBS) all unit unit-san fuzz guests uefi $(BUILD)/fukivmm-san
	FUKI_TEST_LONG=1 sh tests/run.sh

# the include arrows of docs/architecture.md ("Layers"), checked over the sources
check-layers:
	@sh tools/check-layers.sh

demo: deps
	$(MAKE) all guests
	sh tools/demo.sh

$(BUILD)/timeit: tests/bench/timeit.c
	@mkdir -p $(BUILD)
	$(CC) -O2 -Wall -Wextra -Werror -o $@ $<

bench: deps
	$(MAKE) all guests $(BUILD)/timeit
	sh tests/bench/run.sh

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
