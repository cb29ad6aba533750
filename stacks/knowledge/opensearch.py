"""OpenSearch Serverless: a VECTORSEARCH collection, its three policies and the vector index."""

from __future__ import annotations

import json
from collections.abc import Sequence

from aws_cdk import Fn, RemovalPolicy, Stack, Tags
from aws_cdk import aws_bedrock as bedrock
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_opensearchserverless as aoss
from constructs import Construct

from stacks.config.knowledge import OpenSearchServerlessStore
from stacks.core.naming import digest, resource_name
from stacks.knowledge.common import pascal, pin

# Collection names: 3-28 characters, [a-z][a-z0-9-] (CDK 2.275 CfnCollection docs; the CFN
# registry schema allows 64, the API 64: the strictest wins). Policy names: 3-32, [a-z][a-z0-9-]
# (botocore opensearchserverless 2021-11-01 PolicyName). Checked 2026-12-01.
COLLECTION_NAME_MAX = 28
POLICY_NAME_MAX = 32
# Collection group names: 3-32, [a-z][a-z0-9-]+ (botocore opensearchserverless 2021-11-01
# CollectionGroupName, checked 2026-12-01).
GROUP_NAME_MAX = 32
# Index names: ^(?![_-])[a-z][a-z0-9_-]*$ (AWS::OpenSearchServerless::Index schema, cfn-lint
# registry copy 2026-10-20).
INDEX_NAME_MAX = 63

# The kit's own field names, handed to Bedrock in the knowledge base's field mapping.
VECTOR_FIELD = "bedrock-knowledge-base-default-vector"
TEXT_FIELD = "AMAZON_BEDROCK_TEXT_CHUNK"
METADATA_FIELD = "AMAZON_BEDROCK_METADATA"

# The network policy's source service for Bedrock knowledge bases (OpenSearch Serverless
# developer guide, "Network access": private access "for AWS services such as Amazon Bedrock";
# the value as public samples write it, UNVERIFIED on an AWS page, 2026-12-01).
BEDROCK_SERVICE = "bedrock.amazonaws.com"
# Data-access permissions (data access policy grammar; UNVERIFIED wording, 2026-12-01).
KB_COLLECTION_PERMISSIONS = ["aoss:DescribeCollectionItems"]
KB_INDEX_PERMISSIONS = ["aoss:DescribeIndex", "aoss:ReadDocument", "aoss:WriteDocument"]
DEPLOY_INDEX_PERMISSIONS = [
    "aoss:CreateIndex",
    "aoss:DescribeIndex",
    "aoss:UpdateIndex",
    "aoss:DeleteIndex",
]


def collection_name(
    kit: str, stage: str, name: str, standby: bool, cmk: bool, grouped: bool = False
) -> str:
    """A valid collection name, new whenever a create-only property changes.

    ``StandbyReplicas`` and ``EncryptionConfig`` cannot change in place (AWS::OpenSearchServerless
    ::Collection createOnlyProperties); CloudFormation creates the replacement before it lets go
    of the old one, so the two must not share a name.
    """
    return resource_name(
        kit,
        stage,
        name,
        max_length=COLLECTION_NAME_MAX,
        unique_by=(standby, cmk, "grouped") if grouped else (standby, cmk),
    ).lower()


