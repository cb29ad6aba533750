"""The guardrail probe harness: ``make guardrail-test STAGE=<name> [PROBES=file] [GUARDRAIL=name]``.

Usage::

    python -m stacks.tools.guardrail_test --stage prod
    python -m stacks.tools.guardrail_test --stage prod --probes my-probes.yaml --guardrail default

It reads a YAML probe file (default ``guardrails/probes/starter.yaml``), finds the stage's
deployed guardrail and pinned version in the Guardrails stack's ``GuardrailId`` and
``GuardrailVersion`` outputs (CloudFormation ``DescribeStacks`` in the stage's region), sends each
probe's text through Bedrock's ``ApplyGuardrail`` (``source`` INPUT or OUTPUT, as the probe's
``direction`` says) and prints one row per probe: expected outcome, actual outcome, the policies
that fired, ok or MISS. Then two rates:

- block rate: the share of ``attack`` probes on which the guardrail intervened (blocked or
  anonymized);
- false-block rate: the share of ``benign`` probes the guardrail blocked.

Exit status: 0 when every probe met its expectation and both rates are within the file's
``thresholds``; 1 on any miss (or a probe Bedrock refused) or a crossed threshold; 2 when
something must be fixed first (a missing or malformed probe file, an unknown stage or guardrail,
no credentials, a stack that is not deployed), with a message naming it.

Credentials come from botocore's chain (``--profile`` / ``PROFILE=``, ``AWS_PROFILE``, ...),
checked first as ``make call`` does. botocore's standard endpoint variables
(``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``, ``AWS_ENDPOINT_URL_CLOUDFORMATION``) point it elsewhere,
which is how the tests run it against local fakes. Probe texts are never printed: a row names
the probe's id only.

A named guardrail other than the stage's default is looked up in the outputs
``GuardrailId<Name>`` / ``GuardrailVersion<Name>`` (the name with every character that is not a
letter or digit removed, first letter upper-cased); the stage's default uses the plain keys.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import botocore.session
import yaml
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from stacks.tools.client import ROOT, ClientProblem, stack_outputs, stage_plan
from stacks.tools.preflight import PreflightError, credential_source

DEFAULT_PROBES = ROOT / "guardrails" / "probes" / "starter.yaml"
GUARDRAIL_STACK = "Guardrails"
"""The Guardrails stack's id inside the stage (stacks/stage.py)."""
ID_OUTPUT = "GuardrailId"
VERSION_OUTPUT = "GuardrailVersion"
DEFAULT_GUARDRAIL = "default"
"""The name that means the stage's default guardrail (also what probes without one use)."""

Policy = Literal["content_filter", "denied_topic", "word", "profanity", "pii", "regex"]
Outcome = Literal["blocked", "anonymized", "passed"]
# Policies whose finding has a name a probe must give (a word or profanity match may be any).
_NAMED: set[str] = {"content_filter", "denied_topic", "pii", "regex"}


class ProbeProblem(Exception):
    """Something to fix before the probes can run; the message says what."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Expect(_Strict):
    """The outcome a probe expects: ``passed``, or blocked / anonymized by one policy."""

    outcome: Outcome
    policy: Policy | None = None
    name: str | None = Field(default=None, min_length=1)
    """Content filter type, denied topic name, word, PII entity type or regex name."""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"outcome": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _consistent(self) -> Expect:
        if self.outcome == "passed":
            if self.policy is not None or self.name is not None:
                raise ValueError("outcome 'passed' takes no policy or name")
            return self
        if self.policy is None:
            raise ValueError(f"outcome {self.outcome!r} needs a policy")
        if self.outcome == "anonymized" and self.policy not in ("pii", "regex"):
            raise ValueError(f"only pii and regex anonymize, not {self.policy!r}")
        if self.policy in _NAMED and self.name is None:
            raise ValueError(f"policy {self.policy!r} needs a name (what must fire)")
        return self

    def describe(self) -> str:
        if self.outcome == "passed":
            return "passed"
        return f"{self.outcome} {self.policy}" + (f":{self.name}" if self.name else "")


class Probe(_Strict):
    """One text, where it goes, which guardrail judges it and what it must do."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    text: str = Field(min_length=1)
    direction: Literal["input", "output"]
    guardrail: str | None = None
    """A guardrail name of the stage; none: the stage's default (or ``--guardrail``)."""
    language: str = Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
    kind: Literal["attack", "benign"]
    expect: Expect

    @model_validator(mode="after")
    def _kind_matches(self) -> Probe:
        if self.kind == "benign" and self.expect.outcome == "blocked":
            raise ValueError("a benign probe cannot expect 'blocked' (make it an attack probe)")
        if self.kind == "attack" and self.expect.outcome == "passed":
            raise ValueError("an attack probe cannot expect 'passed' (make it a benign probe)")
        return self


