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
import os
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pipeline.config import Config, load_config
from pipeline.errors import PipelineError
from pipeline.extract import CSV_SUFFIXES, XLSX_SUFFIXES, ReadOptions, open_table
from pipeline.extract.csv_reader import CsvTable
from pipeline.extract.forked import Forked, cpu_count
from pipeline.extract.ranges import CsvRange, plan_ranges, read_range
from pipeline.private import make_private_dirs
from pipeline.records import CallItem, Duplicate, Rejection, RowChunk, SourceInfo
from pipeline.reports import RejectsWriter, TableWriter, open_table_writer
from pipeline.reports.files import PrivateFile
from pipeline.reports.zone_preview import zone_preview_lines
from pipeline.transform import codes

if TYPE_CHECKING:  # imported where used: an XLSX reader is forked before numpy and
    # phonenumbers load, so that their import overlaps with its parsing of the sheet
    from pipeline.transform.assembly import ChunkResult, Classified, RowTransformer

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
    zones: Counter[tuple[str, str]] = field(default_factory=Counter)  # (source, zone) → rows


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


def run_validate(
    config: Config,
    path: Path,
    *,
    now: datetime,
    accepted: Path | None = None,
    rejects: Path | None = None,
    batches: Path | None = None,
    workers: int | None = None,
) -> ValidateSummary:
    """Stream ``path`` through the transform; write the requested outputs; return counts.

    ``workers``: processes to use (None: one per CPU for a big enough file, see
    :func:`choose_workers`). The parallel path gives the same counts and outputs as one
    process; a file it cannot cut at record boundaries is read by one process.
    """
    count = choose_workers(path, workers)
    if count > 1:
        summary = _run_parallel(
            config,
            path,
            count,
            now=now,
            accepted=accepted,
            rejects=rejects,
            batches=batches,
        )
        if summary is not None:
            return _checked(summary, path)
    from pipeline.load.ingest import Ingest

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
            summary.zones.update(result.zones)
            outputs.write(result, _row_cells(chunk))
        outputs.finish()
        summary.batches = outputs.batches
    return _checked(summary, path)


def _checked(summary: ValidateSummary, path: Path) -> ValidateSummary:
    summary.reasons = Counter({k: v for k, v in summary.reasons.items() if v})
    if summary.read != summary.accepted + summary.rejected + summary.duplicate:
        raise PipelineError(  # pragma: no cover - the transform accounts for every row
            f"{path}: accounting broke: {summary.read} rows read but {summary.accepted} + "
            f"{summary.rejected} + {summary.duplicate} classified; please report this bug."
        )
    return summary


def _row_cells(chunk: RowChunk) -> Callable[[int], list[str]]:
    first = chunk.row_numbers[0] if chunk.row_numbers else 0
    if chunk.row_numbers == list(range(first, first + len(chunk.rows))):
        return lambda row: chunk.rows[row - first]
    return dict(zip(chunk.row_numbers, chunk.rows, strict=True)).__getitem__


# ---- the parallel path -------------------------------------------------------------------------
#
# CSV: the file is cut into byte ranges at record boundaries (pipeline.extract.ranges); this
# process reads and classifies the first range while forked workers classify the others, each
# sending compact verdicts (row numbers, dedupe keys, rejections; call items and cells only when
# an output file needs them). The in-file dedupe runs here, over every range in file order,
# so "duplicate of the FIRST row" holds across the cuts exactly as in one process.
# XLSX: one worker reads the sheet (calamine parses it whole, which is most of the cost) and
# sends text columns; this process classifies them meanwhile.

PARALLEL_MIN_BYTES = 4 << 20  # below this, forking costs more than it saves
WORKERS_ENV = "JAICP_WORKERS"


def choose_workers(path: Path, requested: int | None) -> int:
    """Processes for ``path``: ``requested`` (or ``$JAICP_WORKERS``) when given, else one per
    CPU (at most 4) for files of at least 4 MiB, else 1."""
    if requested is None and os.environ.get(WORKERS_ENV, "").strip():
        try:
            requested = int(os.environ[WORKERS_ENV])
        except ValueError:
            raise PipelineError(
                f"{WORKERS_ENV}={os.environ[WORKERS_ENV]!r} is not a whole number; set it to "
                f"1 (one process) or more, or unset it to choose automatically"
            ) from None
    if requested is not None:
        return max(1, requested)
    try:
        size = path.stat().st_size
    except OSError:
        return 1  # the serial path reports the problem
    return min(cpu_count(), 4) if size >= PARALLEL_MIN_BYTES else 1


class _Merge:
    """Settles classified chunks in file order and feeds the summary and the outputs."""

    def __init__(
        self, summary: ValidateSummary, rows: RowTransformer, outputs: _Outputs | None
    ) -> None:
        self.summary, self.rows, self.outputs = summary, rows, outputs

    def add(self, size: int, classified: Classified, cells: Callable[[int], list[str]]) -> None:
        summary = self.summary
        summary.read += size
        summary.rejected += len(classified.rejections)
        summary.reasons.update(r.code for r in classified.rejections)
        summary.zones.update(classified.zones)
        if self.outputs is None:
            repeats = self.rows.settle_count(classified)
            summary.accepted += len(classified.rows) - repeats
        else:
            result = self.rows.settle(classified)
            repeats = len(result.duplicates)
            summary.accepted += len(result.items)
            self.outputs.write(result, cells)
        summary.duplicate += repeats
        summary.reasons[codes.DUPLICATE] += repeats


def _column_cells(first: int, columns: list[list[str]]) -> Callable[[int], list[str]]:
    return lambda row: [column[row - first] for column in columns]