class OpenSearchCollection(Construct):
    """One VECTORSEARCH collection per knowledge base, reachable by its role only.

    - encryption: an AWS-owned key, or the stage's key in a production stage (collections that
      share a key share OCUs: a customer-managed key gives this collection its own OCUs);
    - network: in a private stage Bedrock only (``SourceServices``); otherwise the collection
      endpoint is public, but every request is still signed and checked against the data
      access policy;
    - data access: the knowledge-base role (documents) and CloudFormation's execution role
      (the index resource only: the index is created by CloudFormation, not by a function).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        kit: str,
        stage: str,
        name: str,
        dimensions: int,
        store: OpenSearchServerlessStore,
        production: bool,
        key: kms.IKey | None,
        tag_keys: Sequence[str],
        private: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        self.standby = production if store.standby_replicas is None else store.standby_replicas
        # Whether a collection can move into or out of a group in place is not documented
        # (UNVERIFIED, 2026-12-01): a new name makes such a change a safe replacement.
        grouped = store.capacity is not None
        self.name = collection_name(kit, stage, name, self.standby, key is not None, grouped)
        self._policy_base = resource_name(kit, stage, name, max_length=POLICY_NAME_MAX - 4).lower()
        key_id = pascal(name)
        encryption = self._encryption_policy(key)
        network = self._network_policy(private)
        self.group = self._collection_group(kit, stage, name, store)
        self.collection = aoss.CfnCollection(
            self,
            "Collection",
            name=self.name,
            type="VECTORSEARCH",
            standby_replicas="ENABLED" if self.standby else "DISABLED",
            description=f"Vectors of knowledge base {name} ({stage})",
            collection_group_name=self.group.name if self.group is not None else None,
            # Retained by CloudFormation; this also refuses a delete from the console or API.
            deletion_protection="ENABLED",
        )
        if self.group is not None:
            self.collection.add_dependency(self.group)
        # Tags are create-only on a collection: a changed cost tag would replace the store
        # (and force a re-ingestion), so the stage's tags stop here.
        for tag in tag_keys:
            Tags.of(self.collection).remove(tag)
        # A collection is created only when an encryption policy covers its name.
        self.collection.node.add_dependency(encryption)
        self.collection.node.add_dependency(network)
        self.index_name = resource_name(
            kit, stage, name, max_length=INDEX_NAME_MAX, unique_by=(dimensions, "faiss-hnsw-l2")
        ).lower()
        self.index = aoss.CfnIndex(
            self,
            "Index",
            collection_endpoint=self.collection.attr_collection_endpoint,
            index_name=self.index_name,
            settings=aoss.CfnIndex.IndexSettingsProperty(
                index=aoss.CfnIndex.IndexProperty(knn=True)
            ),
            mappings=aoss.CfnIndex.MappingsProperty(
                properties={
                    VECTOR_FIELD: aoss.CfnIndex.PropertyMappingProperty(
                        type="knn_vector",
                        dimension=dimensions,
                        method=aoss.CfnIndex.MethodProperty(
                            name="hnsw", engine="faiss", space_type="l2"
                        ),
                    ),
                    TEXT_FIELD: aoss.CfnIndex.PropertyMappingProperty(type="text"),
                    # Bedrock's source metadata is returned, never searched.
                    METADATA_FIELD: aoss.CfnIndex.PropertyMappingProperty(type="text", index=False),
                }
            ),
        )
        pin(self.collection, f"{key_id}Collection")
        pin(self.index, f"{key_id}CollectionIndex")
        self.identity = digest("opensearch-serverless", self.name, self.index_name)

    def _collection_group(
        self, kit: str, stage: str, name: str, store: OpenSearchServerlessStore
    ) -> aoss.CfnCollectionGroup | None:
        """The collection's own group, bounding its OCUs (only when ``capacity`` is set).

        A group shares its limits between its collections; one per knowledge base keeps each
        store's scale (and cost) bounded on its own. Its standby setting matches the
        collection's.
        """
        limits = store.capacity
        if limits is None:
            return None
        group = aoss.CfnCollectionGroup(
            self,
            "CollectionGroup",
            name=resource_name(
                kit, stage, name, max_length=GROUP_NAME_MAX, unique_by=("group", self.standby)
            ).lower(),
            standby_replicas="ENABLED" if self.standby else "DISABLED",
            description=f"OCU limits of knowledge base {name} ({stage})",
            capacity_limits=aoss.CfnCollectionGroup.CapacityLimitsProperty(
                min_search_capacity_in_ocu=limits.min_search_ocu,
                max_search_capacity_in_ocu=limits.max_search_ocu,
                min_indexing_capacity_in_ocu=limits.min_indexing_ocu,
                max_indexing_capacity_in_ocu=limits.max_indexing_ocu,
            ),
        )
        # Kept with the retained collection it holds (a group with a collection in it cannot
        # be deleted).
        group.apply_removal_policy(RemovalPolicy.RETAIN)
        pin(group, f"{pascal(name)}CollectionGroup")
        return group

    def _encryption_policy(self, key: kms.IKey | None) -> aoss.CfnSecurityPolicy:
        rules = [{"ResourceType": "collection", "Resource": [f"collection/{self.name}"]}]
        document: dict[str, object] = {"Rules": rules}
        if key is None:
            document["AWSOwnedKey"] = True
            policy = json.dumps(document)
        else:
            document["AWSOwnedKey"] = False
            document["KmsARN"] = "${KeyArn}"
            policy = Fn.sub(json.dumps(document), {"KeyArn": key.key_arn})
        return aoss.CfnSecurityPolicy(
            self,
            "EncryptionPolicy",
            name=f"{self._policy_base}-enc",
            type="encryption",
            policy=policy,
        )

    def _network_policy(self, private: bool) -> aoss.CfnSecurityPolicy:
        """Public endpoint (signed requests, data access policy) or, in a private stage, Bedrock
        only: no kit function calls the collection, so it needs no VPC endpoint; Bedrock reaches
        it as a source service (docs/decisions.md)."""
        rule: dict[str, object] = {
            "Rules": [{"ResourceType": "collection", "Resource": [f"collection/{self.name}"]}],
            "AllowFromPublic": not private,
        }
        if private:
            rule["SourceServices"] = [BEDROCK_SERVICE]
        document = [rule]
        return aoss.CfnSecurityPolicy(
            self,
            "NetworkPolicy",
            name=f"{self._policy_base}-net",
            type="network",
            policy=json.dumps(document),
        )

    def storage_configuration(self) -> bedrock.CfnKnowledgeBase.StorageConfigurationProperty:
        return bedrock.CfnKnowledgeBase.StorageConfigurationProperty(
            type="OPENSEARCH_SERVERLESS",
            opensearch_serverless_configuration=bedrock.CfnKnowledgeBase.OpenSearchServerlessConfigurationProperty(
                collection_arn=self.collection.attr_arn,
                vector_index_name=self.index_name,
                field_mapping=bedrock.CfnKnowledgeBase.OpenSearchServerlessFieldMappingProperty(
                    vector_field=VECTOR_FIELD,
                    text_field=TEXT_FIELD,
                    metadata_field=METADATA_FIELD,
                ),
            ),
        )

    def statements(self) -> list[iam.PolicyStatement]:
        return [
            iam.PolicyStatement(
                sid="VectorCollection",
                actions=["aoss:APIAccessAll"],
                resources=[self.collection.attr_arn],
            )
        ]

    def authorize(self, role: iam.IRole) -> Sequence[Construct]:
        """The data access policy: the role reads and writes documents of the one index;
        CloudFormation's execution role manages that index and nothing else."""
        collection = f"collection/{self.name}"
        index = f"index/{self.name}/{self.index_name}"
        deployer = Stack.of(self).synthesizer.cloud_formation_execution_role_arn  # type: ignore[attr-defined]
        document = [
            {
                "Description": "Knowledge base role: documents of its index",
                "Rules": [
                    {
                        "ResourceType": "collection",
                        "Resource": [collection],
                        "Permission": KB_COLLECTION_PERMISSIONS,
                    },
                    {
                        "ResourceType": "index",
                        "Resource": [index],
                        "Permission": KB_INDEX_PERMISSIONS,
                    },
                ],
                "Principal": ["${RoleArn}"],
            },
            {
                "Description": "CloudFormation: the AWS::OpenSearchServerless::Index resource",
                "Rules": [
                    {
                        "ResourceType": "collection",
                        "Resource": [collection],
                        "Permission": KB_COLLECTION_PERMISSIONS,
                    },
                    {
                        "ResourceType": "index",
                        "Resource": [index],
                        "Permission": DEPLOY_INDEX_PERMISSIONS,
                    },
                ],
                # The stage's CDK bootstrap execution role (default synthesizer); its ARN
                # carries ${AWS::Partition}-style variables that Fn::Sub fills in.
                "Principal": [deployer],
            },
        ]
        text = Fn.sub(json.dumps(document), {"RoleArn": role.role_arn})
        access = aoss.CfnAccessPolicy(
            self,
            "DataAccessPolicy",
            name=f"{self._policy_base}-acc",
            type="data",
            policy=text,
        )
        # CloudFormation creates the index with the rights this policy gives it.
        self.index.node.add_dependency(access)
        return [self.index, access]