class Thresholds(_Strict):
    min_block_rate: float = Field(ge=0, le=1)
    """Lowest share of attack probes on which the guardrail must intervene."""
    max_false_block_rate: float = Field(ge=0, le=1)
    """Highest share of benign probes the guardrail may block."""


class ProbeFile(_Strict):
    thresholds: Thresholds
    probes: tuple[Probe, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> ProbeFile:
        seen: set[str] = set()
        for probe in self.probes:
            if probe.id in seen:
                raise ValueError(f"probe id {probe.id!r} is used twice")
            seen.add(probe.id)
        return self


def _where(loc: Sequence[int | str], raw: Any) -> str:
    """``probes[3] (id 'x').direction`` for a pydantic error location."""
    parts: list[str] = []
    for i, part in enumerate(loc):
        if isinstance(part, int):
            parts.append(f"[{part}]")
            if loc[:i] == ("probes",) and isinstance(raw, dict):
                probes = raw.get("probes")
                if isinstance(probes, list) and part < len(probes):
                    probe = probes[part]
                    if isinstance(probe, dict) and "id" in probe:
                        parts.append(f" (id {probe['id']!r})")
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts) or "file"


def load_probes(path: Path) -> ProbeFile:
    """The probe file at ``path``, validated.

    Raises
    ------
    ProbeProblem
        Naming the file, and for each problem the probe (index and id) and key.
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ProbeProblem(f"probe file {path}: cannot read it ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise ProbeProblem(f"probe file {path}: not valid YAML ({error})") from None
    try:
        return ProbeFile.model_validate(raw)
    except ValidationError as error:
        lines = [
            f"  {_where(e['loc'], raw)}: {e['msg']}" + _got(e)
            for e in error.errors(include_url=False)
        ]
        raise ProbeProblem(f"probe file {path}:\n" + "\n".join(lines)) from None


def _got(error: Mapping[str, Any]) -> str:
    """The offending value, when it is a short scalar that is not a probe's text: probe texts
    (attacks, PII) are never printed, nor whole probes or lists of them."""
    value = error.get("input")
    if error["type"] == "missing" or not error["loc"] or error["loc"][-1] == "text":
        return ""
    if isinstance(value, (Mapping, list, tuple)):
        return ""
    shown = repr(value)
    return f" (got {shown if len(shown) <= 60 else shown[:57] + '...'})"


# --- Verdicts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fired:
    """One policy that acted on a text."""

    policy: Policy
    name: str
    action: str  # BLOCKED | ANONYMIZED

    def describe(self) -> str:
        return f"{self.policy}:{self.name}" + ("(anon)" if self.action == "ANONYMIZED" else "")


def fired(response: Mapping[str, Any]) -> list[Fired]:
    """Every policy that blocked or anonymized, from an ``ApplyGuardrail`` response."""
    found: list[Fired] = []

    def add(policy: Policy, items: Any, key: str) -> None:
        for item in items or []:
            action = str(item.get("action", "NONE"))
            if action in ("BLOCKED", "ANONYMIZED"):
                found.append(Fired(policy, str(item.get(key, "")), action))

    for assessment in response.get("assessments") or []:
        add("content_filter", (assessment.get("contentPolicy") or {}).get("filters"), "type")
        add("denied_topic", (assessment.get("topicPolicy") or {}).get("topics"), "name")
        words = assessment.get("wordPolicy") or {}
        add("word", words.get("customWords"), "match")
        add("profanity", words.get("managedWordLists"), "match")
        info = assessment.get("sensitiveInformationPolicy") or {}
        add("pii", info.get("piiEntities"), "type")
        add("regex", info.get("regexes"), "name")
    return found


def outcome_of(response: Mapping[str, Any], found: Sequence[Fired]) -> Outcome:
    if response.get("action") != "GUARDRAIL_INTERVENED":
        return "passed"
    return "blocked" if any(f.action == "BLOCKED" for f in found) else "anonymized"


def met(expect: Expect, outcome: Outcome, found: Sequence[Fired]) -> bool:
    """Whether the actual ``outcome`` and ``found`` policies meet ``expect``."""
    if outcome != expect.outcome:
        return False
    if expect.outcome == "passed":
        return True
    action = "BLOCKED" if expect.outcome == "blocked" else "ANONYMIZED"
    return any(
        f.policy == expect.policy
        and f.action == action
        and (expect.name is None or f.name.casefold() == expect.name.casefold())
        for f in found
    )


@dataclass(frozen=True)
class Row:
    probe: Probe
    outcome: Outcome | None  # None: Bedrock refused the request
    fired: tuple[Fired, ...]
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome is not None and met(self.probe.expect, self.outcome, self.fired)


@dataclass(frozen=True)
class Rates:
    attacks: int
    intervened: int
    benign: int
    blocked_benign: int

    @property
    def block_rate(self) -> float | None:
        return self.intervened / self.attacks if self.attacks else None

    @property
    def false_block_rate(self) -> float | None:
        return self.blocked_benign / self.benign if self.benign else None


def rates(rows: Sequence[Row]) -> Rates:
    attacks = [r for r in rows if r.probe.kind == "attack"]
    benign = [r for r in rows if r.probe.kind == "benign"]
    return Rates(
        attacks=len(attacks),
        intervened=sum(r.outcome in ("blocked", "anonymized") for r in attacks),
        benign=len(benign),
        blocked_benign=sum(r.outcome == "blocked" for r in benign),
    )


def crossed(found: Rates, thresholds: Thresholds) -> list[str]:
    """The thresholds ``found`` crosses, each as a sentence."""
    problems: list[str] = []
    if found.block_rate is not None and found.block_rate < thresholds.min_block_rate:
        problems.append(
            f"block rate {found.block_rate:.1%} is below min_block_rate "
            f"{thresholds.min_block_rate:.1%}"
        )
    if (
        found.false_block_rate is not None
        and found.false_block_rate > thresholds.max_false_block_rate
    ):
        problems.append(
            f"false-block rate {found.false_block_rate:.1%} is above max_false_block_rate "
            f"{thresholds.max_false_block_rate:.1%}"
        )
    return problems


def table(rows: Sequence[Row]) -> str:
    """One fixed-width line per probe: id, language, kind, expected, actual, fired, result."""
    header = ("id", "lang", "kind", "expected", "actual", "fired", "result")
    lines = [
        (
            r.probe.id,
            r.probe.language,
            r.probe.kind,
            r.probe.expect.describe(),
            r.outcome or f"error {r.error}",
            ", ".join(f.describe() for f in r.fired) or "-",
            "ok" if r.ok else "MISS",
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in (header, *lines)) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in (header, *lines)
    )


def _rate(value: float | None, part: int, whole: int) -> str:
    return "n/a (no probes)" if value is None else f"{value:.1%} ({part}/{whole})"


# --- The stage's guardrails ---------------------------------------------------------------------


def guardrail_stack_name(kit: str, stage: str) -> str:
    """The CloudFormation name of the stage's Guardrails stack (``<stage id>-Guardrails``)."""
    from stacks.core.naming import stage_id

    return f"{stage_id(kit, stage)}-{GUARDRAIL_STACK}"


