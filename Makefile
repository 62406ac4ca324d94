# hma-lab — see README.md. All targets work on a fresh machine with only the Rust toolchain.
CARGO ?= cargo

.PHONY: run test bench fmt lint check

## Start the default lab (contoso) and print how to reach it.
run:
	$(CARGO) run -p hma-lab -- up

## Unit, router and end-to-end tests of every crate.
test:
	$(CARGO) test --workspace

bench:
	$(CARGO) bench --workspace --no-run

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

check: lint test
