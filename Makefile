# Short wrappers around CMake. `make help` lists them.
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all build run test test-release test-debug2 test-asan test-tsan test-aarch64 test-aarch64-vm check mutants bench install clean help deps

all: build

help:
	@echo "make deps        install the Debian packages the build and tests need"
	@echo "make build       configure and build (RelWithDebInfo) in $(BUILD)/"
	@echo "make run         build and run the zonealloc tool's default scenario"
	@echo "make test        build and run the test suite (release build)"
	@echo "make test-debug2 level-2 assertions (ZA_DEBUG=2) on the core, hotplug, reclaim, rules, compaction and reporting tests (build-debug2/)"
	@echo "make test-asan   the suite under AddressSanitizer + UBSan (build-asan/)"
	@echo "make test-tsan   the suite under ThreadSanitizer (build-tsan/)"
	@echo "make test-aarch64 the suite built for 64-bit Arm and run under QEMU's user mode (build-aarch64/; installs the cross toolchain)"
	@echo "make test-aarch64-vm the restartable tests in a virtual Arm machine with Debian's arm64 kernel (build-aarch64-vm/)"
	@echo "make check       all six: what CI runs"
	@echo "make mutants     undo each guarded rule in a scratch copy; every one must fail a test (docs/TESTING.md)"
	@echo "make bench       the benchmarks (see docs/PERFORMANCE.md)"
	@echo "make install     install library, header, pkg-config file and tool"

deps:
	./scripts/deps.sh

build:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j$(JOBS)

run: build
	./$(BUILD)/tools/zonealloc

test: test-release

test-release: build
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)

# The expensive assertions (ZA_DEBUG=2: whole free lists, every page of a
# block) on the labels that drive a page through its states. The whole
# suite at level 2 is too slow for CI (the fuzzer and the spin models run
# minutes longer); see docs/TESTING.md.
DEBUG2_LABELS ?= ^(core|hotplug|reclaim|rules|compaction|reporting)$$
test-debug2:
	cmake -S . -B build-debug2 -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZA_DEBUG=2 -DZA_BUILD_BENCH=OFF $(CMAKE_FLAGS)
	cmake --build build-debug2 -j$(JOBS)
	ctest --test-dir build-debug2 --output-on-failure -j$(JOBS) -L '$(DEBUG2_LABELS)'

test-asan:
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DZA_SANITIZE=address -DZA_BUILD_BENCH=OFF $(CMAKE_FLAGS)
	cmake --build build-asan -j$(JOBS)
	ctest --test-dir build-asan --output-on-failure -j$(JOBS)

test-tsan:
	cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DZA_SANITIZE=thread -DZA_BUILD_BENCH=OFF $(CMAKE_FLAGS)
	cmake --build build-tsan -j$(JOBS)
	ctest --test-dir build-tsan --output-on-failure -j$(JOBS)

# The second architecture of the restartable page sets, cross-built and
# run under QEMU's user-mode emulator (scripts/cross-test.sh says what it
# covers and what it cannot).
test-aarch64:
	JOBS=$(JOBS) ./scripts/cross-test.sh

# The restartable runs on aarch64 for real: a virtual Arm machine booting
# Debian's arm64 kernel, whose rseq and membarrier run the sequence of
# src/rseq-aarch64.h (scripts/aarch64-vm-test.sh).
test-aarch64-vm:
	JOBS=$(JOBS) ./scripts/aarch64-vm-test.sh

check: test-release test-debug2 test-asan test-tsan test-aarch64 test-aarch64-vm

# Not part of check (it takes minutes): run it before submitting a change
# to src/. See docs/TESTING.md.
mutants:
	JOBS=$(JOBS) ./scripts/mutants.sh

bench:
	./bench/run.sh

# The loader finds a library in /usr/local/lib through its cache
# (/etc/ld.so.cache), which only ldconfig updates: without it a program
# linked to the new libzonealloc.so does not start. Not for a staged
# install (DESTDIR: a package's own scripts do it) nor as a user.
install: build
	cmake --install $(BUILD)
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v ldconfig >/dev/null; then \
		echo ldconfig; ldconfig; fi

clean:
	rm -rf $(BUILD) build-debug2 build-asan build-tsan build-bench build-aarch64 build-aarch64-vm
