"""A transport hook for uploader tests: run test code at the moment an addPhones request
leaves (before its bytes are written) or when its reply has arrived, in the uploader's own
sender thread — the client's documented seam (an injected ``requests`` session).

Usage::

    seen = []
    make = hooked_client(uploader, before=lambda req: seen.append(req.headers), concurrency=4)
    uploader.run(csv, client=make, concurrency=4)

It also tells how a run ended the way the CLI does: :func:`ended` gives the exit code and the
message, whether the run returned a summary or raised (a ledger that fails while the run is
being recorded raises, and the CLI prints the error with its exit code).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from pipeline.api import CallsApiClient
from pipeline.api.deadline import DeadlineAdapter
from pipeline.errors import PipelineError
from pipeline.load import UploadSummary
from tests.load.conftest import Uploader

Hook = Callable[[requests.PreparedRequest], None]


class _HookedAdapter(DeadlineAdapter):
    """A request deadline adapter that also runs the hooks (the transport replaces an adapter
    of any other kind with its own, which would drop the hooks)."""

    def __init__(self, before: Hook | None, after: Hook | None) -> None:
        super().__init__()
        self._before, self._after = before, after

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        add_phones = (request.url or "").split("?", 1)[0].endswith("/addPhones")
        if add_phones and self._before is not None:
            self._before(request)
        response = super().send(request, *args, **kwargs)
        if add_phones and self._after is not None:
            self._after(request)
        return response


def hooked_client(
    uploader: Uploader, *, before: Hook | None = None, after: Hook | None = None, **upload: Any
) -> Callable[[], CallsApiClient]:
    """A client factory (one per sender thread) whose addPhones requests pass the hooks."""
    cfg = uploader.config(**upload)

    def make() -> CallsApiClient:
        session = requests.Session()
        adapter = _HookedAdapter(before, after)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return CallsApiClient.from_config(cfg, uploader.token, session=session)

    return make


def ended(run: Callable[[], UploadSummary]) -> tuple[int, str]:
    """``(exit code, message)`` of a run, as the ``upload`` command would end it."""
    try:
        summary = run()
    except PipelineError as exc:
        return exc.exit_code, str(exc)
    return summary.exit_code, "\n".join(summary.lines())
