# lmctheory: one command to set up and run the main job, one to set up and run the tests.
#   make demo   install into .venv and run the main job (writes results/demo/)
#   make test   install into .venv and run the default test suite
#   make test-slow / make bench   the long experiments / the benchmarks (not in the default run)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The CPU wheel of torch; an unpinned torch would pull a multi-GB CUDA build.
TORCH  ?= torch==2.13.0
STAMP  := $(VENV)/.installed

.PHONY: install demo test test-slow bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/lmctheory rates --law uniform --d 5 --p 2 --ns 64,128,...,1024 --reps 4 \
		--out results/demo/rates_uniform_d5.json --plot results/demo/rates_uniform_d5.png
	$(BIN)/lmctheory rates --law subspace --d 10 --k 5 --p 2 --ns 64,128,...,1024 --reps 4 \
		--out results/demo/rates_subspace_k5_d10.json --plot results/demo/rates_subspace_k5_d10.png
	$(BIN)/lmctheory dimension --benchmark --ns 1000 --Ds 20 --out results/demo/dimension_benchmark.json

test: install
	$(BIN)/python -m pytest

test-slow: install
	$(BIN)/python -m pytest -m slow

bench: install
	mkdir -p results/benchmarks
	$(BIN)/python -m pytest tests/benchmarks/test_bench_wasserstein.py -m benchmark --benchmark-enable \
		--benchmark-json results/benchmarks/wasserstein.json
	$(BIN)/python -m pytest tests/benchmarks/test_bench_dimension.py -m benchmark --benchmark-enable \
		--benchmark-json results/benchmarks/dimension.json
	$(BIN)/python -m pytest tests/benchmarks/test_bench_nn.py -m benchmark --benchmark-enable \
		--benchmark-json results/benchmarks/nn.json
	$(BIN)/python tests/benchmarks/report.py results/benchmarks/wasserstein.json results/benchmarks/dimension.json \
		results/benchmarks/nn.json

lint: install
	$(BIN)/ruff check lmctheory tests

clean:
	rm -rf $(VENV) results/demo .pytest_cache
