"""``validate``: the dry run through the front door (no network, no ledger writes).

Usage::

    import pipeline
    report = pipeline.validate("configs/bitrix24.yaml", "sample_data/bitrix24_export.csv")
    report.rows_read, report.accepted, report.rejected, report.duplicates
    report.reasons.most_common(3)

Rows whose phone is on a do-not-call list are rejected ``suppressed``: the lists of
``suppress.files``, and the ledger's own list when ``ledger.url`` is a SQLite file that exists
(read only: nothing is created or migrated). A PostgreSQL ledger's list is not read — the dry
run touches no network — so ``upload`` may reject more rows than ``validate`` showed.
Contact caps are not previewed (they depend on what the ledger sends until the upload).
"""

from __future__ import annotations

from datetime import UTC, datetime
from os import PathLike
from pathlib import Path

from pipeline.config import Config
from pipeline.front.source import ConfigLike, as_config
from pipeline.load.dryrun import ValidateSummary, run_validate
from pipeline.load.phone_lists import read_phone_list

PathArg = str | PathLike[str]


def _path(value: PathArg | None) -> Path | None:
    return None if value is None else Path(value)


def validate(
    config: ConfigLike,
    file: PathArg,
    *,
    accepted: PathArg | None = None,
    rejects: PathArg | None = None,
    emit_batches: PathArg | None = None,
    workers: int | None = None,
    now: datetime | None = None,
) -> ValidateSummary:
    """Read, normalize and check ``file`` as ``upload`` would; send nothing.

    ``accepted``: write the accepted rows (CSV); ``rejects``: the rejected and duplicate rows
    in the input's own format with reasons; ``emit_batches``: a folder for the exact
    ``addPhones`` bodies upload would send. ``workers``: processes (None: automatic, or
    ``$JAICP_WORKERS``). ``now`` dates relative values (default: the current time).
    """
    cfg = as_config(config)
    return run_validate(
        cfg,
        Path(file),
        now=now or datetime.now(UTC),
        accepted=_path(accepted),
        rejects=_path(rejects),
        batches=_path(emit_batches),
        workers=workers,
        suppressed=suppressed_phones(cfg),
    )


def suppressed_phones(cfg: Config) -> frozenset[str] | None:
    """Every phone of the config's do-not-call files and of its local ledger's list (see the
    module doc); None when there is none."""
    lists = [read_phone_list(Path(name), cfg) for name in cfg.suppress.files]
    lists = [phones for phones in (*lists, _ledger_list(cfg.ledger.url)) if phones]
    if len(lists) <= 1:  # the usual case: one list, used as read (no copy of a million)
        return lists[0] if lists else None
    return frozenset().union(*lists)


def _ledger_list(url: str) -> frozenset[str]:
    """The list of a SQLite ledger file that exists (read only), else nothing."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or not Path(url.removeprefix(prefix).split("?")[0]).is_file():
        return frozenset()
    # Only now: a dry run without a ledger file loads no database code.
    from pipeline.ledger import listed_phones_readonly

    return listed_phones_readonly(url) or frozenset()
