# Two commands on a fresh machine (python3 + node/npm, no AWS credentials):
#   make synth [STAGE=name]   installs what it needs, synthesizes the stage into cdk.out/
#                             (no STAGE: the stage cdk.json names in kit.default_stage)
#   make test                 installs what it needs, runs lint, type checks and every test
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
# Empty: the app and the preflight use kit.default_stage from cdk.json (the config holds the
# default, not the Makefile); `-c stage=` is passed only when STAGE is set.
STAGE ?=
STAGE_CONTEXT = $(if $(STAGE),-c stage=$(STAGE))
UV_VERSION := 0.13.8
TOOLS := $(CURDIR)/.build/tools
UV := $(TOOLS)/bin/uv

# Node 22 from the npm registry (node_modules/.bin/node) is used by the CDK CLI and by jsii.
export PATH := $(CURDIR)/node_modules/.bin:$(TOOLS)/bin:$(PATH)
export UV_COMPILE_BYTECODE := 1
export UV_LINK_MODE := copy
# Synth never calls AWS: skip the instance-metadata probe the SDKs make without credentials.
# `?=` keeps a caller's value: on EC2 with an instance profile, deploy with
# AWS_EC2_METADATA_DISABLED=false so the CLI may use the instance's credentials.
export AWS_EC2_METADATA_DISABLED ?= true
export CDK_DISABLE_CLI_TELEMETRY := true
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1

.PHONY: install config synth test test-unit lint typecheck format bench bootstrap diff deploy destroy \
	preflight pipeline-bootstrap call smoke ingest guardrail-test docs-costs clean serve-local serve

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

# What the stage resolves to (kit name, stacks, region, models, guardrail), from cdk.json alone.
config: install
	@$(CURDIR)/.venv/bin/python -m stacks.tools.show_config --stage="$(STAGE)"

synth: install
	npx cdk synth --quiet --no-notices $(STAGE_CONTEXT)
	@echo "synthesized $(if $(STAGE),stage '$(STAGE)',the default stage (kit.default_stage in cdk.json)) into cdk.out/"

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

# --- Deploy, diff, destroy: every stack of the one stage the app synthesizes -------------------
# `--all` and `*` reach only top-level stacks, and the kit's stacks sit inside a cdk.Stage, so
# the pinned CLI would select nothing; `**` matches at every depth (see docs/decisions.md).
# Override it to act on one stack (README, "Upgrading a stage deployed before 2026-11-30").
CDK_STACKS ?= '**'
# deploy asks in a terminal when a change broadens IAM or security groups; CI (no terminal)
# passes APPROVAL=never. destroy asks too: scripts pass CDK_FLAGS=--force.
APPROVAL ?= broadening
# Extra CLI flags (e.g. --force, --profile p, --concurrency 2).
CDK_FLAGS ?=
# A cloud assembly that `make synth STAGE=<same>` wrote (e.g. a CI artifact): used as is.
ASSEMBLY ?=
CDK_APP = $(if $(ASSEMBLY),--app $(ASSEMBLY))
CDK_RUN = cdk --no-notices $(STAGE_CONTEXT) $(CDK_APP)
# Checks credentials (no network call) and ASSEMBLY before the CLI runs; explains a CLI failure.
PREFLIGHT = $(CURDIR)/.venv/bin/python -m stacks.tools.preflight --stage="$(STAGE)" \
	$(if $(ASSEMBLY),--assembly=$(ASSEMBLY)) --cdk-flags="$(CDK_FLAGS)"

preflight: install
	@$(PREFLIGHT) --command="make preflight"

bootstrap: install
	@$(PREFLIGHT) --command="make bootstrap"
	$(CDK_RUN) bootstrap $(CDK_FLAGS) || $(PREFLIGHT) --command="make bootstrap" --cli-failed

diff: install
	@$(PREFLIGHT) --command="make diff"
	$(CDK_RUN) diff $(CDK_STACKS) $(CDK_FLAGS) || $(PREFLIGHT) --command="make diff" --cli-failed

deploy: install
	@$(PREFLIGHT) --command="make deploy"
	$(CDK_RUN) deploy $(CDK_STACKS) --require-approval $(APPROVAL) $(CDK_FLAGS) \
		|| $(PREFLIGHT) --command="make deploy" --cli-failed

destroy: install
	@$(PREFLIGHT) --command="make destroy"
	$(CDK_RUN) destroy $(CDK_STACKS) $(CDK_FLAGS) || $(PREFLIGHT) --command="make destroy" --cli-failed

# --- The CI/CD roles: GitHub's OIDC provider and per-stage deploy and diff roles ---------------
# A separate CDK app (app_pipeline.py) over the same cdk.json: `context.pipeline` names the
# repository; one stack per account, for the stages of the credentials' account (README, CI/CD).
PIPELINE_RUN = cdk --no-notices --app "$(CURDIR)/.venv/bin/python app_pipeline.py" \
	--output cdk.out.pipeline

pipeline-bootstrap: install
	@$(PREFLIGHT) --command="make pipeline-bootstrap"
	$(PIPELINE_RUN) deploy --require-approval $(APPROVAL) $(CDK_FLAGS) \
		|| $(PREFLIGHT) --command="make pipeline-bootstrap" --cli-failed

