"""Knowledge endpoints' documents: the settings of the retrieve and RAG functions, and the
``POST /retrieve`` / ``POST /rag`` request and response bodies, defined once.

The stacks build the settings and derive the API Gateway request models from the request
classes; the handlers parse both. A metadata filter mirrors Bedrock's ``RetrievalFilter`` (a
union: exactly one operator per object; ``andAll``/``orAll`` take at least two filters;
botocore ``bedrock-agent-runtime`` 2023-07-26, checked 2026-12-01), so a filter that passes
here is one Bedrock accepts, and its nesting and size are bounded before it is parsed.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, WithJsonSchema, field_validator, model_validator

from kit_runtime.contracts.chat import ChatSettings, TimeBudget
from kit_runtime.contracts.chat_api import ApiModel, Cost, Usage
from kit_runtime.contracts.common import Contract
from kit_runtime.contracts.guardrail_verdict import GuardrailVerdict

MAX_RESULTS = 100
"""``KnowledgeBaseVectorSearchConfiguration.numberOfResults`` maximum (botocore, 2026-12-01)."""
MAX_QUERY_CHARS = 20_000
"""``KnowledgeBaseQuery.text`` maximum length (botocore, 2026-12-01)."""
MAX_FILTER_KEY_CHARS = 100
"""``FilterAttribute.key`` maximum length (botocore ``FilterKey``, 2026-12-01)."""

# The kit's own bounds on a caller's filter (Bedrock documents none): a filter is a few
# conditions, never a way to make the runtime or the service walk a deep or wide tree.
MAX_FILTER_DEPTH = 3
"""Nested ``andAll``/``orAll`` levels a caller may write (the tenant binding adds one)."""
MAX_FILTER_CONDITIONS = 16
"""Leaf conditions in one caller filter."""
MAX_FILTER_LIST_VALUES = 32
"""Values in one ``in``/``notIn`` list."""
MAX_FILTER_VALUE_CHARS = 1_024
"""Characters of one string value."""

# ---------------------------------------------------------------------------------- settings


class KnowledgeBaseRoute(Contract):
    """How the runtime reaches one knowledge base, by its config name."""

    id: str = Field(min_length=1)
    """The knowledge base id (what Retrieve is called with)."""
    tenant_key: str | None = None
    """The metadata key bound to the caller's identity; ``None``: no tenant isolation."""
    default_results: int = Field(ge=1, le=MAX_RESULTS)
    max_results: int = Field(ge=1, le=MAX_RESULTS)


class KnowledgeLimits(Contract):
    """Bounds on one knowledge request, enforced by the handler whatever the Content-Type."""

    max_body_bytes: int = Field(gt=0)
    max_query_chars: int = Field(gt=0, le=MAX_QUERY_CHARS)


class RetrieveSettings(Contract):
    """Everything the retrieve runtime knows about its stage."""

    stage: str
    knowledge_bases: dict[str, KnowledgeBaseRoute] = Field(min_length=1)
    limits: KnowledgeLimits
    budget: TimeBudget
    log_prompts: bool = False
    """Log queries and retrieved text (the stage's ``runtime.log_prompts``)."""


class RagSettings(Contract):
    """The RAG function's settings: retrieval, plus the chat runtime it answers with."""

    retrieval: RetrieveSettings
    chat: ChatSettings
    grounding_check: bool = False
    """Send passages and question as ``guardContent`` (qualifiers ``grounding_source`` and
    ``query``) so a guardrail with a contextual grounding policy checks the answer against
    them. With ``guardContent`` present the guardrail evaluates only the guarded blocks.
    The stack turns it on when the stage's guardrail has a contextual grounding policy
    (``GuardrailHandle.contextual_grounding``). Shapes: ``ContentBlock.guardContent`` is a
    ``GuardrailConverseContentBlock`` whose ``text.qualifiers`` take ``grounding_source``,
    ``query`` or ``guard_content`` (botocore bedrock-runtime 2023-09-30, checked 2026-12-01)."""
    excerpt_chars: int = Field(default=500, gt=0)
    """Longest excerpt of a passage a citation carries."""

    @model_validator(mode="after")
    def _one_stage_one_budget(self) -> RagSettings:
        if self.retrieval.stage != self.chat.stage or self.retrieval.budget != self.chat.budget:
            raise ValueError("retrieval and chat settings must be of one stage and one budget")
        return self


