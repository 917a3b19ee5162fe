# Funnel SLA Planner: the two commands of the README, and the fast loop.
#   make run    install the app's requirements into .venv and start the app (demo scenario)
#   make test   install the test requirements into .venv, and Chromium and nginx for the browser
#               tests (Debian's `chromium` and `nginx` packages, via apt-get), then lint (ruff) and
#               run the whole test suite: every tier (what CI runs)
#   make check  lint and run the fast tiers (unit, integration, app): a minute or two
# Each creates .venv with `$(PYTHON) -m venv` if it is missing. A stamp file per requirements
# file records what is installed: a second run installs nothing, a changed file reinstalls.

PYTHON ?= python3
PORT ?= 8501

VENV := .venv
VPY := $(VENV)/bin/python
PIP := $(VPY) -m pip --disable-pip-version-check

CHROMIUM := /usr/bin/chromium
NGINX := /usr/sbin/nginx

.PHONY: run test check lint chromium

# ui.serve: `streamlit run app.py` with the app's server guards in place before the first request.
run: $(VENV)/.installed-requirements.txt
	$(VPY) -m ui.serve --server.port $(PORT)

test: $(VENV)/.installed-requirements-dev.txt chromium lint
	$(VPY) -m pytest -q

check: $(VENV)/.installed-requirements-dev.txt lint
	$(VPY) -m pytest -q -n 2 -m "unit or integration or app"

lint: $(VENV)/.installed-requirements-dev.txt
	$(VPY) -m ruff check .

# The real-browser tests (tests/browser) drive Debian's Chromium, and open the app through the
# README's nginx configuration; they are skipped without them, so install what is missing: as
# root directly, otherwise with sudo if there is sudo.
SYSTEM_PACKAGES := $(if $(wildcard $(CHROMIUM)),,chromium) $(if $(wildcard $(NGINX)),,nginx)

chromium:
	@if [ -n "$(strip $(SYSTEM_PACKAGES))" ]; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    if [ "$$(id -u)" -eq 0 ]; then SUDO=; \
	    elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; \
	    else echo "make: $(strip $(SYSTEM_PACKAGES)) missing and installing needs root (no sudo): the browser tests will be skipped" >&2; exit 0; fi; \
	    echo "make: installing Debian packages for the browser tests (apt-get install $(strip $(SYSTEM_PACKAGES)))"; \
	    $$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y $(SYSTEM_PACKAGES); \
	  else \
	    echo "make: $(strip $(SYSTEM_PACKAGES)) missing and there is no apt-get: the browser tests will be skipped" >&2; \
	  fi; \
	fi

$(VPY):
	$(PYTHON) -m venv $(VENV)

# requirements-dev.txt includes requirements.txt (-r): a change in either reinstalls.
$(VENV)/.installed-requirements-dev.txt: requirements.txt

$(VENV)/.installed-%: % | $(VPY)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r $<
	touch $@
