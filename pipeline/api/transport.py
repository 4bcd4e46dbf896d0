"""One HTTP exchange with the Calls API: build the URL, send, translate every failure.

The transport owns the three things that keep the token safe on the wire and in errors:
redirects are never followed (a redirect would carry the token to another address), TLS is
always verified (``verify`` is a CA bundle path or ``True``, never ``False``), and every error
names the URL with the token replaced by ``***`` and carries no ``requests`` exception in its
``__cause__`` or ``__context__``.

Usage::

    t = Transport(base_url, token, session=requests.Session(), timeouts=(10, 30), clock=time.time)
    reply = t.send("POST", "calls", "/addPhones", body=b"[...]", idempotence_key="k1")
    reply.status, reply.content
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import requests

from pipeline.api.failures import error_from_exception, error_from_reply
from pipeline.errors import ApiError
from pipeline.redact import MASK, install_redaction, register_secret

log = logging.getLogger("pipeline.api")

IDEMPOTENCE_KEY = "Idempotence-Key"


@dataclass(frozen=True, slots=True)
class Reply:
    """A successful (2xx) reply: status, raw bytes and headers."""

    status: int
    content: bytes
    headers: Mapping[str, str]
    url: str  # redacted


class Transport:
    """Sends requests for one campaign token; raises :class:`~pipeline.errors.ApiError`."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        session: requests.Session | None = None,
        timeouts: tuple[float, float] = (10.0, 30.0),
        clock: Callable[[], float],
        ca_bundle: str | Path | None = None,
    ) -> None:
        if not token:
            raise ValueError("the campaign token is empty")
        # Before anything can log a URL with the token in it.
        install_redaction()
        register_secret(token)
        self._token = token
        self.base_url = base_url.rstrip("/")
        self.session = session if session is not None else requests.Session()
        self.timeouts = timeouts
        self.clock = clock
        self.verify: str | bool = str(ca_bundle) if ca_bundle else True
        # Also on the session, so anything else using it verifies the same way.
        self.session.verify = self.verify

    def __repr__(self) -> str:
        return f"Transport(base_url={self.base_url!r}, token={MASK!r})"

    def url(self, area: str, suffix: str, *, safe: bool) -> str:
        """``{base}/api/{area}/campaign/{token}{suffix}``; ``safe`` puts ``***`` for the token."""
        return f"{self.base_url}/api/{area}/campaign/{MASK if safe else self._token}{suffix}"

    def send(
        self,
        method: str,
        area: str,
        suffix: str,
        *,
        body: bytes | None = None,
        params: Mapping[str, str] | None = None,
        form: Mapping[str, str] | None = None,
        idempotence_key: str | None = None,
        control: bool = False,
    ) -> Reply:
        """Send one request; return the 2xx reply or raise the mapped ApiError.

        ``area`` is ``calls`` or ``crmCalls``. The idempotence key goes into the header on
        POST and into the query string on GET, as the API documents it.
        """
        safe_url = self.url(area, suffix, safe=True)
        headers = {"Accept": "application/json"}
        query = dict(params or {})
        if idempotence_key is not None:
            if method == "GET":
                query[IDEMPOTENCE_KEY] = idempotence_key
            else:
                headers[IDEMPOTENCE_KEY] = idempotence_key
        if body is not None:
            headers["Content-Type"] = "application/json"
        started = self.clock()
        failure: ApiError | None = None
        try:
            response = self.session.request(
                method,
                self.url(area, suffix, safe=False),
                params=query or None,
                data=body if body is not None else form,
                headers=headers,
                timeout=self.timeouts,
                verify=self.verify,
                allow_redirects=False,
            )
            content = response.content  # read fully here: a dropped body fails inside the try
        except requests.RequestException as exc:
            failure = error_from_exception(exc, url=safe_url, method=method, timeouts=self.timeouts)
            log.debug("%s %s failed: %s", method, safe_url, type(exc).__name__)
        if failure is not None:
            # Raised after the except block, not inside it: there Python would keep the
            # requests exception (its text holds the URL with the token) as __context__,
            # which `from None` only hides from printed tracebacks.
            raise failure
        status = response.status_code
        log.debug(
            "%s %s -> %s (%d bytes, %.3f s)",
            method,
            safe_url,
            status,
            len(content),
            self.clock() - started,
        )
        if 200 <= status < 300:
            return Reply(status, content, response.headers, safe_url)
        raise error_from_reply(
            status,
            response.headers,
            content,
            url=safe_url,
            method=method,
            now=self.clock(),
            control=control,
        )
