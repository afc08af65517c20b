# sfone developer commands. Every target works on a bare machine with Python >= 3.11.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: venv test demo bench samples lint clean readme

venv: $(STAMP)

# Re-install only when the package metadata changes; a second `make venv` is quick.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[all]"
	touch $(STAMP)

test: venv
	$(BIN)/python -m pytest

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
