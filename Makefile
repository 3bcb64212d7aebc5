# Two commands matter: `make run` and `make test`. Both set everything up first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_HOME ?= demo-data

.PHONY: run test lint bench setup clean messages screenshots

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/system-deps.sh
	@bash scripts/system-deps.sh
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Svidok needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# The main job on the embedded default: a demo data folder with the sample evidence,
# then the web app on http://127.0.0.1:8000/ (sign in as admin with the one-time password
# printed, choose your own, then enrol an authenticator app: docs/web.md).
run: $(STAMP)
	$(BIN)/svidok --home $(DEMO_HOME) init
	$(BIN)/svidok --home $(DEMO_HOME) ingest examples/sample-evidence --collector demo \
		--note "sample evidence shipped with Svidok" --enrich
	$(BIN)/svidok --home $(DEMO_HOME) items list
	$(BIN)/svidok --home $(DEMO_HOME) search Makeevka --facets
	$(BIN)/svidok --home $(DEMO_HOME) dedup
	$(BIN)/svidok --home $(DEMO_HOME) verify
	$(BIN)/svidok --home $(DEMO_HOME) status
	$(BIN)/svidok --home $(DEMO_HOME) log key > $(DEMO_HOME)/log.vkey
	$(BIN)/svidok --home $(DEMO_HOME) log prove 1 --out $(DEMO_HOME)/item-1.tlog-proof
	$(BIN)/python verifier/svidok_verify.py $(DEMO_HOME)/item-1.tlog-proof \
		--key-file $(DEMO_HOME)/log.vkey --original examples/sample-evidence/README.txt
	@# An administrator with a one-time password, printed once (again on every run).
	@$(BIN)/svidok --home $(DEMO_HOME) users add admin --role admin 2>/dev/null || \
		$(BIN)/svidok --home $(DEMO_HOME) users reset admin
	$(BIN)/svidok --home $(DEMO_HOME) serve

# The interface's messages: extract them from the templates and web modules and merge them
# into the catalogues (src/svidok/web/locale); then translate the empty entries.
messages: $(STAMP)
	$(BIN)/python scripts/update_catalogue.py

# PNGs of the web app's main pages in docs/screenshots, from a fresh demo served on
# 127.0.0.1 and Debian's headless chromium (scripts/screenshots.py).
screenshots: $(STAMP)
	$(BIN)/python scripts/screenshots.py

lint: $(STAMP)
	$(BIN)/ruff check src tests bench verifier
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

# Ingest, custody log, Telegram import, search, PDQ index, image hashing, text
# enrichment, then the web app; BENCH_ARGS goes to all eight (--quick, --skip-postgres,
# --check). Each runs even if one before failed; make bench fails if any did.
BENCH_ARGS ?=
bench: $(STAMP)
	status=0; \
	$(BIN)/python bench/run.py $(BENCH_ARGS) || status=1; \
	$(BIN)/python bench/custody_log.py $(BENCH_ARGS) || status=1; \
	$(BIN)/python bench/telegram_import.py $(BENCH_ARGS) || status=1; \
	$(BIN)/python bench/search.py $(BENCH_ARGS) || status=1; \
	$(BIN)/python bench/pdq_index.py $(BENCH_ARGS) || status=1; \
	$(BIN)/python bench/image_hashing.py $(BENCH_ARGS) || status=1; \
	$(BIN)/python bench/enrich_text.py $(BENCH_ARGS) || status=1; \
	$(BIN)/python bench/web_app.py $(BENCH_ARGS) || status=1; \
	exit $$status

clean:
	rm -rf $(VENV) $(DEMO_HOME) .pytest_cache .mypy_cache .ruff_cache
