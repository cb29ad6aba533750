"""The Aurora pgvector table a knowledge base writes to: one definition for the stack (the
knowledge base's field mapping) and the schema custom resource (the DDL it runs)."""

from __future__ import annotations

from pydantic import Field

from kit_runtime.contracts.common import Contract

IDENTIFIER = r"^[a-z_][a-z0-9_]{0,62}$"


class PgvectorTable(Contract):
    """Schema, table and column names, and the vector size.

    The column names are the ones the Bedrock user guide's Aurora setup uses; Bedrock is told
    them through the knowledge base's ``RdsFieldMapping``.
    """

    database: str = Field(default="bedrock", pattern=IDENTIFIER)
    schema_name: str = Field(default="bedrock_integration", pattern=IDENTIFIER)
    table: str = Field(default="bedrock_kb", pattern=IDENTIFIER)
    dimensions: int = Field(gt=0, le=16000)
    id_column: str = Field(default="id", pattern=IDENTIFIER)
    vector_column: str = Field(default="embedding", pattern=IDENTIFIER)
    text_column: str = Field(default="chunks", pattern=IDENTIFIER)
    metadata_column: str = Field(default="metadata", pattern=IDENTIFIER)
    custom_metadata_column: str = Field(default="custom_metadata", pattern=IDENTIFIER)

    @property
    def qualified_name(self) -> str:
        """``schema.table``, the form ``RdsConfiguration.tableName`` takes."""
        return f"{self.schema_name}.{self.table}"
