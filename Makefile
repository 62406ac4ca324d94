# hma-lab — see README.md. `make run` and `make test` work on a fresh machine with only the Rust
# toolchain; `make test` also drives real client libraries when they are installed
# (`make clients` installs them: MSAL Python, exchangelib, selenium in .venv; msal-node and
# ews-javascript-api in tests/clients/node_modules; Debian chromium for the browser test).
CARGO ?= cargo
# test-clients reads PIPESTATUS.
SHELL := /bin/bash
VENV := .venv
CLIENTS := tests/clients

# mdBook builds the book in docs/; installed into .tools/ (project-local) on first use.
MDBOOK_VERSION := 0.5.4
TOOLS := $(CURDIR)/.tools
MDBOOK := $(TOOLS)/bin/mdbook

# `make soak` runs this long (seconds); `make bench` compares against this oauth2-mock-server.
SOAK_SECS ?= 600
OAUTH2_MOCK_SERVER := 9.3.0

.PHONY: run up test test-clients test-python clients bench bench-tools soak fuzz fmt lint check docs

## Run the scenario library (every field guide failure, with its fix and broken twin); human report.
run:
	$(CARGO) run -p hma-lab -- run scenarios/

## Start the default lab (contoso): mock Azure AD + mock Exchange, and print how to reach them.
up:
	$(CARGO) run -p hma-lab -- up

## Unit, router and end-to-end tests of every crate, then the real-client tests, then the Python
## package's tests.
test:
	$(CARGO) test --workspace
	$(MAKE) --no-print-directory test-clients
	$(MAKE) --no-print-directory test-python

## Real client libraries against the mocks, then the real-client suite against `hma-lab serve`
## (tests/clients/run.sh: MSAL Python, exchangelib, curl, headless Chromium; msal-node,
## ews-javascript-api). Every real-client test runs or prints `SKIPPED <test>: <why> (make clients)`;
## with `CI` set, a missing client fails instead (CI runs `make clients` first). The last lines
## list what ran and what was skipped.
test-clients:
	@log="$$(mktemp)"; status=0; \
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" \
	  $(CARGO) test -p mock-exchange --lib -- --ignored real_ 2>&1 | tee "$$log"; \
	[ "$${PIPESTATUS[0]}" = 0 ] || status=1; \
	suites=""; \
	if [ -x $(VENV)/bin/python ] && $(VENV)/bin/python -c 'import msal, exchangelib, pytest, selenium' 2>/dev/null; then \
	  suites="python"; \
	else echo "SKIPPED python suite (tests/clients/python): msal, exchangelib, pytest or selenium not in $(VENV) (make clients)" | tee -a "$$log"; \
	  [ -z "$$CI" ] || status=1; fi; \
	if command -v node >/dev/null && [ -d $(CLIENTS)/node_modules/@azure/msal-node ] && [ -d $(CLIENTS)/node_modules/ews-javascript-api ]; then \
	  suites="$$suites node"; \
	else echo "SKIPPED node suite (tests/clients/node): node, msal-node or ews-javascript-api missing (make clients)" | tee -a "$$log"; \
	  [ -z "$$CI" ] || status=1; fi; \
	if [ -n "$$suites" ]; then \
	  VENV="$(CURDIR)/$(VENV)" $(CLIENTS)/run.sh $$suites 2>&1 | tee -a "$$log"; \
	  [ "$${PIPESTATUS[0]}" = 0 ] || status=1; fi; \
	for kind in ran skipped; do \
	  if [ $$kind = ran ]; then pat='^REAL CLIENT |^run.sh: .* suite against'; else pat='^SKIPPED'; fi; \
	  echo "== real-client tests: $$kind"; \
	  if grep -qE "$$pat" "$$log"; then grep -E "$$pat" "$$log" | sed 's/^/   /'; else echo "   (none)"; fi; \
	done; \
	rm -f "$$log"; \
	if [ $$status -ne 0 ] && [ -n "$$CI" ]; then echo "test-clients: failed (CI is set: a missing client is a failure)"; fi; \
	exit $$status

## The Python package (python/): python/run-tests.sh builds the hma-lab wheel from the working
## tree with maturin's bin bindings (`--profile dev`: the debug build `make test` already made,
## nothing recompiled), installs it into a throwaway venv (target/python/venv, which borrows the
## clients from $(VENV)), and runs python/tests with the pytest plugin and binary from that wheel.
## Without maturin, msal, exchangelib or pytest in $(VENV) it prints a SKIPPED line; with `CI`
## set that is a failure (CI runs `make clients` first).
test-python:
	@if [ -x $(VENV)/bin/maturin ] && $(VENV)/bin/python -c 'import msal, exchangelib, pytest, requests' 2>/dev/null; then \
	  VENV="$(abspath $(VENV))" python/run-tests.sh; \
	else echo "SKIPPED python package tests (python/tests): maturin, msal, exchangelib, pytest or requests not in $(VENV) (make clients)"; \
	  if [ -n "$$CI" ]; then echo "test-python: failed (CI is set: a missing client is a failure)"; exit 1; fi; fi

