"""The stage API's AWS WAF web ACL: managed rules, a per-IP rate limit and the API's body limit.

Facts this module relies on (checked 2026-12-01):

- API Gateway takes a REGIONAL web ACL associated with a REST API stage, ARN
  ``arn:<partition>:apigateway:<region>::/restapis/<api-id>/stages/<stage>`` (botocore wafv2
  2019-07-29 ``AssociateWebACLRequest.ResourceArn``; API Gateway developer guide,
  https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-control-access-aws-waf.html).
  Neither page excludes private REST APIs, so a private stage gets the same web ACL
  (docs/decisions.md, "WAF on the private API").
- API Gateway forwards at most the first 16 KB of a body to WAF by default (botocore wafv2
  ``AssociationConfig.RequestBody``, ``Body.OversizeHandling``). A size constraint on the body
  is exact only for limits within that window.
- ``AWSManagedRulesCommonRuleSet`` rule ``SizeRestrictions_BODY`` blocks bodies over 8 KB
  (https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html):
  counted here, since chat requests legitimately exceed it; the kit's own size rule replaces it.
- WAF's CloudWatch Logs destinations must be named ``aws-waf-logs-...`` (botocore 1.44.5
  wafv2 2019-07-29, PutLoggingConfiguration: the destination's name "must begin with
  aws-waf-logs-"; checked 2026-12-01).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import ArnFormat, Aws, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from stacks.config import StagePlan
from stacks.core.logs import retained_log_group
from stacks.core.naming import resource_name

# API Gateway's default body inspection window (botocore wafv2 AssociationConfig.RequestBody).
WAF_BODY_INSPECTION_BYTES = 16 * 1024
CRS = "AWSManagedRulesCommonRuleSet"
KNOWN_BAD_INPUTS = "AWSManagedRulesKnownBadInputsRuleSet"
CRS_BODY_SIZE_RULE = "SizeRestrictions_BODY"
LOG_GROUP_PREFIX = "aws-waf-logs-"
# Headers a SigV4 request carries that must not reach the WAF logs: the signature and, for
# temporary credentials, the session token.
REDACTED_HEADERS = ("authorization", "x-amz-security-token")
# Pinned: the retained WAF log group keeps the id it was first deployed with.
WAF_LOGS_LOGICAL_ID = "ApiWafLogs"


def greater_than_pattern(limit: int) -> str:
    """A regular expression matching exactly the decimal integers above ``limit`` (no sign,
    no leading zeros), for WAF's regex match on the ``content-length`` header.

    WAF compares sizes only within its inspection window, so a body limit above 16 KB is
    checked on the length the client declares; a request that declares no length (or pads it
    with zeros) is still refused by the handler's own check (413).
    """
    if limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    digits = str(limit)
    width = len(digits)
    alternatives = [f"[1-9][0-9]{{{width},}}"]  # more digits than the limit has
    for i, digit in enumerate(digits):
        if digit == "9":
            continue
        rest = width - i - 1
        low = int(digit) + 1
        head = digits[:i] + (f"[{low}-9]" if low < 9 else "9")
        alternatives.append(head + (f"[0-9]{{{rest}}}" if rest else ""))
    return "^(" + "|".join(alternatives) + ")$"


def _visibility(metric: str) -> dict[str, Any]:
    return {
        "CloudWatchMetricsEnabled": True,
        "MetricName": metric,
        "SampledRequestsEnabled": True,
    }


def body_size_statement(max_body_bytes: int) -> dict[str, Any]:
    """Matches a request whose body is above ``max_body_bytes`` (the API's own limit).

    The declared ``content-length`` is compared in every case; the body itself too when the
    limit fits in WAF's inspection window, where a body too long to inspect is over the limit
    (``OversizeHandling: MATCH``). Above the window, measuring the body is impossible: a
    ``MATCH`` there would block bodies the API accepts.
    """
    declared = {
        "RegexMatchStatement": {
            "FieldToMatch": {"SingleHeader": {"Name": "content-length"}},
            "RegexString": greater_than_pattern(max_body_bytes),
            "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
        }
    }
    if max_body_bytes >= WAF_BODY_INSPECTION_BYTES:
        return declared
    measured = {
        "SizeConstraintStatement": {
            "FieldToMatch": {"Body": {"OversizeHandling": "MATCH"}},
            "ComparisonOperator": "GT",
            "Size": max_body_bytes,
            "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
        }
    }
    return {"OrStatement": {"Statements": [declared, measured]}}


def web_acl_rules(plan: StagePlan, *, metric_prefix: str) -> list[dict[str, Any]]:
    """The web ACL's rules, in priority order (CloudFormation ``AWS::WAFv2::WebACL.Rules``)."""
    waf = plan.config.api.waf
    return [
        {
            "Name": "RatePerSourceIp",
            "Priority": 0,
            "Action": {"Block": {}},
            "Statement": {
                "RateBasedStatement": {
                    "AggregateKeyType": "IP",
                    "Limit": waf.rate_limit,
                    "EvaluationWindowSec": waf.rate_window_seconds,
                }
            },
            "VisibilityConfig": _visibility(f"{metric_prefix}RatePerSourceIp"),
        },
        {
            "Name": "BodyOverApiLimit",
            "Priority": 1,
            "Action": {"Block": {}},
            "Statement": body_size_statement(plan.config.api.limits.max_body_bytes),
            "VisibilityConfig": _visibility(f"{metric_prefix}BodyOverApiLimit"),
        },
        {
            "Name": CRS,
            "Priority": 2,
            "OverrideAction": {"None": {}},
            "Statement": {
                "ManagedRuleGroupStatement": {
                    "VendorName": "AWS",
                    "Name": CRS,
                    # Chat bodies pass 8 KB routinely; BodyOverApiLimit enforces the real limit.
                    "RuleActionOverrides": [
                        {"Name": CRS_BODY_SIZE_RULE, "ActionToUse": {"Count": {}}}
                    ],
                }
            },
            "VisibilityConfig": _visibility(f"{metric_prefix}{CRS}"),
        },
        {
            "Name": KNOWN_BAD_INPUTS,
            "Priority": 3,
            "OverrideAction": {"None": {}},
            "Statement": {
                "ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": KNOWN_BAD_INPUTS}
            },
            "VisibilityConfig": _visibility(f"{metric_prefix}{KNOWN_BAD_INPUTS}"),
        },
    ]


