"""Row and batch states of the ledger, and which transitions are legal.

Rows (one per input data row)::

    planned ──freeze──► batched ──confirm/adopt──► sent (job id)
       ▲                  │  │
       │                  │  └──400 names this row / batch rejected──► rejected (reason)
       └──other rows of a rejected batch, rows missing after reconcile──┘
    (at plan time)  ──► rejected (transform said why)  |  duplicate (of an earlier row)

    "pending" is not stored: it is the reporting name of a row still planned or batched at
    the end of a run, i.e. left for the next run.

Batches (one per frozen request: rows, request key, body digest)::

    planned ──mark_attempt──► sending ──reply 200──► confirmed
                                 │  ▲ └──reply 400──► rejected   (nothing was created)
                   transient ────▼  │ retry (same key, same bytes, key not expired)
                              unknown
                                 │ key expired (24 h - safety margin since first send)
                                 ▼
                     reconciled (every row found on the server)
                   | refreshed  (missing rows moved to a new batch: generation + 1, new key)

A ``sending`` batch left by a dead process is treated exactly like ``unknown``.
"""

from __future__ import annotations

from typing import Final

# Row states (stored).
PLANNED: Final = "planned"
BATCHED: Final = "batched"
SENT: Final = "sent"
REJECTED: Final = "rejected"
DUPLICATE: Final = "duplicate"
ROW_STATES: Final = (PLANNED, BATCHED, SENT, REJECTED, DUPLICATE)
ROW_TERMINAL: Final = (SENT, REJECTED, DUPLICATE)
PENDING: Final = "pending"  # reporting only: PLANNED or BATCHED
REPORT_STATES: Final = (SENT, REJECTED, DUPLICATE, PENDING)

# Batch states (stored).
B_PLANNED: Final = "planned"
B_SENDING: Final = "sending"
B_CONFIRMED: Final = "confirmed"
B_REJECTED: Final = "rejected"
B_UNKNOWN: Final = "unknown"
B_RECONCILED: Final = "reconciled"
B_REFRESHED: Final = "refreshed"
BATCH_STATES: Final = (
    B_PLANNED,
    B_SENDING,
    B_CONFIRMED,
    B_REJECTED,
    B_UNKNOWN,
    B_RECONCILED,
    B_REFRESHED,
)
# States from which a batch may be (re)sent under its own key, while the key is fresh.
B_SENDABLE: Final = (B_PLANNED, B_SENDING, B_UNKNOWN)
# States whose outcome is not known: the server may or may not have created the jobs.
B_IN_DOUBT: Final = (B_SENDING, B_UNKNOWN)

# Server keys live one day from first use (reference §2.1a).
KEY_LIFETIME_S: Final = 86_400.0


def report_state(row_state: str) -> str:
    """Map a stored row state to the four states of DESIGN.md §2.2 (planned/batched → pending)."""
    return PENDING if row_state in (PLANNED, BATCHED) else row_state
