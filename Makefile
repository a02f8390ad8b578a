# make            set up .venv if needed, then build the default dataset from data/raw/ into out/default
# make test       run the test suite (offline)
# make lint       ruff check, ruff format --check, mypy on corpus/
# make report     same as make (the report is the last step of the build)
# make bench      print speed / quality figures (encoders, aligner)
# make fuzz       fuzz ingestion with random bytes for FUZZ_SECONDS (default 60); a crash is kept as a test
# make clean      remove built output (keeps .venv and the embedding cache)
#
# Variables: RAW (input folder), OUT (output folder), CONFIG (TOML config), e.g.
#   make RAW=../shared/eval/scio-whitepapers/raw OUT=out/scio
#
# One file target per input unit and stage (sentences -> embeddings ->
# alignment -> scored links), then corpus-level filter -> dataset -> report.
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

PAGES := $(filter-out %.zh.txt %.en.txt,$(wildcard $(RAW)/*.txt))
PAIRS := $(wildcard $(RAW)/*.zh.txt)
JSONL := $(wildcard $(RAW)/*.jsonl $(RAW)/*.parquet)
UNITS := $(notdir $(PAGES) $(JSONL)) $(patsubst %.zh.txt,%,$(notdir $(PAIRS)))
WORK := $(addprefix $(OUT)/work/,$(UNITS))
SCORED := $(addsuffix /scored.jsonl,$(WORK))

.PHONY: all build report test lint bench fuzz clean distclean example-scio

all: build
build report: $(OUT)/dataset/README.md $(OUT)/report/report.json

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# The tests also exercise the optional LASER backend (torch 2.13.0, CPU build) and the Ray engine.
$(TEST_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,laser,ray]'
	touch $@

# --- per input unit --------------------------------------------------------
$(OUT)/work/%.txt/sentences.jsonl: $(RAW)/%.txt | $(STAMP)
	$(CORPUS) stage split $< -o $@ $(C)
$(OUT)/work/%.jsonl/sentences.jsonl: $(RAW)/%.jsonl | $(STAMP)
	$(CORPUS) stage split $< -o $@ $(C)
$(OUT)/work/%.parquet/sentences.jsonl: $(RAW)/%.parquet | $(STAMP)
	$(CORPUS) stage split $< -o $@ $(C)
$(OUT)/work/%/sentences.jsonl: $(RAW)/%.zh.txt $(RAW)/%.en.txt | $(STAMP)
	$(CORPUS) stage split $(RAW)/$*.zh.txt $(RAW)/$*.en.txt -o $@ $(C)

$(OUT)/work/%/embeddings.npz: $(OUT)/work/%/sentences.jsonl $(OUT)/stamps/embed.json
	$(CORPUS) stage embed $< -o $@ $(C)
$(OUT)/work/%/alignment.jsonl: $(OUT)/work/%/sentences.jsonl $(OUT)/work/%/embeddings.npz \
		$(OUT)/stamps/align.json
	$(CORPUS) stage align $< -o $@ $(C)
$(OUT)/work/%/scored.jsonl: $(OUT)/work/%/sentences.jsonl $(OUT)/work/%/embeddings.npz \
		$(OUT)/work/%/alignment.jsonl
	$(CORPUS) stage score $^ -o $@ $(C)

# Settings stamps: rewritten only when the named config sections change.
$(OUT)/stamps/embed.json: $(OUT)/stamps/check
$(OUT)/stamps/align.json: $(OUT)/stamps/check
$(OUT)/stamps/check: $(CONFIG) | $(STAMP)
	$(CORPUS) stage stamp embed -o $(OUT)/stamps/embed.json $(C)
	$(CORPUS) stage stamp embed align -o $(OUT)/stamps/align.json $(C)
	touch $@

# --- corpus level ----------------------------------------------------------
$(OUT)/filtered.jsonl: $(SCORED) $(CONFIG)
	$(CORPUS) stage filter $(WORK) -o $@ $(C)
$(OUT)/dataset/README.md: $(OUT)/filtered.jsonl
	$(CORPUS) stage dataset $< -o $(OUT) $(C)
$(OUT)/report/report.json: $(OUT)/filtered.jsonl
	$(CORPUS) stage report $< -o $(OUT) $(C)

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
	@for script in scripts/bench_*.py; do \
		echo "== $$script"; $(PY) $$script || exit 1; \
	done

# Random bytes through every ingestion path; a crash is shrunk and saved to
# tests/fuzz_crashes/, which tests/test_fuzz_regressions.py replays.
FUZZ_SECONDS ?= 60
fuzz: $(TEST_STAMP)
	$(PY) scripts/fuzz_ingest.py --seconds $(FUZZ_SECONDS)

clean:
	rm -rf out

distclean: clean
	rm -rf $(VENV) .cache
