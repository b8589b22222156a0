# xlmlab: `make demo` to set up and run the workbook, `make test` for the whole suite.
PYTHON     ?= python3
VENV       ?= .venv
# torch is installed first, pinned to a CPU build; override with any pip arguments, e.g.
#   make demo TORCH_SPEC="torch>=2.3"   (the newest build, with its CUDA packages)
TORCH_SPEC ?= torch==2.13.0
BIN        := $(VENV)/bin
# notebooks start their kernel from PATH: make it this environment's
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: setup setup-test assets demo test lab bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet $(TORCH_SPEC)
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

setup: $(VENV)/.installed
setup-test: $(VENV)/.installed-test

assets: setup
	$(BIN)/python -m xlmlab assets

demo: assets
	@mkdir -p build
	$(BIN)/jupyter nbconvert --to html --execute --output-dir build notebooks/*.ipynb
	@echo "The workbook, executed:"; for f in build/*.html; do echo "  $$(pwd)/$$f"; done

test: setup-test assets
	$(BIN)/python -m pytest tests notebooks --nbval-lax

lab: assets
	$(BIN)/jupyter lab notebooks

bench: setup-test
	$(BIN)/python benchmarks/forward_cpu.py
	$(BIN)/python benchmarks/train_gpu.py
	$(BIN)/python benchmarks/tokenizers_speed.py
	$(BIN)/python benchmarks/vocab_build_time.py
	$(BIN)/python benchmarks/generate_speed.py
	$(BIN)/python benchmarks/train_cpu.py
	$(BIN)/python benchmarks/sparse_embeddings.py

clean:
	rm -rf build .pytest_cache