# ------------------------------------------------------------------------------ API: filters

Scalar = str | int | float | bool
Number = int | float


class ScalarCondition(ApiModel):
    """``{"key", "value"}`` with a string, number or boolean value."""

    key: str = Field(min_length=1, max_length=MAX_FILTER_KEY_CHARS)
    value: Annotated[str, Field(max_length=MAX_FILTER_VALUE_CHARS)] | int | float | bool


class NumberCondition(ApiModel):
    """``{"key", "value"}`` with a number (the range operators)."""

    key: str = Field(min_length=1, max_length=MAX_FILTER_KEY_CHARS)
    value: int | float


class StringCondition(ApiModel):
    """``{"key", "value"}`` with a string (``startsWith``, ``stringContains``)."""

    key: str = Field(min_length=1, max_length=MAX_FILTER_KEY_CHARS)
    value: str = Field(min_length=1, max_length=MAX_FILTER_VALUE_CHARS)


class ListCondition(ApiModel):
    """``{"key", "value": [...]}`` (``in``, ``notIn``)."""

    key: str = Field(min_length=1, max_length=MAX_FILTER_KEY_CHARS)
    value: list[Annotated[str, Field(max_length=MAX_FILTER_VALUE_CHARS)] | int | float] = Field(
        min_length=1, max_length=MAX_FILTER_LIST_VALUES
    )


class MetadataFilter(ApiModel):
    """One Bedrock ``RetrievalFilter``: exactly one operator."""

    equals: ScalarCondition | None = None
    not_equals: ScalarCondition | None = Field(default=None, alias="notEquals")
    greater_than: NumberCondition | None = Field(default=None, alias="greaterThan")
    greater_than_or_equals: NumberCondition | None = Field(
        default=None, alias="greaterThanOrEquals"
    )
    less_than: NumberCondition | None = Field(default=None, alias="lessThan")
    less_than_or_equals: NumberCondition | None = Field(default=None, alias="lessThanOrEquals")
    in_: ListCondition | None = Field(default=None, alias="in")
    not_in: ListCondition | None = Field(default=None, alias="notIn")
    starts_with: StringCondition | None = Field(default=None, alias="startsWith")
    string_contains: StringCondition | None = Field(default=None, alias="stringContains")
    list_contains: ScalarCondition | None = Field(default=None, alias="listContains")
    and_all: list[MetadataFilter] | None = Field(default=None, alias="andAll", min_length=2)
    or_all: list[MetadataFilter] | None = Field(default=None, alias="orAll", min_length=2)

    @model_validator(mode="after")
    def _exactly_one_operator(self) -> MetadataFilter:
        given = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(
                "a filter object holds exactly one operator: " + ", ".join(sorted(OPERATORS))
            )
        return self

    def to_bedrock(self) -> dict[str, Any]:
        """The filter as Bedrock's ``RetrievalFilter`` (operator names as Bedrock spells them)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


OPERATORS = frozenset(field.alias or name for name, field in MetadataFilter.model_fields.items())
"""Every operator name of ``RetrievalFilter``."""
GROUPS = ("andAll", "orAll")

# API Gateway models are draft-4 schemas with every reference inlined, so a recursive filter
# cannot be described there: the gateway checks one operator object, the handler the rest.
_GATEWAY_FILTER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "minProperties": 1,
    "maxProperties": 1,
    "properties": {
        name: {"type": "array", "minItems": 2} if name in GROUPS else {"type": "object"}
        for name in sorted(OPERATORS)
    },
    "additionalProperties": False,
}


def filter_shape_problem(value: Any) -> str | None:
    """Why ``value`` is too deep or too large to parse as a caller filter, else ``None``.

    Walked without recursion before pydantic parses it, so a hostile body costs nothing.
    """
    conditions = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, dict):
            continue
        for operator, operand in node.items():
            if operator in GROUPS and isinstance(operand, list):
                if depth + 1 > MAX_FILTER_DEPTH:
                    return (
                        f"filter nests andAll/orAll more than {MAX_FILTER_DEPTH} levels deep; "
                        "flatten it"
                    )
                stack.extend((child, depth + 1) for child in operand)
            else:
                conditions += 1
                if conditions > MAX_FILTER_CONDITIONS:
                    return (
                        f"filter holds more than {MAX_FILTER_CONDITIONS} conditions; "
                        "narrow it with fewer"
                    )
    return None


def _bounded_filter(value: Any) -> Any:
    problem = filter_shape_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


CallerFilter = Annotated[MetadataFilter, WithJsonSchema(_GATEWAY_FILTER_SCHEMA)]
KnowledgeBaseName = Annotated[str, Field(min_length=1, max_length=64)]


class RetrieveRequest(ApiModel):
    """``POST /retrieve`` body."""

    knowledge_base: KnowledgeBaseName
    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    filter: CallerFilter | None = None
    results: int | None = Field(default=None, ge=1, le=MAX_RESULTS)
    """Chunks to return; default: the knowledge base's ``retrieval.default_results``."""

    _bound_filter = field_validator("filter", mode="before")(_bounded_filter)


