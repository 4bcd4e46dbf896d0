"""The ledger: what was planned, frozen, sent and confirmed — the memory that makes uploads
exactly-once across crashes, and the audit trail that answers "why was X called twice?".

Read this before writing the uploader. The :class:`Ledger` is one object with one attribute per
room, and a call names the module that holds its code: ``ledger.sending.mark_attempt`` is in
``transitions/sending.py``, ``ledger.leases.acquire`` in ``sharing/leases.py`` (the table below;
``docs/ledger.md`` draws the layout). Every operation is ONE database transaction that also
appends an audit event; every write of the uploader carries its :class:`Lease` (or
:class:`Worker`), and a write with a lease that was taken over raises
:class:`~pipeline.errors.StaleLeaseError` and changes nothing (the check runs inside the
write's own transaction).

The protocol, step by step
--------------------------
1. ``ledger = open_ledger(url, clock=clock, key_safety_margin_s=cfg.upload.key_safety_margin_s)``
   (creates a SQLite file 0600 and applies the migrations).
2. ``campaign = ledger.campaigns.ensure(token)`` — stores a fingerprint, never the token.
   ``run_id = ledger.runs.start(command="upload", files=[InputFile(...)], config_digest=...)``.
3. ``lease = ledger.leases.acquire(campaign.id, owner=..., ttl_s=..., run_id=run_id)``
   (:class:`~pipeline.errors.LeaseHeldError` → exit 5, send nothing). Renew it well before
   ``lease.expires_at`` (``ledger.leases.renew``); release it at the end
   (``ledger.leases.release``).
4. Finish old work first: ``ledger.reconciling.claim_expired`` → look the phones up on the
   server → ``ledger.reconciling.reconcile_batch`` (adopt what exists, refresh what is missing
   under a new key).
5. Plan: ``state = ledger.inputs.begin(lease, name=, sha256=)``; unless ``state.complete``,
   feed the transform's records in chunks to ``ledger.planning.plan_chunks`` / ``plan_chunk``
   (one transaction per chunk; rows ≤ ``state.planned_through`` are skipped, so feeding the
   whole file again after a crash is correct; chunks of ~100,000 rows plan fastest), then
   ``ledger.inputs.complete(lease, state.id, rows_total=n)``. Cross-run duplicates:
   ``allow_repeats=cfg.upload.allow_repeats, repeat_window_s=cfg.upload.repeat_window_s``.
6. Freeze: ``ledger.freezing.freeze_batches(lease, batch_size=, body_for=body_for)`` where
   ``body_for`` turns the rows' :class:`~pipeline.records.CallItem` into the exact request
   bytes, i.e. ``lambda items: encode_add_phones([i.to_api() for i in items])`` or
   :func:`canonical_body` (the ledger stores its sha256 and the rows' order, and never imports
   :mod:`pipeline.api`). ``plan_chunks(..., batch_size=, body_for=)`` freezes while it plans.
7. Send: ``for work in ledger.sending.claim_sendable(lease, limit=k)``: ``body =
   work.body(body_for)`` (digest checked) → ``ledger.sending.mark_attempt`` (durable intent) →
   send OUTSIDE any transaction with ``work.request_key`` → ``ledger.replies.record_success`` /
   ``record_unknown`` / ``record_bad_row`` / ``record_rejected`` (or ``ledger.splits.
   split_refused`` / ``split_too_large``). Retry an unknown batch with the same ``work`` (same
   key, same bytes): ``mark_attempt`` again, send again. After a bad row, call
   ``freeze_batches`` again. ``claim_sendable`` never returns a batch whose key may have
   expired (24 h minus the margin since its first send), and ``mark_attempt`` raises
   :class:`~pipeline.errors.KeyExpiredError` if one expires meanwhile: reconcile it (step 4).
8. ``ledger.runs.finish(run_id, exit_status=..., stats=...)`` returns the counts per state
   (sent / rejected / duplicate / pending).

Example::

    with open_ledger(cfg.ledger.url) as ledger:
        campaign = ledger.campaigns.ensure(token)
        run_id = ledger.runs.start(command="upload", files=files, config_digest=digest,
                                   campaign_id=campaign.id)
        lease = ledger.leases.acquire(campaign.id, owner=owner, ttl_s=300, run_id=run_id)
        state = ledger.inputs.begin(lease, name=path.name, sha256=sha)
        if not state.complete:
            for chunk in chunks:
                ledger.planning.plan_chunk(lease, state.id, chunk)
            ledger.inputs.complete(lease, state.id, rows_total=n)
        ledger.freezing.freeze_batches(lease, batch_size=500, body_for=body_for)
        while works := ledger.sending.claim_sendable(lease, limit=16):
            for work in works:
                body = work.body(body_for)
                ledger.sending.mark_attempt(lease, work.id)
                ids = client.add_phones_body(body, idempotence_key=work.request_key)
                ledger.replies.record_success(lease, work.id, ids)
        ledger.leases.release(lease)
        ledger.runs.finish(run_id, exit_status=0)

Rooms (``ledger.<room>`` → module)
----------------------------------
``campaigns``, ``runs``, ``inputs``, ``planning``, ``freezing``, ``sending``, ``replies``,
``splits``, ``reconciling``, ``outcomes`` (``results``), ``cancels``, ``suppressions`` (the
do-not-call list; planning checks it and the contact caps, see ``contact_rules``) →
``transitions/<room>.py``; ``leases``, ``workers`` → ``sharing/<room>.py``; ``store`` → the
:class:`~pipeline.ledger.store.database.Store` (engine, clock, transactions, audit events).
The tables and both state machines are in ``store/`` (:mod:`~pipeline.ledger.store.states`
draws them); the commands behind ``jaicp-pipeline ledger`` (audit, verify, purge, migrate) are
functions in ``admin/``. Nothing outside this package imports SQLAlchemy or the schema.

PostgreSQL work sharing (``upload.share_work``): instead of one lease holder, several runs
join the campaign as workers (``ledger.workers.register`` → :class:`Worker`, renewed with
``ledger.workers.renew``, ended with ``ledger.workers.end``). A worker is passed to
``claim_sendable`` / ``mark_attempt`` / ``record_*`` exactly like a lease (both are a
:class:`Holder`): claims select with ``FOR UPDATE SKIP LOCKED``, skip batches of live workers and
take over those of ended or expired ones; every outcome must find the writer's own (owner,
epoch) stamp on the batch and its worker row live, so a worker frozen past its expiry changes
nothing. Planning, freezing and reconciliation still need the campaign lease, which the workers
take in turn.
"""

