# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench validate lint venv clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev,dask,web]"
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/blackout run

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider

# ANDES (GPL-3) lives only in its own environment, never in blackout's
VALIDATE_VENV := .venv-validate
$(VALIDATE_VENV)/.installed:
	$(PYTHON) -m venv $(VALIDATE_VENV)
	$(VALIDATE_VENV)/bin/pip install -q --upgrade pip
	$(VALIDATE_VENV)/bin/pip install -q "andes==2.0.0"
	touch $@

validate: $(STAMP) $(VALIDATE_VENV)/.installed
	ANDES_PYTHON=$(VALIDATE_VENV)/bin/python $(BIN)/python benchmarks/validation/run_validation.py

bench: $(STAMP)
	OPENBLAS_NUM_THREADS=1 $(BIN)/python benchmarks/run_all.py

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy src

clean:
	rm -rf $(VENV) $(VALIDATE_VENV) build *.egg-info
