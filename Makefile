# Kinode package + harness. `make help` lists the targets.

WASM_TARGET  := wasm32-wasip1
WASM_PROFILE := wasm-release
# Processes built into pkg/: each is a workspace crate of the same name.
PROCESSES    := parent child
# Test processes for the harness: built next to the package, never into pkg/.
TEST_GUESTS  := probe
WASM_OUT     := target/$(WASM_TARGET)/$(WASM_PROFILE)
COMPONENTIZE := target/debug/componentize
HARNESS_ARGS ?=

.PHONY: help build run test test-guests bench lint fmt clean toolchain

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

toolchain: ## Install the wasm32-wasip1 Rust target if it is missing
	@rustup target list --installed | grep -qx '$(WASM_TARGET)' || rustup target add $(WASM_TARGET)

build: toolchain ## Build pkg/parent.wasm and pkg/child.wasm (components a node loads)
	cargo build --target $(WASM_TARGET) --profile $(WASM_PROFILE) $(addprefix -p ,$(PROCESSES))
	cargo build -q -p componentize
	@for p in $(PROCESSES); do $(COMPONENTIZE) $(WASM_OUT)/$$p.wasm pkg/$$p.wasm || exit 1; done

run: build ## Build the package and run it in the harness
	cargo run -q -p host-harness -- run . $(HARNESS_ARGS)

test-guests: toolchain ## Build the harness's test processes into target/test-guests/
	cargo build --target $(WASM_TARGET) --profile $(WASM_PROFILE) $(addprefix -p ,$(TEST_GUESTS))
	cargo build -q -p componentize
	@mkdir -p target/test-guests
	@for p in $(TEST_GUESTS); do $(COMPONENTIZE) $(WASM_OUT)/$$p.wasm target/test-guests/$$p.wasm || exit 1; done
	@cp target/test-guests/probe.wasm host-harness/tests/probe-package/pkg/probe.wasm

test: build test-guests ## Build the package and test guests, then run every test (unit, WIT, components, end to end) and the scenarios
	cargo test
	cargo run -q -p host-harness -- test .
	cargo run -q -p host-harness -- test host-harness/tests/probe-package

bench: ## Measure sizes, rebuild time and a harness run; writes BENCHMARKS.md
	bench/run.sh

lint: ## rustfmt check and clippy on the whole workspace, warnings as errors
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy --target $(WASM_TARGET) $(addprefix -p ,$(PROCESSES) $(TEST_GUESTS)) -- -D warnings

fmt: ## Format the workspace
	cargo fmt --all

clean: ## Remove build outputs (pkg/*.wasm and target/)
	rm -f $(addprefix pkg/,$(addsuffix .wasm,$(PROCESSES)))
	cargo clean
