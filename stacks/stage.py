"""One deployment stage: the only place its stacks meet."""

from __future__ import annotations

from aws_cdk import (
    CrossStackReferences,
    Environment,
    ReferenceStrength,
    Stack,
    Stage,
    Tags,
)
from constructs import Construct

from stacks.api.stack import ApiStack
from stacks.config import StagePlan
from stacks.core.lambda_asset import runtime_code
from stacks.core.naming import stage_id
from stacks.core.tags import cost_tags
from stacks.guardrails.stack import GuardrailStack
from stacks.knowledge.ingestion_stack import IngestionStack
from stacks.knowledge.stack import KnowledgeStack
from stacks.network.stack import NetworkStack
from stacks.platform.stack import PlatformStack


class KitStage(Stage):
    """Everything one stage deploys, stacks split by lifecycle. Later capabilities add theirs.

    Cross-stack values are weak references (``Fn::GetStackOutput``, no exports): a changed
    or removed producer value never blocks an update; each consumer carries a digest of what
    it reads so it is updated in the same deploy (docs/decisions.md).
    """

    def __init__(self, scope: Construct, *, plan: StagePlan) -> None:
        super().__init__(
            scope,
            stage_id(plan.kit_name, plan.name),
            env=Environment(account=plan.account, region=plan.region),
        )
        CrossStackReferences.of(self).consume(ReferenceStrength.WEAK)
        what = f"bedrock-cdk-kit {plan.name}"
        self.platform = PlatformStack(
            self,
            "Platform",
            plan=plan,
            code=runtime_code(),
            description=f"{what}: model access and inference profiles",
        )
        self.guardrails = GuardrailStack(
            self, "Guardrails", plan=plan, description=f"{what}: guardrail"
        )
        # Only a private stage (network.mode create or existing) gets a VPC and its endpoints.
        self.network: NetworkStack | None = None
        if plan.private:
            self.network = NetworkStack(
                self,
                "Network",
                plan=plan,
                profiles=self.platform.profiles.handles,
                guardrails=self.guardrails.handle_set,
                description=f"{what}: VPC, endpoints and flow logs",
            )
        network = self.network.handles if self.network is not None else None
        # Stateful and retained: only a stage with knowledge bases gets the stack.
        self.knowledge: KnowledgeStack | None = None
        self.ingestion: IngestionStack | None = None
        if plan.knowledge_bases:
            self.knowledge = KnowledgeStack(
                self,
                "Knowledge",
                plan=plan,
                code=runtime_code(),
                network=network,
                description=f"{what}: knowledge bases, their documents and vector stores",
            )
            # Stateless: replaced freely; `make ingest` finds its targets in this stack.
            self.ingestion = IngestionStack(
                self,
                "Ingestion",
                plan=plan,
                code=runtime_code(),
                knowledge=self.knowledge.handles,
                network=network,
                description=f"{what}: knowledge base ingestion",
            )
        self.api = ApiStack(
            self,
            "Api",
            plan=plan,
            code=runtime_code(),
            profiles=self.platform.profiles.handles,
            guardrails=self.guardrails.handle_set,
            knowledge=self.knowledge.handles if self.knowledge is not None else None,
            network=network,
            description=f"{what}: API",
        )
        for key, value in cost_tags(plan.config).items():
            Tags.of(self).add(key, value)

    @property
    def stacks(self) -> list[Stack]:
        knowledge = [s for s in (self.knowledge, self.ingestion) if s is not None]
        network = [self.network] if self.network is not None else []
        return [self.platform, self.guardrails, *network, *knowledge, self.api]
