# Two commands do all set-up on a fresh machine:
#   make demo   - create .venv, install, audit the bundled Adult example -> reports/adult/report.html
#   make test   - create .venv, install, run the test suite
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Dev/CI path only: pins the CPU torch wheel (users keep torch>=2.2 open via pyproject.toml).
CONSTRAINTS := requirements/constraints-dev.txt
# The latent strategies, the GAN, and the classical references the efficacy benchmark recommends most.
DEMO_STRATEGIES ?= none,reweigh,vae,latent-eo,gan,vae+gan,threshold,goal,reweigh+threshold,gan+threshold
# Units (strategies, or strategies sharing one model) run side by side, one thread each.
DEMO_JOBS ?= -1

.PHONY: demo test test-fast fuzz lint bench clean

$(STAMP): pyproject.toml $(CONSTRAINTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/fairlatent audit examples/adult.csv.gz --target income --sensitive sex \
		--strategies $(DEMO_STRATEGIES) --jobs $(DEMO_JOBS) --out reports/adult

# Tests train tiny models: one thread each keeps the suite fast and immune to busy neighbours
# (OpenMP/torch thread pools spin badly when the cores are shared).
test: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q

test-fast: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -m "not slow"

# The hostile-input property test on many more generated frames than `make test` tries.
FUZZ_EXAMPLES ?= 200
fuzz: $(STAMP)
	OMP_NUM_THREADS=1 FAIRLATENT_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q -m fuzz \
		tests/cli/test_hostile_frames.py

# Guard rails: style (ruff), the one-way layer contract (import-linter), types (mypy).
lint: $(STAMP)
	$(BIN)/ruff check fairlatent tests benchmarks examples
	$(BIN)/lint-imports
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e '.[dev,bench]'
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
