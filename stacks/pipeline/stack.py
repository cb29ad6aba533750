"""``PipelineBootstrapStack``: one per account, deployed once by ``make pipeline-bootstrap``.

It holds GitHub's OIDC identity provider (or imports an existing one) and, per stage of that
account, two roles the workflows assume through OIDC:

- the deploy role, trusted only for the stage's GitHub environment, may assume the four CDK
  bootstrap roles of the stage's account and region (deploy, file and image publishing, lookup);
- the diff role, trusted for pull requests, may assume only the lookup role: the pinned CLI
  (aws-cdk 2.1148.1) reads the deployed template through the lookup role and, when it cannot
  assume the deploy role to create a change set, falls back to a template diff.

Neither role has any other permission: what a deploy may do is the bootstrap roles' business.
"""

from __future__ import annotations

import re
from typing import Any

from aws_cdk import CfnOutput, DefaultStackSynthesizer, Duration, Environment, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.config.pipeline import PipelinePlan, PipelineStage
from stacks.core.naming import resource_name

GITHUB_ISSUER = "token.actions.githubusercontent.com"
GITHUB_AUDIENCE = "sts.amazonaws.com"
# The CDK bootstrap roles, spelled as aws-cdk-lib's DefaultStackSynthesizer spells them.
DEPLOY_BOOTSTRAP_ROLES = (
    DefaultStackSynthesizer.DEFAULT_DEPLOY_ROLE_ARN,
    DefaultStackSynthesizer.DEFAULT_FILE_ASSET_PUBLISHING_ROLE_ARN,
    DefaultStackSynthesizer.DEFAULT_IMAGE_ASSET_PUBLISHING_ROLE_ARN,
    DefaultStackSynthesizer.DEFAULT_LOOKUP_ROLE_ARN,
)
DIFF_BOOTSTRAP_ROLES = (DefaultStackSynthesizer.DEFAULT_LOOKUP_ROLE_ARN,)
# configure-aws-credentials asks for one hour by default; the deploy job's timeout is 60 min.
MAX_SESSION = Duration.hours(1)


def role_variable(kind: str, stage: str) -> str:
    """The GitHub variable the workflows read a role from (``.github/scripts/stages.py``)."""
    suffix = re.sub(r"[^A-Z0-9]", "_", stage.upper())
    return f"AWS_ROLE_ARN_{suffix}" if kind == "deploy" else f"AWS_DIFF_ROLE_ARN_{suffix}"


def bootstrap_role_arn(template: str, stage: PipelineStage, partition: str) -> str:
    """One CDK bootstrap role ARN (default qualifier) of the stage's account and region."""
    return (
        template.replace("${AWS::Partition}", partition)
        .replace("${AWS::AccountId}", stage.account)
        .replace("${AWS::Region}", stage.region)
        .replace("${Qualifier}", DefaultStackSynthesizer.DEFAULT_QUALIFIER)
    )


class PipelineBootstrapStack(Stack):
    """GitHub OIDC provider and per-stage deploy and diff roles for one account."""

    def __init__(self, scope: Construct, *, plan: PipelinePlan, **kwargs: Any) -> None:
        super().__init__(
            scope,
            f"{plan.kit_name}-pipeline-bootstrap",
            env=Environment(account=plan.account, region=plan.region),
            description=f"GitHub OIDC roles for {plan.repository} (make pipeline-bootstrap)",
            **kwargs,
        )
        self._kit = plan.kit_name
        if plan.oidc_provider_arn is not None:
            provider_arn = plan.oidc_provider_arn
        else:
            # L1 without a thumbprint: IAM then fetches the provider's CA thumbprint itself
            # (CfnOIDCProvider.ThumbprintList, aws-cdk-lib docs, read 2026-11-30); no Lambda.
            provider = iam.CfnOIDCProvider(
                self,
                "GitHubOidcProvider",
                url=f"https://{GITHUB_ISSUER}",
                client_id_list=[GITHUB_AUDIENCE],
            )
            provider_arn = provider.attr_arn
        self.roles: dict[tuple[str, str], iam.Role] = {}
        for stage in plan.stages:
            subject = f"repo:{plan.repository}:environment:{stage.environment}"
            self._role(plan, stage, "deploy", provider_arn, subject, DEPLOY_BOOTSTRAP_ROLES)
            subject = f"repo:{plan.repository}:pull_request"
            self._role(plan, stage, "diff", provider_arn, subject, DIFF_BOOTSTRAP_ROLES)

    def _role(
        self,
        plan: PipelinePlan,
        stage: PipelineStage,
        kind: str,
        provider_arn: str,
        subject: str,
        targets: tuple[str, ...],
    ) -> None:
        # StringEquals on both claims: an exact repository and environment, no pattern.
        principal = iam.WebIdentityPrincipal(
            provider_arn,
            conditions={
                "StringEquals": {
                    f"{GITHUB_ISSUER}:aud": GITHUB_AUDIENCE,
                    f"{GITHUB_ISSUER}:sub": subject,
                }
            },
        )
        role = iam.Role(
            self,
            f"{kind.title()}Role-{stage.name}",
            role_name=resource_name(self._kit, "github", kind, stage.name, max_length=64),
            assumed_by=principal,
            max_session_duration=MAX_SESSION,
            description=f"GitHub Actions {kind} of stage {stage.name} ({subject})",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["sts:AssumeRole"],
                resources=[bootstrap_role_arn(t, stage, self.partition) for t in targets],
            )
        )
        self.roles[(kind, stage.name)] = role
        variable = role_variable(kind, stage.name)
        where = (
            f"on the GitHub environment {stage.environment!r} (or the repository)"
            if kind == "deploy"
            else "on the repository"
        )
        CfnOutput(
            self,
            f"{kind.title()}RoleArn-{stage.name}",
            value=role.role_arn,
            description=f"set as the variable {variable} {where}",
        )
