# auditdocs: `make run` sets everything up and serves; `make test` sets up and runs the whole suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
PYTEST_ARGS ?=

PO_FILES := $(wildcard auditdocs/translations/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: run test install install-test translations extract-messages lint bench clean-venv

# Installer output goes to a log file; it is shown only when a step fails.
INSTALL_LOG = $(VENV)/install.log
QUIETLY = >> $(INSTALL_LOG) 2>&1 || { tail -n 40 $(INSTALL_LOG); echo "(whole log: $(INSTALL_LOG))"; exit 1; }

$(BIN)/python:
	@echo "• Creating the Python environment in $(VENV)"
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip $(QUIETLY)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	@echo "• Installing auditdocs and its libraries (log: $(INSTALL_LOG))"
	@$(BIN)/python -m pip install --quiet -e . $(QUIETLY)
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	@echo "• Installing auditdocs with the test tools (log: $(INSTALL_LOG))"
	@$(BIN)/python -m pip install --quiet -e ".[test]" $(QUIETLY)
	@touch $(VENV)/.installed $@

install: $(VENV)/.installed translations
install-test: $(VENV)/.installed-test translations

# An editable install does not compile catalogues: make does.
%.mo: %.po | $(VENV)/.installed
	@$(BIN)/pybabel -q compile -i $< -o $@

translations: $(MO_FILES)

extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
	  --omit-header -o auditdocs/translations/messages.pot .
	$(BIN)/pybabel update -i auditdocs/translations/messages.pot -d auditdocs/translations \
	  --no-fuzzy-matching --ignore-obsolete --no-wrap

run: install
	@echo "• Preparing the database: migrations and the clause catalogue"
	@$(BIN)/auditdocs init
	@echo "• Demo data"
	@$(BIN)/auditdocs demo-data --if-empty
	@$(BIN)/auditdocs run --host $(HOST) --port $(PORT)

test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: install
	$(BIN)/python benchmarks/upload_bench.py

clean-venv:
	rm -rf $(VENV)
