"""The campaign lease seen from the uploader: who we are, whether a holder is gone, renewal.

Usage::

    lease = ledger.leases.acquire(cid, owner=owner_name(), ttl_s=LEASE_TTL_S, run_id=run_id,
                                 owner_is_dead=owner_is_dead)
    with LeaseKeeper(ledger, lease, on_lost=control.stop) as keeper:
        ...                                     # renewed every LEASE_TTL_S / 4 seconds
        if keeper.fresh(): send_one_batch()     # nobody can have taken our work over yet
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from pipeline.errors import LedgerError, PipelineError, StaleLeaseError
from pipeline.ledger import Lease, Ledger, Worker

log = logging.getLogger("pipeline.load")

# Long enough that a busy host renews in time, short enough that a run killed on another host
# (whose process we cannot check) blocks the next run for two minutes at most.
LEASE_TTL_S = 120.0


def owner_name() -> str:
    """``host:pid:random`` — unique per run, and says where to look for the holder."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_is_dead(owner: str) -> bool:
    """True only when ``owner`` is a process of this host that no longer runs.

    A holder on another host, or a pid that exists (even if reused), counts as alive: when in
    doubt we wait for the lease to expire rather than risk two writers.
    """
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:  # a killed child its parent has not reaped yet is a zombie: it sends nothing more
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rpartition(")")[2].split()[0] == "Z"
    except (OSError, IndexError):
        return False


class LeaseKeeper:
    """Renews the run's lease and/or worker from a background thread; reports a lost one.

    ``fresh()`` says whether the last renewal is recent enough that nobody can take this
    run's work over soon, by this process's monotonic clock (which keeps running while
    the process is stopped): the sender asks it right before each request, so a run that
    wakes up after a freeze longer than its lease sends nothing more.
    """

    def __init__(
        self,
        ledger: Ledger,
        lease: Lease | None = None,
        *,
        worker: Worker | None = None,
        on_lost: Callable[[PipelineError], None],
        ttl_s: float = LEASE_TTL_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ledger = ledger
        self._lock = threading.Lock()
        self.lease = lease
        self.worker = worker
        self._on_lost = on_lost
        self._ttl_s = ttl_s
        self._monotonic = monotonic
        self._valid_until = monotonic() + ttl_s
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lease-keeper", daemon=True)

    def fresh(self) -> bool:
        """Whether at least half the TTL is left since the last renewal (renewals come every
        quarter TTL): a request sent now reaches the server well before anyone can take this
        run's batches over, even if it is slow to leave the process."""
        return self._monotonic() < self._valid_until - self._ttl_s / 2

    def adopt(self, lease: Lease) -> None:
        """Start renewing ``lease`` too (a sharing run that became the coordinator)."""
        with self._lock:
            self.lease = lease

    def drop(self) -> Lease | None:
        """Stop renewing the lease (before releasing it); returns its latest version."""
        with self._lock:
            lease, self.lease = self.lease, None
        return lease

    def _run(self) -> None:
        while not self._done.wait(self._ttl_s / 4):
            started = self._monotonic()
            try:
                with self._lock:
                    if self.worker is not None:
                        self.worker = self._ledger.workers.renew(self.worker, ttl_s=self._ttl_s)
                    if self.lease is not None:
                        self.lease = self._ledger.leases.renew(self.lease, ttl_s=self._ttl_s)
            except StaleLeaseError as exc:
                self._valid_until = 0.0
                self._on_lost(exc)
                return
            except LedgerError as exc:  # a busy database: try again at the next tick
                log.warning("could not renew the campaign lease (will retry): %s", exc)
                continue
            self._valid_until = started + self._ttl_s

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._done.set()
        self._thread.join()
