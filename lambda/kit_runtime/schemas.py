"""Request and response models of the chat API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class TextBlock(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1)


class Message(BaseModel):
    """One turn; ``content`` is a string or a list of text blocks."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: str | list[TextBlock] = Field(min_length=1)

    def blocks(self) -> list[dict[str, str]]:
        if isinstance(self.content, str):
            return [{"text": self.content}]
        return [{"text": b.text} for b in self.content]


class ChatRequest(BaseModel):
    """``POST /chat`` body. Give ``model`` or ``tier`` (or neither for the default tier)."""

    model_config = ConfigDict(extra="forbid")

    messages: list[Message] = Field(min_length=1, max_length=200)
    system: str | None = Field(default=None, min_length=1, max_length=100_000)
    model: str | None = None
    tier: str | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=1)
    top_p: float | None = Field(default=None, ge=0, le=1)
    stop_sequences: list[str] | None = Field(default=None, max_length=4)

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
    input_tokens: int
    output_tokens: int
    total_tokens: int


class Cost(BaseModel):
    """What the request cost at the catalog's on-demand prices (USD)."""

    input_usd: float
    output_usd: float
    total_usd: float
    currency: Literal["USD"] = "USD"


class ChatResponse(BaseModel):
    text: str
    stop_reason: str
    model: str
    tier: str | None
    usage: Usage
    cost: Cost
    guardrail_intervened: bool
    latency_ms: int | None = None
