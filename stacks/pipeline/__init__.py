"""The pipeline bootstrap: GitHub's OIDC provider and the roles the workflows assume."""

from stacks.pipeline.stack import PipelineBootstrapStack, role_variable

__all__ = ["PipelineBootstrapStack", "role_variable"]