class RagRequest(ApiModel):
    """``POST /rag`` body. Give ``model`` or ``tier`` (or neither for the default tier)."""

    knowledge_base: KnowledgeBaseName
    question: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    model: str | None = Field(default=None, min_length=1)
    tier: str | None = Field(default=None, min_length=1)
    filter: CallerFilter | None = None
    results: int | None = Field(default=None, ge=1, le=MAX_RESULTS)
    max_tokens: int | None = Field(default=None, ge=1)
    guardrail: str | None = Field(default=None, min_length=1)
    """The stage guardrail to answer through, by config name; ``None``: the stage's default.
    Its contextual grounding policy, if any, decides the grounding check."""

    _bound_filter = field_validator("filter", mode="before")(_bounded_filter)

    @model_validator(mode="after")
    def _model_or_tier(self) -> RagRequest:
        if self.model is not None and self.tier is not None:
            raise ValueError("give either 'model' or 'tier', not both")
        return self


# ---------------------------------------------------------------------------- API: answers


class Passage(BaseModel):
    """One retrieved chunk."""

    text: str
    source_uri: str | None
    score: float | None
    chunk_id: str | None
    metadata: dict[str, Any]
    """The document's own metadata: without Bedrock's ``x-amz-bedrock-kb-*`` keys (their
    facts are the fields above) and without the tenant key (always the caller's identity)."""


class RetrieveResponse(BaseModel):
    """``POST /retrieve`` answer."""

    results: list[Passage]
    knowledge_base: str
    request_id: str | None = None


class Citation(BaseModel):
    """A passage the answer was grounded on; the model cites it as ``[index]``."""

    index: int
    source_uri: str | None
    excerpt: str
    score: float | None
    chunk_id: str | None


class RagResponse(BaseModel):
    """``POST /rag`` answer."""

    answer: str
    citations: list[Citation]
    """Empty when the guardrail intervened: excerpts could repeat what it blocked."""
    knowledge_base: str
    model: str
    tier: str | None
    stop_reason: str
    usage: Usage
    cost: Cost
    guardrail_intervened: bool
    """Deprecated alias of ``guardrail.intervened`` (kept for existing callers)."""
    guardrail: GuardrailVerdict = Field(default_factory=GuardrailVerdict)
    """Whether the guardrail intervened on the question or the answer, and which policies fired
    (contextual grounding among them); never the blocked content."""
    latency_ms: int | None = None
    attempts: int = 1
    """Bedrock Converse calls made for the answer (0 when no passage matched)."""
    fallbacks: int = 0
    """The answering model's place in the tier's chain: 0 when the first choice answered."""
    request_id: str | None = None


def field_path(loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as the caller wrote it, e.g. ``filter.andAll[1].equals.value``.

    The union member tags pydantic inserts after a value (``str``, ``int``...) are dropped: the
    caller never wrote them.
    """
    out: list[str] = []
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out.append(f"[{part}]")
            continue
        before = loc[i - 1] if i else None
        if part in _VALUE_TAGS and (before == "value" or isinstance(before, int)):
            continue
        out.append(f".{part}" if out else part)
    return "".join(out) or "(body)"


_VALUE_TAGS = {"str", "int", "float", "bool", "constrained-str"}
