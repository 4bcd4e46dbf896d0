"""Turn HTTP replies and ``requests`` exceptions into the exception tree of :mod:`pipeline.errors`.

This is the one place that knows both error shapes of the Calls API (``{type, message, ...}``
and the control endpoints' ``{error, message, args}``) and which failures are worth a retry.
Nothing raised from here carries the token: URLs arrive already redacted, server texts and
``Location`` headers are redacted again, and ``requests`` exceptions (whose text holds the full
URL) are described by their class, never by their text.

Usage::

    raise error_from_reply(status, headers, content, url=safe_url, method="POST",
                           now=clock(), control=False)
    try:
        ...
    except requests.RequestException as exc:
        failure = error_from_exception(exc, url=safe_url, method="POST", timeouts=(10, 30))
    raise failure   # outside the except block, so `exc` does not become its __context__
"""

from __future__ import annotations

import errno
import json
import math
import re
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from urllib3.exceptions import NameResolutionError, NewConnectionError

from pipeline.errors import (
    ApiConnectionError,
    ApiError,
    ApiNotConnectedError,
    ApiTimeoutError,
    BadRequestError,
    CampaignStateError,
    IdempotenceConflictError,
    InvalidTokenError,
    RateLimitedError,
    RequestTooLargeError,
    ServerError,
    UnexpectedResponseError,
)
from pipeline.redact import redact

_STATE_TYPES = {"invalid.call.task.state"}
_CONFLICT_TYPES = {"idempotence.key.conflict"}


_HTML_TITLE = re.compile(r"<title>([^<]{1,200})</title>", re.IGNORECASE)
_PHONE_IN_TEXT = re.compile(r"(?<!\d)\d{10,15}(?!\d)")


def mask_phone(phone: str) -> str:
    """Show a phone in messages as its country prefix and last digits: ``790*****567``."""
    if len(phone) <= 6:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 6) + phone[-3:]


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP-date.

    None when there is no usable value (absent, unparsable, ``nan``); a negative one or a
    date in the past is 0; an absurdly large one (``1e999``) is ``inf``. The retry policy
    floors and caps whatever comes out (:class:`pipeline.load.retry.RetryPolicy`).
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return None if math.isnan(seconds) else max(0.0, seconds)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP-date is GMT by definition
        return None
    return max(0.0, when.timestamp() - now)


def _json_body(content: bytes) -> Any:
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return None


def _describe(body: Any, content: bytes) -> tuple[str, str, str | None]:
    """(error code, server message, phone) from either error shape."""
    if isinstance(body, Mapping):
        code = body.get("type") or body.get("error") or ""
        message = body.get("message") or ""
        phone = body.get("phone")
        return str(code), str(message), None if phone is None else str(phone)
    text = content[:2000].decode("utf-8", "replace").strip()
    title = _HTML_TITLE.search(text)
    if title:  # an HTML error page (a proxy's): its title says it, the markup does not
        text = title.group(1)
    return "", " ".join(text.split())[:200], None


def error_from_reply(  # noqa: PLR0911 - one return per documented status family
    status: int,
    headers: Mapping[str, str],
    content: bytes,
    *,
    url: str,
    method: str,
    now: float,
    control: bool = False,
) -> ApiError:
    """The exception for a reply that is not a success (``url`` already redacted)."""
    where = f"{method} {url}"
    body = _json_body(content)
    code, server_message, phone = _describe(body, content)
    # Any phone-like run of digits in the server's text (not only its `phone` field: some
    # messages quote it, `phonesDuplicates` lists several) is masked before it reaches a log.
    server_message = _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)), server_message)
    if phone:
        server_message = server_message.replace(phone, mask_phone(phone))
    server_message = redact(server_message)
    said = f"{code}: {server_message}" if code else server_message or "(no error body)"
    retry_after = parse_retry_after(headers.get("Retry-After"), now)
    kw: dict[str, Any] = {"url": url, "status": status, "body": body}

    if 300 <= status < 400:
        location = redact(headers.get("Location", "(none)"))
        return UnexpectedResponseError(
            f"{where}: HTTP {status} redirect to {location} was not followed (following it "
            f"would send the campaign token to another address); set api.base_url to the "
            f"final address, e.g. https:// instead of http://.",
            **kw,
        )
    if status == 429:
        wait = f"retry after {retry_after:g} s" if retry_after is not None else "retry later"
        return RateLimitedError(
            f"{where}: HTTP 429 rate limited ({said}); {wait} with the same key and body.",
            retry_after=retry_after,
            **kw,
        )
    if status >= 500:
        return ServerError(
            f"{where}: HTTP {status} server error ({said}); the request may or may not have "
            f"taken effect: retry with the same idempotence key and the same body.",
            retry_after=retry_after,
            **kw,
        )
    if status == 408:
        return ApiTimeoutError(
            f"{where}: HTTP 408 the server timed out reading the request; retry with the same "
            f"key and body.",
            retry_after=retry_after,
            **kw,
        )
    if status == 413:
        return RequestTooLargeError(
            f"{where}: HTTP 413 the server refused the request as too large ({said}); it "
            f"processed nothing: send the rows in smaller requests, under new keys.",
            **kw,
        )
    if status == 404 and code == "invalid.token":
        return InvalidTokenError(
            f"{where}: HTTP 404 invalid.token: no campaign has this token (or it was deleted); "
            f"copy the API token of the campaign again into JAICP_TOKEN.",
            **kw,
        )
    if code in _CONFLICT_TYPES or status == 409:
        return IdempotenceConflictError(
            f"{where}: HTTP {status} {said}; this idempotence key was already used with a "
            f"different body; resend the original bytes or use a new key.",
            error_type=code,
            phone=phone,
            **kw,
        )
    if status == 400:
        cls = CampaignStateError if control or code in _STATE_TYPES else BadRequestError
        where_phone = f" (phone {mask_phone(phone)})" if phone else ""
        hint = (
            "check the campaign's state (campaign status) before retrying"
            if cls is CampaignStateError
            else "nothing was created; fix the request and send it under a new key"
        )
        return cls(
            f"{where}: HTTP 400 {said}{where_phone}; {hint}.",
            error_type=code,
            phone=phone,
            **kw,
        )
    return UnexpectedResponseError(
        f"{where}: unexpected HTTP {status} ({said}); check api.base_url and that the server "
        f"is the JAICP Calls API.",
        **kw,
    )


