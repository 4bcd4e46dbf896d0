"""One request on the wire while the caller's thread does other ledger work meanwhile.

Usage::

    wire = Wire(hooks)
    client = wire.client(real_client, idle=lambda: freezer.step(max_rows=2000))
    ids = client.add_phones_body(body, idempotence_key=key)   # freezes while waiting
    error = wire.idle_error                                    # raise it once the reply is in
    wire.close()

Why: with one sender, the uploader used to wait idle while the server worked on a request
(~20 ms per 2,000 rows), then freeze batches while nothing was on the wire. Here the request
runs in a helper thread (the socket wait releases the GIL) and the caller's thread runs
``idle`` steps until the reply has arrived. Every ledger write stays on the caller's thread,
so SQLite sees one writer and the per-batch order (intent committed → request → outcome
recorded) is unchanged. ``idle`` returns False when it has nothing more to do.

An exception of ``idle`` must not cost the request its outcome: it is kept in
``idle_error`` (no more idle steps run) and the caller raises it after recording the reply.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from pipeline.load.hooks import TestHooks
from pipeline.load.sender import AddPhonesClient

Idle = Callable[[], bool]


class Wire:
    """A one-thread executor for requests, plus the idle work done while they run."""

    def __init__(self, hooks: TestHooks) -> None:
        self.hooks = hooks
        self.idle_error: Exception | None = None
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="wire")

    def client(self, client: AddPhonesClient, *, idle: Idle) -> AddPhonesClient:
        """``client`` with its requests sent from the wire thread while ``idle`` runs here."""
        return _OverlappedClient(self, client, idle)

    def close(self) -> None:
        """Stop the wire thread (waits for a request still on the wire)."""
        self._pool.shutdown(wait=True)


class _OverlappedClient:
    def __init__(self, wire: Wire, client: AddPhonesClient, idle: Idle) -> None:
        self.wire, self.inner, self.idle = wire, client, idle

    def add_phones_body(self, body: bytes, *, idempotence_key: str | None) -> list[str]:
        wire, hooks = self.wire, self.wire.hooks
        attempt = hooks.current_attempt()  # so the after_send crash point fires on the wire

        def send() -> list[str]:
            hooks.adopt_attempt(attempt)
            return self.inner.add_phones_body(body, idempotence_key=idempotence_key)

        reply = wire._pool.submit(send)
        while wire.idle_error is None and not reply.done():
            try:
                if not self.idle():
                    break
            except Exception as exc:  # raised by the caller once the reply is recorded
                wire.idle_error = exc
        return reply.result()
