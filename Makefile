# CryptoHub developer commands. Needs only python3: uv and everything else install themselves.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy
UV_VERSION := 0.13.8
UV := .tools/bin/uv
VENV := .venv
STAMP := $(VENV)/.synced
# mypy packages: cryptohub.common, cryptohub.cli and one per service (services/collector-market -> cryptohub.collector_market)
MYPY_PACKAGES := -p cryptohub.common -p cryptohub.cli $(foreach s,$(notdir $(wildcard services/*)),-p cryptohub.$(subst -,_,$(s)))

.PHONY: help install run test lint fmt bench asyncapi schemas

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(UV):
	python3 -m venv .tools
	.tools/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(STAMP): $(UV) uv.lock pyproject.toml $(wildcard libs/*/pyproject.toml services/*/pyproject.toml)
	$(UV) sync --locked --all-packages --inexact
	@$(MAKE) --no-print-directory torch-local
	@touch $@

# PyTorch, for the sentiment service's BERT models (its optional `bert` extra), is never installed
# by uv sync: PyPI's Linux wheel pulls gigabytes of CUDA packages. `--inexact` above keeps a torch
# installed here. torch-local installs the newest torch wheel for this Python found in pip's
# find-links folders (PIP_FIND_LINKS, else pip's find-links setting), by its path, so that no
# index can substitute a CUDA build; with none, sentiment runs its VADER lexicon fallback.
TORCH_CPU_INDEX := https://download.pytorch.org/whl/cpu

.PHONY: torch-local install-bert
torch-local:
	@links="$${PIP_FIND_LINKS:-$$(python3 -m pip config get global.find-links 2>/dev/null)}"; \
	tag=$$($(VENV)/bin/python -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")'); \
	wheel=""; \
	for dir in $$links; do \
	  dir="$${dir#file://}"; [ -d "$$dir" ] || continue; \
	  found=$$(ls "$$dir"/torch-*-$$tag-*.whl 2>/dev/null | sort -V | tail -n 1); \
	  [ -n "$$found" ] && wheel="$$found"; \
	done; \
	if [ -n "$$wheel" ]; then \
	  $(UV) pip install --quiet --python $(VENV)/bin/python "$$wheel"; \
	else \
	  echo "no local torch wheel: sentiment will use its VADER fallback (make install-bert adds PyTorch)"; \
	fi

install-bert: $(STAMP) ## add PyTorch (CPU build, from the PyTorch index) for sentiment's BERT models
	$(UV) pip install --python $(VENV)/bin/python --index $(TORCH_CPU_INDEX) "torch>=2.4"

install: $(STAMP) ## create .venv with every package of the workspace and the dev tools

run: $(STAMP) ## start NATS, PostgreSQL and every service (Ctrl-C stops all)
	$(VENV)/bin/cryptohub up

test: $(STAMP) ## run the whole test suite (unit, integration on embedded NATS/PostgreSQL, loopback HTTP)
	$(VENV)/bin/python -m pytest

lint: $(STAMP) ## ruff check, ruff format --check, mypy strict, schema drift
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy $(MYPY_PACKAGES)

fmt: $(STAMP) ## format and auto-fix
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

schemas: $(STAMP) ## export the JSON Schema of every event to docs/events/
	$(VENV)/bin/python -m cryptohub.common.schema_export docs/events

bench: $(STAMP) ## run the benchmarks in bench/ (by hand; results go in the README)
	@ls bench/*.py >/dev/null 2>&1 && for b in bench/*.py; do $(VENV)/bin/python $$b; done || echo "no benchmarks yet"

asyncapi: $(STAMP) ## (placeholder until a service defines subscribers) print the AsyncAPI of a service
	@echo "no service defines subscribers yet"
