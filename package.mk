# The targets every package made from this template has. The Makefile sets
# PROCESSES (the processes, built into pkg/<process>.wasm), CRATES (their
# crates, if not named as the processes), HARNESS (how to run host-harness)
# and COMPONENTIZE, then includes this file.

WASM_TARGET  := wasm32-wasip1
WASM_PROFILE := wasm-release
TARGET_DIR   := $(or $(CARGO_TARGET_DIR),target)
HARNESS_ARGS ?=
CRATES       ?= $(PROCESSES)
# Which SDK the processes build against: kinode (kinode_process_lib, for a
# Kinode 1.0 node) or hyperware (hyperware_process_lib, for hyperdrive).
# Each flavour builds in a target directory of its own: the same crates
# with other features would overwrite each other's .wasm and rebuild on
# every switch.
FLAVOR       ?= kinode
ifeq ($(FLAVOR),kinode)
FEATURES     :=
FLAVOR_DIR   := $(TARGET_DIR)
else ifeq ($(FLAVOR),hyperware)
FEATURES     := --no-default-features --features hyperware
FLAVOR_DIR   := $(TARGET_DIR)/hyperware
else
$(error FLAVOR=$(FLAVOR): use FLAVOR=kinode (the default) or FLAVOR=hyperware)
endif
WASM_OUT     := $(FLAVOR_DIR)/$(WASM_TARGET)/$(WASM_PROFILE)

.PHONY: help toolchain build run scenarios watch package check-package lint-guests fmt clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

toolchain: ## Install the wasm32-wasip1 Rust target if it is missing
	@rustup target list --installed | grep -qx '$(WASM_TARGET)' || rustup target add $(WASM_TARGET)

build: toolchain ## Build pkg/<process>.wasm for every process (components a node loads); FLAVOR=hyperware for hyperdrive
	cargo build --target $(WASM_TARGET) --profile $(WASM_PROFILE) --target-dir $(FLAVOR_DIR) $(FEATURES) $(addprefix -p ,$(CRATES))
	@for p in $(PROCESSES); do $(COMPONENTIZE) $(WASM_OUT)/$$p.wasm pkg/$$p.wasm || exit 1; done

run: build ## Build the package and run it in the harness (HARNESS_ARGS="-v 2 --json -" for more)
	$(HARNESS) run . $(HARNESS_ARGS)

scenarios: build ## Build the package and run its scenarios (tests/*.toml; HARNESS_ARGS="--html views" to draw them)
	$(HARNESS) test . $(HARNESS_ARGS)

watch: build ## On every save: rebuild the processes that changed, rerun the scenarios, print what changed
	$(HARNESS) test . --watch

package: build ## Write target/<package>:<publisher>.zip as kit does and print its SHA-256; UPDATE_HASH=1 records it in metadata.json
	$(HARNESS) package . $(if $(UPDATE_HASH),--update-hash)

check-package: build ## Fail unless metadata.json's code_hashes[current_version] is the archive's hash
	$(HARNESS) package . --check

lint-guests: toolchain ## clippy on the processes, for wasm32-wasip1, warnings as errors
	cargo clippy --target $(WASM_TARGET) --target-dir $(FLAVOR_DIR) $(FEATURES) $(addprefix -p ,$(CRATES)) -- -D warnings

fmt: ## Format the workspace
	cargo fmt --all

clean: ## Remove build outputs (pkg/*.wasm and target/)
	rm -f $(addprefix pkg/,$(addsuffix .wasm,$(PROCESSES)))
	cargo clean
