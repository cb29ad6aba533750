"""Platform stack: model access check and the stage's application inference profiles."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.config import StagePlan
from stacks.platform.inference_profiles import ApplicationProfiles
from stacks.platform.model_access import ModelAccessCheck


class PlatformStack(Stack):
    """Long-lived, account-level pieces every other stack of the stage builds on."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        plan: StagePlan,
        code: lambda_.Code,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.profiles = ApplicationProfiles(self, "Profiles", plan=plan)
        if plan.config.model_access.enabled:
            self.model_access = ModelAccessCheck(self, "ModelAccess", plan=plan, code=code)
            # A profile over a model the account cannot use would deploy but fail every call:
            # check access first so the deploy fails with the reason instead.
            self.profiles.node.add_dependency(self.model_access.resource)
