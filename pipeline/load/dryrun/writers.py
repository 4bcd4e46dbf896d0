"""The optional files of one dry run: accepted rows, rejects, the exact ``addPhones`` bodies.

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
from pipeline.records import CallItem, Duplicate, Rejection, SourceInfo
from pipeline.reports import RejectsWriter, TableWriter, open_table_writer
from pipeline.reports.files import PrivateFile

if TYPE_CHECKING:
    from pipeline.transform.assembly import ChunkResult

OutputPaths = tuple[Path | None, Path | None, Path | None]  # accepted, rejects, batches


def accepted_header(config: Config) -> list[str]:
    """Columns of the accepted file: row, phone, ``payload.<name>``…, then policy fields."""
    policy = list(config.policy.api_values())
    policy += [name for name in config.columns.policy if name not in policy]
    return ["row", "phone", *(f"payload.{n}" for n in config.columns.payload), *policy]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return str(value)


def _accepted_cells(item: CallItem, header: list[str]) -> list[str]:
    out = [str(item.row), item.phone]
    for name in header[2:]:
        if name.startswith("payload."):
            out.append(_text(item.payload.get(name[len("payload.") :])))
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
        self.accepted: TableWriter | None = None
        if accepted is not None:
            self.accepted = stack.enter_context(open_table_writer(accepted, self.header))
        self.rejects = stack.enter_context(RejectsWriter(rejects, source)) if rejects else None
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
                self.accepted.write_row(_accepted_cells(item, self.header))
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
