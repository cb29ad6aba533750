"""The chat API's request and response documents (``POST /chat``), defined once.

The handler validates every body with :class:`ChatRequest` whatever the Content-Type; the
stack derives the API Gateway request model from ``ChatRequest.model_json_schema()``. Types are
strict (``true`` is not a number, ``"5"`` is not an integer) and unknown fields are errors.

Structural rules live here; the stage's size limits (``contracts.chat.RequestLimits``) are
checked by the runtime, which knows the stage.

Content blocks follow the Converse ``ContentBlock`` union (botocore service model
``bedrock-runtime`` 2023-09-30, checked 2026-11-30): ``{"text": ...}`` or
``{"image": {"format": "png|jpeg|gif|webp", "source": {"bytes": <base64>}}}``; the service
model says images may only appear in ``user`` messages.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    field_validator,
    model_validator,
)

from kit_runtime.contracts.guardrail_verdict import GuardrailVerdict

ImageFormat = Literal["png", "jpeg", "gif", "webp"]
"""Converse ``ImageFormat`` (botocore service model, 2026-11-30)."""


class ApiModel(BaseModel):
    """A strict request document: exact types, unknown fields rejected, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class TextBlock(ApiModel):
    """A text content block."""

    text: str = Field(min_length=1)


class ImageSource(ApiModel):
    """The image bytes, base64-encoded in JSON (Converse ``ImageSource.bytes``)."""

    encoded: str = Field(
        alias="bytes", min_length=1, json_schema_extra={"contentEncoding": "base64"}
    )
    _data: bytes = PrivateAttr(default=b"")

    @model_validator(mode="after")
    def _decode(self) -> ImageSource:
        try:
            self._data = base64.b64decode(self.encoded, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("image source bytes is not valid base64") from None
        return self

    @property
    def data(self) -> bytes:
        """The decoded image."""
        return self._data


class ImageBody(ApiModel):
    format: ImageFormat
    source: ImageSource


class ImageBlock(ApiModel):
    """An image content block."""

    image: ImageBody


def _block_kind(value: Any) -> str | None:
    # Route each block to one model so errors name the right fields (no union noise).
    if isinstance(value, dict):
        if "image" in value:
            return "image"
        if "text" in value:
            return "text"
        return None
    if isinstance(value, ImageBlock):
        return "image"
    if isinstance(value, TextBlock):
        return "text"
    return None


ContentBlock = Annotated[
    Annotated[TextBlock, Tag("text")] | Annotated[ImageBlock, Tag("image")],
    Discriminator(
        _block_kind,
        custom_error_type="content_block",
        custom_error_message="a content block is {'text': ...} or {'image': {...}}",
    ),
]


def _content_kind(value: Any) -> str:
    return "list" if isinstance(value, list) else "str"


Content = Annotated[
    Annotated[str, Field(min_length=1), Tag("str")]
    | Annotated[list[ContentBlock], Field(min_length=1), Tag("list")],
    Discriminator(_content_kind),
]


class Message(ApiModel):
    """One turn; ``content`` is a string or a list of content blocks."""

    role: Literal["user", "assistant"]
    content: Content

    @model_validator(mode="after")
    def _images_from_users_only(self) -> Message:
        if self.role != "user" and self.images():
            raise ValueError("images may only appear in 'user' messages")
        return self

    def text_blocks(self) -> list[str]:
        """Every text of the message, in order."""
        if isinstance(self.content, str):
            return [self.content]
        return [b.text for b in self.content if isinstance(b, TextBlock)]

    def images(self) -> list[ImageBody]:
        """Every image of the message, in order."""
        if isinstance(self.content, str):
            return []
        return [b.image for b in self.content if isinstance(b, ImageBlock)]

    def block_count(self) -> int:
        """Content blocks as Converse counts them (a string is one text block)."""
        return 1 if isinstance(self.content, str) else len(self.content)


class ChatRequest(ApiModel):
    """``POST /chat`` body. Give ``model`` or ``tier`` (or neither for the default tier)."""

    messages: list[Message] = Field(min_length=1)
    system: str | None = Field(default=None, min_length=1)
    model: str | None = Field(default=None, min_length=1)
    tier: str | None = Field(default=None, min_length=1)
    max_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=1)
    top_p: float | None = Field(default=None, ge=0, le=1)
    stop_sequences: list[Annotated[str, Field(min_length=1)]] | None = None
    latency: Literal["standard", "optimized"] | None = None
    """``optimized``: latency-optimized inference, refused (422) for a model without it;
    ``None``: the tier's option (``tier_options``), else standard."""
    service_tier: Literal["default", "priority", "flex"] | None = None
    """Converse ``serviceTier``, refused (422) for a model that does not offer it; ``None``:
    the tier's option, else the standard tier."""
    guardrail: str | None = Field(default=None, min_length=1)
    """The stage guardrail to call through, by config name (an unknown name is a 400 listing
    the allowed ones); ``None``: the stage's default."""

    @field_validator("messages")
    @classmethod
    def _turns_alternate(cls, messages: list[Message]) -> list[Message]:
        if messages[0].role != "user":
            raise ValueError("the first message must have role 'user'")
        for i in range(1, len(messages)):
            if messages[i].role == messages[i - 1].role:
                raise ValueError(
                    f"messages[{i}] repeats role {messages[i].role!r}; "
                    "roles must alternate user/assistant"
                )
        return messages

    @model_validator(mode="after")
    def _model_or_tier(self) -> ChatRequest:
        if self.model is not None and self.tier is not None:
            raise ValueError("give either 'model' or 'tier', not both")
        return self


