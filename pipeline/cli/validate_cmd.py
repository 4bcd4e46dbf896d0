"""``jaicp-pipeline validate``: the dry run. Reads, normalizes and checks a file; no network.

Prints the counts per outcome (rows read = accepted + rejected + duplicate) and the top
reasons; optionally writes the accepted rows, the rejects file in the input's own format, and
the exact ``addPhones`` bodies that would be sent.

Usage::

    jaicp-pipeline validate --config configs/bitrix24.yaml export.csv \\
        --accepted accepted.csv --rejects rejects.csv --emit-batches batches/
"""

from __future__ import annotations

import json
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from pipeline.config import Config, load_config
from pipeline.errors import PipelineError
from pipeline.load.ingest import Ingest
from pipeline.records import CallItem, Duplicate, Rejection, RowChunk, SourceInfo
from pipeline.reports import RejectsWriter, TableWriter, open_table_writer
from pipeline.reports.files import PrivateFile
from pipeline.transform import codes
from pipeline.transform.batching import BatchCutter
from pipeline.transform.rows import ChunkResult

TOP_REASONS = 10


@dataclass(slots=True)
class ValidateSummary:
    """What one validate run found; ``read == accepted + rejected + duplicate`` always."""

    source: SourceInfo
    read: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicate: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    batches: int = 0


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


class _Outputs:
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
        self.cutter = BatchCutter(config.upload.batch_size) if batches else None
        self.folder = batches
        self.batches = 0
        if batches is not None:
            batches.mkdir(parents=True, exist_ok=True)

    def write(self, chunk: RowChunk, result: ChunkResult) -> None:
        if self.accepted is not None:
            for item in result.items:
                self.accepted.write_row(_accepted_cells(item, self.header))
        if self.rejects is not None and (result.rejections or result.duplicates):
            cells = dict(zip(chunk.row_numbers, chunk.rows, strict=True))
            outcomes: list[Rejection | Duplicate] = [*result.rejections, *result.duplicates]
            for outcome in sorted(outcomes, key=lambda o: o.row):  # the file's own order
                if isinstance(outcome, Rejection):
                    self.rejects.add_rejection(cells[outcome.row], outcome)
                else:
                    self.rejects.add_duplicate(cells[outcome.row], outcome)
        if self.cutter is not None:
            for item in result.items:
                for batch in self.cutter.add(item):
                    self._write_batch(batch)

    def finish(self) -> None:
        if self.cutter is not None:
            for batch in self.cutter.finish():
                self._write_batch(batch)

    def _write_batch(self, batch: list[CallItem]) -> None:
        assert self.folder is not None
        self.batches += 1
        # 0600 and complete-or-absent, like every file holding phones
        from pipeline.api import encode_add_phones  # only --emit-batches needs the client

        with PrivateFile(self.folder / f"batch-{self.batches:06d}.json") as fh:
            fh.write(encode_add_phones([item.to_api() for item in batch]))


def run_validate(
    config: Config,
    path: Path,
    *,
    now: datetime,
    accepted: Path | None = None,
    rejects: Path | None = None,
    batches: Path | None = None,
) -> ValidateSummary:
    """Stream ``path`` through the transform; write the requested outputs; return counts."""
    with ExitStack() as stack:
        ingest = stack.enter_context(Ingest(config, path, now=now))
        summary = ValidateSummary(ingest.info)
        outputs = _Outputs(
            stack, config, ingest.info, accepted=accepted, rejects=rejects, batches=batches
        )
        for chunk, result in ingest.results():
            summary.read += len(chunk.rows)
            summary.accepted += len(result.items)
            summary.rejected += len(result.rejections)
            summary.duplicate += len(result.duplicates)
            summary.reasons.update(r.code for r in result.rejections)
            summary.reasons[codes.DUPLICATE] += len(result.duplicates)
            outputs.write(chunk, result)
        outputs.finish()
        summary.batches = outputs.batches
    summary.reasons = Counter({k: v for k, v in summary.reasons.items() if v})
    if summary.read != summary.accepted + summary.rejected + summary.duplicate:
        raise PipelineError(  # pragma: no cover - the transform accounts for every row
            f"{path}: accounting broke: {summary.read} rows read but {summary.accepted} + "
            f"{summary.rejected} + {summary.duplicate} classified; please report this bug."
        )
    return summary


def format_summary(summary: ValidateSummary) -> list[str]:
    """The lines ``validate`` prints."""
    info = summary.source
    where = (
        f"csv, encoding {info.encoding}, delimiter {info.delimiter!r}"
        if info.format == "csv"
        else f"xlsx, sheet {info.sheet!r}"
    )
    lines = [
        f"{info.path}: {where}",
        f"rows read {summary.read} = accepted {summary.accepted} + rejected {summary.rejected}"
        f" + duplicate {summary.duplicate}",
    ]
    if summary.reasons:
        lines.append("top reasons:")
        width = max(len(code) for code in summary.reasons)
        for code, count in summary.reasons.most_common(TOP_REASONS):
            lines.append(f"  {code:<{width}}  {count}")
    return lines


@click.command("validate")
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML config (column mapping, phone and call policy).",
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--accepted",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write accepted rows (row, phone, payload.*, policy) to this CSV.",
)
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write rejected and duplicate rows, in the input's own format, with reasons.",
)
@click.option(
    "--emit-batches",
    "emit_batches",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the exact addPhones JSON bodies that would be sent into this folder.",
)
def validate(
    config_path: Path,
    file: Path,
    accepted: Path | None,
    rejects: Path | None,
    emit_batches: Path | None,
) -> None:
    """Check FILE against the config without sending anything (no network)."""
    config = load_config(config_path)
    summary = run_validate(
        config,
        file,
        now=datetime.now(UTC),
        accepted=accepted,
        rejects=rejects,
        batches=emit_batches,
    )
    for line in format_summary(summary):
        click.echo(line)
    if accepted:
        click.echo(f"accepted rows written to {accepted}")
    if rejects:
        click.echo(f"rejected and duplicate rows written to {rejects}")
    if emit_batches:
        click.echo(
            f"{summary.batches} addPhones bodies (up to {config.upload.batch_size} phones each) "
            f"written to {emit_batches}"
        )
