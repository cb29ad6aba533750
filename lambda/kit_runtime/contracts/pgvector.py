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


USER_NAME = "bedrock_user"
"""The login role Bedrock connects as (through the Data API, with its own secret)."""


class PgvectorSchemaProperties(Contract):
    """Properties of the ``Custom::PgvectorSchema`` resource (``ServiceToken`` aside).

    Only ARNs and names: the dedicated user's password stays in Secrets Manager, where the
    schema function reads it at run time.
    """

    ClusterArn: str = Field(min_length=1)
    """The Aurora cluster (the Data API's ``resourceArn``)."""
    SecretArn: str = Field(min_length=1)
    """The secret of the administrative user the statements run as."""
    UserSecretArn: str | None = None
    """The secret (``username``, ``password``) of the role Bedrock connects as; ``None``:
    Bedrock uses ``SecretArn`` and no role is created."""
    Table: PgvectorTable
    Generation: str | None = None
    """Changes whenever the knowledge base on this table is replaced (its embedding model), so
    the statements re-run, and wake a paused cluster, just before Bedrock checks the table."""

    def render(self) -> dict[str, object]:
        """The properties as the stack writes them (absent user secret left out)."""
        return self.model_dump(mode="json", exclude_none=True)


class PgvectorRotationSettings(Contract):
    """Settings of the Bedrock user's rotation function (``KIT_SETTINGS``).

    Only ARNs and names: the function reads the passwords from Secrets Manager at run time.
    """

    cluster_arn: str = Field(min_length=1)
    """The Aurora cluster (the Data API's ``resourceArn``)."""
    admin_secret_arn: str = Field(min_length=1)
    """The administrative secret the ``ALTER ROLE`` runs as."""
    user_secret_arn: str = Field(min_length=1)
    """The one secret this function rotates (any other ``SecretId`` is refused)."""
    database: str = Field(pattern=IDENTIFIER)
    """The database the Data API connects to (roles are cluster-wide)."""
