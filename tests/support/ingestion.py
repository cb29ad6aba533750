"""Test-owned ingestion sources for the ingestion runtime tests."""

from __future__ import annotations

from kit_runtime.contracts.ingestion import IngestionSource

BUCKET = "kit-data"
"""The documents bucket every test source reads from."""


def ingestion_source(name: str, number: int = 1) -> IngestionSource:
    """The source ``name``: its documents under ``name/`` of :data:`BUCKET`, its knowledge base
    and data source ids of the service's shape (``KB`` / ``DS`` and eight digits of ``number``).
    """
    return IngestionSource(
        name=name,
        knowledge_base_id=f"KB{number:08d}",
        data_source_id=f"DS{number:08d}",
        bucket_name=BUCKET,
        prefix=f"{name}/",
    )
