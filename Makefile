# decliner's developer entry points. `make test` is what CI runs (.ci/run).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: test lint stress bench demo servers clean letters screenshots

test: $(STAMP) servers lint
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check decliner tests
	$(BIN)/ruff format --check decliner tests
	$(BIN)/mypy
	$(BIN)/lint-imports

# The virtualenv, rebuilt whenever pyproject.toml changes.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -U pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test]'
	@touch $@

# The integration tests need Dovecot (IMAP + LMTP), the browser tests Debian's
# Chromium and its driver, and the unit checks systemd-analyze; install what is
# missing when we may (as root, with apt).
NEEDED_DEBS = $(if $(wildcard /usr/sbin/dovecot),,dovecot-imapd dovecot-lmtpd) \
	$(if $(wildcard /usr/bin/chromium),,chromium) \
	$(if $(wildcard /usr/bin/chromedriver),,chromium-driver) \
	$(if $(shell command -v systemd-analyze 2>/dev/null),,systemd)
servers:
	@if [ -z "$(strip $(NEEDED_DEBS))" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing $(strip $(NEEDED_DEBS)) for the integration tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $(NEEDED_DEBS) >/dev/null; \
	else \
		echo "missing: $(strip $(NEEDED_DEBS)); the tests that need them will be skipped."; \
		echo "Install with: sudo apt-get install $(strip $(NEEDED_DEBS))"; \
	fi

# The whole flow on a throw-away local sandbox: no account, no network, no root.
demo: $(STAMP)
	$(BIN)/decliner demo

# Long fault and fuzz runs: random SIGKILLs of `run --once`, heavy hypothesis.
stress: $(STAMP) servers
	HYPOTHESIS_PROFILE=stress $(BIN)/pytest -q -m "" -s tests/integration/stress tests/unit/core

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis

# Benchmarks print ratios against a reference run in the same process.
bench: $(STAMP) servers
	$(BIN)/python -m bench.bench_scan
	$(BIN)/python -m bench.bench_calendar
	$(BIN)/python -m bench.bench_wire 10000 100000
	$(BIN)/python -m bench.bench_latency 100

# docs/letters/: the built-in letters of every language as the code renders them.
letters: $(STAMP)
	$(BIN)/python -m tests.testbed.letters

# docs/screenshots/: the review page's main pages, photographed by headless Chromium on
# the sandbox of `decliner demo` (tests/integration/test_screenshots.py runs the same code).
screenshots: $(STAMP) servers
	$(BIN)/python -m tests.testbed.screenshots docs/screenshots
