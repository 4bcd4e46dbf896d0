"""The ledger: what was planned, frozen, sent and confirmed — the memory that makes uploads
exactly-once across crashes, and the audit trail that answers "why was X called twice?".

Read this before writing the uploader. Every method below is ONE database transaction that
also appends an audit event; every write of the uploader carries its :class:`Lease`, and a
write with a lease that was taken over raises :class:`~pipeline.errors.StaleLeaseError` and
changes nothing (the check runs inside the write's own transaction).

The protocol, step by step
--------------------------
1. ``ledger = open_ledger(url, clock=clock, key_safety_margin_s=cfg.upload.key_safety_margin_s)``
   (creates a SQLite file 0600 and applies the migrations).
2. ``campaign = ledger.ensure_campaign(token)`` — stores a fingerprint, never the token.
   ``run_id = ledger.start_run(command="upload", files=[InputFile(...)], config_digest=...)``.
3. ``lease = ledger.acquire_lease(campaign.id, owner=..., ttl_s=..., run_id=run_id)``
   (:class:`~pipeline.errors.LeaseHeldError` → exit 5, send nothing). Renew it well before
   ``lease.expires_at`` (``renew_lease``); release it at the end (``release_lease``).
4. Finish old work first: ``claim_expired`` → look the phones up on the server →
   ``reconcile_batch`` (adopt what exists, refresh what is missing under a new key).
5. Plan: ``state = begin_input(lease, name=, sha256=)``; unless ``state.complete``, feed the
   transform's records in chunks to ``plan_chunks`` / ``plan_chunk`` (one transaction per
   chunk; rows ≤ ``state.planned_through`` are skipped, so feeding the whole file again after
   a crash is correct; chunks of ~100,000 rows plan fastest), then
   ``complete_input(lease, state.id, rows_total=n)``. Cross-run duplicates:
   ``allow_repeats=cfg.upload.allow_repeats, repeat_window_s=cfg.upload.repeat_window_s``.
6. Freeze: ``freeze_batches(lease, batch_size=, body_for=body_for)`` where ``body_for`` turns
   the rows' :class:`~pipeline.records.CallItem` into the exact request bytes, i.e.
   ``lambda items: encode_add_phones([i.to_api() for i in items])`` (the ledger stores its
   sha256 and the rows' order, and never imports :mod:`pipeline.api`).
7. Send: ``for work in claim_sendable(lease, limit=k)``: ``body = work.body(body_for)``
   (digest checked) → ``mark_attempt`` (durable intent) → send OUTSIDE any transaction with
   ``work.request_key`` → ``record_success`` / ``record_unknown`` / ``record_bad_row`` /
   ``record_rejected``. Retry an unknown batch with the same ``work`` (same key, same bytes):
   ``mark_attempt`` again, send again. After a bad row, call ``freeze_batches`` again.
   ``claim_sendable`` never returns a batch whose key may have expired (24 h minus the
   margin since its first send), and ``mark_attempt`` raises
   :class:`~pipeline.errors.KeyExpiredError` if one expires meanwhile: reconcile it (step 4).
8. ``finish_run(run_id, exit_status=..., stats=...)`` returns the counts per state
   (sent / rejected / duplicate / pending).

Example::

    with open_ledger(cfg.ledger.url) as ledger:
        campaign = ledger.ensure_campaign(token)
        run_id = ledger.start_run(command="upload", files=files, config_digest=digest,
                                  campaign_id=campaign.id)
        lease = ledger.acquire_lease(campaign.id, owner=owner, ttl_s=300, run_id=run_id)
        state = ledger.begin_input(lease, name=path.name, sha256=sha)
        if not state.complete:
            for chunk in chunks:
                ledger.plan_chunk(lease, state.id, chunk)
            ledger.complete_input(lease, state.id, rows_total=n)
        ledger.freeze_batches(lease, batch_size=500, body_for=body_for)
        while works := ledger.claim_sendable(lease, limit=16):
            for work in works:
                body = work.body(body_for)
                ledger.mark_attempt(lease, work.id)
                ids = client.add_phones_body(body, idempotence_key=work.request_key)
                ledger.record_success(lease, work.id, ids)
        ledger.release_lease(lease)
        ledger.finish_run(run_id, exit_status=0)

Modules: :mod:`~pipeline.ledger.store.states` (both state machines, drawn), ``schema`` (tables),
``engine`` (file 0600, pragmas, migrations), ``keys`` (fingerprint, row and request keys),
``runs``, ``plan``, ``freeze``, ``send``, ``reconcile``, ``leases`` (the operations), and
``audit`` / ``verify`` (read-only queries behind ``jaicp-pipeline ledger``).

PostgreSQL work sharing (``upload.share_work``): instead of one lease holder, several runs
join the campaign as workers (``register_worker`` → :class:`Worker`, renewed with
``renew_worker``, ended with ``end_worker``; :mod:`~pipeline.ledger.workers`). A worker is
passed to ``claim_sendable`` / ``mark_attempt`` / ``record_*`` exactly like a lease: claims
select with ``FOR UPDATE SKIP LOCKED``, skip batches of live workers and take over those of
ended or expired ones; every outcome must find the writer's own (owner, epoch) stamp on the
batch and its worker row live, so a worker frozen past its expiry changes nothing. Planning,
freezing and reconciliation still need the campaign lease, which the workers take in turn.
"""

from pipeline.ledger.ledger import Ledger, open_ledger
from pipeline.ledger.sharing.holders import Holder, Lease, Worker
from pipeline.ledger.store.database import Clock, utc_now
from pipeline.ledger.store.keys import canonical_json, row_key, token_fingerprint
from pipeline.ledger.transitions.bodies import BatchWork, BodyFor, canonical_body
from pipeline.ledger.transitions.campaigns import Campaign
from pipeline.ledger.transitions.cancels import CancelRecord, CancelTarget, CancelWork
from pipeline.ledger.transitions.freezing import Freezer, split_batches
from pipeline.ledger.transitions.inputs import InputState
from pipeline.ledger.transitions.outcomes import NOT_FOUND, Outcome, ResultRow, RowSelection
from pipeline.ledger.transitions.planning import DEFAULT_REPEAT_WINDOW_S, PlanCounts
from pipeline.ledger.transitions.rows import PlanRecord, PreparedChunk, gc_paused
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
    "Freezer",
    "Holder",
    "InputFile",
    "InputState",
    "Lease",
    "Ledger",
    "Outcome",
    "PlanCounts",
    "PlanRecord",
    "PreparedChunk",
    "ResultRow",
    "RowSelection",
    "Worker",
    "canonical_body",
    "canonical_json",
    "gc_paused",
    "open_ledger",
    "row_key",
    "split_batches",
    "token_fingerprint",
    "utc_now",
]
