# hma-lab — see README.md. `make run` and `make test` work on a fresh machine with only the Rust
# toolchain; `make test` also drives real client libraries when they are installed
# (`make clients` installs them: MSAL Python, exchangelib, selenium in .venv; msal-node and
# ews-javascript-api in tests/clients/node_modules; Debian chromium for the browser test).
CARGO ?= cargo
VENV := .venv
CLIENTS := tests/clients

# mdBook builds the book in docs/; installed into .tools/ (project-local) on first use.
MDBOOK_VERSION := 0.5.4
TOOLS := $(CURDIR)/.tools
MDBOOK := $(TOOLS)/bin/mdbook

.PHONY: run up test test-clients clients bench fmt lint check docs

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

## Real client libraries against the mocks (skipped, with a note, when not installed), then the
## real-client suite against `hma-lab serve` (tests/clients/run.sh: MSAL Python, exchangelib,
## curl, headless Chromium; msal-node, ews-javascript-api).
test-clients:
	@if [ -x $(VENV)/bin/python ] && $(VENV)/bin/python -c 'import exchangelib' 2>/dev/null; then \
	  PATH="$(CURDIR)/$(VENV)/bin:$$PATH" HMA_EXCHANGELIB=1 \
	    $(CARGO) test -p mock-exchange --lib -- --ignored real_exchangelib; \
	else echo "test-clients: exchangelib not installed (make clients); skipped"; fi
	@if [ -d $(CLIENTS)/node_modules/ews-javascript-api ] && command -v node >/dev/null; then \
	  HMA_EWSJS_DIR="$(CURDIR)/$(CLIENTS)" \
	    $(CARGO) test -p mock-exchange --lib -- --ignored real_ews_javascript_api; \
	else echo "test-clients: ews-javascript-api not installed (make clients); skipped"; fi
	@suites=""; \
	if [ -x $(VENV)/bin/python ] && $(VENV)/bin/python -c 'import msal, exchangelib, pytest, selenium' 2>/dev/null; then \
	  suites="python"; \
	else echo "test-clients: Python clients (msal, exchangelib, pytest, selenium) not installed (make clients); Python suite skipped"; fi; \
	if command -v node >/dev/null && [ -d $(CLIENTS)/node_modules/@azure/msal-node ] && [ -d $(CLIENTS)/node_modules/ews-javascript-api ]; then \
	  suites="$$suites node"; \
	else echo "test-clients: node or Node clients (msal-node, ews-javascript-api) not installed (make clients); Node suite skipped"; fi; \
	if [ -n "$$suites" ]; then VENV="$(CURDIR)/$(VENV)" $(CLIENTS)/run.sh $$suites; fi

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
## header-name spelling (lab-kit).
bench:
	$(CARGO) bench -p mock-aad --bench token -p mock-exchange --bench bearer -p lab-kit --bench wirecase

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

check: lint test
