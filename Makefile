# make            set up .venv if needed, then build the default dataset from data/raw/ into out/default
# make test       run the test suite (offline)
# make lint       ruff check, ruff format --check, mypy on corpus/
# make report     same as make (the report is the last step of the build)
# make bench      print speed / quality figures (encoders, aligner, report size and opening time)
# make bench-scale  PAIRS (default 2000000) synthetic scored pairs through filter, dataset, report:
#                 time and peak RSS (scripts/bench_scale.py; work files under /tmp/bench-scale)
# make report-shots  build, then screenshots of the report (overview, documents, one document) in out/shots
# make fuzz       fuzz ingestion with random bytes for FUZZ_SECONDS (default 60); a crash is kept as a test
# make clean      remove built output (keeps .venv and the embedding cache)
#
# Variables: RAW (input folder), OUT (output folder), CONFIG (TOML config),
# DECISIONS (review decisions downloaded from the report; reruns filter, report, dataset), e.g.
#   make RAW=../shared/eval/scio-whitepapers/raw OUT=out/scio
#
# One file target per input unit and stage (sentences -> embeddings ->
# alignment -> scored links), then corpus-level filter -> report -> dataset;
# the rules come from the stage table (`corpus stage rules`, see below).
# Touching one input rebuilds only that unit and the corpus steps; editing a
# threshold in $(CONFIG) reruns only filter, dataset and report (embed / align
# settings are tracked by stamp files that change only when those settings do).
# Input file names must not contain spaces (make's limit; `corpus build` has none).
SHELL := /bin/bash
.DELETE_ON_ERROR:
.SECONDARY:

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CORPUS := $(VENV)/bin/corpus
STAMP := $(VENV)/.installed-stamp
TEST_STAMP := $(VENV)/.installed-test-stamp

RAW ?= data/raw
OUT ?= out/default
CONFIG ?= corpus.toml
C := --config $(CONFIG)
DECISIONS ?=

.PHONY: all build report report-shots test lint bench bench-scale fuzz clean distclean example-scio

all: build
build report: $(OUT)/dataset/README.md $(OUT)/report/report.json

# Exact tested versions from constraints.txt; pyproject.toml holds the compatible ranges.
PIP_INSTALL := $(PY) -m pip install --quiet -c constraints.txt
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PIP_INSTALL) -e '.[dev]'
	touch $@

# The tests also exercise the optional LASER and sentence-transformers (st) backends (torch
# 2.13.0, CPU build) and the Ray engine.
$(TEST_STAMP): $(STAMP)
	$(PIP_INSTALL) -e '.[dev,laser,ray,st]'
	touch $@

# --- stages ----------------------------------------------------------------
# The rules for every input unit and stage are written by `corpus stage rules` from the
# stage table (corpus/stages.py) and the inputs found in $(RAW); they are remade when a
# folder of $(RAW) changes (a file added or removed) or the table does.
RULES := $(OUT)/stages.mk
$(RULES): $(shell find $(RAW) -type d 2>/dev/null) corpus/stages.py | $(STAMP)
	$(CORPUS) stage rules $(RAW) -o $@
# Only goals that build need the rules (make test, lint, clean... never run the tool first).
ifneq ($(filter all build report report-shots,$(or $(MAKECMDGOALS),all)),)
include $(RULES)
endif

# Settings stamps, one per stage: rewritten only when the settings (or the version) of
# that stage change, so make reruns a stage exactly then.
$(OUT)/stamps/%.json: $(OUT)/stamps/check ;
$(OUT)/stamps/check: $(CONFIG) corpus/stages.py | $(STAMP)
	$(CORPUS) stage stamp -o $(OUT)/stamps $(C)
	touch $@

# Screenshots of the built report in headless Chromium (apt-get install chromium), to look at.
report-shots: build
	$(PY) scripts/report_shots.py $(OUT) -o out/shots

test: $(TEST_STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check corpus tests scripts
	$(VENV)/bin/ruff format --check corpus tests scripts
	$(VENV)/bin/mypy corpus

# Second example: the two SCIO white papers (raw paragraphs, both sides),
# linked in as NAME.zh.txt + NAME.en.txt pairs and built by the same rules.
SCIO ?= ../shared/eval/scio-whitepapers
example-scio: $(STAMP)
	mkdir -p out/scio-input
	for f in $(SCIO)/zh_raw/*; do ln -sf "$$(realpath $$f)" "out/scio-input/$$(basename $$f).zh.txt"; done
	for f in $(SCIO)/en_raw/*; do ln -sf "$$(realpath $$f)" "out/scio-input/$$(basename $$f).en.txt"; done
	$(MAKE) build RAW=out/scio-input OUT=out/scio

# Every benchmark prints its figures; all of them run in one go so ratios compare.
bench: $(TEST_STAMP)
	@for script in $(filter-out scripts/bench_scale.py,$(wildcard scripts/bench_*.py)); do \
		echo "== $$script"; $(PY) $$script || exit 1; \
	done

# The corpus-level steps at scale (not part of `make bench`: 2M pairs take about 15 minutes).
PAIRS ?= 2000000
bench-scale: $(STAMP)
	$(PY) scripts/bench_scale.py --pairs $(PAIRS)

# Random bytes through every ingestion path; a crash is shrunk and saved to
# tests/fuzz_crashes/, which tests/test_fuzz_regressions.py replays.
FUZZ_SECONDS ?= 60
fuzz: $(TEST_STAMP)
	$(PY) scripts/fuzz_ingest.py --seconds $(FUZZ_SECONDS)

clean:
	rm -rf out

distclean: clean
	rm -rf $(VENV) .cache
