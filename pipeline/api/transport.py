"""One HTTP exchange with the Calls API: build the URL, send, translate every failure.

The transport owns the three things that keep the token safe on the wire and in errors:
redirects are never followed (a redirect would carry the token to another address), TLS is
always verified (``verify`` is a CA bundle path or ``True``, never ``False``), and every error
names the URL with the token replaced by ``***`` and carries no ``requests`` exception in its
``__cause__`` or ``__context__``.

It also bounds each exchange: ``timeout`` is the deadline of the whole request (connect, send,
status line, headers and body; see :mod:`pipeline.api.deadline`), ``connect_timeout`` bounds
the connect alone, and a reply longer than ``max_reply_bytes`` is not read.

Usage::

    t = Transport(base_url, token, session=requests.Session(), connect_timeout=10,
                  timeout=30, max_reply_bytes=64 << 20, clock=time.time)
    reply = t.send("POST", "calls", "/addPhones", body=b"[...]", idempotence_key="k1")
    reply.status, reply.content
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import requests

from pipeline.api.deadline import Deadline, DeadlineAdapter
from pipeline.api.error_map import error_from_exception, error_from_reply, reply_too_large
from pipeline.errors import ApiError, ApiTimeoutError
from pipeline.redact import MASK, install_redaction, register_secret

log = logging.getLogger("pipeline.api")

IDEMPOTENCE_KEY = "Idempotence-Key"
# Enough for any documented reply (a getReport of 200 phones with their report data);
# api.max_reply_bytes sets it from the config.
MAX_REPLY_BYTES = 64 << 20
_READ_BLOCK = 1 << 16


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
        connect_timeout: float = 10.0,
        timeout: float = 30.0,
        max_reply_bytes: int = MAX_REPLY_BYTES,
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
        # The connect is part of the whole request: it cannot take longer than all of it.
        self.timeouts = (min(connect_timeout, timeout), timeout)
        self.max_reply_bytes = max_reply_bytes
        self.clock = clock
        self.verify: str | bool = str(ca_bundle) if ca_bundle else True
        # Also on the session, so anything else using it verifies the same way.
        self.session.verify = self.verify
        self._proxies, self._verify = self._environment(self.session)
        for prefix in ("https://", "http://"):
            if not isinstance(self.session.get_adapter(prefix), DeadlineAdapter):
                self.session.mount(prefix, DeadlineAdapter())

    def __repr__(self) -> str:
        return f"Transport(base_url={self.base_url!r}, token={MASK!r})"

    def _environment(self, session: requests.Session) -> tuple[dict[str, str], str | bool]:
        """What ``requests`` takes from the environment for this transport's requests, read
        once: the proxy for the base URL (``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY``, unless
        ``NO_PROXY`` names its host), the CA bundle of ``REQUESTS_CA_BUNDLE`` or
        ``CURL_CA_BUNDLE`` when ``ca_bundle`` is not set, and a ``.netrc`` login for the host.

        Why: with ``trust_env`` on, ``requests`` reads them again on every request (it walks
        the whole environment twice and looks for the ``.netrc`` file): about 0.15 ms of a
        sender's 0.75 ms of CPU per ``addPhones`` request, holding the GIL the other senders
        and the uploader's ledger work wait for. Every request of a transport goes to the same
        host, so one reading gives the same answers; the session stops reading them.
        """
        if not session.trust_env:
            return {}, self.verify
        url = self.url("calls", "", safe=True)  # the host is all that counts
        merged = session.merge_environment_settings(url, {}, None, self.verify, None)
        verify = merged["verify"]
        if not isinstance(verify, str | bool) or verify is False:  # never off, whatever is set
            verify = self.verify
        if session.auth is None:
            session.auth = requests.utils.get_netrc_auth(url)
        session.trust_env = False
        return dict(merged["proxies"]), verify

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
        response: requests.Response | None = None
        content = b""
        with Deadline(self.timeouts[1]) as deadline:
            try:
                response = self.session.request(
                    method,
                    self.url(area, suffix, safe=False),
                    params=query or None,
                    data=body if body is not None else form,
                    headers=headers,
                    timeout=self.timeouts,
                    proxies=self._proxies,
                    verify=self._verify,
                    allow_redirects=False,
                    stream=True,
                )
                content = self._read(response, deadline)
            except requests.RequestException as exc:
                log.debug("%s %s failed: %s", method, safe_url, type(exc).__name__)
                # After the watchdog shut the socket, whatever broke is its consequence.
                failure = (
                    self._timed_out(safe_url, method)
                    if deadline.expired
                    else error_from_exception(
                        exc, url=safe_url, method=method, timeouts=self.timeouts
                    )
                )
            except _DeadlinePassedError:
                failure = self._timed_out(safe_url, method)
            except _TooLargeError:
                status = None if response is None else response.status_code
                failure = reply_too_large(safe_url, method, self.max_reply_bytes, status=status)
            finally:
                if response is not None:
                    response.close()  # back to the pool when read to its end, else closed
        if failure is not None or response is None:
            # Raised after the except block, not inside it: there Python would keep the
            # requests exception (its text holds the URL with the token) as __context__,
            # which `from None` only hides from printed tracebacks.
            raise failure or self._timed_out(safe_url, method)
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

    def _read(self, response: requests.Response, deadline: Deadline) -> bytes:
        """The whole body, at most ``max_reply_bytes`` of it (decoded), before the deadline."""
        cap = self.max_reply_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            raise _TooLargeError
        parts: list[bytes] = []
        size = 0
        for part in response.iter_content(_READ_BLOCK):
            size += len(part)
            if size > cap:
                raise _TooLargeError
            # The watchdog ends a stalled read; this catches a session whose adapter is not
            # ours (mounted after the transport's) between two blocks at least.
            if deadline.passed:
                raise _DeadlinePassedError
            parts.append(part)
        return b"".join(parts)

    def _timed_out(self, safe_url: str, method: str) -> ApiError:
        return ApiTimeoutError(
            f"{method} {safe_url}: no whole reply within {self.timeouts[1]:g} s (api.timeout_s "
            f"bounds the whole request: connect, send and reply); the request may have taken "
            f"effect: retry with the same key and body.",
            url=safe_url,
        )


class _TooLargeError(Exception):
    """The reply is longer than ``max_reply_bytes``."""


class _DeadlinePassedError(Exception):
    """The request's deadline passed between two blocks of the body."""
