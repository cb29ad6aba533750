# Two commands on a fresh machine (python3 + node/npm, no AWS credentials):
#   make synth [STAGE=name]   installs what it needs, synthesizes the stage into cdk.out/
#   make test                 installs what it needs, runs lint, type checks and every test
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
STAGE ?= dev
UV_VERSION := 0.13.8
TOOLS := $(CURDIR)/.build/tools
UV := $(TOOLS)/bin/uv

# Node 22 from the npm registry (node_modules/.bin/node) is used by the CDK CLI and by jsii.
export PATH := $(CURDIR)/node_modules/.bin:$(TOOLS)/bin:$(PATH)
export UV_COMPILE_BYTECODE := 1
export UV_LINK_MODE := copy
# Synth never calls AWS: skip the instance-metadata probe the SDKs make without credentials.
export AWS_EC2_METADATA_DISABLED := true
export CDK_DISABLE_CLI_TELEMETRY := true
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1

.PHONY: install synth test test-unit lint typecheck format bench diff deploy clean

install: .venv/.installed node_modules/.installed

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-fund --no-audit --loglevel=error
	touch $@

synth: install
	npx cdk synth --quiet --no-notices -c stage=$(STAGE)
	@echo "synthesized stage '$(STAGE)' into cdk.out/"

test: lint typecheck
	$(UV) run --frozen pytest

test-unit: install
	$(UV) run --frozen pytest -m unit -q

lint: install
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

typecheck: install
	$(UV) run --frozen mypy

format: install
	$(UV) run --frozen ruff check --fix .
	$(UV) run --frozen ruff format .

bench: install
	$(UV) run --frozen python bench/run.py $(ARGS)

diff: install
	npx cdk diff --all --no-notices -c stage=$(STAGE)

deploy: install
	npx cdk deploy --all --no-notices -c stage=$(STAGE)

clean:
	rm -rf cdk.out .pytest_cache .ruff_cache
