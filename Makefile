# dumpguard: the two commands a newcomer types are `make run` and `make test`.
# Everything else here is what those two are made of.

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
# CI sets CI=true: warnings become errors there.
WERROR     := $(if $(CI),ON,OFF)
# Unity builds compile each layer's sources as a few large files, so the heavy headers (JSON,
# fmt, <filesystem>) are parsed a few times per layer instead of once per file: the two cold
# builds take about a third less time. UNITY=OFF builds file by file (faster to rebuild one edited file).
UNITY      ?= ON

.PHONY: all deps configure build asan run test test-release test-asan demo clean install fuzz

all: build

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja: | deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DDUMPGUARD_WERROR=$(WERROR) -DDUMPGUARD_BENCH=ON -DCMAKE_UNITY_BUILD=$(UNITY) >/dev/null

build: deps $(BUILD)/build.ninja
	cmake -S . -B $(BUILD) -DDUMPGUARD_WERROR=$(WERROR) -DDUMPGUARD_BENCH=ON -DCMAKE_UNITY_BUILD=$(UNITY) >/dev/null
	ninja -C $(BUILD) -j $(JOBS)

# clang ASan+UBSan build with the libFuzzer targets. No test in it dumps a process. Line tables
# only: sanitizer reports still name file and line, and it compiles faster than full -g.
$(ASAN_BUILD)/build.ninja: | deps
	CC=clang CXX=clang++ cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -gline-tables-only -DNDEBUG" \
	  -DDUMPGUARD_SANITIZE=ON -DDUMPGUARD_FUZZ=ON -DDUMPGUARD_WERROR=$(WERROR) -DCMAKE_UNITY_BUILD=$(UNITY) >/dev/null

asan: deps $(ASAN_BUILD)/build.ninja
	cmake -S . -B $(ASAN_BUILD) -DDUMPGUARD_WERROR=$(WERROR) -DCMAKE_UNITY_BUILD=$(UNITY) >/dev/null
	ninja -C $(ASAN_BUILD) -j $(JOBS)

run: build
	@scripts/demo.sh $(BUILD)

test: build asan
	ctest --test-dir $(BUILD) --output-on-failure -j 2
	ctest --test-dir $(ASAN_BUILD) --output-on-failure -j 2

test-release: build
	ctest --test-dir $(BUILD) --output-on-failure -j 2

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
