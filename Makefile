# xlmlab: `make demo` to set up and run the workbook, `make test` for the whole suite.
PYTHON     ?= python3
VENV       ?= .venv
# torch is installed first, pinned to a CPU build; override with any pip arguments, e.g.
#   make demo TORCH_SPEC="torch>=2.3"   (the newest build, with its CUDA packages)
TORCH_SPEC ?= torch==2.13.0
BIN        := $(VENV)/bin
# notebooks start their kernel from PATH: make it this environment's
export PATH := $(abspath $(BIN)):$(PATH)

# The other packages at the exact versions in constraints.txt (what decides the embedded data and
# the checked notebook outputs); CONSTRAINTS= installs the newest that pyproject.toml allows.
CONSTRAINTS ?= constraints.txt
# The suite as another CPU sees it: one thread, ATen's plain kernels, MKL, OpenBLAS and oneDNN
# without AVX, and an empty XLMLAB_HOME, so every embedded asset is built again.
PORTABLE   := OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 ATEN_CPU_CAPABILITY=default MKL_ENABLE_INSTRUCTIONS=SSE4_2 \
              OPENBLAS_CORETYPE=Prescott ONEDNN_MAX_CPU_ISA=SSE41

.PHONY: fonts setup setup-test assets demo check-demo lint test test-browser test-portable lab bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch comes from TORCH_SPEC, so the constraints pass on everything but torch
$(VENV)/constraints.txt: $(CONSTRAINTS) | $(BIN)/python
	$(if $(CONSTRAINTS),grep -v '^torch==' $(CONSTRAINTS) > $@,: > $@)

$(VENV)/.installed: pyproject.toml $(VENV)/constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet $(TORCH_SPEC)
	$(BIN)/python -m pip install --quiet -c $(VENV)/constraints.txt -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -c $(VENV)/constraints.txt -e ".[test]"
	touch $@

# Fonts for every script the figures label (Noto: Arabic, Devanagari, Thai, CJK...; xlmlab/figures.py).
# As root on Debian/Ubuntu they are installed with apt-get; elsewhere `python -m xlmlab.figures` says what is
# missing and the figures still draw, with one warning (README, "Fonts").
FONT_PACKAGES := fonts-noto-core fonts-noto-cjk
fonts: $(VENV)/.installed
	@$(BIN)/python -m xlmlab.figures >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get install -y -qq $(FONT_PACKAGES) >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq $(FONT_PACKAGES) >/dev/null; } \
	      || echo "the Noto fonts could not be installed: figures will draw some scripts as boxes"; \
	  else $(BIN)/python -m xlmlab.figures 2>&1 | tail -n 1; fi; }

setup: $(VENV)/.installed fonts
setup-test: $(VENV)/.installed-test fonts

assets: setup
	$(BIN)/python -m xlmlab assets

demo: assets
	@mkdir -p build
	$(BIN)/jupyter nbconvert --to html --execute --output-dir build notebooks/*.ipynb
	@echo "The workbook, executed:"; for f in build/*.html; do echo "  $$(pwd)/$$f"; done

# the pages `make demo` wrote, opened in Chromium: every figure drawn, no error output saved
check-demo: setup-test
	$(BIN)/python tests/browser/harness.py build/*.html

lint: setup-test
	$(BIN)/ruff check xlmlab tests benchmarks

# tests/browser runs the notebooks in JupyterLab in Chromium (apt-get install chromium; skipped, and
# said so, without it); screenshots go to build/screenshots
test: lint assets
	$(BIN)/python -m pytest tests notebooks --nbval-lax

test-browser: setup-test assets
	$(BIN)/python -m pytest tests/browser

test-portable: setup-test
	home=$$(mktemp -d) && trap 'rm -rf "$$home"' EXIT && \
	env $(PORTABLE) XLMLAB_HOME="$$home" $(MAKE) --no-print-directory test

lab: assets
	$(BIN)/jupyter lab notebooks

bench: setup-test
	$(BIN)/python benchmarks/forward_cpu.py
	$(BIN)/python benchmarks/train_gpu.py
	$(BIN)/python benchmarks/output_layer_gpu.py
	$(BIN)/python benchmarks/tokenizers_speed.py
	$(BIN)/python benchmarks/vocab_build_time.py
	$(BIN)/python benchmarks/generate_speed.py
	$(BIN)/python benchmarks/train_cpu.py
	$(BIN)/python benchmarks/mlm_step_cpu.py
	$(BIN)/python benchmarks/sparse_embeddings.py
	$(BIN)/python benchmarks/unknown_pieces.py
	$(BIN)/python benchmarks/embedded_probe.py
	$(BIN)/python benchmarks/pretrain_miniature.py

clean:
	rm -rf build .pytest_cache
