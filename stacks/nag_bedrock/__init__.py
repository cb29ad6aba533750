"""A cdk-nag v3 rule pack for Amazon Bedrock applications (``BedrockChecks``).

Self-contained: it imports only aws-cdk-lib, cdk-nag, constructs and jsii, so another project
can copy this folder as it is.
"""

from .pack import RULES, BedrockChecks, Rule

__all__ = ["RULES", "BedrockChecks", "Rule"]