class Usage(BaseModel):
    """Tokens Bedrock reported for the answer (``input_tokens`` excludes cached tokens)."""

    input_tokens: int
    output_tokens: int
    total_tokens: int
    cache_read_input_tokens: int = 0
    cache_write_input_tokens: int = 0


class Cost(BaseModel):
    """What the request cost at the catalog's on-demand prices (USD)."""

    input_usd: float
    output_usd: float
    total_usd: float
    cache_read_usd: float = 0.0
    cache_write_usd: float = 0.0
    currency: Literal["USD"] = "USD"


class ChatResponse(BaseModel):
    """``POST /chat`` answer."""

    text: str
    stop_reason: str
    model: str
    tier: str | None
    usage: Usage
    cost: Cost
    guardrail_intervened: bool
    """Deprecated alias of ``guardrail.intervened`` (kept for existing callers)."""
    guardrail: GuardrailVerdict = Field(default_factory=GuardrailVerdict)
    """Whether the guardrail intervened, where, and which policies fired (never the blocked
    content): :mod:`kit_runtime.contracts.guardrail_verdict`."""
    latency_ms: int | None = None
    latency: Literal["standard", "optimized"] = "standard"
    """The latency mode requested of Bedrock."""
    service_tier: str = "default"
    """The service tier requested of Bedrock (priced in ``cost``)."""
    attempts: int = 1
    """Bedrock calls made for this answer, across the tier's fallback chain."""
    fallbacks: int = 0
    """The answering model's place in the chain: 0 when the first choice answered."""


_UNION_TAGS = {"content": ("str", "list"), "list": ("text", "image")}


def field_path(loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as the caller wrote it, e.g. ``messages[0].content[1].text``.

    The union tags pydantic inserts (``str``/``list`` after ``content``, ``text``/``image``
    after a block's index) are dropped: the caller never wrote them.
    """
    out: list[str] = []
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out.append(f"[{part}]")
            continue
        before = loc[i - 1] if i >= 1 else None
        if before == "content" and part in _UNION_TAGS["content"]:
            continue
        tagged_block = isinstance(before, int) and i >= 2 and loc[i - 2] == "list"
        if tagged_block and part in _UNION_TAGS["list"]:
            continue
        out.append(f".{part}" if out else part)
    return "".join(out) or "(body)"
