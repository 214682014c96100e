# Each target builds .venv itself when it is missing, so `make demo` and
# `make test` are all a fresh machine needs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Stamp files record what is installed; editing pyproject.toml reinstalls.
BASE   := $(VENV)/.zoo-base
DEV    := $(VENV)/.zoo-dev
# Two workers (this machine's two cores), each test file on one of them, so a
# file's module fixtures are built once.
PYTEST_ARGS ?= -n 2 --dist loadfile

.PHONY: demo test test-all notebooks ui bench gpu lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The distribution was called `zoo` before it became keras-applied-zoo; an
# old install of it in .venv would leave a second `zoo` behind, so it goes first.
$(BASE): pyproject.toml setup.py | $(BIN)/python
	$(BIN)/python -m pip uninstall --quiet -y zoo 2>/dev/null || true
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEV): pyproject.toml setup.py $(BASE)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(BASE)
	$(BIN)/python recipes/classify.py

test: $(DEV)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The whole suite, slow tests included.
test-all: $(DEV)
	$(BIN)/python -m pytest -m '' $(PYTEST_ARGS)

# Re-runs every notebook at full settings and saves it with its outputs.
notebooks: $(DEV)
	$(BIN)/python notebooks/execute.py

lint: $(DEV)
	$(BIN)/python -m flake8 zoo tests benchmarks recipes setup.py

ui: $(BASE)
	$(BIN)/zoo ui

# Every benchmark prints ratios measured side by side in one run
# (about 50 minutes on 2 CPU cores; see the README).
bench: $(BASE)
	$(BIN)/python benchmarks/inference.py
	$(BIN)/python benchmarks/input_pipeline.py
	$(BIN)/python benchmarks/head_tuning.py
	$(BIN)/python benchmarks/tuning_memory.py
	$(BIN)/python benchmarks/precise_bn.py
	$(BIN)/python benchmarks/gan_step.py
	$(BIN)/python benchmarks/small_folders.py

# On a machine with an NVIDIA GPU: swap the CPU build of TensorFlow in .venv
# for the CUDA build of the same version.
gpu: $(BASE)
	v=$$($(BIN)/python -c 'import tensorflow as tf; print(tf.__version__)') && \
	$(BIN)/python -m pip uninstall --quiet -y tensorflow-cpu && \
	$(BIN)/python -m pip install --quiet "tensorflow[and-cuda]==$$v"

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
