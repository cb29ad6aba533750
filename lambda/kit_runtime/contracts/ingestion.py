"""Settings of the ingestion functions and the follower's documents, defined once.

The Ingestion stack renders :class:`IngestionSettings` into ``KIT_SETTINGS`` of the trigger and
report functions; the state machine passes :class:`FollowInput` to its executions and
:class:`ReportRequest` to the report step. Each side parses what the other wrote.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from kit_runtime.contracts.common import Contract

ENV_VAR = "KIT_SETTINGS"


class IngestionSource(Contract):
    """One data source the kit keeps in sync, and where its documents live."""

    name: str = Field(min_length=1)
    """The knowledge base's config name (metrics dimension, log field)."""
    knowledge_base_id: str = Field(min_length=1)
    data_source_id: str = Field(min_length=1)
    bucket_name: str = Field(min_length=1)
    prefix: str = Field(min_length=1)
    """Objects under this key prefix belong to the data source (ends with ``/``)."""


class IngestionSettings(Contract):
    """What the trigger and report functions need: the sources, the table, the follower."""

    stage: str = Field(min_length=1)
    sources: tuple[IngestionSource, ...]
    table_name: str = Field(min_length=1)
    state_machine_arn: str = Field(min_length=1)
    lease_seconds: int = Field(gt=0)
    """A ``running`` record not written for this long is checked against the service."""
    failure_reasons_shown: int = Field(gt=0)
    """At most this many failure reasons go into one log entry (the rest are counted)."""


class FollowInput(Contract):
    """The input of one follower execution: the job to follow to its end."""

    source: str = Field(min_length=1)
    knowledgeBaseId: str = Field(min_length=1)  # noqa: N815 - the SDK integration's casing
    dataSourceId: str = Field(min_length=1)  # noqa: N815
    ingestionJobId: str = Field(min_length=1)  # noqa: N815


class ReportRequest(Contract):
    """What the state machine hands the report function.

    ``ended``: the job reached a final status (``job`` holds GetIngestionJob's answer, as the
    Step Functions SDK integration returns it); ``lost``: following failed (``error`` says why)
    and the coordinator record is released so the next trigger or sweep takes over.
    """

    kind: Literal["ended", "lost"]
    follow: FollowInput
    job: dict[str, object] | None = None
    error: dict[str, object] | None = None
