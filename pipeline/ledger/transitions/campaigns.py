"""Campaigns: a token's fingerprint, and whether uploads may send to the campaign yet.

Usage::

    campaign = ledger.campaigns.ensure(token, label="reminders")   # stores a fingerprint only
    if not ledger.campaigns.checked(campaign.id):                  # the new-ledger check
        ledger.campaigns.record_check(campaign.id, total_numbers=0, accepted=False, run_id=7)
    fingerprint_of(conn, campaign.id)       # inside the ledger: part of every request key
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from pipeline.errors import LedgerError
from pipeline.ledger.store import schema as t
from pipeline.ledger.store.database import Store, inserted_id
from pipeline.ledger.store.keys import token_fingerprint


@dataclass(frozen=True, slots=True)
class Campaign:
    """A campaign known to the ledger: its id and the token's fingerprint.

    ``checked``: an upload made sure the campaign held no numbers unknown to this ledger (or
    the operator accepted a new ledger); until then no upload sends to it (see
    :meth:`Campaigns.record_check`).
    """

    id: int
    fingerprint: str
    label: str
    checked: bool = False


def fingerprint_of(conn: sa.Connection, campaign_id: int) -> str:
    """The token fingerprint of a campaign of this ledger (part of every key)."""
    fingerprint: str | None = conn.execute(
        sa.select(t.campaigns.c.fingerprint).where(t.campaigns.c.id == campaign_id)
    ).scalar_one_or_none()
    if fingerprint is None:
        raise LedgerError(f"campaign {campaign_id} is not in this ledger.")
    return fingerprint


class Campaigns:
    """``ledger.campaigns``: the campaigns this ledger knows, by token fingerprint."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def ensure(self, token: str, *, label: str = "") -> Campaign:
        """The campaign of ``token`` (created on first sight); only a fingerprint is stored."""
        try:
            return self._ensure(token_fingerprint(token), label)
        except LedgerError as exc:
            if not isinstance(exc.__context__, IntegrityError):
                raise
        # Another process (a sharing uploader on another host) created it at the same moment:
        # the unique fingerprint refused our INSERT, so now it is there to be found.
        return self._ensure(token_fingerprint(token), label)

    def _ensure(self, fingerprint: str, label: str) -> Campaign:
        with self.store.transaction() as conn:
            found = conn.execute(
                sa.select(t.campaigns).where(t.campaigns.c.fingerprint == fingerprint)
            ).first()
            if found is not None:
                checked = found.server_checked_at is not None
                return Campaign(found.id, found.fingerprint, found.label, checked)
            new_id = inserted_id(
                conn.execute(
                    sa.insert(t.campaigns).values(
                        fingerprint=fingerprint, label=label, created_at=self.store.now()
                    )
                )
            )
            self.store.event(
                conn,
                entity="campaign",
                entity_id=new_id,
                from_state=None,
                to_state="known",
                reason=f"first use of campaign fingerprint {fingerprint}",
            )
            return Campaign(new_id, fingerprint, label)

    def checked(self, campaign_id: int) -> bool:
        """Whether the campaign passed the new-ledger check (read now, not cached)."""
        with self.store.engine.connect() as conn:
            at = conn.execute(
                sa.select(t.campaigns.c.server_checked_at).where(t.campaigns.c.id == campaign_id)
            ).scalar_one_or_none()
        return at is not None

    def record_check(
        self, campaign_id: int, *, total_numbers: int, accepted: bool, run_id: int | None
    ) -> bool:
        """Record that uploads may send to the campaign; False if another run did it first.

        ``total_numbers`` is what the server reported; ``accepted`` says the operator ran with
        ``--new-ledger`` (numbers on the server that this ledger does not know about).
        """
        c = t.campaigns.c
        with self.store.transaction() as conn:
            done = conn.execute(
                sa.update(t.campaigns)
                .where(c.id == campaign_id, c.server_checked_at.is_(None))
                .values(server_checked_at=self.store.now(), server_numbers=total_numbers)
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
            self.store.event(
                conn,
                entity="campaign",
                entity_id=campaign_id,
                from_state="known",
                to_state="checked",
                reason=why,
                run_id=run_id,
            )
        return True