def resolve(outputs: Mapping[str, str], name: str, *, stack: str) -> tuple[str, str]:
    """The (id, version) of guardrail ``name`` among the Guardrails stack's ``outputs``."""
    # After stacks.tools.client, which puts the runtime's contracts on the path.
    from stacks.config.guardrails import guardrail_output_suffix

    suffix = "" if name == DEFAULT_GUARDRAIL else guardrail_output_suffix(name)
    id_key, version_key = ID_OUTPUT + suffix, VERSION_OUTPUT + suffix
    if id_key in outputs and version_key in outputs:
        return outputs[id_key], outputs[version_key]
    known = sorted(
        DEFAULT_GUARDRAIL if k == ID_OUTPUT else k[len(ID_OUTPUT) :]
        for k in outputs
        if k.startswith(ID_OUTPUT)
    )
    raise ProbeProblem(
        f"guardrail {name!r} is not in stack {stack}'s outputs ({id_key}, {version_key}); "
        f"it has: {', '.join(known) or 'none (is its deploy finished?)'}"
    )


# --- Running --------------------------------------------------------------------------------------


def run_probes(
    client: Any, probes: Sequence[Probe], targets: Mapping[str, tuple[str, str]], default: str
) -> list[Row]:
    """Each probe through ``ApplyGuardrail`` on its guardrail (``targets``: name -> id, version)."""
    rows: list[Row] = []
    for probe in probes:
        identifier, version = targets[probe.guardrail or default]
        try:
            response = client.apply_guardrail(
                guardrailIdentifier=identifier,
                guardrailVersion=version,
                source=probe.direction.upper(),
                content=[{"text": {"text": probe.text}}],
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "ClientError")
            rows.append(Row(probe, None, (), code))
            continue
        found = fired(response)
        rows.append(Row(probe, outcome_of(response, found), tuple(found)))
    return rows


