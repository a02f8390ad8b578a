# make          set up .venv if needed and build the default dataset from data/raw/
# make test     run the test suite (offline)
# make bench    print speed / quality figures
# make clean    remove built output (keeps .venv)
SHELL := /bin/bash
.DELETE_ON_ERROR:

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: all test bench clean distclean

all: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,laser]'
	touch $@

test: $(STAMP)
	$(PY) -m pytest -q

clean:
	rm -rf out

distclean: clean
	rm -rf $(VENV) .cache
