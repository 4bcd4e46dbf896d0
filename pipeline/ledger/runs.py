"""Campaigns, runs and input files: who ran what, on which file, with what result.

Usage::

    campaign = ledger.ensure_campaign(token, label="reminders")   # stores a fingerprint only
    run_id = ledger.start_run(command="upload", files=[InputFile("x.csv", sha, size)],
                              config_digest=digest, campaign_id=campaign.id)
    ...
    ledger.finish_run(run_id, exit_status=0, stats={"retries": 3})
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from pipeline.errors import LedgerError
from pipeline.ledger.sharing.holders import Lease, fence
from pipeline.ledger.store import schema as t
from pipeline.ledger.store.database import Store, inserted_id
from pipeline.ledger.store.keys import token_fingerprint
from pipeline.ledger.store.states import REPORT_STATES, report_state
from pipeline.records import InputFile


@dataclass(frozen=True, slots=True)
class Campaign:
    """A campaign known to the ledger: its id and the token's fingerprint.

    ``checked``: an upload made sure the campaign held no numbers unknown to this ledger (or
    the operator accepted a new ledger); until then no upload sends to it (see
    :meth:`RunsMixin.record_campaign_check`).
    """

    id: int
    fingerprint: str
    label: str
    checked: bool = False


@dataclass(frozen=True, slots=True)
class InputState:
    """Where planning of one input file stands.

    ``planned_through`` rows (1..n) are already in the ledger; ``complete`` means the whole
    file was planned, so a re-run of the same file (same sha256) plans nothing and resumes.
    """

    id: int
    planned_through: int
    complete: bool


class RunsMixin(Store):
    """Campaign, run and input bookkeeping of the :class:`~pipeline.ledger.Ledger`."""

    def ensure_campaign(self, token: str, *, label: str = "") -> Campaign:
        """The campaign of ``token`` (created on first sight); only a fingerprint is stored."""
        try:
            return self._ensure_campaign(token_fingerprint(token), label)
        except LedgerError as exc:
            if not isinstance(exc.__context__, IntegrityError):
                raise
        # Another process (a sharing uploader on another host) created it at the same moment:
        # the unique fingerprint refused our INSERT, so now it is there to be found.
        return self._ensure_campaign(token_fingerprint(token), label)

    def _ensure_campaign(self, fingerprint: str, label: str) -> Campaign:
        with self.transaction() as conn:
            found = conn.execute(
                sa.select(t.campaigns).where(t.campaigns.c.fingerprint == fingerprint)
            ).first()
            if found is not None:
                checked = found.server_checked_at is not None
                return Campaign(found.id, found.fingerprint, found.label, checked)
            new_id = inserted_id(
                conn.execute(
                    sa.insert(t.campaigns).values(
                        fingerprint=fingerprint, label=label, created_at=self.now()
                    )
                )
            )
            self.event(
                conn,
                entity="campaign",
                entity_id=new_id,
                from_state=None,
                to_state="known",
                reason=f"first use of campaign fingerprint {fingerprint}",
            )
            return Campaign(new_id, fingerprint, label)

    def campaign_checked(self, campaign_id: int) -> bool:
        """Whether the campaign passed the new-ledger check (read now, not cached)."""
        with self.engine.connect() as conn:
            at = conn.execute(
                sa.select(t.campaigns.c.server_checked_at).where(t.campaigns.c.id == campaign_id)
            ).scalar_one_or_none()
        return at is not None

    def record_campaign_check(
        self, campaign_id: int, *, total_numbers: int, accepted: bool, run_id: int | None
    ) -> bool:
        """Record that uploads may send to the campaign; False if another run did it first.

        ``total_numbers`` is what the server reported; ``accepted`` says the operator ran with
        ``--new-ledger`` (numbers on the server that this ledger does not know about).
        """
        c = t.campaigns.c
        with self.transaction() as conn:
            done = conn.execute(
                sa.update(t.campaigns)
                .where(c.id == campaign_id, c.server_checked_at.is_(None))
                .values(server_checked_at=self.now(), server_numbers=total_numbers)
            )
            if done.rowcount != 1:
                return False
            why = (
                f"the operator accepted a new ledger (--new-ledger) although the campaign holds "
                f"{total_numbers} number(s) on the server that this ledger did not send"
                if accepted and total_numbers
                else f"the server reports {total_numbers} number(s) in the campaign: nothing "
                f"this ledger does not know about"
            )
            self.event(
                conn,
                entity="campaign",
                entity_id=campaign_id,
                from_state="known",
                to_state="checked",
                reason=why,
                run_id=run_id,
            )
        return True

    def start_run(
        self,
        *,
        command: str,
        files: Sequence[InputFile],
        config_digest: str,
        campaign_id: int | None = None,
        host: str | None = None,
        pid: int | None = None,
    ) -> int:
        """Record the start of an invocation; returns the run id."""
        with self.transaction() as conn:
            run_id: int = inserted_id(
                conn.execute(
                    sa.insert(t.runs).values(
                        campaign_id=campaign_id,
                        command=command,
                        files=json.dumps([asdict(f) for f in files]),
                        config_digest=config_digest,
                        host=host or socket.gethostname(),
                        pid=os.getpid() if pid is None else pid,
                        started_at=self.now(),
                    )
                )
            )
            self.event(
                conn,
                entity="run",
                entity_id=run_id,
                from_state=None,
                to_state="running",
                reason=f"{command} started with {len(files)} file(s)",
                run_id=run_id,
            )
        return run_id

    def run_counts(self, conn: sa.Connection, run_id: int) -> dict[str, int]:
        """Rows of the run's input files per reporting state (sent/rejected/duplicate/pending)."""
        counts = dict.fromkeys(REPORT_STATES, 0)
        query = (
            sa.select(t.rows.c.state, sa.func.count())
            .join(t.run_inputs, t.run_inputs.c.input_id == t.rows.c.input_id)
            .where(t.run_inputs.c.run_id == run_id)
            .group_by(t.rows.c.state)
        )
        for state, n in conn.execute(query):
            counts[report_state(state)] += n
        return counts

    def finish_run(
        self, run_id: int, *, exit_status: int, stats: Mapping[str, int | float] | None = None
    ) -> dict[str, int | float]:
        """Record the end of a run with its row counts (plus the caller's ``stats``)."""
        with self.transaction() as conn:
            counts: dict[str, int | float] = dict(self.run_counts(conn, run_id))
            counts.update(stats or {})
            done = conn.execute(
                sa.update(t.runs)
                .where(t.runs.c.id == run_id, t.runs.c.finished_at.is_(None))
                .values(finished_at=self.now(), exit_status=exit_status, counts=json.dumps(counts))
            )
            if done.rowcount != 1:
                raise LedgerError(f"run {run_id} does not exist or has already finished.")
            self.event(
                conn,
                entity="run",
                entity_id=run_id,
                from_state="running",
                to_state="finished",
                reason=f"exit status {exit_status}",
                run_id=run_id,
            )
        return counts

    def input_complete(self, campaign_id: int, sha256: str) -> bool:
        """Whether the campaign's input with these bytes was planned completely (read only)."""
        i = t.inputs.c
        with self.engine.connect() as conn:
            total = conn.execute(
                sa.select(i.rows_total).where(i.campaign_id == campaign_id, i.sha256 == sha256)
            ).first()
        return total is not None and total.rows_total is not None

    def begin_input(self, lease: Lease, *, name: str, sha256: str) -> InputState:
        """Register an input file of the lease's run, or find it again (same campaign+sha256)."""
        if lease.run_id is None:
            raise LedgerError("begin_input needs a lease acquired with run_id=...")
        with self.transaction() as conn:
            fence(conn, lease, now=self.now)
            found = conn.execute(
                sa.select(t.inputs).where(
                    t.inputs.c.campaign_id == lease.campaign_id, t.inputs.c.sha256 == sha256
                )
            ).first()
            if found is None:
                input_id = inserted_id(
                    conn.execute(
                        sa.insert(t.inputs).values(
                            campaign_id=lease.campaign_id,
                            sha256=sha256,
                            name=name,
                            first_run_id=lease.run_id,
                            created_at=self.now(),
                        )
                    )
                )
                state = InputState(input_id, 0, False)
                why = f"new input {name} (sha256 {sha256[:12]}…)"
            else:
                state = InputState(found.id, found.planned_through, found.rows_total is not None)
                why = (
                    f"same file as input {found.id} ({found.name}): resuming after row "
                    f"{found.planned_through}{', fully planned' if state.complete else ''}"
                )
            linked = conn.execute(
                sa.select(t.run_inputs).where(
                    t.run_inputs.c.run_id == lease.run_id, t.run_inputs.c.input_id == state.id
                )
            ).first()
            if linked is None:
                conn.execute(sa.insert(t.run_inputs).values(run_id=lease.run_id, input_id=state.id))
            self.event(
                conn,
                entity="input",
                entity_id=state.id,
                from_state=None,
                to_state="complete" if state.complete else "planning",
                reason=why,
                lease=lease,
            )
        return state

    def complete_input(self, lease: Lease, input_id: int, *, rows_total: int) -> None:
        """Mark an input fully planned; ``rows_total`` must equal the rows in the ledger."""
        with self.transaction() as conn:
            fence(conn, lease, now=self.now)
            have = conn.execute(
                sa.select(sa.func.count()).where(t.rows.c.input_id == input_id)
            ).scalar_one()
            if have != rows_total:
                raise LedgerError(
                    f"input {input_id}: the reader reported {rows_total} rows but the ledger "
                    f"holds {have}; the file changed or a chunk was skipped. Nothing was marked "
                    f"complete; re-run with the unchanged file."
                )
            conn.execute(
                sa.update(t.inputs)
                .where(t.inputs.c.id == input_id)
                .values(rows_total=rows_total, planned_through=rows_total)
            )
            self.event(
                conn,
                entity="input",
                entity_id=input_id,
                from_state="planning",
                to_state="complete",
                reason=f"all {rows_total} rows recorded",
                lease=lease,
            )
