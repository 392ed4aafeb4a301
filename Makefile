# cbm-sim: the two commands of the quick start are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint format bench bench-quick clean studio bytecode

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m compileall -q cbm_sim
	touch $(STAMP)

## bytecode: compile cbm_sim's modules to __pycache__ (what pip does for an installed package):
## an editable install run with PYTHONDONTWRITEBYTECODE=1 otherwise compiles the ~75 modules
## of a `cbm-sim run` from source every time (≈ 0.1 s of it, benchmarks/bench_cli.py)
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q cbm_sim

## demo: set up .venv and run the main job on the shipped plan scenario
demo: $(STAMP) bytecode
	$(BIN)/cbm-sim plan audit --status discrepancy
	$(BIN)/cbm-sim run scenarios/plan.yaml -o reports/plan --overwrite
	# a small ensemble of the shipped uncertainty (16 members, 2 workers, dispatched daily and
	# recorded by month) and its tornado, for the fan, probability and tornado pages
	$(BIN)/cbm-sim ensemble scenarios/plan.yaml -n 16 --workers 2 --step-days month \
		-o reports/plan-ensemble --overwrite
	$(BIN)/cbm-sim report reports/plan -o reports/plan.pdf --lang zh --ensemble reports/plan-ensemble \
		--overwrite
	@echo "demo done: results in reports/plan/ and reports/plan-ensemble/, report at $(CURDIR)/reports/plan.pdf"

## studio: the scenario studio in the browser on http://127.0.0.1:8765 (Ctrl-C stops it)
studio: $(STAMP)
	$(BIN)/cbm-sim studio scenarios/plan.yaml

## test: set up .venv with the test extras; lint, formatting, import layers (import-linter),
## types (mypy: strict on wells/ and cluster/), the tests
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy cbm_sim
	$(BIN)/python -m pytest -n 2 --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## bench: every benchmark of benchmarks/README.md's figures (about 45 minutes; run it on an
## idle machine); the output is also kept in benchmarks/out/. bench-quick: the short ones
bench: $(STAMP) bytecode
	$(BIN)/python benchmarks/bench_all.py

bench-quick: $(STAMP) bytecode
	$(BIN)/python benchmarks/bench_all.py --quick

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .hypothesis
