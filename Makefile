# sfone developer commands. Every target works on a bare machine with Python >= 3.11.
# One virtual environment, .venv, in two sizes: `make demo` installs only the core package
# (what the demo needs, about 0.8 GB, no PyTorch); `make test`/`make venv` add every extra
# (suite2p with PyTorch, pynwb, dask, peers, test tools: several GB). A second call is quick.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CORE_STAMP := $(VENV)/.installed-core
ALL_STAMP  := $(VENV)/.installed-all

.PHONY: venv venv-core test lint fuzz demo bench samples clean readme validate validate-stats

venv: $(ALL_STAMP)
venv-core: $(CORE_STAMP)

# Re-install only when the package metadata changes. An environment with every extra also
# satisfies the core one, so `make demo` after `make test` installs nothing.
$(CORE_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	if [ -f $(ALL_STAMP) ] && [ $(ALL_STAMP) -nt pyproject.toml ]; then :; else \
	  $(BIN)/python -m pip install --quiet --upgrade pip && \
	  $(BIN)/python -m pip install --quiet -e . ; fi
	touch $(CORE_STAMP)

$(ALL_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[all]"
	touch $(ALL_STAMP) $(CORE_STAMP)

test: venv
	$(BIN)/python -m pytest

lint: venv
	$(BIN)/ruff check sfone tests benchmarks

# Many more fuzzing examples than `make test` runs (random seeds; FUZZ_EXAMPLES per parser).
FUZZ_EXAMPLES ?= 2000
fuzz: venv
	SFONE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) SFONE_FUZZ_RANDOM=1 $(BIN)/python -m pytest tests/test_fuzz_*.py -q

demo: venv-core
	$(BIN)/sfone reproduce --study data_samples/study.yaml --out figures

samples: venv-core
	$(BIN)/sfone samples data_samples

bench: venv
	$(BIN)/python -m benchmarks

# Type-I error and power of the day 1 vs day 8 tests (the tables of docs/statistics.md; ~30 min).
validate-stats: venv
	$(BIN)/python validation/day_comparison.py

clean:
	rm -rf $(VENV) build dist .pytest_cache

readme: venv-core
	$(BIN)/python docs/update_readme_formats.py

# Calibration and power of the post-run classifier on the independent generator (issues 14, 26):
# writes docs/validation.md (full grid with 20 all-null sessions a cell: 2-3 h on 2 free cores;
# VALIDATE_ARGS=--quick for a few minutes). The count oracle is read from
# validation/results/oracle.json (VALIDATE_ARGS=--recompute-oracle recomputes it, ~5-10 min).
# Then the estimated fractions (issue 27; its own section of docs/validation.md; FRACTIONS_ARGS,
# by default --quick when VALIDATE_ARGS has it).
VALIDATE_ARGS ?=
FRACTIONS_ARGS ?= $(filter --quick,$(VALIDATE_ARGS))
validate: venv
	$(BIN)/python -m validation $(VALIDATE_ARGS)
	$(BIN)/python -m validation.fractions $(FRACTIONS_ARGS)
