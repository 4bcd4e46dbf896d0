"""Parsing of reply bodies and encoding of the small request bodies of the client.

Usage::

    ids = parse_reply(reply, "addPhones", id_list)      # UnexpectedResponseError if malformed
    text_value(reply)                                   # a JSON string or bare text
    selector(phones=["79001234567"], ids=None)          # b'{"phones":["79001234567"]}'
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from pipeline.api.filters import json_bytes
from pipeline.api.models import ResponseShapeError, parse_id
from pipeline.api.transport import Reply
from pipeline.errors import UnexpectedResponseError
from pipeline.redact import redact

T = TypeVar("T")


def parse_reply(reply: Reply, what: str, parse: Callable[[Any], T]) -> T:
    """Parse a JSON reply; a malformed one is an UnexpectedResponseError, not a crash."""
    try:
        return parse(json.loads(reply.content))
    except (ValueError, TypeError, KeyError) as exc:
        # A shape error quotes a value of the reply: redacted, in case it echoes the token.
        detail = redact(str(exc)) if isinstance(exc, ResponseShapeError) else type(exc).__name__
    # Raised here, after the except block, so the parse error (a JSONDecodeError holds the
    # whole reply body, which may quote the request path and its token) is not kept as
    # the error's __context__.
    raise UnexpectedResponseError(
        f"{reply.url}: the {what} reply is not what the API documents ({detail}); "
        f"check api.base_url points at the JAICP Calls API.",
        url=reply.url,
        status=reply.status,
    )


def id_list(value: Any) -> list[str]:
    """A JSON array of call job ids, each normalised to ``str``."""
    if not isinstance(value, list):
        raise ResponseShapeError("expected a JSON array of call job ids")
    return [parse_id(v) for v in value]


def text_value(reply: Reply) -> str:
    """A "string" reply: a JSON string (or number), or bare text; both are in the wild."""
    try:
        value = json.loads(reply.content)
    except ValueError:
        return reply.content.decode("utf-8", "replace").strip()
    if isinstance(value, str | int) and not isinstance(value, bool):
        return str(value)
    raise UnexpectedResponseError(
        f"{reply.url}: expected a string reply, got JSON {type(value).__name__}.",
        url=reply.url,
        status=reply.status,
    )


def selector(phones: Iterable[str | int] | None, ids: Iterable[str | int] | None) -> bytes:
    """The ``{phones, ids}`` body of cancel and getReport; phones and ids sent as strings."""
    body: dict[str, list[str]] = {}
    if phones is not None:
        body["phones"] = [str(p) for p in phones]
    if ids is not None:
        body["ids"] = [str(i) for i in ids]
    return json_bytes(body)


def with_string_phones(items: Sequence[Mapping[str, Any]]) -> Sequence[Mapping[str, Any]]:
    """The items with every ``phone`` as a string (the API types phones as strings)."""
    if all(isinstance(item.get("phone"), str) for item in items):
        return items  # the common case: no copy of a large batch
    return [{**item, "phone": str(item["phone"])} if "phone" in item else item for item in items]


def list_of(value: Any, item: Callable[[object], T]) -> list[T]:
    """A JSON array parsed item by item."""
    if not isinstance(value, list):
        raise ResponseShapeError("expected a JSON array")
    return [item(v) for v in value]


def pagination(page: int, page_size: int) -> dict[str, int]:
    """The ``PaginationRequest`` object, bounds checked before anything is sent."""
    if not 0 <= page <= 199 or not 1 <= page_size <= 200:
        raise ValueError(f"page must be 0..199 and page_size 1..200, got {page}, {page_size}")
    return {"page": page, "pageSize": page_size}
