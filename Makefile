# hma-lab — see README.md. `make run` and `make test` work on a fresh machine with only the Rust
# toolchain; `make test` also drives real client libraries when they are installed
# (`make clients` installs them: Python exchangelib in .venv, Node ews-javascript-api in
# tests/clients/node_modules).
CARGO ?= cargo
VENV := .venv
CLIENTS := tests/clients

.PHONY: run up test test-clients clients bench fmt lint check

## Run the scenario library (every field guide failure, with its fix and broken twin); human report.
run:
	$(CARGO) run -p hma-lab -- run scenarios/

## Start the default lab (contoso): mock Azure AD + mock Exchange, and print how to reach them.
up:
	$(CARGO) run -p hma-lab -- up

## Unit, router and end-to-end tests of every crate, then the real-client tests.
test:
	$(CARGO) test --workspace
	$(MAKE) --no-print-directory test-clients

## Real client libraries against the mocks (skipped, with a note, when not installed).
test-clients:
	@if [ -x $(VENV)/bin/python ] && $(VENV)/bin/python -c 'import exchangelib' 2>/dev/null; then \
	  PATH="$(CURDIR)/$(VENV)/bin:$$PATH" HMA_EXCHANGELIB=1 \
	    $(CARGO) test -p mock-exchange --lib -- --ignored real_exchangelib; \
	else echo "test-clients: exchangelib not installed (make clients); skipped"; fi
	@if [ -d $(CLIENTS)/node_modules/ews-javascript-api ] && command -v node >/dev/null; then \
	  HMA_EWSJS_DIR="$(CURDIR)/$(CLIENTS)" \
	    $(CARGO) test -p mock-exchange --lib -- --ignored real_ews_javascript_api; \
	else echo "test-clients: ews-javascript-api not installed (make clients); skipped"; fi

## Install the real client libraries the tests drive (pinned versions).
clients:
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r $(CLIENTS)/requirements.txt
	cd $(CLIENTS) && npm ci --no-audit --no-fund

## Criterion benchmarks: token signing and issuance (mock-aad), Bearer on the serving path (mock-exchange).
bench:
	$(CARGO) bench -p mock-aad --bench token -p mock-exchange --bench bearer

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

check: lint test