def error_from_exception(
    exc: requests.RequestException,
    *,
    url: str,
    method: str,
    timeouts: tuple[float, float],
) -> ApiError:
    """Translate a ``requests`` exception by its class; its text (with the URL) is dropped."""
    where = f"{method} {url}"
    kind = type(exc).__name__
    if isinstance(exc, requests.exceptions.SSLError):
        # A certificate problem does not go away on retry: a human must fix trust.
        return ApiError(
            f"{where}: TLS verification failed ({kind}); if a proxy re-signs traffic, set "
            f"api.ca_bundle to its CA certificate (PEM). Verification is never switched off.",
            url=url,
        )
    never = _never_connected(exc, timeouts[0])
    if never is not None:
        return ApiNotConnectedError(
            f"{where}: could not connect ({never}); the request never reached the server, "
            f"nothing was sent. Check api.base_url (or JAICP_BASE_URL) and the network; "
            f"retry later with the same key and body.",
            url=url,
        )
    if isinstance(exc, requests.exceptions.Timeout):
        return ApiTimeoutError(
            f"{where}: no reply within {timeouts[1]:g} s ({kind}); the request may have taken "
            f"effect: retry with the same key and body.",
            url=url,
        )
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return ApiError(f"{where}: the URL is invalid ({kind}); check api.base_url.", url=url)
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return UnexpectedResponseError(
            f"{where}: the reply could not be decoded ({kind}).", url=url
        )
    return ApiConnectionError(
        f"{where}: the connection failed or closed before a complete reply ({kind}); the "
        f"request may have taken effect: retry with the same key and body.",
        url=url,
    )


def _never_connected(exc: requests.RequestException, connect_timeout: float) -> str | None:
    """Why no connection was made, when that is certain (else None: it may have been sent).

    Only a failure to open the connection counts: once it is open, a reset or a close may
    come after the server read the request.
    """
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return f"no connection within {connect_timeout:g} s"
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if isinstance(exc, requests.exceptions.ProxyError) or not isinstance(
        reason, NewConnectionError
    ):
        return None  # a proxy may have forwarded it; other failures came after connecting
    cause = reason.__cause__ or reason.__context__
    if isinstance(reason, NameResolutionError):
        why = "the host name did not resolve (DNS)"
    elif isinstance(cause, ConnectionRefusedError):
        why = "connection refused: nothing listens at that address and port"
    elif isinstance(cause, OSError) and cause.errno is not None:
        why = f"{type(cause).__name__} {errno.errorcode.get(cause.errno, cause.errno)}"
    else:
        why = type(cause or reason).__name__
    return why


def reply_too_large(url: str, method: str, limit: int, *, status: int | None) -> ApiError:
    """The error for a reply longer than ``api.max_reply_bytes`` (``url`` already redacted)."""
    return UnexpectedResponseError(
        f"{method} {url}: the reply (HTTP {status}) is larger than api.max_reply_bytes "
        f"({limit} bytes) and was not read; the request may have taken effect. If such a "
        f"reply is expected, raise api.max_reply_bytes and run again (same key, same body).",
        url=url,
        status=status,
    )
