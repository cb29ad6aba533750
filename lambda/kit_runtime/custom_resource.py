"""What every kit custom resource handler (CDK Provider framework, ``onEvent``) shares.

The framework sends ``Create``, ``Update`` and ``Delete`` events whose ``ResourceProperties``
the stack rendered from a contract in :mod:`kit_runtime.contracts`. A handler reads the request
type and the properties here, so each one only says what Create/Update does and what Delete
leaves behind. An exception fails the deployment and the framework shows its message.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from kit_runtime.observability import logger

# Added by CloudFormation to every custom resource's properties; not part of the contract.
_CLOUDFORMATION_KEYS = ("ServiceToken",)
_REQUEST_TYPES = ("Create", "Update", "Delete")

Properties = TypeVar("Properties", bound=BaseModel)


def request_type(event: dict[str, Any]) -> str:
    """The event's ``RequestType``: ``Create``, ``Update`` or ``Delete``.

    Raises
    ------
    ValueError
        For any other request type.
    """
    value = event.get("RequestType", "")
    if value not in _REQUEST_TYPES:
        raise ValueError(f"unsupported RequestType {value!r}")
    return str(value)


def keep_on_delete(event: dict[str, Any], message: str) -> dict[str, Any]:
    """Answer a Delete that removes nothing: log ``message`` and keep the physical id.

    Parameters
    ----------
    event:
        The Delete event.
    message:
        Why nothing is deleted (what stays behind), for the function's log.
    """
    physical_id = event.get("PhysicalResourceId", "")
    logger.info(message, extra={"physical_id": physical_id})
    return {"PhysicalResourceId": physical_id}


def parse_properties(value: Any, contract: type[Properties], subject: str) -> Properties:
    """An event's ``ResourceProperties`` as ``contract``, or one clear error.

    Parameters
    ----------
    value:
        The event's ``ResourceProperties``.
    contract:
        The pydantic model the stack rendered them from.
    subject:
        What the resource is ("pgvector schema"), for the error message.

    Raises
    ------
    ValueError
        Names every property that does not match the contract.
    """
    if not isinstance(value, dict):
        raise ValueError("ResourceProperties: expected an object")
    props = {k: v for k, v in value.items() if k not in _CLOUDFORMATION_KEYS}
    try:
        return contract.model_validate(props)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(properties)'}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )
        raise ValueError(f"invalid {subject} properties: {problems}") from None