## Install the real client libraries the tests drive (pinned versions), and Debian's chromium,
## chromium-driver and NSS tools for the browser test when missing (apt-get, root only).
clients:
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r $(CLIENTS)/requirements.txt
	cd $(CLIENTS) && npm ci --no-audit --no-fund
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null && command -v certutil >/dev/null && command -v curl >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    chromium chromium-driver libnss3-tools curl >/dev/null; \
	else echo "clients: chromium, chromium-driver, certutil (libnss3-tools) or curl missing and cannot apt-get (not root): the tests needing them are skipped"; fi

## Criterion benchmarks: token signing and issuance (mock-aad), Bearer on the serving path (mock-exchange),
## header-name spelling (lab-kit); then bench/run.py: the Speed figures (ratios measured side by side:
## token issuance against oauth2-mock-server, Bearer EWS against a plain axum route, the scenario
## library, serve's ready time, 100 labs' RSS, parser linearity), each with its target and
## PASS/FAIL, written to BENCHMARKS.md. Release builds; wrk and oauth2-mock-server are installed
## when missing (bench-tools).
bench: bench-tools
	$(CARGO) bench -p mock-aad --bench token -p mock-exchange --bench bearer -p lab-kit --bench wirecase
	$(CARGO) build --release -p hma-lab -p mock-aad --bins
	$(CARGO) build --release -p hma-lab --example bench_plain --example bench_labs --example bench_classroom --example bench_parsers
	python3 bench/run.py

## wrk (apt-get, root only) and oauth2-mock-server (npm, into bench/node_modules) for `make bench`.
bench-tools:
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } || \
	  { echo "bench: wrk is missing and cannot be installed (apt-get install wrk as root)"; exit 1; }
	@[ -d bench/node_modules/oauth2-mock-server ] || \
	  npm install --prefix bench --no-save --no-audit --no-fund oauth2-mock-server@$(OAUTH2_MOCK_SERVER)

## Mixed traffic against `hma-lab serve` on loopback for SOAK_SECS seconds (default 600): tokens,
## refresh, EWS and MAPI with Bearer through the proxy and the HTTPS listener, admin cmdlets, clock
## advances, scenario runs. Fails on any unexpected status, RSS growth of 10% or more after the
## warm-up, or a journal or grant store that keeps growing (tests/soak/soak.py).
soak:
	$(CARGO) build --release -p hma-lab --bin hma-lab
	SOAK_SECS=$(SOAK_SECS) python3 tests/soak/soak.py

## cargo fuzz targets (fuzz/, a crate of its own; nightly toolchain; cargo-fuzz installed when
## missing): each runs FUZZ_SECS seconds (default 600), one after another, seeded from
## fuzz/seeds/<target> and the repository's own labs, scenarios and golden XML. New corpus
## entries go to fuzz/corpus/<target>, crashes and timeouts to fuzz/artifacts/<target>, logs to
## fuzz/logs/; the last lines give runs and crashes per target. Not part of `make test`.
## `make fuzz FUZZ_TARGETS=jwt FUZZ_SECS=60` runs one target for a minute.
FUZZ_SECS ?= 600
FUZZ_TARGETS ?= jwt xml soap mapi form cmdlet labfile scenario

fuzz:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	FUZZ_SECS=$(FUZZ_SECS) fuzz/run.sh $(FUZZ_TARGETS)

## Regenerate the book's generated pages (AADSTS, x-ms-diagnostics, cmdlets, scenarios, CLI) and
## build the book into docs/book/ (open docs/book/index.html).
docs: $(MDBOOK)
	UPDATE_BOOK=1 $(CARGO) test -p hma-lab --test it book::generated_pages
	$(MDBOOK) build docs

$(MDBOOK):
	$(CARGO) install mdbook --locked --version $(MDBOOK_VERSION) --no-default-features --features search --root $(TOOLS)

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	@if git grep -n 'unsafe_code' -- '*.rs' ':!mock-aad/src/mprsa.rs'; then \
	  echo "lint: only mock-aad/src/mprsa.rs may allow unsafe code"; exit 1; fi

check: lint test
