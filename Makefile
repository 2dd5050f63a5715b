# Distribu: `make run` brings up the local stack, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench install clean demo-key chromium templates

$(STAMP): requirements-dev.txt layers/shared/requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/distribu-local

# Browser tests drive Debian's chromium (Playwright cannot download browsers here): installed when missing.
CHROMIUM ?= /usr/bin/chromium

chromium:
	@test -x $(CHROMIUM) || { echo "Installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

test: $(STAMP) chromium
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

# Page templates compiled ahead of time (run before `sam build`: a Lambda cold start then skips compiling them).
PAGE_TEMPLATES := functions/storefront/distribu_storefront/templates functions/dashboard/distribu_dashboard/templates

templates: $(STAMP)
	PYTHONPATH=layers/shared $(BIN)/python -m distribu.web.compile $(PAGE_TEMPLATES)

clean:
	rm -rf $(VENV) .local-state functions/*/*/_compiled_templates

# The demo API key that `make run` created (kept in .local-state/ across restarts).
demo-key:
	@$(BIN)/python -c 'import json; print(json.load(open(".local-state/demo.json"))["apiKey"])'
