"""Minimal encoder for the AWS event stream binary framing (``application/vnd.amazon.eventstream``).

botocore can *decode* event streams but cannot *encode* them, so the fake Bedrock server
uses this module to produce ConverseStream bodies.

Wire format of one message (all integers big-endian)::

    +--------------+----------------+-------------+---------+---------+-------------+
    | total length | headers length | prelude CRC | headers | payload | message CRC |
    |   uint32     |    uint32      |   uint32    |  bytes  |  bytes  |   uint32    |
    +--------------+----------------+-------------+---------+---------+-------------+

* prelude CRC  = CRC32 of the first 8 bytes
* message CRC  = CRC32 of everything before it (prelude + prelude CRC + headers + payload)
* each header  = name length (uint8) + name (utf-8) + value type (uint8) + value

Only the string header type (7: uint16 length + utf-8 bytes) is needed here.
"""

from __future__ import annotations

import json
import struct
from binascii import crc32
from collections.abc import Mapping

__all__ = [
    "CONTENT_TYPE",
    "encode_event",
    "encode_exception",
    "encode_headers",
    "encode_message",
]

CONTENT_TYPE = "application/vnd.amazon.eventstream"

_STRING_HEADER_TYPE = 7
_PRELUDE = struct.Struct(">II")
_UINT32 = struct.Struct(">I")
# Same limits botocore enforces when decoding.
_MAX_HEADERS_LENGTH = 128 * 1024
_MAX_PAYLOAD_LENGTH = 16 * 1024**2


def encode_headers(headers: Mapping[str, str]) -> bytes:
    """Encode string-valued headers in insertion order."""
    out = bytearray()
    for name, value in headers.items():
        name_b = name.encode("utf-8")
        value_b = value.encode("utf-8")
        if len(name_b) > 255:
            raise ValueError(f"header name too long: {name!r}")
        if len(value_b) > 0xFFFF:
            raise ValueError(f"header value too long for {name!r}")
        out += bytes((len(name_b),)) + name_b
        out += bytes((_STRING_HEADER_TYPE,)) + struct.pack(">H", len(value_b)) + value_b
    return bytes(out)


def encode_message(headers: Mapping[str, str], payload: bytes) -> bytes:
    """Frame ``payload`` with ``headers`` into one event stream message (CRCs included)."""
    headers_b = encode_headers(headers)
    if len(headers_b) > _MAX_HEADERS_LENGTH:
        raise ValueError("headers exceed 128 KiB")
    if len(payload) > _MAX_PAYLOAD_LENGTH:
        raise ValueError("payload exceeds 16 MiB")
    total_length = 12 + len(headers_b) + len(payload) + 4
    prelude = _PRELUDE.pack(total_length, len(headers_b))
    prelude_crc = crc32(prelude)
    body = prelude + _UINT32.pack(prelude_crc) + headers_b + payload
    return body + _UINT32.pack(crc32(body))


def _json(payload: Mapping) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode("utf-8")


def encode_event(event_type: str, payload: dict) -> bytes:
    """Encode a normal event (``:message-type`` = ``event``) with a JSON payload.

    ``event_type`` is the member name of the stream union, e.g. ``contentBlockDelta``.
    """
    return encode_message(
        {
            ":event-type": event_type,
            ":content-type": "application/json",
            ":message-type": "event",
        },
        _json(payload),
    )


def encode_exception(exception_type: str, payload: dict) -> bytes:
    """Encode a modeled exception event (``:message-type`` = ``exception``).

    ``exception_type`` is the member name of the stream union, e.g. ``throttlingException``
    or ``modelStreamErrorException``; botocore raises ``EventStreamError`` with that code.
    """
    return encode_message(
        {
            ":exception-type": exception_type,
            ":content-type": "application/json",
            ":message-type": "exception",
        },
        _json(payload),
    )
