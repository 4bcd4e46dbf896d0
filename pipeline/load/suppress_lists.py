"""The rules planning checks each row against: the do-not-call files, the ledger's list and
``upload.contact_caps``.

Usage::

    rules = contact_rules(cfg)                         # files read, caps from upload.contact_caps
    ledger.planning.plan_chunks(..., rules=rules)
"""

from __future__ import annotations

from pathlib import Path

from pipeline.config import Config
from pipeline.ledger import ContactRules
from pipeline.load.phone_lists import read_phone_list

__all__ = ["contact_rules", "read_phone_list"]


def contact_rules(cfg: Config, *, ledger_list: bool = True) -> ContactRules:
    """What planning checks each row against: the config's list files (read now), the
    ledger's list (``ledger_list``) and ``upload.contact_caps``."""
    listed = tuple((Path(f).name, read_phone_list(Path(f), cfg)) for f in cfg.suppress.files)
    caps = cfg.upload.contact_caps
    return ContactRules(
        listed=listed,
        ledger_list=ledger_list,
        caps=caps.limits if caps is not None else (),
        zone=caps.timezone if caps is not None else "UTC",
    )
