# Funnel SLA Planner: the two commands of the README.
#   make run    install the app's requirements into .venv and start the app (demo scenario)
#   make test   install the test requirements into .venv and run the whole test suite
# Each creates .venv with `$(PYTHON) -m venv` if it is missing. A stamp file per requirements
# file records what is installed: a second run installs nothing, a changed file reinstalls.

PYTHON ?= python3
PORT ?= 8501

VENV := .venv
VPY := $(VENV)/bin/python
PIP := $(VPY) -m pip --disable-pip-version-check

.PHONY: run test

run: $(VENV)/.installed-requirements.txt
	$(VPY) -m streamlit run app.py --server.port $(PORT)

test: $(VENV)/.installed-requirements-dev.txt
	$(VPY) -m pytest -q

$(VPY):
	$(PYTHON) -m venv $(VENV)

# requirements-dev.txt includes requirements.txt (-r): a change in either reinstalls.
$(VENV)/.installed-requirements-dev.txt: requirements.txt

$(VENV)/.installed-%: % | $(VPY)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r $<
	touch $@
