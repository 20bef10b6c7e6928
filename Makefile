# decliner's developer entry points. `make test` is what CI runs (.ci/run).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: test lint stress bench demo servers clean

test: $(STAMP) servers lint
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check decliner tests
	$(BIN)/ruff format --check decliner tests
	$(BIN)/mypy

# The virtualenv, rebuilt whenever pyproject.toml changes.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -U pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test]'
	@touch $@

# The integration tests need Dovecot (IMAP + LMTP); install it when we may.
servers:
	@if [ -x /usr/sbin/dovecot ] || command -v dovecot >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Dovecot for the integration tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends dovecot-imapd dovecot-lmtpd >/dev/null; \
	else \
		echo "Dovecot is missing: the server tests will be skipped."; \
		echo "Install it with: sudo apt-get install dovecot-imapd dovecot-lmtpd"; \
	fi

# The whole flow on a throw-away local sandbox: no account, no network, no root.
demo: $(STAMP)
	$(BIN)/decliner demo

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis

# Benchmarks print ratios against a reference run in the same process.
bench: $(STAMP) servers
	$(BIN)/python -m bench.bench_scan
