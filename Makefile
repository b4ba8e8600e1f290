# Kinode package + harness. `make help` lists the targets.
# The package's own targets (build, run, package, ...) are in package.mk,
# which `make new` copies into every package made from this template.

# Processes built into pkg/: each is a workspace crate of the same name.
PROCESSES    := parent child
HARNESS      := cargo run -q -p host-harness --
COMPONENTIZE := cargo run -q -p componentize --
# Test processes for the harness: built next to the package, never into pkg/.
TEST_GUESTS  := probe

include package.mk

# The template built for hyperdrive, beside pkg/: its scenarios must pass
# under both runtimes.
HYPERWARE_PKG := target/hyperware-package
# The Hyperware builds' own target directory (see FLAVOR in package.mk).
HYPERWARE_DIR := $(TARGET_DIR)/hyperware
HYPERWARE_OUT := $(HYPERWARE_DIR)/$(WASM_TARGET)/$(WASM_PROFILE)

.PHONY: test test-guests test-hyperware test-browser bench lint new fuzz

test: build test-guests test-hyperware ## Build the package (both flavours) and test guests, then run every test (unit, WIT, components, end to end, make new) and the scenarios
	cargo test
	$(HARNESS) test .
	$(HARNESS) test host-harness/tests/probe-package

test-browser: build ## Check the timeline page in headless Chromium (Debian's package, installed if missing; CI runs this)
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	cargo test -p host-harness --test all -- --ignored in_chromium

test-hyperware: toolchain ## Build the processes with hyperware_process_lib into target/hyperware-package/ and run the scenarios there (hyperdrive's rules)
	cargo build --target $(WASM_TARGET) --profile $(WASM_PROFILE) --target-dir $(HYPERWARE_DIR) --no-default-features --features hyperware $(addprefix -p ,$(PROCESSES))
	@rm -rf $(HYPERWARE_PKG) && mkdir -p $(HYPERWARE_PKG)/pkg
	@cp -r metadata.json tests $(HYPERWARE_PKG)/ && cp pkg/manifest.json $(HYPERWARE_PKG)/pkg/
	@for p in $(PROCESSES); do $(COMPONENTIZE) $(HYPERWARE_OUT)/$$p.wasm $(HYPERWARE_PKG)/pkg/$$p.wasm || exit 1; done
	$(HARNESS) test $(HYPERWARE_PKG)

test-guests: toolchain ## Build the harness's test processes into target/test-guests/ (<name>.wasm, and <name>-hyperware.wasm with hyperware_process_lib)
	@mkdir -p target/test-guests
	cargo build --target $(WASM_TARGET) --profile $(WASM_PROFILE) --target-dir $(HYPERWARE_DIR) --no-default-features --features hyperware $(addprefix -p ,$(TEST_GUESTS))
	@for p in $(TEST_GUESTS); do $(COMPONENTIZE) $(HYPERWARE_OUT)/$$p.wasm target/test-guests/$$p-hyperware.wasm || exit 1; done
	cargo build --target $(WASM_TARGET) --profile $(WASM_PROFILE) $(addprefix -p ,$(TEST_GUESTS))
	@for p in $(TEST_GUESTS); do $(COMPONENTIZE) $(WASM_OUT)/$$p.wasm target/test-guests/$$p.wasm || exit 1; done
	@cp target/test-guests/probe.wasm host-harness/tests/probe-package/pkg/probe.wasm

new: ## Start a new package: make new NAME=my-app PUBLISHER=me.os [DEST=../my-app] [PARENT=name] [CHILD=name] [FLAVOR=hyperware]
	@test -n "$(NAME)" -a -n "$(PUBLISHER)" || { echo "usage: make new NAME=<package> PUBLISHER=<node, e.g. me.os> [DEST=dir] [PARENT=name] [CHILD=name]" >&2; exit 2; }
	$(HARNESS) new --name '$(NAME)' --publisher '$(PUBLISHER)' $(if $(DEST),--dest '$(DEST)') $(if $(PARENT),--parent '$(PARENT)') $(if $(CHILD),--child '$(CHILD)') $(if $(filter hyperware,$(FLAVOR)),--flavor hyperware)

# cargo-fuzz on stable Rust: libFuzzer's flags are nightly-only, so the
# build opts in with RUSTC_BOOTSTRAP (this one build, nothing else).
FUZZ_TARGETS := package scenario vfs_path
FUZZ_RUNS    ?= 1000000
fuzz: ## Fuzz the manifest, scenario and vfs path parsers ($(FUZZ_RUNS) runs each; needs cargo-fuzz, installed if missing)
	@command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p host-harness/fuzz/corpus/$$t; \
	  (cd host-harness/fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run -O -s none $$t corpus/$$t seeds/$$t -- -runs=$(FUZZ_RUNS)) || exit 1; \
	done

bench: ## Measure sizes, rebuild time, a harness run and `host-harness bench` (RELEASE=1: the release build too); writes BENCHMARKS.md
	bench/run.sh

lint: lint-guests ## rustfmt check and clippy on the whole workspace (guests too), warnings as errors
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy --target $(WASM_TARGET) $(addprefix -p ,$(TEST_GUESTS)) -- -D warnings
