# sfone developer commands. Every target works on a bare machine with Python >= 3.11.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: venv test fuzz demo bench samples lint clean readme validate

venv: $(STAMP)

# Re-install only when the package metadata changes; a second `make venv` is quick.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[all]"
	touch $(STAMP)

test: venv
	$(BIN)/python -m pytest

# Many more fuzzing examples than `make test` runs (random seeds; FUZZ_EXAMPLES per parser).
FUZZ_EXAMPLES ?= 2000
fuzz: venv
	SFONE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) SFONE_FUZZ_RANDOM=1 $(BIN)/python -m pytest tests/test_fuzz_*.py -q

demo: venv
	$(BIN)/sfone reproduce --data data_samples --out figures

samples: venv
	$(BIN)/sfone samples data_samples

bench: venv
	$(BIN)/python -m benchmarks

lint: venv
	$(BIN)/ruff check sfone tests

clean:
	rm -rf $(VENV) build dist .pytest_cache

readme: venv
	$(BIN)/python docs/update_readme_formats.py

# Calibration and power of the post-run classifier on the independent generator (issue 14):
# writes docs/validation.md (about 15 min on 2 cores; VALIDATE_ARGS=--quick for a few minutes).
VALIDATE_ARGS ?=
validate: venv
	$(BIN)/python -m validation $(VALIDATE_ARGS)
