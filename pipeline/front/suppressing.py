"""``suppress``: the ledger's do-not-call list — put phones on it, take them off, list, import.

Usage::

    import pipeline
    with pipeline.open_suppressions("nightly.yaml") as dnc:     # or ledger="sqlite:///x"
        dnc.add(["8 (916) 123-45-67"], reason="asked on the phone")   # 1 (newly listed)
        dnc.remove(["+7 916 123 45 67"], reason="consent given back") # 1
        dnc.entries()                       # on the list now; entries(history=True): all
        dnc.import_file("crm_dnc.xlsx", reason="CRM opt-outs 2026-12")  # phones added

Phones are normalised with the config's ``phone:`` rules, exactly as upload normalises rows;
a value that is no phone is a ConfigError naming it (masked). ``by`` (who) defaults to
``user@host``; every change is an audit event too. The list is shared by every campaign of the
ledger (and every host on a PostgreSQL ledger); upload checks it in the transaction that plans
each row, ``cancel --suppressed`` cancels jobs queued before a phone was listed.
"""

from __future__ import annotations

import getpass
import itertools
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from os import PathLike
from pathlib import Path
from typing import TextIO

from pipeline.api import mask_phone
from pipeline.config import Config
from pipeline.errors import ConfigError
from pipeline.front.source import ConfigLike, as_config
from pipeline.front.wiring import Clock, open_ledger_for
from pipeline.ledger import Ledger, Suppression
from pipeline.ledger.transitions.suppressions import FILE
from pipeline.load.phone_lists import phone_chunks
from pipeline.reports.tables import write_csv
from pipeline.transform.phones import PhoneNormalizer, PhoneProblem

__all__ = ["EXPORT_COLUMNS", "DoNotCall", "open_suppressions"]

EXPORT_COLUMNS = (
    "phone",
    "added_at",
    "added_by",
    "source",
    "job_id",
    "reason",
    "removed_at",
    "removed_by",
    "removed_reason",
)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return str(value)


def operator_name() -> str:
    """Who changes the list when nobody says: ``user@host``."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (containers)
        user = "uid"
    return f"{user}@{socket.gethostname()}"


@dataclass
class DoNotCall:
    """The do-not-call list of an open ledger (see the module doc)."""

    cfg: Config
    ledger: Ledger

    def normalize(self, raws: Sequence[str]) -> list[str]:
        """Phones as upload stores them; ConfigError names the first that is no phone."""
        norm = PhoneNormalizer(self.cfg.phone)
        out: list[str] = []
        for raw in raws:
            got = norm.normalize(raw.strip())
            if isinstance(got, PhoneProblem):
                raise ConfigError(
                    f"{mask_phone(raw)}: {got.message} ({got.code}); nothing was changed. "
                    f"Give the number as the CRM export has it."
                )
            out.append(got)
        return out

    def add(self, phones: Sequence[str], *, reason: str = "", by: str | None = None) -> int:
        """Put phones on the list; returns how many were not on it yet."""
        return self.ledger.suppressions.add(
            self.normalize(phones), by=by or operator_name(), reason=reason
        )

    def remove(self, phones: Sequence[str], *, reason: str = "", by: str | None = None) -> int:
        """Take phones off the list (their entries stay as history); returns how many were on."""
        return self.ledger.suppressions.remove(
            self.normalize(phones), by=by or operator_name(), reason=reason
        )

    def entries(self, *, history: bool = False, phone: str | None = None) -> list[Suppression]:
        """The list now (``history``: removed entries too), oldest first."""
        wanted = None if phone is None else self.normalize([phone])[0]
        return self.ledger.suppressions.entries(history=history, phone=wanted)

    def export(self, out: TextIO, *, history: bool = False, phone: str | None = None) -> int:
        """Write :meth:`entries` as CSV (header first, cells injection-safe); returns how
        many entries were written."""
        entries = self.entries(history=history, phone=phone)
        rows = ([_cell(getattr(e, col)) for col in EXPORT_COLUMNS] for e in entries)
        return write_csv(out, itertools.chain([EXPORT_COLUMNS], rows))

    def import_file(
        self, path: str | PathLike[str], *, reason: str = "", by: str | None = None
    ) -> int:
        """Put every phone of a CSV/XLSX list on the list (column ``suppress.column`` or the
        only one); a cell that is no phone stops it (ConfigError naming the row), nothing is
        added then. Returns how many phones were not on the list yet."""
        file = Path(path)
        why = reason or f"imported from {file.name}"
        # streamed: the file is read while the database writes (one transaction, see
        # pipeline.ledger.transitions.suppress_import); a bad cell adds nothing
        return self.ledger.suppressions.import_chunks(
            phone_chunks(file, self.cfg, importing=True),
            by=by or operator_name(),
            reason=why,
            source=FILE,
        )


@contextmanager
def open_suppressions(
    config: ConfigLike, *, ledger: str | None = None, clock: Clock | None = None
) -> Iterator[DoNotCall]:
    """The do-not-call list of the config's ledger (created if it does not exist yet, so a
    list can be filled before the first upload)."""
    cfg = as_config(config)
    with open_ledger_for(cfg, ledger, clock=clock) as opened:
        yield DoNotCall(cfg, opened)
