"""The API's web ACL: in production stages only, with the rules and logs the kit promises."""

from __future__ import annotations

import re
from typing import Any

from stacks.api.waf import LOG_GROUP_PREFIX, REDACTED_HEADERS
from stacks.config.api import waf_enabled
from tests.support.synth import Synthesized
from tests.support.templates import only, render


def of_type(stage: Synthesized, type_: str) -> dict[str, dict[str, Any]]:
    return stage.resources(type_, "Api")


def rules(stage: Synthesized) -> dict[str, dict[str, Any]]:
    acl = only(of_type(stage, "AWS::WAFv2::WebACL"))["Properties"]
    return {rule["Name"]: rule for rule in acl["Rules"]}


def managed(stage: Synthesized) -> dict[str, dict[str, Any]]:
    return {
        r["Statement"]["ManagedRuleGroupStatement"]["Name"]: r
        for r in rules(stage).values()
        if "ManagedRuleGroupStatement" in r["Statement"]
    }


def test_a_web_acl_exactly_where_the_config_asks_for_one(stage: Synthesized) -> None:
    # Given a stage (basic: not production; full: production), Then a web ACL only when
    # api.waf says so, which by default follows `production`
    wanted = waf_enabled(stage.config.api, production=stage.config.production)
    assert wanted == stage.config.production  # neither test stage overrides the default
    assert len(of_type(stage, "AWS::WAFv2::WebACL")) == int(wanted)
    assert len(of_type(stage, "AWS::WAFv2::WebACLAssociation")) == int(wanted)


def test_the_web_acl_is_regional_on_the_api_stage(synth: Any) -> None:
    stage = synth("full")
    acl = only(of_type(stage, "AWS::WAFv2::WebACL"))
    assert acl["Properties"]["Scope"] == "REGIONAL"
    association = only(of_type(stage, "AWS::WAFv2::WebACLAssociation"))["Properties"]
    acl_id = next(iter(of_type(stage, "AWS::WAFv2::WebACL"))).split("/")[1]
    assert association["WebACLArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    # arn:<partition>:apigateway:<region>::/restapis/<api-id>/stages/<stage> (bc:wafv2)
    arn = render(association["ResourceArn"])
    assert re.fullmatch(
        r"arn:\$\{AWS::Partition\}:apigateway:\$\{AWS::Region\}::/restapis/\$\{RestApi\w+\}"
        r"/stages/\$\{RestApiDeploymentStage\w+\}",
        arn,
    ), arn


def test_managed_rules_with_the_crs_body_size_rule_only_counted(synth: Any) -> None:
    groups = managed(synth("full"))
    assert set(groups) == {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"}
    crs = groups["AWSManagedRulesCommonRuleSet"]
    overrides = crs["Statement"]["ManagedRuleGroupStatement"]["RuleActionOverrides"]
    # The 8 KB body rule counts (chat bodies pass it routinely); nothing else is relaxed
    assert overrides == [{"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}]
    assert all(g["OverrideAction"] == {"None": {}} for g in groups.values())


def test_the_rate_rule_blocks_per_source_ip_at_the_configured_rate(synth: Any) -> None:
    stage = synth("full")
    rate = [r for r in rules(stage).values() if "RateBasedStatement" in r["Statement"]]
    assert len(rate) == 1 and rate[0]["Action"] == {"Block": {}}
    statement = rate[0]["Statement"]["RateBasedStatement"]
    waf = stage.config.api.waf
    assert statement["AggregateKeyType"] == "IP"
    assert statement["Limit"] == waf.rate_limit
    assert statement["EvaluationWindowSec"] == waf.rate_window_seconds


def size_rule(stage: Synthesized) -> dict[str, Any]:
    found = [
        r
        for r in rules(stage).values()
        if "content-length" in str(r["Statement"]) or "SizeConstraintStatement" in str(r)
    ]
    assert len(found) == 1
    return found[0]


def test_the_body_rule_blocks_exactly_what_the_api_refuses(synth: Any) -> None:
    # Given the stage's own body limit (api.limits.max_body_bytes)
    stage = synth("full")
    limit = stage.config.api.limits.max_body_bytes
    rule = size_rule(stage)
    assert rule["Action"] == {"Block": {}}
    statement = rule["Statement"]
    declared = statement.get("RegexMatchStatement") or next(
        s["RegexMatchStatement"]
        for s in statement["OrStatement"]["Statements"]
        if "RegexMatchStatement" in s
    )
    assert declared["FieldToMatch"] == {"SingleHeader": {"Name": "content-length"}}
    # Then a declared length up to the limit passes and anything above it is blocked
    pattern = re.compile(declared["RegexString"])
    for accepted in (0, 1, limit // 2, limit - 1, limit):
        assert not pattern.search(str(accepted)), accepted
    for refused in (limit + 1, limit + 9, limit * 10, 10**12):
        assert pattern.search(str(refused)), refused


def test_metrics_and_sampled_requests_are_on_for_the_acl_and_every_rule(synth: Any) -> None:
    acl = only(of_type(synth("full"), "AWS::WAFv2::WebACL"))["Properties"]
    configs = [acl["VisibilityConfig"], *(r["VisibilityConfig"] for r in acl["Rules"])]
    for config in configs:
        assert config["CloudWatchMetricsEnabled"] is True
        assert config["SampledRequestsEnabled"] is True
    assert len({c["MetricName"] for c in configs}) == len(configs)


def test_waf_logs_go_to_a_retained_aws_waf_logs_group_with_sigv4_headers_redacted(
    synth: Any,
) -> None:
    stage = synth("full")
    logging = only(of_type(stage, "AWS::WAFv2::LoggingConfiguration"))["Properties"]
    groups = {
        res["Properties"].get("LogGroupName"): res
        for res in of_type(stage, "AWS::Logs::LogGroup").values()
        if str(res["Properties"].get("LogGroupName", "")).startswith(LOG_GROUP_PREFIX)
    }
    assert len(groups) == 1
    name, group = next(iter(groups.items()))
    assert group["DeletionPolicy"] == "Retain"
    # The destination is that group's ARN without the ":*" LogGroup.Arn carries
    (destination,) = logging["LogDestinationConfigs"]
    assert render(destination).endswith(f":log-group:{name}")
    redacted = {f["SingleHeader"]["Name"] for f in logging["RedactedFields"]}
    assert redacted == set(REDACTED_HEADERS)
