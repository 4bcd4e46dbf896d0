"""Intent before effect (DESIGN.md §2, invariant 4), watched from outside the uploader: at the
moment each addPhones request leaves — first sends and retries, at 1 and at 4 senders — its
batch's intent is already committed, i.e. visible from ANOTHER connection to the ledger: state
``sending``, an attempt counted for this very request, the key stored with the digest of
exactly these bytes.

The look happens in the sender's own thread, in the transport, before the request's bytes are
written (tests/load/wire.py); a transient fault on some requests makes retries go out too.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from pipeline.emulator import Emulator
from pipeline.errors import ExitCode
from tests.conftest import phone, postgres_database
from tests.load.conftest import Uploader, jobs_per_phone
from tests.load.wire import hooked_client

ROWS = 200  # 20 batches of 10


class IntentWatch:
    """Checks, from its own connection, the ledger row of each request as it leaves."""

    def __init__(self, ledger_url: str) -> None:
        self.engine = sa.create_engine(ledger_url, poolclass=NullPool)
        self.lock = threading.Lock()
        self.sent: Counter[str] = Counter()
        self.problems: list[str] = []
        self.checked = 0

    def __call__(self, request: requests.PreparedRequest) -> None:
        key = str(request.headers["Idempotence-Key"])
        body = request.body if isinstance(request.body, bytes) else str(request.body).encode()
        with self.lock:
            self.sent[key] += 1
            nth = self.sent[key]
        with self.engine.connect() as conn:
            found = conn.execute(
                sa.text("SELECT state, attempts, body_sha256 FROM batches WHERE request_key = :k"),
                {"k": key},
            ).first()
        with self.lock:
            self.checked += 1
            if found is None:
                self.problems.append(f"request {nth} of key {key}: no batch with this key yet")
            elif found.state != "sending" or found.attempts < nth:
                self.problems.append(
                    f"request {nth} of key {key} left while the ledger said state "
                    f"{found.state!r}, {found.attempts} attempt(s)"
                )
            elif found.body_sha256 != hashlib.sha256(body).hexdigest():
                self.problems.append(f"key {key} went out with bytes other than its digest")

    def close(self) -> None:
        self.engine.dispose()


@pytest.fixture
def any_uploader(
    request: pytest.FixtureRequest, uploader: Uploader, tmp_path: Path
) -> Iterator[Uploader]:
    if request.param == "sqlite":
        yield uploader
        return
    for url in postgres_database():
        yield Uploader(uploader.emulator, uploader.token, tmp_path, url)


@pytest.mark.parametrize(
    ("any_uploader", "senders"),
    [("sqlite", 1), ("sqlite", 4), ("postgresql", 4)],  # PostgreSQL: 4 workers share batches
    indirect=["any_uploader"],
)
def test_every_request_leaves_after_its_intent_is_committed(
    any_uploader: Uploader, emulator: Emulator, campaign: dict[str, Any], senders: int
) -> None:
    uploader = any_uploader
    csv = uploader.csv(ROWS)
    # Some requests fail before and some after the server committed them: their retries
    # (same key, same bytes) must each find one more attempt recorded first.
    emulator.set_faults(
        [
            {"kind": "error_before_commit", "endpoint": "addPhones", "times": 3},
            {"kind": "drop_after_commit", "endpoint": "addPhones", "times": 2},
        ]
    )
    watch = IntentWatch(uploader.ledger_url)
    try:
        make = hooked_client(uploader, before=watch, concurrency=senders)
        summary = uploader.run(csv, client=make, concurrency=senders)
    finally:
        watch.close()

    assert summary.exit_code == ExitCode.OK, summary.lines()
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(ROWS)}
    requests_out = uploader.add_phones_log()
    assert watch.checked == len(requests_out) == ROWS // 10 + 5  # every request was looked at
    assert max(watch.sent.values()) >= 2  # retries were among them
    assert watch.problems == []
