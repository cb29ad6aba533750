"""What every endpoint construct shares: its function, grants and routes on the stage's API."""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct
from pydantic import BaseModel

from stacks.api.handler_function import api_handler_function
from stacks.api.request_model import api_gateway_schema
from stacks.api.rest_api import KitRestApi
from stacks.config import StagePlan
from stacks.core.bedrock_iam import outside_network_deny
from stacks.core.function import KitFunction, Placement
from stacks.core.naming import digest
from stacks.core.references import NetworkHandles


class ApiEndpoint(Construct):
    """Base of a capability's endpoint: one synchronous function behind routes of the API.

    A subclass's ``__init__`` builds the function (:meth:`_build_function`), grants it what it
    calls (:meth:`_grant`) and routes requests to it (:meth:`_add_route`).

    Parameters
    ----------
    api:
        The stage's REST API the routes are added to.
    upstream:
        The revisions of the cross-stack handles the function reads (profiles, guardrail,
        knowledge bases).
    network:
        A private stage's network: the function runs in its VPC and may call Bedrock only
        through its endpoints (:func:`outside_network_deny`).
    """

    handler: KitFunction

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api: KitRestApi,
        upstream: Iterable[str],
        network: NetworkHandles | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._api = api
        self._network = network
        self._guarded = False
        if network is not None:
            upstream = (*upstream, network.revision)
        # Changes whenever a value read from another stack may change, so the function and
        # its policy are updated (and re-read them) in the same deploy.
        self.revision = digest(*upstream)

    @property
    def placement(self) -> Placement | None:
        """Where the function runs (a private stage's VPC), or ``None``."""
        return self._network.placement if self._network is not None else None

    @property
    def role(self) -> iam.IRole:
        return self.handler.role

    def _build_function(
        self,
        plan: StagePlan,
        code: lambda_.Code,
        *,
        handler: str,
        service: str,
        settings: BaseModel,
        log_logical_id: str,
    ) -> KitFunction:
        """The endpoint's function (see :func:`api_handler_function`), updated with upstream."""
        return api_handler_function(
            self,
            plan=plan,
            code=code,
            handler=handler,
            service=service,
            settings=settings,
            upstream=self.revision,
            log_logical_id=log_logical_id,
            placement=self.placement,
        )

    def _grant(self, statements: Iterable[iam.PolicyStatement]) -> None:
        """Add ``statements``, in order, to the function's role."""
        for statement in statements:
            self.handler.role.add_to_policy(statement)
        if self._network is not None and not self._guarded:
            ids = self._network.endpoint_ids
            self.handler.role.add_to_policy(
                outside_network_deny(
                    [ids[s] for s in ("bedrock-runtime", "bedrock-agent-runtime") if s in ids],
                    revision=self.revision,
                    only_region=self._network.bedrock_deny_region,
                )
            )
            self._guarded = True

    def _add_route(
        self,
        path: str,
        method: str,
        request: type[BaseModel] | None = None,
        *,
        stream: bool = False,
        timeout: Duration | None = None,
    ) -> None:
        """Route ``method path`` to the function; API Gateway checks a JSON body against
        ``request`` (its model is named after the contract class); ``stream``: the answer is
        streamed (see :meth:`KitRestApi.add_route`)."""
        if request is None:
            self._api.add_route(path, method, self.handler.function, stream=stream, timeout=timeout)
            return
        self._api.add_route(
            path,
            method,
            self.handler.function,
            request_schema=api_gateway_schema(request),
            model_name=request.__name__,
            stream=stream,
            timeout=timeout,
        )
