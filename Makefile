# kreek's front door: a thin wrapper over CMake.
#   make run      install missing build dependencies, build the programs (release), start a standalone broker
#   make test     build and run every test (unit + integration) through ctest; it includes a
#                 short fuzz run (fuzz.short.*, ~8 s per target, FUZZ_SHORT_SECONDS): the fuzz
#                 targets built by g++ and fed blind seeded mutations of the corpus, without
#                 coverage guidance or sanitizers, so a smoke test, not fuzzing proper
#   make asan     the same tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   make fuzz     the real fuzzing: the libFuzzer targets (clang, coverage guided, ASan+UBSan)
#                 built in $(FUZZ_BUILD) and run each FUZZ_SECONDS (default 60); tests/fuzz/README
#   make bench    throughput and latency figures, with Redis Streams beside them
#   make soak     long load runs and the long fault tests (not part of make test)
#   make install  binaries, man pages and completions under $(DESTDIR)$(PREFIX)

PREFIX    ?= /usr/local
DESTDIR   ?=
BUILD     ?= build
JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
LISTEN    ?= 127.0.0.1:9092
DATA_DIR  ?= ./kreek-data

# Debian packages: to build, to run the tests, and for the benchmark peers.
BUILD_DEPS := g++ cmake make pkg-config libcli11-dev nlohmann-json3-dev libuv1-dev doctest-dev libssl-dev
TEST_DEPS  := netcat-openbsd jq socat mandoc man-db bash-completion procps openssl
BENCH_DEPS := redis-server redis-tools
ASAN_DEPS  := clang libclang-rt-14-dev
# The fuzz targets only (the normal build stays on g++).
FUZZ_DEPS  := clang libclang-rt-14-dev
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60

.PHONY: all build tools run test asan bench soak install deps test-deps bench-deps clean fuzz fuzz-build

all: build

# Installs only what is missing, so a ready machine never touches apt.
define apt_install_missing
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "need root to install:$$missing" >&2; exit 77; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

deps:
	$(call apt_install_missing,$(BUILD_DEPS))

test-deps: deps
	$(call apt_install_missing,$(TEST_DEPS))

bench-deps: deps
	$(call apt_install_missing,$(BENCH_DEPS))

# ccache, where installed, makes rebuilds after small changes quick; the
# build does not need it.
LAUNCHER := $(if $(shell command -v ccache 2>/dev/null),-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
TOOLS    := kbroker ktopic kproduce kconsume kzk-lite

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(LAUNCHER)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# Only the programs: the unit tests and bench tools are not needed to run.
tools: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target $(TOOLS)

run: tools
	exec $(BUILD)/kbroker --listen $(LISTEN) --data-dir $(DATA_DIR)

test: test-deps build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

fuzz-build: deps
	$(call apt_install_missing,$(FUZZ_DEPS))
	CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DKREEK_FUZZ=ON -DCMAKE_BUILD_TYPE=Fuzz $(LAUNCHER)
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_all

# Each target in turn over tests/fuzz/corpus/<target>; crashes land in $(FUZZ_BUILD)/artifacts.
fuzz: fuzz-build
	FUZZ_BUILD=$(CURDIR)/$(FUZZ_BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz/run.sh

asan: test-deps
	$(call apt_install_missing,$(ASAN_DEPS))
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DKREEK_SANITIZE=ON
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS)

bench: bench-deps test-deps build
	KREEK_BIN=$(CURDIR)/$(BUILD) bash bench/run.sh

soak: test-deps build
	KREEK_BIN=$(CURDIR)/$(BUILD) bash bench/soak.sh
	KREEK_BIN=$(CURDIR)/$(BUILD) KREEK_SRC=$(CURDIR) bash tests/fault/run.sh --long

install: build
	DESTDIR=$(DESTDIR) cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) build-asan $(FUZZ_BUILD)