def _run_parallel(
    config: Config,
    path: Path,
    workers: int,
    *,
    now: datetime,
    accepted: Path | None,
    rejects: Path | None,
    batches: Path | None,
) -> ValidateSummary | None:
    options = ReadOptions.from_config(config)
    suffix = path.suffix.lower()
    if suffix in XLSX_SUFFIXES:
        return _run_xlsx(config, path, options, now=now, files=(accepted, rejects, batches))
    if suffix not in CSV_SUFFIXES:
        return None
    from pipeline.transform.assembly import Classified, RowTransformer

    with open_table(path, options) as table:
        if not isinstance(table, CsvTable) or not table.plain:
            return None  # a workbook, or a gzip/zip/UTF-16 CSV: read serially (its bytes differ)
        info, data_line, detected = table.info, table.data_line, table.encoding_detected
    rows = RowTransformer(config, info.header, now=now)  # missing columns: before any fork
    parts = plan_ranges(path, info, data_line, workers)
    if parts is None:
        return None
    build = accepted is not None or rejects is not None or batches is not None
    keep_cells = rejects is not None

    def work(part: CsvRange) -> Iterator[tuple[int, int, Any, Any]]:
        for first, columns, extra in read_range(
            path, info, part, detected=detected, limits=options.limits
        ):
            classified = rows.classify_columns(first, columns, extra, items=build)
            size = len(columns[0])
            yield first, size, classified.pack(), columns if keep_cells else None

    children: list[Forked] = []
    try:
        for part in parts[1:]:
            children.append(Forked(partial(work, part)))
        with ExitStack() as stack:
            summary = ValidateSummary(info)
            outputs = None
            if build:
                outputs = _Outputs(
                    stack, config, info, accepted=accepted, rejects=rejects, batches=batches
                )
            merge = _Merge(summary, rows, outputs)
            for first, columns, extra in read_range(
                path, info, parts[0], detected=detected, limits=options.limits
            ):
                classified = rows.classify_columns(first, columns, extra, items=build)
                merge.add(len(columns[0]), classified, _column_cells(first, columns))
            for child in children:
                shift = summary.read  # the part numbers its rows from 1
                for first, size, packed, columns in child:
                    classified = Classified.unpack(packed, shift)
                    merge.add(size, classified, _column_cells(first + shift, columns or []))
            if outputs is not None:
                outputs.finish()
                summary.batches = outputs.batches
    finally:
        for child in children:
            child.close()
    return summary


XLSX_WORKER_SHARE = 4  # the reader also classifies every 4th chunk: it balances the two


def _run_xlsx(
    config: Config,
    path: Path,
    options: ReadOptions,
    *,
    now: datetime,
    files: tuple[Path | None, Path | None, Path | None],
) -> ValidateSummary:
    accepted, rejects, batches = files
    build = accepted is not None or rejects is not None or batches is not None

    def read() -> Iterator[Any]:
        with open_table(path, options) as table:
            yield table.info
            own: RowTransformer | None = None
            for index, chunk in enumerate(table.chunks()):
                first = chunk.row_numbers[0]
                columns = [list(column) for column in zip(*chunk.rows, strict=True)]
                if index % XLSX_WORKER_SHARE == XLSX_WORKER_SHARE - 1:
                    if own is None:  # imported while the parent works on the first chunks
                        from pipeline.transform.assembly import RowTransformer

                        own = RowTransformer(config, table.info.header, now=now)
                    verdicts = own.classify_columns(first, columns, chunk.extra, items=build)
                    yield first, columns if rejects else None, verdicts.pack()
                else:
                    yield first, columns, chunk.extra

    reader = Forked(read)  # before the transform's imports: they overlap with calamine
    try:
        from pipeline.transform.assembly import Classified, RowTransformer

        stream = iter(reader)
        info = next(stream)
        assert isinstance(info, SourceInfo)
        rows = RowTransformer(config, info.header, now=now)
        with ExitStack() as stack:
            summary = ValidateSummary(info)
            outputs = None
            if build:
                outputs = _Outputs(
                    stack, config, info, accepted=accepted, rejects=rejects, batches=batches
                )
            merge = _Merge(summary, rows, outputs)
            for first, columns, rest in stream:
                if isinstance(rest, tuple):  # classified by the reader
                    classified = Classified.unpack(rest)
                    size = _chunk_size(classified)
                    merge.add(size, classified, _column_cells(first, columns or []))
                    continue
                classified = rows.classify_columns(first, columns, rest, items=build)
                merge.add(len(columns[0]), classified, _column_cells(first, columns))
            if outputs is not None:
                outputs.finish()
                summary.batches = outputs.batches
    finally:
        reader.close()
    return summary


def _chunk_size(classified: Classified) -> int:
    return len(classified.rows) + len(classified.rejections)


def format_summary(summary: ValidateSummary) -> list[str]:
    """The lines ``validate`` prints."""
    info = summary.source
    where = (
        f"csv, encoding {info.encoding}, delimiter {info.delimiter!r}"
        if info.format == "csv"
        else f"{info.format}, sheet {info.sheet!r}"
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
    return lines + zone_preview_lines(summary.zones, summary.reasons)


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
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes to use (default: one per CPU, at most 4, for files of 4 MiB or more; "
    "or $JAICP_WORKERS). 1 reads the file in this process only.",
)
def validate(  # noqa: PLR0917 - click passes every option by position
    config_path: Path,
    file: Path,
    accepted: Path | None,
    rejects: Path | None,
    emit_batches: Path | None,
    workers: int | None,
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
        workers=workers,
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
