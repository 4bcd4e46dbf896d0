"""The optional files of one dry run: accepted rows, rejects, the exact ``addPhones`` bodies.

The accepted and rejects files take their format from their suffix, their CSV delimiter from
the input (or ``reports.delimiter``), and a BOM (:mod:`pipeline.reports.formats`).

Usage::

    with ExitStack() as stack:
        outputs = Outputs(stack, config, info, accepted=Path("ok.csv"), rejects=None,
                          batches=Path("batches/"))
        outputs.write(chunk_result, cells)    # per chunk, in file order
        outputs.finish()                      # the last, partly filled batch
        outputs.batches                       # how many bodies were written
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.config import Config
from pipeline.private import make_private_dirs
from pipeline.records import CallItem, Duplicate, Rejection, SourceInfo, header_key
from pipeline.reports import RejectsWriter, TableWriter
from pipeline.reports.files import PrivateFile
from pipeline.reports.formats import PAYLOAD_KINDS, CellKind, check_output_path, choose_format
from pipeline.reports.tables import open_output

if TYPE_CHECKING:
    from pipeline.transform.assembly import ChunkResult

OutputPaths = tuple[Path | None, Path | None, Path | None]  # accepted, rejects, batches
# The accepted file's column naming the header a row's phone came from (several phone columns)
PHONE_COLUMN = "phone_column"


def several_phone_columns(config: Config) -> bool:
    """True when ``columns.phone`` lists more than one header (per-cell fallback)."""
    return not isinstance(config.columns.phone, str) and len(config.columns.phone) > 1


def accepted_header(config: Config) -> list[str]:
    """Columns of the accepted file: row, phone, ``phone_column`` (only when ``columns.phone``
    lists several headers), ``payload.<name>``…, then policy fields."""
    policy = list(config.policy.api_values())
    policy += [name for name in config.columns.policy if name not in policy]
    used = [PHONE_COLUMN] if several_phone_columns(config) else []
    return ["row", "phone", *used, *(f"payload.{n}" for n in config.columns.payload), *policy]


def first_phone_header(config: Config, header: tuple[str, ...]) -> str:
    """The file's header cell of the first listed phone column present (as the transform picks
    it); the configured name when the file has none of them (the transform reports that)."""
    phones = (
        [config.columns.phone] if isinstance(config.columns.phone, str) else config.columns.phone
    )
    cells = {header_key(cell): cell for cell in reversed(header)}  # the first of equal keys
    return next((cells[header_key(p)] for p in phones if header_key(p) in cells), phones[0])


# Policy fields that hold counts and minutes: numbers in XLSX/JSON (all others are text).
_NUMERIC_POLICY = frozenset({"maxAttempts", "retryIntervalInMinutes", "dialerPriority"})


def accepted_kinds(config: Config, header: list[str]) -> list[CellKind]:
    """How each accepted column is typed in XLSX/JSON: row a number, the phone text, payload
    fields by their configured type, counts of the call policy numbers."""
    types = {name: f.type for name, f in config.columns.payload_fields().items()}
    kinds: list[CellKind] = ["integer", "text"]
    for name in header[2:]:
        if name.startswith("payload."):
            kinds.append(PAYLOAD_KINDS.get(types.get(name[len("payload.") :], ""), "text"))
        else:
            kinds.append("integer" if name in _NUMERIC_POLICY else "text")
    return kinds


def check_paths(accepted: Path | None, rejects: Path | None) -> None:
    """Refuse an output whose suffix names no format (exit 2) before the file is read."""
    for path in (accepted, rejects):
        if path is not None:
            check_output_path(path)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return str(value)


def _accepted_cells(item: CallItem, header: list[str], first_phone: str) -> list[str]:
    out = [str(item.row), item.phone]
    for name in header[2:]:
        if name.startswith("payload."):
            out.append(_text(item.payload.get(name[len("payload.") :])))
        elif name == PHONE_COLUMN:  # None: the phone came from the first listed column
            out.append(item.phone_column or first_phone)
        else:
            out.append(_text(item.policy.get(name)))
    return out


class Outputs:
    """The optional files of one validate run, fed chunk by chunk."""

    def __init__(
        self,
        stack: ExitStack,
        config: Config,
        source: SourceInfo,
        *,
        accepted: Path | None,
        rejects: Path | None,
        batches: Path | None,
    ) -> None:
        self.header = accepted_header(config)
        self.first_phone = first_phone_header(config, source.header)
        self.accepted: TableWriter | None = None
        delimiter = config.reports.delimiter
        if accepted is not None:
            # One place decides format, delimiter and BOM: the input's ";" stays ";".
            fmt = choose_format(accepted, delimiter=delimiter, source=source)
            kinds = accepted_kinds(config, self.header)
            writer = open_output(accepted, self.header, fmt, kinds=kinds, sheet_title="accepted")
            self.accepted = stack.enter_context(writer)
        self.rejects = (
            stack.enter_context(RejectsWriter(rejects, source, delimiter=delimiter))
            if rejects
            else None
        )
        self.batch_size = config.upload.batch_size
        self.carry: list[CallItem] = []  # accepted items not in a full batch yet
        self.folder = batches
        self.batches = 0
        if batches is not None:
            make_private_dirs(batches)  # 0700: the batch files hold phone numbers

    def write(self, result: ChunkResult, cells: Callable[[int], list[str]]) -> None:
        """Write one chunk's outcomes; ``cells(row)`` gives the text cells of a row."""
        if self.accepted is not None:
            for item in result.items:
                self.accepted.write_row(_accepted_cells(item, self.header, self.first_phone))
        if self.rejects is not None and (result.rejections or result.duplicates):
            outcomes: list[Rejection | Duplicate] = [*result.rejections, *result.duplicates]
            for outcome in sorted(outcomes, key=lambda o: o.row):  # the file's own order
                if isinstance(outcome, Rejection):
                    self.rejects.add_rejection(cells(outcome.row), outcome)
                else:
                    self.rejects.add_duplicate(cells(outcome.row), outcome)
        if self.folder is not None:
            self._cut(result.items, final=False)

    def finish(self) -> None:
        if self.folder is not None:
            self._cut([], final=True)

    def _cut(self, items: list[CallItem], *, final: bool) -> None:
        # The planner's own rule (no phone twice in a batch), so these are upload's batches.
        from pipeline.ledger import split_batches  # only --emit-batches needs the ledger

        batches, self.carry = split_batches(self.carry + items, self.batch_size, final=final)
        for batch in batches:
            self._write_batch(batch)

    def _write_batch(self, batch: list[CallItem]) -> None:
        assert self.folder is not None
        self.batches += 1
        # 0600 and complete-or-absent, like every file holding phones
        from pipeline.api import encode_add_phones  # only --emit-batches needs the client

        with PrivateFile(self.folder / f"batch-{self.batches:06d}.json") as fh:
            fh.write(encode_add_phones([item.to_api() for item in batch]))
