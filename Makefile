# lmctheory: one command to set up and run the main job, one to set up and run the tests.
#   make demo   install into .venv and run the main job: the quick validation (results/demo/) and every
#               paper figure with REPORT.md (paper/out/)
#   make test   install into .venv and run the default test suite
#   make test-slow / make bench   the long experiments / the benchmarks (not in the default run)
#   make test-records   recompute every committed record and compare (hours)
#   make docs   the documentation (Sphinx, warnings are errors): docs/_build/html/index.html
#   make cache / make cache-full   regenerate the committed quick / full records (paper/lmctheory_paper/figures/cache)
#   make validation-table   the README's and docs' quick-vs-full tables, from the committed records
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The CPU wheel of torch; an unpinned torch would pull a multi-GB CUDA build.
TORCH  ?= torch==2.13.0
STAMP  := $(VENV)/.installed

DOCS_STAMP := $(VENV)/.installed-docs

.PHONY: install demo test test-slow test-records test-min bench lint clean cache cache-full docs validation-table

# both distributions of the repository: the library (.) and the paper's experiments, figures and records (paper/)
$(STAMP): pyproject.toml paper/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[all,dev]" -e ./paper
	touch $(STAMP)

$(DOCS_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[all,dev,docs]" -e ./paper
	touch $(DOCS_STAMP)

install: $(STAMP)

demo: install
	$(BIN)/lmctheory validate --quick --out results/demo
	$(BIN)/lmctheory figures --quick --results results/demo --out paper/out
	@echo "main job done: paper/out/REPORT.md (figures + predictions), results/demo/validation.md"

# one pytest worker per core (pytest-xdist); the 25 slowest tests are listed at the end of the log
test: install
	$(BIN)/python -m pytest -n auto --durations=25

test-slow: install
	$(BIN)/python -m pytest -n auto -m slow --durations=10

# every committed record recomputed on this machine and compared bit for bit (hours, as long as make cache-full)
test-records: install
	$(BIN)/python -m pytest -n auto -m records

# The lowest versions pyproject.toml accepts (its floors), in a virtual environment of their own: the default
# test suite must pass there too. torch 2.6 comes from PyPI (its CPU-only wheels are not on PyPI): a large
# download, once. torch 2.6 is the floor: before it torch.export decomposes linear, convolution and batch norm
# layers, which the tracer's torch.export route needs whole (2.2, 2.3 and 2.5 fail tests/test_tracing.py);
# it requires SymPy 1.13.1, so the floor run has that SymPy (with torch 2.2, SymPy 1.12 failed nothing of its own).
MIN_PINS := numpy==1.24.0 scipy==1.10.0 pot==0.9.4 scikit-learn==1.6.0 torch==2.6.0 sympy==1.13.1 \
	joblib==1.4.0 threadpoolctl==3.1.0 tqdm==4.60.0
MIN_VENV := .venv-min
test-min:
	$(PYTHON) -m venv $(MIN_VENV)
	$(MIN_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(MIN_VENV)/bin/python -m pip install --quiet -e ".[all,dev]" -e ./paper $(MIN_PINS)
	$(MIN_VENV)/bin/python -m pip list 2>/dev/null | grep -iE "^(numpy|scipy|pot|scikit-learn|torch|sympy|joblib) "
	$(MIN_VENV)/bin/python -m pytest -n auto -p no:cacheprovider --durations=10

bench: install
	$(BIN)/python -m pip install --quiet -e ".[all,dev,bench]" -e ./paper
	mkdir -p results/benchmarks
	$(BIN)/python -m pytest tests/benchmarks/test_bench_wasserstein.py -m benchmark --benchmark-enable \
		--benchmark-json results/benchmarks/wasserstein.json
	$(BIN)/python -m pytest tests/benchmarks/test_bench_dimension.py -m benchmark --benchmark-enable \
		--benchmark-json results/benchmarks/dimension.json
	$(BIN)/python -m pytest tests/benchmarks/test_bench_nn.py -m benchmark --benchmark-enable \
		--benchmark-json results/benchmarks/nn.json
	$(BIN)/python -m pytest tests/benchmarks/test_bench_sweep.py -m benchmark --benchmark-enable \
		--benchmark-json results/benchmarks/sweep.json
	$(BIN)/python -m pytest tests/benchmarks/test_bench_scaling.py -m benchmark --benchmark-enable \
		--benchmark-json results/benchmarks/scaling.json
	$(BIN)/python -m pytest tests/benchmarks/test_bench_threads.py -m benchmark --benchmark-enable \
		--benchmark-json results/benchmarks/threads.json
	$(BIN)/python -m pytest tests/benchmarks/test_bench_cli.py -m benchmark --benchmark-enable \
		--benchmark-json results/benchmarks/cli.json
	$(BIN)/python -m pytest tests/benchmarks/test_bench_bounds.py -m benchmark --benchmark-enable \
		--benchmark-json results/benchmarks/bounds.json
	$(BIN)/python -m pytest tests/benchmarks/test_bench_sparse_ot.py -m benchmark --benchmark-enable \
		--benchmark-json results/benchmarks/sparse_ot.json
	$(BIN)/python tests/benchmarks/report.py --page docs/user_guide/benchmarks.md --readme README.md \
		results/benchmarks/wasserstein.json results/benchmarks/dimension.json results/benchmarks/nn.json \
		results/benchmarks/sweep.json results/benchmarks/scaling.json results/benchmarks/threads.json \
		results/benchmarks/cli.json results/benchmarks/bounds.json results/benchmarks/sparse_ot.json

# Every committed record must be what the current code computes (tests/test_rerun.py checks it):
# after changing code an experiment runs, rebuild them from a committed tree (quick: about 600 CPU-seconds, 5
# minutes on 2 cores; full: about 12,400 CPU-seconds, under 2 hours on 2 cores, most in rates, fig2 and
# rates_large's 65,536-point clouds;
# resumable: `make cache-full` again after an interruption reuses every current record), then
# `make validation-table`.
cache: install
	$(BIN)/lmctheory figures --quick --no-cache --prune --results paper/lmctheory_paper/figures/cache --out build/cache-figures

cache-full: install
	$(BIN)/lmctheory figures --full --no-cache --prune --results paper/lmctheory_paper/figures/cache --out build/full-figures

validation-table: install
	$(BIN)/lmctheory figures --quick --cached-only --quiet --results build/cache-results --out build/cache-figures
	$(BIN)/lmctheory figures --full --cached-only --quiet --results build/full-results --out build/full-figures
	$(BIN)/python -m lmctheory_paper.validation.summary build/cache-figures/validation.json \
		build/full-figures/validation.json --calibration --write README.md \
		--write docs/user_guide/validation.md --write docs/user_guide/wasserstein.md

docs: $(DOCS_STAMP)
	rm -rf docs/api/generated  # autosummary rewrites it: stubs of removed objects must not linger
	$(BIN)/sphinx-build -b html -W --keep-going -q docs docs/_build/html
	@echo "documentation: docs/_build/html/index.html"

lint: install
	$(BIN)/ruff check lmctheory paper tests examples docs/conf.py
	$(BIN)/ruff format --check lmctheory paper tests examples docs/conf.py
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) $(MIN_VENV) results/demo paper/out .pytest_cache docs/_build docs/api/generated docs/auto_examples build paper/build *.egg-info paper/*.egg-info