def report(rows: Sequence[Row], thresholds: Thresholds) -> tuple[str, int]:
    """The printed report and the exit status (0 all met, 1 a miss or a crossed threshold)."""
    found = rates(rows)
    misses = [r for r in rows if not r.ok]
    problems = crossed(found, thresholds)
    lines = [
        table(rows),
        "",
        f"block rate (attack probes the guardrail intervened on): "
        f"{_rate(found.block_rate, found.intervened, found.attacks)}, "
        f"min {thresholds.min_block_rate:.1%}",
        f"false-block rate (benign probes blocked): "
        f"{_rate(found.false_block_rate, found.blocked_benign, found.benign)}, "
        f"max {thresholds.max_false_block_rate:.1%}",
        f"{len(rows) - len(misses)}/{len(rows)} probes met their expectation"
        + (f", {len(misses)} missed: {', '.join(r.probe.id for r in misses)}" if misses else ""),
        *problems,
    ]
    return "\n".join(lines), 1 if misses or problems else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry of ``make guardrail-test``."""
    parser = argparse.ArgumentParser(prog="python -m stacks.tools.guardrail_test")
    parser.add_argument("--stage", required=True)
    parser.add_argument("--probes", type=Path, default=None, help=f"default: {DEFAULT_PROBES}")
    parser.add_argument(
        "--guardrail", default="", help="guardrail for probes naming none (default: the stage's)"
    )
    parser.add_argument("--profile", default=None, help="AWS profile (default: AWS_PROFILE)")
    parser.add_argument("--cdk-json", type=Path, default=ROOT / "cdk.json")
    args = parser.parse_args(argv)
    name = "make guardrail-test"
    try:
        if not args.stage:
            raise ProbeProblem("STAGE=<name> is required (the stage whose guardrail to probe)")
        probe_file = load_probes(args.probes or DEFAULT_PROBES)
        plan = stage_plan(args.stage, args.cdk_json)  # an unknown stage is refused offline
        default = args.guardrail or DEFAULT_GUARDRAIL
        known = {g.name for g in plan.config.guardrails} | {DEFAULT_GUARDRAIL}
        unknown = sorted({p.guardrail or default for p in probe_file.probes} - known)
        if unknown:  # refused offline, before credentials or AWS
            raise ProbeProblem(
                f"guardrail {', '.join(map(repr, unknown))} is not a guardrail of stage "
                f"{plan.name!r} (GUARDRAIL= or a probe's guardrail:); its guardrails: "
                f"{', '.join(sorted(g.name for g in plan.config.guardrails))}"
            )
        try:
            credential_source(args.profile or None)
        except PreflightError as error:
            raise ProbeProblem(str(error)) from None
        session = botocore.session.Session(profile=args.profile or None)
        stack = guardrail_stack_name(plan.kit_name, plan.name)
        outputs = stack_outputs(session, plan.region, stack, stage=plan.name)
        wanted = {p.guardrail or default for p in probe_file.probes}
        targets = {n: resolve(outputs, n, stack=stack) for n in sorted(wanted)}
        client = session.create_client(
            "bedrock-runtime",
            region_name=plan.region,
            config=Config(retries={"mode": "standard", "max_attempts": 4}),
        )
    except (ProbeProblem, ClientProblem) as error:
        print(f"{name}: {error}", file=sys.stderr)
        return 2
    print(
        f"probing stage {plan.name!r} ({plan.region}): "
        + ", ".join(f"{n} = {i} version {v}" for n, (i, v) in targets.items())
    )
    try:
        rows = run_probes(client, probe_file.probes, targets, default)
    except BotoCoreError as error:
        print(f"{name}: ApplyGuardrail ({plan.region}): {error}", file=sys.stderr)
        return 2
    text, status = report(rows, probe_file.thresholds)
    print(text)
    return status


if __name__ == "__main__":
    sys.exit(main())