class ApiWebAcl(Construct):
    """A REGIONAL web ACL on the API's stage, with metrics, sampled requests and logs.

    Rules: a per-source-IP rate limit, the API's own body limit, the AWS core rule set (its
    8 KB body rule counted, not blocking) and known bad inputs. Blocked and counted requests
    are logged (SigV4 headers redacted) to a retained ``aws-waf-logs-`` log group.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, plan: StagePlan, api: apigw.RestApi
    ) -> None:
        super().__init__(scope, construct_id)
        name = resource_name(plan.kit_name, plan.name, "api", max_length=128)
        metric_prefix = "".join(part.capitalize() for part in name.split("-"))
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=name,
            scope="REGIONAL",
            # WAF descriptions allow no parentheses (AWS::WAFv2::WebACL Description pattern).
            description=f"bedrock-cdk-kit API, stage {plan.name}",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True,
                metric_name=metric_prefix,
                sampled_requests_enabled=True,
            ),
        )
        self.web_acl.add_property_override(
            "Rules", web_acl_rules(plan, metric_prefix=metric_prefix)
        )
        stage = api.deployment_stage
        self.association = wafv2.CfnWebACLAssociation(
            self,
            "Association",
            web_acl_arn=self.web_acl.attr_arn,
            resource_arn=(
                f"arn:{Aws.PARTITION}:apigateway:{Aws.REGION}::/restapis/"
                f"{api.rest_api_id}/stages/{stage.stage_name}"
            ),
        )
        self.association.node.add_dependency(stage)
        self.log_group: logs.LogGroup | None = None
        if plan.config.api.waf.logging:
            self.log_group = self._logging(plan, name)

    def _logging(self, plan: StagePlan, name: str) -> logs.LogGroup:
        group = retained_log_group(
            self,
            "Logs",
            plan=plan,
            logical_id=WAF_LOGS_LOGICAL_ID,
        )
        group_name = LOG_GROUP_PREFIX + name
        cfn_group = group.node.default_child
        assert isinstance(cfn_group, logs.CfnLogGroup)
        cfn_group.log_group_name = group_name  # WAF delivers only to aws-waf-logs-* groups
        # WAF wants the group's ARN without the trailing ":*" that LogGroup.log_group_arn has.
        group_arn = Stack.of(self).format_arn(
            service="logs",
            resource="log-group",
            resource_name=group_name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        config = wafv2.CfnLoggingConfiguration(
            self, "Logging", resource_arn=self.web_acl.attr_arn, log_destination_configs=[group_arn]
        )
        config.add_property_override(
            "RedactedFields", [{"SingleHeader": {"Name": header}} for header in REDACTED_HEADERS]
        )
        # Allowed requests are in the API's access logs already: keep what WAF acted on.
        config.add_property_override(
            "LoggingFilter",
            {
                "DefaultBehavior": "DROP",
                "Filters": [
                    {
                        "Behavior": "KEEP",
                        "Requirement": "MEETS_ANY",
                        "Conditions": [
                            {"ActionCondition": {"Action": "BLOCK"}},
                            {"ActionCondition": {"Action": "COUNT"}},
                        ],
                    }
                ],
            },
        )
        config.node.add_dependency(group)
        return group