from pipeline.collector import gc_paused
from pipeline.ledger.ledger import Ledger, open_ledger
from pipeline.ledger.sharing.holders import Holder, Lease, Worker
from pipeline.ledger.store.database import Clock, utc_now
from pipeline.ledger.store.keys import canonical_json, row_key, token_fingerprint
from pipeline.ledger.transitions.bodies import BatchWork, BodyFor, canonical_body
from pipeline.ledger.transitions.campaigns import Campaign
from pipeline.ledger.transitions.cancels import CancelRecord, CancelTarget, CancelWork
from pipeline.ledger.transitions.contact_rules import ContactRules
from pipeline.ledger.transitions.freezing import Freezer, split_batches
from pipeline.ledger.transitions.inputs import InputStanding, InputState
from pipeline.ledger.transitions.outcomes import NOT_FOUND, Outcome, ResultRow, RowSelection
from pipeline.ledger.transitions.planning import DEFAULT_REPEAT_WINDOW_S, PlanCounts
from pipeline.ledger.transitions.row_values import PlanRecord, PreparedChunk
from pipeline.ledger.transitions.suppressions import Suppression, listed_phones_readonly
from pipeline.records import InputFile

__all__ = [
    "DEFAULT_REPEAT_WINDOW_S",
    "NOT_FOUND",
    "BatchWork",
    "BodyFor",
    "Campaign",
    "CancelRecord",
    "CancelTarget",
    "CancelWork",
    "Clock",
    "ContactRules",
    "Freezer",
    "Holder",
    "InputFile",
    "InputStanding",
    "InputState",
    "Lease",
    "Ledger",
    "Outcome",
    "PlanCounts",
    "PlanRecord",
    "PreparedChunk",
    "ResultRow",
    "RowSelection",
    "Suppression",
    "Worker",
    "canonical_body",
    "canonical_json",
    "gc_paused",
    "listed_phones_readonly",
    "open_ledger",
    "row_key",
    "split_batches",
    "token_fingerprint",
    "utc_now",
]