# --- Call a deployed stage: SigV4-signed with your credential chain (stacks/tools/client.py) ----
# make call STAGE=dev [MESSAGE="Hello"] [BODY='{"tier": "fast", "messages": [...]}'] [PROFILE=p]
# make call STAGE=dev ROUTE=/rag KB=docs MESSAGE="question"   (ROUTE=/retrieve: chunks only)
# make call STAGE=dev ROUTE=/guardrail/check MESSAGE="text"   the guardrail's verdict, no model
# make call STAGE=dev GUARDRAIL=<name> MESSAGE="..."   through that stage guardrail (default: the
#                                                     stage's default; not with ROUTE=/retrieve)
# make call STAGE=dev STREAM=1 MESSAGE="Tell me a story"   POST /chat/stream: the text prints as
#   it streams, then one line (model, attempts, fallbacks, tokens, cost); exit 1 on an error
#   status or a final `event: error` (STREAM=1 applies to /chat only)
# KB needs ROUTE=/rag or /retrieve (with the default /chat it is an error, not dropped) and must
# be one of the stage's knowledge_bases in cdk.json: both are checked before any AWS call.
# make smoke STAGE=dev [PROFILE=p]
# API_URL (call and smoke) replaces the Api stack's ApiUrl output: API_URL=alias takes a private
#   stage's endpoint-alias URL output (peered / transit / VPN hosts without the VPC's private
#   DNS); API_URL=https://... is used as given, with no CloudFormation call (a host in an
#   isolated VPC that reaches only the API's endpoint). See docs/private-networking.md.
# BODY, MESSAGE and PROFILE reach the client through the environment, so quotes survive as typed.
CDK_JSON ?= $(CURDIR)/cdk.json
STREAM ?=
export BODY MESSAGE PROFILE ROUTE KB API_URL
CLIENT = $(CURDIR)/.venv/bin/python -m stacks.tools.client --stage=$(STAGE) \
	--cdk-json=$(CDK_JSON) --profile="$${PROFILE:-}" --url="$${API_URL:-}"

call: install
	@$(CLIENT) call --body="$${BODY:-}" --message="$${MESSAGE:-}" --path="$${ROUTE:-/chat}" \
		--knowledge-base="$${KB:-}" --guardrail="$${GUARDRAIL:-}" $(if $(filter-out 0,$(STREAM)),--stream)

smoke: install
	@$(CLIENT) smoke

# --- The API on localhost (stacks/tools/serve.py): POST /chat, /chat/stream, GET /models --------
# make serve-local [STAGE=name] [PORT=8000]   the stage's config, models answered by the local
#                                             Bedrock stand-in: no AWS account needed
# make serve STAGE=dev [PROFILE=p] [PORT=8000]  real Bedrock with your credentials and the
#                                             deployed stage's settings (profiles, guardrail)
PORT ?= 8000
serve-local: install
	@$(CURDIR)/.venv/bin/python -m stacks.tools.serve --local --stage="$(STAGE)" --port="$(PORT)" \
		--cdk-json=$(CDK_JSON)

serve: install
	@$(CURDIR)/.venv/bin/python -m stacks.tools.serve --stage="$(STAGE)" --port="$(PORT)" \
		--cdk-json=$(CDK_JSON) --profile="$${PROFILE:-}"

# --- Sync a knowledge base and follow the job to its end (stacks/tools/ingest.py) ---------------
# make ingest KB=<name> STAGE=<stage> [PROFILE=p] [POLL=15]: POLL is the seconds between
# progress checks (1-300); exit 1 when the job failed or documents failed, 2 when something
# must be fixed first.
KB ?=
POLL ?= 15
export KB
ingest: install
	@$(CURDIR)/.venv/bin/python -m stacks.tools.ingest --stage="$(STAGE)" --kb="$${KB:-}" \
		--cdk-json=$(CDK_JSON) --profile="$${PROFILE:-}" --poll-seconds="$(POLL)"

# --- Probe a deployed guardrail (stacks/tools/guardrail_test.py) --------------------------------
# make guardrail-test STAGE=<name> [PROBES=file] [GUARDRAIL=name] [PROFILE=p]
# Sends every probe of PROBES (default guardrails/probes/starter.yaml) through ApplyGuardrail on
# the stage's deployed guardrail (its pinned version, from the Guardrails stack's outputs) and
# prints expected vs actual per probe, the block rate on attack probes and the false-block rate
# on benign ones; exit 1 on a miss or a crossed threshold (set in the file), 2 when something
# must be fixed first (probe file, stage, credentials, stack not deployed).
PROBES ?=
GUARDRAIL ?=
guardrail-test: install
	@$(CURDIR)/.venv/bin/python -m stacks.tools.guardrail_test --stage="$(STAGE)" \
		$(if $(PROBES),--probes="$(PROBES)") --guardrail="$(GUARDRAIL)" \
		--cdk-json=$(CDK_JSON) --profile="$${PROFILE:-}"

# --- Regenerate the idle-cost tables (docs/knowledge-bases.md, README "Private deployments")
#     from stacks/catalog/idle_costs.yaml and the stages of cdk.json
docs-costs: install
	@$(CURDIR)/.venv/bin/python -m stacks.catalog.idle_costs --write

clean:
	rm -rf cdk.out cdk.out.pipeline .pytest_cache .ruff_cache
